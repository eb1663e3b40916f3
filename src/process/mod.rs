//! Processes: the lifecycle state machine, command splitting, spawning, and wait statuses,
//! and a child's two output streams (`Stream`).

pub mod backoff;
pub mod cmdline;
pub mod machine;
pub mod spawn;
pub mod state;
pub mod waitstatus;

pub use machine::{Effect, Input, Machine, Now, PollAt};
pub use state::ProcessState;
pub use waitstatus::WaitStatus;

/// One of a child's two output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub const BOTH: [Stream; 2] = [Stream::Stdout, Stream::Stderr];

    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}
