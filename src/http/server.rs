//! The HTTP servers: an accept thread per listener, each with its own table of at most
//! `MAX_PER_LISTENER` (128) connections (`slots`: the one that has waited longest for its next
//! request is closed for a newcomer, 503 only when all are busy), and a thread per connection
//! that reads a bounded request under deadlines (`request`, `limits`: head ≤ 64 KiB within
//! 5 s, body ≤ 4 MiB within 5 s + its size at 64 KiB/s, 10 s idle between kept-alive
//! requests), checks auth, hands the request to the main loop (channel + poller wake-up) and
//! writes the reply when it comes back (`response`). Large bodies, of requests being read and
//! of replies not yet written, are counted against process-wide budgets (`held`). A refused
//! request is answered and read away before the close (`linger`). A slow or stuck client only
//! ever holds its own thread, for a bounded time: the loop never blocks on a socket.
//! (tiny_http, the first choice, has no limit on header size or time.)

use super::auth;
use super::held::{self, ReplyTo};
use super::limits::{self, Timeouts, MAX_PER_LISTENER};
use super::linger;
use super::request::{read_head, HeadError, Input};
pub use super::response::{error_page, reason, reply_buffer, Reply};
use super::response::{recycle, set_send_timeout, write_error, write_response};
use super::slots::{Slot, Table};
use super::tail;
use crate::config::Auth;
use crate::sys::poller::Poller;
use crate::sys::quota::Quota;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A request as the main loop sees it.
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub host: Option<String>,
    /// Every request header as received (name, value); the web UI reads Origin, Referer and
    /// Content-Type from here.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// It came to an inet server bound to a loopback address: only a loopback Host is
    /// accepted (`api::routes`, against DNS rebinding).
    pub loopback_only: bool,
    pub reply: ReplyTo,
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

/// Connections whose request went to the loop and whose reply is not written yet (at most
/// one per connection): the daemon waits for them before it exits (`wait_answers`). A
/// counter more than a limit: the tables bound it.
static ANSWERING: Quota = Quota::new(1 << 20);

/// Waits, at most `limit`, until every request the loop took has had its reply written.
/// Connection threads are detached, so without this a `shutdown` caller could see the
/// connection close without its answer when the daemon exits right after replying.
pub fn wait_answers(limit: Duration) {
    let end = Instant::now() + limit;
    while ANSWERING.used() > 0 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A bound listening socket, before it is served.
pub enum Listener {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener, PathBuf),
}

/// The running servers; dropping them stops the accept threads and removes the unix socket
/// files. Connection threads end on their own (deadlines, or the channel closing).
pub struct HttpServers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    fds: Vec<OwnedFd>,
    socket_files: Vec<PathBuf>,
}

/// What every connection of one listener shares.
struct Server {
    auth: Option<Auth>,
    tx: Sender<HttpRequest>,
    poller: Arc<Poller>,
    table: Arc<Table>,
    loopback_only: bool,
    timeouts: Timeouts,
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

