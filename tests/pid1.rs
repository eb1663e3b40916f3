//! supervisord as PID 1 of a PID namespace (`unshare --pid --fork --mount-proc`), the container
//! case: it must reap every orphan and exit 0 on SIGTERM. Skipped, with the reason printed, where
//! the machine does not permit unshare.

mod common;

use common::*;
use std::fs;
use std::process::{Command, Stdio};

fn unshare_permitted() -> Result<(), String> {
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .output()
        .map_err(|e| format!("unshare not runnable: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn children(pid: i32) -> Vec<i32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

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
    if let Err(why) = unshare_permitted() {
        skip(&format!(
            "permission for unshare --pid --fork --mount-proc (util-linux; root or user namespaces): {why}"
        ));
        return;
    }
    let d = Daemon::configure(
        "pid1",
        "[program:orphaner]\ncommand=/bin/sh -c 'for i in 1 2 3; do (sleep 0.3 &); done; exec sleep 1000'\nstartsecs=0\n",
    );
    let mut unshare = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(bin("supervisord"))
        .args(["-n", "-c"])
        .arg(&d.conf)
        .current_dir(d.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn unshare");
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
