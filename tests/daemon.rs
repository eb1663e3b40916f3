//! Integration tests of the core daemon: the real supervisord binary in a temp dir, observed
//! through its main log, the child log files and /proc.

mod common;

use common::rpc::{call, s};
use common::*;
use std::fs;

#[test]
fn programs_start_in_priority_order() {
    let d = Daemon::start(
        "prio",
        "[program:c]\ncommand=sleep 1001\npriority=300\nstartsecs=0\n\
         [program:a]\ncommand=sleep 1002\npriority=100\nstartsecs=0\n\
         [program:b]\ncommand=sleep 1003\npriority=200\nstartsecs=0\n",
    );
    d.wait_count("entered RUNNING state", 3, 10);
    let log = d.log();
    let pos = |n: &str| log.find(&format!("spawned: '{n}'")).expect(n);
    assert!(pos("a") < pos("b") && pos("b") < pos("c"), "{log}");
    for (name, arg) in [("a", "1002"), ("b", "1003"), ("c", "1001")] {
        let pid = d.pid_of(name).expect("pid");
        assert!(cmdline(pid).contains(arg), "{name}: {}", cmdline(pid));
    }
}

#[test]
fn crashing_program_backs_off_then_goes_fatal() {
    let d = Daemon::start(
        "backoff",
        "[program:crash]\ncommand=/bin/sh -c 'echo dying >&2; exit 1'\nstartretries=2\n",
    );
    d.wait_log(
        "gave up: crash entered FATAL state, too many start retries too quickly",
        20,
    );
    let log = d.log();
    assert_eq!(log.matches("spawned: 'crash'").count(), 3, "{log}");
    assert_eq!(
        log.matches("exited: crash (exit status 1; not expected)")
            .count(),
        3
    );
    // The child's stderr went to its AUTO log.
    let auto: Vec<_> = fs::read_dir(d.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("crash-stderr---supervisor-")
        })
        .collect();
    assert_eq!(auto.len(), 1);
    let text = fs::read_to_string(auto[0].path()).unwrap();
    assert_eq!(text, "dying\ndying\ndying\n");
}

#[test]
fn spawn_error_names_the_command() {
    let d = Daemon::start(
        "spawnerr",
        "[program:ghost]\ncommand=/nonexistent/ghost --x\nstartretries=0\n",
    );
    d.wait_log("spawnerr: can't find command '/nonexistent/ghost'", 10);
    d.wait_log("gave up: ghost entered FATAL state", 10);
    assert!(!d.log().contains("spawned: 'ghost'"));
}

#[test]
fn autorestart_unexpected_respects_exitcodes() {
    let d = Daemon::start(
        "exitcodes",
        "[program:expected]\ncommand=/bin/sh -c 'sleep 0.1; exit 2'\nstartsecs=0\nexitcodes=0,2\n\
         [program:unexpected]\ncommand=/bin/sh -c 'sleep 0.1; exit 3'\nstartsecs=0\nexitcodes=0,2\n",
    );
    // Both exit at the same pace; by the time the unexpected one has been restarted three
    // times, an (erroneous) restart of the expected one would have happened as well.
    d.wait_count("spawned: 'unexpected'", 4, 20);
    let log = d.log();
    assert_eq!(log.matches("spawned: 'expected'").count(), 1, "{log}");
    assert!(log.contains("exited: expected (exit status 2; expected)"));
    assert!(log.contains("WARN exited: unexpected (exit status 3; not expected)"));
}

#[test]
fn sigterm_ignoring_child_is_killed_after_stopwaitsecs() {
    let mut d = Daemon::start(
        "stopwait",
        "[program:stubborn]\ncommand=/bin/sh -c 'trap \"\" TERM; echo ready; while :; do sleep 0.05; done'\n\
         startsecs=0\nstopwaitsecs=1\nstdout_logfile={dir}/stubborn.out\n",
    );
    wait_until(10, "stubborn ready", || {
        fs::read_to_string(d.path("stubborn.out")).is_ok_and(|s| s.contains("ready"))
    });
    let pid = d.pid_of("stubborn").expect("pid");
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait_exit(20), Some(0), "{}", d.log());
    let log = d.log();
    assert!(log.contains("received SIGTERM indicating exit request"));
    assert!(
        log.contains(&format!("killing 'stubborn' ({pid}) with SIGKILL")),
        "{log}"
    );
    assert!(
        log.contains("stopped: stubborn (terminated by SIGKILL)"),
        "{log}"
    );
    assert!(!pid_alive(pid));
}

