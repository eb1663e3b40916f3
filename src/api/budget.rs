//! The reply budget: no reply may carry more than `REPLY_BUDGET` bytes of XML, however the
//! client asks. Log reads measure their result before they allocate it; a multicall shares one
//! budget among its calls (`system::multicall`). A result that does not fit is a FAILED fault
//! that says why and what to do instead.

use super::faults::{self, Fault};
use crate::rpc::codec;

/// Most bytes of XML one reply may carry, a whole multicall counted as one reply. Only log
/// reads can make a reply this large; a reply is built and encoded once each, so one costs
/// about twice this at its peak. Supervisor has no bound: 20 whole-file reads of a 30 MB log
/// in one multicall made a 600 MB reply.
pub const REPLY_BUDGET: usize = 32 << 20;

/// The fault for a result that needs `need` bytes when `left` are available.
pub fn too_large(need: usize, left: usize, hint: &str) -> Fault {
    let room = if left >= REPLY_BUDGET {
        format!("the reply budget of {REPLY_BUDGET} bytes")
    } else {
        format!("the {left} bytes left of this reply's budget ({REPLY_BUDGET} bytes per reply)")
    };
    Fault::new(
        faults::FAILED,
        format!("reply too large: the result would take {need} bytes, more than {room}; {hint}"),
    )
}

/// What to do instead of a read that does not fit.
pub const READ_HINT: &str = "read the log in pieces with a length > 0, or use the tail methods";
/// What to do instead of a tail that does not fit.
pub const TAIL_HINT: &str = "ask for a smaller length";

/// Log bytes as the reply's text (lossily decoded, R3), if their XML fits in `left`. Measured
/// before decoding: invalid bytes grow threefold, XML escapes up to fivefold.
pub fn log_text(bytes: Vec<u8>, left: usize, hint: &str) -> Result<String, Fault> {
    let need = codec::log_text_len(&bytes);
    if need > left {
        return Err(too_large(need, left, hint));
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fits_or_faults_by_its_escaped_size() {
        assert_eq!(log_text(b"a&b".to_vec(), 7, READ_HINT).unwrap(), "a&b");
        let f = log_text(b"a&b".to_vec(), 6, READ_HINT).unwrap_err();
        assert_eq!(f.code, faults::FAILED);
        assert!(f.text.contains("would take 7 bytes"), "{}", f.text);
        assert!(f.text.contains("the 6 bytes left"), "{}", f.text);
        assert_eq!(
            log_text(b"\xff".to_vec(), 3, READ_HINT).unwrap(),
            "\u{FFFD}"
        );
        assert!(log_text(b"\xff".to_vec(), 2, READ_HINT).is_err());
        let f = too_large(REPLY_BUDGET + 1, REPLY_BUDGET, TAIL_HINT);
        assert_eq!(
            f.text,
            format!(
                "FAILED: reply too large: the result would take {} bytes, more than the reply \
                 budget of {REPLY_BUDGET} bytes; ask for a smaller length",
                REPLY_BUDGET + 1
            )
        );
    }
}
