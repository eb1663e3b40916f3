//! Decoding waitpid() statuses into Supervisor's exit codes and log texts.

pub use crate::config::types::signal_name;

/// What a reaped child's status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitStatus(pub i32);

impl WaitStatus {
    pub fn exited(code: i32) -> WaitStatus {
        WaitStatus((code & 0xff) << 8)
    }

    pub fn signaled(sig: i32) -> WaitStatus {
        WaitStatus(sig & 0x7f)
    }

    /// The exit code, or -1 when a signal ended the process (never "expected").
    pub fn exit_code(self) -> i32 {
        if libc::WIFEXITED(self.0) {
            libc::WEXITSTATUS(self.0)
        } else {
            -1
        }
    }

    pub fn signal(self) -> Option<i32> {
        libc::WIFSIGNALED(self.0).then(|| libc::WTERMSIG(self.0))
    }

    /// `exit status 3`, `terminated by SIGTERM (core dumped)`, `unknown termination cause 0x..`.
    pub fn describe(self) -> String {
        if libc::WIFEXITED(self.0) {
            format!("exit status {}", libc::WEXITSTATUS(self.0))
        } else if libc::WIFSIGNALED(self.0) {
            let core = if libc::WCOREDUMP(self.0) {
                " (core dumped)"
            } else {
                ""
            };
            format!(
                "terminated by {}{core}",
                signal_name(libc::WTERMSIG(self.0))
            )
        } else {
            format!("unknown termination cause 0x{:04x}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_statuses() {
        assert_eq!(WaitStatus::exited(3).describe(), "exit status 3");
        assert_eq!(WaitStatus::exited(3).exit_code(), 3);
        assert_eq!(WaitStatus::signaled(15).describe(), "terminated by SIGTERM");
        assert_eq!(WaitStatus::signaled(15).exit_code(), -1);
        assert_eq!(WaitStatus::signaled(15).signal(), Some(15));
        assert_eq!(
            WaitStatus(11 | 0x80).describe(),
            "terminated by SIGSEGV (core dumped)"
        );
        assert_eq!(
            WaitStatus(0x137f).describe(),
            "unknown termination cause 0x137f"
        );
    }

    #[test]
    fn names() {
        assert_eq!(signal_name(29), "SIGPOLL");
        assert_eq!(signal_name(34), "SIGRTMIN");
        assert_eq!(signal_name(64), "SIGRTMAX");
        assert_eq!(signal_name(40), "signal 40");
    }
}
