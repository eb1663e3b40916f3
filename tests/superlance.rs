//! Interop with superlance 2.0.0, the event listeners people actually run: memmon, crashmail
//! and httpok, unchanged, against our daemon (venv made by tools/venv.sh).

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;

fn venv_bin(name: &str) -> Option<String> {
    common::venv_bin(name).map(|p| p.display().to_string())
}

#[test]
fn memmon_restarts_a_program_over_its_memory_limit() {
    let Some(memmon) = venv_bin("memmon") else {
        return;
    };
    let Some(python) = venv_bin("python") else {
        return;
    };
    let d = Daemon::start(
        "memmon",
        &format!(
            "{RPC}[eventlistener:memmon]\ncommand={memmon} -p hog=20MB\nevents=TICK_5\n\n\
             [program:hog]\ncommand={python} -c \"import time; x = bytearray(60 * 1024 * 1024); x[::4096] = b'x' * len(x[::4096]); time.sleep(1000)\"\nstartsecs=0\n"
        ),
    );
    d.wait_log("success: hog entered RUNNING", 10);
    let first = d.pid_of("hog").unwrap();
    wait_until(25, "memmon restarted hog", || {
        d.pid_of("hog").is_some_and(|p| p != first)
    });
    assert!(d.log().contains("stopped: hog"), "{}", d.log());
}

#[test]
fn crashmail_mails_on_an_unexpected_exit() {
    let Some(crashmail) = venv_bin("crashmail") else {
        return;
    };
    let d = Daemon::configure("crashmail", "");
    let sendmail = d.path("fakesendmail");
    fs::write(
        &sendmail,
        format!("#!/bin/sh\ncat > {}/mail.txt\n", d.dir.path().display()),
    )
    .unwrap();
    fs::set_permissions(&sendmail, fs::Permissions::from_mode(0o755)).unwrap();
    d.write_conf(&format!(
        "{RPC}[eventlistener:crashmail]\ncommand={crashmail} -a -m ops@example.com -s {}\nevents=PROCESS_STATE_EXITED\n\n\
         [program:crasher]\ncommand=/bin/sh -c 'sleep 1; exit 3'\nstartsecs=0\nautorestart=false\n",
        sendmail.display()
    ));
    let d = d.spawn(&["-n"]);
    wait_until(20, "the mail", || {
        fs::read_to_string(d.path("mail.txt")).is_ok_and(|m| m.contains("crasher"))
    });
    let mail = fs::read_to_string(d.path("mail.txt")).unwrap();
    assert!(mail.contains("To: ops@example.com"), "{mail}");
    assert!(
        mail.contains("Process crasher in group crasher exited unexpectedly"),
        "{mail}"
    );
}

#[test]
fn httpok_restarts_a_program_whose_check_fails() {
    let Some(httpok) = venv_bin("httpok") else {
        return;
    };
    // A port with nothing listening: every check fails.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let d = Daemon::start(
        "httpok",
        &format!(
            "{RPC}[eventlistener:httpok]\ncommand={httpok} -p web -t 1 http://127.0.0.1:{port}/\nevents=TICK_5\n\n\
             [program:web]\ncommand=sleep 1000\nstartsecs=0\n"
        ),
    );
    d.wait_log("success: web entered RUNNING", 10);
    let first = d.pid_of("web").unwrap();
    wait_until(25, "httpok restarted web", || {
        d.pid_of("web").is_some_and(|p| p != first)
    });
    assert!(!pid_alive(first));
}
