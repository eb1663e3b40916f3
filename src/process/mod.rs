//! Processes: the lifecycle state machine, spawning, and wait statuses.

pub mod machine;
pub mod state;
pub mod waitstatus;

pub use machine::{Effect, Input, Machine, Now};
pub use state::ProcessState;
pub use waitstatus::WaitStatus;
