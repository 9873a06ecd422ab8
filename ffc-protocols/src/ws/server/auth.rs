//! Who may connect: HTTP Basic and/or a token on the upgrade request, compared in
//! constant time.

use base64::Engine as _;
use subtle::ConstantTimeEq as _;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request};
use tokio_tungstenite::tungstenite::http::{header, StatusCode};

use super::Secret;

/// Who may connect. With nothing configured, anyone may; with Basic and a token both
/// configured, a request passing either is admitted (DECISION: the device is configured
/// with one or the other).
#[derive(Clone, Debug, Default)]
pub struct Auth {
    basic: Option<(String, Secret)>,
    token: Option<Secret>,
}

impl Auth {
    /// No authentication.
    pub fn new() -> Self {
        Auth::default()
    }

    /// Admits HTTP Basic authentication with this user and password.
    pub fn with_basic(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic = Some((user.into(), Secret::new(password)));
        self
    }

    /// Admits `Authorization: Bearer <token>` or the query parameter `token=<token>`. The
    /// query value is compared as sent, without percent-decoding: use URL-safe tokens.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret::new(token));
        self
    }

    pub(super) fn is_open(&self) -> bool {
        self.basic.is_none() && self.token.is_none()
    }

    /// Whether the upgrade request passes a configured method. Every configured check runs,
    /// whatever the earlier ones found.
    pub(super) fn admits(&self, request: &Request) -> bool {
        if self.is_open() {
            return true;
        }
        let mut ok = false;
        for value in request.headers().get_all(header::AUTHORIZATION) {
            let value = value.as_bytes();
            if let (Some((user, password)), Some(encoded)) =
                (&self.basic, strip_scheme(value, b"basic"))
            {
                if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) {
                    let split = decoded.iter().position(|b| *b == b':');
                    if let Some(at) = split {
                        let (u, p) = decoded.split_at(at);
                        let p = p.get(1..).unwrap_or_default();
                        // `&` on bools does not short-circuit: both are always compared.
                        let user_ok = bool::from(user.as_bytes().ct_eq(u));
                        ok |= user_ok & password.ct_eq_bytes(p);
                    }
                }
            }
            if let (Some(token), Some(given)) = (&self.token, strip_scheme(value, b"bearer")) {
                ok |= token.ct_eq_bytes(given);
            }
        }
        if let (Some(token), Some(query)) = (&self.token, request.uri().query()) {
            for pair in query.split('&') {
                if let Some(given) = pair.strip_prefix("token=") {
                    ok |= token.ct_eq_bytes(given.as_bytes());
                }
            }
        }
        ok
    }

    pub(super) fn challenge(&self) -> ErrorResponse {
        let mut response = ErrorResponse::new(Some("authentication required\n".into()));
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        let headers = response.headers_mut();
        if self.basic.is_some() {
            headers.append(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"ffc\", charset=\"UTF-8\""),
            );
        }
        if self.token.is_some() {
            headers.append(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"ffc\""),
            );
        }
        response
    }
}

/// `value` without its case-insensitive auth `scheme` and one space, trimmed.
fn strip_scheme<'a>(value: &'a [u8], scheme: &[u8]) -> Option<&'a [u8]> {
    let head = value.get(..scheme.len())?;
    if !head.eq_ignore_ascii_case(scheme) || value.get(scheme.len()) != Some(&b' ') {
        return None;
    }
    Some(value.get(scheme.len() + 1..)?.trim_ascii())
}
