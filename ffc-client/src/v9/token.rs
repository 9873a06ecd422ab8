//! `POST /account/GenerateAccessToken`: `{"email","password","expiration"}` → `{"AToken"}`.

use chrono::NaiveDate;
use ffc_core::UnixSeconds;

use super::{parse_json, server_message, DecodeError};
use crate::secret::Secret;

/// Login details for the token endpoint. The password is a [`Secret`].
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// The Analytic Manager user's e-mail.
    pub email: String,
    /// The user's password.
    pub password: Secret,
    /// The last day (UTC) the token should be valid; the server grants one day when it is
    /// missing or invalid.
    pub expiration: Option<NaiveDate>,
}

impl TokenRequest {
    /// The JSON body. It carries the password: send it, never log it.
    pub fn to_body(&self) -> Vec<u8> {
        let mut body = serde_json::json!({
            "email": self.email,
            "password": self.password.expose(),
        });
        if let (Some(date), Some(obj)) = (self.expiration, body.as_object_mut()) {
            obj.insert(
                "expiration".into(),
                date.format("%Y-%m-%d").to_string().into(),
            );
        }
        serde_json::to_vec(&body).unwrap_or_default()
    }

    /// Reads a request body (the simulator's side). `expiration` that is missing or not a
    /// `YYYY-MM-DD` date is `None`, as the server treats it.
    pub fn from_body(body: &[u8]) -> Result<Self, DecodeError> {
        let v = parse_json(body)?;
        let email = v
            .get("email")
            .and_then(|e| e.as_str())
            .ok_or(DecodeError::Missing("email"))?;
        let password = v
            .get("password")
            .and_then(|e| e.as_str())
            .ok_or(DecodeError::Missing("password"))?;
        let expiration = v
            .get("expiration")
            .and_then(|e| e.as_str())
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        Ok(TokenRequest {
            email: email.to_owned(),
            password: Secret::new(password),
            expiration,
        })
    }
}

/// An access token and when it stops being valid.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The opaque token (redacted in `Debug`).
    pub value: Secret,
    /// The instant (UTC) after which the client must not use it.
    pub expires_at: UnixSeconds,
}

impl AccessToken {
    /// Whether the token is still usable at `now`, keeping `margin` seconds in hand so a
    /// request sent just before expiry does not arrive just after.
    pub fn is_fresh(&self, now: UnixSeconds, margin: i64) -> bool {
        now.saturating_add(margin) < self.expires_at
    }
}

/// When a token asked for with `expiration` at `requested_at` expires.
///
/// DECISION: the public record says only "`expiration` = UTC date; missing or invalid →
/// valid 1 day". The SDK takes a date as "valid through that UTC day" (expires at the next
/// midnight UTC) and no date as 24 hours from the request. The client also renews on a
/// 401, so a server that expires tokens sooner costs one extra round trip, not a failure.
pub fn expiry_of(expiration: Option<NaiveDate>, requested_at: UnixSeconds) -> UnixSeconds {
    let one_day = requested_at.saturating_add(86_400);
    match expiration.and_then(|d| d.succ_opt()) {
        Some(next) => {
            let at = next.and_time(chrono::NaiveTime::MIN).and_utc().timestamp();
            // A date in the past is "invalid": the server falls back to one day.
            if at > requested_at {
                at
            } else {
                one_day
            }
        }
        None => one_day,
    }
}

/// Reads the token response: `{"AToken": "..."}`, or the server's error message.
pub fn decode_token(body: &[u8]) -> Result<Secret, DecodeError> {
    let v = parse_json(body)?;
    match v.get("AToken").and_then(|t| t.as_str()) {
        Some(t) if !t.is_empty() => Ok(Secret::new(t)),
        _ => match server_message(body) {
            Some(m) => Err(DecodeError::Server(m)),
            None => Err(DecodeError::Missing("AToken")),
        },
    }
}

/// The token response body (the simulator's side).
pub fn encode_token(token: &Secret) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "AToken": token.expose() })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_sample_decodes() {
        // spec §2: returns {"AToken": "<opaque string>"}
        let t = decode_token(br#"{"AToken": "<opaque string>"}"#).unwrap();
        assert_eq!(t.expose(), "<opaque string>");
        assert_eq!(
            decode_token(br#"{"error":"Invalid email or password"}"#).err(),
            Some(DecodeError::Server("Invalid email or password".into()))
        );
        assert_eq!(
            decode_token(b"{}").err(),
            Some(DecodeError::Missing("AToken"))
        );
        assert!(matches!(
            decode_token(b"nope"),
            Err(DecodeError::Json { .. })
        ));
    }

    #[test]
    fn request_round_trips_and_hides_password() {
        let r = TokenRequest {
            email: "a@b.c".into(),
            password: Secret::new("pw"),
            expiration: NaiveDate::from_ymd_opt(2030, 1, 2),
        };
        let body = r.to_body();
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(text.contains(r#""expiration":"2030-01-02""#), "{text}");
        let back = TokenRequest::from_body(&body).unwrap();
        assert_eq!(back.email, "a@b.c");
        assert!(back.password.ct_eq("pw"));
        assert_eq!(back.expiration, r.expiration);
        assert!(!format!("{r:?}").contains("pw\""));
        let bad = TokenRequest::from_body(br#"{"email":"x","password":"y","expiration":"soon"}"#)
            .unwrap();
        assert_eq!(bad.expiration, None);
    }

    #[test]
    fn expiry_rules() {
        let now = 1_700_000_000; // 2023-11-14 22:13:20 UTC
        assert_eq!(expiry_of(None, now), now + 86_400);
        let d = NaiveDate::from_ymd_opt(2023, 11, 20).unwrap();
        assert_eq!(expiry_of(Some(d), now), 1_700_524_800); // 2023-11-21 00:00 UTC
        let past = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        assert_eq!(expiry_of(Some(past), now), now + 86_400);
        let t = AccessToken {
            value: Secret::new("x"),
            expires_at: 100,
        };
        assert!(t.is_fresh(89, 10));
        assert!(!t.is_fresh(90, 10));
    }
}
