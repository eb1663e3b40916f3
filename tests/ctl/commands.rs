//! Every command against our daemon and Python's, connection errors, options and config,
//! authentication.

use super::*;
use std::fs;

/// The command set every daemon must answer the same way (ours and Python's): names, groups,
/// `all`, faults and exit statuses. `ours`: the daemon has the update extensions, so reread
/// says what changed per process and update changes only that.
fn command_set(ctl: &Ctl, ours: bool) {
    // status: table, exit 3 with stopped programs, 4 for bad names, names in given order.
    let out = ctl.run(&["status"]);
    assert_eq!(out.code, 3, "{}", out.all());
    let table = lines(&out.stdout);
    assert_eq!(table.len(), 9, "{}", out.stdout);
    assert!(table[0].starts_with("cat                              RUNNING   pid "));
    assert!(table.contains(&"fail                             STOPPED   Not started"));
    assert!(table
        .iter()
        .any(|l| l.starts_with("grp:g1                           RUNNING   pid ")));
    expect(
        &ctl.run(&["status", "nope"]),
        4,
        "nope: ERROR (no such process)\n",
    );
    expect(
        &ctl.run(&["status", "nosuch:*"]),
        4,
        "nosuch: ERROR (no such group)\n",
    );
    let out = ctl.run(&["status", "sleeper", "nope", "fail"]);
    assert_eq!(out.code, 3);
    let l = lines(&out.stdout);
    assert_eq!(l[0], "nope: ERROR (no such process)");
    assert!(
        l[1].starts_with("sleeper ") && l[2].starts_with("fail "),
        "{}",
        out.stdout
    );
    let out = ctl.run(&["status", "grp:", "sleeper", "sleeper"]);
    assert_eq!(
        (out.code, lines(&out.stdout).len()),
        (0, 4),
        "{}",
        out.stdout
    );

    // start / stop / restart.
    expect(&ctl.run(&["stop", "sleeper"]), 0, "sleeper: stopped\n");
    expect(
        &ctl.run(&["stop", "sleeper"]),
        0,
        "sleeper: ERROR (not running)\n",
    );
    expect(&ctl.run(&["start", "sleeper"]), 0, "sleeper: started\n");
    expect(
        &ctl.run(&["start", "sleeper"]),
        0,
        "sleeper: ERROR (already started)\n",
    );
    expect(
        &ctl.run(&["restart", "sleeper"]),
        0,
        "sleeper: stopped\nsleeper: started\n",
    );
    expect(
        &ctl.run(&["start", "nope"]),
        1,
        "nope: ERROR (no such process)\n",
    );
    expect(
        &ctl.run(&["start", "grp"]),
        1,
        "grp: ERROR (no such process)\n",
    );
    expect(
        &ctl.run(&["start", "fail"]),
        1,
        "fail: ERROR (no such file)\n",
    );
    expect(
        &ctl.run(&["start", "noexec"]),
        1,
        "noexec: ERROR (file is not executable)\n",
    );
    expect(
        &ctl.run(&["start", "quick"]),
        7,
        "quick: ERROR (spawn error)\n",
    );
    expect(
        &ctl.run(&["start", "nosuch:*"]),
        2,
        "nosuch: ERROR (no such group)\n",
    );
    expect(
        &ctl.run(&["stop", "nosuch:*"]),
        1,
        "nosuch: ERROR (no such group)\n",
    );
    expect_any_order(
        &ctl.run(&["stop", "grp:*"]),
        0,
        "grp:g1: stopped\ngrp:g2: stopped\n",
    );
    expect_any_order(
        &ctl.run(&["start", "grp:*"]),
        0,
        "grp:g1: started\ngrp:g2: started\n",
    );
    expect(&ctl.run(&["start", "grp:*"]), 0, "");
    expect(
        &ctl.run(&["restart", "grp:g1"]),
        0,
        "grp:g1: stopped\ngrp:g1: started\n",
    );
    expect(
        &ctl.run(&["restart", "nope"]),
        1,
        "nope: ERROR (no such process)\nnope: ERROR (no such process)\n",
    );
    let out = ctl.run(&["start"]);
    assert_eq!(out.code, 2);
    assert!(out
        .stdout
        .starts_with("Error: start requires a process name\nstart <name>\t\tStart a process\n"));
    assert_eq!(ctl.run(&["stop"]).code, 1);
    assert_eq!(ctl.run(&["restart"]).code, 1);

    // signal.
    expect(
        &ctl.run(&["signal", "CONT", "sleeper"]),
        0,
        "sleeper: signalled\n",
    );
    expect_any_order(
        &ctl.run(&["signal", "CONT", "grp:*"]),
        0,
        "grp:g1: signalled\ngrp:g2: signalled\n",
    );
    expect(
        &ctl.run(&["signal", "HUP", "nope"]),
        1,
        "nope: ERROR (no such process)\n",
    );
    expect(
        &ctl.run(&["signal", "BOGUS", "sleeper"]),
        1,
        "sleeper: ERROR (bad signal name)\n",
    );
    expect(
        &ctl.run(&["signal", "HUP", "fail"]),
        7,
        "fail: ERROR (not running)\n",
    );
    expect(
        &ctl.run(&["signal", "HUP", "nosuch:*"]),
        1,
        "nosuch: ERROR (no such group)\n",
    );
    let out = ctl.run(&["signal", "CONT", "all"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("sleeper: signalled\n") && out.stdout.contains("grp:g2: signalled\n")
    );
    let out = ctl.run(&["signal", "HUP"]);
    assert_eq!(out.code, 1);
    assert!(out
        .stdout
        .starts_with("Error: signal requires a signal name and a process name\n"));

    // pid.
    let out = ctl.run(&["pid"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.trim().parse::<i32>().is_ok_and(|p| p > 1),
        "{}",
        out.stdout
    );
    let out = ctl.run(&["pid", "cat"]);
    assert!(
        out.code == 0 && out.stdout.trim().parse::<i32>().is_ok_and(pid_alive),
        "{out:?}"
    );
    expect(&ctl.run(&["pid", "fail"]), 7, "0\n");
    expect(&ctl.run(&["pid", "nope"]), 1, "No such process nope\n");
    let out = ctl.run(&["pid", "all"]);
    assert_eq!(
        (out.code, lines(&out.stdout).len()),
        (0, 9),
        "{}",
        out.stdout
    );

    // tail and clear.
    let out = ctl.wait_for(&["tail", "echoer"], "line1");
    expect(&out, 0, "line0\nline1\n\n");
    expect(&ctl.run(&["tail", "echoer", "stderr"]), 0, "oops\n\n");
    expect(&ctl.run(&["tail", "-3", "echoer"]), 0, "e1\n\n");
    expect(
        &ctl.run(&["tail", "nope"]),
        1,
        "nope: ERROR (no such process name)\n",
    );
    expect(
        &ctl.run(&["tail", "-x", "echoer"]),
        1,
        "Error: bad argument -x\n",
    );
    expect(
        &ctl.run(&["tail", "echoer", "foo"]),
        1,
        "Error: bad channel 'foo'\n",
    );
    expect(
        &ctl.run(&["tail", "-5"]),
        1,
        "Error: tail requires process name\n",
    );
    assert!(ctl
        .run(&["tail"])
        .stdout
        .starts_with("Error: too few arguments\ntail [-f] <name>"));
    assert!(ctl
        .run(&["tail", "a", "b", "c", "d"])
        .stdout
        .starts_with("Error: too many arguments\n"));
    expect(&ctl.run(&["clear", "echoer"]), 0, "echoer: cleared\n");
    expect(&ctl.run(&["tail", "echoer"]), 0, "\n");
    expect(
        &ctl.run(&["clear", "nope"]),
        1,
        "nope: ERROR (no such process)\n",
    );
    let out = ctl.run(&["clear", "all"]);
    assert_eq!(
        (out.code, lines(&out.stdout).len()),
        (0, 9),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("grp:g1: cleared\n"));

    // maintail.
    let out = ctl.run(&["maintail"]);
    assert!(
        out.code == 0 && out.stdout.contains("entered RUNNING state"),
        "{out:?}"
    );
    let out = ctl.run(&["maintail", "-20"]);
    assert_eq!(out.stdout.len(), 21, "{:?}", out.stdout);
    expect(&ctl.run(&["maintail", "x"]), 1, "Error: bad argument x\n");
    assert_eq!(ctl.run(&["maintail", "a", "b"]).code, 1);

    // avail, version.
    let out = ctl.run(&["avail"]);
    assert_eq!(out.code, 0);
    assert!(out
        .stdout
        .contains("fail                             in use    manual    999:999\n"));
    assert!(out
        .stdout
        .contains("grp:g1                           in use    auto      999:999\n"));
    expect(&ctl.run(&["version"]), 0, "4.3.0\n");
    assert_eq!(ctl.run(&["version", "x"]).code, 1);
    assert_eq!(ctl.run(&["avail", "x"]).code, 1);

    // reread / update / add / remove.
    expect(&ctl.run(&["reread"]), 0, "No config updates to processes\n");
    expect(&ctl.run(&["update"]), 0, "");
    let text = fs::read_to_string(&ctl.conf).expect("conf");
    fs::write(
        &ctl.conf,
        text.replace("programs=g1,g2", "programs=g1")
            + "\n[program:newprog]\ncommand=sleep 999\nstartsecs=0\n",
    )
    .expect("write conf");
    let reread = if ours {
        "g2: available\ngrp: changed\n  grp:g2: gone: will be stopped and removed\nnewprog: available\n"
    } else {
        "g2: available\ngrp: changed\nnewprog: available\n"
    };
    expect(&ctl.run(&["reread"]), 0, reread);
    expect(
        &ctl.run(&["update", "nope", "newprog"]),
        1,
        "ERROR: no such group: nope\nnewprog: added process group\n",
    );
    let update = if ours {
        "grp:g2: stopped and removed\ng2: added process group\n"
    } else {
        "grp: stopped\ngrp: updated process group\ng2: added process group\n"
    };
    expect(&ctl.run(&["update"]), 0, update);
    expect(
        &ctl.run(&["add", "newprog"]),
        0,
        "ERROR: process group already active\n",
    );
    expect(
        &ctl.run(&["add", "nope"]),
        1,
        "ERROR: no such process/group: nope\n",
    );
    expect(
        &ctl.run(&["remove", "newprog"]),
        1,
        "ERROR: process/group still running: newprog\n",
    );
    expect(&ctl.run(&["stop", "newprog"]), 0, "newprog: stopped\n");
    expect(
        &ctl.run(&["remove", "newprog"]),
        0,
        "newprog: removed process group\n",
    );
    expect(
        &ctl.run(&["remove", "newprog"]),
        1,
        "ERROR: no such process/group: newprog\n",
    );
    expect(
        &ctl.run(&["add", "newprog"]),
        0,
        "newprog: added process group\n",
    );
    fs::write(&ctl.conf, text).expect("restore conf");
    let update = if ours {
        "grp:g2: added\n"
    } else {
        "grp: stopped\ngrp: updated process group\n"
    };
    expect_any_order(
        &ctl.run(&["update"]),
        0,
        &format!(
            "newprog: stopped\nnewprog: removed process group\ng2: stopped\n\
             g2: removed process group\n{update}"
        ),
    );

    // help, syntax.
    expect(&ctl.run(&["help", "bogus"]), 0, "*** No help on bogus\n");
    expect(&ctl.run(&["bogus"]), 1, "*** Unknown syntax: bogus\n");
    expect(
        &ctl.run(&["open", "ftp://x"]),
        1,
        "ERROR: url must be http:// or unix://\n",
    );
    let out = ctl.run(&["fg", "fail"]);
    expect(&out, 1, "ERROR: process not running\n");
    expect(
        &ctl.run(&["fg", "nope"]),
        1,
        "ERROR: bad process name supplied\n",
    );
}

#[test]
fn every_command_against_our_daemon() {
    let (_d, ctl) = our_daemon("ctl-ours");
    command_set(&ctl, true);
}

#[test]
fn every_command_against_python_supervisord() {
    let Some(d) = PyDaemon::start("ctl-py", &conf()) else {
        return;
    };
    let ctl = Ctl::ours(&d.conf);
    wait_running(&ctl);
    command_set(&ctl, false);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[test]
fn connection_errors_are_one_line_with_supervisors_exit_codes() {
    let dir = TempDir::new("ctl-conn");
    let conf = dir.path().join("ctl.conf");
    let port = free_port();
    fs::write(
        &conf,
        format!("[supervisorctl]\nserverurl=http://127.0.0.1:{port}\n"),
    )
    .unwrap();
    let ctl = Ctl::ours(&conf);
    let url = format!("http://127.0.0.1:{port}");
    expect(
        &ctl.run(&["status"]),
        4,
        &format!("{url} refused connection\n"),
    );
    expect(
        &ctl.run(&["start", "x"]),
        4,
        &format!("{url} refused connection\n"),
    );
    expect(
        &ctl.run(&["reread"]),
        1,
        &format!("error: {url} refused connection\n"),
    );
    expect(
        &ctl.run(&["shutdown"]),
        1,
        &format!("ERROR: {url} refused connection (already shut down?)\n"),
    );
    let sock = "unix:///nonexistent/ctl.sock";
    expect(
        &ctl.run(&["-s", sock, "status"]),
        4,
        &format!("{sock} no such file\n"),
    );
    expect(
        &ctl.run(&["-s", sock, "pid"]),
        7,
        &format!("{sock} no such file\n"),
    );
    expect(
        &ctl.run(&["-s", sock, "avail"]),
        1,
        &format!("error: {sock} no such file\n"),
    );
    expect(
        &ctl.run(&["-s", "localhost:9", "status"]),
        1,
        "error: Unknown protocol for serverurl localhost:9\n",
    );
    // The shell reports the same lines and carries on.
    let out = ctl.run_input(&[], "reread\nversion\nquit\n");
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        format!(
            "{url} refused connection\nsupervisor> error: {url} refused connection\n\
             supervisor> {url} refused connection\nsupervisor> \n"
        )
    );
}

#[test]
fn options_and_config_file() {
    let d = Daemon::start("ctl-opts", &conf());
    let ours = Ctl::ours(&d.conf);
    wait_running(&ours);
    let sock = format!("unix://{}", d.path("sock").display());
    // No [supervisorctl] section: fatal, unless -s names the server (T1).
    let bare = d.path("bare.conf");
    fs::write(&bare, "[supervisord]\n").unwrap();
    let bare_ctl = Ctl::ours(&bare);
    let out = bare_ctl.run(&["status", "sleeper"]);
    assert_eq!(out.code, 2);
    assert!(out
        .stderr
        .starts_with("Error: .ini file does not include supervisorctl section\nFor help, use "));
    assert_eq!(bare_ctl.run(&["-s", &sock, "status", "sleeper"]).code, 0);
    let missing = Ctl::ours(&d.path("missing.conf"));
    let out = missing.run(&["status"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with(&format!(
        "Error: could not find config file {}",
        d.path("missing.conf").display()
    )));
    // A relative unix:// path in the file is relative to the working directory.
    let rel = d.path("rel.conf");
    fs::write(&rel, "[supervisorctl]\nserverurl=unix://sock\nprompt=rs\n").unwrap();
    let mut cmd = Ctl::ours(&rel).command(&["status", "cat"]);
    cmd.current_dir(d.dir.path());
    assert_eq!(run_cmd(cmd, None, 30).code, 0);
    // The prompt comes from the file.
    let mut cmd = Ctl::ours(&rel).command(&[]);
    cmd.current_dir(d.dir.path());
    let out = run_cmd(cmd, Some("version\n"), 30);
    assert!(out.stdout.contains("rs> 4.3.0\nrs> \n"), "{}", out.stdout);
    // -i with a command runs it, then the shell (T2); --history-file is accepted (T3).
    let hist = d.path("hist");
    let out = ours.run_input(
        &["-i", "--history-file", hist.to_str().unwrap(), "version"],
        "pid cat\n",
    );
    assert!(
        out.stdout.starts_with("4.3.0\nsupervisor> "),
        "{}",
        out.stdout
    );
    // open switches the session to another server and shows its status.
    let out = Ctl::ours(&d.path("rel.conf")).run_input(&[], &format!("open {sock}\npid cat\n"));
    let after_open = &out.stdout[out.stdout.find("rs> ").unwrap_or(0)..];
    assert!(
        after_open.starts_with("rs> cat                              RUNNING   pid "),
        "{}",
        out.stdout
    );
    // Option errors.
    let out = ours.run(&["-Z"]);
    assert_eq!(out.code, 2);
    assert!(out
        .stderr
        .starts_with("Error: option -Z not recognized\nFor help, use "));
    let out = ours.run(&["-s", "127.0.0.1:9001", "status"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with(
        "Error: invalid value for -s '127.0.0.1:9001': value '127.0.0.1:9001' is not a URL\n"
    ));
    let out = ours.run(&["-s", "http://a", "-s", "http://b"]);
    assert!(out
        .stderr
        .starts_with("Error: conflicting command line option '-s'"));
    let out = ours.run(&["--help"]);
    assert!(
        out.code == 0 && out.stdout.contains("-r/--history-file"),
        "{out:?}"
    );
}

#[test]
fn authentication_over_tcp() {
    let port = free_port();
    let body = format!(
        "{}\n[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword=123\n",
        conf()
    );
    let d = Daemon::start("ctl-auth", &body);
    let url = format!("http://127.0.0.1:{port}");
    let ours = Ctl::ours(&d.conf);
    wait_running(&ours);
    let out = ours.run(&["-s", &url, "-u", "user", "-p", "123", "status", "cat"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // One line and exit 1 instead of 4.3's line plus a Python ProtocolError (T4).
    expect(
        &ours.run(&["-s", &url, "status"]),
        1,
        "Server requires authentication\n",
    );
    expect(
        &ours.run(&["-s", &url, "-u", "user", "-p", "bad", "version"]),
        1,
        "Server requires authentication\n",
    );
    // The shell asks for credentials and retries the command.
    let out = ours.run_input(&["-s", &url], "user\n123\nversion\nquit\n");
    assert!(
        out.stdout
            .starts_with("Server requires authentication\nUsername:Password:\ncat   "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("supervisor> 4.3.0\n"), "{}", out.stdout);
    // Log following sends the credentials too.
    let mut follow = ours
        .command(&[
            "-s", &url, "-u", "user", "-p", "123", "tail", "-f", "echoer",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = Collector::new(follow.stdout.take().unwrap());
    let seen = stdout.wait_for("line1", 20);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(follow.id() as i32, libc::SIGINT) };
    let status = follow.wait().unwrap();
    assert!(
        seen.contains("==> Press Ctrl-C to exit <==\nline0\nline1\n"),
        "{seen}"
    );
    assert_eq!(status.code(), Some(0));
}
