//! What can go wrong: [`PgSinkError`] while the sink starts, and how the writers read a
//! driver error (its text, without the password, and whether trying again can help).

use deadpool_postgres::{HookError, PoolError};

#[cfg(doc)]
use super::schema::SCHEMA_VERSION;
#[cfg(doc)]
use crate::sink::SinkError;

/// Why the PostgreSQL sink could not be set up. Runtime failures of a batch are
/// [`SinkError::Database`] instead. No variant ever holds the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgSinkError {
    /// The connection URL did not parse. Fix the URL
    /// (`postgresql://user@host:port/database`).
    #[error("invalid PostgreSQL URL: {reason}")]
    Url {
        /// What is wrong with it.
        reason: String,
    },
    /// A setting given beside the URL is missing or unusable (an unset password variable, a
    /// pool that cannot be built). Fix the configuration.
    #[error("invalid PostgreSQL sink setting: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// The database could not be reached or refused the session while the sink started.
    /// Check that it runs and the URL, user and password; then connect again.
    #[error("PostgreSQL at {target} failed while {doing}: {message}")]
    Connect {
        /// The server and database, without credentials.
        target: String,
        /// What the sink was doing.
        doing: &'static str,
        /// The driver's or server's message.
        message: String,
    },
    /// A migration failed and was rolled back; the schema is as before. The message says why
    /// (often a table of the same name made by something else).
    #[error("migrating the ffc schema to version {version} failed: {message}")]
    Migrate {
        /// The version that failed.
        version: u32,
        /// The server's message.
        message: String,
    },
    /// The database holds a newer ffc schema than this build knows. Upgrade ffc.
    #[error("the database's ffc schema is version {found}, newer than version {supported} this build knows")]
    SchemaTooNew {
        /// The version in `ffc_schema_version`.
        found: u32,
        /// [`SCHEMA_VERSION`].
        supported: u32,
    },
}

/// A failed attempt: the text for the callers and whether trying again can help.
pub(super) struct Failure {
    pub(super) message: String,
    pub(super) retryable: bool,
}

/// Whether trying again on a fresh connection can succeed: the connection was lost or the
/// server is restarting, or a conflict with another transaction. Not for a statement the
/// server refuses as such.
pub(super) fn retryable(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            let code = code.code();
            code.starts_with("08") // connection exception
                || matches!(
                    code,
                    "40001" // serialization_failure
                        | "40P01" // deadlock_detected
                        | "57P01" // admin_shutdown (pg_terminate_backend, fast stop)
                        | "57P02" // crash_shutdown
                        | "57P03" // cannot_connect_now (starting up, shutting down)
                        | "53300" // too_many_connections
                        | "53000" // insufficient_resources
                        | "57014" // query_canceled (statement_timeout)
                        | "55P03" // lock_not_available
                )
        }
        // No SQLSTATE: the driver's own failure. I/O on the socket is worth another try;
        // a value that cannot be encoded is not.
        None => {
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                if inner.is::<std::io::Error>() {
                    return true;
                }
                source = inner.source();
            }
            false
        }
    }
}

pub(super) fn pool_error_retryable(e: &PoolError) -> bool {
    match e {
        PoolError::Backend(e) | PoolError::PostCreateHook(HookError::Backend(e)) => retryable(e),
        PoolError::Timeout(_) => true,
        _ => false,
    }
}

pub(super) fn pool_error_text(e: &PoolError) -> String {
    match e {
        PoolError::Backend(e) | PoolError::PostCreateHook(HookError::Backend(e)) => error_text(e),
        other => other.to_string(),
    }
}

/// The driver's message, with the server's SQLSTATE and detail when there is one.
pub(super) fn error_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
            if let Some(detail) = db.detail() {
                text.push_str(" (");
                text.push_str(detail);
                text.push(')');
            }
            text
        }
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                let more = inner.to_string();
                if !text.contains(&more) {
                    text.push_str(": ");
                    text.push_str(&more);
                }
                source = inner.source();
            }
            text
        }
    }
}

pub(super) fn redact(message: String, secret: Option<&[u8]>) -> String {
    match secret.and_then(|s| std::str::from_utf8(s).ok()) {
        Some(secret) if !secret.is_empty() && message.contains(secret) => {
            message.replace(secret, "<redacted>")
        }
        _ => message,
    }
}
