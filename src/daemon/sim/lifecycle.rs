//! Spawn, reap, stop and kill through `Supervisor::apply`, `tick_all` and `reap`.

use super::{exited, killed, program, Rig};
use crate::config::AutoRestart;
use crate::daemon::pids::Owner;
use crate::probe::Purpose;
use crate::process::{Input, ProcessState};
use std::io::Write;
use std::time::Duration;

#[test]
fn an_autostart_spawns_on_the_first_tick_and_runs_after_startsecs() {
    let mut pc = program("web");
    pc.autostart = true;
    pc.startsecs = 3;
    let mut rig = Rig::programs(vec![pc]);
    rig.tick();
    assert_eq!(rig.state("web"), ProcessState::Starting);
    let spawns = rig.os.borrow().spawns.clone();
    assert_eq!(spawns.len(), 1);
    let (pid, name) = &spawns[0];
    assert_eq!(name, "web");
    assert_eq!(rig.pid("web"), *pid);
    assert!(rig.sup.pids.contains(*pid));
    assert_eq!(rig.sup.process(rig.id("web")).unwrap().starts, 1);
    rig.tick_after(Duration::from_millis(2999));
    assert_eq!(rig.state("web"), ProcessState::Starting);
    rig.tick_after(Duration::from_millis(1));
    assert_eq!(rig.state("web"), ProcessState::Running);
    rig.logged(&format!("spawned: 'web' with pid {pid}"));
    rig.logged("success: web entered RUNNING state");
}

#[test]
fn an_unexpected_exit_is_reaped_and_restarted() {
    let mut rig = Rig::programs(vec![program("web")]);
    let pid = rig.running("web");
    rig.exit(pid, exited(3));
    rig.reap();
    assert_eq!(rig.state("web"), ProcessState::Exited);
    assert!(!rig.sup.pids.contains(pid));
    rig.logged("exited: web (exit status 3; not expected)");
    // autorestart=unexpected: the next tick starts it again, as another pid.
    rig.tick();
    assert_eq!(rig.state("web"), ProcessState::Starting);
    assert_ne!(rig.pid("web"), pid);
    assert_eq!(rig.os.borrow().spawns.len(), 2);
}

#[test]
fn an_expected_exit_stays_exited() {
    let mut rig = Rig::programs(vec![program("job")]);
    let pid = rig.running("job");
    rig.exit(pid, exited(0));
    rig.reap();
    rig.tick_after(Duration::from_secs(3600));
    assert_eq!(rig.state("job"), ProcessState::Exited);
    assert_eq!(rig.os.borrow().spawns.len(), 1);
}

#[test]
fn exits_before_startsecs_back_off_then_give_up() {
    let mut pc = program("flaky");
    pc.startretries = 1;
    pc.autorestart = AutoRestart::Always;
    let mut rig = Rig::programs(vec![pc]);
    rig.apply("flaky", Input::Start);
    for _ in 0..2 {
        let pid = rig.pid("flaky");
        rig.exit(pid, exited(1));
        rig.reap();
        assert_eq!(rig.state("flaky"), ProcessState::Backoff);
        rig.tick_after(Duration::from_secs(60));
    }
    assert_eq!(rig.state("flaky"), ProcessState::Fatal);
    assert_eq!(rig.os.borrow().spawns.len(), 2);
    rig.logged("gave up: flaky entered FATAL state, too many start retries too quickly");
}

#[test]
fn a_failed_spawn_backs_off_with_its_error() {
    let mut rig = Rig::programs(vec![program("web")]);
    rig.os.borrow_mut().spawn_error = Some("too many open files to spawn 'web'".into());
    rig.apply("web", Input::Start);
    assert_eq!(rig.state("web"), ProcessState::Backoff);
    let p = rig.sup.process(rig.id("web")).unwrap();
    assert_eq!(p.machine.spawnerr, "too many open files to spawn 'web'");
    assert_eq!(p.starts, 0);
    assert!(p.stdin.is_none());
    rig.logged("spawnerr: too many open files to spawn 'web'");
}

#[test]
fn a_stop_sends_the_stopsignal_then_sigkill_after_stopwaitsecs() {
    let mut pc = program("web");
    pc.stopsignal = libc::SIGINT;
    pc.stopwaitsecs = 5;
    let mut rig = Rig::programs(vec![pc]);
    let pid = rig.running("web");
    rig.apply("web", Input::Stop);
    assert_eq!(rig.state("web"), ProcessState::Stopping);
    assert_eq!(rig.kills(), vec![(pid, libc::SIGINT)]);
    rig.tick_after(Duration::from_millis(4999));
    assert_eq!(rig.kills().len(), 1);
    rig.tick_after(Duration::from_millis(1));
    assert_eq!(rig.kills(), vec![(pid, libc::SIGINT), (pid, libc::SIGKILL)]);
    rig.exit(pid, killed(libc::SIGKILL));
    rig.reap();
    assert_eq!(rig.state("web"), ProcessState::Stopped);
    rig.logged(&format!("WARN killing 'web' ({pid}) with SIGKILL"));
    rig.logged("stopped: web (terminated by SIGKILL)");
}

