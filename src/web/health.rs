//! `/healthz`: 200 when supervisord is RUNNING and every autostart program is RUNNING (or has
//! EXITED with an expected exit code) and none is unhealthy (`healthcheck=`); otherwise 503
//! listing the others, one per line.

use crate::daemon::control::DaemonState;
use crate::daemon::supervisor::Supervisor;
use crate::http::server::Reply;
use crate::probe::Health;
use crate::process::ProcessState;

/// The problems, empty when healthy.
pub fn problems(sup: &Supervisor) -> Vec<String> {
    let mut out = Vec::new();
    let state = sup.daemon_state();
    if state != DaemonState::Running {
        out.push(format!("supervisord {}", state.code_name().1));
    }
    for id in sup.process_ids() {
        let Some(p) = sup.process(id) else { continue };
        if !p.config.autostart {
            continue;
        }
        let s = p.machine.state();
        let ok = s == ProcessState::Running || (s == ProcessState::Exited && p.machine.expected);
        if !ok {
            out.push(format!("{} {}", p.namespec(), s.name()));
        } else if s == ProcessState::Running && p.probe.verdict == Health::Unhealthy {
            out.push(format!("{} RUNNING unhealthy", p.namespec()));
        }
    }
    out
}

pub fn reply(sup: &Supervisor) -> Reply {
    let problems = problems(sup);
    let (status, body) = if problems.is_empty() {
        (200, "OK\n".to_string())
    } else {
        (503, format!("UNHEALTHY\n{}\n", problems.join("\n")))
    };
    Reply::Response {
        status,
        content_type: "text/plain; charset=utf-8",
        headers: vec![("Cache-Control", "no-cache".into())],
        body: body.into_bytes(),
    }
}
