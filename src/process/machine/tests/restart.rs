//! `Input::Restart`, the one restart request (RPC, web UI, event listener actions): stop,
//! then a start request once exited (`Effect::Restart`), from every state.

use super::*;

/// A RUNNING process (startsecs=0), pid 101.
fn running() -> Sim {
    let mut cfg = process_config("p", "x");
    cfg.startsecs = 0;
    cfg.autorestart = AutoRestart::Never;
    let mut s = Sim::new(cfg);
    s.feed(Input::Tick { may_start: true });
    s.feed(Input::Tick { may_start: true });
    assert_eq!(s.m.state(), Running);
    s
}

fn logged(s: &Sim, line: &str) -> bool {
    s.log.iter().any(|l| l == line)
}

/// The child exits: STOPPED, then started again.
fn restarts_on_exit(s: &mut Sim) {
    let changes = killed(s);
    assert_eq!(changes, vec![(Stopping, Stopped), (Stopped, Starting)]);
}

fn killed(s: &mut Sim) -> Vec<(ProcessState, ProcessState)> {
    s.feed(Input::Exited {
        status: WaitStatus::signaled(libc::SIGTERM),
    })
}

#[test]
fn from_running_stops_then_asks_for_a_start() {
    let mut s = running();
    s.m.restarts = 3;
    assert_eq!(s.feed(Input::Restart), vec![(Running, Stopping)]);
    assert_eq!(s.kills, vec![(101, libc::SIGTERM, false)]);
    assert!(s.m.restart_pending());
    assert_eq!(s.restart_effects, 0, "not before the exit");
    restarts_on_exit(&mut s);
    assert_eq!(s.restart_effects, 1);
    assert!(!s.m.restart_pending());
    assert_eq!(s.m.pid, 102);
    assert_eq!(s.m.restarts, 0, "a start request forgets earlier crashes");
    assert!(logged(&s, "WARN stopped: p (terminated by SIGTERM)"));
}

#[test]
fn from_starting_stops_then_asks_for_a_start() {
    let mut s = Sim::new(process_config("p", "x"));
    s.tick();
    assert_eq!(s.feed(Input::Restart), vec![(Starting, Stopping)]);
    restarts_on_exit(&mut s);
    assert_eq!(s.restart_effects, 1);
}

/// The SIGKILL after stopwaitsecs applies to a restart's stop as to any other.
#[test]
fn a_stubborn_child_is_killed_then_started() {
    let mut s = running();
    s.feed(Input::Restart);
    s.advance(10_000);
    assert!(s.tick().is_empty());
    assert_eq!(s.kills.last(), Some(&(101, libc::SIGKILL, false)));
    assert!(s.m.restart_pending());
    let ch = s.feed(Input::Exited {
        status: WaitStatus::signaled(libc::SIGKILL),
    });
    assert_eq!(ch, vec![(Stopping, Stopped), (Stopped, Starting)]);
}

/// A STOPPING process is started after the stop in progress (`start_after_stop`); a stop
/// request meanwhile does not cancel it (stopProcess refuses a STOPPING process, and
/// shutdown's mood holds the start back in the loop).
#[test]
fn from_stopping_starts_after_the_stop() {
    for input in [Input::Stop, Input::StopForShutdown] {
        let mut s = running();
        s.feed(Input::Stop);
        assert!(s.feed(Input::Restart).is_empty());
        assert!(s.m.restart_pending());
        assert!(s.feed(input.clone()).is_empty());
        assert!(s.m.restart_pending(), "{input:?}");
        restarts_on_exit(&mut s);
        assert_eq!(s.restart_effects, 1);
    }
}

/// A failure's BACKOFF, a retirement's FATAL and a probe's restart keep their ends.
#[test]
fn a_stop_with_another_end_keeps_it() {
    let mut s = running();
    s.feed(Input::Failed {
        message: "garbage".into(),
    });
    s.feed(Input::Restart);
    assert!(!s.m.restart_pending());
    assert_eq!(killed(&mut s), vec![(Stopping, Backoff)]);

    let mut s = running();
    s.feed(Input::Retire);
    s.feed(Input::Restart);
    assert_eq!(killed(&mut s), vec![(Stopping, Stopped), (Stopped, Fatal)]);

    let mut s = running();
    s.feed(Input::Unhealthy {
        message: "watchdog".into(),
    });
    s.feed(Input::Restart);
    assert!(s.m.restart_pending());
    restarts_on_exit(&mut s);
    assert_eq!(s.restart_effects, 0, "the probe's restart starts at once");
}

/// BACKOFF stops at once (as a stop request) and asks for its start right away.
#[test]
fn from_backoff_stops_and_asks_for_a_start() {
    for delay in [0, 1] {
        let mut cfg = process_config("p", "x");
        cfg.restart.restart_delay_secs = delay;
        let mut s = Sim::new(cfg);
        s.tick();
        if delay == 0 {
            s.exit(1);
        } else {
            s.advance(1_000);
            s.tick();
            s.exit(1);
            s.tick();
        }
        assert_eq!(s.m.state(), Backoff, "restart delay {delay}");
        assert_eq!(
            s.feed(Input::Restart),
            vec![(Backoff, Stopped), (Stopped, Starting)]
        );
        assert_eq!(s.restart_effects, 1);
        assert!(logged(
            &s,
            "DEBG Attempted to kill p, which is in BACKOFF state."
        ));
    }
}

/// Not running: the caller's start request starts it; the input changes nothing.
#[test]
fn from_a_stopped_state_does_nothing() {
    let mut cfg = process_config("p", "x");
    cfg.autostart = false;
    cfg.startsecs = 0;
    let mut s = Sim::new(cfg);
    assert!(s.feed(Input::Restart).is_empty(), "STOPPED");
    s.feed(Input::Start);
    s.tick();
    s.exit(0);
    assert_eq!(s.m.state(), Exited);
    assert!(s.feed(Input::Restart).is_empty(), "EXITED");
    s.feed(Input::Start);
    s.feed(Input::Retire);
    killed(&mut s);
    assert_eq!(s.m.state(), Fatal);
    assert!(s.feed(Input::Restart).is_empty(), "FATAL");
    s.feed(Input::Start);
    s.tick();
    s.feed(Input::Stop);
    s.feed(Input::KillFailed {
        message: "EPERM".into(),
    });
    assert_eq!(s.m.state(), Unknown);
    assert!(s.feed(Input::Restart).is_empty(), "UNKNOWN");
    assert_eq!(s.restart_effects, 0);
}
