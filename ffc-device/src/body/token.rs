//! The `access_token.cgi` body.

use serde::Deserialize;

/// Why a token body was refused: the device answered something that holds no token.
/// Check the URL points at a counter; retrying will not help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenBodyError {
    /// An empty body.
    #[error("the token body is empty")]
    Empty,
    /// JSON without `access_token`, `token` or `AccessToken` as a string.
    #[error("the JSON token body has no access_token, token or AccessToken string")]
    NoTokenField,
    /// Plain text that cannot be a token (not UTF-8, or holding spaces or controls), at a
    /// byte offset.
    #[error("the plain-text token has a character no token holds at byte {offset}")]
    BadCharacter {
        /// Byte offset.
        offset: usize,
    },
}

/// Decodes the `access_token.cgi` body: JSON `{"access_token": ".."}` (also `token` or
/// `AccessToken`), or the bare token as plain text. The token text is returned as is; the
/// caller wraps it in a redacting type.
pub fn decode_token(bytes: &[u8]) -> Result<String, TokenBodyError> {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() {
        return Err(TokenBodyError::Empty);
    }
    if trimmed.first() == Some(&b'{') {
        #[derive(Deserialize)]
        struct TokenJson {
            access_token: Option<String>,
            token: Option<String>,
            #[serde(rename = "AccessToken")]
            access_token_pascal: Option<String>,
        }
        let t: TokenJson =
            serde_json::from_slice(trimmed).map_err(|_| TokenBodyError::NoTokenField)?;
        return t
            .access_token
            .or(t.token)
            .or(t.access_token_pascal)
            .filter(|t| !t.is_empty())
            .ok_or(TokenBodyError::NoTokenField);
    }
    let lead = bytes.len() - bytes.trim_ascii_start().len();
    let text = std::str::from_utf8(trimmed).map_err(|e| TokenBodyError::BadCharacter {
        offset: lead + e.valid_up_to(),
    })?;
    if let Some(i) = text
        .bytes()
        .position(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(TokenBodyError::BadCharacter { offset: lead + i });
    }
    Ok(text.to_owned())
}
