//! Secrets (passwords, tokens) that never show in `Debug`, `Display`, logs or errors, and
//! URLs printed with their secret parameters masked.

use core::fmt;

pub use ffc_core::secret::Secret;

/// Query parameters whose values are masked when a URL is printed.
pub const SECRET_PARAMS: [&str; 3] = ["password", "access_token", "token"];

/// Displays a URL (or a path with a query) with the values of [`SECRET_PARAMS`] masked, so
/// it can go in a log line or an error.
///
/// ```
/// use ffc_device::secret::RedactedUrl;
/// let url = "http://127.0.0.1/cgi-bin/apiCount.cgi?data_type=json&access_token=eyJ.s3cret";
/// assert_eq!(
///     RedactedUrl(url).to_string(),
///     "http://127.0.0.1/cgi-bin/apiCount.cgi?data_type=json&access_token=***"
/// );
/// ```
#[derive(Clone, Copy)]
pub struct RedactedUrl<'a>(pub &'a str);

impl fmt::Display for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (head, query) = match self.0.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (self.0, None),
        };
        // Userinfo (`user:password@host`) is masked too.
        match head
            .split_once("://")
            .and_then(|(s, rest)| rest.split_once('@').map(|(_, h)| (s, h)))
        {
            Some((scheme, host)) => write!(f, "{scheme}://***@{host}")?,
            None => f.write_str(head)?,
        }
        let Some(query) = query else {
            return Ok(());
        };
        f.write_str("?")?;
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            match pair.split_once('=') {
                Some((k, _)) if SECRET_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(k)) => {
                    write!(f, "{k}=***")?
                }
                _ => f.write_str(pair)?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(s, Secret::from("hunter2"));
        assert_ne!(s, Secret::from("hunter3"));
        assert_ne!(s, Secret::from("hunter"));
    }

    #[test]
    fn urls_mask_every_secret_parameter() {
        let u =
            "http://admin:pw@10.0.0.1/cgi-bin/access_token.cgi?username=admin&password=123456&x";
        assert_eq!(
            RedactedUrl(u).to_string(),
            "http://***@10.0.0.1/cgi-bin/access_token.cgi?username=admin&password=***&x"
        );
        assert_eq!(
            RedactedUrl("/a?Access_Token=t&b=1").to_string(),
            "/a?Access_Token=***&b=1"
        );
        assert_eq!(RedactedUrl("/plain").to_string(), "/plain");
    }
}
