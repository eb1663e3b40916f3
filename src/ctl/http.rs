//! The HTTP/1.1 client side of supervisorctl: connecting over TCP or a unix socket, writing a
//! request, and reading the response head and body (Content-Length, chunked, or until close).
//! Every read waits through [`interrupt::wait_readable`], so Ctrl-C ends a wait cleanly.

use super::interrupt::{self, Wait};
use super::url::Endpoint;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Largest response body accepted: `maintail -0` of a big main log is the largest legitimate
/// answer; anything bigger is refused rather than exhausting memory.
pub const MAX_BODY: usize = 512 * 1024 * 1024;

/// Why a connection could not be made (the classes supervisorctl reports differently).
#[derive(Debug)]
pub enum ConnectError {
    /// ECONNREFUSED.
    Refused,
    /// ENOENT: the unix socket file does not exist.
    NoSuchFile,
    /// The host name does not resolve.
    Resolve(String),
    Other(io::Error),
}

/// A failed exchange.
#[derive(Debug)]
pub enum HttpError {
    Connect(ConnectError),
    Io(io::Error),
    /// The server closed the connection before a complete response.
    Closed,
    /// The response is not HTTP as we know it.
    Malformed(String),
    /// SIGINT arrived while waiting.
    Interrupted,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Connect(ConnectError::Refused) => f.write_str("connection refused"),
            HttpError::Connect(ConnectError::NoSuchFile) => f.write_str("no such file"),
            HttpError::Connect(ConnectError::Resolve(e)) => write!(f, "cannot resolve host {e}"),
            HttpError::Connect(ConnectError::Other(e)) => write!(f, "cannot connect: {e}"),
            HttpError::Io(e) => write!(f, "{e}"),
            HttpError::Closed => f.write_str("the server closed the connection"),
            HttpError::Malformed(m) => write!(f, "bad HTTP response: {m}"),
            HttpError::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// A connected socket of either kind.
#[derive(Debug)]
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub fn connect(ep: &Endpoint) -> Result<Stream, ConnectError> {
        let classify = |e: io::Error| match e.raw_os_error() {
            Some(libc::ECONNREFUSED) => ConnectError::Refused,
            Some(libc::ENOENT) => ConnectError::NoSuchFile,
            _ => ConnectError::Other(e),
        };
        match ep {
            Endpoint::Unix { path } => UnixStream::connect(path)
                .map(Stream::Unix)
                .map_err(classify),
            Endpoint::Tcp { host, port } => {
                let addrs: Vec<_> = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(|e| {
                        let why = e.to_string();
                        let why = why
                            .strip_prefix("failed to lookup address information: ")
                            .unwrap_or(&why);
                        ConnectError::Resolve(format!("{host}: {why}"))
                    })?
                    .collect();
                let mut last = ConnectError::Resolve(format!("{host}: no address"));
                for a in addrs {
                    match TcpStream::connect(a) {
                        Ok(s) => {
                            // Requests are written in one go; no point delaying small writes.
                            let _ = s.set_nodelay(true);
                            return Ok(Stream::Tcp(s));
                        }
                        Err(e) => last = classify(e),
                    }
                }
                Err(last)
            }
        }
    }

    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
        })
    }

    /// Ends both directions; a thread blocked reading a clone wakes up with EOF.
    pub fn shutdown(&self) {
        // ENOTCONN (already closed by the peer) is the only expected failure; nothing to do.
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
        };
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A response's status line and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub reason: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub http11: bool,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    fn content_length(&self) -> Result<Option<usize>, HttpError> {
        match self.header("content-length") {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| HttpError::Malformed(format!("Content-Length {v:?}"))),
        }
    }

    /// Whether the connection may carry another request after this response.
    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").map(str::to_ascii_lowercase);
        let framed = self.chunked() || self.header("content-length").is_some();
        framed
            && match conn.as_deref() {
                Some(c) if c.contains("close") => false,
                Some(c) if c.contains("keep-alive") => true,
                _ => self.http11,
            }
    }
}

/// A connection with a read buffer.
pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    pos: usize,
    /// Bytes of the current response received so far (0 = nothing yet: safe to retry).
    pub received: usize,
}

