//! Shared by the reference-integration tests: simulators on a background runtime.
#![allow(dead_code)]

/// A runtime whose worker thread keeps simulators answering while the test thread waits
/// on the example's process.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}
