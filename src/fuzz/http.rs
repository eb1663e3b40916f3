//! The `http_request` target: one client connection's bytes served by the real connection
//! code (`server::serve`) over a socket pair, and what comes back checked.
//!
//! Threads are kept between inputs (one serving, one playing the main loop): under the address
//! sanitizer, spawning them per input cost more than everything else together.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::http::server::{self, HttpRequest, Reply};
use crate::sys::poller::Poller;

/// The shortest request: `A /\n\n`.
const MIN_REQUEST: usize = 5;

/// No progress on the connection for this long is a hang (libFuzzer's own -timeout aside, the
/// seed replay under `cargo test` has no other).
const STALL: Duration = Duration::from_secs(10);

/// What the loop saw: each request's body length, or the first broken invariant.
type Seen = Result<Vec<usize>, String>;

struct Workers {
    serve: Sender<(File, Sender<HttpRequest>, Sender<()>)>,
    answer: Sender<(Receiver<HttpRequest>, Sender<Seen>)>,
}

static WORKERS: Mutex<Option<Workers>> = Mutex::new(None);

fn start_workers() -> Workers {
    static POLLER: OnceLock<Arc<Poller>> = OnceLock::new();
    let (serve, jobs) = mpsc::channel::<(File, Sender<HttpRequest>, Sender<()>)>();
    std::thread::spawn(move || {
        let poller = POLLER.get_or_init(|| Arc::new(Poller::new().expect("epoll and eventfd")));
        for (conn, tx, done) in jobs {
            // `tx` goes with the connection's server, dropped when it is served.
            server::serve_connection(conn, tx, Arc::clone(poller));
            let _ = done.send(());
        }
    });
    let (answer, jobs) = mpsc::channel::<(Receiver<HttpRequest>, Sender<Seen>)>();
    std::thread::spawn(move || {
        for (rx, done) in jobs {
            let _ = done.send(answer_all(rx));
        }
    });
    Workers { serve, answer }
}

/// The bytes a client sends on one connection, served without auth, every request answered by
/// the "loop" with `req <i> <body length>`. What comes back must be a well-formed sequence of
/// responses: one 200 per request handed over, in order, then at most one error status; and
/// the requests handed over cannot add up to more than was sent.
pub fn http_request(data: &[u8]) {
    let mut slot = WORKERS.lock().unwrap_or_else(|e| e.into_inner());
    // Taken out while in use: a panic below drops them, and the next input starts fresh ones
    // rather than talking to a thread that died or hangs.
    let workers = slot.take().unwrap_or_else(start_workers);
    let (client, conn) = socket_pair();
    let (tx, rx) = mpsc::channel();
    let (served_tx, served) = mpsc::channel();
    let (seen_tx, seen) = mpsc::channel();
    let started = workers.answer.send((rx, seen_tx)).is_ok()
        && workers.serve.send((conn, tx, served_tx)).is_ok();
    assert!(started, "the worker threads are gone");
    let output = converse(&client, data);
    served
        .recv_timeout(STALL)
        .expect("serve() returns once the connection is closed");
    let seen = seen
        .recv_timeout(STALL)
        .expect("the loop's answers")
        .unwrap_or_else(|why| panic!("{why}"));
    let requested: usize = seen.iter().map(|&len| len + MIN_REQUEST).sum();
    assert!(requested <= data.len(), "more requests than were sent");
    check_responses(&output, &seen);
    *slot = Some(workers);
}

/// The main loop's side: checks and answers each request handed over; their body lengths.
/// Keeps answering after a broken invariant, so that `serve` is never left waiting.
fn answer_all(rx: Receiver<HttpRequest>) -> Seen {
    let mut seen = Vec::new();
    let mut broken = None;
    for req in rx {
        if let Err(why) = check_request(&req) {
            broken.get_or_insert(why);
        }
        let body = format!("req {} {}", seen.len(), req.body.len());
        seen.push(req.body.len());
        // The connection may have gone: nothing to answer then.
        req.reply.send(Reply::ok("text/plain", body));
    }
    broken.map_or(Ok(seen), Err)
}

