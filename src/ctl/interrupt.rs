//! Ctrl-C while supervisorctl waits. Once enabled, SIGINT only writes a byte to a self-pipe
//! (signal-hook), and every blocking wait (a socket, stdin) polls that pipe too, so `tail -f`,
//! `fg`, `debug` and slow calls in the shell end cleanly instead of killing the process. A
//! pending interrupt stays pending (every wait reports it) until [`clear`] drains it.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static PIPE: OnceLock<UnixStream> = OnceLock::new();

/// Routes SIGINT to the self-pipe (idempotent). Until this is called SIGINT keeps its default
/// action, so one-shot commands that never wait interruptibly die on Ctrl-C as usual.
pub fn enable() -> io::Result<()> {
    if PIPE.get().is_some() {
        return Ok(());
    }
    let (read, write) = UnixStream::pair()?;
    read.set_nonblocking(true)?;
    write.set_nonblocking(true)?;
    signal_hook::low_level::pipe::register(libc::SIGINT, write)?;
    // A concurrent enable() cannot happen (one main thread), so losing this race is impossible.
    let _ = PIPE.set(read);
    Ok(())
}

/// True if SIGINT arrived since the last [`clear`].
pub fn pending() -> bool {
    match PIPE.get() {
        Some(p) => poll(&[p.as_raw_fd()], Some(Duration::ZERO)).is_ok_and(|r| r[0]),
        None => false,
    }
}

/// Forgets interrupts that arrived so far.
pub fn clear() {
    if let Some(mut p) = PIPE.get() {
        let mut buf = [0u8; 64];
        // WouldBlock ends the drain; the pipe is never closed.
        while matches!(p.read(&mut buf), Ok(n) if n > 0) {}
    }
}

/// What a wait ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Ready,
    Interrupted,
    TimedOut,
}

/// Waits until `fd` is readable (or hung up), SIGINT arrives, or `timeout` passes.
pub fn wait_readable(fd: RawFd, timeout: Option<Duration>) -> io::Result<Wait> {
    let mut fds = vec![fd];
    if let Some(p) = PIPE.get() {
        fds.push(p.as_raw_fd());
    }
    let ready = poll(&fds, timeout)?;
    if ready.get(1).copied().unwrap_or(false) {
        Ok(Wait::Interrupted)
    } else if ready[0] {
        Ok(Wait::Ready)
    } else {
        Ok(Wait::TimedOut)
    }
}

/// poll(2) for readability on every fd; retries on EINTR with the remaining time.
fn poll(fds: &[RawFd], timeout: Option<Duration>) -> io::Result<Vec<bool>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let mut pfds: Vec<libc::pollfd> = fds
            .iter()
            .map(|&fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // Rounded up, so a short positive timeout does not become a busy 0 ms poll.
        let ms = deadline.map_or(-1, |d| {
            let left = d.saturating_duration_since(Instant::now());
            left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32
        });
        // SAFETY: `pfds` is a valid, exclusively borrowed array of `pfds.len()` pollfd structs.
        let n = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(pfds
            .iter()
            .map(|p| p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0)
            .collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn readiness_and_timeout() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let fd = b.as_raw_fd();
        assert_eq!(
            wait_readable(fd, Some(Duration::from_millis(10))).unwrap(),
            Wait::TimedOut
        );
        a.write_all(b"x").unwrap();
        assert_eq!(wait_readable(fd, None).unwrap(), Wait::Ready);
    }
}