    /// Starts serving `listeners`, sending requests to `tx` and waking `poller`. Fails on a
    /// bad `SUPERVISORD_HTTP_TIMEOUTS`.
    pub fn start(
        listeners: Vec<(Listener, Option<Auth>)>,
        tx: Sender<HttpRequest>,
        poller: Arc<Poller>,
    ) -> io::Result<HttpServers> {
        let timeouts = match limits::timeouts() {
            Ok(t) => t,
            Err(e) => {
                // Bound already: leave no socket file behind.
                for (l, _) in &listeners {
                    if let Listener::Unix(_, path) = l {
                        let _ = std::fs::remove_file(path);
                    }
                }
                return Err(io::Error::other(e));
            }
        };
        let mut out = HttpServers::none();
        for (listener, auth) in listeners {
            let (fd, loopback_only): (OwnedFd, bool) = match listener {
                Listener::Tcp(l) => {
                    let lo = l.local_addr().is_ok_and(|a| a.ip().is_loopback());
                    (l.into(), lo)
                }
                Listener::Unix(l, path) => {
                    out.socket_files.push(path);
                    (l.into(), false)
                }
            };
            out.fds.push(fd.try_clone()?);
            let server = Arc::new(Server {
                auth,
                tx: tx.clone(),
                poller: Arc::clone(&poller),
                table: Table::new(MAX_PER_LISTENER),
                loopback_only,
                timeouts,
            });
            let stop = Arc::clone(&out.stop);
            out.threads
                .push(std::thread::spawn(move || accept_loop(fd, &stop, server)));
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

fn accept_loop(listener: OwnedFd, stop: &AtomicBool, server: Arc<Server>) {
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
        let accepted = Instant::now();
        match server.table.admit(conn, accepted) {
            Ok(slot) => {
                let server = Arc::clone(&server);
                // A failed spawn drops the slot, which closes the connection.
                let _ = std::thread::Builder::new()
                    .stack_size(128 * 1024)
                    .spawn(move || serve(slot, accepted, &server));
            }
            // Every connection is busy with a request: 503 at once, without ever blocking
            // the accept thread (a few hundred bytes into a fresh socket's empty buffer).
            Err(conn) => {
                write_error(&conn, 503, &[], &server.timeouts);
                linger::close(conn);
            }
        }
    }
}

/// Answers `status` and closes, reading away what the client still sends.
fn refuse(slot: &Slot, status: u16, extra: &[(&'static str, String)], t: &Timeouts) {
    write_error(slot.file(), status, extra, t);
    // A second descriptor for the lingering thread; the slot closes its own when dropped.
    if let Ok(dup) = slot.file().try_clone() {
        linger::close(dup);
    }
}

/// Serves `conn` as a listener without auth serves an accepted connection, with the default
/// deadlines: the fuzzer's way in (`crate::fuzz::http`), so it runs exactly this code.
pub(crate) fn serve_connection(conn: File, tx: Sender<HttpRequest>, poller: Arc<Poller>) {
    let server = Server {
        auth: None,
        tx,
        poller,
        table: Table::new(1),
        loopback_only: false,
        timeouts: Timeouts::DEFAULT,
    };
    let now = Instant::now();
    if let Ok(slot) = server.table.admit(conn, now) {
        serve(slot, now, &server);
    }
}

/// Serves one connection until it closes, errs, misses a deadline, is evicted or asks to
/// close.
fn serve(slot: Slot, accepted: Instant, server: &Server) {
    let t = &server.timeouts;
    let out = slot.file();
    // A fresh connection has `request` from its accept for its whole first head.
    let mut input = Input::new(out, accepted + t.request);
    loop {
        let mark = input.mark();
        let head = match read_head(&mut input) {
            Ok(Some(h)) => h,
            Ok(None) | Err(HeadError::Gone) => return,
            // Silence gets a silent close; a started request is told it was too slow.
            Err(HeadError::Timeout) if !input.received_since(mark) => return,
            Err(HeadError::Timeout) => return refuse(&slot, 408, &[], t),
            Err(HeadError::Status(s)) => return refuse(&slot, s, &[], t),
        };
        if !slot.busy() {
            // Evicted while its head came in: its socket is shut down, nothing runs.
            return;
        }
        if !auth::check(server.auth.as_ref(), head.header("Authorization")) {
            let challenge = [("WWW-Authenticate", "Basic realm=\"default\"".to_string())];
            return refuse(&slot, 401, &challenge, t);
        }
        let length = match head.body_length() {
            Ok(n) => n,
            Err(s) => return refuse(&slot, s, &[], t),
        };
        let keep_alive = head.keep_alive();
        // Counted from before it is allocated until the request is answered; refused before
        // a `100 Continue` could invite it.
        let Some(body_grant) = held::body(length) else {
            return refuse(&slot, 503, &[("Retry-After", "1".to_string())], t);
        };
        if head
            .header("Expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
        {
            set_send_timeout(out.as_raw_fd(), t.request);
            if (&*out).write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err() {
                return;
            }
        }
        input.set_deadline(t.transfer_deadline(Instant::now(), length));
        let mut body = vec![0; length];
        match input.read_exact(&mut body) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return refuse(&slot, 408, &[], t),
            Err(_) => return,
        }
        let (rtx, rrx) = ReplyTo::channel();
        // Taken before the loop can see the request, given back once the reply is written.
        let answering = ANSWERING.take();
        let req = HttpRequest {
            host: head.header("Host").map(String::from),
            method: head.method,
            url: head.url,
            headers: head.headers,
            body,
            loopback_only: server.loopback_only,
            reply: rtx,
        };
        if server.tx.send(req).is_err() {
            return write_error(out, 503, &[], t);
        }
        let _ = server.poller.notify();
        let answer = match rrx.recv() {
            Ok(a) => a,
            // The loop dropped the request (shutting down).
            Err(_) => return write_error(out, 503, &[], t),
        };
        drop(body_grant);
        // `answer` keeps the reply's share of the budget until it is written or dropped.
        match &answer.reply {
            Reply::Response {
                status,
                content_type,
                headers,
                body,
            } => {
                let written =
                    write_response(out, *status, content_type, headers, body, keep_alive, t);
                if let Reply::Response { body, .. } = answer.into_reply() {
                    recycle(body);
                }
                drop(answering);
                if written.is_err() {
                    return;
                }
            }
            Reply::Follow { path, accel_header } => {
                drop(answering);
                let chunked = head.version >= (1, 1);
                return tail::follow(out, chunked, path, *accel_header);
            }
        }
        if !keep_alive {
            return;
        }
        let now = Instant::now();
        if !slot.waiting(now) || !input.wait_request(now + t.idle) {
            return;
        }
        // Between kept-alive requests the head's deadline runs from its first byte.
        input.set_deadline(Instant::now() + t.request);
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
        let t = Instant::now();
        wait_answers(Duration::from_secs(5));
        assert!(t.elapsed() >= Duration::from_millis(50));
        writer.join().unwrap();
        let stuck = ANSWERING.take().unwrap();
        let t = Instant::now();
        wait_answers(Duration::from_millis(30));
        assert!(t.elapsed() >= Duration::from_millis(30));
        drop(stuck);
    }
}
