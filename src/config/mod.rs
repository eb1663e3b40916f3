//! Configuration: reading supervisord.conf with Python RawConfigParser rules, `%(name)s`
//! expansion, typed values, and validation into [`model::Config`].

pub mod model;

pub use model::*;

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