#[test]
fn stopasgroup_kills_the_grandchild() {
    let mut d = Daemon::start(
        "stopasgroup",
        "[program:parent]\ncommand=/bin/sh -c 'sleep 1000 & echo $! > {dir}/gc.pid; wait'\n\
         startsecs=0\nstopasgroup=true\n",
    );
    wait_until(10, "grandchild pid file", || {
        fs::read_to_string(d.path("gc.pid")).is_ok_and(|s| s.ends_with('\n'))
    });
    let gc: i32 = fs::read_to_string(d.path("gc.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid_alive(gc));
    assert_eq!(d.stop(), Some(0));
    wait_until(10, "grandchild gone", || !pid_alive(gc));
}

#[test]
fn log_rotation_loses_no_line() {
    let lines = 30000;
    let d = Daemon::start(
        "rotate",
        &format!(
            "[program:burst]\ncommand=/bin/sh -c 'seq 1 {lines}; exec sleep 1000'\nstartsecs=0\n\
             stdout_logfile={{dir}}/burst.log\nstdout_logfile_maxbytes=8KB\nstdout_logfile_backups=100\n"
        ),
    );
    let read_all = || -> Vec<String> {
        let mut parts = Vec::new();
        for i in (1..=100).rev() {
            if let Ok(t) = fs::read_to_string(d.path(&format!("burst.log.{i}"))) {
                assert!(t.len() <= 8192, "backup {i} has {} bytes", t.len());
                parts.push(t);
            }
        }
        parts.push(fs::read_to_string(d.path("burst.log")).unwrap_or_default());
        parts.concat().lines().map(String::from).collect()
    };
    wait_until(20, "all lines logged", || read_all().len() >= lines);
    let got = read_all();
    let want: Vec<String> = (1..=lines).map(|i| i.to_string()).collect();
    assert_eq!(got.len(), want.len());
    assert!(
        got == want,
        "lines lost, duplicated or reordered across rotation"
    );
    assert!(d.path("burst.log.10").exists());
}

/// A child writing as fast as it can is spliced into its log and its pipe grown: every byte
/// still arrives, in order, with and without rotation.
#[test]
fn a_fast_writer_loses_no_byte() {
    let d = Daemon::configure("fast", "");
    let src: String = (0..1_200_000).map(|i| format!("{i:09}\n")).collect();
    fs::write(d.path("src.txt"), &src).unwrap();
    // Not at debug level: the main log would want to see the bytes, which rules out splice.
    d.write_conf_at(
        "info",
        "[program:plain]\ncommand=cat {dir}/src.txt\nstartsecs=0\nautorestart=false\n\
         stdout_logfile={dir}/plain.log\nstdout_logfile_maxbytes=0\n\n\
         [program:rotated]\ncommand=cat {dir}/src.txt\nstartsecs=0\nautorestart=false\n\
         stdout_logfile={dir}/rotated.log\nstdout_logfile_maxbytes=4MB\n\
         stdout_logfile_backups=10\n",
    );
    let d = d.spawn(&["-n"]);
    d.wait_count("exited: ", 2, 60);
    assert!(
        fs::read_to_string(d.path("plain.log")).unwrap() == src,
        "plain.log differs"
    );
    let mut rotated = String::new();
    for i in (1..=10).rev() {
        if let Ok(t) = fs::read_to_string(d.path(&format!("rotated.log.{i}"))) {
            assert!(
                t.len() <= 4 * 1024 * 1024,
                "backup {i} has {} bytes",
                t.len()
            );
            rotated.push_str(&t);
        }
    }
    rotated.push_str(&fs::read_to_string(d.path("rotated.log")).unwrap());
    assert!(d.path("rotated.log.2").exists());
    assert!(rotated == src, "rotated logs differ");
}

/// A child writing small pieces in quick succession (seq's 4 KiB blocks) is rested between
/// reads (`OutputChannel::take_rest`), alone in its daemon so that its reads stay small: every
/// byte arrives, and the rested pipe is watched again (else seq would block on it for good).
#[test]
fn quick_small_pieces_are_all_logged() {
    let d = Daemon::configure("pieces", "");
    d.write_conf_at(
        "info",
        "[program:pieces]\ncommand=seq 1 300000\nstartsecs=0\nautorestart=false\n\
         stdout_logfile={dir}/pieces.log\nstdout_logfile_maxbytes=0\n",
    );
    let d = d.spawn(&["-n"]);
    d.wait_log("exited: pieces", 30);
    let seq: String = (1..=300_000).map(|i| format!("{i}\n")).collect();
    assert!(
        fs::read_to_string(d.path("pieces.log")).unwrap() == seq,
        "pieces.log differs"
    );
}

#[test]
fn a_reload_that_fails_on_the_config_exits_2_without_leaving_its_pidfile() {
    let mut d = Daemon::start(
        "reload-bad",
        "[program:svc]\ncommand=sleep 2003\nstartsecs=0\n",
    );
    d.wait_log("success: svc entered RUNNING state", 10);
    assert!(d.path("supervisord.pid").exists());
    d.write_conf("[program:svc]\ncommand=sleep 2003\n[program:bad]\n");
    d.signal(libc::SIGHUP);
    assert_eq!(d.wait_exit(20), Some(2), "{}", d.stderr());
    assert!(d.stderr().contains("program:bad"), "{}", d.stderr());
    assert!(!d.path("supervisord.pid").exists(), "stale pidfile");
}

#[test]
fn sighup_reload_picks_up_a_changed_command() {
    let d = Daemon::start("reload", "[program:svc]\ncommand=sleep 2001\nstartsecs=0\n");
    d.wait_log("success: svc entered RUNNING state", 10);
    let old = d.pid_of("svc").unwrap();
    d.write_conf("[program:svc]\ncommand=sleep 2002\nstartsecs=0\n");
    d.signal(libc::SIGHUP);
    d.wait_log("received SIGHUP indicating restart request", 10);
    d.wait_count("success: svc entered RUNNING state", 2, 20);
    let new = d.pid_of("svc").unwrap();
    assert_ne!(old, new);
    assert!(cmdline(new).contains("2002"), "{}", cmdline(new));
    assert!(!pid_alive(old));
    // Same daemon process across the restart.
    assert!(pid_alive(d.pid));
    assert_eq!(d.count("supervisord started with pid"), 2);
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        assert_eq!(
            d.count("CRIT Supervisor is running as root"),
            2,
            "once per start"
        );
    }
}

/// The startup lines in 4.3's order: the config's messages, then per server its RPC line
/// and its missing-authentication CRIT, then "started".
#[test]
fn startup_lines_in_supervisors_order() {
    let d = Daemon::start(
        "startorder",
        &format!("{RPC}[program:x]\ncommand=sleep 2004\n"),
    );
    let log = d.log();
    let at = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in\n{log}"))
    };
    let rpc = at("INFO RPC interface 'supervisor' initialized");
    let crit =
        at("CRIT Server 'unix_http_server' running without any HTTP authentication checking");
    assert!(
        rpc < crit && crit < at("supervisord started with pid"),
        "{log}"
    );
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        assert!(at("CRIT Supervisor is running as root") < rpc, "{log}");
    }
}

