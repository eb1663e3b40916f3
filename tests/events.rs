//! Event listeners end to end: a listener written with Python supervisor's own childutils
//! (from the interop venv) records what it receives.

mod common;

use common::rpc::{call, get, s, Value};
use common::*;
use std::fs;
use std::path::PathBuf;

fn python() -> Option<PathBuf> {
    venv_bin("python")
}

fn recorder() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/events/recorder.py")
        .display()
        .to_string()
}

/// A listener pool section running the recorder.
fn pool(name: &str, events: &str, mode: &str, extra: &str) -> String {
    let py = python()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!(
        "[eventlistener:{name}]\ncommand={py} {} {{dir}}/{name}.rec {mode}\nevents={events}\nstartsecs=0\n{extra}\n",
        recorder()
    )
}

/// Records as (eventname, serial, poolserial, pool, listener, payload).
fn records(d: &Daemon, name: &str) -> Vec<(String, u64, u64, String, String, String)> {
    fs::read_to_string(d.path(&format!("{name}.rec")))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (head, payload) = l.split_once('|')?;
            let f: Vec<&str> = head.split(' ').collect();
            assert_eq!((f[4], f[5]), ("3.0", "supervisor"), "header tokens: {l}");
            Some((
                f[0].to_string(),
                f[1].parse().ok()?,
                f[2].parse().ok()?,
                f[3].to_string(),
                f[6].to_string(),
                payload.replace("\\n", "\n"),
            ))
        })
        .collect()
}

/// Sends a REMOTE_COMMUNICATION event through d's socket.
fn remote(d: &Daemon, kind: &str, data: &str) {
    call(
        &d.path("sock"),
        "supervisor.sendRemoteCommEvent",
        &[s(kind), s(data)],
    )
    .unwrap();
}

/// A daemon whose one listener pool, `rec`, records REMOTE_COMMUNICATION events in `mode`
/// (with `extra` keys), once `rec` is READY.
fn remote_recorder(tag: &str, mode: &str, extra: &str) -> Daemon {
    let d = Daemon::start(
        tag,
        &format!("{RPC}{}", pool("rec", "REMOTE_COMMUNICATION", mode, extra)),
    );
    d.wait_log("rec: ACKNOWLEDGED -> READY", 15);
    d
}

/// Sends the event `t`/`data` to the ready `rec` and waits up to `secs` for `line` in the
/// main log; the pid `rec` had before.
fn send_until(d: &Daemon, data: &str, line: &str, secs: u64) -> i32 {
    let first = d.pid_of("rec").unwrap();
    remote(d, "t", data);
    d.wait_log(line, secs);
    first
}

fn payloads_for(d: &Daemon, name: &str, needle: &str) -> Vec<(String, String)> {
    records(d, name)
        .into_iter()
        .filter(|r| r.5.contains(needle))
        .map(|r| (r.0, r.5))
        .collect()
}

#[test]
fn events_buffered_while_a_listener_starts_are_sent_once_it_runs() {
    if python().is_none() {
        return;
    }
    // The listener says READY long before its startsecs are over; the exit happens in
    // between, and nothing else is emitted to this pool afterwards.
    let listener =
        pool("rec", "PROCESS_STATE_EXITED", "ok", "").replace("startsecs=0", "startsecs=1");
    let d = Daemon::start(
        "ev-starting",
        &format!(
            "{RPC}{listener}[program:p]\ncommand=/bin/sh -c 'sleep 0.3; exit 3'\nstartsecs=0\nautorestart=false\n"
        ),
    );
    wait_until(15, "p's EXITED event", || {
        !payloads_for(&d, "rec", "processname:p ").is_empty()
    });
    let got = payloads_for(&d, "rec", "processname:p ");
    assert_eq!(got[0].0, "PROCESS_STATE_EXITED", "{got:?}");
}

