//! Secrets (passwords, access tokens): redacted everywhere and compared in constant time.

use core::fmt;

use subtle::ConstantTimeEq;

/// A password or token. `Debug` and `Display` print `***`; the value leaves only through
/// [`Secret::expose`], at the one place that puts it on the wire.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the request that must carry it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time equality with `other`: the time taken does not depend on where the
    /// two differ (it does depend on the lengths, which are not secret here).
    pub fn ct_eq(&self, other: &str) -> bool {
        self.0.as_bytes().ct_eq(other.as_bytes()).into()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_and_compared() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
        assert!(s.ct_eq("hunter2"));
        assert!(!s.ct_eq("hunter3"));
        assert!(!s.ct_eq("hunter"));
        assert_eq!(s.expose(), "hunter2");
    }
}
