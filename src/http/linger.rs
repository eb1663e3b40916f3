//! Closing a refused connection without losing its answer. A server that closes a socket
//! with unread bytes in it makes the kernel reset the connection: a client still sending its
//! body gets EPIPE, or a reset that discards the 401/413/503 before it reads it. So the answer
//! is written, the write side shut (the client sees the answer end), and one thread for all
//! servers reads away what the client still sends, up to `LINGER_BYTES` and the `linger`
//! deadline, closing when the client does. At most `LINGER_MAX` at once: past that a
//! connection is closed right after its answer.

use super::limits::{self, LINGER_BYTES, LINGER_MAX};
use crate::sys::quota::{Permit, Quota};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

static LINGERING: Quota = Quota::new(LINGER_MAX);

struct Lingering {
    fd: OwnedFd,
    until: Instant,
    left: usize,
    _permit: Permit,
}

/// The lingering thread's inbox and the pipe that wakes it from poll.
struct Inbox {
    tx: Mutex<Sender<Lingering>>,
    wake: File,
}

/// Shuts the write side of `conn` (its answer already written) and has what the client
/// still sends read away before the socket is closed.
pub fn close(conn: File) {
    // SAFETY: shutdown on the descriptor `conn` owns. ENOTCONN (the peer is gone) is fine.
    unsafe { libc::shutdown(conn.as_raw_fd(), libc::SHUT_WR) };
    let Some(permit) = LINGERING.take() else {
        return;
    };
    let Some(inbox) = inbox() else {
        return;
    };
    let item = Lingering {
        fd: conn.into(),
        until: Instant::now() + limits::current().linger,
        left: LINGER_BYTES,
        _permit: permit,
    };
    let sent = inbox.tx.lock().map(|tx| tx.send(item).is_ok());
    if sent.unwrap_or(false) {
        // A full pipe already holds a wake-up: EAGAIN is fine.
        let _ = (&inbox.wake).write(&[1]);
    }
}

/// The inbox, starting the thread on first use; None if it cannot be started (then refused
/// connections are just closed).
fn inbox() -> Option<&'static Inbox> {
    static INBOX: OnceLock<Option<Inbox>> = OnceLock::new();
    INBOX
        .get_or_init(|| {
            let mut fds = [0; 2];
            // SAFETY: pipe2 fills the two descriptors, which we own from here.
            if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
                return None;
            }
            // SAFETY: fresh descriptors from pipe2.
            let (r, w) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
            let (tx, rx) = mpsc::channel();
            std::thread::Builder::new()
                .name("http-linger".into())
                .stack_size(64 * 1024)
                .spawn(move || run(&rx, &r))
                .ok()?;
            Some(Inbox {
                tx: Mutex::new(tx),
                wake: w,
            })
        })
        .as_ref()
}

fn run(rx: &Receiver<Lingering>, wake: &File) {
    let mut active: Vec<Lingering> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        active.extend(rx.try_iter());
        let now = Instant::now();
        active.retain(|l| l.until > now);
        // Nothing to read away: sleep until the next arrival (no timer while idle).
        let timeout = active
            .iter()
            .map(|l| l.until.saturating_duration_since(now).as_millis() + 1)
            .min()
            .map_or(-1, |ms| ms.min(i32::MAX as u128) as libc::c_int);
        let mut fds: Vec<libc::pollfd> = std::iter::once(wake.as_raw_fd())
            .chain(active.iter().map(|l| l.fd.as_raw_fd()))
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: poll on pollfds we built over descriptors we own.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if n <= 0 {
            continue;
        }
        if fds[0].revents != 0 {
            while read_some(wake, &mut buf) {}
        }
        let ready: Vec<bool> = fds[1..].iter().map(|p| p.revents != 0).collect();
        let mut i = 0;
        active.retain_mut(|l| {
            let keep = !ready[i] || drain(l, &mut buf);
            i += 1;
            keep
        });
    }
}

/// Reads what is there; false when the client is done (EOF, error) or has sent too much.
fn drain(l: &mut Lingering, buf: &mut [u8]) -> bool {
    loop {
        let want = buf.len().min(l.left);
        // SAFETY: recv into our buffer, at most its length.
        let n = unsafe {
            libc::recv(
                l.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                want,
                libc::MSG_DONTWAIT,
            )
        };
        if n > 0 {
            l.left -= n as usize;
            if l.left == 0 {
                return false;
            }
            continue;
        }
        // EAGAIN: all read for now. EOF or any other error: the client is done.
        return n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock;
    }
}

/// One read of the (non-blocking) wake-up pipe; false once it is empty.
fn read_some(mut pipe: &File, buf: &mut [u8]) -> bool {
    use std::io::Read;
    matches!(pipe.read(buf), Ok(n) if n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    #[test]
    fn a_refused_client_can_send_its_whole_body_then_read_the_answer() {
        let (server, mut client) = UnixStream::pair().unwrap();
        let mut server = File::from(OwnedFd::from(server));
        server
            .write_all(b"HTTP/1.1 401 Unauthorized\r\n\r\n")
            .unwrap();
        close(server);
        // 1 MiB after the answer: more than the socket buffers hold, so the writes only
        // finish if someone keeps reading the other end.
        client
            .set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        client.write_all(&vec![b'x'; 1 << 20]).unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).unwrap();
        assert_eq!(answer, "HTTP/1.1 401 Unauthorized\r\n\r\n");
    }
}
