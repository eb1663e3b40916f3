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

/// `t` in local time (as [`local`]) and its milliseconds, truncated.
pub fn local_ms(t: std::time::SystemTime) -> (libc::tm, u32) {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (local(d.as_secs() as i64), d.subsec_millis())
}

/// `YYYY-MM-DD<sep>HH:MM:SS<frac>mmm`, the date and time both log timestamps start with: the
/// main log's `2026-12-06 01:22:35,123` and `log_timestamps=true`'s `2026-12-06T01:22:35.123`.
pub struct DateTimeMs<'a> {
    pub tm: &'a libc::tm,
    pub millis: u32,
    /// Between the date and the time.
    pub sep: char,
    /// Between the seconds and the milliseconds.
    pub frac: char,
}

impl std::fmt::Display for DateTimeMs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tm = self.tm;
        write!(
            f,
            "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}{}{:03}",
            tm.tm_year + 1900,
            tm.tm_mon + 1,
            tm.tm_mday,
            self.sep,
            tm.tm_hour,
            tm.tm_min,
            tm.tm_sec,
            self.frac,
            self.millis
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_time_ms_separators_and_padding() {
        let tm = utc(86400 * 365 + 3 * 3600 + 4 * 60 + 5);
        let stamp = |sep, frac| {
            let millis = 7;
            DateTimeMs {
                tm: &tm,
                millis,
                sep,
                frac,
            }
            .to_string()
        };
        assert_eq!(stamp(' ', ','), "1971-01-01 03:04:05,007");
        assert_eq!(stamp('T', '.'), "1971-01-01T03:04:05.007");
    }
}
