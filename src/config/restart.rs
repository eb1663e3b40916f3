//! The restart-policy keys of a program section (project extension, issue #20): how long to
//! wait between failed starts and between automatic restarts, and whether to give up at all.
//! Every key is new, so a Supervisor config without them keeps Supervisor's 1, 2, 3 … second
//! backoff, FATAL after `startretries`, and immediate autorestart.

use super::expand::Names;
use super::reader::Sec;
use super::types::{boolean, integer};
use super::ConfigError;

/// How the wait grows with the number of consecutive attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackoffCurve {
    /// n × base: Supervisor's 1, 2, 3 … seconds between failed starts.
    Linear,
    /// base × 2^(n-1), capped.
    Exponential,
}

/// The restart policy of one process, typed and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// `backoff=`.
    pub curve: BackoffCurve,
    /// `backoff_max_secs=`: the longest wait; `None` is no cap (Supervisor's linear backoff).
    pub max_secs: Option<i64>,
    /// `backoff_jitter=`: each wait is shortened by a random 0..this percent (0-50).
    pub jitter_percent: i64,
    /// `retry_forever=`: BACKOFF never becomes FATAL (startretries is ignored).
    pub retry_forever: bool,
    /// `restart_delay_secs=`: base wait before an autorestart of a process that was RUNNING
    /// (0: restart at once, as Supervisor does).
    pub restart_delay_secs: i64,
}

impl Default for RestartPolicy {
    /// Supervisor's behaviour.
    fn default() -> RestartPolicy {
        RestartPolicy {
            curve: BackoffCurve::Linear,
            max_secs: None,
            jitter_percent: 0,
            retry_forever: false,
            restart_delay_secs: 0,
        }
    }
}

/// The cap when `backoff_max_secs` is not given but a new key asks for unbounded retries or
/// doubling waits: without one, a retried-forever program would wait hours.
pub const DEFAULT_MAX_SECS: i64 = 60;

fn curve(s: &str) -> Result<BackoffCurve, String> {
    match s.to_lowercase().as_str() {
        "linear" => Ok(BackoffCurve::Linear),
        "exponential" => Ok(BackoffCurve::Exponential),
        _ => Err(format!(
            "invalid 'backoff' value {} (linear or exponential)",
            crate::pyrepr::repr(s)
        )),
    }
}

fn in_range(key: &str, lo: i64, hi: i64) -> impl Fn(&str) -> Result<i64, String> + '_ {
    move |s| {
        let v = integer(s)?;
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{key} must be between {lo} and {hi} (got {v})"))
        }
    }
}

/// Reads the policy keys of a program, fcgi-program or eventlistener section.
pub fn read(sec: &Sec, names: &Names) -> Result<RestartPolicy, ConfigError> {
    // A day: far beyond any useful wait, and small enough that no arithmetic on it overflows.
    const DAY: i64 = 86_400;
    let curve = sec.conv("backoff", "linear", names, curve)?;
    let retry_forever = sec.conv("retry_forever", "false", names, boolean)?;
    let max_secs = sec.conv_opt(
        "backoff_max_secs",
        names,
        in_range("backoff_max_secs", 1, DAY),
    )?;
    let max_secs = max_secs
        .or((curve == BackoffCurve::Exponential || retry_forever).then_some(DEFAULT_MAX_SECS));
    Ok(RestartPolicy {
        curve,
        max_secs,
        jitter_percent: sec.conv(
            "backoff_jitter",
            "0",
            names,
            in_range("backoff_jitter", 0, 50),
        )?,
        retry_forever,
        restart_delay_secs: sec.conv(
            "restart_delay_secs",
            "0",
            names,
            in_range("restart_delay_secs", 0, DAY),
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LogLevel;
    use crate::testutil::config_after_header as load_text;
    use crate::testutil::first_process_quietly as first;

    #[test]
    fn without_the_new_keys_the_policy_is_supervisors() {
        let p = first("[program:x]\ncommand=c\n");
        assert_eq!(p.restart, RestartPolicy::default());
        assert!(!p.essential);
        assert!(!load_text("").unwrap().supervisord.exit_on_fatal);
    }

    #[test]
    fn every_key_is_read_in_programs_listeners_and_fcgi_programs() {
        let keys = "essential=true\nbackoff=Exponential\nbackoff_max_secs=30\nbackoff_jitter=20\n\
                    retry_forever=yes\nrestart_delay_secs=5\n";
        for section in [
            "program:x]\ncommand=c",
            "eventlistener:x]\ncommand=c\nevents=TICK_5",
            "fcgi-program:x]\ncommand=c\nsocket=tcp://127.0.0.1:9999",
        ] {
            let p = first(&format!("[{section}\n{keys}"));
            assert!(p.essential, "{section}");
            assert_eq!(
                p.restart,
                RestartPolicy {
                    curve: BackoffCurve::Exponential,
                    max_secs: Some(30),
                    jitter_percent: 20,
                    retry_forever: true,
                    restart_delay_secs: 5,
                },
                "{section}"
            );
        }
        let c = load_text("exit_on_fatal=true\n").unwrap();
        assert!(c.supervisord.exit_on_fatal);
        assert!(c.startup_messages.iter().all(|(l, _)| *l < LogLevel::Warn));
    }

    #[test]
    fn exponential_or_retry_forever_get_a_default_cap() {
        let cap = |keys: &str| {
            first(&format!("[program:x]\ncommand=c\n{keys}"))
                .restart
                .max_secs
        };
        assert_eq!(cap("backoff=exponential\n"), Some(DEFAULT_MAX_SECS));
        assert_eq!(cap("retry_forever=true\n"), Some(DEFAULT_MAX_SECS));
        assert_eq!(cap("backoff=linear\n"), None);
        assert_eq!(cap("backoff_max_secs=7\n"), Some(7));
    }

    #[test]
    fn bad_values_are_errors_naming_the_key() {
        for (keys, text) in [
            ("backoff=fast", "invalid 'backoff' value 'fast'"),
            (
                "backoff_max_secs=0",
                "backoff_max_secs must be between 1 and 86400",
            ),
            (
                "backoff_jitter=51",
                "backoff_jitter must be between 0 and 50",
            ),
            (
                "restart_delay_secs=-1",
                "restart_delay_secs must be between 0",
            ),
            ("retry_forever=maybe", "not a valid boolean value: 'maybe'"),
            ("essential=2", "not a valid boolean value: '2'"),
        ] {
            let e = load_text(&format!("[program:x]\ncommand=c\n{keys}\n")).unwrap_err();
            assert!(e.contains(text), "{keys}: {e}");
            let key = keys.split('=').next().unwrap_or_default();
            assert!(
                e.contains(&format!("key: '{key}'")) || e.contains(key),
                "{e}"
            );
        }
        let e = load_text("exit_on_fatal=perhaps\n").unwrap_err();
        assert!(e.contains("not a valid boolean value"), "{e}");
    }
}
