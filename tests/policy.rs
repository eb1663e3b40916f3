//! Restart policy and essential programs end to end (issue #20): backoff timings read from the
//! main log, retry forever in BACKOFF with the wait in `status`, the daemon's exit status when
//! an essential program ends (also as PID 1 of a PID namespace), and the CPU cost of many
//! crash-looping programs.

mod common;

use common::rpc::{call, get, s, Value};
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CTL: &str = "[supervisorctl]\nserverurl=unix://{dir}/sock\n\n";

/// Milliseconds since midnight of a main-log line (`2026-12-06 01:23:26,924 INFO ...`).
fn stamp(line: &str) -> Option<i64> {
    let time = line.get(11..23)?;
    let (hms, ms) = time.split_once(',')?;
    let mut parts = hms.split(':').map(|p| p.parse::<i64>());
    let (h, m, s) = (
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    Some(((h * 60 + m) * 60 + s) * 1000 + ms.parse::<i64>().ok()?)
}

/// The waits between each `exited:` line of `name` and the `spawned:` line after it (ms).
fn waits(log: &str, name: &str) -> Vec<i64> {
    let exited = format!("exited: {name} ");
    let spawned = format!("spawned: '{name}' ");
    let mut out = Vec::new();
    let mut since = None;
    for line in log.lines() {
        if line.contains(&exited) {
            since = stamp(line);
        } else if line.contains(&spawned) {
            if let (Some(a), Some(b)) = (since.take(), stamp(line)) {
                out.push((b - a).rem_euclid(86_400_000));
            }
        }
    }
    out
}

fn ctl(bin: &Path, conf: &Path, args: &[&str]) -> String {
    let out = Command::new(bin)
        .arg("-c")
        .arg(conf)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run supervisorctl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `retrying in Ns (attempt K)` with N in 1..=max.
fn is_retry_text(text: &str, max: u64) -> bool {
    let Some(rest) = text.strip_prefix("retrying in ") else {
        return false;
    };
    let Some((n, tail)) = rest.split_once("s (attempt ") else {
        return false;
    };
    n.parse::<u64>().is_ok_and(|n| (1..=max).contains(&n))
        && tail
            .strip_suffix(')')
            .is_some_and(|k| k.parse::<u32>().is_ok())
}

#[test]
fn exponential_backoff_retried_forever_waits_1_2_4_4_seconds() {
    let d = Daemon::start(
        "pol-backoff",
        &format!(
            "{RPC}{CTL}[program:p]\ncommand=/bin/sh -c 'exit 3'\nstartsecs=1\nstartretries=1\n\
             backoff=exponential\nbackoff_max_secs=4\nretry_forever=true\n"
        ),
    );
    // Five spawns: four waits, and with startretries=1 it would have been FATAL after two.
    d.wait_count("spawned: 'p'", 5, 40);
    let got = waits(&d.log(), "p");
    let want = [1000, 2000, 4000, 4000];
    for (i, (&w, &g)) in want.iter().zip(&got).enumerate() {
        // The loop sleeps until the deadline: never early; late only by scheduling.
        assert!(
            (w - 20..=w + 750).contains(&g),
            "wait {i}: {g} ms, expected {w} ms (all: {got:?})\n{}",
            d.log()
        );
    }
    eprintln!("measured backoff waits (ms): {got:?} for configured {want:?}");
    assert_eq!(d.count("gave up:"), 0);

    // While it waits, status shows the wait (ours, Python's, and the XML-RPC description).
    let sock = d.path("sock");
    let mut desc = String::new();
    wait_until(10, "BACKOFF with its wait", || {
        let info = call(&sock, "supervisor.getProcessInfo", &[s("p")]).expect("getProcessInfo");
        desc = match (get(&info, "statename"), get(&info, "description")) {
            (Some(Value::String(st)), Some(Value::String(de))) if st == "BACKOFF" => de.clone(),
            _ => String::new(),
        };
        !desc.is_empty()
    });
    assert!(is_retry_text(&desc, 4), "{desc:?}");
    let info = call(&sock, "supervisor.getProcessInfo", &[s("p")]).expect("getProcessInfo");
    assert_eq!(
        get(&info, "spawnerr"),
        Some(&s("Exited too quickly (process log may have details)")),
        "spawnerr keeps Supervisor's text"
    );
    let mut bins = vec![bin("supervisorctl")];
    if let Some(py) = venv_bin("supervisorctl") {
        bins.push(py);
    }
    for b in bins {
        let mut line = String::new();
        wait_until(10, "a BACKOFF status line", || {
            line = ctl(&b, &d.conf, &["status", "p"]);
            line.contains("BACKOFF")
        });
        let text = line
            .trim_end()
            .split_once("BACKOFF")
            .map(|(_, t)| t.trim().to_string())
            .unwrap_or_default();
        assert!(is_retry_text(&text, 4), "{}: {line:?}", b.display());
    }
}

#[test]
fn restart_delay_keeps_a_program_that_keeps_exiting_from_respawning_at_once() {
    let d = Daemon::start(
        "pol-restart",
        "[program:r]\ncommand=/bin/sh -c 'sleep 0.2; exit 0'\nstartsecs=0\nautorestart=true\n\
         restart_delay_secs=1\nbackoff=exponential\nbackoff_max_secs=2\n",
    );
    d.wait_count("spawned: 'r'", 4, 30);
    let got = waits(&d.log(), "r");
    for (i, (&w, &g)) in [1000, 2000, 2000].iter().zip(&got).enumerate() {
        assert!(
            (w - 20..=w + 750).contains(&g),
            "restart {i}: {g} ms, expected {w} ms (all: {got:?})\n{}",
            d.log()
        );
    }
    assert!(d
        .log()
        .contains("waiting 2.0s before restarting r (restart 2)"));
}

#[test]
fn an_essential_program_that_exits_ends_supervisord_with_its_status() {
    let mut d = Daemon::start(
        "pol-ess-exit",
        &format!(
            "{}[program:main]\ncommand=/bin/sh -c 'sleep 1; exit 7'\nstartsecs=0\nautorestart=false\n\
             essential=true\n\n[program:side]\ncommand=sleep 1000\nstartsecs=0\n",
            pool_recorder()
        ),
    );
    assert_eq!(d.wait_exit(30), Some(7), "{}", d.log());
    let log = d.log();
    assert!(
        log.contains(
            "CRIT essential process 'main' exited with status 7 and will not be restarted: \
             shutting down (supervisord exit status 7)"
        ),
        "{log}"
    );
    // The normal shutdown: the other program is stopped, the daemon says so.
    assert!(
        log.contains("stopped: side (terminated by SIGTERM)"),
        "{log}"
    );
    assert!(log.contains("supervisord stopped"), "{log}");
    assert!(!d.path("supervisord.pid").exists());
    if let Some(events) = recorded(&d) {
        assert!(
            events.contains("SUPERVISOR_STATE_CHANGE_STOPPING"),
            "{events}"
        );
    }
}

/// A listener for SUPERVISOR_STATE_CHANGE events (Python's childutils from the venv), or
/// nothing when the venv is missing.
fn pool_recorder() -> String {
    let Some(py) = venv_bin("python") else {
        return String::new();
    };
    let rec = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/events/recorder.py");
    format!(
        "[eventlistener:rec]\ncommand={} {} {{dir}}/rec.rec ok\nevents=SUPERVISOR_STATE_CHANGE\n\
         startsecs=0\n\n",
        py.display(),
        rec.display()
    )
}

fn recorded(d: &Daemon) -> Option<String> {
    venv_bin("python")?;
    Some(std::fs::read_to_string(d.path("rec.rec")).unwrap_or_default())
}

#[test]
fn an_essential_program_killed_by_a_signal_gives_128_plus_the_signal() {
    let mut d = Daemon::start(
        "pol-ess-sig",
        "[program:main]\ncommand=/bin/sh -c 'sleep 0.5; kill -USR1 $$'\nstartsecs=0\n\
         autorestart=false\nessential=true\n",
    );
    assert_eq!(d.wait_exit(30), Some(128 + libc::SIGUSR1), "{}", d.log());
    assert!(d
        .log()
        .contains("essential process 'main' was terminated by SIGUSR1"));
}

#[test]
fn an_essential_program_that_goes_fatal_gives_69() {
    let mut d = Daemon::start(
        "pol-ess-fatal",
        "[program:main]\ncommand=/bin/sh -c 'exit 1'\nstartsecs=1\nstartretries=1\n\
         essential=true\n\n[program:side]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    assert_eq!(d.wait_exit(30), Some(69), "{}", d.log());
    let log = d.log();
    assert!(log.contains("gave up: main entered FATAL state"), "{log}");
    assert!(
        log.contains("essential process 'main' entered FATAL state: shutting down (supervisord exit status 69)"),
        "{log}"
    );
    assert!(
        log.contains("stopped: side (terminated by SIGTERM)"),
        "{log}"
    );
}

#[test]
fn exit_on_fatal_ends_supervisord_when_any_program_goes_fatal() {
    let mut d = Daemon::configure(
        "pol-eof",
        "[program:flaky]\ncommand=/bin/sh -c 'exit 1'\nstartsecs=1\nstartretries=0\n",
    );
    let conf = std::fs::read_to_string(&d.conf).expect("conf");
    std::fs::write(
        &d.conf,
        conf.replacen("[supervisord]\n", "[supervisord]\nexit_on_fatal=true\n", 1),
    )
    .expect("conf");
    d = d.spawn(&["-n"]);
    assert_eq!(d.wait_exit(30), Some(69), "{}", d.log());
    assert!(d
        .log()
        .contains("process 'flaky' entered FATAL state and exit_on_fatal is set"));
}

#[test]
fn restarts_stops_and_clean_shutdowns_of_essential_programs_do_not_count() {
    // Exits 3 (unexpected): autorestart restarts it, supervisord stays.
    let mut d = Daemon::start(
        "pol-ess-ok",
        &format!(
            "{RPC}[program:main]\ncommand=/bin/sh -c 'sleep 0.3; exit 3'\nstartsecs=0\n\
             essential=true\n\n[program:held]\ncommand=sleep 1000\nstartsecs=0\nessential=true\n\
             \n[program:fatal]\ncommand=/bin/sh -c 'exit 1'\nstartsecs=1\nstartretries=0\n"
        ),
    );
    d.wait_count("spawned: 'main'", 3, 20);
    d.wait_log("gave up: fatal entered FATAL", 20);
    let sock = d.path("sock");
    // Stopped by hand: STOPPED, not an end. The rule runs on the state change, before
    // stopProcess answers, so its CRIT line would already be there.
    call(&sock, "supervisor.stopProcess", &[s("held")]).expect("stop");
    d.wait_log("stopped: held", 5);
    assert!(
        !d.log().contains("shutting down (supervisord"),
        "{}",
        d.log()
    );
    assert!(d
        .child
        .as_mut()
        .is_some_and(|c| c.try_wait().ok().flatten().is_none()));
    call(&sock, "supervisor.shutdown", &[]).expect("shutdown");
    assert_eq!(d.wait_exit(30), Some(0), "{}", d.log());
    assert!(!d.log().contains("shutting down (supervisord exit status"));
}

#[test]
fn as_pid_1_an_essential_programs_exit_status_is_the_containers() {
    if !unshare_or_skip() {
        return;
    }
    let d = Daemon::configure(
        "pol-pid1",
        "[program:main]\ncommand=/bin/sh -c 'sleep 1; exit 42'\nstartsecs=0\nautorestart=false\n\
         essential=true\n\n[program:side]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    let mut unshare = spawn_in_pid_namespace(&d);
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Ok(Some(status)) = unshare.try_wait() {
            break Some(status.code());
        }
        if Instant::now() > deadline {
            // Killing unshare would leave the namespace running: end its PID 1 instead.
            for pid in children(unshare.id() as i32) {
                // SAFETY: signalling the daemon this test started (unshare's child).
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            let _ = unshare.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(Some(42)), "{}", d.log());
    assert!(d.log().contains("stopped: side (terminated by SIGTERM)"));
}

/// utime + stime of `pid` in clock ticks.
fn cpu_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    // After the comm field: state is fields[0], utime is field 14 of the line (index 11 here).
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

#[test]
fn fifty_programs_retried_forever_cost_the_daemon_little_cpu() {
    let d = Daemon::start(
        "pol-cpu",
        "[program:crash]\ncommand=/bin/false\nnumprocs=25\n\
         process_name=%(program_name)s_%(process_num)02d\nstartsecs=1\nretry_forever=true\n\
         backoff=exponential\nbackoff_jitter=20\n\n\
         [program:quick]\ncommand=/bin/false\nnumprocs=25\n\
         process_name=%(program_name)s_%(process_num)02d\nstartsecs=0\nautorestart=true\n\
         restart_delay_secs=1\nbackoff=exponential\n",
    );
    // SAFETY: sysconf has no side effects.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let before = cpu_ticks(d.pid).expect("daemon stat");
    let spawns_before = d.count("spawned: ");
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(10));
    let used = cpu_ticks(d.pid).expect("daemon stat") - before;
    let secs = t.elapsed().as_secs_f64();
    let spawns = d.count("spawned: ") - spawns_before;
    let percent = used as f64 / hz / secs * 100.0;
    eprintln!(
        "daemon CPU with 50 crash-looping programs (25 failing starts with retry_forever, 25 \
         exiting from RUNNING with restart_delay_secs): \
         {percent:.2}% over {secs:.1} s, {spawns} spawns ({:.1}/s)",
        spawns as f64 / secs
    );
    assert_eq!(d.count("gave up:"), 0, "retry forever never gives up");
    // Unthrottled, each of these would spawn hundreds of times a second.
    assert!(spawns < 50 * 6, "{spawns} spawns in {secs:.1} s");
    assert!(percent < 15.0, "daemon used {percent:.2}% CPU");
}
