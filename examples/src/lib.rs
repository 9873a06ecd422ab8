//! Shared pieces of ffc's reference integrations and command-line tool.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod broker;
