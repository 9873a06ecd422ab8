//! Sans-IO codec of the Analytic Manager V9 APIs: request bodies out, typed values in.
//!
//! One codec, shared by the HTTP client (module `http`), the simulator (module `sim`)
//! and the fuzz targets. Nothing here does IO; every decoder takes bytes and never panics.
//!
//! | endpoint | request | response |
//! |---|---|---|
//! | `POST /account/GenerateAccessToken` | [`token::TokenRequest`] | [`token::decode_token`] |
//! | `GET /FootfallCam/exportData` | [`export::InfoJson`] | [`export::decode_export`] |
//! | `POST /API/v1/load` | [`cube::CubeQuery`] | [`cube::decode_load`] |
//! | `POST /v9/api/Import/Sales` | [`sales::SalesBatch`] | [`sales::decode_import`] |

pub mod cube;
pub mod export;
mod lenient;
pub mod sales;
pub mod token;

use chrono::NaiveDate;

/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/account/GenerateAccessToken";
/// Path of the export endpoint.
pub const EXPORT_PATH: &str = "/FootfallCam/exportData";
/// Path of the cube query endpoint.
pub const LOAD_PATH: &str = "/API/v1/load";
/// Path of the sales import endpoint.
pub const SALES_PATH: &str = "/v9/api/Import/Sales";
/// The header that carries the access token.
pub const TOKEN_HEADER: &str = "AToken";
/// Days per chunk when a long range is split (clients of the cube API pull 30-day chunks).
pub const CHUNK_DAYS: u32 = 30;

/// Why a response body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body is not JSON; the server or a proxy sent something else. Check the host.
    #[error("body is not JSON at line {line}, column {column}: {reason}")]
    Json {
        /// Line in the body (1-based).
        line: usize,
        /// Column in the body (1-based).
        column: usize,
        /// What serde_json said.
        reason: String,
    },
    /// JSON without the field the endpoint always sends.
    #[error("body lacks the field {0}")]
    Missing(&'static str),
    /// The server answered with an error message instead of data.
    #[error("server said: {0}")]
    Server(String),
    /// One row (0-based index) could not be read; the reason names the field.
    #[error("row {row}: {reason}")]
    Row {
        /// Index of the row in the body.
        row: usize,
        /// Which field and why.
        reason: String,
    },
    /// A request value the codec cannot represent (for instance a date that is not in the
    /// chosen format).
    #[error("invalid value: {0}")]
    Invalid(String),
}

impl DecodeError {
    pub(crate) fn json(e: &serde_json::Error) -> Self {
        DecodeError::Json {
            line: e.line(),
            column: e.column(),
            reason: e.to_string(),
        }
    }
}

pub(crate) fn parse_json(body: &[u8]) -> Result<serde_json::Value, DecodeError> {
    serde_json::from_slice(body).map_err(|e| DecodeError::json(&e))
}

/// The message of an error body (`{"error": ..}` / `{"message": ..}` / `{"Message": ..}`),
/// if the body is one.
pub fn server_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = value.as_object()?;
    for key in ["error", "message", "Message", "error_description"] {
        match obj.get(key) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => return Some(s.clone()),
            Some(serde_json::Value::Object(inner)) => {
                if let Some(serde_json::Value::String(s)) = inner.get("message") {
                    return Some(s.clone());
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits the inclusive date range `[from, to]` into inclusive ranges of at most `days`
/// days, in order, covering it exactly once. An empty list when `from > to`.
pub fn day_chunks(from: NaiveDate, to: NaiveDate, days: u32) -> Vec<(NaiveDate, NaiveDate)> {
    let step = chrono::Days::new(u64::from(days.max(1)));
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let next = start.checked_add_days(step);
        let end = next.and_then(|n| n.pred_opt()).map_or(to, |e| e.min(to));
        out.push((start, end));
        match next {
            Some(n) if end < to => start = n,
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn server_messages() {
        assert_eq!(
            server_message(br#"{"error":"bad password"}"#).as_deref(),
            Some("bad password")
        );
        assert_eq!(
            server_message(br#"{"message":"expired"}"#).as_deref(),
            Some("expired")
        );
        assert_eq!(server_message(b"{}"), None);
        assert_eq!(server_message(b"<html>"), None);
    }

    proptest! {
        #[test]
        fn chunks_cover_range_exactly(start in 0i64..20_000, len in 0i64..400, days in 1u32..60) {
            let epoch = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
            let from = epoch + chrono::Duration::days(start);
            let to = from + chrono::Duration::days(len);
            let chunks = day_chunks(from, to, days);
            prop_assert_eq!(chunks.first().map(|c| c.0), Some(from));
            prop_assert_eq!(chunks.last().map(|c| c.1), Some(to));
            for w in chunks.windows(2) {
                prop_assert_eq!(w[0].1.succ_opt().unwrap(), w[1].0);
            }
            for (a, b) in &chunks {
                prop_assert!(a <= b);
                prop_assert!((*b - *a).num_days() < i64::from(days));
            }
            prop_assert!(day_chunks(to + chrono::Duration::days(1), to, days).is_empty());
        }
    }
}
