//! Machine-readable output and acting without waiting (issue #19 items 3 and 4):
//! `status|pid|avail --json` and `GET /status.json` against the XML-RPC structs they come
//! from, in every state a process can be observed in; `start|stop|restart --no-wait`; several
//! arguments handled in parallel with results printed as they arrive. Against our daemon and
//! Python's supervisord 4.3.0.

use super::*;
use crate::common::rpc::{self, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use supervisor::json;

/// A program in each state that lasts long enough to be seen, and names a JSON encoder must
/// escape (a quote, a backslash, non-ASCII, a control character in an error text).
const STATES: &str = "
[program:running]
command=sleep 1000
startsecs=0

[program:stopped]
command=sleep 1000
autostart=false

[program:exited]
command=/bin/sh -c 'exit 0'
startsecs=0
autorestart=false

[program:fatal]
command=/nonexistent/ctl\u{1}char
startretries=0

[program:backoff]
command=/bin/sh -c 'exit 1'
startsecs=5
startretries=1000

[program:starting]
command=sleep 1000
startsecs=1000

[program:stopping]
command=/bin/sh -c 'trap \"sleep 6; exit 0\" TERM; while :; do sleep 0.1; done'
startsecs=0
stopwaitsecs=30

[program:q\"uo\\te-ü]
command=sleep 1000
startsecs=0
";

/// Parses what a `--json` command printed: exactly one line, one JSON object.
#[track_caller]
fn document(out: &Out) -> Value {
    assert!(
        out.stdout.ends_with('\n') && out.stdout.matches('\n').count() == 1,
        "not one line: {out:?}"
    );
    json::decode(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

fn processes(doc: &Value) -> &[Value] {
    rpc::get(doc, "processes")
        .and_then(Value::as_array)
        .expect("processes array")
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    rpc::get(v, key).and_then(Value::as_str).unwrap_or("")
}

fn statenames(doc: &Value) -> Vec<(String, String)> {
    processes(doc)
        .iter()
        .map(|p| {
            (
                text(p, "namespec").to_string(),
                text(p, "statename").to_string(),
            )
        })
        .collect()
}

/// Python's json module must read the document too (another parser than ours).
fn python_parses(text: &str) {
    let Some(python) = crate::common::venv_bin("python") else {
        return;
    };
    let mut child = std::process::Command::new(python)
        .args(["-c", "import json,sys; json.load(sys.stdin)"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    assert!(child.wait().expect("python").success(), "python: {text}");
}

/// `GET path` on 127.0.0.1:port with optional Basic credentials and Host; (status, body).
fn http_get(port: u16, path: &str, auth: Option<&str>, host: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let auth = auth
        .map(|a| {
            format!(
                "Authorization: Basic {}\r\n",
                supervisor::rpc::base64::encode(a.as_bytes())
            )
        })
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("send");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

#[test]
fn status_json_round_trips_every_field_in_every_state() {
    let port = crate::common::free_port();
    let d = crate::common::Daemon::start(
        "ctl-json-states",
        &format!(
            "{RPC}[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword=123\n{STATES}"
        ),
    );
    let ctl = Ctl::ours(&d.conf);
    wait_until(30, "every process in its state", || {
        let doc = document(&ctl.run(&["status", "--json"]));
        let states = statenames(&doc);
        let has = |ns: &str, st: &str| states.iter().any(|(n, s)| n == ns && s == st);
        has("running", "RUNNING")
            && has("stopped", "STOPPED")
            && has("exited", "EXITED")
            && has("fatal", "FATAL")
            && has("backoff", "BACKOFF")
            && has("starting", "STARTING")
            && has("stopping", "RUNNING")
    });
    let started = Instant::now();
    let out = ctl.run(&["stop", "--no-wait", "stopping"]);
    expect(&out, 0, "stopping: stopping\n");
    assert!(started.elapsed() < Duration::from_secs(2), "stop waited");

    // Every member of every process, as XML-RPC returns it, and again as JSON; BACKOFF and
    // STARTING come and go, so a pair is taken until both show the same states.
    let sock = d.path("sock");
    let (xml, out) = {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let xml = rpc::call(&sock, "supervisor.getAllProcessInfo", &[]).expect("rpc");
            let out = ctl.run(&["status", "--json"]);
            let doc = document(&out);
            let same = xml
                .as_array()
                .expect("array")
                .iter()
                .map(|p| text(p, "statename"))
                .eq(processes(&doc).iter().map(|p| text(p, "statename")));
            let states: Vec<&str> = processes(&doc)
                .iter()
                .map(|p| text(p, "statename"))
                .collect();
            if same && states.contains(&"BACKOFF") && states.contains(&"STOPPING") {
                break (xml, out);
            }
            assert!(Instant::now() < deadline, "states never settled: {out:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    assert_eq!(out.code, 3, "status exit rules: some process is down");
    assert_eq!(out.stderr, "");
    python_parses(&out.stdout);
    let doc = document(&out);
    let from_json = processes(&doc);
    let from_xml = xml.as_array().expect("array");
    assert_eq!(from_json.len(), from_xml.len());
    let mut seen = Vec::new();
    for (j, x) in from_json.iter().zip(from_xml) {
        let (Value::Struct(jm), Value::Struct(xm)) = (j, x) else {
            panic!("not structs: {j:?} {x:?}");
        };
        // The server's members in its order, then namespec.
        let keys: Vec<&str> = jm.iter().map(|(k, _)| k.as_ref()).collect();
        let mut want: Vec<&str> = xm.iter().map(|(k, _)| k.as_ref()).collect();
        want.push("namespec");
        assert_eq!(keys, want);
        for (k, xv) in xm {
            let jv = rpc::get(j, k).expect("member");
            let ticking = k == "now" || (k == "description" && text(x, "statename") == "RUNNING");
            if !ticking {
                assert_eq!(jv, xv, "{k} of {}", text(x, "name"));
            }
        }
        seen.push(text(j, "statename").to_string());
    }
    for state in [
        "RUNNING", "STOPPED", "EXITED", "FATAL", "BACKOFF", "STARTING", "STOPPING",
    ] {
        assert!(seen.iter().any(|s| s == state), "{state} not shown");
    }
    let weird = from_json
        .iter()
        .find(|p| text(p, "name") == "q\"uo\\te-ü")
        .expect("the process with a quote, a backslash and an umlaut");
    assert_eq!(text(weird, "namespec"), "q\"uo\\te-ü");
    let fatal = from_json
        .iter()
        .find(|p| text(p, "name") == "fatal")
        .expect("fatal");
    // XML cannot carry U+0001: the XML-RPC answer already has U+FFFD in its place.
    assert!(
        text(fatal, "spawnerr").contains("ctl\u{fffd}char"),
        "{fatal:?}"
    );

    // Names: errors in the document, exit statuses as without --json.
    let out = ctl.run(&["status", "--json", "nope", "running", "nosuch:*"]);
    assert_eq!(out.code, 4, "{out:?}");
    let doc = document(&out);
    assert_eq!(statenames(&doc), [("running".into(), "RUNNING".into())]);
    assert_eq!(
        json::encode(rpc::get(&doc, "errors").expect("errors")),
        r#"[{"name":"nope","error":"no such process"},{"name":"nosuch:*","error":"no such group"}]"#
    );
    let out = ctl.run(&["status", "running", "--json"]);
    assert_eq!(out.code, 0);
    assert_eq!(document(&out).get("errors"), Some(&Value::Array(vec![])));

    // pid and avail.
    let out = ctl.run(&["pid", "--json"]);
    let pid = document(&out);
    let pid = rpc::get(&pid, "supervisord").and_then(|s| rpc::get(s, "pid"));
    assert_eq!(pid, Some(&Value::Int(d.pid as i64)), "{out:?}");
    let out = ctl.run(&["pid", "--json", "running", "stopped", "nope"]);
    assert_eq!(out.code, 1, "nope is the last error: {out:?}");
    let doc = document(&out);
    assert_eq!(processes(&doc).len(), 2);
    assert_eq!(rpc::get(&processes(&doc)[1], "pid"), Some(&Value::Int(0)));
    let out = ctl.run(&["avail", "--json"]);
    assert_eq!(out.code, 0);
    let doc = document(&out);
    assert_eq!(processes(&doc).len(), 8);
    assert!(processes(&doc)
        .iter()
        .all(|p| rpc::get(p, "autostart").is_some_and(|v| matches!(v, Value::Bool(_)))));
    python_parses(&out.stdout);

    // A connection error is a message on stderr, never half a document on stdout.
    let out = run_cmd(
        {
            let mut c = ctl.command(&["-s", "unix:///nonexistent/x.sock", "status", "--json"]);
            c.env("LANG", "C");
            c
        },
        None,
        30,
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (4, ""),
        "stderr: {}",
        out.stderr
    );
    assert!(out.stderr.contains("no such file"), "{}", out.stderr);

    // GET /status.json: the same document, the same Basic auth and Host rules as the pages.
    let (status, _, _) = http_get(port, "/status.json", None, "localhost");
    assert_eq!(status, 401);
    let (status, head, body) = http_get(port, "/status.json", Some("user:123"), "localhost");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("Content-Type: application/json"), "{head}");
    assert!(head.contains("X-Content-Type-Options: nosniff"), "{head}");
    python_parses(&body);
    // Built without XML in between, the control character is there, escaped.
    assert!(body.contains("ctl\\u0001char"), "{body}");
    let web = json::decode(&body).expect("json");
    let ctl_doc = document(&ctl.run(&["status", "--json"]));
    let shape = |doc: &Value| -> Vec<(String, Vec<String>)> {
        processes(doc)
            .iter()
            .map(|p| {
                let keys = p
                    .as_struct()
                    .expect("struct")
                    .iter()
                    .map(|(k, _)| k.to_string())
                    .collect();
                (text(p, "namespec").to_string(), keys)
            })
            .collect()
    };
    assert_eq!(shape(&web), shape(&ctl_doc));
    assert_eq!(web.get("errors"), Some(&Value::Array(vec![])));
    let (status, _, _) = http_get(port, "/status.json", Some("user:123"), "rebound.example");
    assert_eq!(status, 403, "DNS rebinding is refused as for the pages");
}

/// Programs for the timing tests: one that takes 5 s to stop, two more that take 3 s.
const SLOW: &str = "
[program:sleeper]
command=sleep 1000
startsecs=0

[program:slow5]
command=/bin/sh -c 'trap \"sleep 5; exit 0\" TERM; while :; do sleep 0.1; done'
startsecs=0
stopwaitsecs=30

[program:slowstart]
command=sleep 1000
startsecs=5
autostart=false

[group:three]
programs=s1,s2,s3

[program:s1]
command=/bin/sh -c 'trap \"sleep 3; exit 0\" TERM; while :; do sleep 0.1; done'
startsecs=0
stopwaitsecs=30

[program:s2]
command=/bin/sh -c 'trap \"sleep 3; exit 0\" TERM; while :; do sleep 0.1; done'
startsecs=0
stopwaitsecs=30

[program:s3]
command=/bin/sh -c 'trap \"sleep 3; exit 0\" TERM; while :; do sleep 0.1; done'
startsecs=0
stopwaitsecs=30
";

fn state_of(ctl: &Ctl, name: &str) -> String {
    let doc = document(&ctl.run(&["status", "--json", name]));
    processes(&doc)
        .first()
        .map(|p| text(p, "statename").to_string())
        .unwrap_or_default()
}

fn wait_state(ctl: &Ctl, name: &str, state: &str) {
    wait_until(30, &format!("{name} {state}"), || {
        state_of(ctl, name) == state
    });
}

/// The same checks on any daemon (`conf` names its socket); `ours`: it has the
/// `supervisor.restart*` methods.
fn no_wait_and_parallel(ctl: &Ctl, ours: bool) {
    for p in ["sleeper", "slow5", "three:s1", "three:s2", "three:s3"] {
        wait_state(ctl, p, "RUNNING");
    }
    // stop --no-wait returns while the program needs 5 s to stop.
    let t = Instant::now();
    let out = ctl.run(&["stop", "--no-wait", "slow5"]);
    let took = t.elapsed();
    expect(&out, 0, "slow5: stopping\n");
    assert!(took < Duration::from_millis(100), "took {took:?}");
    assert_eq!(state_of(ctl, "slow5"), "STOPPING");
    wait_state(ctl, "slow5", "STOPPED");

    // start --no-wait returns before startsecs (5 s) are over.
    let t = Instant::now();
    let out = ctl.run(&["start", "--no-wait", "slowstart", "sleeper", "nope"]);
    let took = t.elapsed();
    expect_any_order(
        &out,
        1,
        "slowstart: starting\nsleeper: ERROR (already started)\nnope: ERROR (no such process)\n",
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(state_of(ctl, "slowstart"), "STARTING");
    let out = ctl.run(&["stop", "--no-wait", "slowstart"]);
    expect(&out, 0, "slowstart: stopping\n");

    // Three arguments that each take 3 s to stop are stopped side by side (one after the
    // other would take 9 s), and the fast one is reported first although named last.
    let t = Instant::now();
    let out = ctl.run(&["stop", "three:s1", "three:s2", "three:s3", "sleeper"]);
    let took = t.elapsed();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        lines(&out.stdout).first(),
        Some(&"sleeper: stopped"),
        "{out:?}"
    );
    expect_any_order(
        &out,
        0,
        "sleeper: stopped\nthree:s1: stopped\nthree:s2: stopped\nthree:s3: stopped\n",
    );
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(7),
        "took {took:?}"
    );

    // restart: each argument starts again as soon as its own processes stopped (#723).
    ctl.run(&["start", "three:*", "sleeper"]);
    let out = ctl.run(&["restart", "three:s1", "sleeper"]);
    assert_eq!(
        lines(&out.stdout),
        [
            "sleeper: stopped",
            "sleeper: started",
            "three:s1: stopped",
            "three:s1: started"
        ],
        "{out:?}"
    );
    // restart --no-wait of a stopped process: ours restarts it in one call; Python's
    // supervisord has no such method, so the stop (here: none) is waited for.
    let out = ctl.run(&["restart", "--no-wait", "slowstart"]);
    let want = if ours {
        "slowstart: restarting\n"
    } else {
        "slowstart: ERROR (not running)\nslowstart: starting\n"
    };
    expect(&out, 0, want);
    assert_eq!(state_of(ctl, "slowstart"), "STARTING");
}

#[test]
fn no_wait_and_parallel_arguments_on_our_daemon() {
    let d = crate::common::Daemon::start("ctl-nowait-ours", &format!("{RPC}{SLOW}"));
    no_wait_and_parallel(&Ctl::ours(&d.conf), true);
}

fn pid(d: &crate::common::Daemon, name: &str) -> i64 {
    let info = rpc::call(
        &d.path("sock"),
        "supervisor.getProcessInfo",
        &[rpc::s(name)],
    );
    info.ok()
        .and_then(|i| rpc::get(&i, "pid").and_then(Value::as_int))
        .unwrap_or(0)
}

/// Issue #19 item 4: `restart --no-wait` sends the requests and returns at once, and the
/// daemon starts each process as soon as it has stopped (`supervisor.restartProcess`).
#[test]
fn restart_no_wait_returns_at_once_and_the_start_follows_the_stop() {
    let d = crate::common::Daemon::start("ctl-restart-nowait", &format!("{RPC}{SLOW}"));
    let ctl = Ctl::ours(&d.conf);
    for p in ["sleeper", "slow5", "three:s1", "three:s2", "three:s3"] {
        wait_state(&ctl, p, "RUNNING");
    }
    let before: Vec<i64> = ["slow5", "three:s1"].iter().map(|n| pid(&d, n)).collect();
    // slow5 takes 5 s to stop, three's processes 3 s each.
    let t = Instant::now();
    let out = ctl.run(&["restart", "--no-wait", "slow5", "three:*", "nope"]);
    let took = t.elapsed();
    expect_any_order(
        &out,
        1,
        "slow5: restarting\nthree:s1: restarting\nthree:s2: restarting\n\
         three:s3: restarting\nnope: ERROR (no such process)\n",
    );
    assert!(took < Duration::from_millis(100), "took {took:?}");
    assert_eq!(state_of(&ctl, "slow5"), "STOPPING");
    wait_state(&ctl, "slow5", "RUNNING");
    wait_state(&ctl, "three:s1", "RUNNING");
    let after: Vec<i64> = ["slow5", "three:s1"].iter().map(|n| pid(&d, n)).collect();
    for (b, a) in before.iter().zip(&after) {
        assert!(*a > 0 && a != b, "pids before {before:?}, after {after:?}");
    }

    // The method with wait=True answers once the process runs again; `all` restarts
    // every process, running or not.
    let old = pid(&d, "sleeper");
    let r = rpc::call(
        &d.path("sock"),
        "supervisor.restartProcess",
        &[rpc::s("sleeper"), Value::Bool(true)],
    );
    assert_eq!(r, Ok(Value::Bool(true)));
    assert_eq!(state_of(&ctl, "sleeper"), "RUNNING");
    assert_ne!(pid(&d, "sleeper"), old);
    let out = ctl.run(&["restart", "--no-wait", "all"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.matches(": restarting\n").count(), 6, "{out:?}");
    wait_state(&ctl, "slowstart", "STARTING");
}

#[test]
fn json_no_wait_and_parallel_arguments_on_python_supervisord() {
    let Some(d) = PyDaemon::start("ctl-nowait-py", &format!("{RPC}{SLOW}")) else {
        return;
    };
    let ctl = Ctl::ours(&d.conf);
    no_wait_and_parallel(&ctl, false);
    let out = ctl.run(&["status", "--json"]);
    python_parses(&out.stdout);
    let doc = document(&out);
    let xml = rpc::call(&d.path("sock"), "supervisor.getAllProcessInfo", &[]).expect("rpc");
    let names: Vec<&str> = xml
        .as_array()
        .expect("array")
        .iter()
        .map(|p| text(p, "name"))
        .collect();
    let json_names: Vec<&str> = processes(&doc).iter().map(|p| text(p, "name")).collect();
    assert_eq!(json_names, names);
    let out = ctl.run(&["avail", "--json"]);
    assert_eq!(processes(&document(&out)).len(), 6);
}