#[test]
fn lifecycle_yields_the_exact_event_sequence() {
    if python().is_none() {
        return;
    }
    let d = Daemon::start(
        "ev-life",
        &format!(
            "{RPC}{}{}[program:p]\ncommand=/bin/sh -c 'sleep 0.3; exit 3'\nstartsecs=0\nautorestart=false\n",
            pool("rec", "PROCESS_STATE", "ok", ""),
            pool("unexp", "PROCESS_STATE_CHANGE_EXITED_UNEXPECTEDLY", "ok", "")
        ),
    );
    wait_until(15, "p's EXITED event", || {
        payloads_for(&d, "rec", "processname:p ").len() >= 3
    });
    let pid = d.pid_of("p").unwrap();
    let got = payloads_for(&d, "rec", "processname:p ");
    assert_eq!(
        got,
        vec![
            (
                "PROCESS_STATE_STARTING".to_string(),
                "processname:p groupname:p from_state:STOPPED tries:0".to_string()
            ),
            (
                "PROCESS_STATE_RUNNING".to_string(),
                format!("processname:p groupname:p from_state:STARTING pid:{pid}")
            ),
            (
                "PROCESS_STATE_EXITED".to_string(),
                format!("processname:p groupname:p from_state:RUNNING expected:0 pid:{pid}")
            ),
        ]
    );
    // Serials and pool serials of one pool increase one by one.
    let recs = records(&d, "rec");
    for w in recs.windows(2) {
        assert_eq!(w[1].2, w[0].2 + 1, "poolserial gap: {recs:?}");
        assert!(w[1].1 > w[0].1);
    }
    // The new event goes only to its own subscribers.
    wait_until(10, "unexpected-exit event", || {
        !payloads_for(&d, "unexp", "processname:p ").is_empty()
    });
    assert_eq!(
        payloads_for(&d, "unexp", "processname:p "),
        vec![(
            "PROCESS_STATE_CHANGE_EXITED_UNEXPECTEDLY".to_string(),
            format!("processname:p groupname:p from_state:RUNNING pid:{pid} exitstatus:3")
        )]
    );
    assert!(records(&d, "rec")
        .iter()
        .all(|r| r.0.starts_with("PROCESS_STATE_")
            && r.0 != "PROCESS_STATE_CHANGE_EXITED_UNEXPECTEDLY"));
}

#[test]
fn fail_rebuffers_and_the_same_serial_comes_again() {
    if python().is_none() {
        return;
    }
    let d = remote_recorder("ev-fail", "fail-first", "");
    remote(&d, "t1", "d1");
    wait_until(10, "delivered twice", || records(&d, "rec").len() >= 2);
    let r = records(&d, "rec");
    assert_eq!(r[0].0, "REMOTE_COMMUNICATION");
    assert_eq!(r[0].5, "type:t1\nd1");
    assert_eq!(
        (r[0].1, r[0].2),
        (r[1].1, r[1].2),
        "same serial and poolserial again"
    );
    d.wait_log("rec: event was rejected", 5);
}

#[test]
fn max_retry_retires_the_listener_and_another_gets_the_event() {
    if python().is_none() {
        return;
    }
    // rec_0 always fails; rec_1 only starts listening once rec_0 has been retired.
    let d = Daemon::start(
        "ev-retry",
        &format!(
            "{RPC}[eventlistener:rec]\ncommand=/bin/sh -c 'if [ $SUPERVISOR_PROCESS_NAME = rec_0 ]; then exec {py} {rec} {{dir}}/rec.rec fail; else exec {py} {rec} {{dir}}/rec.rec wait-for:{{dir}}/go; fi'\n\
             events=REMOTE_COMMUNICATION\nstartsecs=0\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\nmax_retry=2\n",
            py = python().unwrap().display(),
            rec = recorder()
        ),
    );
    d.wait_log("rec_0: ACKNOWLEDGED -> READY", 15);
    remote(&d, "t", "x");
    d.wait_log("rec_0: rejected event", 15);
    d.wait_log("gave up: rec_0 entered FATAL state", 15);
    fs::write(d.path("go"), "").unwrap();
    wait_until(15, "rec_1 got the event", || {
        records(&d, "rec")
            .iter()
            .any(|r| r.4 == "rec_1" && r.5 == "type:t\nx")
    });
    let r = records(&d, "rec");
    assert_eq!(r.iter().filter(|r| r.4 == "rec_0").count(), 2, "{r:?}");
    assert_eq!(
        r.iter()
            .map(|r| r.1)
            .collect::<std::collections::HashSet<_>>()
            .len(),
        1
    );
    let info = call(
        &d.path("sock"),
        "supervisor.getProcessInfo",
        &[s("rec:rec_0")],
    )
    .unwrap();
    assert_eq!(info.get("statename"), Some(&s("FATAL")));
}

