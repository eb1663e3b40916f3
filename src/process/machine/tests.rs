use super::*;
use crate::config::AutoRestart;
use crate::testutil::process_config;
use ProcessState::*;

struct Sim {
    cfg: ProcessConfig,
    m: Machine,
    t0: Instant,
    at: Duration,
    next_pid: i32,
    log: Vec<String>,
    kills: Vec<(i32, i32, bool)>,
    /// Effect::Restart seen (each carried out as a start request).
    restart_effects: usize,
    /// Spawns fail with this message instead of forking.
    fail_spawn: Option<String>,
}

impl Sim {
    fn new(cfg: ProcessConfig) -> Sim {
        Sim {
            m: Machine::new(),
            cfg,
            t0: Instant::now(),
            at: Duration::ZERO,
            next_pid: 100,
            log: Vec::new(),
            kills: Vec::new(),
            restart_effects: 0,
            fail_spawn: None,
        }
    }

    fn now(&self) -> Now {
        Now {
            mono: self.t0 + self.at,
            wall: SystemTime::UNIX_EPOCH + self.at,
        }
    }

    fn advance(&mut self, ms: u64) {
        self.at += Duration::from_millis(ms);
    }

    /// Feeds an input and carries out Spawn the way the loop does; returns state changes.
    fn feed(&mut self, input: Input) -> Vec<(ProcessState, ProcessState)> {
        let mut changes = Vec::new();
        let mut queue = vec![input];
        while let Some(i) = queue.pop() {
            for e in self.m.step(&self.cfg, i, self.now()) {
                match e {
                    Effect::StateChanged { from, to } => changes.push((from, to)),
                    Effect::Spawn => match &self.fail_spawn {
                        Some(msg) => queue.push(Input::SpawnFailed {
                            message: msg.clone(),
                        }),
                        None => {
                            self.next_pid += 1;
                            queue.push(Input::Spawned { pid: self.next_pid });
                        }
                    },
                    Effect::Kill { pid, signal, group } => self.kills.push((pid, signal, group)),
                    Effect::Log(level, text) => self.log.push(format!("{} {text}", level.code())),
                    // As the loop does with no dependencies, while not shutting down.
                    Effect::Restart => {
                        self.restart_effects += 1;
                        queue.push(Input::Start);
                    }
                }
            }
        }
        changes
    }

    /// The timer a tick waits for, if it waits for one.
    fn deadline(&self) -> Option<Instant> {
        match self.m.poll_at(&self.cfg, true) {
            PollAt::At(t) => Some(t),
            PollAt::Now | PollAt::Ingress => None,
        }
    }

    /// A tick would act right away.
    fn due_now(&self) -> bool {
        self.m.poll_at(&self.cfg, true) == PollAt::Now
    }

    fn tick(&mut self) -> Vec<(ProcessState, ProcessState)> {
        self.feed(Input::Tick { may_start: true })
    }

    fn exit(&mut self, code: i32) -> Vec<(ProcessState, ProcessState)> {
        self.feed(Input::Exited {
            status: WaitStatus::exited(code),
        })
    }
}

#[test]
fn autostart_then_running_after_startsecs() {
    let mut s = Sim::new(process_config("p", "x"));
    assert!(s.due_now());
    assert_eq!(s.tick(), vec![(Stopped, Starting)]);
    assert_eq!(s.m.pid, 101);
    assert_eq!(s.log[0], "INFO spawned: 'p' with pid 101");
    assert_eq!(s.deadline(), Some(s.t0 + Duration::from_secs(1)));
    s.advance(999);
    assert!(s.tick().is_empty());
    s.advance(1);
    assert_eq!(s.tick(), vec![(Starting, Running)]);
    assert!(s.log[1].starts_with("INFO success: p entered RUNNING state"));
    // Never autostarted twice.
    assert!(!s.due_now());
}

#[test]
fn no_start_while_shutting_down() {
    let mut s = Sim::new(process_config("p", "x"));
    assert!(s.feed(Input::Tick { may_start: false }).is_empty());
}

