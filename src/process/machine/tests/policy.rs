//! The restart policy (issue #20) in the machine, with fake time: backoff curves, retry
//! forever, restart delays after exits from RUNNING and their reset.

use super::*;
use crate::config::BackoffCurve;

/// Waits between failed starts of a program that always exits at once: the time from each
/// entry into BACKOFF to the tick that starts it again, found by stepping 1 ms at a time.
fn failed_start_waits(cfg: ProcessConfig, count: usize) -> (Sim, Vec<Duration>) {
    let mut s = Sim::new(cfg);
    s.tick();
    let mut waits = Vec::new();
    for _ in 0..count {
        s.advance(100);
        assert_eq!(s.exit(1), vec![(Starting, Backoff)]);
        let deadline = s.deadline().expect("a BACKOFF deadline");
        let wait = deadline - s.now().mono;
        s.advance(wait.as_millis() as u64 - 1);
        assert!(s.tick().is_empty(), "no start before the wait is over");
        s.advance(1);
        assert_eq!(s.tick(), vec![(Backoff, Starting)]);
        waits.push(wait);
    }
    (s, waits)
}

fn secs(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|&s| Duration::from_secs(s)).collect()
}

#[test]
fn default_policy_keeps_supervisors_linear_waits() {
    let mut cfg = process_config("p", "x");
    cfg.startretries = 5;
    let (_, waits) = failed_start_waits(cfg, 5);
    assert_eq!(waits, secs(&[1, 2, 3, 4, 5]));
}

#[test]
fn exponential_backoff_doubles_to_its_cap_and_retry_forever_never_gives_up() {
    let mut cfg = process_config("p", "x");
    cfg.startretries = 3;
    cfg.restart.curve = BackoffCurve::Exponential;
    cfg.restart.max_secs = Some(16);
    cfg.restart.retry_forever = true;
    let (mut s, waits) = failed_start_waits(cfg, 8);
    assert_eq!(waits, secs(&[1, 2, 4, 8, 16, 16, 16, 16]));
    // Far past startretries: still BACKOFF, never FATAL.
    s.advance(100);
    s.exit(1);
    assert!(!s.due_now());
    s.advance(1000);
    assert!(s.tick().is_empty());
    assert_eq!(s.m.state(), Backoff);
}

#[test]
fn without_retry_forever_the_exponential_curve_still_ends_fatal() {
    let mut cfg = process_config("p", "x");
    cfg.startretries = 2;
    cfg.restart.curve = BackoffCurve::Exponential;
    cfg.restart.max_secs = Some(60);
    let (mut s, waits) = failed_start_waits(cfg, 2);
    assert_eq!(waits, secs(&[1, 2]));
    s.advance(100);
    s.exit(1);
    assert_eq!(s.tick(), vec![(Backoff, Fatal)]);
}

#[test]
fn backoff_reports_the_wait_and_the_coming_attempt() {
    let mut cfg = process_config("p", "x");
    cfg.restart.curve = BackoffCurve::Exponential;
    cfg.restart.max_secs = Some(60);
    let (mut s, _) = failed_start_waits(cfg, 3);
    s.advance(100);
    s.exit(1);
    // Four failed starts: the wait is 8 s and the next start is the fifth.
    let r = s.m.retry(s.now().mono).expect("in BACKOFF");
    assert_eq!(
        r,
        Retry {
            wait: Duration::from_secs(8),
            attempt: 5,
            restart: false
        }
    );
    s.advance(2500);
    assert_eq!(
        s.m.retry(s.now().mono).unwrap().wait,
        Duration::from_millis(5500)
    );
    s.advance(6000);
    assert_eq!(s.m.retry(s.now().mono).unwrap().wait, Duration::ZERO);
    s.tick();
    assert_eq!(s.m.retry(s.now().mono), None, "not in BACKOFF any more");
}

