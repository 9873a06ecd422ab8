//! Connecting to the cluster: [`NatsConfig`] (servers, credentials) and
//! [`NatsCredentials`], read from the environment or a file, never printed.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use async_nats::{ConnectErrorKind, ConnectOptions};
use ffc_core::secret::Secret;

use super::NatsError;

/// How the client proves who it is. `Debug` and errors never show the secret part.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum NatsCredentials {
    /// No credentials.
    #[default]
    None,
    /// A user and its password.
    UserPassword {
        /// The user.
        user: String,
        /// The password.
        password: Secret,
    },
    /// A token.
    Token(Secret),
    /// An nkey seed (`SU...`).
    NkeySeed(Secret),
    /// A `.creds` file (user JWT and nkey seed), read when connecting.
    CredsFile(PathBuf),
}

impl fmt::Debug for NatsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NatsCredentials::None => f.write_str("None"),
            NatsCredentials::UserPassword { user, .. } => {
                write!(f, "UserPassword {{ user: {user:?}, password: *** }}")
            }
            NatsCredentials::Token(_) => f.write_str("Token(***)"),
            NatsCredentials::NkeySeed(_) => f.write_str("NkeySeed(***)"),
            NatsCredentials::CredsFile(path) => write!(f, "CredsFile({path:?})"),
        }
    }
}

impl NatsCredentials {
    /// Reads the credentials from the environment, first match wins:
    /// `FFC_NATS_CREDS` (path of a `.creds` file), `FFC_NATS_NKEY` (a seed) or
    /// `FFC_NATS_NKEY_FILE` (a file holding one), `FFC_NATS_TOKEN` or `FFC_NATS_TOKEN_FILE`,
    /// `FFC_NATS_USER` with `FFC_NATS_PASSWORD` or `FFC_NATS_PASSWORD_FILE`. None set: no
    /// credentials.
    pub fn from_env() -> Result<NatsCredentials, NatsError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        // A secret from NAME or from the file NAME_FILE (trimmed).
        let secret = |name: &str| -> Result<Option<Secret>, NatsError> {
            if let Some(value) = var(name) {
                return Ok(Some(Secret::new(value)));
            }
            let file_var = format!("{name}_FILE");
            match var(&file_var) {
                None => Ok(None),
                Some(path) => std::fs::read_to_string(&path)
                    .map(|text| Some(Secret::new(text.trim().to_owned())))
                    .map_err(|e| NatsError::Credentials {
                        source_name: format!("{file_var}={path}"),
                        reason: e.to_string(),
                    }),
            }
        };
        if let Some(path) = var("FFC_NATS_CREDS") {
            return Ok(NatsCredentials::CredsFile(path.into()));
        }
        if let Some(seed) = secret("FFC_NATS_NKEY")? {
            return Ok(NatsCredentials::NkeySeed(seed));
        }
        if let Some(token) = secret("FFC_NATS_TOKEN")? {
            return Ok(NatsCredentials::Token(token));
        }
        match (var("FFC_NATS_USER"), secret("FFC_NATS_PASSWORD")?) {
            (Some(user), Some(password)) => Ok(NatsCredentials::UserPassword { user, password }),
            (Some(_), None) => Err(NatsError::Credentials {
                source_name: "FFC_NATS_USER".into(),
                reason: "set, but neither FFC_NATS_PASSWORD nor FFC_NATS_PASSWORD_FILE is".into(),
            }),
            (None, Some(_)) => Err(NatsError::Credentials {
                source_name: "FFC_NATS_PASSWORD".into(),
                reason: "set, but FFC_NATS_USER is not".into(),
            }),
            (None, None) => Ok(NatsCredentials::None),
        }
    }

    fn method(&self) -> &'static str {
        match self {
            NatsCredentials::None => "no",
            NatsCredentials::UserPassword { .. } => "user/password",
            NatsCredentials::Token(_) => "token",
            NatsCredentials::NkeySeed(_) => "nkey",
            NatsCredentials::CredsFile(_) => "creds file",
        }
    }
}

/// Where the cluster is and how to log in.
#[derive(Clone)]
#[non_exhaustive]
pub struct NatsConfig {
    /// Server addresses (`nats://host:port`); the client learns the rest of the cluster.
    pub servers: Vec<String>,
    /// The credentials.
    pub credentials: NatsCredentials,
    /// The connection's name, shown by the server's monitoring.
    pub name: String,
    /// How long one connection attempt may take (default 5 s).
    pub connect_timeout: Duration,
    /// How long a JetStream request waits for its answer (default 5 s).
    pub request_timeout: Duration,
}

