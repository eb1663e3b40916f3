use super::*;
use crate::config::{GroupConfig, GroupKind};
use crate::log::MainLog;
use crate::testutil::{config, process_config};

/// db (autostart=false) <- app <- worker, each its own group; no process is spawned.
fn sup() -> Supervisor {
    let mut s = Supervisor::new(config(), Default::default(), MainLog::new(), Vec::new()).unwrap();
    let mut db = process_config("db", "/bin/cat");
    db.autostart = false;
    let mut app = process_config("app", "/bin/cat");
    app.depends_on = vec!["db".into()];
    let mut worker = process_config("worker", "/bin/cat");
    worker.depends_on = vec!["app".into()];
    for (i, pc) in [worker, app, db].into_iter().enumerate() {
        s.add_group(GroupConfig {
            name: pc.name.clone(),
            priority: i as i64,
            kind: GroupKind::Program,
            processes: vec![pc.into()],
        });
    }
    s
}

fn id(s: &Supervisor, name: &str) -> usize {
    s.find(name, name).expect("process")
}

#[test]
fn a_gated_autostart_does_not_wake_the_loop() {
    let mut s = sup();
    let now = Now::current();
    s.tick_all(now);
    // app and worker would autostart, but db is not RUNNING: nothing is due.
    assert_eq!(s.next_timeout(now), None);
    for name in ["db", "app", "worker"] {
        assert_eq!(s.state_of(id(&s, name)), Some(ProcessState::Stopped));
    }
    assert_eq!(s.unready_dep(id(&s, "worker")), Some(id(&s, "app")));
    assert!(s.deps_ready(id(&s, "db")));
}

#[test]
fn a_backoff_retry_waits_for_the_gate_without_waking_the_loop() {
    let mut s = sup();
    let (db, app) = (id(&s, "db"), id(&s, "app"));
    let now = Now::current();
    for d in [db, app] {
        // A failed spawn (no fork): BACKOFF, its retry a second away.
        let mut pc = (*s.process(d).unwrap().config).clone();
        pc.command = "/nonexistent/command".into();
        s.process_mut_for_tests(d).config = pc.into();
        s.apply(d, Input::Start, now);
        assert_eq!(s.state_of(d), Some(ProcessState::Backoff));
    }
    let wall = std::time::SystemTime::now();
    let later = Now {
        mono: now.mono + std::time::Duration::from_secs(3600),
        wall,
    };
    // Shutting down closes the gate for every process: due retries wake nobody.
    s.mood = Mood::Shutdown(super::super::supervisor::ShutdownReason::Request);
    assert!(!s.may_start(db) && !s.may_start(app));
    assert_eq!(s.next_timeout(later), None);
    // Running, db's retry is due; app's waits for db.
    s.mood = Mood::Running;
    assert!(s.may_start(db) && !s.may_start(app));
    assert_eq!(s.next_timeout(later), Some(std::time::Duration::ZERO));
    s.process_mut_for_tests(db).machine = Default::default();
    assert_eq!(s.next_timeout(later), None);
    // The tick agrees: app's retry, due by the clock, stays in BACKOFF.
    s.tick_all(later);
    assert_eq!(s.state_of(app), Some(ProcessState::Backoff));
}

#[test]
fn group_starts_are_ordered_dependencies_first() {
    let mut s = sup();
    let (db, app, worker) = (id(&s, "db"), id(&s, "app"), id(&s, "worker"));
    assert_eq!(
        s.dependency_order(vec![worker, app, db]),
        vec![db, app, worker]
    );
    // Outside the list a dependency is not added; the order of the rest is kept.
    assert_eq!(s.dependency_order(vec![worker, db]), vec![worker, db]);
}

#[test]
fn the_start_plan_names_the_stopped_dependencies_in_start_order() {
    let mut s = sup();
    let (db, app, worker) = (id(&s, "db"), id(&s, "app"), id(&s, "worker"));
    assert_eq!(s.start_plan(&[worker]), vec![db, app]);
    assert_eq!(s.start_plan(&[app]), vec![db]);
    assert_eq!(s.start_plan(&[db]), Vec::<usize>::new());
    // Started by the request itself, app is not a dependency started first.
    assert_eq!(s.start_plan(&[worker, app]), vec![db]);
    // A held dependency is on its way already: it and what is behind it are not started.
    s.process_mut_for_tests(app).dep.held = true;
    assert_eq!(s.start_plan(&[worker]), Vec::<usize>::new());
}

#[test]
fn a_fatal_dependency_gives_up_the_held_starts_behind_it() {
    let mut s = sup();
    let (db, app, worker) = (id(&s, "db"), id(&s, "app"), id(&s, "worker"));
    s.relink();
    for d in [app, worker] {
        s.process_mut_for_tests(d).dep.held = true;
    }
    s.deps_state_change(
        db,
        ProcessState::Backoff,
        ProcessState::Fatal,
        Now::current(),
    );
    for d in [app, worker] {
        let p = s.process(d).unwrap();
        assert!(!p.dep.held);
        assert_eq!(
            p.dep.note.as_deref(),
            Some("not started: dependency db is FATAL")
        );
    }
}
