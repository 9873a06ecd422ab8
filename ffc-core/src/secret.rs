//! A password or token that never shows in `Debug`, `Display`, logs or errors, and is
//! compared in constant time, and a username with one. Every crate of ffc holds
//! credentials in these types.
//!
//! ```
//! use ffc_core::secret::Secret;
//!
//! let password = Secret::new("hunter2");
//! assert_eq!(format!("{password} {password:?}"), "*** Secret(***)");
//! assert!(password.ct_eq("hunter2"));
//! assert_eq!(password.expose(), "hunter2"); // only where it goes on the wire
//! ```

use alloc::string::String;
use core::fmt;

use subtle::ConstantTimeEq;

/// A password or token. `Debug` and `Display` print `***`; the text leaves only through
/// [`Secret::expose`], at the one place that puts it on the wire.
///
/// Equality compares the contents in constant time: the time taken does not depend on where
/// two secrets differ (it does depend on their lengths, which are not secret here).
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret text.
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The text, for the request or connection that must carry it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time equality with `candidate` (a password or token a peer sent).
    pub fn ct_eq(&self, candidate: &str) -> bool {
        self.ct_eq_bytes(candidate.as_bytes())
    }

    /// Constant-time equality with raw bytes (a header value that may not be UTF-8).
    pub fn ct_eq_bytes(&self, candidate: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(candidate).into()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.ct_eq_bytes(other.0.as_bytes())
    }
}

impl Eq for Secret {}

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
    fn from(text: &str) -> Secret {
        Secret::new(text)
    }
}

impl From<&String> for Secret {
    fn from(text: &String) -> Secret {
        Secret(text.clone())
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Secret {
        Secret(text)
    }
}

/// A username and a password (a counter's login, a broker's). `Debug` shows the username
/// only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The username (for a counter `admin`, case-sensitive).
    pub username: String,
    /// The password; never printed.
    pub password: Secret,
}

impl Credentials {
    /// Credentials from a username and password.
    pub fn new(username: impl Into<String>, password: impl Into<Secret>) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn never_printed_and_compared_whole() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(Secret(***))");
        assert!(s.ct_eq("hunter2"));
        assert!(!s.ct_eq("hunter3"));
        assert!(!s.ct_eq("hunter"));
        assert!(!s.ct_eq("hunter22"));
        assert!(s.ct_eq_bytes(b"hunter2"));
        assert_eq!(s, Secret::from(String::from("hunter2")));
        assert_ne!(s, Secret::from("Hunter2"));
        assert!(Secret::default().is_empty());
        assert!(!s.is_empty());
        let c = Credentials::new("admin", "123456");
        assert_eq!(
            format!("{c:?}"),
            r#"Credentials { username: "admin", password: Secret(***) }"#
        );
    }
}