// Servers are shown with any password in their URL masked (`nats://user:pass@host` is a
// form NATS accepts), like the credentials.
impl fmt::Debug for NatsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let servers: Vec<String> = self.servers.iter().map(|s| shown(s)).collect();
        f.debug_struct("NatsConfig")
            .field("servers", &servers)
            .field("credentials", &self.credentials)
            .field("name", &self.name)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// `url` with the password of its user info replaced by `***`; a user info with no `:` is
/// a token to NATS (`nats://TOKEN@host`), so all of it is.
fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let host_start = rest.find('/').unwrap_or(rest.len());
    match rest[..host_start].rsplit_once('@') {
        Some((user_info, host)) => {
            let shown_info = match user_info.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => "***".to_owned(),
            };
            format!("{scheme}://{shown_info}@{host}{}", &rest[host_start..])
        }
        None => url.to_owned(),
    }
}

impl NatsConfig {
    /// `servers`, comma-separated (`nats://a:4222,nats://b:4222`), no credentials.
    pub fn new(servers: &str) -> NatsConfig {
        NatsConfig {
            servers: servers
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            credentials: NatsCredentials::None,
            name: "ffc".to_owned(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
        }
    }

    /// Sets the credentials.
    pub fn with_credentials(mut self, credentials: NatsCredentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sets the connection's name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets how long one connection attempt may take.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets how long a JetStream request waits for its answer.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Connects (to the first server that answers; the client then reconnects by itself to
    /// any node of the cluster). A refused credential is [`NatsError::Unauthorized`].
    pub async fn connect(&self) -> Result<async_nats::Client, NatsError> {
        if self.servers.is_empty() {
            return Err(NatsError::NoServers);
        }
        let servers = self
            .servers
            .iter()
            .map(|s| shown(s))
            .collect::<Vec<_>>()
            .join(",");
        let mut addrs = Vec::with_capacity(self.servers.len());
        for url in &self.servers {
            let addr = url
                .parse::<async_nats::ServerAddr>()
                .map_err(|e| NatsError::Connect {
                    servers: servers.clone(),
                    reason: format!("{:?}: {e}", shown(url)),
                })?;
            addrs.push(addr);
        }
        let options = self.options().await?;
        options.connect(addrs).await.map_err(|e| match e.kind() {
            ConnectErrorKind::AuthorizationViolation | ConnectErrorKind::Authentication => {
                NatsError::Unauthorized {
                    servers: servers.clone(),
                    method: self.credentials.method(),
                }
            }
            _ => NatsError::Connect {
                servers: servers.clone(),
                reason: e.to_string(),
            },
        })
    }

    /// A JetStream context on a new connection, with [`NatsConfig::request_timeout`].
    pub async fn jetstream(&self) -> Result<async_nats::jetstream::Context, NatsError> {
        let client = self.connect().await?;
        let mut js = async_nats::jetstream::new(client);
        js.set_timeout(self.request_timeout);
        Ok(js)
    }

    async fn options(&self) -> Result<ConnectOptions, NatsError> {
        let base = match &self.credentials {
            NatsCredentials::None => ConnectOptions::new(),
            NatsCredentials::UserPassword { user, password } => {
                ConnectOptions::with_user_and_password(user.clone(), password.expose().to_owned())
            }
            NatsCredentials::Token(token) => ConnectOptions::with_token(token.expose().to_owned()),
            NatsCredentials::NkeySeed(seed) => ConnectOptions::with_nkey(seed.expose().to_owned()),
            NatsCredentials::CredsFile(path) => ConnectOptions::with_credentials_file(path)
                .await
                .map_err(|e| NatsError::Credentials {
                source_name: path.display().to_string(),
                reason: e.to_string(),
            })?,
        };
        Ok(base
            .name(&self.name)
            .connection_timeout(self.connect_timeout)
            // Reconnect forever once connected; the first connect fails fast instead.
            .max_reconnects(None))
    }
}

#[cfg(test)]
mod tests {
    use super::{shown, NatsConfig};

    #[test]
    fn a_password_in_a_server_url_is_never_shown() {
        assert_eq!(
            shown("nats://ffc:s3cret@127.0.0.1:4222"),
            "nats://ffc:***@127.0.0.1:4222"
        );
        assert_eq!(
            shown("nats://tok3n@127.0.0.1:4222"),
            "nats://***@127.0.0.1:4222"
        );
        assert_eq!(shown("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert_eq!(shown("127.0.0.1:4222"), "127.0.0.1:4222");
        let config = NatsConfig::new("nats://ffc:s3cret@127.0.0.1:4222,nats://127.0.0.1:4223");
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("nats://ffc:***@127.0.0.1:4222"), "{debug}");
    }
}
