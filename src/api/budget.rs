//! The reply budget: no reply may carry more than `REPLY_BUDGET` bytes of XML, however the
//! client asks. Log reads measure their result before they allocate it; a multicall shares one
//! budget among its calls (`system::multicall`). While the server holds many large replies
//! that clients have not read yet, a call's budget is what is left of the process-wide one
//! (`http::held::reads_room`). A result that does not fit is a FAILED fault that says why and
//! what to do instead.

use super::faults::{self, Fault};
use crate::http::held;
use crate::http::limits::READS_HELD;
use crate::rpc::codec;

/// Most bytes of XML one reply may carry, a whole multicall counted as one reply. Only log
/// reads can make a reply this large; a reply is built and encoded once each, so one costs
/// about twice this at its peak. Supervisor has no bound: 20 whole-file reads of a 30 MB log
/// in one multicall made a 600 MB reply.
pub const REPLY_BUDGET: usize = 32 << 20;

/// What a call's result may take, and what set that bound (for the fault's words).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Bytes of XML.
    pub left: usize,
    pub by: Bound,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// The whole `REPLY_BUDGET`, or what a multicall has left of it.
    Reply,
    /// What the server may still hold of large replies not yet read (`held::reads_room`).
    Held,
}

impl Budget {
    /// A call's budget with `room` left of the process-wide one.
    pub fn within(room: usize) -> Budget {
        if room < REPLY_BUDGET {
            Budget {
                left: room,
                by: Bound::Held,
            }
        } else {
            Budget::reply(REPLY_BUDGET)
        }
    }

    /// A call's budget now.
    pub fn now() -> Budget {
        Budget::within(held::reads_room())
    }

    pub fn reply(left: usize) -> Budget {
        Budget {
            left,
            by: Bound::Reply,
        }
    }
}

/// The fault for a result that needs `need` bytes when `budget` is available.
pub fn too_large(need: usize, budget: Budget, hint: &str) -> Fault {
    let left = budget.left;
    if budget.by == Bound::Held {
        return Fault::new(
            faults::FAILED,
            format!(
                "server busy: the result would take {need} bytes, but only {left} bytes are \
                 free of the {READS_HELD} the server may hold for large replies that clients \
                 have not read yet; retry later, or {hint}"
            ),
        );
    }
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

/// Log bytes as the reply's text (lossily decoded, R3), if their XML fits in `budget`.
/// Measured before decoding: invalid bytes grow threefold, XML escapes up to fivefold.
pub fn log_text(bytes: Vec<u8>, budget: Budget, hint: &str) -> Result<String, Fault> {
    let need = codec::log_text_len(&bytes);
    if need > budget.left {
        return Err(too_large(need, budget, hint));
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
        let b = Budget::reply;
        assert_eq!(log_text(b"a&b".to_vec(), b(7), READ_HINT).unwrap(), "a&b");
        let f = log_text(b"a&b".to_vec(), b(6), READ_HINT).unwrap_err();
        assert_eq!(f.code, faults::FAILED);
        assert!(f.text.contains("would take 7 bytes"), "{}", f.text);
        assert!(f.text.contains("the 6 bytes left"), "{}", f.text);
        assert_eq!(
            log_text(b"\xff".to_vec(), b(3), READ_HINT).unwrap(),
            "\u{FFFD}"
        );
        assert!(log_text(b"\xff".to_vec(), b(2), READ_HINT).is_err());
        let f = too_large(REPLY_BUDGET + 1, b(REPLY_BUDGET), TAIL_HINT);
        assert_eq!(
            f.text,
            format!(
                "FAILED: reply too large: the result would take {} bytes, more than the reply \
                 budget of {REPLY_BUDGET} bytes; ask for a smaller length",
                REPLY_BUDGET + 1
            )
        );
    }

    #[test]
    fn a_busy_server_lowers_the_budget_and_says_so() {
        assert_eq!(Budget::within(usize::MAX), Budget::reply(REPLY_BUDGET));
        assert_eq!(Budget::within(REPLY_BUDGET), Budget::reply(REPLY_BUDGET));
        let busy = Budget::within(1000);
        assert_eq!(busy.left, 1000);
        let f = log_text(vec![b'x'; 1001], busy, READ_HINT).unwrap_err();
        assert_eq!(
            f.text,
            format!(
                "FAILED: server busy: the result would take 1001 bytes, but only 1000 bytes are \
                 free of the {READS_HELD} the server may hold for large replies that clients \
                 have not read yet; retry later, or {READ_HINT}"
            )
        );
    }
}
