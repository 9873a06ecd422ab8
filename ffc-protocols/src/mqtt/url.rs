//! Broker URLs: `mqtt://host[:port]` and `mqtts://host[:port]`, as counters are configured.

use core::fmt;

/// The MQTT protocol version spoken to the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Protocol {
    /// MQTT 3.1.1 (what counters speak).
    #[default]
    V311,
    /// MQTT 5.
    V5,
}

/// A parsed broker URL. Credentials are never part of it: they go in the configuration,
/// so a URL can be logged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BrokerUrl {
    /// `mqtts://`: TLS (feature `tls`).
    pub tls: bool,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port: 1883 for `mqtt://` and 8883 for `mqtts://` when the URL names none.
    pub port: u16,
}

/// Why a broker URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `mqtt://` or `mqtts://` (`tcp://` and `ssl://` are accepted as
    /// aliases). Use one of those.
    #[error("broker URL must start with mqtt:// or mqtts://")]
    Scheme,
    /// No host after the scheme. Name the broker's host.
    #[error("broker URL has no host")]
    NoHost,
    /// The port is not a number in 1..=65535. Fix the port.
    #[error("broker URL port is not a number in 1..=65535 (at byte {offset})")]
    Port {
        /// Byte offset of the port in the URL.
        offset: usize,
    },
    /// `user:password@` in the URL. Pass credentials in the configuration instead, so
    /// they never end up in logs.
    #[error("broker URL holds credentials; pass username and password in the configuration")]
    Credentials,
    /// A path, query or fragment after the host. Remove it; topics are configured apart.
    #[error("broker URL has a path or query after the host (at byte {offset})")]
    Trailing {
        /// Byte offset of the first character after the host and port.
        offset: usize,
    },
}

impl BrokerUrl {
    /// Parses `mqtt://host[:port]` or `mqtts://host[:port]`; `[::1]:1883` for IPv6.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let (tls, rest, at) = if let Some(r) = url.strip_prefix("mqtt://") {
            (false, r, 7)
        } else if let Some(r) = url.strip_prefix("tcp://") {
            (false, r, 6)
        } else if let Some(r) = url.strip_prefix("mqtts://") {
            (true, r, 8)
        } else if let Some(r) = url.strip_prefix("ssl://") {
            (true, r, 6)
        } else {
            return Err(UrlError::Scheme);
        };
        if rest.contains('@') {
            return Err(UrlError::Credentials);
        }
        // A single trailing slash is harmless; anything else after the authority is not.
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        if !(tail.is_empty() || tail == "/") {
            return Err(UrlError::Trailing {
                offset: at + authority_end,
            });
        }
        let (host, port_text, port_at) = if let Some(v6) = authority.strip_prefix('[') {
            let close = v6.find(']').ok_or(UrlError::NoHost)?;
            let (host, after) = v6.split_at(close);
            let after = after.get(1..).unwrap_or("");
            match after.strip_prefix(':') {
                Some(p) => (host, Some(p), at + 1 + close + 2),
                None if after.is_empty() => (host, None, 0),
                None => {
                    return Err(UrlError::Trailing {
                        offset: at + 1 + close + 1,
                    })
                }
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p), at + h.len() + 1),
                None => (authority, None, 0),
            }
        };
        if host.is_empty() {
            return Err(UrlError::NoHost);
        }
        let port = match port_text {
            Some(p) => match p.parse::<u16>() {
                Ok(v) if v != 0 => v,
                _ => return Err(UrlError::Port { offset: port_at }),
            },
            None if tls => 8883,
            None => 1883,
        };
        Ok(BrokerUrl {
            tls,
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

impl core::str::FromStr for BrokerUrl {
    type Err = UrlError;
    fn from_str(s: &str) -> Result<Self, UrlError> {
        BrokerUrl::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schemes_and_default_ports() {
        let u = BrokerUrl::parse("mqtt://broker.example:1884").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port),
            (false, "broker.example", 1884)
        );
        let u = BrokerUrl::parse("mqtts://broker.example").unwrap();
        assert_eq!((u.tls, u.port), (true, 8883));
        let u = BrokerUrl::parse("mqtt://127.0.0.1/").unwrap();
        assert_eq!(u.port, 1883);
        let u = BrokerUrl::parse("mqtt://[::1]:1999").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 1999));
        assert_eq!(u.to_string(), "mqtt://[::1]:1999");
    }

    #[test]
    fn refuses_with_place() {
        assert_eq!(BrokerUrl::parse("http://x"), Err(UrlError::Scheme));
        assert_eq!(BrokerUrl::parse("mqtt://"), Err(UrlError::NoHost));
        assert_eq!(
            BrokerUrl::parse("mqtt://h:99999"),
            Err(UrlError::Port { offset: 9 })
        );
        assert_eq!(
            BrokerUrl::parse("mqtt://h:0"),
            Err(UrlError::Port { offset: 9 })
        );
        assert_eq!(
            BrokerUrl::parse("mqtt://u:secret@h"),
            Err(UrlError::Credentials)
        );
        assert_eq!(
            BrokerUrl::parse("mqtt://h:1883/status"),
            Err(UrlError::Trailing { offset: 13 })
        );
    }
}