#[test]
fn autostart_false_waits_for_request() {
    let mut cfg = process_config("p", "x");
    cfg.autostart = false;
    let mut s = Sim::new(cfg);
    assert!(s.tick().is_empty());
    assert_eq!(s.feed(Input::Start), vec![(Stopped, Starting)]);
}

#[test]
fn crash_loop_backoff_then_fatal() {
    let mut cfg = process_config("p", "x");
    cfg.startretries = 2;
    let mut s = Sim::new(cfg);
    s.tick();
    let mut spawns = 1;
    for n in 1..=3 {
        s.advance(100);
        assert_eq!(s.exit(1), vec![(Starting, Backoff)], "failure {n}");
        assert_eq!(s.m.backoff, n);
        assert_eq!(
            s.m.spawnerr,
            "Exited too quickly (process log may have details)"
        );
        assert_eq!(s.m.exitstatus, 0);
        if n < 3 {
            // The retry waits exactly `backoff` seconds.
            s.advance(n as u64 * 1000 - 1);
            assert!(s.tick().is_empty());
            s.advance(1);
            assert_eq!(s.tick(), vec![(Backoff, Starting)]);
            spawns += 1;
        }
    }
    assert_eq!(spawns, 3, "startretries=2 means three attempts");
    assert!(s.due_now());
    assert_eq!(s.tick(), vec![(Backoff, Fatal)]);
    assert_eq!(s.m.backoff, 0);
    assert!(s
        .log
        .last()
        .unwrap()
        .contains("gave up: p entered FATAL state"));
    assert!(s
        .log
        .iter()
        .any(|l| l == "WARN exited: p (exit status 1; not expected)"));
    // FATAL is never restarted on its own.
    s.advance(10_000);
    assert!(s.tick().is_empty());
}

#[test]
fn spawn_error_goes_backoff_without_pid() {
    let mut s = Sim::new(process_config("p", "x"));
    s.fail_spawn = Some("can't find command 'nope'".into());
    assert_eq!(s.tick(), vec![(Stopped, Starting), (Starting, Backoff)]);
    assert_eq!(s.m.pid, 0);
    assert!(s
        .log
        .contains(&"INFO spawnerr: can't find command 'nope'".to_string()));
    assert!(!s.log.iter().any(|l| l.contains("spawned:")));
}

#[test]
fn autorestart_unexpected_respects_exitcodes() {
    let mut cfg = process_config("p", "x");
    cfg.exitcodes = vec![0, 2];
    cfg.startsecs = 0;
    let mut s = Sim::new(cfg);
    s.tick();
    s.tick();
    assert_eq!(s.m.state(), Running);
    s.advance(10);
    assert_eq!(s.exit(2), vec![(Running, Exited)]);
    assert!(s.m.expected);
    assert!(s
        .log
        .last()
        .unwrap()
        .ends_with("exited: p (exit status 2; expected)"));
    assert!(s.tick().is_empty(), "expected exit is not restarted");
    assert_eq!(s.feed(Input::Start), vec![(Exited, Starting)]);
    s.tick();
    s.advance(10);
    assert_eq!(s.exit(3), vec![(Running, Exited)]);
    assert_eq!(s.m.spawnerr, "Bad exit code 3");
    assert_eq!(s.tick(), vec![(Exited, Starting)]);
}

#[test]
fn autorestart_always_and_never() {
    for (mode, restarts) in [(AutoRestart::Always, true), (AutoRestart::Never, false)] {
        let mut cfg = process_config("p", "x");
        cfg.autorestart = mode;
        cfg.startsecs = 0;
        let mut s = Sim::new(cfg);
        s.tick();
        s.tick();
        s.exit(0);
        assert_eq!(!s.tick().is_empty(), restarts, "{mode:?}");
    }
}

#[test]
fn signal_death_is_unexpected() {
    let mut cfg = process_config("p", "x");
    cfg.startsecs = 0;
    let mut s = Sim::new(cfg);
    s.tick();
    s.tick();
    s.feed(Input::Exited {
        status: WaitStatus::signaled(9),
    });
    assert_eq!(s.m.exitstatus, -1);
    assert!(!s.m.expected);
    assert!(s
        .log
        .last()
        .unwrap()
        .ends_with("exited: p (terminated by SIGKILL; not expected)"));
}

