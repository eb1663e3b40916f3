//! Child output: reading a child's stdout/stderr pipe and delivering each chunk to its log
//! file, syslog and the main log. (Capture mode and PROCESS_LOG events hook in here.)

pub mod ansi;
pub mod capture;
pub mod prefix;

use crate::config::logline::LinePrefix;
use crate::config::LogLevel;
use crate::log::{syslog, MainLog, RotatingFile};
pub use crate::process::Stream;
use crate::pyrepr::repr;
use crate::sys::quota::{Permit, Quota};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Most bytes one splice moves: the size a busy pipe grows to.
const BIG_PIPE: usize = 1 << 20;

/// A read of at least this many bytes means the child writes as fast as it can: never rest
/// then (see `OutputChannel::take_rest`), the child would wait for us.
const REST_MIN: usize = 64 * 1024;

/// How long a chatty pipe is left alone so that its output is taken in larger pieces.
pub const REST: Duration = Duration::from_micros(200);

/// Pipes grown to `BIG_PIPE` at most at once. The kernel charges pipe buffers to the user
/// (`fs.pipe-user-pages-soft`, 64 MiB by default); past that limit an unprivileged user's new
/// pipes get only two pages, so growing every pipe would starve later children's pipes.
const GROWN_PIPES_MAX: usize = 16;
static GROWN_PIPES: Quota = Quota::new(GROWN_PIPES_MAX);

/// Whether a read of `n` bytes, `since` the previous read that got data, should be followed
/// by a rest: the child writes small pieces faster than we would wake up for them. Not
/// after a large read (the child writes at full speed and would wait on a full pipe), nor
/// when the pieces come slower than two rests apart (resting would save no wake-up).
fn rest_after(n: usize, since: Option<Duration>) -> bool {
    n < REST_MIN && since.is_some_and(|d| d < 2 * REST)
}

/// Outcome of one read from a child pipe.
pub enum ReadResult {
    /// This many bytes were delivered.
    Data(usize),
    /// Nothing to read right now.
    WouldBlock,
    /// The child closed its end.
    Eof,
}

pub struct OutputChannel {
    pub stream: Stream,
    pub fd: OwnedFd,
    pub log: Option<RotatingFile>,
    pub syslog: bool,
    /// Capture mode, when `*_capture_maxbytes` > 0.
    pub capture: Option<capture::Capture>,
    /// Keep `visible` for PROCESS_LOG events.
    pub events: bool,
    /// Output since the owner last took it (without capture tokens), for PROCESS_LOG events.
    pub visible: Vec<u8>,
    /// Capture blocks completed since the owner last took them.
    pub comm: Vec<Vec<u8>>,
    /// Log file bytes held back until the events they produced were sent (`flush_log`):
    /// a listener waiting for a line should not also wait for the file system.
    unlogged: Vec<u8>,
    /// The bytes only go to the log file: splice them there (see `RotatingFile::splice_from`).
    splice: bool,
    /// Set once the pipe was found full and grown (one of `GROWN_PIPES`).
    grown: Option<Permit>,
    /// A listener's stdout (its protocol): never rested.
    raw: bool,
    /// When the last read (or splice) got data.
    last_data: Option<Instant>,
    /// That read asked for a rest (`take_rest`).
    rest: bool,
    /// While resting, when the owner reads the pipe again.
    pub rest_until: Option<Instant>,
    /// The owner stopped watching the pipe for a rest (and has not watched it again yet).
    pub silent: bool,
    /// Rewrites the log file's bytes (`log_prefix`, `log_timestamps`); only the file's.
    prefix: Option<prefix::Prefixer>,
}

impl OutputChannel {
    /// Only the log file wants the bytes, so they can be spliced into it.
    fn splices(raw: bool, syslog: bool, events: bool, capture: bool, log: bool) -> bool {
        !raw && !syslog && !events && !capture && log
    }

    /// PROCESS_LOG events on or off for the running child (`update` applies
    /// `*_events_enabled` in place).
    pub fn set_events(&mut self, on: bool) {
        self.events = on;
        self.splice = Self::splices(
            self.raw,
            self.syslog,
            on,
            self.capture.is_some(),
            self.log.is_some(),
        );
    }