#[test]
fn a_refused_kill_is_unknown_and_supervisord_fatal() {
    let mut rig = Rig::programs(vec![program("web")]);
    let pid = rig.running("web");
    rig.kills_fail(Some(libc::EPERM));
    rig.apply("web", Input::Stop);
    assert_eq!(rig.state("web"), ProcessState::Unknown);
    assert_eq!(rig.sup.state_code(), (2, "FATAL"));
    let cause =
        format!("kill({pid}, 15) of 'web' failed: EPERM (Operation not permitted (os error 1))");
    assert_eq!(rig.sup.fatal_cause(), Some(cause.as_str()));
    assert_eq!(
        rig.sup.last_kill_error(),
        Some("EPERM (Operation not permitted (os error 1))")
    );
    rig.logged(&format!("CRIT supervisord entered FATAL state: {cause}"));
}

#[test]
fn a_kill_of_a_pid_already_gone_is_only_a_debug_line() {
    let mut rig = Rig::programs(vec![program("web")]);
    let pid = rig.running("web");
    rig.kills_fail(Some(libc::ESRCH));
    rig.apply("web", Input::Stop);
    // Its exit is on the way: STOPPING until it is reaped, supervisord stays RUNNING.
    assert_eq!(rig.state("web"), ProcessState::Stopping);
    assert_eq!(rig.sup.state_code(), (1, "RUNNING"));
    assert_eq!(rig.sup.last_kill_error(), None);
    rig.logged(&format!(
        "DEBG unable to signal web (pid {pid}), it probably just exited on its own"
    ));
    rig.exit(pid, killed(libc::SIGTERM));
    rig.reap();
    assert_eq!(rig.state("web"), ProcessState::Stopped);
}

#[test]
fn a_stranger_is_logged_when_reaped_and_a_probe_command_is_not() {
    let mut rig = Rig::programs(vec![program("web")]);
    let id = rig.id("web");
    rig.sup.pids.insert(31337, Owner::Probe(id, Purpose::Ready));
    rig.exit(31337, exited(0));
    rig.exit(4242, killed(libc::SIGKILL));
    rig.reap();
    rig.logged("INFO reaped unknown pid 4242 (terminated by SIGKILL)");
    let log = rig.log();
    assert!(!log.contains("31337"), "{log}");
    assert!(!rig.sup.pids.contains(31337));
    assert_eq!(rig.state("web"), ProcessState::Stopped);
}

#[test]
fn output_written_before_the_exit_is_logged_before_it() {
    let mut pc = program("web");
    let mut rig = Rig::programs(vec![]);
    let path = rig.dir().join("web.out");
    pc.stdout.logfile = crate::config::LogFile::Path(path.clone());
    rig.sup
        .add_group(crate::testutil::program_group("web", vec![pc]));
    let pid = rig.running("web");
    {
        let mut w = rig.os.borrow_mut();
        let ends = w.children.get_mut(&pid).expect("child");
        ends.stdout.write_all(b"last words\n").unwrap();
    }
    // Nothing read it yet: the reap drains the pipe before it feeds the exit in.
    rig.exit(pid, exited(0));
    rig.reap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "last words\n");
    assert_eq!(rig.state("web"), ProcessState::Exited);
}

#[test]
fn a_named_main_pid_that_lives_takes_over_when_the_first_is_reaped() {
    let mut rig = Rig::programs(vec![program("web"), program("old")]);
    for (name, alive) in [("web", true), ("old", false)] {
        let pid = rig.running(name);
        let id = rig.id(name);
        rig.sup.process_mut_for_tests(id).probe.main_pid = Some(pid + 1000);
        // kill(main, 0) answers whether the named pid still runs.
        rig.kills_fail((!alive).then_some(libc::ESRCH));
        rig.exit(pid, exited(0));
        rig.reap();
        assert_eq!(rig.kills().last(), Some(&(pid + 1000, 0)));
        if alive {
            assert_eq!(rig.state(name), ProcessState::Running);
            assert_eq!(rig.pid(name), pid + 1000);
            assert!(rig.sup.pids.contains(pid + 1000));
        } else {
            assert_eq!(rig.state(name), ProcessState::Exited);
        }
    }
}