#[test]
fn exit_after_startsecs_before_tick_passes_through_running() {
    let mut s = Sim::new(process_config("p", "x"));
    s.tick();
    s.advance(1500);
    assert_eq!(s.exit(0), vec![(Starting, Running), (Running, Exited)]);
}

#[test]
fn stopwaitsecs_zero_kills_at_once_and_repeats_once_a_second() {
    let mut cfg = process_config("p", "x");
    cfg.stopwaitsecs = 0;
    let mut s = Sim::new(cfg);
    s.tick();
    s.feed(Input::Stop);
    s.tick();
    assert_eq!(s.kills[1], (101, libc::SIGKILL, false));
    s.tick();
    s.advance(999);
    s.tick();
    assert_eq!(s.kills.len(), 2, "no SIGKILL on every turn: {:?}", s.kills);
    s.advance(1);
    s.tick();
    assert_eq!(s.kills.len(), 3);
}

#[test]
fn stop_then_sigkill_after_stopwaitsecs_repeated() {
    let mut cfg = process_config("p", "x");
    cfg.stopwaitsecs = 2;
    cfg.stopsignal = libc::SIGINT;
    let mut s = Sim::new(cfg);
    s.tick();
    assert_eq!(s.feed(Input::Stop), vec![(Starting, Stopping)]);
    assert_eq!(s.kills, vec![(101, libc::SIGINT, false)]);
    assert!(s
        .log
        .last()
        .unwrap()
        .ends_with("killing p (pid 101) with signal SIGINT"));
    s.advance(1999);
    s.tick();
    assert_eq!(s.kills.len(), 1);
    s.advance(1);
    s.tick();
    assert_eq!(s.kills[1], (101, libc::SIGKILL, false));
    assert_eq!(s.log.last().unwrap(), "WARN killing 'p' (101) with SIGKILL");
    s.advance(2000);
    s.tick();
    assert_eq!(s.kills.len(), 3, "SIGKILL repeats every stopwaitsecs");
    let ch = s.feed(Input::Exited {
        status: WaitStatus::signaled(9),
    });
    assert_eq!(ch, vec![(Stopping, Stopped)]);
    assert_eq!(
        s.log.last().unwrap(),
        "WARN stopped: p (terminated by SIGKILL)"
    );
    assert_eq!(s.m.pid, 0);
    assert!(s.tick().is_empty(), "a stopped process stays stopped");
}

/// Supervisor's spawn() refuses while the process still has a pid: a start during STOPPING
/// must not run a second copy (the first would be orphaned, never killed).
#[test]
fn start_while_stopping_is_refused() {
    let mut cfg = process_config("p", "x");
    cfg.stopwaitsecs = 2;
    let mut s = Sim::new(cfg);
    s.tick();
    s.feed(Input::Stop);
    assert!(s.feed(Input::Start).is_empty());
    assert_eq!(s.m.state(), Stopping);
    assert_eq!(s.m.pid, 101);
    assert_eq!(s.next_pid, 101, "no second spawn");
    assert_eq!(s.log.last().unwrap(), "WARN process 'p' already running");
    // The stop still escalates to SIGKILL and completes; then a start works.
    s.advance(2000);
    s.tick();
    assert_eq!(s.kills.last(), Some(&(101, libc::SIGKILL, false)));
    s.feed(Input::Exited {
        status: WaitStatus::signaled(9),
    });
    assert_eq!(s.feed(Input::Start), vec![(Stopped, Starting)]);
    assert_eq!(s.m.pid, 102);
}

#[test]
fn stopasgroup_kills_group() {
    let mut cfg = process_config("p", "x");
    cfg.stopasgroup = true;
    cfg.killasgroup = true;
    cfg.stopwaitsecs = 0;
    let mut s = Sim::new(cfg);
    s.tick();
    s.feed(Input::Stop);
    assert!(s
        .log
        .last()
        .unwrap()
        .contains("process group with signal SIGTERM"));
    s.tick();
    assert_eq!(
        s.kills,
        vec![(101, libc::SIGTERM, true), (101, libc::SIGKILL, true)]
    );
}

