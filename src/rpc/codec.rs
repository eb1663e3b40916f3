//! XML-RPC calls, responses and faults in both directions: the daemon decodes calls and
//! encodes responses, supervisorctl does the reverse. Output is laid out byte for byte like
//! Python's `xmlrpc.client.dumps`, and is always well-formed: characters XML 1.0 forbids
//! become U+FFFD (README R3) and ints are clamped to 32 bits (R4). Input is decoded strictly
//! but accepts what real clients send: `<i8>`, `<nil/>`, and `true`/`false` booleans (R5).
//!
//! Decoding (`decode`: strict, bounded, values built straight from the XML reader's events)
//! and encoding (`encode`: Python's layout byte for byte) are apart; their tests are together
//! (`tests`), since most of them are round trips.

mod decode;
mod encode;

pub use decode::{parse_call, parse_response, DecodeError, MAX_DEPTH, MAX_VALUES};
pub use encode::{
    encode_call, encode_fault, encode_response, encode_response_owned, encode_struct, encode_value,
    encoded_value, escape, escaped_len, log_text_len, text_from_log_bytes, Member, ARRAY_CLOSE,
    ARRAY_OPEN,
};

#[cfg(test)]
mod tests;
