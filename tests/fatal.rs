//! supervisord's own FATAL state (statecode 2), entered when clearing the main log or a
//! process log fails and when kill() of a process fails. The daemon then keeps supervising.
//! These need root: the daemon runs as `nobody`, and the test makes the failures real (a
//! directory it cannot write, a setuid-root child it cannot signal).

mod common;

use common::rpc::{call, get, s, Value};
use common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn chmod(p: &std::path::Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).expect("chmod");
}

fn state(sock: &std::path::Path) -> (i64, String) {
    let v = call(sock, "supervisor.getState", &[]).expect("getState");
    match (get(&v, "statecode"), get(&v, "statename")) {
        (Some(Value::Int(c)), Some(Value::String(n))) => (*c, n.clone()),
        other => panic!("bad state struct {other:?}"),
    }
}

const BASE: &str = "[supervisord]\nuser=nobody\n\n[unix_http_server]\nfile={dir}/sock\n\n\
[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n";

#[test]
fn failing_log_clears_enter_fatal_and_supervision_goes_on() {
    if !root_or_skip("run the daemon as nobody") {
        return;
    }
    let d = Daemon::configure("fatal-logs", "");
    chmod(d.dir.path(), 0o777);
    d.write_conf(&format!(
        "{BASE}[program:talker]\ncommand=/bin/sh -c 'echo hi; exec sleep 1000'\nstartsecs=0\nstdout_logfile={{dir}}/talker.log\n\n\
         [program:other]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    let d = d.spawn(&["-n"]);
    let sock = d.path("sock");
    d.wait_log("success: talker entered RUNNING", 10);
    assert_eq!(state(&sock), (1, "RUNNING".into()));
    // From now on nobody cannot unlink anything in the directory.
    chmod(d.dir.path(), 0o755);

    let err = call(&sock, "supervisor.clearProcessLogs", &[s("talker")]).unwrap_err();
    assert_eq!(err.0, 30, "{err:?}");
    assert!(
        err.1.starts_with("FAILED: talker: could not clear"),
        "{err:?}"
    );
    assert!(err.1.contains("Permission denied"), "{err:?}");
    assert_eq!(state(&sock), (2, "FATAL".into()));
    d.wait_log("CRIT supervisord entered FATAL state: could not clear", 5);

    let err = call(&sock, "supervisor.clearLog", &[]).unwrap_err();
    assert_eq!(err.0, 30, "{err:?}");
    assert!(err.1.contains("could not clear the main log"), "{err:?}");
    d.wait_log(
        "CRIT supervisord entered FATAL state: could not clear the main log",
        5,
    );

    // Still supervising: stop and start work, autorestart still applies.
    assert_eq!(
        call(&sock, "supervisor.stopProcess", &[s("other")]),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        call(&sock, "supervisor.startProcess", &[s("other")]),
        Ok(Value::Bool(true))
    );
    assert_eq!(state(&sock).1, "FATAL");
    chmod(d.dir.path(), 0o777);
}

#[test]
fn failing_kill_enters_fatal() {
    if !root_or_skip("run the daemon as nobody") {
        return;
    }
    if Command::new("cc").arg("--version").output().is_err() {
        skip("a C compiler (cc) to build a root-owned sleeper");
        return;
    }
    let d = Daemon::configure("fatal-kill", "");
    chmod(d.dir.path(), 0o777);
    let src = d.path("rootsleep.c");
    fs::write(
        &src,
        "#define _GNU_SOURCE\n#include <unistd.h>\nint main(void){ if (setresuid(0,0,0)) return 3; for(;;) pause(); }\n",
    )
    .unwrap();
    let bin = d.path("rootsleep");
    let built = Command::new("cc")
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .status()
        .expect("cc");
    assert!(built.success());
    chmod(&bin, 0o4755);
    d.write_conf(&format!(
        "{BASE}[program:rootsleep]\ncommand={{dir}}/rootsleep\nstartsecs=0\nautorestart=false\n\n[program:other]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    let d = d.spawn(&["-n"]);
    let sock = d.path("sock");
    d.wait_log("success: rootsleep entered RUNNING", 10);
    let pid = d.pid_of("rootsleep").unwrap();
    wait_until(10, "child became root", || {
        proc_status_field(pid, "Uid").is_some_and(|u| u.starts_with("0\t"))
    });

    let err = call(&sock, "supervisor.stopProcess", &[s("rootsleep")]).unwrap_err();
    assert_eq!(err.0, 30, "{err:?}");
    assert!(err.1.starts_with("FAILED: EPERM"), "{err:?}");
    assert_eq!(state(&sock), (2, "FATAL".into()));
    d.wait_log("CRIT supervisord entered FATAL state: kill(", 5);
    let info = call(&sock, "supervisor.getProcessInfo", &[s("rootsleep")]).unwrap();
    assert_eq!(get(&info, "statename"), Some(&s("UNKNOWN")));
    // The rest is still supervised.
    assert_eq!(
        call(&sock, "supervisor.stopProcess", &[s("other")]),
        Ok(Value::Bool(true))
    );
    // SAFETY: the test (root) ends the child the daemon could not.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    d.wait_log(
        "exited: rootsleep (terminated by SIGKILL; not expected)",
        10,
    );
}
