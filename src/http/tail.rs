//! `/logtail/...` and `/mainlogtail`: stream a log file like `tail -f` from the request's own
//! thread. HTTP/1.1 gets chunked encoding flushed per chunk; HTTP/1.0 gets a plain stream ended
//! by closing (Supervisor buffers 64 KiB there, README R11). A rotated file (new inode) is
//! followed from its start; a truncated one gets a `==> File truncated <==` line. The replay
//! of the last kilobyte starts at a line start. A log that is not a regular file
//! (`/dev/stdout` on a pipe or terminal) is never read: its stream stays open and idle, as
//! Supervisor's does. A stream that ends for any reason but the client leaving ends with its
//! last chunk.

use super::response::{httpdate_fmt, set_send_timeout};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

const INITIAL: u64 = 1024;
const POLL: Duration = Duration::from_millis(100);

/// A reply written by `follow` may stall this long per write (a terminal paused with
/// Ctrl-S keeps its stream that long).
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

struct Sink<'a> {
    out: &'a File,
    chunked: bool,
}

impl Sink<'_> {
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let mut out = self.out;
        if self.chunked {
            write!(out, "{:x}\r\n", data.len())?;
            out.write_all(data)?;
            out.write_all(b"\r\n")
        } else {
            out.write_all(data)
        }
    }

    /// Ends the stream properly (the last chunk), so a client can tell an end from a
    /// connection that broke.
    fn finish(&mut self) {
        if self.chunked {
            let mut out = self.out;
            let _ = out.write_all(b"0\r\n\r\n");
        }
    }
}

fn http_date(t: std::time::SystemTime) -> String {
    httpdate_fmt(t)
}

/// Waits up to `wait` (None: for ever) and tells whether the client hung up meanwhile.
fn peer_gone(fd: RawFd, wait: Option<Duration>) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLRDHUP,
        revents: 0,
    };
    let ms = wait.map_or(-1, |w| w.as_millis().min(i32::MAX as u128) as libc::c_int);
    // SAFETY: poll on one pollfd we own.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    if n < 0 {
        // EINTR: not gone. Anything else would fail again at once: count it as gone.
        return io::Error::last_os_error().kind() != io::ErrorKind::Interrupted;
    }
    n > 0 && p.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0
}

/// Where the replay of the last `INITIAL` bytes starts: at the first line start inside them
/// (4.3 starts exactly `INITIAL` bytes before the end, usually mid-line), or exactly there
/// when they hold no line end.
fn replay_start(file: &mut File, size: u64) -> u64 {
    let pos = size.saturating_sub(INITIAL);
    if pos == 0 {
        return 0;
    }
    // The byte before the window too: a window that already starts a line is kept whole.
    let mut window = Vec::with_capacity(INITIAL as usize + 1);
    let read = file.seek(SeekFrom::Start(pos - 1)).and_then(|_| {
        Read::by_ref(file)
            .take(INITIAL + 1)
            .read_to_end(&mut window)
    });
    match read {
        Ok(_) => match window.iter().position(|&b| b == b'\n') {
            Some(i) if i + 1 < window.len() => pos + i as u64,
            _ => pos,
        },
        Err(_) => pos,
    }
}

/// Streams `path` to `out` until the client goes away. `chunked` for HTTP/1.1 clients.
///
/// Only a regular file is read. Behind `/dev/stdout` there may be a pipe, a terminal or a
/// socket: reading it would steal the bytes meant for the container's log or the keys meant
/// for the terminal, and opening a FIFO blocks. For those the stream stays open and idle
/// until the client leaves, as Supervisor's does; it never ends without its last chunk.
pub fn follow(out: &File, chunked: bool, path: &Path, accel_header: bool) {
    set_send_timeout(out.as_raw_fd(), WRITE_TIMEOUT);
    let meta = std::fs::metadata(path).ok();
    let file = match &meta {
        Some(m) if !m.is_file() => None,
        _ => match File::open(path) {
            Ok(f) => Some(f),
            Err(_) => {
                let mut out = out;
                let _ = out.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                return;
            }
        },
    };
    let mut head = String::from("HTTP/1.1 200 OK\r\nServer: Medusa/1.12\r\n");
    if let Some(m) = meta.as_ref().and_then(|m| m.modified().ok()) {
        head.push_str(&format!("Last-Modified: {}\r\n", http_date(m)));
    }
    head.push_str("Content-Type: text/plain;charset=utf-8\r\n");
    if accel_header {
        head.push_str("X-Accel-Buffering: no\r\n");
    }
    head.push_str(if chunked {
        "Transfer-Encoding: chunked\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    if { out }.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut sink = Sink { out, chunked };
    let fd = out.as_raw_fd();
    match file {
        Some(file) => {
            let size = meta.as_ref().map_or(0, |m| m.len());
            let inode = meta.as_ref().map_or(0, |m| m.ino());
            if let Ended::Failed = stream(&mut sink, file, path, size, inode) {
                sink.finish();
            }
        }
        None => while !peer_gone(fd, None) {},
    }
}

enum Ended {
    /// The client left (or cannot be written to): nothing more to send.
    Gone,
    /// Reading the log failed: the stream is ended properly.
    Failed,
}

/// The last `INITIAL` bytes of `file`, then what is appended, following rotation and
/// truncation, until the client leaves or the file cannot be read.
fn stream(sink: &mut Sink, mut file: File, path: &Path, size: u64, mut inode: u64) -> Ended {
    let fd = sink.out.as_raw_fd();
    let mut pos = replay_start(&mut file, size);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if file.seek(SeekFrom::Start(pos)).is_err() {
            return Ended::Failed;
        }
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    pos += n as u64;
                    if sink.send(&buf[..n]).is_err() {
                        return Ended::Gone;
                    }
                }
                Err(_) => return Ended::Failed,
            }
        }
        if peer_gone(fd, Some(POLL)) {
            return Ended::Gone;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.ino() != inode && m.is_file() => {
                // Rotated: follow the new file from its beginning.
                match File::open(path) {
                    Ok(f) => {
                        file = f;
                        inode = m.ino();
                        pos = 0;
                    }
                    Err(_) => continue,
                }
            }
            Ok(m) if m.len() < pos => {
                if sink.send(b"==> File truncated <==\n").is_err() {
                    return Ended::Gone;
                }
                pos = 0;
            }
            Ok(_) => {}
            // Deleted: keep the connection, a new file may appear.
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::replay_start;
    use std::io::Write;

    #[test]
    fn the_replay_starts_at_a_line_start() {
        let dir = crate::testutil::TempDir::new("replay");
        let at = |text: &[u8]| {
            let path = dir.path().join("log");
            std::fs::File::create(&path)
                .unwrap()
                .write_all(text)
                .unwrap();
            let mut f = std::fs::File::open(&path).unwrap();
            replay_start(&mut f, text.len() as u64)
        };
        let line = |n: usize| [vec![b'x'; n - 1], vec![b'\n']].concat();
        // Short logs are replayed whole.
        assert_eq!(at(b"a\nb\n"), 0);
        // 600 + 600 bytes: the window starts inside the first line; the second one is whole.
        assert_eq!(at(&[line(600), line(600)].concat()), 600);
        // The window happens to start a line: nothing is dropped.
        assert_eq!(at(&[line(176), line(1024)].concat()), 176);
        // One line longer than the window: shown from mid-line rather than not at all.
        assert_eq!(at(&[line(10), line(2000)].concat()), 2010 - 1024);
        // The window's only line end is its last byte: keep the partial line too.
        assert_eq!(at(&line(3000)), 3000 - 1024);
    }
}
