//! Broken-down calendar time (`struct tm`) of seconds since the epoch, for the timestamp
//! formats of the logs, the status display and HTTP.

/// `%b` of the C locale and RFC 1123's month names, indexed by `tm_mon`.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Seconds as C's `time_t`. The libc crate marks `time_t` deprecated on musl (its width is
/// to follow musl 1.2's 64-bit change); the one conversion is here, so the warning is too.
#[allow(deprecated)]
fn time_t(secs: i64) -> libc::time_t {
    secs as libc::time_t
}

/// `secs` in local time (TZ and the system zone apply), with `tm_gmtoff` set.
pub fn local(secs: i64) -> libc::tm {
    let secs = time_t(secs);
    // SAFETY: localtime_r only writes into the tm we hand it; all-zero is a valid tm.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    }
}

/// `secs` in UTC.
pub fn utc(secs: i64) -> libc::tm {
    let secs = time_t(secs);
    // SAFETY: gmtime_r only writes into the tm we hand it; all-zero is a valid tm.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::gmtime_r(&secs, &mut tm);
        tm
    }
}
