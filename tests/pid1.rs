//! supervisord as PID 1 of a PID namespace (`unshare --pid --fork --mount-proc`), the container
//! case: it must reap every orphan and exit 0 on SIGTERM. Skipped, with the reason printed, where
//! the machine does not permit unshare.

mod common;

use common::*;
use std::fs;

fn zombies_of(parent: i32) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        if fields.first() == Some(&"Z") && fields.get(1) == Some(&parent.to_string().as_str()) {
            found.push(pid);
        }
    }
    found
}

#[test]
fn pid1_reaps_orphans_and_exits_0_on_sigterm() {
    if !unshare_or_skip() {
        return;
    }
    let d = Daemon::configure(
        "pid1",
        "[program:orphaner]\ncommand=/bin/sh -c 'for i in 1 2 3; do (sleep 0.3 &); done; exec sleep 1000'\nstartsecs=0\n",
    );
    let mut unshare = spawn_in_pid_namespace(&d);
    let upid = unshare.id() as i32;
    let mut daemon = 0;
    wait_until(10, "daemon inside the namespace", || {
        daemon = children(upid).first().copied().unwrap_or(0);
        daemon != 0 && d.log().contains("supervisord started")
    });
    assert_eq!(
        proc_status_field(daemon, "NSpid")
            .and_then(|s| s.split_whitespace().last().map(String::from)),
        Some("1".to_string()),
        "supervisord is PID 1 in its namespace"
    );
    wait_until(15, "three orphans reaped", || {
        d.count("reaped unknown pid") >= 3
    });
    assert!(
        zombies_of(daemon).is_empty(),
        "zombies left: {:?}",
        zombies_of(daemon)
    );
    // SAFETY: signalling the daemon we started.
    unsafe { libc::kill(daemon, libc::SIGTERM) };
    let mut code = None;
    wait_until(20, "unshare exit", || {
        code = unshare.try_wait().ok().flatten().map(|s| s.code());
        code.is_some()
    });
    assert_eq!(code, Some(Some(0)), "{}", d.log());
    assert!(d
        .log()
        .contains("stopped: orphaner (terminated by SIGTERM)"));
}
