//! supervisord's own log: level filtering, Supervisor's line format, file/syslog/stdout targets.
//! Messages logged before the target is open are kept and written when it opens.

use super::rotating::RotatingFile;
use super::syslog;
use crate::config::LogLevel;
use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

enum Target {
    /// Not opened yet: messages wait in `pending`.
    Pending,
    File(RotatingFile),
    Syslog,
}

pub struct MainLog {
    level: LogLevel,
    target: Target,
    echo_stdout: bool,
    pending: Vec<String>,
}

impl Default for MainLog {
    fn default() -> Self {
        MainLog::new()
    }
}

impl MainLog {
    /// A log that buffers until [`MainLog::open_file`] or [`MainLog::open_syslog`].
    pub fn new() -> MainLog {
        MainLog {
            level: LogLevel::Info,
            target: Target::Pending,
            echo_stdout: false,
            pending: Vec::new(),
        }
    }

    pub fn set_level(&mut self, level: LogLevel) {
        self.level = level;
    }

    pub fn level(&self) -> LogLevel {
        self.level
    }

    pub fn enabled(&self, level: LogLevel) -> bool {
        level >= self.level
    }

    /// Copy every line to stdout too (`nodaemon` without `silent`).
    pub fn set_echo_stdout(&mut self, on: bool) {
        self.echo_stdout = on;
    }

    pub fn open_file(&mut self, path: &Path, maxbytes: i64, backups: i64) -> io::Result<()> {
        self.target = Target::File(RotatingFile::open(path, maxbytes, backups)?);
        self.flush_pending();
        Ok(())
    }

    pub fn open_syslog(&mut self) {
        syslog::open();
        self.target = Target::Syslog;
        self.flush_pending();
    }

    fn flush_pending(&mut self) {
        for line in std::mem::take(&mut self.pending) {
            self.emit(&line, LogLevel::Info);
        }
    }

    /// Reopens the file at the same path (SIGUSR2).
    pub fn reopen(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::File(f) => f.reopen(),
            _ => Ok(()),
        }
    }

    /// Rotation on demand (`supervisorctl rotate main`); None when the log is not a file.
    pub fn rotate(&mut self) -> Option<io::Result<super::rotating::Rotation>> {
        match &mut self.target {
            Target::File(f) => Some(f.rotate_now()),
            _ => None,
        }
    }

    /// The file the log is written to, if it is a file.
    pub fn file_path(&self) -> Option<&Path> {
        match &self.target {
            Target::File(f) => Some(f.path()),
            _ => None,
        }
    }

    /// Unlinks the file and starts a new empty one (clearLog).
    pub fn clear(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::File(f) => f.clear(),
            _ => Ok(()),
        }
    }

    /// Closes the file; later lines wait for the next open (used across a restart).
    pub fn close(&mut self) {
        self.target = Target::Pending;
    }

    pub fn log(&mut self, level: LogLevel, msg: &str) {
        if !self.enabled(level) {
            return;
        }
        let line = format!(
            "{} {} {}\n",
            timestamp(SystemTime::now()),
            level.code(),
            msg
        );
        self.emit(&line, level);
    }

    fn emit(&mut self, line: &str, level: LogLevel) {
        if self.echo_stdout {
            let _ = io::stdout().write_all(line.as_bytes());
        }
        match &mut self.target {
            Target::Pending => self.pending.push(line.to_string()),
            // A failing log write has nowhere better to be reported; the daemon goes on.
            Target::File(f) => {
                let _ = f.write_all(line.as_bytes());
            }
            Target::Syslog => {
                // The timestamp is syslog's business; send "LEVEL message".
                let text = line.splitn(3, ' ').nth(2).unwrap_or(line);
                syslog::send(level, text.trim_end_matches('\n'));
            }
        }
    }

    pub fn critical(&mut self, msg: &str) {
        self.log(LogLevel::Critical, msg)
    }
    pub fn error(&mut self, msg: &str) {
        self.log(LogLevel::Error, msg)
    }
    pub fn warn(&mut self, msg: &str) {
        self.log(LogLevel::Warn, msg)
    }
    pub fn info(&mut self, msg: &str) {
        self.log(LogLevel::Info, msg)
    }
    pub fn debug(&mut self, msg: &str) {
        self.log(LogLevel::Debug, msg)
    }
    /// `debug` for messages on a per-event path: formatted only when debug is on.
    pub fn debug_with(&mut self, msg: impl FnOnce() -> String) {
        if self.enabled(LogLevel::Debug) {
            self.log(LogLevel::Debug, &msg())
        }
    }
    pub fn blather(&mut self, msg: &str) {
        self.log(LogLevel::Blather, msg)
    }
}

/// `YYYY-MM-DD HH:MM:SS,mmm` in local time, milliseconds truncated.
pub fn timestamp(t: SystemTime) -> String {
    let (tm, millis) = crate::sys::tm::local_ms(t);
    let stamp = crate::sys::tm::DateTimeMs {
        tm: &tm,
        millis,
        sep: ' ',
        frac: ',',
    };
    stamp.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn timestamp_shape() {
        let s = timestamp(SystemTime::now());
        assert_eq!(s.len(), 23, "{s}");
        assert_eq!(&s[4..5], "-");
        assert_eq!(&s[19..20], ",");
    }

    #[test]
    fn buffers_until_open_and_filters_level() {
        let dir = TempDir::new("mainlog");
        let p = dir.path().join("main.log");
        let mut log = MainLog::new();
        log.info("early");
        log.debug("hidden");
        log.open_file(&p, 0, 0).unwrap();
        log.warn("later");
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].ends_with(" INFO early"));
        assert!(lines[1].ends_with(" WARN later"));
    }
}