impl Conn {
    pub fn new(stream: Stream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            pos: 0,
            received: 0,
        }
    }

    pub fn stream(&self) -> &Stream {
        &self.stream
    }

    /// Writes a whole request.
    pub fn send(&mut self, request: &[u8]) -> Result<(), HttpError> {
        self.received = 0;
        self.stream.write_all(request).map_err(HttpError::Io)
    }

    /// Reads more bytes into the buffer; Ok(false) at EOF.
    fn fill(&mut self) -> Result<bool, HttpError> {
        // Drop what was consumed so a long stream never grows the buffer.
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        match interrupt::wait_readable(self.stream.as_raw_fd(), None).map_err(HttpError::Io)? {
            Wait::Interrupted => return Err(HttpError::Interrupted),
            Wait::Ready | Wait::TimedOut => {}
        }
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    self.received += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(HttpError::Io(e)),
            }
        }
    }

    /// One line without its CRLF (or LF); `limit` bounds its length.
    fn read_line(&mut self, limit: usize) -> Result<String, HttpError> {
        loop {
            if let Some(i) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let line = &self.buf[self.pos..self.pos + i];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let text = String::from_utf8_lossy(line).into_owned();
                self.pos += i + 1;
                return Ok(text);
            }
            if self.buf.len() - self.pos > limit {
                return Err(HttpError::Malformed("header line too long".into()));
            }
            if !self.fill()? {
                return Err(HttpError::Closed);
            }
        }
    }

    /// Reads the status line and headers.
    pub fn read_head(&mut self) -> Result<Head, HttpError> {
        let status_line = self.read_line(MAX_HEAD)?;
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/") {
            return Err(HttpError::Malformed(format!("status line {status_line:?}")));
        }
        let status = parts
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| HttpError::Malformed(format!("status line {status_line:?}")))?;
        let reason = parts.next().unwrap_or("").trim().to_string();
        let mut headers = Vec::new();
        let mut total = status_line.len();
        loop {
            let line = self.read_line(MAX_HEAD)?;
            total += line.len();
            if total > MAX_HEAD {
                return Err(HttpError::Malformed("response head too large".into()));
            }
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        Ok(Head {
            status,
            reason,
            headers,
            http11: version == "HTTP/1.1",
        })
    }

    /// Passes exactly `left` body bytes to `sink` as they arrive; false when `sink` asked to
    /// stop early. Shared by chunked and Content-Length framing.
    fn copy_exact(
        &mut self,
        mut left: usize,
        sink: &mut impl FnMut(&[u8]) -> bool,
    ) -> Result<bool, HttpError> {
        while left > 0 {
            if self.pos == self.buf.len() && !self.fill()? {
                return Err(HttpError::Closed);
            }
            let n = left.min(self.buf.len() - self.pos);
            let more = sink(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            left -= n;
            if !more {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Passes the body to `sink` piece by piece as it arrives (decoding chunked framing);
    /// `sink` returns false to stop early.
    pub fn stream_body(
        &mut self,
        head: &Head,
        mut sink: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), HttpError> {
        if head.chunked() {
            loop {
                let size_line = self.read_line(1024)?;
                let hex = size_line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(hex, 16)
                    .map_err(|_| HttpError::Malformed(format!("chunk size {size_line:?}")))?;
                if size == 0 {
                    // Trailer lines up to the empty one.
                    while !self.read_line(MAX_HEAD)?.is_empty() {}
                    return Ok(());
                }
                if !self.copy_exact(size, &mut sink)? {
                    return Ok(());
                }
                if !self.read_line(16)?.is_empty() {
                    return Err(HttpError::Malformed("chunk without CRLF".into()));
                }
            }
        }
        match head.content_length()? {
            Some(left) => self.copy_exact(left, &mut sink).map(|_| ()),
            None => loop {
                if self.pos < self.buf.len() {
                    let more = sink(&self.buf[self.pos..]);
                    self.pos = self.buf.len();
                    if !more {
                        return Ok(());
                    }
                }
                if !self.fill()? {
                    return Ok(());
                }
            },
        }
    }

    /// Reads the whole body (bounded by [`MAX_BODY`]).
    pub fn read_body(&mut self, head: &Head) -> Result<Vec<u8>, HttpError> {
        let mut body = Vec::new();
        let mut too_big = false;
        self.stream_body(head, |piece| {
            if body.len() + piece.len() > MAX_BODY {
                too_big = true;
                return false;
            }
            body.extend_from_slice(piece);
            true
        })?;
        if too_big {
            return Err(HttpError::Malformed(format!(
                "response body larger than {MAX_BODY} bytes"
            )));
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn_with(data: &[u8]) -> Conn {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(data).unwrap();
        drop(a);
        Conn::new(Stream::Unix(b))
    }

    #[test]
    fn content_length_body() {
        let mut c = conn_with(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/xml\r\n\r\nhelloEXTRA",
        );
        let h = c.read_head().unwrap();
        assert_eq!((h.status, h.reason.as_str()), (200, "OK"));
        assert!(h.keep_alive());
        assert_eq!(c.read_body(&h).unwrap(), b"hello");
    }

    #[test]
    fn chunked_body_and_trailers() {
        let mut c = conn_with(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n",
        );
        let h = c.read_head().unwrap();
        assert_eq!(c.read_body(&h).unwrap(), b"abcde");
    }

    #[test]
    fn body_until_close_and_errors() {
        let mut c = conn_with(b"HTTP/1.0 401 Unauthorized\r\nConnection: close\r\n\r\nno");
        let h = c.read_head().unwrap();
        assert!(!h.keep_alive());
        assert_eq!(c.read_body(&h).unwrap(), b"no");
        let mut c = conn_with(b"garbage\r\n\r\n");
        assert!(matches!(c.read_head(), Err(HttpError::Malformed(_))));
        let mut c = conn_with(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort");
        let h = c.read_head().unwrap();
        assert!(matches!(c.read_body(&h), Err(HttpError::Closed)));
        let mut c = conn_with(b"");
        assert!(matches!(c.read_head(), Err(HttpError::Closed)));
    }
}
