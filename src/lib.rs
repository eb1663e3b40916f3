//! supervisor-rs: a small, fast reimplementation of Supervisor's supervisord and supervisorctl.

pub mod api;
pub mod config;
pub mod ctl;
pub mod daemon;
pub mod events;
pub mod fuzz;
pub mod getopt;
pub mod http;
pub mod json;
pub mod log;
pub mod namespec;
pub mod output;
pub mod probe;
pub mod process;
pub mod pyrepr;
pub mod rpc;
pub mod sys;
pub mod text;
pub mod web;

#[cfg(test)]
pub(crate) mod testutil;
