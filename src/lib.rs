//! supervisor-rs: a small, fast reimplementation of Supervisor's supervisord and supervisorctl.

pub mod config;
pub mod log;
pub mod process;

#[cfg(test)]
pub(crate) mod testutil;
