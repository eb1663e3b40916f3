//! Shutdown's stop waves with fake exits.

use super::{exited, program, Rig};
use crate::config::GroupConfig;
use crate::process::ProcessState;
use crate::testutil::program_group;
use std::time::Duration;

fn group(name: &str, priority: i64) -> GroupConfig {
    GroupConfig {
        priority,
        ..program_group(name, vec![program(name)])
    }
}

#[test]
fn waves_stop_by_priority_highest_first_and_wait_for_the_exits() {
    let mut rig = Rig::new(vec![group("db", 1), group("app", 2), group("web", 2)]);
    let pids: Vec<i32> = ["db", "app", "web"]
        .iter()
        .map(|n| rig.running(n))
        .collect();
    let (db, app, web) = (pids[0], pids[1], pids[2]);
    rig.sup.request_shutdown();
    let now = rig.now();
    assert!(!rig.sup.shutdown_step(now));
    // One wave: both groups of priority 2 together.
    let mut first = rig.kills();
    first.sort();
    let mut want = vec![(app, libc::SIGTERM), (web, libc::SIGTERM)];
    want.sort();
    assert_eq!(first, want);
    rig.exit(app, exited(0));
    rig.reap();
    rig.advance(Duration::from_millis(10));
    let now = rig.now();
    assert!(!rig.sup.shutdown_step(now));
    assert_eq!(rig.kills().len(), 2, "db waits for the whole wave");
    rig.exit(web, exited(0));
    rig.reap();
    let now = rig.now();
    assert!(!rig.sup.shutdown_step(now));
    assert_eq!(rig.kills().last(), Some(&(db, libc::SIGTERM)));
    assert_eq!(rig.state("db"), ProcessState::Stopping);
    rig.exit(db, exited(0));
    rig.reap();
    let now = rig.now();
    assert!(rig.sup.shutdown_step(now));
    for name in ["db", "app", "web"] {
        assert_eq!(rig.state(name), ProcessState::Stopped);
    }
    // Nothing starts again while shutting down.
    rig.tick_after(Duration::from_secs(3600));
    assert_eq!(rig.os.borrow().spawns.len(), 3);
}

#[test]
fn a_wave_that_ignores_its_stopsignal_is_killed_after_stopwaitsecs() {
    let mut rig = Rig::new(vec![group("db", 1), group("app", 2)]);
    let db = rig.running("db");
    let app = rig.running("app");
    rig.sup.request_shutdown();
    let now = rig.now();
    assert!(!rig.sup.shutdown_step(now));
    rig.tick_after(Duration::from_secs(10));
    assert_eq!(
        rig.kills(),
        vec![(app, libc::SIGTERM), (app, libc::SIGKILL)]
    );
    rig.exit(app, crate::daemon::sim::killed(libc::SIGKILL));
    rig.reap();
    let now = rig.now();
    assert!(!rig.sup.shutdown_step(now));
    assert_eq!(rig.kills().last(), Some(&(db, libc::SIGTERM)));
}
