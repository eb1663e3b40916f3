//! Events and event listeners: types and payloads, pool buffers, the listener protocol and
//! result handlers. The daemon side (emitting, dispatching) lives in `daemon::events`.

pub mod event;
pub mod handlers;
pub mod listener;
pub mod pool;
pub mod types;

pub use event::Event;
pub use types::EventKind;