    /// `raw` says someone other than the log needs the bytes themselves (a listener's protocol
    /// on its stdout), which rules out splicing them past us.
    pub fn new(
        stream: Stream,
        fd: OwnedFd,
        log: Option<RotatingFile>,
        syslog: bool,
        capture: Option<capture::Capture>,
        events: bool,
        raw: bool,
    ) -> OutputChannel {
        let splice = Self::splices(raw, syslog, events, capture.is_some(), log.is_some());
        OutputChannel {
            stream,
            fd,
            log,
            syslog,
            capture,
            events,
            visible: Vec::new(),
            comm: Vec::new(),
            unlogged: Vec::new(),
            splice,
            grown: None,
            raw,
            last_data: None,
            rest: false,
            rest_until: None,
            silent: false,
            prefix: None,
        }
    }

    /// Prefixes every line written to the log file (not syslog, the main log or events,
    /// which keep the child's bytes). The bytes are rewritten, so they are never spliced.
    pub fn with_prefix(mut self, spec: Option<&LinePrefix>) -> OutputChannel {
        if let (Some(spec), Some(_)) = (spec, &self.log) {
            self.prefix = Some(prefix::Prefixer::new(spec.clone()));
            self.splice = false;
        }
        self
    }

    /// True once after a read that should be followed by a rest: the owner then stops
    /// watching the pipe for `REST`. A child that writes small pieces in quick succession
    /// would otherwise cost one wake-up (and one read and one log write) per piece: 4 KiB
    /// writes at 60 MB/s cost 4 s of CPU per GB, several times what the same bytes cost in
    /// large pieces. Resting lets them collect in the pipe (64 KiB at least, so a child
    /// writing up to 300 MB/s never waits for us), at most `REST` late in the log.
    pub fn take_rest(&mut self) -> bool {
        std::mem::take(&mut self.rest)
    }

    /// Notes a read of `n` bytes at `now` and decides whether a rest follows it.
    fn note_data(&mut self, n: usize, now: Instant) {
        self.rest =
            !self.raw && rest_after(n, self.last_data.map(|t| now.saturating_duration_since(t)));
        self.last_data = Some(now);
    }

