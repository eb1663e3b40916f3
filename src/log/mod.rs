//! Logging: the rotating file shared by all logs, the main log, and syslog output.

pub mod mainlog;
pub mod open;
pub mod rotating;
pub mod syslog;

pub use mainlog::MainLog;
pub use rotating::{RotatingFile, Rotation};
