//! Configuration: reading supervisord.conf with Python RawConfigParser rules, `%(name)s`
//! expansion, typed values, and validation into [`model::Config`].

pub mod ctl;
pub mod depends;
pub mod diff;
pub mod envfile;
mod envlist;
pub mod expand;
mod glob;
pub mod ini;
mod known;
mod load;
mod load_groups;
mod load_program;
mod load_servers;
#[cfg(test)]
mod load_tests;
pub mod logline;
pub mod model;
pub mod probe;
pub mod pypath;
mod reader;
pub mod restart;
mod source;
pub mod twiddler;
pub mod types;
pub mod users;

pub use load::{load, load_sharing, load_text};
pub use load_groups::RESULT_HANDLERS;
pub use model::*;
pub use source::{find_config_file, host_node_name, search_paths};
pub use types::signal_name;

use std::fmt;

/// A configuration error. Its text is the whole message (Supervisor's wording plus our location
/// suffix naming file, line, section and key), printed after `Error: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}
