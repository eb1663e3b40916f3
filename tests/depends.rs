//! Dependencies end to end (issue #18, `depends_on`): a chain starts in dependency order
//! whatever the priorities say and stops in reverse, at shutdown and on `stop`; a start
//! request starts the stopped dependencies first; a FATAL dependency leaves its dependent
//! STOPPED with a description naming it; `depends_on_restart` follows a dependency's
//! restart; a cycle is a config error.

mod common;

use common::rpc::{call, get, s, Value};
use common::*;

/// The position of the first main-log line containing `needle` (panics if none).
fn line_of(log: &str, needle: &str) -> usize {
    log.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in the main log:\n{log}"))
}

/// A text member of `getProcessInfo(name)`.
fn info(d: &Daemon, name: &str, key: &str) -> String {
    let info = call(&d.path("sock"), "supervisor.getProcessInfo", &[s(name)])
        .unwrap_or_else(|e| panic!("getProcessInfo {name}: {e:?}"));
    match get(&info, key) {
        Some(Value::String(v)) => v.clone(),
        other => panic!("{key} {other:?}"),
    }
}

fn state(d: &Daemon, name: &str) -> String {
    info(d, name, "statename")
}

fn description(d: &Daemon, name: &str) -> String {
    info(d, name, "description")
}

/// `method(name, wait)`: startProcess or stopProcess.
fn act(d: &Daemon, method: &str, name: &str, wait: bool) -> Result<Value, (i64, String)> {
    call(&d.path("sock"), method, &[s(name), Value::Bool(wait)])
}

