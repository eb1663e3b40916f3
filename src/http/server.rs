//! The HTTP servers: an accept thread per listener and a thread per connection (at most
//! `MAX_CONNECTIONS`) that reads a bounded request (head ≤ 64 KiB, body ≤ 4 MiB, idle and I/O
//! timeouts), checks auth, hands the request to the main loop (channel + poller wake-up) and
//! writes the reply when it comes back. A slow or stuck client only ever holds its own
//! thread: the loop never blocks on a socket. (tiny_http, the first choice, has no limit on
//! header size or time.)

use super::auth;
use super::tail;
use crate::config::Auth;
use crate::sys::poller::Poller;
use crate::sys::quota::Quota;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Largest request body accepted (XML-RPC calls are small; a multicall of thousands fits).
pub const MAX_BODY: usize = 4 * 1024 * 1024;
/// Largest request line + headers.
pub const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;
/// A kept-alive connection with no new request for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Reading a started request or writing a response may stall this long at most.
const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// The last large reply body, kept for the next large reply once written: a fresh buffer
/// of getAllProcessInfo(1000)'s 1.2 MB cost a quarter of that call in page faults and an
/// unmap. One buffer at most, of 64 KiB to 8 MiB, so an idle daemon keeps at most about
/// the size of its largest recent reply.
static SPARE_BODY: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());
const SPARE_MIN: usize = 64 * 1024;
const SPARE_MAX: usize = 8 << 20;

/// An empty buffer for a reply body of about `capacity` bytes, recycled when there is one.
pub fn reply_buffer(capacity: usize) -> Vec<u8> {
    let mut buf = SPARE_BODY
        .lock()
        .map(|mut spare| std::mem::take(&mut *spare))
        .unwrap_or_default();
    buf.clear();
    buf.reserve(capacity);
    buf
}

fn recycle(body: Vec<u8>) {
    if let Ok(mut spare) = SPARE_BODY.lock() {
        keep_larger(&mut spare, body);
    }
}

/// Keeps `body` as the spare if its size is worth keeping and it beats the current one.
fn keep_larger(spare: &mut Vec<u8>, body: Vec<u8>) {
    if (SPARE_MIN..=SPARE_MAX).contains(&body.capacity()) && spare.capacity() < body.capacity() {
        *spare = body;
    }
}

/// A request as the main loop sees it.
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub host: Option<String>,
    /// Every request header as received (name, value); the web UI reads Origin, Referer and
    /// Content-Type from here.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub reply: Sender<Reply>,
}