    /// Splices straight into the log when nothing needs to see the bytes. `None`: use a read.
    fn splice_once(
        &mut self,
        process: &str,
        slack: usize,
        strip_ansi: bool,
        mainlog: &mut MainLog,
    ) -> Option<ReadResult> {
        // The main log at debug level shows child output, and stripping ANSI rewrites it.
        if !self.splice || strip_ansi || mainlog.enabled(LogLevel::Debug) {
            return None;
        }
        let log = self.log.as_mut()?;
        match log.splice_from(self.fd.as_fd(), BIG_PIPE, slack) {
            Ok(None) => None,
            Ok(Some(0)) => Some(ReadResult::Eof),
            Ok(Some(n)) => Some(ReadResult::Data(n)),
            Err(e) => match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => {
                    Some(ReadResult::WouldBlock)
                }
                _ => {
                    // Not every file system splices (EINVAL); a write error (ENOSPC, EIO)
                    // is reported by the read path's write, which this chunk now takes.
                    if e.raw_os_error() == Some(libc::EINVAL) {
                        self.splice = false;
                    }
                    mainlog.debug(&format!(
                        "'{process}' {}: splice into {} failed: {e}",
                        self.stream.name(),
                        log.path().display()
                    ));
                    None
                }
            },
        }
    }

    /// A read or splice that emptied a full default-size pipe: this child writes faster than
    /// one pipe's worth per loop turn, so give it a bigger pipe (fewer turns per byte).
    fn grow_if_full(&mut self, n: usize) {
        const DEFAULT_PIPE: usize = 64 * 1024;
        if n < DEFAULT_PIPE || self.grown.is_some() {
            return;
        }
        let Some(slot) = GROWN_PIPES.take() else {
            return;
        };
        // SAFETY: F_SETPIPE_SZ on a pipe we own; failure leaves it as it was.
        if unsafe {
            libc::fcntl(
                self.fd.as_raw_fd(),
                libc::F_SETPIPE_SZ,
                BIG_PIPE as libc::c_int,
            )
        } >= 0
        {
            self.grown = Some(slot);
        }
    }

    /// One read (at most `buf.len()` bytes) and its delivery. One read per readiness keeps a
    /// chatty child from starving the others.
    pub fn read_once(
        &mut self,
        process: &str,
        buf: &mut [u8],
        strip_ansi: bool,
        mainlog: &mut MainLog,
    ) -> ReadResult {
        let r = match self.splice_once(process, buf.len(), strip_ansi, mainlog) {
            Some(r) => {
                if let ReadResult::Data(n) = r {
                    self.grow_if_full(n);
                }
                r
            }
            None => self.read_chunk(process, buf, strip_ansi, mainlog),
        };
        if let ReadResult::Data(n) = r {
            self.note_data(n, Instant::now());
        }
        r
    }

    /// One read(2) into `buf` and its delivery.
    fn read_chunk(
        &mut self,
        process: &str,
        buf: &mut [u8],
        strip_ansi: bool,
        mainlog: &mut MainLog,
    ) -> ReadResult {
        // SAFETY: reading into a buffer we own from a descriptor we own.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n == 0 {
            return ReadResult::Eof;
        }
        if n < 0 {
            let err = io::Error::last_os_error();
            return match err.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => ReadResult::WouldBlock,
                _ => ReadResult::Eof,
            };
        }
        let n = n as usize;
        self.grow_if_full(n);
        self.deliver(process, &buf[..n], strip_ansi, mainlog);
        ReadResult::Data(n)
    }

    /// Reads until the pipe is empty (the child exited: its last words must not be lost).
    /// Plain reads, not splices: after an exit the pipe is nearly always empty, and one read
    /// that sees the end costs one system call where a first splice costs four (stopping 200
    /// programs drained 400 pipes).
    /// `keep` also receives the raw bytes (a listener's last protocol messages).
    pub fn drain(
        &mut self,
        process: &str,
        buf: &mut [u8],
        strip: bool,
        mainlog: &mut MainLog,
        mut keep: Option<&mut Vec<u8>>,
    ) {
        while let ReadResult::Data(n) = self.read_chunk(process, buf, strip, mainlog) {
            if let Some(k) = keep.as_deref_mut() {
                k.extend_from_slice(&buf[..n]);
            }
        }
    }

    fn deliver(&mut self, process: &str, data: &[u8], strip: bool, mainlog: &mut MainLog) {
        let data = ansi::strip_if(data, strip);
        if data.is_empty() {
            return;
        }
        match self.capture.as_mut() {
            Some(c) => {
                let out = c.feed(&data);
                self.take_capture_output(process, out, mainlog);
            }
            None => {
                if self.events {
                    self.visible.extend_from_slice(&data);
                }
                self.write_log(process, &data, mainlog);
            }
        }
    }

    fn take_capture_output(&mut self, process: &str, out: capture::Output, mainlog: &mut MainLog) {
        if self.events {
            self.visible.extend_from_slice(&out.visible);
        }
        if !out.comm.is_empty() {
            mainlog.debug(&format!(
                "'{process}' {} emitted a comm event",
                self.stream.name()
            ));
        }
        self.comm.extend(out.comm);
        self.write_log(process, &out.log, mainlog);
    }

    /// The child is gone: output held back by capture mode goes to the log after all, and
    /// nothing is left unwritten.
    pub fn finish(&mut self, process: &str, mainlog: &mut MainLog) {
        if let Some(c) = self.capture.as_mut() {
            let out = c.flush();
            self.take_capture_output(process, out, mainlog);
        }
        self.flush_log(process, mainlog);
    }

    /// Some bytes wait for `flush_log`.
    pub fn has_unlogged(&self) -> bool {
        !self.unlogged.is_empty()
    }

    /// Writes the bytes held back for the log file.
    pub fn flush_log(&mut self, process: &str, mainlog: &mut MainLog) {
        if self.unlogged.is_empty() {
            return;
        }
        let mut data = std::mem::take(&mut self.unlogged);
        self.write_file(process, &data, mainlog);
        // Cleared, not dropped: its capacity serves the next read.
        data.clear();
        self.unlogged = data;
    }

    fn write_file(&mut self, process: &str, data: &[u8], mainlog: &mut MainLog) {
        if let Some(log) = &mut self.log {
            if let Err(e) = log.write_all(data) {
                mainlog.error(&format!(
                    "could not write {} log of '{process}' to {}: {e}",
                    self.stream.name(),
                    log.path().display()
                ));
            }
        }
    }

    fn write_log(&mut self, process: &str, data: &[u8], mainlog: &mut MainLog) {
        if data.is_empty() {
            return;
        }
        let mut prefixer = self.prefix.take();
        let logged = match prefixer.as_mut() {
            Some(p) => p.apply(data, std::time::SystemTime::now),
            None => data,
        };
        if self.events && self.log.is_some() {
            // The owner sends the events of this read first, then calls flush_log.
            self.unlogged.extend_from_slice(logged);
        } else {
            self.write_file(process, logged, mainlog);
        }
        self.prefix = prefixer;
        if self.syslog {
            syslog::send_child_output(process, data);
        }
        if mainlog.enabled(LogLevel::Debug) {
            mainlog.debug(&format!(
                "{} {} output:\n{}",
                repr(process),
                self.stream.name(),
                crate::events::event::output_text(data)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;
    use std::fs::File;
    use std::io::Write;

    fn pipe() -> (OwnedFd, File) {
        crate::testutil::pipe(libc::O_NONBLOCK)
    }

    fn channel(dir: &TempDir, events: bool, raw: bool) -> (OutputChannel, File) {
        let (r, w) = pipe();
        let log = RotatingFile::open(&dir.path().join("out.log"), 0, 0).unwrap();
        let ch = OutputChannel::new(Stream::Stdout, r, Some(log), false, None, events, raw);
        (ch, w)
    }

    #[test]
    fn log_only_output_is_spliced_past_the_buffer() {
        let dir = TempDir::new("out1");
        let (mut ch, mut w) = channel(&dir, false, false);
        let mut main = MainLog::new();
        w.write_all(b"hello\n").unwrap();
        let mut buf = vec![0u8; 64];
        assert!(matches!(
            ch.read_once("p", &mut buf, false, &mut main),
            ReadResult::Data(6)
        ));
        assert!(
            buf.iter().all(|&b| b == 0),
            "spliced bytes never reach the buffer"
        );
        assert_eq!(
            std::fs::read(dir.path().join("out.log")).unwrap(),
            b"hello\n"
        );
        assert!(matches!(
            ch.read_once("p", &mut buf, false, &mut main),
            ReadResult::WouldBlock
        ));
        drop(w);
        assert!(matches!(
            ch.read_once("p", &mut buf, false, &mut main),
            ReadResult::Eof
        ));
    }

    #[test]
    fn output_someone_reads_is_not_spliced() {
        for (events, raw, strip, debug) in [
            (true, false, false, false),
            (false, true, false, false),
            (false, false, true, false),
            (false, false, false, true),
        ] {
            let dir = TempDir::new("out2");
            let (mut ch, mut w) = channel(&dir, events, raw);
            let mut main = MainLog::new();
            if debug {
                main.set_level(LogLevel::Debug);
            }
            w.write_all(b"hi\n").unwrap();
            let mut buf = vec![0u8; 64];
            assert!(matches!(
                ch.read_once("p", &mut buf, strip, &mut main),
                ReadResult::Data(3)
            ));
            assert_eq!(&buf[..3], b"hi\n");
            assert_eq!(ch.visible, if events { b"hi\n".to_vec() } else { vec![] });
            assert_eq!(
                ch.has_unlogged(),
                events,
                "events go out before the log write"
            );
            ch.flush_log("p", &mut main);
            assert_eq!(std::fs::read(dir.path().join("out.log")).unwrap(), b"hi\n");
        }
    }

    #[test]
    fn prefixed_output_is_read_not_spliced_and_events_keep_the_raw_bytes() {
        for events in [false, true] {
            let dir = TempDir::new("out6");
            let (ch, mut w) = channel(&dir, events, false);
            let spec = LinePrefix {
                text: "web | ".into(),
                timestamps: None,
            };
            let mut ch = ch.with_prefix(Some(&spec));
            let mut main = MainLog::new();
            let mut buf = vec![0u8; 64];
            w.write_all(b"one\ntw").unwrap();
            assert!(matches!(
                ch.read_once("p", &mut buf, false, &mut main),
                ReadResult::Data(6)
            ));
            assert_eq!(&buf[..6], b"one\ntw", "read, not spliced");
            w.write_all(b"o\n").unwrap();
            ch.read_once("p", &mut buf, false, &mut main);
            ch.flush_log("p", &mut main);
            assert_eq!(
                std::fs::read(dir.path().join("out.log")).unwrap(),
                b"web | one\nweb | two\n"
            );
            let raw: &[u8] = if events { b"one\ntwo\n" } else { b"" };
            assert_eq!(ch.visible, raw);
        }
    }

    #[test]
    fn held_back_log_bytes_are_written_in_order_and_at_the_end() {
        let dir = TempDir::new("out5");
        let (mut ch, mut w) = channel(&dir, true, false);
        let mut main = MainLog::new();
        let mut buf = vec![0u8; 64];
        let log = || std::fs::read(dir.path().join("out.log")).unwrap();
        w.write_all(b"one\n").unwrap();
        ch.read_once("p", &mut buf, false, &mut main);
        w.write_all(b"two\n").unwrap();
        ch.read_once("p", &mut buf, false, &mut main);
        assert_eq!(log(), b"");
        ch.flush_log("p", &mut main);
        assert_eq!(log(), b"one\ntwo\n");
        assert!(!ch.has_unlogged());
        w.write_all(b"three\n").unwrap();
        drop(w);
        ch.drain("p", &mut buf, false, &mut main, None);
        ch.finish("p", &mut main);
        assert_eq!(log(), b"one\ntwo\nthree\n", "an exited child's last words");
    }

    #[test]
    fn rest_only_between_small_pieces_in_quick_succession() {
        assert!(rest_after(4096, Some(Duration::from_micros(60))));
        assert!(
            rest_after(4096, Some(REST + REST / 2)),
            "a rest is not too long a gap"
        );
        assert!(
            !rest_after(4096, Some(2 * REST)),
            "slower than two rests apart"
        );
        assert!(!rest_after(4096, None), "the first read");
        assert!(!rest_after(REST_MIN, Some(Duration::ZERO)), "full speed");
    }

    #[test]
    fn quick_reads_ask_for_one_rest_and_a_protocol_never_rests() {
        for raw in [false, true] {
            let dir = TempDir::new("out4");
            let (mut ch, mut w) = channel(&dir, false, raw);
            let mut main = MainLog::new();
            let mut buf = vec![0u8; 64];
            w.write_all(b"a\n").unwrap();
            assert!(matches!(
                ch.read_once("p", &mut buf, false, &mut main),
                ReadResult::Data(2)
            ));
            assert!(!ch.take_rest(), "nothing came before");
            let t = ch.last_data.expect("read_once notes its data");
            ch.note_data(2, t + Duration::from_micros(50));
            assert_eq!(ch.take_rest(), !raw, "raw {raw}");
            assert!(!ch.take_rest(), "once per read");
            ch.note_data(2, t + Duration::from_millis(5));
            assert!(!ch.take_rest(), "a slow piece");
        }
    }

    #[test]
    fn a_full_pipe_grows_once() {
        let dir = TempDir::new("out3");
        let (mut ch, mut w) = channel(&dir, false, false);
        let mut main = MainLog::new();
        w.write_all(&[b'x'; 65536]).unwrap();
        let mut buf = vec![0u8; 128 * 1024];
        assert!(matches!(
            ch.read_once("p", &mut buf, false, &mut main),
            ReadResult::Data(65536)
        ));
        // SAFETY: F_GETPIPE_SZ on our pipe.
        let size = unsafe { libc::fcntl(ch.fd.as_raw_fd(), libc::F_GETPIPE_SZ) };
        assert_eq!(size as usize, BIG_PIPE);
        assert!(ch.grown.is_some());
        drop(ch);
        assert!(GROWN_PIPES.used() < GROWN_PIPES_MAX);
    }
}
