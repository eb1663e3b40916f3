//! The XML-RPC wire format: values, a small XML parser, base64, and the codec for calls,
//! responses and faults in both directions (daemon and supervisorctl).

pub mod base64;
pub mod codec;
pub mod value;
pub mod xml;

pub use codec::DecodeError;
pub use value::Value;