fn check_request(req: &HttpRequest) -> Result<(), String> {
    let bad = |what: &str| Err(format!("{what}: {} {:?}", req.method, req.url));
    if req.method.is_empty() || req.method.contains(' ') {
        return bad("method");
    }
    if !req.url.starts_with('/') || req.url.contains(' ') {
        return bad("url");
    }
    if req.body.len() > crate::http::limits::MAX_BODY {
        return bad("body over MAX_BODY");
    }
    let header = |name: &str| {
        let mut all = req
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name));
        all.next().map(|(_, v)| v.trim())
    };
    if let (Some(length), None) = (header("Content-Length"), header("Transfer-Encoding")) {
        if length.parse::<usize>().ok() != Some(req.body.len()) {
            return bad(&format!(
                "body of {} for Content-Length {length}",
                req.body.len()
            ));
        }
    }
    Ok(())
}

/// Parses what the server wrote: interim 100s, a 200 per request with the loop's body, and at
/// most one error response, last.
fn check_responses(output: &[u8], seen: &[usize]) {
    let mut rest = output;
    let mut answered = 0;
    let mut closed_by_error = false;
    while !rest.is_empty() {
        assert!(!closed_by_error, "a response after an error: {output:?}");
        let end = find(rest, b"\r\n\r\n").expect("a whole response head");
        let head = std::str::from_utf8(&rest[..end]).expect("an ASCII head");
        rest = &rest[end + 4..];
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.strip_prefix("HTTP/1.1 "))
            .and_then(|l| l.get(..3))
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        if status == 100 {
            continue;
        }
        let length: usize = lines
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .and_then(|v| v.parse().ok())
            .expect("a Content-Length");
        assert!(length <= rest.len(), "a whole body");
        let (body, after) = rest.split_at(length);
        rest = after;
        if status == 200 {
            let len = seen.get(answered).expect("a 200 for a request handed over");
            assert_eq!(body, format!("req {answered} {len}").as_bytes());
            answered += 1;
        } else {
            assert!((400..600).contains(&status), "status {status}");
            closed_by_error = true;
        }
    }
    assert_eq!(
        answered,
        seen.len(),
        "every request handed over was answered"
    );
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn socket_pair() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: fds is a writable array of two descriptors.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    assert_eq!(rc, 0, "socketpair: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned by nothing else.
    unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
}

/// The client: sends `data` (then half-closes) while reading everything the server writes
/// until it closes, in one thread with poll(2). MSG_NOSIGNAL: under libFuzzer no Rust `main`
/// has ignored SIGPIPE, and the server may close before reading everything.
fn converse(client: &File, mut data: &[u8]) -> Vec<u8> {
    let fd = client.as_raw_fd();
    let mut sending = true;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if sending && data.is_empty() {
            // SAFETY: plain call on a descriptor `client` owns.
            unsafe { libc::shutdown(fd, libc::SHUT_WR) };
            sending = false;
        }
        let events = libc::POLLIN | if sending { libc::POLLOUT } else { 0 };
        let mut pfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // SAFETY: pfd is one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, STALL.as_millis() as libc::c_int) };
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        assert!(n > 0, "the server neither read nor wrote for {STALL:?}");
        if sending && pfd.revents & (libc::POLLOUT | libc::POLLERR | libc::POLLHUP) != 0 {
            let flags = libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT;
            // SAFETY: data is a live slice that send only reads.
            let n = unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), flags) };
            match n {
                n if n > 0 => data = &data[n as usize..],
                _ if matches!(errno(), libc::EAGAIN | libc::EINTR) => {}
                // EPIPE/ECONNRESET: the server has closed; what it wrote is still to read.
                _ => sending = false,
            }
        }
        if pfd.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0 {
            // SAFETY: buf is a writable local array.
            let n =
                unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
            match n {
                0 => return out,
                n if n > 0 => out.extend_from_slice(&buf[..n as usize]),
                _ => match errno() {
                    libc::EAGAIN | libc::EINTR => {}
                    // A close with unread input: everything written was read already.
                    libc::ECONNRESET => return out,
                    e => panic!("reading the responses: errno {e}"),
                },
            }
        }
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}