#[test]
fn stopped_with_expected_code_logs_info() {
    let mut s = Sim::new(process_config("p", "x"));
    s.tick();
    s.feed(Input::Stop);
    s.exit(0);
    assert_eq!(s.log.last().unwrap(), "INFO stopped: p (exit status 0)");
}

#[test]
fn stop_in_backoff_is_immediate_and_keeps_counter() {
    let mut s = Sim::new(process_config("p", "x"));
    s.tick();
    s.exit(1);
    assert_eq!(s.feed(Input::Stop), vec![(Backoff, Stopped)]);
    assert!(s.kills.is_empty());
    assert_eq!(s.m.backoff, 1);
    assert!(s.tick().is_empty(), "no autostart after a manual stop");
}

#[test]
fn shutdown_gives_up_backoff() {
    let mut s = Sim::new(process_config("p", "x"));
    s.tick();
    s.exit(1);
    assert_eq!(s.feed(Input::StopForShutdown), vec![(Backoff, Fatal)]);
}

#[test]
fn kill_failure_goes_unknown_and_exit_recovers() {
    let mut s = Sim::new(process_config("p", "x"));
    s.tick();
    s.feed(Input::Stop);
    assert_eq!(
        s.feed(Input::KillFailed {
            message: "EPERM".into()
        }),
        vec![(Stopping, Unknown)]
    );
    assert!(s
        .log
        .last()
        .unwrap()
        .starts_with("CRIT unknown problem killing p (101)"));
    assert_eq!(s.deadline(), None);
    assert_eq!(s.exit(0), vec![(Unknown, Exited)]);
}

#[test]
fn deadlines_follow_state() {
    let mut cfg = process_config("p", "x");
    cfg.startsecs = 5;
    cfg.stopwaitsecs = 7;
    let mut s = Sim::new(cfg);
    assert_eq!(s.deadline(), None);
    s.tick();
    assert_eq!(s.deadline(), Some(s.t0 + Duration::from_secs(5)));
    s.advance(5000);
    s.tick();
    assert_eq!(s.deadline(), None, "RUNNING has no timer");
    s.feed(Input::Stop);
    assert_eq!(s.deadline(), Some(s.t0 + Duration::from_secs(12)));
}

#[test]
fn retire_stops_then_goes_fatal_and_stays() {
    let mut cfg = process_config("p", "x");
    cfg.startsecs = 0;
    cfg.autorestart = AutoRestart::Always;
    let mut s = Sim::new(cfg);
    s.tick();
    s.tick();
    assert_eq!(s.feed(Input::Retire), vec![(Running, Stopping)]);
    assert_eq!(s.m.last_pid, 101);
    let ch = s.feed(Input::Exited {
        status: WaitStatus::signaled(15),
    });
    assert_eq!(ch, vec![(Stopping, Stopped), (Stopped, Fatal)]);
    assert_eq!(s.m.last_signal, Some(15));
    s.advance(5000);
    assert!(s.tick().is_empty(), "not restarted");
    // A manual start clears it.
    assert_eq!(s.feed(Input::Start), vec![(Fatal, Starting)]);
}

