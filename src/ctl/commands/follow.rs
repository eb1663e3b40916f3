//! Following a log over HTTP (`/logtail/<name>/<channel>`, `/mainlogtail`) for `tail -f`,
//! `maintail -f`, `fg` and `debug` (ctl.md §7.1): a separate connection whose body is
//! streamed to a sink as it arrives, until Ctrl-C, the server closing, or the sink refusing.

use crate::ctl::client::{CallError, Server};
use crate::ctl::http::{Conn, HttpError, Stream};
use std::io::Write;

/// Why a follow could not start.
#[derive(Debug)]
pub enum OpenError {
    /// Connecting failed (the message names the URL).
    Connect(CallError),
    /// The server answered something other than 200.
    Status(u16),
    Http(HttpError),
}

impl OpenError {
    /// Supervisor's wording for the stderr line.
    pub fn message(&self, server: &Server, path: &str) -> String {
        match self {
            OpenError::Connect(e) => {
                let why = match e {
                    CallError::Refused(_) => "connection refused".to_string(),
                    CallError::NoSuchFile(_) => "no such file".to_string(),
                    other => other.to_string(),
                };
                format!("{} Cannot connect, error: {why}", server.url)
            }
            OpenError::Status(code) => {
                format!("{}{path} Cannot read, status code {code}", server.url)
            }
            OpenError::Http(e) => format!("{}{path} Cannot read: {e}", server.url),
        }
    }
}

/// An open follow: the response head has been read and was 200.
pub struct Follow {
    conn: Conn,
    head: crate::ctl::http::Head,
}

impl Follow {
    /// Connects and requests `path`.
    pub fn open(server: &Server, path: &str) -> Result<Follow, OpenError> {
        let (ep, stream) = server.connect().map_err(OpenError::Connect)?;
        let mut conn = Conn::new(stream);
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: chunked\r\nAccept: */*\r\n\
             User-agent: supervisorctl (supervisor-rs)\r\n{}\r\n",
            ep.host_header(),
            server.auth_header()
        );
        conn.send(request.as_bytes()).map_err(OpenError::Http)?;
        let head = conn.read_head().map_err(OpenError::Http)?;
        if head.status != 200 {
            return Err(OpenError::Status(head.status));
        }
        Ok(Follow { conn, head })
    }

    /// A handle that can end the follow from another thread (by shutting the socket down).
    pub fn stopper(&self) -> Option<Stream> {
        self.conn.stream().try_clone().ok()
    }

    /// Streams the body into `sink` until it ends, fails, or SIGINT arrives.
    pub fn pump(mut self, sink: impl FnMut(&[u8]) -> bool) -> Result<(), HttpError> {
        let head = self.head.clone();
        self.conn.stream_body(&head, sink)
    }
}

/// Writes a piece of followed output to stdout at once (a closed stdout ends the follow).
pub fn to_stdout(piece: &[u8]) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(piece).and_then(|_| out.flush()).is_ok()
}

/// `tail -f` / `maintail -f`: the banner, then the stream until Ctrl-C. Returns false if the
/// follow could not start (the reason is on stderr).
pub fn follow_to_stdout(server: &Server, path: &str) -> bool {
    to_stdout(b"==> Press Ctrl-C to exit <==\n");
    if let Err(e) = crate::ctl::interrupt::enable() {
        eprintln!("error: cannot catch Ctrl-C: {e}");
    }
    let follow = match Follow::open(server, path) {
        Ok(f) => f,
        Err(OpenError::Http(HttpError::Interrupted)) => {
            to_stdout(b"\n");
            return true;
        }
        Err(e) => {
            eprintln!("{}", e.message(server, path));
            // Supervisor's exit status stays 0 when the server answers with an error status
            // (`tail -f nope`); only a failed connection or request counts as a failure.
            return matches!(e, OpenError::Status(_));
        }
    };
    match follow.pump(to_stdout) {
        Err(HttpError::Interrupted) => {
            to_stdout(b"\n");
            true
        }
        Ok(()) => true,
        Err(e) => {
            eprintln!("{}{path} Cannot read: {e}", server.url);
            false
        }
    }
}