#[test]
fn jitter_shortens_each_wait_within_its_percent_reproducibly() {
    let mut cfg = process_config("p", "x");
    cfg.restart.curve = BackoffCurve::Exponential;
    cfg.restart.max_secs = Some(64);
    cfg.restart.jitter_percent = 25;
    cfg.restart.retry_forever = true;
    let (_, a) = failed_start_waits(cfg.clone(), 9);
    let (_, b) = failed_start_waits(cfg.clone(), 9);
    assert_eq!(a, b, "the same fake clock and name give the same waits");
    let full = [1, 2, 4, 8, 16, 32, 64, 64, 64];
    for (w, f) in a.iter().zip(full) {
        let f = Duration::from_secs(f);
        assert!(
            *w <= f && *w >= f * 3 / 4,
            "{w:?} not within 25% under {f:?}"
        );
    }
    assert!(a
        .iter()
        .zip(full)
        .any(|(w, f)| *w != Duration::from_secs(f)));
    cfg.name = "q".into();
    let (_, c) = failed_start_waits(cfg, 9);
    assert_ne!(a, c, "another process draws other waits");
}

/// A program that is RUNNING at once (startsecs=0) and restarted whatever its exit.
fn restarting(delay: i64) -> Sim {
    let mut cfg = process_config("p", "x");
    cfg.startsecs = 0;
    cfg.startretries = 0;
    cfg.autorestart = AutoRestart::Always;
    cfg.restart.restart_delay_secs = delay;
    cfg.restart.curve = BackoffCurve::Exponential;
    cfg.restart.max_secs = Some(20);
    let mut s = Sim::new(cfg);
    s.tick();
    assert_eq!(s.tick(), vec![(Starting, Running)]);
    s
}

#[test]
fn restart_delay_waits_in_backoff_growing_then_resets_after_a_healthy_run() {
    let mut s = restarting(5);
    let mut waits = Vec::new();
    for n in 1..=4u32 {
        s.advance(3000);
        assert_eq!(s.exit(0), vec![(Running, Exited)]);
        assert_eq!(s.tick(), vec![(Exited, Backoff)], "restart {n} waits");
        let r = s.m.retry(s.now().mono).unwrap();
        assert!(r.restart);
        assert_eq!(r.attempt, n);
        waits.push(r.wait);
        s.advance(r.wait.as_millis() as u64 - 1);
        assert!(s.tick().is_empty());
        s.advance(1);
        assert_eq!(s.tick(), vec![(Backoff, Starting)]);
        assert_eq!(s.tick(), vec![(Starting, Running)]);
    }
    assert_eq!(waits, secs(&[5, 10, 20, 20]));
    assert!(s
        .log
        .iter()
        .any(|l| l == "INFO waiting 20.0s before restarting p (restart 3)"));
    // Up for the cap (20 s): the next exit waits the base delay again.
    s.advance(20_000);
    s.exit(0);
    s.tick();
    assert_eq!(
        s.m.retry(s.now().mono).unwrap().wait,
        Duration::from_secs(5)
    );
    assert_eq!(s.m.restarts, 1);
}

#[test]
fn a_restart_wait_never_turns_fatal() {
    let mut s = restarting(1);
    s.advance(100);
    s.exit(1);
    s.tick();
    assert_eq!(s.m.state(), Backoff);
    assert!(!s.due_now(), "startretries=0 does not apply");
    // Shutdown leaves it STOPPED, like the EXITED process it was.
    assert_eq!(s.feed(Input::StopForShutdown), vec![(Backoff, Stopped)]);
}

#[test]
fn a_stop_cancels_the_restart_wait_and_a_start_forgets_the_count() {
    let mut s = restarting(2);
    for _ in 0..3 {
        s.advance(100);
        s.exit(1);
        s.tick();
        s.advance(30_000);
        s.tick();
    }
    s.advance(100);
    s.exit(1);
    s.tick();
    assert_eq!(s.m.restarts, 4);
    assert_eq!(s.feed(Input::Stop), vec![(Backoff, Stopped)]);
    s.advance(60_000);
    assert!(s.tick().is_empty(), "no restart after a stop");
    s.feed(Input::Start);
    assert_eq!(s.m.restarts, 0);
}

#[test]
fn no_restart_delay_restarts_at_once_as_supervisor_does() {
    let mut s = restarting(0);
    s.advance(100);
    s.exit(1);
    assert_eq!(s.tick(), vec![(Exited, Starting)]);
}

#[test]
fn the_restart_wait_is_not_used_while_shutting_down() {
    let mut s = restarting(5);
    s.advance(100);
    s.exit(1);
    assert!(s.feed(Input::Tick { may_start: false }).is_empty());
    assert_eq!(s.m.state(), Exited);
}
