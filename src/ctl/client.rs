//! The XML-RPC client: calls `supervisor.*` methods over one kept-alive HTTP connection (POST
//! /RPC2 with Basic auth when both username and password are set), reconnecting after the
//! server closed it, and turning every failure into a [`CallError`] with a one-line text.

use super::http::{Conn, ConnectError, HttpError, Stream};
use super::url::{Endpoint, UrlError};
use crate::rpc::{base64, codec, Value};
use std::fmt;

/// Why a call did not return a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The server answered with an XML-RPC fault.
    Fault { code: i64, text: String },
    /// HTTP 401: missing or wrong credentials.
    Unauthorized,
    /// ECONNREFUSED connecting to the URL (carried for messages).
    Refused(String),
    /// ENOENT connecting to a unix socket URL.
    NoSuchFile(String),
    /// Ctrl-C while waiting for the answer.
    Interrupted,
    /// Anything else, as the full one-line message.
    Other(String),
}

impl CallError {
    pub fn fault_code(&self) -> Option<i64> {
        match self {
            CallError::Fault { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Fault { code, text } => write!(f, "Fault {code}: {text}"),
            CallError::Unauthorized => f.write_str("Server requires authentication"),
            CallError::Refused(url) => write!(f, "{url} refused connection"),
            CallError::NoSuchFile(url) => write!(f, "{url} no such file"),
            CallError::Interrupted => f.write_str("interrupted"),
            CallError::Other(m) => f.write_str(m),
        }
    }
}

/// Connection settings shared by the RPC client and the log followers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl Server {
    /// The `Authorization` header line (with CRLF), or "" when no credentials are set.
    pub fn auth_header(&self) -> String {
        match (&self.username, &self.password) {
            (Some(u), Some(p)) => format!(
                "Authorization: Basic {}\r\n",
                base64::encode(format!("{u}:{p}").as_bytes())
            ),
            _ => String::new(),
        }
    }

    /// Connects, mapping failures to the errors supervisorctl reports.
    pub fn connect(&self) -> Result<(Endpoint, Stream), CallError> {
        let ep = Endpoint::parse(&self.url).map_err(|UrlError(m)| CallError::Other(m))?;
        match Stream::connect(&ep) {
            Ok(s) => Ok((ep, s)),
            Err(e) => Err(self.connect_error(e)),
        }
    }

    fn connect_error(&self, e: ConnectError) -> CallError {
        match e {
            ConnectError::Refused => CallError::Refused(self.url.clone()),
            ConnectError::NoSuchFile => CallError::NoSuchFile(self.url.clone()),
            other => CallError::Other(format!("{}: {}", self.url, HttpError::Connect(other))),
        }
    }
}

/// An XML-RPC client for one server.
pub struct Client {
    pub server: Server,
    conn: Option<(Endpoint, Conn)>,
}

impl Client {
    pub fn new(server: Server) -> Client {
        Client { server, conn: None }
    }

    /// Changes URL or credentials; the next call opens a new connection.
    pub fn set_server(&mut self, server: Server) {
        if server != self.server {
            self.conn = None;
        }
        self.server = server;
    }

    /// Closes the kept-alive connection.
    pub fn disconnect(&mut self) {
        self.conn = None;
    }

    /// Calls `method`; the connection is reused when the server keeps it open.
    pub fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, CallError> {
        let body = codec::encode_call(method, params);
        // A kept-alive connection may have been closed by the server while we were idle; if it
        // fails before any byte of the answer arrived, the request was not processed: retry
        // once on a fresh connection.
        let reused = self.conn.is_some();
        match self.exchange(&body) {
            Err(Attempt::Stale) if reused => match self.exchange(&body) {
                Err(Attempt::Stale) => Err(self.stale_error()),
                Err(Attempt::Failed(e)) => Err(e),
                Ok(v) => Ok(v),
            },
            Err(Attempt::Stale) => Err(self.stale_error()),
            Err(Attempt::Failed(e)) => Err(e),
            Ok(v) => Ok(v),
        }
    }

