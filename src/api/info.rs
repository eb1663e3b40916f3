//! The structs the API returns about processes (rpc.md §5): process info with its description,
//! and status results of group operations. Member order matters to some clients.

use super::faults::{self, Fault};
use crate::daemon::supervisor::Process;
use crate::process::machine::{Now, Retry};
use crate::process::ProcessState;
use crate::rpc::codec::{self, Member};
use crate::rpc::value::Value;
use std::time::{SystemTime, UNIX_EPOCH};

fn unix(t: Option<SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs().min(i32::MAX as u64) as i64)
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
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
    let tm = crate::sys::tm::local(secs);
    let hour12 = match tm.tm_hour % 12 {
        0 => 12,
        h => h,
    };
    format!(
        "{} {:02} {:02}:{:02} {}",
        crate::sys::tm::MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_mday,
        hour12,
        tm.tm_min,
        if tm.tm_hour < 12 { "AM" } else { "PM" }
    )
}

/// `retrying in 8s (attempt 4)` after a failed start, `restarting in 5s (restart 2)` in a
/// restart delay; whole seconds rounded up, so a wait still running never shows 0s.
pub fn retry_text(r: &Retry) -> String {
    let ms = r.wait.as_millis();
    let secs = ms.div_ceil(1000);
    if r.restart {
        format!("restarting in {secs}s (restart {})", r.attempt)
    } else {
        format!("retrying in {secs}s (attempt {})", r.attempt)
    }
}

