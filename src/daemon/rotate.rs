//! Rotation of logs on demand (`supervisorctl rotate`, `supervisor.rotate*Logs`): every log
//! file of a process, open or not, and supervisord's own log, rotated with the numbering of
//! size rotation (`log::rotating::RotatingFile::rotate_now`), whatever `maxbytes` says.

use super::supervisor::Supervisor;
use crate::log::rotating::{rotate_closed, Rotation};
use crate::output::Stream;
use std::path::PathBuf;

/// What happened to one log file.
#[derive(Debug)]
pub struct Rotated {
    /// `stdout`, `stderr`, or `main` for supervisord's log.
    pub channel: &'static str,
    pub path: PathBuf,
    /// The I/O error's text when the rename or reopen failed.
    pub result: Result<Rotation, String>,
}

impl Supervisor {
    /// Rotates the stdout and stderr logs of process `id` (none: no such process, or it logs
    /// to syslog only). A log that is not open (the process is not running) is renamed on
    /// disk, as `clearProcessLogs` clears it.
    pub fn rotate_process_logs(&mut self, id: usize) -> Vec<Rotated> {
        let Some(p) = self.procs.get_mut(id).and_then(|p| p.as_mut()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let logs = [
            (
                Stream::Stdout,
                p.stdout_path.clone(),
                p.config.stdout.backups,
            ),
            (
                Stream::Stderr,
                p.stderr_path.clone(),
                p.config.stderr.backups,
            ),
        ];
        for (stream, path, backups) in logs {
            let Some(path) = path else { continue };
            // Both channels may name one file: the second finds it moved and reopens.
            let open = p.channels.get_mut(stream).and_then(|c| c.log.as_mut());
            let r = match open {
                Some(log) => log.rotate_now(),
                None => rotate_closed(&path, backups),
            };
            out.push(Rotated {
                channel: stream.name(),
                result: r.map_err(|e| format!("could not rotate {}: {e}", path.display())),
                path,
            });
        }
        let name = p.config.name.clone();
        for r in &out {
            self.log_rotation(&format!("{name} {}", r.channel), r);
        }
        out
    }

    /// Rotates supervisord's own log; None when it goes to syslog.
    pub fn rotate_main_log(&mut self) -> Option<Rotated> {
        let path = self.log.file_path()?.to_path_buf();
        let r = self.log.rotate()?;
        let done = Rotated {
            channel: "main",
            result: r.map_err(|e| format!("could not rotate {}: {e}", path.display())),
            path,
        };
        // Logged after the rotation: the fresh file says where the old lines went.
        self.log_rotation("supervisord", &done);
        Some(done)
    }

    fn log_rotation(&mut self, what: &str, r: &Rotated) {
        match &r.result {
            Ok(Rotation::Rotated) => self.log.info(&format!(
                "{what} log rotated on request: {} -> {}.1",
                r.path.display(),
                r.path.display()
            )),
            Ok(other) => self.log.debug(&format!(
                "{what} log {}: {}",
                r.path.display(),
                other.describe()
            )),
            // Unlike a failed clear, not FATAL: the old file goes on being written.
            Err(e) => self.log.error(&format!("{what}: {e}")),
        }
    }
}
