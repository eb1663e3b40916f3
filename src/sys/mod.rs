//! Thin wrappers over Linux/POSIX calls that several modules need.

pub mod errno;
pub mod poller;
pub mod quota;
pub mod tm;
