//! `/metrics`: the Prometheus text exposition format (0.0.4) of supervisord's and every
//! process's state, plus the event listener pools' buffers and counters. Every family is named
//! `supervisord_*` (Prometheus naming: one prefix, base units, `_total` counters) and listed in
//! supervisord(8), METRICS.

use crate::config::GroupKind;
use crate::daemon::supervisor::Supervisor;
use crate::probe::Health;
use crate::process::ProcessState;
use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

const STATES: [ProcessState; 8] = [
    ProcessState::Stopped,
    ProcessState::Starting,
    ProcessState::Running,
    ProcessState::Backoff,
    ProcessState::Stopping,
    ProcessState::Exited,
    ProcessState::Fatal,
    ProcessState::Unknown,
];

/// Escapes a label value: backslash, double quote and newline.
pub fn label(v: &str) -> String {
    if !v.contains(['\\', '"', '\n']) {
        return v.to_string();
    }
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn secs(t: Option<SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

pub fn render(sup: &Supervisor, now: SystemTime) -> String {
    let mut o = String::new();
    let (code, state) = sup.state_code();
    family(
        &mut o,
        "supervisord_info",
        "gauge",
        "Version and identifier of this supervisord.",
    );
    let _ = writeln!(
        o,
        "supervisord_info{{version=\"{}\",identifier=\"{}\"}} 1",
        label(crate::daemon::options::VERSION),
        label(&sup.config.supervisord.identifier)
    );
    family(
        &mut o,
        "supervisord_state",
        "gauge",
        "supervisord state code (1 RUNNING, 2 FATAL, 0 RESTARTING, -1 SHUTDOWN).",
    );
    let _ = writeln!(o, "supervisord_state{{state=\"{state}\"}} {code}");
    family(
        &mut o,
        "supervisord_pid",
        "gauge",
        "Process id of supervisord.",
    );
    let _ = writeln!(o, "supervisord_pid {}", std::process::id());

    let procs = sup.processes_by_name();
    family(
        &mut o,
        "supervisord_processes",
        "gauge",
        "Number of processes in each state.",
    );
    for s in STATES {
        let n = procs.iter().filter(|p| p.machine.state() == s).count();
        let _ = writeln!(o, "supervisord_processes{{state=\"{}\"}} {n}", s.name());
    }

    let labels = |p: &crate::daemon::supervisor::Process| {
        format!(
            "group=\"{}\",name=\"{}\",namespec=\"{}\"",
            label(&p.group),
            label(&p.config.name),
            label(&p.namespec())
        )
    };
    let now_secs = secs(Some(now));
    type Get = fn(&crate::daemon::supervisor::Process, i64) -> i64;
    let per_process: [(&str, &str, &str, Get); 8] = [
        ("supervisord_process_state", "gauge", "Process state code (0 STOPPED, 10 STARTING, 20 RUNNING, 30 BACKOFF, 40 STOPPING, 100 EXITED, 200 FATAL, 1000 UNKNOWN).",
            |p, _| p.machine.state().code() as i64),
        ("supervisord_process_up", "gauge", "1 if the process is RUNNING.",
            |p, _| (p.machine.state() == ProcessState::Running) as i64),
        ("supervisord_process_uptime_seconds", "gauge", "Seconds since the process entered its current run (0 unless RUNNING).",
            |p, now| if p.machine.state() == ProcessState::Running { (now - secs(p.machine.laststart_wall)).max(0) } else { 0 }),
        ("supervisord_process_starts_total", "counter", "Successful spawns of the process since supervisord (re)loaded it; restarts are starts_total - 1.",
            |p, _| p.starts as i64),
        ("supervisord_process_exit_status", "gauge", "Exit status of the last exit (-1 for a signal).",
            |p, _| p.machine.exitstatus as i64),
        ("supervisord_process_pid", "gauge", "Process id (0 when not running).",
            |p, _| p.machine.pid as i64),
        ("supervisord_process_health", "gauge", "Health check verdict (0 unknown or no healthcheck, 1 healthy, 2 unhealthy).",
            |p, _| match p.probe.verdict { Health::Unknown => 0, Health::Healthy => 1, Health::Unhealthy => 2 }),
        ("supervisord_process_health_failures", "gauge", "Consecutive failed health checks.",
            |p, _| p.probe.failures as i64),
    ];
    // Once per process, not once per family: with ten thousand processes these strings
    // were most of the page's cost.
    let labelled: Vec<(&crate::daemon::supervisor::Process, String)> =
        procs.iter().map(|&p| (p, labels(p))).collect();
    for (name, kind, help, get) in per_process {
        family(&mut o, name, kind, help);
        for (p, l) in &labelled {
            let _ = writeln!(o, "{name}{{{l}}} {}", get(p, now_secs));
        }
    }

    let pools: Vec<_> = sup
        .groups
        .iter()
        .filter_map(|g| g.pool.as_ref().map(|ps| (g, ps)))
        .collect();
    family(
        &mut o,
        "supervisord_event_pool_buffered_events",
        "gauge",
        "Events waiting in the pool's buffer.",
    );
    for (_, ps) in &pools {
        let _ = writeln!(
            o,
            "supervisord_event_pool_buffered_events{{pool=\"{}\"}} {}",
            label(&ps.pool.name),
            ps.pool.len()
        );
    }
    family(
        &mut o,
        "supervisord_event_pool_buffer_size",
        "gauge",
        "Configured buffer_size of the pool.",
    );
    for (g, ps) in &pools {
        if let GroupKind::EventListener(lc) = &g.config.kind {
            let _ = writeln!(
                o,
                "supervisord_event_pool_buffer_size{{pool=\"{}\"}} {}",
                label(&ps.pool.name),
                lc.buffer_size
            );
        }
    }
    type Counter = fn(&crate::events::pool::Pool) -> u64;
    let counters: [(&str, &str, Counter); 3] = [
        (
            "supervisord_event_pool_delivered_total",
            "Events accepted by a listener (OK).",
            |p| p.delivered,
        ),
        (
            "supervisord_event_pool_rejected_total",
            "Events a listener answered FAIL.",
            |p| p.rejected,
        ),
        (
            "supervisord_event_pool_overflowed_total",
            "Events discarded because the buffer was full.",
            |p| p.overflowed,
        ),
    ];
    for (name, help, get) in counters {
        family(&mut o, name, "counter", help);
        for (_, ps) in &pools {
            let _ = writeln!(
                o,
                "{name}{{pool=\"{}\"}} {}",
                label(&ps.pool.name),
                get(&ps.pool)
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use crate::testutil::{process_config, program_group, supervisor};

    /// One naming scheme, and supervisord(8) documents every family with its type.
    #[test]
    fn one_prefix_total_counters_and_every_family_documented() {
        let sup = supervisor(vec![program_group(
            "g",
            vec![process_config("p", "/bin/cat")],
        )]);
        let text = super::render(&sup, std::time::SystemTime::now());
        let man = include_str!("../../man/supervisord.8");
        let families: Vec<(&str, &str)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split_once(' '))
            .collect();
        assert_eq!(families.len(), 17, "{text}");
        for (name, kind) in families {
            assert!(name.starts_with("supervisord_"), "{name}");
            assert_eq!(
                kind == "counter",
                name.ends_with("_total"),
                "{name} is a {kind}"
            );
            let doc = format!(".B {name} \\fR({kind})");
            assert!(man.contains(&doc), "supervisord.8 lacks {doc:?}");
        }
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("supervisord_"), "{line}");
        }
    }

    #[test]
    fn label_escaping() {
        assert_eq!(super::label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
