//! Server URLs as supervisorctl understands them: `http://host[:port]` (port 80 by default) or
//! `unix:///path/to/socket`. Anything else fails when the first request is made, with
//! Supervisor's `Unknown protocol for serverurl <url>` (ctl.md §1).

use std::fmt;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Tcp { host: String, port: u16 },
    Unix { path: String },
}

/// A URL that cannot be used, with the text shown after `error: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Endpoint {
    /// Parses a server URL. Like Supervisor, the scheme prefix is matched case-sensitively and
    /// any path, query or credentials after the authority are ignored.
    pub fn parse(url: &str) -> Result<Endpoint, UrlError> {
        if let Some(path) = url.strip_prefix("unix://") {
            return Ok(Endpoint::Unix {
                path: path.to_string(),
            });
        }
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(UrlError(format!("Unknown protocol for serverurl {url}")));
        };
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        // user:pass@ in the URL is not used for authentication (Supervisor ignores it too).
        let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let bad = || {
            UrlError(format!(
                "bad server URL {url}: cannot find the host and port"
            ))
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(bad()),
            };
            (h.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        let port = match port {
            None | Some("") => 80,
            Some(p) => p.parse::<u16>().map_err(|_| {
                UrlError(format!("bad server URL {url}: port {p:?} is not a number"))
            })?,
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Endpoint::Tcp {
            host: host.to_lowercase(),
            port,
        })
    }

    /// The `Host:` header value for requests to this endpoint.
    pub fn host_header(&self) -> String {
        match self {
            Endpoint::Tcp { host, port } if *port == 80 => host.clone(),
            Endpoint::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Endpoint::Tcp { host, port } => format!("{host}:{port}"),
            Endpoint::Unix { .. } => "localhost".to_string(),
        }
    }
}

/// `open` accepts only URLs whose scheme is `http` or `unix` (ctl.md §4 open).
pub fn open_scheme_ok(url: &str) -> bool {
    match url.split_once(':') {
        Some((scheme, _)) => {
            let s = scheme.to_ascii_lowercase();
            s == "http" || s == "unix"
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn parses_the_two_schemes() {
        assert_eq!(
            Endpoint::parse("http://localhost:9001"),
            Ok(tcp("localhost", 9001))
        );
        assert_eq!(
            Endpoint::parse("http://127.0.0.1"),
            Ok(tcp("127.0.0.1", 80))
        );
        assert_eq!(Endpoint::parse("http://Host:81/RPC2"), Ok(tcp("host", 81)));
        assert_eq!(Endpoint::parse("http://u:p@h:82"), Ok(tcp("h", 82)));
        assert_eq!(Endpoint::parse("http://[::1]:83"), Ok(tcp("::1", 83)));
        assert_eq!(
            Endpoint::parse("unix:///tmp/s.sock"),
            Ok(Endpoint::Unix {
                path: "/tmp/s.sock".into()
            })
        );
    }

    #[test]
    fn unknown_schemes_fail_like_supervisor() {
        assert_eq!(
            Endpoint::parse("localhost:9"),
            Err(UrlError(
                "Unknown protocol for serverurl localhost:9".into()
            ))
        );
        assert!(Endpoint::parse("HTTP://x").is_err());
        assert!(Endpoint::parse("http://h:x").is_err());
        assert!(Endpoint::parse("http://").is_err());
    }

    #[test]
    fn host_header_and_open_check() {
        assert_eq!(tcp("h", 80).host_header(), "h");
        assert_eq!(tcp("h", 9001).host_header(), "h:9001");
        assert!(open_scheme_ok("HTTP://x") && open_scheme_ok("unix:///x"));
        assert!(!open_scheme_ok("ftp://x") && !open_scheme_ok(""));
    }
}
