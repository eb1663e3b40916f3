//! Value converters for config keys, each with Supervisor 4.3's exact error text (config.md §4).
//! They take the stripped, already-expanded string and return the typed value or the message;
//! the loader adds where the value came from.

use std::path::PathBuf;

use super::model::{AutoRestart, LogLevel};
use super::pypath;

pub use super::envlist::environment;
use crate::pyrepr::{repr, strip};
use crate::text::{py_int, IntError};

/// Python's message for a failed `int(s)`; the repr is cut to 200 characters as CPython does.
fn int_error(s: &str, e: IntError) -> String {
    match e {
        IntError::Invalid => {
            let r: String = repr(s).chars().take(200).collect();
            format!("invalid literal for int() with base 10: {r}")
        }
        IntError::Overflow => format!("integer {} is out of range", repr(s)),
    }
}

/// `integer`: Python `int()`.
pub fn integer(s: &str) -> Result<i64, String> {
    py_int(s, 10).map_err(|e| int_error(s, e))
}

/// `boolean`: yes/true/on/1 and no/false/off/0, any case.
pub fn boolean(s: &str) -> Result<bool, String> {
    match s.to_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("not a valid boolean value: {}", repr(s))),
    }
}

/// `byte_size`: an integer, optionally followed by kb/mb/gb (any case).
pub fn byte_size(s: &str) -> Result<i64, String> {
    // Python lower-cases first, so error messages show the lower-cased text.
    let v = s.to_lowercase();
    let (num, mult) = if let Some(n) = v.strip_suffix("kb") {
        (n, 1024)
    } else if let Some(n) = v.strip_suffix("mb") {
        (n, 1024 * 1024)
    } else if let Some(n) = v.strip_suffix("gb") {
        (n, 1024 * 1024 * 1024)
    } else {
        (v.as_str(), 1)
    };
    let n = integer(num)?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("byte size {} is out of range", repr(s)))
}

/// Linux signal names known to Python's `signal` module (and so accepted by `stopsignal`),
/// aliases included; the valid numbers are exactly the values in this table.
const SIGNAL_NAMES: &[(&str, i32)] = &[
    ("SIGHUP", 1),
    ("SIGINT", 2),
    ("SIGQUIT", 3),
    ("SIGILL", 4),
    ("SIGTRAP", 5),
    ("SIGABRT", 6),
    ("SIGIOT", 6),
    ("SIGBUS", 7),
    ("SIGFPE", 8),
    ("SIGKILL", 9),
    ("SIGUSR1", 10),
    ("SIGSEGV", 11),
    ("SIGUSR2", 12),
    ("SIGPIPE", 13),
    ("SIGALRM", 14),
    ("SIGTERM", 15),
    ("SIGSTKFLT", 16),
    ("SIGCHLD", 17),
    ("SIGCLD", 17),
    ("SIGCONT", 18),
    ("SIGSTOP", 19),
    ("SIGTSTP", 20),
    ("SIGTTIN", 21),
    ("SIGTTOU", 22),
    ("SIGURG", 23),
    ("SIGXCPU", 24),
    ("SIGXFSZ", 25),
    ("SIGVTALRM", 26),
    ("SIGPROF", 27),
    ("SIGWINCH", 28),
    ("SIGIO", 29),
    ("SIGPOLL", 29),
    ("SIGPWR", 30),
    ("SIGSYS", 31),
    ("SIGRTMIN", 34),
    ("SIGRTMAX", 64),
    // Not signals, but `SIG*` attributes of Python's signal module, so 4.3 accepts them.
    ("SIG_DFL", 0),
    ("SIG_IGN", 1),
    ("SIG_BLOCK", 0),
    ("SIG_UNBLOCK", 1),
    ("SIG_SETMASK", 2),
];

/// `signal_number`: a number or a name (`TERM`, `sigterm`, `SIGTERM`), checked against the
/// numbers Python knows on Linux: 0–31, 34 and 64.
pub fn signal_number(s: &str) -> Result<i32, String> {
    let num = match py_int(s, 10) {
        Ok(n) => n,
        Err(IntError::Overflow) => {
            return Err(format!("value {} is not a valid signal number", repr(s)))
        }
        Err(IntError::Invalid) => {
            let mut name = strip(s).to_uppercase();
            if !name.starts_with("SIG") {
                name.insert_str(0, "SIG");
            }
            match SIGNAL_NAMES.iter().find(|(n, _)| *n == name) {
                Some((_, n)) => *n as i64,
                None => return Err(format!("value {} is not a valid signal name", repr(s))),
            }
        }
    };
    if SIGNAL_NAMES.iter().any(|(_, n)| *n as i64 == num) {
        Ok(num as i32)
    } else {
        Err(format!("value {} is not a valid signal number", repr(s)))
    }
}

/// The name Supervisor prints for a signal number (`terminated by SIGTERM`): Python's
/// `signame`, which on Linux picks SIGPOLL for 29 and the real-time bounds, else `signal <n>`.
pub fn signal_name(n: i32) -> String {
    const NAMES: [&str; 32] = [
        "",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGPOLL",
        "SIGPWR",
        "SIGSYS",
    ];
    match n {
        1..=31 => NAMES[n as usize].to_string(),
        34 => "SIGRTMIN".to_string(),
        64 => "SIGRTMAX".to_string(),
        _ => format!("signal {n}"),
    }
}

/// `list_of_exitcodes`: comma-separated integers 0–255; empty means none.
pub fn exit_codes(s: &str) -> Result<Vec<i32>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let bad = || format!("not a valid list of exit codes: {}", repr(s));
    s.split(',')
        .map(|part| match py_int(part, 10) {
            Ok(n) if (0..=255).contains(&n) => Ok(n as i32),
            _ => Err(bad()),
        })
        .collect()
}

