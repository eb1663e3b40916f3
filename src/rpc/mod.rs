//! The XML-RPC wire format: values, a small XML parser, and the codec for calls, responses and
//! faults (both directions).

pub mod base64;
pub mod codec;
pub mod value;
pub mod xml;

pub use value::Value;
