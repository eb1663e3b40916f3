//! `/logtail/...` and `/mainlogtail`: stream a log file like `tail -f` from the request's own
//! thread. HTTP/1.1 gets chunked encoding flushed per chunk; HTTP/1.0 gets a plain stream ended
//! by closing (Supervisor buffers 64 KiB there, README R11). A rotated file (new inode) is
//! followed from its start; a truncated one gets a `==> File truncated <==` line. The replay
//! of the last kilobyte starts at a line start.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

const INITIAL: u64 = 1024;
const POLL: Duration = Duration::from_millis(100);

struct Sink {
    out: Box<dyn Write + Send>,
    chunked: bool,
}

impl Sink {
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        if self.chunked {
            write!(self.out, "{:x}\r\n", data.len())?;
            self.out.write_all(data)?;
            self.out.write_all(b"\r\n")?;
        } else {
            self.out.write_all(data)?;
        }
        self.out.flush()
    }
}

fn http_date(t: std::time::SystemTime) -> String {
    httpdate_fmt(t)
}

/// RFC 1123 date (`Thu, 26 Nov 2026 22:50:18 GMT`).
pub fn httpdate_fmt(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as _;
    // SAFETY: gmtime_r writes into the tm we pass.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::gmtime_r(&secs, &mut tm);
        tm
    };
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[tm.tm_wday.clamp(0, 6) as usize],
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// Streams `path` to `out` until the client goes away. `chunked` for HTTP/1.1 clients.
/// Waits up to `wait` and tells whether the client hung up meanwhile.
fn peer_gone(fd: std::os::fd::RawFd, wait: Duration) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: poll on one pollfd we own.
    let n = unsafe { libc::poll(&mut p, 1, wait.as_millis() as libc::c_int) };
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

pub fn follow(out: File, chunked: bool, path: &Path, accel_header: bool) {
    let Ok(mut file) = File::open(path) else {
        let mut out = out;
        let _ = out
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let meta = file.metadata().ok();
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
    let fd = std::os::fd::AsRawFd::as_raw_fd(&out);
    let mut sink = Sink {
        out: Box::new(out),
        chunked,
    };
    if sink.out.write_all(head.as_bytes()).is_err() {
        return;
    }
    let size = meta.as_ref().map_or(0, |m| m.len());
    let mut pos = replay_start(&mut file, size);
    let mut inode = meta.as_ref().map_or(0, |m| m.ino());
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if file.seek(SeekFrom::Start(pos)).is_err() {
            return;
        }
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    pos += n as u64;
                    if sink.send(&buf[..n]).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
        if peer_gone(fd, POLL) {
            return;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.ino() != inode => {
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
                    return;
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

    #[test]
    fn rfc1123() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_424_618);
        assert_eq!(super::httpdate_fmt(t), "Fri, 04 Dec 2026 22:50:18 GMT");
    }
}
