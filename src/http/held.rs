//! What clients can make the daemon hold at once: reply bodies the loop has built and their
//! connection threads have not written yet (`REPLIES_HELD`), and request bodies being read
//! (`BODIES_HELD`). Every reply leaves the loop through `ReplyTo::send_or`, which counts a
//! large body from then until its thread has written or dropped it (the grant travels with
//! it in `Answer`), and sends a small refusal instead when the budget has no room.

use super::limits::{BODIES_HELD, READS_HELD, REPLIES_HELD, SMALL_BODY};
use super::response::Reply;
use crate::sys::quota::{ByteQuota, Grant};
use std::fmt;
use std::sync::mpsc::{self, Receiver, Sender};

static REPLIES: ByteQuota = ByteQuota::new(REPLIES_HELD);
static BODIES: ByteQuota = ByteQuota::new(BODIES_HELD);

/// A reply with its share of the budget, given back when the connection thread drops it.
pub struct Answer {
    pub reply: Reply,
    _grant: Option<Grant>,
}

impl Answer {
    /// The reply, for its buffer to be reused once written; its share is given back here.
    pub fn into_reply(self) -> Reply {
        self.reply
    }
}

/// A reply that did not fit: its size and what was free.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Busy {
    pub need: usize,
    pub free: usize,
    pub max: usize,
}

impl fmt::Display for Busy {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "server busy: the reply would take {} bytes, but only {} bytes are free of the {} \
             the server may hold for large replies that clients have not read yet; retry later",
            self.need, self.free, self.max
        )
    }
}

fn body_len(reply: &Reply) -> usize {
    match reply {
        Reply::Response { body, .. } => body.len(),
        Reply::Follow { .. } => 0,
    }
}

/// `reply` with a grant from `quota` if its body is large, or why not.
fn admit(quota: &'static ByteQuota, reply: Reply) -> Result<Answer, Busy> {
    let need = body_len(&reply);
    if need <= SMALL_BODY {
        return Ok(Answer {
            reply,
            _grant: None,
        });
    }
    match quota.take(need) {
        Some(g) => Ok(Answer {
            reply,
            _grant: Some(g),
        }),
        None => Err(Busy {
            need,
            free: quota.free(),
            max: quota.max(),
        }),
    }
}

/// Where the loop sends a request's reply.
pub struct ReplyTo(Sender<Answer>);

impl ReplyTo {
    pub fn channel() -> (ReplyTo, Receiver<Answer>) {
        let (tx, rx) = mpsc::channel();
        (ReplyTo(tx), rx)
    }

    /// Sends `reply`, or `refusal` (a small reply, sent whatever the budget) when its body
    /// does not fit. A connection that has gone drops the answer here, grant and all.
    pub fn send_or(&self, reply: Reply, refusal: impl FnOnce(Busy) -> Reply) {
        self.send_within(&REPLIES, reply, refusal);
    }

    /// `send_or` with HTTP 503 and the reason as the refusal: for pages and error replies.
    pub fn send(&self, reply: Reply) {
        self.send_or(reply, |busy| Reply::refused(503, &busy.to_string()));
    }

    fn send_within(
        &self,
        quota: &'static ByteQuota,
        reply: Reply,
        refusal: impl FnOnce(Busy) -> Reply,
    ) {
        let answer = admit(quota, reply).unwrap_or_else(|busy| Answer {
            reply: refusal(busy),
            _grant: None,
        });
        let _ = self.0.send(answer);
    }
}

/// Bytes of XML a result whose size the client chooses may take now (`api::Ctx::budget`):
/// what `READS_HELD` has left beside the replies held, never less than a small body's room.
pub fn reads_room() -> usize {
    READS_HELD
        .saturating_sub(REPLIES.used())
        .max(SMALL_BODY - ENVELOPE)
}

/// Room for a response's envelope around its value (about 100 bytes), so that a result of
/// `SMALL_BODY - ENVELOPE` bytes makes a small body.
pub const ENVELOPE: usize = 1024;

/// Counts a request body of `len` bytes from before it is allocated: the grant of a large one
/// (`None` for a small one, which is not counted), or `None` when a large one does not fit
/// (the request gets 503).
pub fn body(len: usize) -> Option<Option<Grant>> {
    if len <= SMALL_BODY {
        return Some(None);
    }
    BODIES.take(len).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(n: usize) -> Reply {
        Reply::ok("text/xml", vec![b'x'; n])
    }

    fn refusal(busy: Busy) -> Reply {
        Reply::refused(503, &busy.to_string())
    }

    fn status(a: &Answer) -> (u16, usize) {
        match &a.reply {
            Reply::Response { status, body, .. } => (*status, body.len()),
            Reply::Follow { .. } => (0, 0),
        }
    }

    #[test]
    fn large_bodies_are_held_until_their_thread_drops_them_small_ones_always_go() {
        static Q: ByteQuota = ByteQuota::new(3 * SMALL_BODY);
        let (to, rx) = ReplyTo::channel();
        let n = SMALL_BODY + 1;
        to.send_within(&Q, big(n), refusal);
        to.send_within(&Q, big(n), refusal);
        assert_eq!(Q.used(), 2 * n);
        // The third does not fit: the refusal goes instead and says why.
        to.send_within(&Q, big(n), refusal);
        // Small ones are neither counted nor refused.
        to.send_within(&Q, big(SMALL_BODY), refusal);
        assert_eq!(Q.used(), 2 * n);
        let got: Vec<Answer> = rx.try_iter().collect();
        let seen: Vec<(u16, usize)> = got.iter().map(status).collect();
        assert_eq!(seen[..2], [(200, n), (200, n)]);
        assert_eq!(seen[2].0, 503);
        assert_eq!(seen[3], (200, SMALL_BODY));
        let Reply::Response { body, .. } = &got[2].reply else {
            panic!()
        };
        let page = String::from_utf8_lossy(body);
        assert!(
            page.contains(&format!(
                "the reply would take {n} bytes, but only {} bytes are free of the {}",
                3 * SMALL_BODY - 2 * n,
                3 * SMALL_BODY
            )),
            "{page}"
        );
        // Written (or dropped by a thread whose client went): given back.
        drop(got);
        assert_eq!(Q.used(), 0);
    }

    #[test]
    fn a_reply_to_a_connection_gone_before_it_was_sent_is_given_back_at_once() {
        static Q: ByteQuota = ByteQuota::new(4 * SMALL_BODY);
        let (to, rx) = ReplyTo::channel();
        drop(rx);
        to.send_within(&Q, big(2 * SMALL_BODY), refusal);
        assert_eq!(Q.used(), 0);
        // A follow stream has no body to count.
        let (to, rx) = ReplyTo::channel();
        let follow = Reply::Follow {
            path: "/x".into(),
            accel_header: false,
        };
        to.send_within(&Q, follow, refusal);
        assert_eq!(status(&rx.try_recv().unwrap()), (0, 0));
        assert_eq!(Q.used(), 0);
    }

    #[test]
    fn the_floor_of_a_read_makes_a_small_body() {
        let r = crate::rpc::codec::encode_response(&crate::rpc::value::Value::String(
            "x".repeat(SMALL_BODY - ENVELOPE),
        ));
        assert!(r.len() <= SMALL_BODY, "{}", r.len());
        assert!(reads_room() >= SMALL_BODY - ENVELOPE);
        assert!(body(SMALL_BODY).is_some_and(|g| g.is_none()));
        assert!(body(BODIES_HELD + 1).is_none());
    }
}