/// `poll_at` agrees with `tick`: a tick at the instant it names acts, one before it (or
/// ever, for `Ingress`) does nothing. Checked at every step of several lifecycles, with and
/// without may_start.
#[test]
fn poll_at_agrees_with_tick() {
    fn tick_at(s: &Sim, may_start: bool, mono: Instant) -> Vec<Effect> {
        let mut m = s.m.clone();
        let now = Now {
            mono,
            wall: s.now().wall,
        };
        m.step(&s.cfg, Input::Tick { may_start }, now)
    }
    fn check(s: &Sim) {
        let now = s.now().mono;
        let state = s.m.state();
        for may_start in [true, false] {
            match s.m.poll_at(&s.cfg, may_start) {
                PollAt::Now => {
                    assert!(!tick_at(s, may_start, now).is_empty(), "{state:?} idle")
                }
                PollAt::At(t) => {
                    if let Some(before) = t.checked_sub(Duration::from_millis(1)) {
                        if before >= now {
                            let fx = tick_at(s, may_start, before);
                            assert!(fx.is_empty(), "{state:?} early: {fx:?}");
                        }
                    }
                    assert!(!tick_at(s, may_start, t).is_empty(), "{state:?} at {t:?}");
                }
                PollAt::Ingress => {
                    for later in [0, 999, 1000, 5000, 60_000] {
                        let fx = tick_at(s, may_start, now + Duration::from_millis(later));
                        assert!(fx.is_empty(), "{state:?} ticked: {fx:?}");
                    }
                }
            }
        }
    }
    #[derive(Clone, Copy)]
    enum Do {
        Tick,
        Wait(u64),
        Exit(i32),
        Stop,
        Start,
        Restart,
    }
    use Do::*;
    // Start, run, stop with a SIGKILL timer, restart, crash during STARTING into BACKOFF and
    // FATAL, start again, exit expected and unexpected.
    let walk = [
        Tick,
        Wait(1500),
        Tick,
        Stop,
        Tick,
        Wait(11_000),
        Tick,
        Exit(-9),
        Tick,
        Start,
        Exit(3),
        Tick,
        Wait(1500),
        Tick,
        Exit(3),
        Tick,
        Wait(3000),
        Tick,
        Tick,
        Start,
        Wait(1500),
        Tick,
        Exit(0),
        Tick,
        Wait(1500),
        Tick,
        Exit(3),
        Tick,
        Wait(1500),
        Tick,
        Restart,
        Tick,
        Wait(11_000),
        Tick,
        Exit(-9),
        Wait(1500),
        Tick,
        Restart,
        Wait(1500),
        Tick,
    ];
    let modes = [
        AutoRestart::Always,
        AutoRestart::Never,
        AutoRestart::Unexpected,
    ];
    // Without and with a restart delay (a restart wait's BACKOFF).
    for (autorestart, delay) in modes.into_iter().flat_map(|m| [(m, 0), (m, 1)]) {
        let mut cfg = process_config("p", "x");
        cfg.autorestart = autorestart;
        cfg.startretries = 1;
        cfg.restart.restart_delay_secs = delay;
        let mut s = Sim::new(cfg);
        let mut states = std::collections::HashSet::new();
        for step in walk {
            check(&s);
            let waits = s.m.poll_at(&s.cfg, true) != PollAt::Ingress;
            states.insert((s.m.state(), waits));
            match step {
                Tick => {
                    s.tick();
                }
                Wait(ms) => s.advance(ms),
                Exit(code) if s.m.pid != 0 => {
                    if code < 0 {
                        s.feed(Input::Exited {
                            status: WaitStatus::signaled(-code),
                        });
                    } else {
                        s.exit(code);
                    }
                }
                Exit(_) => {}
                Stop => {
                    s.feed(Input::Stop);
                }
                Start => {
                    s.feed(Input::Start);
                }
                Restart => {
                    s.feed(Input::Restart);
                }
            }
        }
        for must in [
            (Stopping, true),
            (Running, false),
            (Backoff, true),
            (Starting, true),
        ] {
            assert!(
                states.contains(&must),
                "{autorestart:?}: never {must:?} in {states:?}"
            );
        }
    }
}

/// A listener with `startretries` 2 and `startsecs` as given.
fn listener(startsecs: i64) -> Sim {
    let mut cfg = process_config("l", "x");
    cfg.startsecs = startsecs;
    cfg.startretries = 2;
    let mut s = Sim::new(cfg);
    s.m = Machine::listener();
    s
}

fn fail(s: &mut Sim) -> Vec<(ProcessState, ProcessState)> {
    s.feed(Input::Failed {
        message: "protocol violation: garbage".into(),
    })
}

fn killed(s: &mut Sim) -> Vec<(ProcessState, ProcessState)> {
    s.feed(Input::Exited {
        status: WaitStatus::signaled(libc::SIGTERM),
    })
}

