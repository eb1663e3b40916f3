//! Reading one request from a connection: a buffered reader whose every wait is bounded by
//! one deadline for the whole head (or body), not a timer restarted by each byte, so a client
//! trickling bytes cannot hold its thread; the head parser (≤ `MAX_HEAD` bytes and
//! `MAX_HEADERS` lines); and the body framing rules, which refuse what could smuggle a
//! second request past a proxy (Transfer-Encoding, conflicting Content-Lengths). Also `%XX`
//! decoding of paths and form fields.

use super::limits::{MAX_BODY, MAX_HEAD, MAX_HEADERS};
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::os::fd::AsRawFd;
use std::time::Instant;

/// A connection's input, buffered, with a deadline on every wait.
pub struct Input<'a> {
    file: &'a File,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Bytes received from the socket so far.
    total: u64,
    deadline: Instant,
}

impl<'a> Input<'a> {
    pub fn new(file: &'a File, deadline: Instant) -> Input<'a> {
        Input {
            file,
            buf: vec![0; 16 * 1024].into_boxed_slice(),
            pos: 0,
            end: 0,
            total: 0,
            deadline,
        }
    }

    /// Every read from now on fails with `TimedOut` once `deadline` has passed with no
    /// byte available (bytes already there are always taken, however late the thread runs).
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    /// Where the stream stands: how many bytes were consumed. With `received_since` it tells
    /// a client that sent nothing of a request from one that sent part of it.
    pub fn mark(&self) -> u64 {
        self.total - (self.end - self.pos) as u64
    }

    pub fn received_since(&self, mark: u64) -> bool {
        self.total > mark
    }

    /// Waits until `deadline` for the first byte of a request; false on timeout, EOF or
    /// error (a kept-alive connection left idle).
    pub fn wait_request(&mut self, deadline: Instant) -> bool {
        self.deadline = deadline;
        matches!(self.fill_buf(), Ok(b) if !b.is_empty())
    }

    /// One receive into `dst`, waiting no later than the deadline. Ok(0) is EOF.
    fn recv(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        let fd = self.file.as_raw_fd();
        loop {
            // Try first, wait only when nothing is there: a thread that starts late still
            // takes a request that arrived in time.
            // SAFETY: recv into `dst`, at most its length, on the descriptor we borrow.
            let n =
                unsafe { libc::recv(fd, dst.as_mut_ptr().cast(), dst.len(), libc::MSG_DONTWAIT) };
            if n >= 0 {
                self.total += n as u64;
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {}
                _ => return Err(e),
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // Rounded up: waking a little late is harmless, waking early spins.
            let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
            // SAFETY: poll on one pollfd over the descriptor we borrow.
            unsafe { libc::poll(&mut p, 1, ms) };
        }
    }
}

impl Read for Input<'_> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.end && dst.len() >= self.buf.len() {
            // A large body goes straight to its place.
            return self.recv(dst);
        }
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(dst.len());
            dst[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Input<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end {
            let mut buf = std::mem::take(&mut self.buf);
            let r = self.recv(&mut buf);
            self.buf = buf;
            self.pos = 0;
            self.end = r?;
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }
}

/// A parsed request head.
pub struct Head {
    pub method: String,
    pub url: String,
    /// (major, minor); HTTP/0.9-style requests count as 1.0.
    pub version: (u8, u8),
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn keep_alive(&self) -> bool {
        let conn = self.header("Connection").map(|c| c.to_ascii_lowercase());
        match self.version {
            (1, 1) => conn.as_deref() != Some("close"),
            _ => conn.as_deref() == Some("keep-alive"),
        }
    }