impl HttpRequest {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Connections served at once, over every listener. Each holds a thread and up to a 4 MiB
/// body; past this a new one is answered 503 at once, so clients that open connections
/// without end cannot grow the daemon without end (4000 idle ones were 4000 threads).
pub const MAX_CONNECTIONS: usize = 128;
static CONNECTIONS: Quota = Quota::new(MAX_CONNECTIONS);
/// Connections whose request went to the loop and whose reply is not written yet (at most
/// one per connection): the daemon waits for them before it exits (`wait_answers`).
static ANSWERING: Quota = Quota::new(MAX_CONNECTIONS);

/// Waits, at most `limit`, until every request the loop took has had its reply written.
/// Connection threads are detached, so without this a `shutdown` caller could see the
/// connection close without its answer when the daemon exits right after replying.
pub fn wait_answers(limit: Duration) {
    let end = std::time::Instant::now() + limit;
    while ANSWERING.used() > 0 && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// What the connection thread writes back.
pub enum Reply {
    Response {
        status: u16,
        content_type: &'static str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// Stream a log file like `tail -f`: its last 1024 bytes, then what is appended.
    Follow { path: PathBuf, accel_header: bool },
}

impl Reply {
    pub fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Response {
            status: 200,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Supervisor's (medusa's) HTML error page.
    pub fn error(status: u16) -> Reply {
        Reply::Response {
            status,
            content_type: "text/html",
            headers: Vec::new(),
            body: error_page(status).into_bytes(),
        }
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        301 => "Moved Permanently",
        303 => "See Other",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

pub fn error_page(status: u16) -> String {
    [
        "<head>",
        "<title>Error response</title>",
        "</head>",
        "<body>",
        "<h1>Error response</h1>",
        &format!("<p>Error code {status}."),
        &format!("<p>Message: {}.", reason(status)),
        "</body>",
        "",
    ]
    .join("\r\n")
}

/// A bound listening socket, before it is served.
pub enum Listener {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener, PathBuf),
}

/// The running servers; dropping them stops the accept threads and removes the unix socket
/// files. Connection threads end on their own (timeouts, or the channel closing).
pub struct HttpServers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    fds: Vec<OwnedFd>,
    socket_files: Vec<PathBuf>,
}

fn set_timeout(fd: RawFd, opt: libc::c_int, d: Duration) {
    let tv = libc::timeval {
        tv_sec: d.as_secs() as _,
        tv_usec: d.subsec_micros() as _,
    };
    // SAFETY: setsockopt reads the timeval we pass.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            opt,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
}

impl HttpServers {
    pub fn none() -> HttpServers {
        HttpServers {
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
            fds: Vec::new(),
            socket_files: Vec::new(),
        }
    }

    /// Starts serving `listeners`, sending requests to `tx` and waking `poller`.
    pub fn start(
        listeners: Vec<(Listener, Option<Auth>)>,
        tx: Sender<HttpRequest>,
        poller: Arc<Poller>,
    ) -> io::Result<HttpServers> {
        let mut out = HttpServers::none();
        for (listener, auth) in listeners {
            let fd: OwnedFd = match listener {
                Listener::Tcp(l) => l.into(),
                Listener::Unix(l, path) => {
                    out.socket_files.push(path);
                    l.into()
                }
            };
            let copy = fd.try_clone()?;
            out.fds.push(copy);
            let (stop, tx, poller) = (Arc::clone(&out.stop), tx.clone(), Arc::clone(&poller));
            let auth = auth.map(Arc::new);
            out.threads.push(std::thread::spawn(move || {
                accept_loop(fd, &stop, auth, tx, poller)
            }));
        }
        Ok(out)
    }
}

impl Drop for HttpServers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for fd in &self.fds {
            // SAFETY: shutdown on a listening socket wakes a thread blocked in accept().
            unsafe { libc::shutdown(fd.as_raw_fd(), libc::SHUT_RDWR) };
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        for f in &self.socket_files {
            let _ = std::fs::remove_file(f);
        }
    }
}

fn accept_loop(
    listener: OwnedFd,
    stop: &AtomicBool,
    auth: Option<Arc<Auth>>,
    tx: Sender<HttpRequest>,
    poller: Arc<Poller>,
) {
    loop {
        // SAFETY: accept4 on our listening socket; the new fd is owned below.
        let fd = unsafe {
            libc::accept4(
                listener.as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_CLOEXEC,
            )
        };
        if stop.load(Ordering::SeqCst) {
            if fd >= 0 {
                // SAFETY: closing the fd accept4 just gave us.
                unsafe { libc::close(fd) };
            }
            return;
        }
        if fd < 0 {
            // EMFILE and friends: back off instead of spinning.
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        // SAFETY: accept4 returned a fresh descriptor that nothing else owns.
        let conn = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        let Some(slot) = CONNECTIONS.take() else {
            refuse(conn);
            continue;
        };
        let (auth, tx, poller) = (auth.clone(), tx.clone(), Arc::clone(&poller));
        let _ = std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || {
                let _slot = slot;
                serve(conn, auth.as_deref(), &tx, &poller)
            });
    }
}

/// Answers 503 on a connection past `MAX_CONNECTIONS`, without ever blocking the accept
/// thread: a few hundred bytes into a fresh socket's empty buffer, then whatever the client
/// already sent is read away, so that closing does not reset the connection and lose the 503.
fn refuse(mut conn: File) {
    let fd = conn.as_raw_fd();
    error(&mut conn, 503);
    // SAFETY: plain calls on the descriptor `conn` owns; the buffer is a local array.
    unsafe {
        libc::shutdown(fd, libc::SHUT_WR);
        let mut buf = [0u8; 4096];
        for _ in 0..16 {
            let n = libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT);
            if n <= 0 {
                break;
            }
        }
    }
}

/// A parsed request head.
struct Head {
    method: String,
    url: String,
    /// (major, minor); HTTP/0.9-style requests count as 1.0.
    version: (u8, u8),
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn keep_alive(&self) -> bool {
        let conn = self.header("Connection").map(|c| c.to_ascii_lowercase());
        match self.version {
            (1, 1) => conn.as_deref() != Some("close"),
            _ => conn.as_deref() == Some("keep-alive"),
        }
    }
}

enum HeadError {
    /// The peer closed (or timed out) before sending anything: just close.
    Gone,
    Status(u16),
}

/// Reads one line (without CRLF) of at most `budget` bytes.
fn read_line(r: &mut impl BufRead, budget: &mut usize) -> Result<Option<String>, HeadError> {
    let mut line = Vec::new();
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
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

fn read_head(r: &mut impl BufRead) -> Result<Option<Head>, HeadError> {
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

fn write_response(
    out: &mut File,
    status: u16,
    content_type: &str,
    headers: &[(&'static str, String)],
    body: &[u8],
    keep_alive: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nServer: Medusa/1.12\r\nDate: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        reason(status),
        tail::httpdate_fmt(std::time::SystemTime::now()),
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !keep_alive && !headers.iter().any(|(k, _)| *k == "Connection") {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    // Head and body in one writev: one packet for small replies (no Nagle delay between head
    // and body), and no copy of a large body (getAllProcessInfo(1000) is 1.2 MB).
    write_all_2(out, head.as_bytes(), body)?;
    out.flush()
}

/// `write_all` of `a` then `b` with writev(2), resuming after partial writes.
fn write_all_2(out: &mut File, mut a: &[u8], mut b: &[u8]) -> io::Result<()> {
    while !a.is_empty() || !b.is_empty() {
        let iov = [
            libc::iovec {
                iov_base: a.as_ptr() as *mut libc::c_void,
                iov_len: a.len(),
            },
            libc::iovec {
                iov_base: b.as_ptr() as *mut libc::c_void,
                iov_len: b.len(),
            },
        ];
        // SAFETY: both iovecs describe live slices that writev only reads.
        let n = unsafe { libc::writev(out.as_raw_fd(), iov.as_ptr(), 2) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        let n = n as usize;
        if n < a.len() {
            a = &a[n..];
        } else {
            b = &b[n - a.len()..];
            a = &[];
        }
    }
    Ok(())
}

fn error(out: &mut File, status: u16) {
    let _ = write_response(
        out,
        status,
        "text/html",
        &[],
        error_page(status).as_bytes(),
        false,
    );
}

/// Serves one connection until it closes, errs, times out or asks to close.
pub(crate) fn serve(conn: File, auth: Option<&Auth>, tx: &Sender<HttpRequest>, poller: &Poller) {
    let fd = conn.as_raw_fd();
    set_timeout(fd, libc::SO_SNDTIMEO, IO_TIMEOUT);
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::with_capacity(16 * 1024, conn);
    loop {
        set_timeout(fd, libc::SO_RCVTIMEO, IDLE_TIMEOUT);
        let head = match read_head(&mut reader) {
            Ok(Some(h)) => h,
            Ok(None) | Err(HeadError::Gone) => return,
            Err(HeadError::Status(s)) => return error(&mut out, s),
        };
        set_timeout(fd, libc::SO_RCVTIMEO, IO_TIMEOUT);
        let keep_alive = head.keep_alive();
        if !auth::check(auth, head.header("Authorization")) {
            let headers = vec![
                ("WWW-Authenticate", "Basic realm=\"default\"".to_string()),
                ("Connection", "close".to_string()),
            ];
            let body = error_page(401);
            let _ = write_response(&mut out, 401, "text/html", &headers, body.as_bytes(), false);
            return;
        }
        let length = match head.header("Content-Length") {
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) => n,
                Err(_) => return error(&mut out, 400),
            },
            None if head.method == "POST" => return error(&mut out, 411),
            None => 0,
        };
        if length > MAX_BODY {
            return error(&mut out, 413);
        }
        if head
            .header("Expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
            && out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
        {
            return;
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (rtx, rrx) = mpsc::channel();
        // Taken before the loop can see the request, given back once the reply is written.
        let answering = ANSWERING.take();
        let req = HttpRequest {
            host: head.header("Host").map(String::from),
            method: head.method,
            url: head.url,
            headers: head.headers,
            body,
            reply: rtx,
        };
        if tx.send(req).is_err() {
            return error(&mut out, 503);
        }
        let _ = poller.notify();
        let reply = match rrx.recv() {
            Ok(r) => r,
            // The loop dropped the request (shutting down).
            Err(_) => return error(&mut out, 503),
        };
        match reply {
            Reply::Response {
                status,
                content_type,
                headers,
                body,
            } => {
                let written =
                    write_response(&mut out, status, content_type, &headers, &body, keep_alive);
                recycle(body);
                if written.is_err() {
                    return;
                }
            }
            Reply::Follow { path, accel_header } => {
                drop(answering);
                let chunked = head.version >= (1, 1);
                return tail::follow(out, chunked, &path, accel_header);
            }
        }
        if !keep_alive {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_answers_waits_for_a_reply_being_written_and_no_longer_than_its_limit() {
        let permit = ANSWERING.take().unwrap();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(permit);
        });
        let t = std::time::Instant::now();
        wait_answers(Duration::from_secs(5));
        assert!(t.elapsed() >= Duration::from_millis(50));
        writer.join().unwrap();
        let stuck = ANSWERING.take().unwrap();
        let t = std::time::Instant::now();
        wait_answers(Duration::from_millis(30));
        assert!(t.elapsed() >= Duration::from_millis(30));
        drop(stuck);
    }

    #[test]
    fn only_one_large_reply_buffer_is_kept() {
        let mut spare = Vec::new();
        keep_larger(&mut spare, Vec::with_capacity(1024));
        assert_eq!(spare.capacity(), 0, "small bodies are not worth keeping");
        keep_larger(&mut spare, Vec::with_capacity(SPARE_MAX + 1));
        assert_eq!(spare.capacity(), 0, "nor huge ones");
        keep_larger(&mut spare, Vec::with_capacity(200 * 1024));
        assert!(spare.capacity() >= 200 * 1024);
        keep_larger(&mut spare, Vec::with_capacity(100 * 1024));
        assert!(spare.capacity() >= 200 * 1024, "the larger one stays");
    }

    fn parse(s: &[u8]) -> Result<Option<Head>, u16> {
        read_head(&mut BufReader::new(s)).map_err(|e| match e {
            HeadError::Gone => 0,
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
}