/// A listener that breaks its protocol before READY is stopped and counts a failed start:
/// BACKOFF with the growing delay, FATAL after startretries, one spawn per attempt.
#[test]
fn a_failure_before_ready_is_a_failed_start_until_fatal() {
    let mut s = listener(1);
    s.tick();
    for n in 1..=3 {
        assert_eq!(fail(&mut s), vec![(Starting, Stopping)], "attempt {n}");
        assert_eq!(s.kills.last(), Some(&(100 + n, libc::SIGTERM, false)));
        assert_eq!(killed(&mut s), vec![(Stopping, Backoff)]);
        assert_eq!(s.m.backoff, n as i64);
        assert_eq!(s.m.pid, 0);
        assert_eq!(s.m.spawnerr, "protocol violation: garbage");
        if n == 3 {
            break;
        }
        s.advance(n as u64 * 1000 - 1);
        assert!(s.tick().is_empty(), "no spawn before the delay");
        s.advance(1);
        assert_eq!(s.tick(), vec![(Backoff, Starting)]);
    }
    assert_eq!(s.tick(), vec![(Backoff, Fatal)]);
    assert_eq!(s.next_pid, 103, "three spawns");
    let stopped: Vec<_> = s.log.iter().filter(|l| l.contains("stopped: l")).collect();
    assert!(stopped.iter().all(|l| l.starts_with("DEBG")), "{stopped:?}");
    assert!(s
        .log
        .last()
        .unwrap()
        .contains("gave up: l entered FATAL state"));
}

/// startsecs=0 makes a listener RUNNING at once: its count of failed starts is only reset
/// once it has said READY, so a listener that never does still ends in FATAL.
#[test]
fn a_listener_has_started_only_once_running_and_ready() {
    let mut s = listener(0);
    s.tick();
    for n in 1..=3 {
        assert_eq!(s.tick(), vec![(Starting, Running)]);
        assert_eq!(fail(&mut s), vec![(Running, Stopping)]);
        assert_eq!(killed(&mut s), vec![(Stopping, Backoff)]);
        assert_eq!(s.m.backoff, n);
        s.advance(n as u64 * 1000);
        s.tick();
    }
    assert_eq!(s.m.state(), Fatal);
    // One that says READY has started: a later failure counts from one again.
    let mut s = listener(0);
    s.tick();
    s.tick();
    fail(&mut s);
    killed(&mut s);
    s.advance(1000);
    s.tick();
    assert!(s.m.awaits_ready());
    s.tick();
    assert_eq!(s.m.backoff, 1, "RUNNING without READY keeps the count");
    s.feed(Input::Ready);
    assert!(!s.m.awaits_ready());
    assert_eq!(s.m.backoff, 0);
    fail(&mut s);
    killed(&mut s);
    assert_eq!(s.m.backoff, 1);
    // READY during STARTING counts once startsecs are over.
    let mut s = listener(1);
    s.tick();
    fail(&mut s);
    killed(&mut s);
    s.advance(1000);
    s.tick();
    s.feed(Input::Ready);
    assert_eq!(s.m.backoff, 1);
    s.advance(1000);
    assert_eq!(s.tick(), vec![(Starting, Running)]);
    assert_eq!(s.m.backoff, 0);
}

/// A stop asked for while a failure stops the listener wins: it ends STOPPED, and a
/// shutdown's stop too. A failure while it is stopping anyway changes nothing.
#[test]
fn a_stop_during_a_failure_stop_ends_stopped() {
    for input in [Input::Stop, Input::StopForShutdown] {
        let mut s = listener(1);
        s.tick();
        fail(&mut s);
        assert!(s.feed(input.clone()).is_empty());
        assert_eq!(killed(&mut s), vec![(Stopping, Stopped)], "{input:?}");
    }
    let mut s = listener(1);
    s.tick();
    s.feed(Input::Stop);
    assert!(fail(&mut s).is_empty());
    assert_eq!(killed(&mut s), vec![(Stopping, Stopped)]);
    // Not running: nothing to fail.
    assert!(fail(&mut s).is_empty());
}

mod policy;
mod probes;
mod restart;
