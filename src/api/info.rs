//! The structs the API returns about processes (rpc.md §5): process info with its description,
//! and status results of group operations. Member order matters to some clients.

use super::faults::{self, Fault};
use crate::daemon::supervisor::Process;
use crate::process::ProcessState;
use crate::rpc::value::Value;
use std::time::{SystemTime, UNIX_EPOCH};

fn unix(t: Option<SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs().min(i32::MAX as u64) as i64)
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn path_text(p: &Option<std::path::PathBuf>) -> Value {
    s(&p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default())
}

/// Python `timedelta` text of whole seconds: `0:00:07`, `1 day, 2:03:04`.
pub fn uptime(secs: i64) -> String {
    let secs = secs.max(0);
    let (days, rest) = (secs / 86400, secs % 86400);
    let hms = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {hms}"),
        n => format!("{n} days, {hms}"),
    }
}

/// `%b %d %I:%M %p` in local time, C locale (`Nov 26 10:48 PM`).
pub fn stop_time(secs: i64) -> String {
    let t = secs as _;
    // SAFETY: localtime_r writes into the tm we pass.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&t, &mut tm);
        tm
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let hour12 = match tm.tm_hour % 12 {
        0 => 12,
        h => h,
    };
    format!(
        "{} {:02} {:02}:{:02} {}",
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_mday,
        hour12,
        tm.tm_min,
        if tm.tm_hour < 12 { "AM" } else { "PM" }
    )
}

pub fn description(p: &Process, now: i64) -> String {
    let m = &p.machine;
    let start = unix(m.laststart_wall);
    match m.state() {
        ProcessState::Running => format!("pid {}, uptime {}", m.pid, uptime(now - start)),
        ProcessState::Fatal | ProcessState::Backoff => {
            if m.spawnerr.is_empty() {
                format!("unknown error (try \"tail {}\")", p.config.name)
            } else {
                m.spawnerr.clone()
            }
        }
        ProcessState::Stopped | ProcessState::Exited => {
            if start == 0 {
                "Not started".to_string()
            } else {
                stop_time(unix(m.laststop_wall))
            }
        }
        _ => String::new(),
    }
}

pub fn process_info(p: &Process, now: SystemTime) -> Value {
    let m = &p.machine;
    let now = unix(Some(now));
    let state = m.state();
    Value::Struct(vec![
        ("name".into(), s(&p.config.name)),
        ("group".into(), s(&p.group)),
        ("start".into(), Value::Int(unix(m.laststart_wall))),
        ("stop".into(), Value::Int(unix(m.laststop_wall))),
        ("now".into(), Value::Int(now)),
        ("state".into(), Value::Int(state.code() as i64)),
        ("statename".into(), s(state.name())),
        ("spawnerr".into(), s(&m.spawnerr)),
        ("exitstatus".into(), Value::Int(m.exitstatus as i64)),
        ("logfile".into(), path_text(&p.stdout_path)),
        ("stdout_logfile".into(), path_text(&p.stdout_path)),
        ("stderr_logfile".into(), path_text(&p.stderr_path)),
        ("pid".into(), Value::Int(m.pid as i64)),
        ("description".into(), Value::String(description(p, now))),
    ])
}

/// One entry of a group/all operation's result array.
pub fn status(p: &Process, result: &Result<(), Fault>) -> Value {
    let (code, text) = match result {
        Ok(()) => (faults::SUCCESS, "OK".to_string()),
        Err(f) => (f.code, f.text.clone()),
    };
    Value::Struct(vec![
        ("name".into(), s(&p.config.name)),
        ("group".into(), s(&p.group)),
        ("status".into(), Value::Int(code)),
        ("description".into(), s(&text)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_like_timedelta() {
        assert_eq!(uptime(7), "0:00:07");
        assert_eq!(uptime(12 * 3600 + 3 * 60 + 4), "12:03:04");
        assert_eq!(uptime(86400 + 2 * 3600 + 3 * 60 + 4), "1 day, 2:03:04");
        assert_eq!(uptime(3 * 86400 + 5), "3 days, 0:00:05");
        assert_eq!(uptime(-5), "0:00:00");
    }

    #[test]
    fn stop_time_shape() {
        let t = stop_time(1_796_424_618);
        assert_eq!(t.len(), "Nov 26 10:48 PM".len(), "{t}");
        assert!(t.ends_with("AM") || t.ends_with("PM"));
    }
}