    /// The body's length from the framing headers, or the status that refuses the request.
    /// A Transfer-Encoding is never decoded: with a Content-Length too it is the classic
    /// smuggling pair (400, RFC 9112 §6.1), alone it is a chunked body we do not take (501;
    /// Supervisor answers 411). Content-Length must be digits only and, when repeated, the
    /// same every time.
    pub fn body_length(&self) -> Result<usize, u16> {
        let named = |name: &'static str| {
            self.headers
                .iter()
                .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let mut lengths = named("Content-Length").peekable();
        if named("Transfer-Encoding").next().is_some() {
            return Err(if lengths.peek().is_some() { 400 } else { 501 });
        }
        let Some(first) = lengths.next() else {
            return if self.method == "POST" {
                Err(411)
            } else {
                Ok(0)
            };
        };
        if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
            return Err(400);
        }
        if lengths.any(|other| other != first) {
            return Err(400);
        }
        match first.parse::<usize>() {
            Ok(n) if n <= MAX_BODY => Ok(n),
            // Too many digits for a usize is too large as well.
            _ => Err(413),
        }
    }
}

pub enum HeadError {
    /// The peer closed or failed: just close.
    Gone,
    /// The deadline passed.
    Timeout,
    Status(u16),
}

/// Reads one line (without CRLF) of at most `budget` bytes.
fn read_line(r: &mut impl BufRead, budget: &mut usize) -> Result<Option<String>, HeadError> {
    let mut line = Vec::new();
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return Err(HeadError::Timeout),
            Err(_) => return Err(HeadError::Gone),
        };
        if buf.is_empty() {
            return if line.is_empty() {
                Ok(None)
            } else {
                Err(HeadError::Status(400))
            };
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        if chunk.len() > *budget {
            return Err(HeadError::Status(431));
        }
        *budget -= chunk.len();
        line.extend_from_slice(chunk);
        let n = chunk.len();
        r.consume(n);
        if done {
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            return String::from_utf8(line)
                .map(Some)
                .map_err(|_| HeadError::Status(400));
        }
    }
}

