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
mod tests {
    use super::*;

    #[test]
    fn integer_error_text() {
        assert_eq!(
            integer("abc").unwrap_err(),
            "invalid literal for int() with base 10: 'abc'"
        );
        assert_eq!(integer(" 3 ").unwrap(), 3);
    }

    #[test]
    fn boolean_words() {
        for t in ["yes", "TRUE", "On", "1"] {
            assert_eq!(boolean(t), Ok(true));
        }
        for f in ["no", "False", "OFF", "0"] {
            assert_eq!(boolean(f), Ok(false));
        }
        assert_eq!(
            boolean("maybe").unwrap_err(),
            "not a valid boolean value: 'maybe'"
        );
        assert_eq!(boolean("").unwrap_err(), "not a valid boolean value: ''");
        assert!(boolean("y").is_err());
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(byte_size("50MB"), Ok(52428800));
        assert_eq!(byte_size("1 KB"), Ok(1024));
        assert_eq!(byte_size("-5MB"), Ok(-5242880));
        assert_eq!(byte_size("+5"), Ok(5));
        assert_eq!(byte_size("1gb"), Ok(1 << 30));
        assert_eq!(byte_size("0"), Ok(0));
        assert_eq!(
            byte_size("1.5MB").unwrap_err(),
            "invalid literal for int() with base 10: '1.5'"
        );
        assert_eq!(
            byte_size("1K").unwrap_err(),
            "invalid literal for int() with base 10: '1k'"
        );
        assert!(byte_size("1b").is_err());
        assert!(byte_size("0x10").is_err());
        assert!(byte_size("kb").is_err());
    }

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(signal_number("TERM"), Ok(15));
        assert_eq!(signal_number("sigkill"), Ok(9));
        assert_eq!(signal_number(" hup "), Ok(1));
        assert_eq!(signal_number("9"), Ok(9));
        assert_eq!(signal_number("0"), Ok(0));
        for (alias, n) in [
            ("IOT", 6),
            ("CLD", 17),
            ("POLL", 29),
            ("RTMIN", 34),
            ("RTMAX", 64),
        ] {
            assert_eq!(signal_number(alias), Ok(n), "{alias}");
        }
        assert_eq!(signal_number("SIG_DFL"), Ok(0));
        assert_eq!(signal_number("SIG_IGN"), Ok(1));
        assert_eq!(signal_number("_DFL"), Ok(0));
        assert_eq!(signal_number("64"), Ok(64));
        assert_eq!(
            signal_number("FOO").unwrap_err(),
            "value 'FOO' is not a valid signal name"
        );
        assert_eq!(
            signal_number("RTMIN+3").unwrap_err(),
            "value 'RTMIN+3' is not a valid signal name"
        );
        for bad in ["32", "33", "35", "63", "65", "-1"] {
            assert_eq!(
                signal_number(bad).unwrap_err(),
                format!("value '{bad}' is not a valid signal number")
            );
        }
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(29), "SIGPOLL");
        assert_eq!(signal_name(17), "SIGCHLD");
        assert_eq!(signal_name(6), "SIGABRT");
        assert_eq!(signal_name(34), "SIGRTMIN");
        assert_eq!(signal_name(64), "SIGRTMAX");
        assert_eq!(signal_name(40), "signal 40");
        assert_eq!(signal_name(0), "signal 0");
    }

    #[test]
    fn exit_code_lists() {
        assert_eq!(exit_codes("0"), Ok(vec![0]));
        assert_eq!(exit_codes("0, 2 ,255"), Ok(vec![0, 2, 255]));
        assert_eq!(exit_codes(""), Ok(vec![]));
        assert_eq!(
            exit_codes("0,256").unwrap_err(),
            "not a valid list of exit codes: '0,256'"
        );
        assert!(exit_codes("0,").is_err());
        assert!(exit_codes("-1").is_err());
        assert!(exit_codes("a").is_err());
    }

    #[test]
    fn octal_values() {
        assert_eq!(octal("022"), Ok(18));
        assert_eq!(octal("22"), Ok(18));
        assert_eq!(octal("0o22"), Ok(18));
        assert_eq!(octal("0O7_7"), Ok(63));
        assert_eq!(
            octal("089").unwrap_err(),
            "089 can not be converted to an octal type"
        );
        assert!(octal("8").is_err());
        assert!(octal("").is_err());
        assert!(octal("-1").is_err());
    }

    #[test]
    fn log_levels() {
        assert_eq!(log_level("INFO"), Ok(LogLevel::Info));
        assert_eq!(log_level("blather"), Ok(LogLevel::Blather));
        assert_eq!(log_level("critical"), Ok(LogLevel::Critical));
        assert_eq!(
            log_level("verbose").unwrap_err(),
            "bad logging level name 'verbose'"
        );
        assert!(log_level("warning").is_err());
        assert!(log_level("crit").is_err());
    }

    #[test]
    fn autorestart_values() {
        assert_eq!(auto_restart("true"), Ok(AutoRestart::Always));
        assert_eq!(auto_restart("OFF"), Ok(AutoRestart::Never));
        assert_eq!(auto_restart("Unexpected"), Ok(AutoRestart::Unexpected));
        assert_eq!(
            auto_restart("Sometimes").unwrap_err(),
            "invalid 'autorestart' value 'sometimes'"
        );
    }

    #[test]
    fn logfile_names() {
        assert_eq!(logfile_name("AUTO"), Ok(LogFileName::Auto));
        assert_eq!(logfile_name("none"), Ok(LogFileName::None));
        assert_eq!(logfile_name("Off"), Ok(LogFileName::None));
        assert_eq!(logfile_name("SYSLOG"), Ok(LogFileName::Syslog));
        assert_eq!(
            logfile_name("/tmp/x.log"),
            Ok(LogFileName::Path("/tmp/x.log".into()))
        );
        assert_eq!(
            logfile_name("bare.log"),
            Ok(LogFileName::Path("bare.log".into()))
        );
        assert_eq!(
            logfile_name("/nonexistent/dir/x.log").unwrap_err(),
            "The directory named as part of the path /nonexistent/dir/x.log does not exist"
        );
        assert_eq!(
            logfile_name("~root/x.log"),
            Ok(LogFileName::Path("/root/x.log".into()))
        );
    }

    #[test]
    fn directories() {
        assert_eq!(existing_directory("/tmp"), Ok(PathBuf::from("/tmp")));
        assert_eq!(
            existing_directory("/nonexistent").unwrap_err(),
            "/nonexistent is not an existing directory"
        );
        assert_eq!(existing_dirpath("x.pid"), Ok(PathBuf::from("x.pid")));
        assert!(existing_dirpath("/nonexistent/x.pid").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(process_or_group_name(" foo "), Ok("foo".to_string()));
        assert_eq!(process_or_group_name("öäü"), Ok("öäü".to_string()));
        assert_eq!(process_or_group_name(""), Ok(String::new()));
        assert_eq!(
            process_or_group_name("x y").unwrap_err(),
            "Invalid name: 'x y' because of character: ' '"
        );
        assert_eq!(
            process_or_group_name("a:b").unwrap_err(),
            "Invalid name: 'a:b' because of character: ':'"
        );
        assert!(process_or_group_name("a/b").is_err());
    }

    #[test]
    fn string_lists() {
        assert_eq!(list_of_strings(""), Vec::<String>::new());
        assert_eq!(list_of_strings("a, b ,,c"), vec!["a", "b", "", "c"]);
    }

    #[test]
    fn inet_addresses() {
        assert_eq!(inet_address("9001"), Ok((String::new(), 9001)));
        assert_eq!(inet_address(":9001"), Ok((String::new(), 9001)));
        assert_eq!(inet_address("*:9001"), Ok((String::new(), 9001)));
        assert_eq!(
            inet_address("LocalHost:9001"),
            Ok(("localhost".to_string(), 9001))
        );
        assert_eq!(inet_address("::1:9001"), Ok(("::1".to_string(), 9001)));
        assert_eq!(inet_address("[::1]:9001"), Ok(("[::1]".to_string(), 9001)));
        assert_eq!(
            inet_address("host:").unwrap_err(),
            "no port number specified in ''"
        );
        assert_eq!(
            inet_address("abc").unwrap_err(),
            "not a valid port number: 'abc' "
        );
        assert_eq!(
            inet_address("0").unwrap_err(),
            "not a valid port number: '0' "
        );
        assert_eq!(
            inet_address("h:0").unwrap_err(),
            "0 is below lower bound (1)"
        );
        assert_eq!(
            inet_address("h:70000").unwrap_err(),
            "70000 is above upper bound (65535)"
        );
        assert_eq!(
            inet_address("h:x").unwrap_err(),
            "invalid literal for int() with base 10: 'x'"
        );
    }

    #[test]
    fn urls() {
        assert!(url("http://localhost:9001").is_ok());
        assert!(url("unix:///tmp/s.sock").is_ok());
        assert!(url("localhost:9001").is_ok());
        assert!(url("foo:bar").is_ok());
        assert_eq!(url("http://").unwrap_err(), "value 'http://' is not a URL");
        assert!(url("nourl").is_err());
        assert!(url("9x:foo").is_err());
    }
}