/// The stdout of `supervisorctl -c <conf> update`.
fn ctl_update(d: &Daemon) -> String {
    let out = std::process::Command::new(bin("supervisorctl"))
        .arg("-c")
        .arg(&d.conf)
        .arg("update")
        .output()
        .expect("supervisorctl update");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// db <- app <- worker with priorities that say the opposite (worker first, db last).
fn chain(autostart: bool) -> String {
    format!(
        "{RPC}[program:worker]\ncommand=sleep 1000\npriority=1\nstartsecs=1\n\
         autostart={autostart}\ndepends_on=app\n\
         [program:app]\ncommand=sleep 1000\npriority=2\nstartsecs=1\nautostart={autostart}\n\
         depends_on=db\n\
         [program:db]\ncommand=sleep 1000\npriority=3\nstartsecs=1\nautostart={autostart}\n"
    )
}

#[test]
fn chain_starts_in_dependency_order_and_stops_in_reverse_at_shutdown() {
    let mut d = Daemon::start("deps-chain", &chain(true));
    d.wait_log("success: worker entered RUNNING", 20);
    let log = d.log();
    // Each spawn waits for its dependency's RUNNING (after startsecs).
    assert!(line_of(&log, "success: db entered RUNNING") < line_of(&log, "spawned: 'app'"));
    assert!(line_of(&log, "success: app entered RUNNING") < line_of(&log, "spawned: 'worker'"));
    assert_eq!(d.stop(), Some(0));
    let log = d.log();
    // Priorities alone would stop db (highest) first.
    assert!(line_of(&log, "stopped: worker") < line_of(&log, "stopped: app"));
    assert!(line_of(&log, "stopped: app") < line_of(&log, "stopped: db"));
}

#[test]
fn start_request_starts_stopped_dependencies_first() {
    let d = Daemon::start("deps-pull", &chain(false));
    let r = act(&d, "supervisor.startProcess", "worker", true);
    assert_eq!(r, Ok(Value::Bool(true)));
    for name in ["db", "app", "worker"] {
        assert_eq!(state(&d, name), "RUNNING", "{name}");
    }
    let log = d.log();
    assert!(
        log.contains("app: starting it first (dependency of worker)"),
        "{log}"
    );
    assert!(
        log.contains("db: starting it first (dependency of app)"),
        "{log}"
    );
    assert!(line_of(&log, "success: db entered RUNNING") < line_of(&log, "spawned: 'app'"));
    assert!(line_of(&log, "success: app entered RUNNING") < line_of(&log, "spawned: 'worker'"));
}

#[test]
fn stop_of_a_dependency_stops_its_dependents_first() {
    let d = Daemon::start("deps-stop", &chain(true));
    d.wait_log("success: worker entered RUNNING", 20);
    let r = act(&d, "supervisor.stopProcess", "db", true);
    assert_eq!(r, Ok(Value::Bool(true)));
    for name in ["db", "app", "worker"] {
        assert_eq!(state(&d, name), "STOPPED", "{name}");
    }
    let log = d.log();
    assert!(line_of(&log, "stopped: worker") < line_of(&log, "stopped: app"));
    assert!(line_of(&log, "stopped: app") < line_of(&log, "stopped: db"));
    // Stopping a dependent alone leaves its dependencies alone.
    act(&d, "supervisor.startProcess", "worker", true).expect("start worker");
    act(&d, "supervisor.stopProcess", "worker", true).expect("stop worker");
    assert_eq!(state(&d, "app"), "RUNNING");
    assert_eq!(state(&d, "db"), "RUNNING");
}

#[test]
fn a_fatal_dependency_leaves_the_dependent_stopped_and_named() {
    let d = Daemon::start(
        "deps-fatal",
        &format!(
            "{RPC}[program:db]\ncommand=/bin/sh -c 'exit 3'\nstartsecs=1\nstartretries=0\n\
             autostart=false\n\
             [program:app]\ncommand=sleep 1000\nautostart=false\ndepends_on=db\n"
        ),
    );
    let r = act(&d, "supervisor.startProcess", "app", true);
    assert!(matches!(r, Err((50, _))), "SPAWN_ERROR expected: {r:?}");
    assert_eq!(state(&d, "db"), "FATAL");
    assert_eq!(state(&d, "app"), "STOPPED");
    assert_eq!(
        description(&d, "app"),
        "not started: dependency db is FATAL"
    );
    assert_eq!(d.count("spawned: 'app'"), 0);
}

#[test]
fn autostart_waits_for_a_dependency_started_by_hand() {
    let d = Daemon::start(
        "deps-wait",
        &format!(
            "{RPC}[program:db]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\n\
             [program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db\n"
        ),
    );
    assert_eq!(state(&d, "app"), "STOPPED");
    // The loop sleeps meanwhile: app is only re-evaluated when db changes state.
    let switches = || {
        proc_status_field(d.pid, "voluntary_ctxt_switches")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .expect("voluntary_ctxt_switches")
    };
    let before = switches();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let woke = switches() - before;
    assert!(woke <= 2, "the daemon woke {woke} times while app waited");
    assert_eq!(state(&d, "app"), "STOPPED");
    act(&d, "supervisor.startProcess", "db", true).expect("start db");
    wait_until(10, "app RUNNING", || state(&d, "app") == "RUNNING");
}

#[test]
fn depends_on_restart_follows_a_dependency_restart() {
    let d = Daemon::start(
        "deps-follow",
        &format!(
            "{RPC}[program:db]\ncommand=sleep 1000\nstartsecs=0\n\
             [program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db\n\
             depends_on_restart=true\n\
             [program:other]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db\n"
        ),
    );
    wait_until(10, "all RUNNING", || {
        state(&d, "app") == "RUNNING" && state(&d, "other") == "RUNNING"
    });
    act(&d, "supervisor.stopProcess", "db", true).expect("stop");
    assert_eq!(state(&d, "app"), "STOPPED");
    assert_eq!(state(&d, "other"), "STOPPED");
    act(&d, "supervisor.startProcess", "db", true).expect("start");
    // app follows db; other (no depends_on_restart) stays stopped.
    wait_until(10, "app RUNNING again", || state(&d, "app") == "RUNNING");
    assert_eq!(state(&d, "other"), "STOPPED");
    // A crash and autorestart of db restarts app too.
    let app_pid = d.pid_of("app").expect("app pid");
    let db_pid = d.pid_of("db").expect("db pid");
    // SAFETY: a child of the daemon this test started.
    unsafe { libc::kill(db_pid, libc::SIGKILL) };
    wait_until(10, "app restarted", || {
        d.pid_of("app").is_some_and(|p| p != app_pid) && state(&d, "app") == "RUNNING"
    });
}

#[test]
fn a_cycle_is_a_config_error_naming_every_member() {
    let dir = TempDir::new("deps-cycle");
    let conf = dir.path().join("supervisord.conf");
    std::fs::write(
        &conf,
        "[supervisord]\nlogfile=/dev/null\n\
         [program:a]\ncommand=sleep 1\ndepends_on=b\n\
         [program:b]\ncommand=sleep 1\ndepends_on=a\n",
    )
    .expect("write conf");
    let (code, _, err) = run_conf(&conf, dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("depends_on makes a cycle: a -> b -> a"),
        "{err}"
    );
    assert!(err.contains("line: 5, key: 'depends_on'"), "{err}");
    assert!(err.contains("line: 8, key: 'depends_on'"), "{err}");
}

#[test]
fn start_all_follows_dependencies_across_groups() {
    let d = Daemon::start(
        "deps-all",
        &format!(
            "{RPC}[program:front]\ncommand=sleep 1000\npriority=1\nstartsecs=1\nautostart=false\n\
             depends_on=back:*\n\
             [program:api]\ncommand=sleep 1000\nstartsecs=1\nautostart=false\n\
             [program:cache]\ncommand=sleep 1000\nstartsecs=1\nautostart=false\n\
             [group:back]\nprograms=api,cache\npriority=5\n"
        ),
    );
    let r = call(
        &d.path("sock"),
        "supervisor.startAllProcesses",
        &[Value::Bool(true)],
    )
    .expect("startAllProcesses");
    let Value::Array(results) = r else {
        panic!("array expected: {r:?}")
    };
    assert_eq!(results.len(), 3, "{results:?}");
    for res in &results {
        assert_eq!(get(res, "description"), Some(&s("OK")), "{results:?}");
    }
    let log = d.log();
    let front = line_of(&log, "spawned: 'front'");
    assert!(
        line_of(&log, "success: api entered RUNNING") < front,
        "{log}"
    );
    assert!(
        line_of(&log, "success: cache entered RUNNING") < front,
        "{log}"
    );
}

#[test]
fn update_applies_added_and_changed_dependencies() {
    let body = |deps: &str| {
        format!(
            "{RPC}[supervisorctl]\nserverurl=unix://{{dir}}/sock\n\
             [program:db]\ncommand=sleep 1000\nstartsecs=0\n\
             [program:app]\ncommand=sleep 1000\nstartsecs=0\n{deps}"
        )
    };
    let d = Daemon::start("deps-update", &body(""));
    wait_until(10, "app RUNNING", || state(&d, "app") == "RUNNING");
    d.write_conf(&body(
        "depends_on=db\n[program:worker]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=app\n",
    ));
    let text = ctl_update(&d);
    assert!(text.contains("app: restarted (depends_on)"), "{text}");
    assert!(text.contains("worker: added process group"), "{text}");
    wait_until(10, "worker RUNNING", || state(&d, "worker") == "RUNNING");
    // The new links hold: stopping db stops worker, then app, first.
    act(&d, "supervisor.stopProcess", "db", true).expect("stop db");
    let log = d.log();
    let db = log.rfind("stopped: db").expect("db stopped");
    let app = log.rfind("stopped: app").expect("app stopped");
    let worker = log.rfind("stopped: worker").expect("worker stopped");
    assert!(worker < app && app < db, "{log}");
}

#[test]
fn stopping_a_starting_dependency_gives_up_the_held_start() {
    let d = Daemon::start(
        "deps-giveup",
        &format!(
            "{RPC}[program:db]\ncommand=sleep 1000\nstartsecs=3\nautostart=false\n\
             [program:app]\ncommand=sleep 1000\nautostart=false\ndepends_on=db\n"
        ),
    );
    // Not waiting: app is held while db is STARTING (for 3 s, time enough to stop it).
    let r = act(&d, "supervisor.startProcess", "app", false);
    assert_eq!(r, Ok(Value::Bool(true)));
    assert_eq!(state(&d, "db"), "STARTING");
    assert_eq!(description(&d, "app"), "waiting for db");
    act(&d, "supervisor.stopProcess", "db", true).expect("stop db");
    assert_eq!(
        description(&d, "app"),
        "not started: dependency db was stopped"
    );
    // A later start of db alone does not start app: its start was given up.
    act(&d, "supervisor.startProcess", "db", true).expect("start db");
    assert_eq!(state(&d, "db"), "RUNNING");
    assert_eq!(state(&d, "app"), "STOPPED");
    assert_eq!(d.count("spawned: 'app'"), 0);
}

#[test]
fn a_stop_request_cancels_a_held_start() {
    let d = Daemon::start(
        "deps-cancel",
        &format!(
            "{RPC}[program:db]\ncommand=sleep 1000\nstartsecs=3\nautostart=false\n\
             [program:app]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\ndepends_on=db\n"
        ),
    );
    let r = act(&d, "supervisor.startProcess", "app", false);
    assert_eq!(r, Ok(Value::Bool(true)));
    assert_eq!(description(&d, "app"), "waiting for db");
    // The held start is cancelled (no NOT_RUNNING fault: there was something to stop).
    let r = act(&d, "supervisor.stopProcess", "app", true);
    assert_eq!(r, Ok(Value::Bool(true)));
    assert_eq!(description(&d, "app"), "Not started");
    wait_until(10, "db RUNNING", || state(&d, "db") == "RUNNING");
    assert_eq!(state(&d, "app"), "STOPPED");
    assert_eq!(d.count("spawned: 'app'"), 0);
}

#[test]
fn update_replacing_a_dependency_brings_following_dependents_back() {
    let body = |db_cmd: &str| {
        format!(
            "{RPC}[supervisorctl]\nserverurl=unix://{{dir}}/sock\n\
             [program:db]\ncommand={db_cmd}\nstartsecs=0\n\
             [program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db\n\
             depends_on_restart=true\n\
             [program:other]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db\n"
        )
    };
    let d = Daemon::start("deps-replace", &body("sleep 1000"));
    wait_until(10, "all RUNNING", || {
        state(&d, "app") == "RUNNING" && state(&d, "other") == "RUNNING"
    });
    let app_pid = d.pid_of("app").expect("app pid");
    d.write_conf(&body("sleep 1001"));
    let text = ctl_update(&d);
    assert!(text.contains("db: restarted (command)"), "{text}");
    wait_until(10, "app RUNNING again", || {
        state(&d, "app") == "RUNNING" && d.pid_of("app").is_some_and(|p| p != app_pid)
    });
    // Our update replaces db alone: a dependent without depends_on_restart is left running.
    assert_eq!(state(&d, "other"), "RUNNING");
    assert_eq!(d.count("spawned: 'other'"), 1);
}

/// supervisorctl `-c conf args...`: the exit status and stdout then stderr.
fn run_ctl(ctl: &std::path::Path, d: &Daemon, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(ctl)
        .arg("-c")
        .arg(&d.conf)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run supervisorctl");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// db <- app, both stopped.
const PAIR: &str = "[supervisorctl]\nserverurl=unix://{dir}/sock\n\n[program:app]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\n\
     depends_on=db\n\
     [program:db]\ncommand=sleep 1000\nstartsecs=1\nautostart=false\n";

#[test]
fn our_supervisorctl_start_names_the_dependencies_it_starts_first() {
    let sock_of = |d: &Daemon| d.path("sock");
    let d = Daemon::start("deps-ctl", &format!("{RPC}{PAIR}"));
    let plan = |name: &str| call(&sock_of(&d), "supervisor.getStartPlan", &[s(name)]);
    assert_eq!(plan("app"), Ok(Value::Array(vec![s("db")])));
    assert_eq!(plan("app:*"), Ok(Value::Array(vec![s("db")])));
    assert_eq!(plan("db"), Ok(Value::Array(vec![])));
    assert_eq!(plan("nope"), Err((10, "BAD_NAME: nope".into())));
    // Read-only: nothing was started.
    assert_eq!(state(&d, "db"), "STOPPED");
    let ctl = bin("supervisorctl");
    assert_eq!(
        run_ctl(&ctl, &d, &["start", "app"]),
        (0, "db: started (dependency of app)\napp: started\n".into())
    );
    assert_eq!(plan("app"), Ok(Value::Array(vec![])));
    // Running dependencies are not named again.
    run_ctl(&ctl, &d, &["stop", "app"]);
    assert_eq!(
        run_ctl(&ctl, &d, &["start", "app"]),
        (0, "app: started\n".into())
    );
    // Without waiting the line says the dependency is on its way.
    assert_eq!(run_ctl(&ctl, &d, &["stop", "all"]).0, 0);
    assert_eq!(
        run_ctl(&ctl, &d, &["start", "--no-wait", "app:*"]),
        (
            0,
            "db: starting (dependency of app:*)\napp: starting\n".into()
        )
    );
    wait_until(20, "app RUNNING", || state(&d, "app") == "RUNNING");
}

#[test]
fn python_supervisorctl_start_output_is_unchanged_with_dependencies() {
    let Some(ctl) = venv_bin("supervisorctl") else {
        return;
    };
    let d = Daemon::start("deps-pyctl", &format!("{RPC}{PAIR}"));
    assert_eq!(
        run_ctl(&ctl, &d, &["start", "app"]),
        (0, "app: started\n".into())
    );
    assert_eq!(state(&d, "db"), "RUNNING");
}