#[test]
fn command_handler_restarts_a_program() {
    if python().is_none() {
        return;
    }
    let d = Daemon::start(
        "ev-command",
        &format!(
            "{RPC}{}[program:web]\ncommand=sleep 1000\nstartsecs=0\n",
            pool(
                "watch",
                "REMOTE_COMMUNICATION",
                "command:OK,restart~web",
                "handler=command"
            )
        ),
    );
    d.wait_log("watch: ACKNOWLEDGED -> READY", 15);
    d.wait_log("success: web entered RUNNING", 10);
    let before = d.pid_of("web").unwrap();
    remote(&d, "mem", "high");
    d.wait_log("watch: command handler: restart web", 10);
    wait_until(10, "web restarted", || {
        d.pid_of("web").is_some_and(|p| p != before)
    });
    assert!(!pid_alive(before));
}

#[test]
fn garbage_restarts_the_listener_without_losing_the_event() {
    if python().is_none() {
        return;
    }
    let d = remote_recorder("ev-garbage", "garbage-first", "");
    let first = send_until(
        &d,
        "keep me",
        "rec: event listener protocol violation: bad result line: 'this is not the protocol'; stopping it as a failed start",
        10,
    );
    wait_until(20, "the restarted listener got the same event", || {
        let r = records(&d, "rec");
        r.len() >= 2 && r[1].5 == "type:t\nkeep me" && r[0].1 == r[1].1
    });
    assert_ne!(d.pid_of("rec"), Some(first));
}

/// An event that makes the listener violate the protocol every time counts against
/// max_retry like a rejection: the listener ends FATAL instead of restarting forever.
#[test]
fn max_retry_also_ends_a_protocol_violation_loop() {
    if python().is_none() {
        return;
    }
    let d = remote_recorder("ev-garbage-loop", "garbage", "max_retry=2");
    remote(&d, "t", "poison");
    d.wait_log("gave up: rec entered FATAL state", 20);
    assert_eq!(d.count("stopping it as a failed start"), 1);
    assert_eq!(d.count("times (max_retry=2): the listener goes FATAL"), 1);
    assert_eq!(records(&d, "rec").len(), 2);
}

/// Garbage before READY made the daemon respawn the listener at once, forever (about 1300
/// spawns a second, 36 MB of main log a minute; startretries changed nothing). Now each
/// violation is a failed start: BACKOFF with the growing delay, FATAL after startretries,
/// one line per attempt. No Python needed.
#[test]
fn a_listener_that_breaks_the_protocol_before_ready_backs_off_to_fatal() {
    let d = Daemon::start(
        "ev-garbage-first",
        &format!(
            "{RPC}[eventlistener:bad]\ncommand=/bin/sh -c 'echo garbage && exec sleep 1000'\n\
             events=REMOTE_COMMUNICATION\nstartretries=2\n"
        ),
    );
    let t0 = std::time::Instant::now();
    d.wait_log("gave up: bad entered FATAL state", 30);
    let took = t0.elapsed();
    // Three tries: at 0, after 1 s and after 2 s more.
    assert_eq!(d.count("spawned: 'bad'"), 3, "{}", d.log());
    assert_eq!(
        d.count(
            "bad: event listener protocol violation before READY: unexpected output \"garbage\\n\"; stopping it as a failed start"
        ),
        3
    );
    // The first spawn came a moment before t0 at most.
    assert!(took >= std::time::Duration::from_millis(2500), "{took:?}");
    let info = call(&d.path("sock"), "supervisor.getProcessInfo", &[s("bad")]).unwrap();
    assert_eq!(get(&info, "statename"), Some(&s("FATAL")));
    assert_eq!(
        get(&info, "spawnerr"),
        Some(&s("protocol violation: unexpected output \"garbage\\n\""))
    );
    // Nothing more happens: an event is buffered, not a reason to spawn again.
    remote(&d, "t", "x");
    assert!(call(&d.path("sock"), "supervisor.getState", &[]).is_ok());
    assert_eq!(d.count("spawned: 'bad'"), 3);
}

