//! Shared pieces of ffc's reference integrations and the `ffc` command-line tool.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod broker;
pub mod report;
pub mod sample;