#[test]
fn config_error_names_file_line_and_exits_2() {
    let dir = TempDir::new("conferr");
    let conf = dir.path().join("bad.conf");
    fs::write(
        &conf,
        "[supervisord]\nlogfile=/tmp/x.log\n\n[program:x]\ncommand=sleep 1\nautostart=maybe\n",
    )
    .unwrap();
    let (code, _, err) = run_supervisord(&["-n", "-c", conf.to_str().unwrap()], dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("Error: not a valid boolean value: 'maybe'"),
        "{err}"
    );
    assert!(err.contains(&conf.display().to_string()), "{err}");
    assert!(err.contains("line: 6"), "{err}");
    assert!(err.contains("autostart"), "{err}");
    assert!(err.contains("For help, use"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = TempDir::new("usage");
    let (code, _, err) = run_supervisord(&["-x"], dir.path());
    assert_eq!(code, 2);
    assert!(
        err.starts_with("Error: option -x not recognized\nFor help, use"),
        "{err}"
    );
    let (code, _, err) = run_supervisord(&["-c", "/nonexistent.conf"], dir.path());
    assert_eq!(code, 2);
    assert!(
        err.starts_with("Error: could not find config file /nonexistent.conf"),
        "{err}"
    );
    let (code, out, _) = run_supervisord(&["-v"], dir.path());
    assert_eq!((code, out.as_str()), (0, "4.3.0\n"));
}

#[test]
fn sigusr2_reopens_logs() {
    let d = Daemon::start(
        "reopen",
        "[program:talker]\ncommand=/bin/sh -c 'while :; do echo tick; sleep 0.05; done'\n\
         startsecs=0\nstdout_logfile={dir}/talker.log\n",
    );
    wait_until(10, "first output", || d.path("talker.log").exists());
    fs::rename(d.path("talker.log"), d.path("talker.log.old")).unwrap();
    fs::rename(d.path("supervisord.log"), d.path("main.old")).unwrap();
    d.signal(libc::SIGUSR2);
    wait_until(10, "reopened child log", || {
        fs::read_to_string(d.path("talker.log")).is_ok_and(|s| s.contains("tick"))
    });
    // The reopen is announced in the old file; the new one takes everything after it.
    let old = fs::read_to_string(d.path("main.old")).unwrap();
    assert!(old.contains("supervisord logreopen"), "{old}");
    d.wait_log("'talker' stdout output", 10);
}

/// Runs `supervisord -c <conf>` of `d` without -n and returns the pid in its pidfile and the
/// parent's stdout and stderr; the parent must exit 0 (once the daemon is ready). The caller
/// stops the daemon by that pid.
fn daemonize(d: &Daemon) -> (i32, String, String) {
    let (code, out, err) = run_supervisord(&["-c", d.conf.to_str().unwrap()], d.dir.path());
    assert_eq!(code, 0, "{err}");
    let pid = fs::read_to_string(d.path("supervisord.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (pid, out, err)
}

#[test]
fn daemonizes_and_writes_pidfile() {
    let d = Daemon::configure(
        "daemonize",
        "[program:s]\ncommand=sleep 3001\nstartsecs=0\n",
    );
    // The parent waited for readiness: the pidfile is already there.
    let (pid, _, _) = daemonize(&d);
    assert!(pid_alive(pid));
    assert_eq!(
        proc_status_field(pid, "PPid").as_deref().map(|p| p != "0"),
        Some(true)
    );
    wait_until(10, "program running", || {
        d.log().contains("success: s entered RUNNING")
    });
    // SAFETY: stopping the daemon we started, by its pid.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    wait_until(20, "daemon exit", || !pid_alive(pid));
    assert!(!d.path("supervisord.pid").exists());
    assert!(d.log().contains("supervisord stopped"));
}

#[test]
fn auto_logs_are_cleaned_at_start_unless_nocleanup() {
    let d = Daemon::configure("cleanup", "[program:s]\ncommand=sleep 3002\nstartsecs=0\n");
    let stale = d.path("old-stdout---supervisor-abcdefgh.log");
    fs::write(&stale, "stale").unwrap();
    let d = d.spawn(&["-n"]);
    d.wait_log("success: s entered RUNNING", 10);
    assert!(!stale.exists());
    let fresh = fs::read_dir(d.dir.path()).unwrap().flatten().any(|e| {
        e.file_name()
            .to_string_lossy()
            .starts_with("s-stdout---supervisor-")
    });
    assert!(fresh);
}

#[test]
fn child_environment_and_directory() {
    let d = Daemon::start(
        "env",
        "[program:envy]\ncommand=/bin/sh -c 'echo $SUPERVISOR_ENABLED $SUPERVISOR_PROCESS_NAME $SUPERVISOR_GROUP_NAME $FOO; pwd; exec sleep 1000'\n\
         startsecs=0\ndirectory={dir}\nenvironment=FOO=\"bar baz\"\nstdout_logfile={dir}/envy.log\n",
    );
    let expect = format!("1 envy envy bar baz\n{}\n", d.dir.path().display());
    wait_until(10, "env output", || {
        fs::read_to_string(d.path("envy.log")).is_ok_and(|s| s == expect)
    });
}

#[test]
fn idle_daemon_does_not_wake_up() {
    // With the control socket open: its threads must idle too.
    let mut body = String::from(
        "[unix_http_server]\nfile={dir}/sock\n\n[rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n",
    );
    for i in 0..100 {
        body.push_str(&format!(
            "[program:idle{i}]\ncommand=sleep 100000\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n"
        ));
    }
    let d = Daemon::start("idle", &body);
    d.wait_count("entered RUNNING state", 100, 30);
    // Summed over every thread of the daemon, not just the main one.
    let switches = || -> u64 {
        fs::read_dir(format!("/proc/{}/task", d.pid))
            .unwrap()
            .flatten()
            .filter_map(|t| {
                let tid: i32 = t.file_name().to_string_lossy().parse().ok()?;
                let text = fs::read_to_string(format!("/proc/{}/task/{tid}/status", d.pid)).ok()?;
                text.lines()
                    .find(|l| l.starts_with("voluntary_ctxt_switches:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|n| n.parse::<u64>().ok())
            })
            .sum()
    };
    let before = switches();
    std::thread::sleep(std::time::Duration::from_secs(10));
    let after = switches();
    assert!(
        after - before <= 2,
        "the idle daemon woke up {} times in 10 s",
        after - before
    );
}

#[test]
fn user_with_group_sets_primary_gid() {
    if !root_or_skip("switch users") {
        return;
    }
    // With a control socket, so the daemon has threads besides the loop's.
    let d = Daemon::start(
        "usergroup",
        &format!("{RPC}[program:nob]\ncommand=sleep 4001\nstartsecs=0\nuser=nobody:daemon\n"),
    );
    d.wait_log("success: nob entered RUNNING", 10);
    let pid = d.pid_of("nob").unwrap();
    // The child switches ids between fork and exec: wait for the exec'd program.
    wait_until(10, "sleep 4001 running", || cmdline(pid).contains("4001"));
    let uid = proc_status_field(pid, "Uid").unwrap();
    let gid = proc_status_field(pid, "Gid").unwrap();
    assert_eq!(uid.split_whitespace().next(), Some("65534"), "{uid}");
    assert_eq!(
        gid.split_whitespace().next(),
        Some("1"),
        "daemon group is gid 1: {gid}"
    );
    // The child shares the daemon's memory until exec (vfork-style spawn): switching its ids
    // must not have changed the ids of any daemon thread.
    let tasks = fs::read_dir(format!("/proc/{}/task", d.pid)).unwrap();
    let mut n = 0;
    for t in tasks.flatten() {
        let status = fs::read_to_string(t.path().join("status")).unwrap_or_default();
        for field in ["Uid:", "Gid:"] {
            let line = status.lines().find(|l| l.starts_with(field)).unwrap_or("");
            let ids: Vec<&str> = line.split_whitespace().skip(1).collect();
            assert_eq!(ids, ["0", "0", "0", "0"], "daemon thread {line}");
        }
        n += 1;
    }
    assert!(
        n >= 2,
        "the daemon runs its loop and an accept thread: {n} tasks"
    );
}

#[test]
fn container_logging_to_dev_stdout() {
    let d = Daemon::configure("devstdout", "");
    // The main log on stdout too, not silent: each line must appear once, not echoed twice.
    d.write_conf(
        "[supervisord]\nlogfile=/dev/stdout\nlogfile_maxbytes=0\n\n\
         [program:app]\ncommand=/bin/sh -c 'echo app-says-hi; echo app-err >&2; exec sleep 1000'\nstartsecs=0\n\
         stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\nstderr_logfile=/dev/stderr\nstderr_logfile_maxbytes=0\n",
    );
    let mut d = d.spawn_raw(&["-n"]);
    wait_until(10, "child output on the daemon's stdout", || {
        d.stdout().contains("app-says-hi") && d.stderr().contains("app-err")
    });
    wait_until(10, "RUNNING line", || {
        d.stdout().contains("success: app entered RUNNING")
    });
    assert_eq!(
        d.stdout().matches("supervisord started with pid").count(),
        1,
        "{}",
        d.stdout()
    );
    assert_eq!(d.stop(), Some(0));
}

/// Child output to /dev/stdout when supervisord's stdout is a file opened for appending:
/// splicing into it must not clear that file's O_APPEND (the description is shared with
/// whoever started us), or later writes of our own land on top of the child's output.
#[test]
fn child_output_to_an_appended_stdout_file_is_kept() {
    let d = Daemon::configure("devstdout-append", "");
    // Info level: below debug, output that only goes to a file is spliced.
    d.write_conf_at(
        "info",
        &format!(
            "{RPC}[program:app]\ncommand=/bin/sh -c 'echo app-output-line; exec sleep 1000'\n\
             startsecs=0\nstdout_logfile=/dev/stdout\n"
        ),
    );
    let d = d.spawn(&["-n"]);
    wait_until(10, "child output on the daemon's stdout", || {
        d.stdout().contains("app-output-line")
    });
    call(&d.path("sock"), "supervisor.stopProcess", &[s("app")]).expect("stop");
    wait_until(10, "the stop echoed to stdout", || {
        d.stdout().contains("stopped: app")
    });
    assert!(d.stdout().contains("app-output-line"), "{}", d.stdout());
    let fdinfo = fs::read_to_string(format!("/proc/{}/fdinfo/1", d.pid)).unwrap();
    let flags = fdinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .map(|f| u32::from_str_radix(f.trim(), 8).unwrap())
        .unwrap();
    assert_ne!(
        flags & libc::O_APPEND as u32,
        0,
        "O_APPEND cleared: {fdinfo}"
    );
}

/// Shutdown stops the highest priority first and waits for it; groups of equal priority stop
/// together (Supervisor stops them one by one, so a shutdown took the sum of their stop
/// times). Each program's TERM trap checks what it expects and exits 0 only if it holds.
#[test]
fn shutdown_by_priority_with_equal_priorities_together() {
    let d = Daemon::configure("shutorder", "");
    let dir = d.dir.path().to_path_buf();
    // e1 and e2 (priority 300) each wait up to 5 s for the other's TERM: stopped one by one,
    // the first would give up and exit 1.
    let pair = "trap 'touch \"$2/$1.term\"; i=0; \
                while [ ! -e \"$2/$3.term\" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; \
                [ -e \"$2/$3.term\" ]; exit $?' TERM\nwhile :; do sleep 0.05; done\n";
    // hi (200) takes a while to stop; lo (100) must see it finished.
    let hi = "trap 'sleep 0.3; touch \"$1/hi.done\"; exit 0' TERM\nwhile :; do sleep 0.05; done\n";
    let lo = "trap '[ -e \"$1/hi.done\" ]; exit $?' TERM\nwhile :; do sleep 0.05; done\n";
    for (name, text) in [("pair.sh", pair), ("hi.sh", hi), ("lo.sh", lo)] {
        fs::write(dir.join(name), text).unwrap();
    }
    d.write_conf(
        "[program:e1]\ncommand=/bin/sh {dir}/pair.sh e1 {dir} e2\npriority=300\nstartsecs=0\nstopwaitsecs=20\n\
         [program:e2]\ncommand=/bin/sh {dir}/pair.sh e2 {dir} e1\npriority=300\nstartsecs=0\nstopwaitsecs=20\n\
         [program:hi]\ncommand=/bin/sh {dir}/hi.sh {dir}\npriority=200\nstartsecs=0\nstopwaitsecs=20\n\
         [program:lo]\ncommand=/bin/sh {dir}/lo.sh {dir}\npriority=100\nstartsecs=0\nstopwaitsecs=20\n",
    );
    let mut d = d.spawn(&["-n"]);
    d.wait_count("entered RUNNING state", 4, 10);
    assert_eq!(d.stop(), Some(0));
    let log = d.log();
    let at = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing from:\n{log}"))
    };
    let (e1, e2) = (
        at("stopped: e1 (exit status 0)"),
        at("stopped: e2 (exit status 0)"),
    );
    let hi = at("stopped: hi (exit status 0)");
    let lo = at("stopped: lo (exit status 0)");
    assert!(e1.max(e2) < hi && hi < lo, "{log}");
}

/// supervisord(8): long options may be shortened to any unambiguous prefix, as 4.3's getopt
/// allows; and `user=` naming the user supervisord already runs as logs 4.3's line.
#[test]
fn abbreviated_long_options_and_the_set_uid_line() {
    let mut d = Daemon::configure("abbrev", "[program:a]\ncommand=sleep 1000\nstartsecs=0\n");
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let child = std::process::Command::new(bin("supervisord"))
        .arg("--nod")
        .arg(format!("--config={}", d.conf.display()))
        .arg(format!("--us={uid}"))
        .args(["--logl", "info", "--ident=abbr"])
        .current_dir(d.dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn supervisord");
    d.pid = child.id() as i32;
    d.child = Some(child);
    d.wait_log("success: a entered RUNNING", 10);
    let log = d.log();
    assert!(
        log.contains(&format!("INFO Set uid to user {uid} succeeded\n")),
        "{log}"
    );
    assert!(!log.contains("DEBG"), "--logl info applies:\n{log}");
    assert_eq!(d.stop(), Some(0));
}

/// At loglevel=debug child output goes to the main log; bytes that are not UTF-8 appear as
/// 4.3 shows them: `Undecodable: ` and the Python repr of the bytes.
#[test]
fn undecodable_output_in_the_main_log_is_pythons_bytes_repr() {
    let d = Daemon::start(
        "undecodable",
        "[program:bin]\ncommand=/bin/sh -c \"printf '\\210\\n'; exec sleep 1000\"\nstartsecs=0\n\
         [program:quote]\ncommand=/bin/sh -c \"printf \\\"it's \\\\210\\\\n\\\"; exec sleep 1000\"\nstartsecs=0\n",
    );
    d.wait_log("'bin' stdout output:\nUndecodable: b'\\x88\\n'\n", 10);
    d.wait_log(
        "'quote' stdout output:\nUndecodable: b\"it's \\x88\\n\"\n",
        10,
    );
}

/// Config warnings reach the terminal that starts a daemon (it detaches, and its log is not
/// echoed); merged duplicate sections are warned about; plugin keys get one INFO line.
#[test]
fn config_warnings_reach_stderr_before_detaching() {
    let mut body = String::from(
        "[prgram:app]\ncommand=sleep 1\n\n[program:a]\ncommand=sleep 3002\nstartsecs=0\n\
         autorestrat=true\n",
    );
    for n in 0..3 {
        body.push_str(&format!(
            "[program:dep{n}]\ncommand=sleep 300{n}\nautostart=false\ndependent_startup=true\n\
             dependent_startup_wait_for=a:running\n"
        ));
    }
    body.push_str("[program:a]\nstopwaitsecs=5\n");
    let d = Daemon::configure("warnstderr", &body);
    let (pid, out, err) = daemonize(&d);
    // SAFETY: stopping the daemon we started, by its pid (before any assertion can fail).
    let stop = || unsafe { libc::kill(pid, libc::SIGTERM) };
    let conf = d.conf.display().to_string();
    let expected = [
        format!("Warning: Unknown section 'prgram:app' (file: '{conf}', line: 7)\n"),
        format!(
            "Warning: Unknown key 'autorestrat' in section 'program:a' (file: '{conf}', line: 13)\n"
        ),
        format!(
            "Warning: Duplicate section 'program:a' (file: '{conf}', line: 29) is merged into the \
             first one (file: '{conf}', line: 10): a key set in both takes the later value\n"
        ),
    ];
    let missing: Vec<&String> = expected.iter().filter(|e| !err.contains(*e)).collect();
    let plugin = "INFO Ignoring the keys of the supervisord-dependent-startup plugin (read by the \
                  plugin, not by supervisord): 'dependent_startup', 'dependent_startup_wait_for' \
                  in 3 sections\n";
    wait_until(10, "started", || d.log().contains("supervisord started"));
    let log = d.log();
    stop();
    wait_until(20, "daemon exit", || !pid_alive(pid));
    assert!(missing.is_empty(), "missing {missing:?} in stderr:\n{err}");
    assert_eq!(err.matches("Warning: ").count(), 3, "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(log.matches(plugin).count(), 1, "{log}");
    assert!(!log.contains("Unknown key 'dependent_startup"), "{log}");
}