/// `octal_type`: Python `int(s, 8)` (`022`, `22`, `0o22`). Negative values, which Python would
/// accept and then fail on later, are refused here.
pub fn octal(s: &str) -> Result<u32, String> {
    match py_int(s, 8) {
        Ok(n) if (0..=u32::MAX as i64).contains(&n) => Ok(n as u32),
        _ => Err(format!("{s} can not be converted to an octal type")),
    }
}

/// `logging_level`: Supervisor's level names, any case.
pub fn log_level(s: &str) -> Result<LogLevel, String> {
    Ok(match s.to_lowercase().as_str() {
        "critical" => LogLevel::Critical,
        "error" => LogLevel::Error,
        "warn" => LogLevel::Warn,
        "info" => LogLevel::Info,
        "debug" => LogLevel::Debug,
        "trace" => LogLevel::Trace,
        "blather" => LogLevel::Blather,
        _ => return Err(format!("bad logging level name {}", repr(s))),
    })
}

/// `auto_restart`: boolean words, or `unexpected`.
pub fn auto_restart(s: &str) -> Result<AutoRestart, String> {
    let v = s.to_lowercase();
    match v.as_str() {
        "yes" | "true" | "on" | "1" => Ok(AutoRestart::Always),
        "no" | "false" | "off" | "0" => Ok(AutoRestart::Never),
        "unexpected" => Ok(AutoRestart::Unexpected),
        _ => Err(format!("invalid 'autorestart' value {}", repr(&v))),
    }
}

/// What a `stdout_logfile`/`stderr_logfile` value means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFileName {
    Auto,
    None,
    /// The deprecated `syslog` spelling.
    Syslog,
    Path(PathBuf),
}

/// `logfile_name`: AUTO / NONE / OFF / syslog (any case), else a path whose directory exists.
pub fn logfile_name(s: &str) -> Result<LogFileName, String> {
    match s.to_lowercase().as_str() {
        "none" | "off" => Ok(LogFileName::None),
        "auto" => Ok(LogFileName::Auto),
        "syslog" => Ok(LogFileName::Syslog),
        _ => existing_dirpath(s).map(LogFileName::Path),
    }
}

/// `existing_directory`: `~` expanded, must be a directory; kept relative if relative.
pub fn existing_directory(s: &str) -> Result<PathBuf, String> {
    let nv = pypath::expanduser(s);
    if std::path::Path::new(&nv).is_dir() {
        Ok(PathBuf::from(nv))
    } else {
        Err(format!("{s} is not an existing directory"))
    }
}

/// `existing_dirpath`: `~` expanded; the directory part, if any, must exist.
pub fn existing_dirpath(s: &str) -> Result<PathBuf, String> {
    let nv = pypath::expanduser(s);
    let dir = pypath::dirname(&nv);
    if dir.is_empty() || std::path::Path::new(&dir).is_dir() {
        Ok(PathBuf::from(nv))
    } else {
        Err(format!(
            "The directory named as part of the path {s} does not exist"
        ))
    }
}

/// `process_or_group_name`: stripped; no space, `:` or `/` (they break namespecs and URLs).
pub fn process_or_group_name(s: &str) -> Result<String, String> {
    let t = strip(s);
    for c in [' ', ':', '/'] {
        if t.contains(c) {
            return Err(format!(
                "Invalid name: {} because of character: {}",
                repr(s),
                repr(&c.to_string())
            ));
        }
    }
    Ok(t.to_string())
}

/// `list_of_strings`: comma-separated, each item stripped; empty means none.
pub fn list_of_strings(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(',').map(|x| strip(x).to_string()).collect()
}

/// `port_number`: integer 1–65535.
pub fn port_number(s: &str) -> Result<u16, String> {
    let n = integer(s)?;
    if n < 1 {
        Err(format!("{n} is below lower bound (1)"))
    } else if n > 65535 {
        Err(format!("{n} is above upper bound (65535)"))
    } else {
        Ok(n as u16)
    }
}

/// `inet_address`: `PORT`, `:PORT`, `*:PORT` or `HOST:PORT` (split at the last `:`). Returns the
/// lower-cased host (empty = all interfaces) and the port.
pub fn inet_address(s: &str) -> Result<(String, u16), String> {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => {
            if p.is_empty() {
                return Err("no port number specified in ''".to_string());
            }
            (h.to_lowercase(), port_number(p)?)
        }
        None => {
            let port =
                port_number(s).map_err(|_| format!("not a valid port number: {} ", repr(s)))?;
            (String::new(), port)
        }
    };
    let host = if host == "*" { String::new() } else { host };
    Ok((host, port))
}

/// `url`: Python's `urlparse` must find a scheme and a netloc or path (`http://` alone fails).
pub fn url(s: &str) -> Result<(), String> {
    let err = || Err(format!("value {} is not a URL", repr(s)));
    let t = s.trim_start_matches(|c: char| c <= ' ');
    let Some(i) = t.find(':') else { return err() };
    let scheme = &t[..i];
    let valid_scheme = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme {
        return err();
    }
    let rest = &t[i + 1..];
    let (netloc, path) = match rest.strip_prefix("//") {
        Some(r) => {
            let end = r.find(['/', '?', '#']).unwrap_or(r.len());
            (&r[..end], &r[end..])
        }
        None => ("", rest),
    };
    let path = &path[..path.find(['?', '#']).unwrap_or(path.len())];
    if netloc.is_empty() && path.is_empty() {
        return err();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
