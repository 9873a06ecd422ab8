//! Secrets (passwords, access tokens): redacted everywhere and compared in constant time.
//! One type for every ffc crate, kept in ffc-core.

pub use ffc_core::secret::Secret;
