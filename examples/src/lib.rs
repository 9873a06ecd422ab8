//! Shared pieces of ffc's reference integrations and the `ffc` command-line tool.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod args;
pub mod broker;
pub mod decode;
pub mod demo;
pub mod report;
pub mod sample;
pub mod snippet;
