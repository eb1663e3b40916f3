//! The HTTP side of the control plane: listeners, Basic auth, the request hand-off to the main
//! loop, and log-tail streaming.

pub mod auth;
pub mod listen;
pub mod server;
pub mod tail;

pub use server::{HttpRequest, HttpServers, Reply};