/// A listener that closed its stdout but kept running stayed RUNNING with its event in
/// flight, and every later event of its pool overflowed. Now it is stopped (a failed start),
/// started again after the backoff, and gets the same event again, then the next ones.
#[test]
fn a_listener_that_closes_its_stdout_is_restarted_and_loses_no_event() {
    if python().is_none() {
        return;
    }
    let d = remote_recorder("ev-hangup", "hangup-first", "buffer_size=4");
    let first = send_until(
        &d,
        "held",
        "rec: event listener protocol violation: closed its stdout and kept running; stopping it as a failed start",
        15,
    );
    for i in 0..3 {
        remote(&d, "t", &format!("later {i}"));
    }
    wait_until(
        20,
        "every event delivered once the listener is back",
        || records(&d, "rec").len() >= 5,
    );
    let got: Vec<(u64, String)> = records(&d, "rec").into_iter().map(|r| (r.1, r.5)).collect();
    assert_eq!(got[0], got[1], "the held event comes again: {got:?}");
    let texts: Vec<&str> = got[1..].iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            "type:t\nheld",
            "type:t\nlater 0",
            "type:t\nlater 1",
            "type:t\nlater 2"
        ]
    );
    assert_ne!(d.pid_of("rec"), Some(first));
    assert!(!pid_alive(first));
    assert!(!d.log().contains("overflowed"), "{}", d.log());
}

#[test]
fn an_answer_written_just_before_exit_counts() {
    if python().is_none() {
        return;
    }
    // The listener answers OK and exits at once, while a `sleep` it leaves behind keeps its
    // stdout open: no hang-up, so the answer is only read when the exit is (Supervisor's
    // drain at exit). Were it ignored, t1 would be rebuffered and come again before t2.
    let d = remote_recorder("ev-lastwords", "exit-after-answer", "autorestart=true");
    remote(&d, "t1", "d1");
    d.wait_log("exited: rec (exit status 0", 15);
    remote(&d, "t2", "d2");
    wait_until(20, "t2 delivered", || {
        records(&d, "rec").iter().any(|r| r.5 == "type:t2\nd2")
    });
    let got: Vec<String> = records(&d, "rec").into_iter().map(|r| r.5).collect();
    assert_eq!(got, vec!["type:t1\nd1", "type:t2\nd2"]);
    assert!(
        !d.log().contains("rebuffering event"),
        "an answered event was put back:\n{}",
        d.log()
    );
}

/// Supervisor formats the type and data of a remote event with %s: any value is accepted.
#[test]
fn remote_event_values_need_not_be_strings() {
    if python().is_none() {
        return;
    }
    let d = remote_recorder("ev-remote-values", "ok", "");
    let sock = d.path("sock");
    let r = call(
        &sock,
        "supervisor.sendRemoteCommEvent",
        &[Value::Int(1), Value::Int(2)],
    );
    assert_eq!(r, Ok(Value::Bool(true)));
    wait_until(15, "the event", || !records(&d, "rec").is_empty());
    assert_eq!(records(&d, "rec")[0].5, "type:1\n2");
}