    fn stale_error(&self) -> CallError {
        CallError::Other(format!(
            "{}: the server closed the connection without answering",
            self.server.url
        ))
    }

    fn exchange(&mut self, body: &str) -> Result<Value, Attempt> {
        if self.conn.is_none() {
            let (ep, stream) = self.server.connect().map_err(Attempt::Failed)?;
            self.conn = Some((ep, Conn::new(stream)));
        }
        let url = self.server.url.clone();
        let auth = self.server.auth_header();
        let Some((ep, conn)) = self.conn.as_mut() else {
            return Err(Attempt::Failed(CallError::Other("not connected".into())));
        };
        let request = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: {}\r\nUser-Agent: supervisorctl (supervisor-rs {})\r\n\
             Content-Type: text/xml\r\nAccept: text/xml\r\n{auth}Content-Length: {}\r\n\r\n{body}",
            ep.host_header(),
            env!("CARGO_PKG_VERSION"),
            body.len()
        );
        let result = Self::round_trip(conn, request.as_bytes());
        let received = conn.received;
        match result {
            Ok((head, response)) => {
                if !head.keep_alive() || head.status != 200 {
                    self.conn = None;
                }
                if head.status == 401 {
                    return Err(Attempt::Failed(CallError::Unauthorized));
                }
                if head.status != 200 {
                    return Err(Attempt::Failed(CallError::Other(format!(
                        "{url}/RPC2: HTTP {} {}",
                        head.status, head.reason
                    ))));
                }
                match codec::parse_response(&response) {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err((code, text))) => Err(Attempt::Failed(CallError::Fault { code, text })),
                    Err(e) => Err(Attempt::Failed(CallError::Other(format!(
                        "{url}: unreadable XML-RPC response: {e}"
                    )))),
                }
            }
            Err(e) => {
                self.conn = None;
                match e {
                    HttpError::Interrupted => Err(Attempt::Failed(CallError::Interrupted)),
                    HttpError::Closed | HttpError::Io(_) if received == 0 => Err(Attempt::Stale),
                    other => Err(Attempt::Failed(CallError::Other(format!("{url}: {other}")))),
                }
            }
        }
    }

    fn round_trip(
        conn: &mut Conn,
        request: &[u8],
    ) -> Result<(super::http::Head, Vec<u8>), HttpError> {
        conn.send(request)?;
        let head = conn.read_head()?;
        let body = conn.read_body(&head)?;
        Ok((head, body))
    }
}

/// One try of a call.
enum Attempt {
    /// The connection failed before any answer: worth one retry if it was a reused one.
    Stale,
    Failed(CallError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_header_needs_both_parts() {
        let mut s = Server {
            url: "http://h".into(),
            username: Some("user".into()),
            password: None,
        };
        assert_eq!(s.auth_header(), "");
        s.password = Some("123".into());
        assert_eq!(s.auth_header(), "Authorization: Basic dXNlcjoxMjM=\r\n");
    }

    #[test]
    fn connection_errors_name_the_url() {
        let s = Server {
            url: "unix:///nonexistent/supervisor-rs-test.sock".into(),
            username: None,
            password: None,
        };
        let mut c = Client::new(s.clone());
        assert_eq!(
            c.call("supervisor.getVersion", &[]),
            Err(CallError::NoSuchFile(s.url.clone()))
        );
        assert_eq!(
            CallError::NoSuchFile(s.url).to_string(),
            "unix:///nonexistent/supervisor-rs-test.sock no such file"
        );
        let mut c = Client::new(Server {
            url: "localhost:9".into(),
            username: None,
            password: None,
        });
        assert_eq!(
            c.call("x.y", &[]).map_err(|e| e.to_string()),
            Err("Unknown protocol for serverurl localhost:9".into())
        );
    }
}
