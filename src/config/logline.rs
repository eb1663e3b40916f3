//! `log_prefix=` and `log_timestamps=` (programs, with `[supervisord]` defaults): what is put
//! before every line of a child's output in its log files, and the timestamp formats.

use std::ffi::CString;
use std::io::Write;
use std::time::SystemTime;

use super::expand::Names;
use super::reader::{Ctx, Sec};
use super::types::boolean;
use super::ConfigError;
use crate::pyrepr::repr;

/// Longest prefix accepted (after expansion): it is written before every line.
const PREFIX_MAX: usize = 256;
/// Longest output of a `log_timestamps` strftime format.
const STAMP_MAX: usize = 200;

/// The timestamp written at every line start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timestamps {
    /// `true`: `2026-12-06T01:22:35.123+01:00`, local time with milliseconds and UTC offset.
    Iso8601,
    /// A strftime(3) format (local time), checked at load time to give 1..=200 bytes.
    Strftime(String),
}

/// What goes before every line of a channel's log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePrefix {
    /// Written after the timestamp (and its separating space), as configured.
    pub text: String,
    pub timestamps: Option<Timestamps>,
}

impl Timestamps {
    /// Appends the timestamp of `t` to `out`; false (nothing appended) if strftime gave nothing.
    pub fn render(&self, t: SystemTime, out: &mut Vec<u8>) -> bool {
        let (tm, millis) = crate::sys::tm::local_ms(t);
        match self {
            Timestamps::Iso8601 => {
                let off = tm.tm_gmtoff;
                let sign = if off < 0 { '-' } else { '+' };
                let off = off.unsigned_abs();
                let stamp = crate::sys::tm::DateTimeMs {
                    tm: &tm,
                    millis,
                    sep: 'T',
                    frac: '.',
                };
                // Writing into a Vec cannot fail.
                let _ = write!(out, "{stamp}{sign}{:02}:{:02}", off / 3600, off % 3600 / 60);
                true
            }
            Timestamps::Strftime(fmt) => {
                let Ok(fmt) = CString::new(fmt.as_str()) else {
                    return false;
                };
                let mut buf = [0u8; STAMP_MAX + 1];
                // SAFETY: strftime writes at most buf.len() bytes into buf and reads the
                // NUL-terminated format and the tm we own.
                let n = unsafe {
                    libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &tm)
                };
                if n == 0 || n > STAMP_MAX {
                    return false;
                }
                out.extend_from_slice(&buf[..n]);
                true
            }
        }
    }
}

/// One pair of matching quotes around a value is removed, so that surrounding spaces
/// (which the ini reader strips from bare values) can be kept: `"%(program_name)s | "`.
fn unquote(v: &str) -> &str {
    let b = v.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

/// `log_timestamps=`: a boolean, or a strftime format (anything with a `%`).
pub fn timestamps(v: &str) -> Result<Option<Timestamps>, String> {
    if let Ok(on) = boolean(v) {
        return Ok(on.then_some(Timestamps::Iso8601));
    }
    let fmt = unquote(v);
    if !fmt.contains('%') {
        return Err(format!(
            "log_timestamps must be a boolean or a strftime format, not {}",
            repr(v)
        ));
    }
    let t = Timestamps::Strftime(fmt.to_string());
    if !t.render(SystemTime::now(), &mut Vec::new()) {
        return Err(format!(
            "log_timestamps format {} gives no output or more than {STAMP_MAX} bytes",
            repr(v)
        ));
    }
    Ok(Some(t))
}

/// The prefix of a program's output lines: its own keys, else `[supervisord]`'s, both
/// expanded with the program's names (`log_timestamps` is not expanded: its `%` are
/// strftime's). `None` when neither a prefix nor timestamps are set.
pub fn line_prefix(ctx: &Ctx, sec: Sec, names: &Names) -> Result<Option<LinePrefix>, ConfigError> {
    let top = ctx.section("supervisord");
    let from = |key: &str| if sec.has(key) { sec } else { top };
    let ps = from("log_prefix");
    let text = match ps.get("log_prefix", names)? {
        None => String::new(),
        Some(v) => unquote(&v).to_string(),
    };
    if text.len() > PREFIX_MAX {
        return Err(ps.err(
            Some("log_prefix"),
            format!("log_prefix is longer than {PREFIX_MAX} bytes"),
        ));
    }
    let ts = from("log_timestamps");
    let timestamps = match ts.raw("log_timestamps") {
        None => None,
        Some(v) => ts.check("log_timestamps", timestamps(v))?,
    };
    if text.is_empty() && timestamps.is_none() {
        return Ok(None);
    }
    Ok(Some(LinePrefix { text, timestamps }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_values() {
        assert_eq!(timestamps("true"), Ok(Some(Timestamps::Iso8601)));
        assert_eq!(timestamps("off"), Ok(None));
        assert_eq!(
            timestamps("%H:%M:%S"),
            Ok(Some(Timestamps::Strftime("%H:%M:%S".into())))
        );
        assert_eq!(
            timestamps("'[%H]'"),
            Ok(Some(Timestamps::Strftime("[%H]".into())))
        );
        assert!(timestamps("sometimes")
            .unwrap_err()
            .contains("boolean or a strftime"));
        let long = "%Y".repeat(60);
        assert!(timestamps(&long)
            .unwrap_err()
            .contains("more than 200 bytes"));
    }

    #[test]
    fn iso8601_shape() {
        let mut out = Vec::new();
        assert!(Timestamps::Iso8601.render(SystemTime::now(), &mut out));
        let s = String::from_utf8(out).unwrap();
        // 2026-12-06T01:22:35.123+01:00
        assert_eq!(s.len(), 29, "{s}");
        assert_eq!((&s[10..11], &s[19..20], &s[26..27]), ("T", ".", ":"), "{s}");
        assert!(matches!(&s[23..24], "+" | "-"), "{s}");
    }

    #[test]
    fn strftime_uses_local_time_of_the_instant() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(86400 * 365);
        let mut out = Vec::new();
        assert!(Timestamps::Strftime("%Y".into()).render(t, &mut out));
        assert!(out == b"1970" || out == b"1971", "{out:?}");
    }

    #[test]
    fn quotes_keep_spaces() {
        assert_eq!(unquote("\"web | \""), "web | ");
        assert_eq!(unquote("' x '"), " x ");
        assert_eq!(unquote("\"x'"), "\"x'");
        assert_eq!(unquote("\""), "\"");
    }
}