#[test]
fn overflow_drops_the_oldest_loudly() {
    if python().is_none() {
        return;
    }
    let d = Daemon::start(
        "ev-overflow",
        &format!(
            "{RPC}{}",
            pool(
                "slow",
                "REMOTE_COMMUNICATION",
                "wait-for:{dir}/never",
                "buffer_size=2"
            )
        ),
    );
    for i in 0..5 {
        remote(&d, "t", &i.to_string());
    }
    d.wait_count("pool slow event buffer overflowed, discarding event", 3, 10);
}

#[test]
fn process_log_events_carry_output() {
    if python().is_none() {
        return;
    }
    let d = Daemon::start(
        "ev-log",
        &format!(
            "{RPC}{}[program:talk]\ncommand=/bin/sh -c 'sleep 0.5; echo hello; exec sleep 1000'\nstartsecs=0\nstdout_events_enabled=true\n",
            pool("logs", "PROCESS_LOG", "ok", "")
        ),
    );
    wait_until(15, "log event", || !records(&d, "logs").is_empty());
    let pid = d.pid_of("talk").unwrap();
    let r = &records(&d, "logs")[0];
    assert_eq!(r.0, "PROCESS_LOG_STDOUT");
    assert_eq!(
        r.5,
        format!("processname:talk groupname:talk pid:{pid} channel:stdout\nhello\n")
    );
}

#[test]
fn shutdown_drains_stop_events_before_listeners_stop() {
    if python().is_none() {
        return;
    }
    let mut d = Daemon::start(
        "ev-drain",
        &format!(
            "{RPC}{}[program:prog]\ncommand=sleep 1000\nstartsecs=0\n",
            pool("rec", "PROCESS_STATE,SUPERVISOR_STATE_CHANGE", "ok", "")
        ),
    );
    d.wait_log("rec: ACKNOWLEDGED -> READY", 15);
    d.wait_log("success: prog entered RUNNING", 10);
    assert_eq!(d.stop(), Some(0));
    let names: Vec<String> = records(&d, "rec")
        .into_iter()
        .filter(|r| r.5.contains("processname:prog ") || r.0.starts_with("SUPERVISOR"))
        .map(|r| r.0)
        .collect();
    let tail: Vec<&str> = names
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "SUPERVISOR_STATE_CHANGE_STOPPING",
            "PROCESS_STATE_STOPPING",
            "PROCESS_STATE_STOPPED"
        ],
        "{names:?}"
    );
}

#[test]
fn tick_5_arrives_on_the_period() {
    if python().is_none() {
        return;
    }
    let d = Daemon::start(
        "ev-tick",
        &format!("{RPC}{}", pool("ticks", "TICK_5", "ok", "")),
    );
    wait_until(15, "a TICK_5", || !records(&d, "ticks").is_empty());
    let r = &records(&d, "ticks")[0];
    assert_eq!(r.0, "TICK_5");
    let when: u64 = r.5.strip_prefix("when:").unwrap().parse().unwrap();
    assert_eq!(when % 5, 0);
}

#[test]
fn capture_mode_turns_a_block_into_a_communication_event() {
    if python().is_none() {
        return;
    }
    let d = Daemon::start(
        "ev-capture",
        &format!(
            "{RPC}{}[program:cap]\ncommand=/bin/sh -c 'sleep 0.5; printf \"before<!--XSUPERVISOR:BEGIN-->captured é data<!--XSUPERVISOR:END-->after\\n\"; exec sleep 1000'\n\
             startsecs=0\nstdout_capture_maxbytes=1MB\nstdout_logfile={{dir}}/cap.log\n",
            pool("comm", "PROCESS_COMMUNICATION", "ok", "")
        ),
    );
    wait_until(15, "comm event", || !records(&d, "comm").is_empty());
    let pid = d.pid_of("cap").unwrap();
    let r = &records(&d, "comm")[0];
    assert_eq!(r.0, "PROCESS_COMMUNICATION_STDOUT");
    assert_eq!(
        r.5,
        format!("processname:cap groupname:cap pid:{pid}\ncaptured é data")
    );
    wait_until(5, "log without the block", || {
        fs::read_to_string(d.path("cap.log")).is_ok_and(|t| t == "beforeafter\n")
    });
}
