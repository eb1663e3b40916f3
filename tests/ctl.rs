//! supervisorctl end to end: every command against our supervisord and against Python's
//! supervisord 4.3.0, output compared with Python's supervisorctl where the format is fixed,
//! and the interactive shell driven in a real terminal (tmux) for completion, history and
//! `debug`; `--json`, `--no-wait` and parallel arguments (`ops`). Python parts fail under CI
//! and skip elsewhere when the venv is missing.

#[path = "ctl/commands.rs"]
mod commands;
mod common;
#[path = "ctl/compare.rs"]
mod compare;
#[path = "ctl/follow.rs"]
mod follow;
#[path = "ctl/harness.rs"]
mod harness;
#[path = "ctl/ops.rs"]
mod ops;
#[path = "ctl/rotate.rs"]
mod rotate;
#[path = "ctl/shell.rs"]
mod shell;
#[path = "ctl/update.rs"]
mod update;

use common::*;
use harness::*;
use std::time::{Duration, Instant};

const RPC: &str = "\
[unix_http_server]
file={dir}/sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{dir}/sock
";

const PROGRAMS: &str = "
[program:sleeper]
command=sleep 1000
startsecs=0

[program:cat]
command=cat
startsecs=0

[program:echoer]
command=/bin/sh -c 'echo line0; echo line1; echo oops >&2; exec sleep 1000'
startsecs=0

[program:echo2]
command=/bin/sh -c 'while read l; do echo \"out:$l\"; echo \"err:$l\" >&2; done'
startsecs=0

[program:fail]
command=/nonexistent/prog
autostart=false

[program:quick]
command=/bin/sh -c 'exit 3'
autostart=false
startretries=0

[program:noexec]
command=/etc/passwd
autostart=false

[group:grp]
programs=g1,g2

[program:g1]
command=sleep 1000
startsecs=0

[program:g2]
command=sleep 1000
startsecs=0
";

fn conf() -> String {
    format!("{RPC}{PROGRAMS}")
}

/// Our daemon with the standard programs, all autostarted ones RUNNING.
fn our_daemon(tag: &str) -> (Daemon, Ctl) {
    let d = Daemon::start(tag, &conf());
    let ctl = Ctl::ours(&d.conf);
    wait_running(&ctl);
    (d, ctl)
}

fn wait_running(ctl: &Ctl) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = ctl.run(&["status", "sleeper", "cat", "echoer", "echo2", "grp:*"]);
        if out.code == 0 && out.stdout.matches("RUNNING").count() == 6 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "programs never all ran:\n{}",
            out.all()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[track_caller]
fn expect(out: &Out, code: i32, stdout: &str) {
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (code, stdout),
        "stderr: {}",
        out.stderr
    );
}

/// Like `expect`, for results whose order is the server's completion order.
#[track_caller]
fn expect_any_order(out: &Out, code: i32, stdout: &str) {
    let mut got = lines(&out.stdout);
    let mut want = lines(stdout);
    got.sort();
    want.sort();
    assert_eq!((out.code, got), (code, want), "stderr: {}", out.stderr);
}
