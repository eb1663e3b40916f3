//! The HTTP side of the control plane: listeners, admission and deadlines, Basic auth, the
//! request hand-off to the main loop, and log-tail streaming.

pub mod auth;
pub mod held;
pub mod limits;
mod linger;
pub mod listen;
pub mod request;
pub mod response;
pub mod server;
mod slots;
pub mod tail;

pub use server::{HttpRequest, HttpServers, Reply};
