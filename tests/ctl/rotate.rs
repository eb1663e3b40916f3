//! `supervisorctl rotate` (issue #19 item 2): process logs and the main log rotated on
//! demand with size rotation's numbering, also with maxbytes=0; what it does with backups=0,
//! empty files, console streams, stopped processes and files logrotate already moved; and
//! its error against Python's supervisord, which has no such method.

use super::*;
use crate::common::rpc::{self, s};
use std::fs;

const LOGS: &str = "
[program:talker]
command=/bin/sh -c 'echo before; while read l; do echo \"$l\"; done'
startsecs=0
stdout_logfile={dir}/talker.log
stdout_logfile_maxbytes=0
stdout_logfile_backups=2
stderr_logfile={dir}/talker.err

[program:zero]
command=/bin/sh -c 'echo kept; exec sleep 1000'
startsecs=0
stdout_logfile={dir}/zero.log
stdout_logfile_backups=0

[program:console]
command=/bin/sh -c 'echo to the console; exec sleep 1000'
startsecs=0
stdout_logfile=/dev/stdout

[program:idle]
command=sleep 1000
autostart=false
stdout_logfile={dir}/idle.log
";

fn read(d: &Daemon, name: &str) -> String {
    fs::read_to_string(d.path(name)).unwrap_or_default()
}

/// Sends a line to talker's stdin and waits for it in its live log.
fn say(d: &Daemon, line: &str) {
    let sent = rpc::call(
        &d.path("sock"),
        "supervisor.sendProcessStdin",
        &[s("talker"), s(&format!("{line}\n"))],
    );
    assert_eq!(sent, Ok(rpc::Value::Bool(true)));
    wait_until(10, line, || read(d, "talker.log").contains(line));
}

#[test]
fn rotate_makes_a_numbered_backup_and_a_fresh_file() {
    let d = Daemon::configure("ctl-rotate", &format!("{RPC}{LOGS}"));
    fs::write(d.path("idle.log"), "from an earlier run\n").expect("write");
    let d = d.spawn(&["-n"]);
    let ctl = Ctl::ours(&d.conf);
    wait_until(10, "talker's first line", || {
        read(&d, "talker.log") == "before\n" && read(&d, "zero.log") == "kept\n"
    });

    // The test: `.1` holds the old content, the live file starts empty and takes
    // what comes next (maxbytes=0: size rotation is off, rotation on demand is not).
    let out = ctl.run(&["rotate", "talker"]);
    expect(
        &out,
        0,
        "talker stdout: rotated\ntalker stderr: not rotated: empty\n",
    );
    assert_eq!(read(&d, "talker.log.1"), "before\n");
    assert_eq!(read(&d, "talker.log"), "");
    say(&d, "after");
    assert_eq!(read(&d, "talker.log"), "after\n");
    assert_eq!(read(&d, "talker.log.1"), "before\n");

    // backups=0 never truncates; a console stream is never renamed; a stopped process's
    // log is rotated on disk; an unknown name is an error.
    let out = ctl.run(&["rotate", "zero", "console", "idle", "nope"]);
    expect(
        &out,
        1,
        "zero stdout: not rotated: backups=0\nzero stderr: not rotated: empty\n\
         console stdout: not rotated: not a regular file\nconsole stderr: not rotated: empty\n\
         idle stdout: rotated\nidle stderr: not rotated: empty\nnope: ERROR (no such process)\n",
    );
    assert_eq!(read(&d, "zero.log"), "kept\n");
    assert!(!d.path("zero.log.1").exists());
    assert_eq!(read(&d, "idle.log.1"), "from an earlier run\n");
    assert_eq!(read(&d, "idle.log"), "");

    // The main log: its old lines in supervisord.log.1, the fresh one says it was rotated.
    let before = d.log();
    let out = ctl.run(&["rotate", "main"]);
    expect(&out, 0, "supervisord: rotated\n");
    // (Lines logged while ctl connected may follow.)
    assert!(read(&d, "supervisord.log.1").starts_with(&before));
    assert!(
        d.log().contains("supervisord log rotated on request"),
        "{}",
        d.log()
    );

    // logrotate without copytruncate: it renames the file (and creates an empty one), then
    // its postrotate runs `rotate all`, which reopens that file instead of rotating again.
    fs::rename(d.path("talker.log"), d.path("talker.log-20260101")).expect("rename");
    fs::write(d.path("talker.log"), "").expect("create");
    let out = ctl.run(&["rotate", "all"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("talker stdout: reopened (moved by someone else)\n"),
        "{out:?}"
    );
    assert!(out.stdout.ends_with("supervisord: rotated\n"), "{out:?}");
    assert_eq!(read(&d, "talker.log.1"), "before\n");
    say(&d, "reopened");
    assert_eq!(read(&d, "talker.log"), "reopened\n");
    assert_eq!(read(&d, "talker.log-20260101"), "after\n");
    assert!(read(&d, "supervisord.log.2").starts_with(&before));

    // A group, and the usage error.
    let out = ctl.run(&["rotate", "talker:*"]);
    expect(
        &out,
        0,
        "talker stdout: rotated\ntalker stderr: not rotated: empty\n",
    );
    let out = ctl.run(&["rotate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.starts_with("Error: rotate requires"), "{out:?}");
}

#[test]
fn rotate_against_python_supervisord_says_what_is_missing() {
    let Some(d) = PyDaemon::start("ctl-rotate-py", &format!("{RPC}{LOGS}")) else {
        return;
    };
    let out = Ctl::ours(&d.conf).run(&["rotate", "all"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("cannot rotate logs on demand") && out.stdout.contains("SIGUSR2"),
        "{out:?}"
    );
}
