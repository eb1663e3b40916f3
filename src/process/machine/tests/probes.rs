//! Readiness probes (issue #18) in the machine, with fake time: RUNNING only on `Ready`,
//! startsecs as the time allowed to become ready, restarts on `Unhealthy`, `STOPPING=1`.

use super::*;
use crate::probe::{Ready, Target};

fn probed(startsecs: i64) -> ProcessConfig {
    let mut cfg = process_config("p", "x");
    cfg.startsecs = startsecs;
    cfg.probe.ready = Ready::Check(Box::new(Target::Tcp("127.0.0.1:1".parse().unwrap())));
    cfg
}

#[test]
fn stays_starting_past_startsecs_until_ready() {
    let mut s = Sim::new(probed(5));
    assert_eq!(s.tick(), vec![(Stopped, Starting)]);
    s.advance(4_000);
    assert!(s.tick().is_empty());
    assert_eq!(s.feed(Input::Ready), vec![(Starting, Running)]);
    assert!(s
        .log
        .iter()
        .any(|l| l.contains("entered RUNNING state, process is ready")));
    // A second outcome changes nothing.
    assert!(s.feed(Input::Ready).is_empty());
}

#[test]
fn without_a_probe_ready_does_not_promote() {
    let mut s = Sim::new(process_config("p", "x"));
    s.tick();
    assert!(s.feed(Input::Ready).is_empty());
    assert_eq!(s.m.state(), Starting);
}

#[test]
fn not_ready_within_startsecs_is_a_failed_start() {
    let mut s = Sim::new(probed(2));
    s.tick();
    assert_eq!(s.deadline(), Some(s.now().mono + Duration::from_secs(2)));
    s.advance(2_000);
    assert_eq!(s.tick(), vec![(Starting, Stopping)]);
    assert_eq!(s.kills, vec![(101, libc::SIGTERM, false)]);
    assert_eq!(s.exit(-1), vec![(Stopping, Backoff)]);
    assert_eq!(s.m.backoff, 1);
    assert_eq!(s.m.spawnerr, "not ready within 2 seconds (startsecs)");
}

#[test]
fn startsecs_zero_waits_for_ever() {
    let mut s = Sim::new(probed(0));
    s.tick();
    assert_eq!(s.deadline(), None);
    s.advance(3_600_000);
    assert!(s.tick().is_empty());
    assert_eq!(s.feed(Input::Ready), vec![(Starting, Running)]);
}

#[test]
fn exit_before_ready_is_a_failed_start_however_late() {
    // startsecs=0: no time limit, so the exit is not "too quick", but it was never ready.
    let mut s = Sim::new(probed(0));
    s.tick();
    s.advance(30_000);
    assert_eq!(s.exit(0), vec![(Starting, Backoff)]);
    assert!(s.m.spawnerr.starts_with("Exited before it was ready"));
}

#[test]
fn unhealthy_restarts_a_running_process() {
    let mut s = Sim::new(probed(5));
    s.tick();
    s.feed(Input::Ready);
    let changes = s.feed(Input::Unhealthy {
        message: "watchdog timeout".into(),
    });
    assert_eq!(changes, vec![(Running, Stopping)]);
    assert!(s
        .log
        .iter()
        .any(|l| l.contains("restarting p: watchdog timeout")));
    assert_eq!(
        s.exit(-1),
        vec![(Stopping, Stopped), (Stopped, Starting)],
        "started again at once"
    );
    assert_eq!(s.m.pid, 102);
}

#[test]
fn a_stop_during_an_unhealthy_restart_ends_stopped() {
    let mut s = Sim::new(probed(5));
    s.tick();
    s.feed(Input::Ready);
    s.feed(Input::Unhealthy {
        message: "x".into(),
    });
    s.feed(Input::Stop);
    assert_eq!(s.exit(-1), vec![(Stopping, Stopped)]);
}

#[test]
fn stopping_message_waits_for_the_exit_without_a_signal() {
    let mut cfg = probed(5);
    cfg.autorestart = AutoRestart::Always;
    let mut s = Sim::new(cfg);
    s.tick();
    s.feed(Input::Ready);
    assert_eq!(s.feed(Input::Stopping), vec![(Running, Stopping)]);
    assert!(s.kills.is_empty());
    // SIGKILL after stopwaitsecs as for any stop.
    s.advance(10_000);
    s.tick();
    assert_eq!(s.kills, vec![(101, libc::SIGKILL, false)]);
    assert_eq!(s.exit(0), vec![(Stopping, Stopped)]);
    assert!(s.tick().is_empty(), "not restarted");
}

#[test]
fn main_pid_replaces_the_pid_and_its_exit_is_the_exit() {
    let mut cfg = process_config("p", "x");
    cfg.probe.ready = Ready::Notify;
    let mut s = Sim::new(cfg);
    s.tick();
    s.feed(Input::Ready);
    assert!(s.feed(Input::MainPid { pid: 4242 }).is_empty());
    assert_eq!((s.m.pid, s.m.last_pid), (4242, 4242));
    s.feed(Input::Stop);
    assert_eq!(s.kills, vec![(4242, libc::SIGTERM, false)]);
    assert_eq!(s.exit(-1), vec![(Stopping, Stopped)]);
}