pub fn description(p: &Process, now: Now) -> String {
    let m = &p.machine;
    let start = unix(m.laststart_wall);
    match m.state() {
        ProcessState::Running => {
            let uptime_secs = unix(Some(now.wall)) - start;
            let text = format!("pid {}, uptime {}", m.pid, uptime(uptime_secs));
            // sd_notify's STATUS= (ready=notify only, so other configs read as in 4.3).
            match &p.probe.status {
                Some(status) => format!("{text}, {status}"),
                None => text,
            }
        }
        ProcessState::Starting => p.probe.status.clone().unwrap_or_default(),
        // The wait and the attempt (issue #20) instead of 4.3's spawnerr text, which stays in
        // the `spawnerr` member; supervisorctl (ours and Python's) prints it as it is.
        ProcessState::Backoff => match m.retry(now.mono) {
            Some(r) => retry_text(&r),
            None => m.spawnerr.clone(),
        },
        ProcessState::Fatal => {
            if m.spawnerr.is_empty() {
                format!("unknown error (try \"tail {}\")", p.config.name)
            } else {
                m.spawnerr.clone()
            }
        }
        ProcessState::Stopped | ProcessState::Exited if p.dep.note.is_some() => {
            p.dep.note.clone().unwrap_or_default()
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

/// The process info struct's members in order, borrowing what they can; `description`
/// is the caller's buffer.
fn info_members<'a>(
    p: &'a Process,
    now: i64,
    description: &'a str,
) -> [(&'static str, Member<'a>); 14] {
    let m = &p.machine;
    let state = m.state();
    // Display's text for paths that are not UTF-8, as before.
    let path = |p: &'a Option<std::path::PathBuf>| match p {
        Some(p) => Member::Str(p.to_string_lossy()),
        None => Member::Str("".into()),
    };
    [
        ("name", Member::Str(p.config.name.as_str().into())),
        ("group", Member::Str(p.group.as_str().into())),
        ("start", Member::Int(unix(m.laststart_wall))),
        ("stop", Member::Int(unix(m.laststop_wall))),
        ("now", Member::Int(now)),
        ("state", Member::Int(state.code() as i64)),
        ("statename", Member::Str(state.name().into())),
        ("spawnerr", Member::Str(m.spawnerr.as_str().into())),
        ("exitstatus", Member::Int(m.exitstatus as i64)),
        ("logfile", path(&p.stdout_path)),
        ("stdout_logfile", path(&p.stdout_path)),
        ("stderr_logfile", path(&p.stderr_path)),
        ("pid", Member::Int(m.pid as i64)),
        ("description", Member::Str(description.into())),
    ]
}

pub fn process_info(p: &Process, now: Now) -> Value {
    let description = description(p, now);
    let members = info_members(p, unix(Some(now.wall)), &description)
        .into_iter()
        .map(|(k, m)| {
            let v = match m {
                Member::Int(n) => Value::Int(n),
                Member::Str(s) => Value::String(s.into_owned()),
            };
            (k.into(), v)
        })
        .collect();
    Value::Struct(members)
}

/// getAllProcessInfo's array, encoded straight from the processes (no value tree: with a
/// thousand processes that tree was the larger part of the call).
pub fn encode_process_infos<'a>(
    procs: impl ExactSizeIterator<Item = &'a Process>,
    now: Now,
) -> Value {
    let wall = unix(Some(now.wall));
    // About 1.1 KiB per process with typical paths. Room that stays unused costs address
    // space, not memory; a reply that outgrows it is moved, not rebuilt. The buffer of the
    // previous large reply is reused when the server has one.
    let buf = crate::http::server::reply_buffer(256 + procs.len() * 1536);
    let mut e = codec::encoded_value(String::from_utf8(buf).unwrap_or_default());
    let out = e.out();
    out.push_str(codec::ARRAY_OPEN);
    for p in procs {
        let description = description(p, now);
        codec::encode_struct(&info_members(p, wall, &description), out);
    }
    out.push_str(codec::ARRAY_CLOSE);
    Value::Encoded(e)
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
    fn encoded_infos_are_the_value_tree_byte_for_byte() {
        use crate::config::{GroupConfig, GroupKind};
        use crate::daemon::supervisor::Supervisor;
        use crate::process::{Input, Now};
        use crate::testutil::{config, process_config};
        let mut sup = Supervisor::new(
            config(),
            Default::default(),
            crate::log::MainLog::new(),
            Vec::new(),
        )
        .unwrap();
        let names = ["plain", "r&d <x>", "crashy"];
        sup.add_group(GroupConfig {
            name: "g\"'".into(),
            priority: 1,
            kind: GroupKind::Program,
            processes: names
                .iter()
                .map(|n| process_config(n, "/bin/true").into())
                .collect(),
        });
        let now = Now::current();
        let ids = sup.process_ids();
        // One stopped, one running with a pid and an odd log path, one in BACKOFF with an
        // error to escape.
        for (i, &id) in ids.iter().enumerate() {
            let p = sup.process_mut_for_tests(id);
            let cfg = p.config.clone();
            match i {
                1 => {
                    p.machine.step(&cfg, Input::Start, now);
                    p.machine.step(&cfg, Input::Spawned { pid: 4242 }, now);
                    p.stdout_path = Some("/var/log/a&b <c>.log".into());
                }
                2 => {
                    p.machine.step(&cfg, Input::Start, now);
                    let message = "couldn't exec <&>: ENOENT".to_string();
                    p.machine.step(&cfg, Input::SpawnFailed { message }, now);
                }
                _ => {}
            }
        }
        let procs: Vec<&Process> = ids.iter().filter_map(|&id| sup.process(id)).collect();
        let tree = Value::Array(procs.iter().map(|p| process_info(p, now)).collect());
        let direct = encode_process_infos(procs.iter().copied(), now);
        let (a, b) = (
            codec::encode_response(&tree),
            codec::encode_response_owned(direct.clone()),
        );
        assert_eq!(a, b);
        assert_eq!(b, codec::encode_response(&direct));
        assert!(a.contains("<string>r&amp;d &lt;x&gt;</string>"), "{a}");
        assert!(a.contains("<int>4242</int>"), "{a}");
    }

    #[test]
    fn backoff_descriptions_give_the_wait_in_whole_seconds_rounded_up() {
        use std::time::Duration;
        let r = |ms, attempt, restart| Retry {
            wait: Duration::from_millis(ms),
            attempt,
            restart,
        };
        assert_eq!(retry_text(&r(8000, 4, false)), "retrying in 8s (attempt 4)");
        assert_eq!(retry_text(&r(7001, 4, false)), "retrying in 8s (attempt 4)");
        assert_eq!(retry_text(&r(0, 2, false)), "retrying in 0s (attempt 2)");
        assert_eq!(
            retry_text(&r(4500, 3, true)),
            "restarting in 5s (restart 3)"
        );
    }

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
