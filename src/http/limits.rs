//! Every bound the HTTP servers put on a client, in one place: sizes, connections per
//! listener, and the deadlines (with `SUPERVISORD_HTTP_TIMEOUTS`, the knob that shortens them
//! for tests, read once when the first servers start).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Largest request body accepted (XML-RPC calls are small; a multicall of thousands fits).
pub const MAX_BODY: usize = 4 * 1024 * 1024;
/// Largest request line + headers.
pub const MAX_HEAD: usize = 64 * 1024;
pub const MAX_HEADERS: usize = 100;

/// A reply or request body of at most this many bytes is never counted against the budgets
/// below, nor refused by them: an administrator's status call or small request always goes
/// through. 128 connections per listener hold at most 8 MiB of such bodies each way.
pub const SMALL_BODY: usize = 64 * 1024;

/// Most bytes of larger reply bodies held at once, all connections together: built by the
/// loop, not yet written by their connection threads (a slow reader may hold its reply for
/// 5 s + its size at 64 KiB/s, about 9 minutes for a 32 MiB reply). Three replies of the
/// per-reply budget (`api::budget::REPLY_BUDGET`). A reply over what is free is not sent:
/// an XML-RPC call gets a FAILED fault, a page HTTP 503 (`held`).
pub const REPLIES_HELD: usize = 96 << 20;

/// Of `REPLIES_HELD`, what replies whose size the client chooses (log reads and tails,
/// multicalls: the calls bounded by `api::Ctx::budget`) may fill: two full-budget log reads at
/// once. The rest is kept for replies whose size the configuration decides (getAllProcessInfo
/// of 1000 processes is 1.2 MB), so a flood of log reads does not refuse an admin's status.
pub const READS_HELD: usize = 64 << 20;

/// Most bytes of larger request bodies being read at once, all connections together (each is
/// allocated at its Content-Length before it arrives). A body over what is free gets 503.
pub const BODIES_HELD: usize = 32 << 20;

/// Connections one listener serves at once. Each holds a thread and up to a 4 MiB body;
/// every listener has its own table, so clients of the TCP server can never take the slots
/// of the unix socket (the local admin's way in).
pub const MAX_PER_LISTENER: usize = 128;

/// The slowest transfer a deadline allows for a body or a reply: 64 KiB/s (half a megabit),
/// so a 4 MiB body may take 64 s on top of the `request` grace, a typical call a few ms.
pub const MIN_RATE: u64 = 64 * 1024;

/// Bytes a refused connection may still send, to be read away before it is closed: twice
/// the largest body, so a client sending any acceptable body (or a little more) gets to read
/// its 401, 413 or 503 instead of EPIPE.
pub const LINGER_BYTES: usize = 2 * MAX_BODY;
/// Refused connections being read away at once; more are closed straight after the answer.
pub const LINGER_MAX: usize = 256;

/// The environment variable that overrides the deadlines (see supervisord(8), ENVIRONMENT).
pub const ENV: &str = "SUPERVISORD_HTTP_TIMEOUTS";

/// The deadlines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    /// A request's head must be complete this long after the connection was accepted (or,
    /// between kept-alive requests, after its first byte), however it trickles in; it is also
    /// the grace added to a body's or a reply's transfer time.
    pub request: Duration,
    /// A kept-alive connection is closed when no new request starts within this long.
    pub idle: Duration,
    /// A refused connection is read away for this long at most before it is closed.
    pub linger: Duration,
}

impl Timeouts {
    /// 5 s for a head (legitimate clients send it in one packet right after connecting),
    /// 10 s between kept-alive requests (our supervisorctl and Python's xmlrpc.client
    /// reconnect by themselves), 5 s to read away what a refused client still sends.
    pub const DEFAULT: Timeouts = Timeouts {
        request: Duration::from_secs(5),
        idle: Duration::from_secs(10),
        linger: Duration::from_secs(5),
    };

    /// When a transfer of `bytes` started at `start` must be over: the `request` grace plus
    /// `bytes` at `MIN_RATE`.
    pub fn transfer_deadline(&self, start: Instant, bytes: usize) -> Instant {
        start + self.request + Duration::from_millis(bytes as u64 * 1000 / MIN_RATE)
    }

    /// `request=S,idle=S,linger=S` (seconds, fractions allowed, any subset, any order).
    pub fn parse(text: &str) -> Result<Timeouts, String> {
        let mut t = Timeouts::DEFAULT;
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| format!("{ENV}: {item:?} is not name=seconds"))?;
            let secs = value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86400.0)
                .ok_or_else(|| {
                    format!("{ENV}: {value:?} is not a number of seconds (0 < s ≤ 86400)")
                })?;
            let d = Duration::from_secs_f64(secs);
            match name.trim() {
                "request" => t.request = d,
                "idle" => t.idle = d,
                "linger" => t.linger = d,
                other => {
                    return Err(format!(
                        "{ENV}: unknown deadline {other:?} (request, idle, linger)"
                    ))
                }
            }
        }
        Ok(t)
    }
}

static TIMEOUTS: OnceLock<Result<Timeouts, String>> = OnceLock::new();

/// The deadlines in force: the defaults, or `SUPERVISORD_HTTP_TIMEOUTS` as read the first
/// time this is called (the servers call it before they accept anything).
pub fn timeouts() -> Result<Timeouts, String> {
    TIMEOUTS
        .get_or_init(|| match std::env::var(ENV) {
            Ok(v) => Timeouts::parse(&v),
            Err(std::env::VarError::NotPresent) => Ok(Timeouts::DEFAULT),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!("{ENV} is not UTF-8")),
        })
        .clone()
}

/// The deadlines for code running after the servers started (which checked them).
pub fn current() -> Timeouts {
    timeouts().unwrap_or(Timeouts::DEFAULT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_knob_overrides_any_subset() {
        assert_eq!(Timeouts::parse(""), Ok(Timeouts::DEFAULT));
        let t = Timeouts::parse("idle=0.5, request=2").unwrap();
        assert_eq!(t.request, Duration::from_secs(2));
        assert_eq!(t.idle, Duration::from_millis(500));
        assert_eq!(t.linger, Timeouts::DEFAULT.linger);
        for bad in [
            "request",
            "request=0",
            "request=-1",
            "request=x",
            "nap=1",
            "idle=inf",
        ] {
            assert!(Timeouts::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_transfer_may_take_its_size_at_the_minimum_rate() {
        let t = Timeouts::DEFAULT;
        let now = Instant::now();
        assert_eq!(t.transfer_deadline(now, 0), now + t.request);
        assert_eq!(
            t.transfer_deadline(now, MAX_BODY),
            now + t.request + Duration::from_secs(64)
        );
    }
}
