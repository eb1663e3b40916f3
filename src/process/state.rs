//! Process states with Supervisor's names and codes, and the state sets the API uses.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcessState {
    Stopped,
    Starting,
    Running,
    Backoff,
    Stopping,
    Exited,
    Fatal,
    Unknown,
}

impl ProcessState {
    pub fn code(self) -> i32 {
        match self {
            ProcessState::Stopped => 0,
            ProcessState::Starting => 10,
            ProcessState::Running => 20,
            ProcessState::Backoff => 30,
            ProcessState::Stopping => 40,
            ProcessState::Exited => 100,
            ProcessState::Fatal => 200,
            ProcessState::Unknown => 1000,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ProcessState::Stopped => "STOPPED",
            ProcessState::Starting => "STARTING",
            ProcessState::Running => "RUNNING",
            ProcessState::Backoff => "BACKOFF",
            ProcessState::Stopping => "STOPPING",
            ProcessState::Exited => "EXITED",
            ProcessState::Fatal => "FATAL",
            ProcessState::Unknown => "UNKNOWN",
        }
    }

    /// STOPPED, EXITED, FATAL, UNKNOWN: what shutdown waits for and removal requires.
    pub fn is_stopped(self) -> bool {
        matches!(
            self,
            ProcessState::Stopped
                | ProcessState::Exited
                | ProcessState::Fatal
                | ProcessState::Unknown
        )
    }

    /// RUNNING, BACKOFF, STARTING: a start request is refused, a stop request accepted.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            ProcessState::Running | ProcessState::Backoff | ProcessState::Starting
        )
    }

    /// RUNNING, STARTING, STOPPING: there is a live pid to signal.
    pub fn is_signallable(self) -> bool {
        matches!(
            self,
            ProcessState::Running | ProcessState::Starting | ProcessState::Stopping
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_supervisor() {
        let all = [
            (ProcessState::Stopped, 0, "STOPPED"),
            (ProcessState::Starting, 10, "STARTING"),
            (ProcessState::Running, 20, "RUNNING"),
            (ProcessState::Backoff, 30, "BACKOFF"),
            (ProcessState::Stopping, 40, "STOPPING"),
            (ProcessState::Exited, 100, "EXITED"),
            (ProcessState::Fatal, 200, "FATAL"),
            (ProcessState::Unknown, 1000, "UNKNOWN"),
        ];
        for (s, code, name) in all {
            assert_eq!(s.code(), code);
            assert_eq!(s.name(), name);
        }
    }
}