/// Reads a request head; Ok(None) when the peer closed before sending one.
pub fn read_head(r: &mut impl BufRead) -> Result<Option<Head>, HeadError> {
    let mut budget = MAX_HEAD;
    // Blank lines before a request are tolerated (RFC 9112 §2.2).
    let line = loop {
        match read_line(r, &mut budget)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let parts: Vec<&str> = line.split(' ').collect();
    let (method, url, version) = match parts.as_slice() {
        [m, u, v] => {
            let v = v.strip_prefix("HTTP/").ok_or(HeadError::Status(400))?;
            let (maj, min) = v.split_once('.').ok_or(HeadError::Status(400))?;
            let ver = (
                maj.parse().map_err(|_| HeadError::Status(400))?,
                min.parse().map_err(|_| HeadError::Status(400))?,
            );
            (*m, *u, ver)
        }
        [m, u] => (*m, *u, (1, 0)),
        _ => return Err(HeadError::Status(400)),
    };
    if method.is_empty() || !url.starts_with('/') {
        return Err(HeadError::Status(400));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let Some(l) = read_line(r, &mut budget)? else {
            return Err(HeadError::Status(400));
        };
        if l.is_empty() {
            break;
        }
        if l.starts_with([' ', '\t']) {
            // An obsolete folded continuation line.
            match headers.last_mut() {
                Some(h) => {
                    h.1.push(' ');
                    h.1.push_str(l.trim());
                    continue;
                }
                None => return Err(HeadError::Status(400)),
            }
        }
        let (k, v) = l.split_once(':').ok_or(HeadError::Status(400))?;
        if headers.len() >= MAX_HEADERS {
            return Err(HeadError::Status(431));
        }
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(Some(Head {
        method: method.to_string(),
        url: url.to_string(),
        version,
        headers,
    }))
}

/// `%XX` escapes of a request path or query decoded; a `%` not followed by two hex digits
/// stays as written, and bytes that are not UTF-8 become U+FFFD.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Write};
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    fn parse(s: &[u8]) -> Result<Option<Head>, u16> {
        read_head(&mut BufReader::new(s)).map_err(|e| match e {
            HeadError::Gone => 0,
            HeadError::Timeout => 408,
            HeadError::Status(s) => s,
        })
    }

    #[test]
    fn heads() {
        let h = parse(
            b"\r\nPOST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length:  12 \r\nX: a\r\n  b\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (h.method.as_str(), h.url.as_str(), h.version),
            ("POST", "/RPC2", (1, 1))
        );
        assert_eq!(h.header("content-length"), Some("12"));
        assert_eq!(h.header("X"), Some("a b"));
        assert!(h.keep_alive());
        let h = parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!h.keep_alive());
        assert_eq!(parse(b"").unwrap().map(|h| h.method), None);
    }

    #[test]
    fn bad_heads() {
        assert_eq!(parse(b"BLAH\r\n\r\n").err(), Some(400));
        assert_eq!(parse(b"GET nopath HTTP/1.1\r\n\r\n").err(), Some(400));
        assert_eq!(parse(b"GET / HTTP/1.1\r\nnocolon\r\n\r\n").err(), Some(400));
        assert_eq!(parse(b"GET / HTTP/1.1\r\nA: b").err(), Some(400));
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(parse(long.as_bytes()).err(), Some(431));
        let many = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "A: b\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(parse(many.as_bytes()).err(), Some(431));
    }

    fn length(method: &str, headers: &str) -> Result<usize, u16> {
        let text = format!("{method} /RPC2 HTTP/1.1\r\n{headers}\r\n");
        parse(text.as_bytes()).unwrap().unwrap().body_length()
    }

    #[test]
    fn body_framing_refuses_what_could_smuggle_a_request() {
        assert_eq!(length("POST", "Content-Length: 12\r\n"), Ok(12));
        assert_eq!(length("GET", ""), Ok(0));
        assert_eq!(length("POST", ""), Err(411));
        let te = "Transfer-Encoding: chunked\r\n";
        assert_eq!(length("POST", te), Err(501));
        assert_eq!(
            length("POST", &format!("Content-Length: 5\r\n{te}")),
            Err(400)
        );
        assert_eq!(
            length("POST", &format!("{te}Content-Length: 5\r\n")),
            Err(400)
        );
        assert_eq!(length("GET", "transfer-encoding: identity\r\n"), Err(501));
        assert_eq!(
            length("POST", "Content-Length: 5\r\nContent-Length: 5\r\n"),
            Ok(5)
        );
        for bad in ["5\r\nContent-Length: 6", "+5", "5, 5", "-1", "0x10", ""] {
            assert_eq!(
                length("POST", &format!("Content-Length: {bad}\r\n")),
                Err(400),
                "{bad}"
            );
        }
        let huge = format!("Content-Length: {}\r\n", MAX_BODY + 1);
        assert_eq!(length("POST", &huge), Err(413));
        assert_eq!(
            length("POST", "Content-Length: 99999999999999999999999\r\n"),
            Err(413)
        );
    }

    #[test]
    fn one_deadline_for_the_whole_head_however_it_trickles() {
        let (server, mut client) = UnixStream::pair().unwrap();
        let server = File::from(std::os::fd::OwnedFd::from(server));
        let start = Instant::now();
        let mut input = Input::new(&server, start + Duration::from_millis(300));
        let mark = input.mark();
        let writer = std::thread::spawn(move || {
            // One byte every 50 ms never lets a per-read timer of 300 ms expire.
            for b in b"GET / HTTP/1.1\r\nHost: x\r\n" {
                if client.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        assert!(matches!(read_head(&mut input), Err(HeadError::Timeout)));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_secs(1), "{took:?}");
        assert!(input.received_since(mark));
        drop(input);
        drop(server);
        writer.join().unwrap();
    }

    #[test]
    fn bytes_already_there_are_taken_after_the_deadline() {
        let (server, mut client) = UnixStream::pair().unwrap();
        let server = File::from(std::os::fd::OwnedFd::from(server));
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        let mut input = Input::new(&server, Instant::now());
        let h = read_head(&mut input).ok().flatten().unwrap();
        assert_eq!(h.url, "/");
        let mark = input.mark();
        assert!(!input.wait_request(Instant::now() + Duration::from_millis(20)));
        assert!(!input.received_since(mark));
    }

    #[test]
    fn percent() {
        assert_eq!(percent_decode("a%3Ab%20c"), "a:b c");
        assert_eq!(percent_decode("bad%zz%"), "bad%zz%");
        assert_eq!(percent_decode("t%C3%B6"), "tö");
    }
}
