//! Processes: the lifecycle state machine, command splitting, spawning, and wait statuses.

pub mod backoff;
pub mod cmdline;
pub mod machine;
pub mod spawn;
pub mod state;
pub mod waitstatus;

pub use machine::{Effect, Input, Machine, Now, PollAt};
pub use state::ProcessState;
pub use waitstatus::WaitStatus;
