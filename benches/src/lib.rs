//! Workloads shared by ffc's benchmarks: deterministic inputs built the same way for the
//! measured code and its baseline.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
