//! tail -f, maintail -f, fg and debug with piped input; reload and shutdown.

use super::*;
use std::time::{Duration, Instant};

/// tail -f / maintail -f follow new output and end with Ctrl-C (exit 0); a bad name is one
/// stderr line and exit 1 (T7: 4.3 exits 0).
fn follow_commands(ctl: &Ctl, sock: &std::path::Path) {
    let mut tail = Running::start(ctl, &["tail", "-f", "cat"]);
    tail.out.wait_for("==> Press Ctrl-C to exit <==\n", 20);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !tail.out.text().contains("followed-line") {
        assert!(
            Instant::now() < deadline,
            "tail -f showed {:?}",
            tail.out.text()
        );
        let _ = common::rpc::call(
            sock,
            "supervisor.sendProcessStdin",
            &[common::rpc::s("cat"), common::rpc::s("followed-line\n")],
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    tail.signal(libc::SIGINT);
    assert_eq!(tail.wait(10), 0);
    assert!(tail.out.text().ends_with("\n\n"), "{:?}", tail.out.text());

    let mut main = Running::start(ctl, &["maintail", "-f"]);
    main.out.wait_for("entered RUNNING state", 20);
    ctl.run(&["stop", "sleeper"]);
    main.out.wait_for("stopped: sleeper", 20);
    ctl.run(&["start", "sleeper"]);
    main.signal(libc::SIGINT);
    assert_eq!(main.wait(10), 0);

    // The error goes to stderr, and the exit status stays 0 as in Supervisor.
    let mut bad = Running::start(ctl, &["tail", "-f", "nope"]);
    assert_eq!(bad.wait(20), 0);
    assert_eq!(
        bad.err.text(),
        format!(
            "unix://{}/logtail/nope/stdout Cannot read, status code 404\n",
            sock.display()
        )
    );
}

/// `debug` forwards lines to stdin and streams both channels back; EOF detaches and the
/// process keeps running. `fg` does the same with Supervisor's messages.
fn attach_commands(ctl: &Ctl) {
    let mut dbg = Running::start(ctl, &["debug", "echo2"]);
    dbg.out.wait_for("==> Attached to echo2 (pid ", 20);
    dbg.send("hello\n");
    dbg.out.wait_for("out:hello", 20);
    dbg.out.wait_for("err:hello", 20);
    dbg.stdin = None;
    assert_eq!(dbg.wait(20), 0);
    let text = dbg.out.text();
    assert!(
        text.ends_with("==> Detached from echo2; it keeps running <==\n"),
        "{text}"
    );
    assert!(!text.contains("\x1b["), "no colours into a pipe: {text:?}");
    assert_eq!(
        ctl.run(&["status", "echo2"]).code,
        0,
        "still running after detach"
    );

    let mut fg = Running::start(ctl, &["fg", "echo2"]);
    fg.out.wait_for("==> Press Ctrl-C to exit <==\n", 20);
    fg.send("again\n");
    fg.out.wait_for("out:again", 20);
    fg.signal(libc::SIGINT);
    assert_eq!(fg.wait(20), 0);
    assert!(
        fg.out.text().ends_with("Exiting foreground\n"),
        "{}",
        fg.out.text()
    );

    // A process that exits while attached ends the session.
    let mut dbg = Running::start(ctl, &["debug", "cat"]);
    dbg.out.wait_for("==> Attached to cat", 20);
    ctl.run(&["stop", "cat"]);
    assert_eq!(dbg.wait(20), 0);
    assert!(
        dbg.out
            .text()
            .contains("==> cat is no longer running (STOPP"),
        "{}",
        dbg.out.text()
    );
    expect(
        &ctl.run(&["debug", "cat"]),
        7,
        "ERROR: cat is not running (STOPPED); debug attaches only to a running process\n",
    );
    expect(
        &ctl.run(&["debug", "nope"]),
        1,
        "ERROR: no such process: nope\n",
    );
    assert!(ctl
        .run(&["debug"])
        .stdout
        .starts_with("ERROR: no process name supplied\ndebug <name>"));
    ctl.run(&["start", "cat"]);
}

/// `debug` on a program with redirect_stderr=true says that stderr is merged (not that it
/// is missing), and the replayed last kilobyte starts at a line start.
#[test]
fn debug_merged_stderr_and_whole_first_line() {
    let d = Daemon::start(
        "ctl-debug-merged",
        &format!(
            "{RPC}[program:merged]\nredirect_stderr=true\nstartsecs=0\ncommand=/bin/sh -c 'i=0; \
             while [ $i -lt 100 ]; do printf \"line %%03d ..........\\n\" $i; i=$((i+1)); done; \
             while read l; do echo \"err:$l\" >&2; done'\n"
        ),
    );
    let ctl = Ctl::ours(&d.conf);
    d.wait_log("success: merged entered RUNNING", 20);
    wait_until(20, "all 100 lines logged", || {
        ctl.run(&["tail", "merged"]).stdout.contains("line 099")
    });
    let mut dbg = Running::start(&ctl, &["debug", "merged"]);
    let note = "==> merged has redirect_stderr=true: its stderr is merged into the stdout \
                shown here <==\n";
    dbg.out.wait_for("line 099 ..........\n", 20);
    dbg.send("hello\n");
    dbg.out.wait_for("err:hello\n", 20);
    dbg.stdin = None;
    assert_eq!(dbg.wait(20), 0);
    let text = dbg.out.text();
    let replay = text
        .split_once(note)
        .unwrap_or_else(|| panic!("no merged note in {text:?}"))
        .1;
    let lines: Vec<&str> = replay.lines().collect();
    // 1024 bytes of 20-byte lines: 51 whole lines, the partial one before them dropped.
    assert_eq!(lines[0], "line 049 ..........", "{text}");
    assert_eq!(lines[50], "line 099 ..........", "{text}");
    assert!(!text.contains("has no stderr log file"), "{text}");
}

#[test]
fn follow_and_attach_against_our_daemon() {
    let (d, ctl) = our_daemon("ctl-follow");
    follow_commands(&ctl, &d.path("sock"));
    attach_commands(&ctl);
}

#[test]
fn follow_and_attach_against_python_supervisord() {
    let Some(d) = PyDaemon::start("ctl-follow-py", &conf()) else {
        return;
    };
    let ctl = Ctl::ours(&d.conf);
    wait_running(&ctl);
    follow_commands(&ctl, &d.path("sock"));
    attach_commands(&ctl);
}

/// reload restarts the daemon in place; shutdown asks in the shell, then stops it.
fn reload_and_shutdown(ctl: &Ctl, pid: i32) {
    expect(&ctl.run(&["reload"]), 0, "Restarted supervisord\n");
    let out = ctl.wait_for(&["pid"], &pid.to_string());
    assert_eq!(out.stdout.trim(), pid.to_string());
    wait_running(ctl);
    // Interactive confirmation: anything but y/Y cancels.
    let out = ctl.run_input(&[], "shutdown\nno\nversion\n");
    assert!(
        out.stdout.contains(
            "supervisor> Really shut the remote supervisord process down y/N? supervisor> 4.3.0\n"
        ),
        "{}",
        out.stdout
    );
    let out = ctl.run_input(&[], "shutdown\ny\n");
    assert!(out.stdout.contains("y/N? Shut down\n"), "{}", out.stdout);
    wait_until(30, "the daemon to exit", || !pid_alive(pid));
    let out = ctl.run(&["shutdown"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.starts_with("ERROR: unix://") && out.stdout.ends_with("(already shut down?)\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn reload_and_shutdown_our_daemon() {
    let (d, ctl) = our_daemon("ctl-reload");
    reload_and_shutdown(&ctl, d.pid);
}

#[test]
fn reload_and_shutdown_python_supervisord() {
    let Some(d) = PyDaemon::start("ctl-reload-py", &conf()) else {
        return;
    };
    let ctl = Ctl::ours(&d.conf);
    wait_running(&ctl);
    reload_and_shutdown(&ctl, d.pid);
}
