//! Child output: reading a child's stdout/stderr pipe and delivering each chunk to its log
//! file, syslog and the main log. (Capture mode and PROCESS_LOG events hook in here.)

pub mod ansi;
pub mod capture;

use crate::config::LogLevel;
use crate::log::{syslog, MainLog, RotatingFile};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
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
}

impl OutputChannel {
    /// One read (at most `buf.len()` bytes) and its delivery. One read per readiness keeps a
    /// chatty child from starving the others.
    pub fn read_once(
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
        self.deliver(process, &buf[..n], strip_ansi, mainlog);
        ReadResult::Data(n)
    }

    /// Reads until the pipe is empty (the child exited: its last words must not be lost).
    pub fn drain(&mut self, process: &str, buf: &mut [u8], strip: bool, mainlog: &mut MainLog) {
        while let ReadResult::Data(_) = self.read_once(process, buf, strip, mainlog) {}
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

    /// The child is gone: output held back by capture mode goes to the log after all.
    pub fn finish(&mut self, process: &str, mainlog: &mut MainLog) {
        if let Some(c) = self.capture.as_mut() {
            let out = c.flush();
            self.take_capture_output(process, out, mainlog);
        }
    }

    fn write_log(&mut self, process: &str, data: &[u8], mainlog: &mut MainLog) {
        if data.is_empty() {
            return;
        }
        if let Some(log) = &mut self.log {
            if let Err(e) = log.write_all(data) {
                mainlog.error(&format!(
                    "could not write {} log of '{process}' to {}: {e}",
                    self.stream.name(),
                    log.path().display()
                ));
            }
        }
        if self.syslog {
            syslog::send_child_output(process, data);
        }
        if mainlog.enabled(LogLevel::Debug) {
            mainlog.debug(&format!(
                "'{process}' {} output:\n{}",
                self.stream.name(),
                String::from_utf8_lossy(data)
            ));
        }
    }
}
