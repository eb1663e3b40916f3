//! supervisor_twiddler's interface served natively (issue #19 item 5): programs added and
//! removed at run time show in supervisorctl's status, the web UI and /status.json; the
//! README's session and every fault give what Python's supervisord with the real
//! supervisor_twiddler 1.0.0 gives (the venv's, from tools/venv.sh; without it that test fails
//! under CI and skips elsewhere); the configuration rules of its section.

mod common;

use common::rpc::{self, s, Value};
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

const TWIDDLER: &str = "[rpcinterface:twiddler]
supervisor.rpcinterface_factory = supervisor_twiddler.rpcinterface:make_twiddler_rpcinterface
";

const PROGRAMS: &str = "
[group:group_name]
programs=
priority=5

[program:cat]
command=cat
startsecs=0
";

fn ctl(conf: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(bin("supervisorctl"))
        .arg("-c")
        .arg(conf)
        .args(args)
        .output()
        .expect("supervisorctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn page(port: u16, path: &str) -> String {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut text = String::new();
    c.read_to_string(&mut text).expect("read");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text
}

fn state(sock: &Path, name: &str) -> String {
    rpc::call(sock, "supervisor.getProcessInfo", &[s(name)])
        .ok()
        .and_then(|i| rpc::get(&i, "statename").and_then(|v| v.as_str().map(str::to_string)))
        .unwrap_or_default()
}

fn options(pairs: &[(&str, &str)]) -> Value {
    Value::Struct(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string().into(), s(v)))
            .collect(),
    )
}

#[test]
fn twiddled_programs_show_in_status_and_the_web_ui() {
    let port = free_port();
    let d = Daemon::start(
        "twiddler-ui",
        &format!(
            "{RPC}[supervisorctl]\nserverurl=unix://{{dir}}/sock\n\n\
             [inet_http_server]\nport=127.0.0.1:{port}\n\n{TWIDDLER}{PROGRAMS}"
        ),
    );
    let sock = d.path("sock");
    wait_until(20, "cat RUNNING", || state(&sock, "cat") == "RUNNING");
    assert_eq!(
        rpc::call(&sock, "twiddler.getAPIVersion", &[]),
        Ok(s("1.0"))
    );
    d.wait_log("RPC interface 'twiddler' initialized", 5);

    // Added to a group of the file, started by autostart.
    let added = rpc::call(
        &sock,
        "twiddler.addProgramToGroup",
        &[
            s("group_name"),
            s("web"),
            options(&[("command", "sleep 1000"), ("startsecs", "0")]),
        ],
    );
    assert_eq!(added, Ok(Value::Bool(true)));
    wait_until(20, "web RUNNING", || {
        state(&sock, "group_name:web") == "RUNNING"
    });
    let (code, out) = ctl(&d.conf, &["status", "group_name:*"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("group_name:web                   RUNNING   pid "),
        "{out}"
    );
    let ui = page(port, "/");
    assert!(ui.contains("group_name:web"), "{ui}");
    assert!(page(port, "/status.json").contains("\"namespec\":\"group_name:web\""));

    // An empty group of our own (addGroup), then a program in it, stopped.
    assert_eq!(
        rpc::call(&sock, "twiddler.addGroup", &[s("dyn"), Value::Int(7)]),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        rpc::call(&sock, "twiddler.addGroup", &[s("dyn"), Value::Int(7)]),
        Err((10, "BAD_NAME: dyn".into()))
    );
    rpc::call(
        &sock,
        "twiddler.addProgramToGroup",
        &[
            s("dyn"),
            s("job"),
            options(&[("command", "sleep 1000"), ("autostart", "false")]),
        ],
    )
    .expect("add job");
    let (code, out) = ctl(&d.conf, &["status", "dyn:job"]);
    assert_eq!(
        (code, out.as_str()),
        (
            3,
            "dyn:job                          STOPPED   Not started\n"
        )
    );
    assert!(page(port, "/").contains("dyn:job"));

    // Removed: a running process is refused, a stopped one goes from status and the page.
    assert_eq!(
        rpc::call(
            &sock,
            "twiddler.removeProcessFromGroup",
            &[s("group_name"), s("web")]
        ),
        Err((91, "STILL_RUNNING: web".into()))
    );
    let (code, out) = ctl(&d.conf, &["stop", "group_name:web"]);
    assert_eq!((code, out.as_str()), (0, "group_name:web: stopped\n"));
    for (group, name) in [("group_name", "web"), ("dyn", "job")] {
        assert_eq!(
            rpc::call(
                &sock,
                "twiddler.removeProcessFromGroup",
                &[s(group), s(name)]
            ),
            Ok(Value::Bool(true))
        );
    }
    let (code, out) = ctl(&d.conf, &["status"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("cat ") && out.lines().count() == 1, "{out}");
    let ui = page(port, "/");
    assert!(
        !ui.contains("group_name:web") && !ui.contains("dyn:job"),
        "{ui}"
    );
    assert!(
        d.log()
            .contains("INFO twiddler: removed process 'web' from group 'group_name'"),
        "{}",
        d.log()
    );
    // The file still decides: a reread sees the group that is not in it.
    let (_, out) = ctl(&d.conf, &["reread"]);
    assert_eq!(out, "dyn: disappeared\n");
}

#[test]
fn namespaces_whitelist_and_the_gate() {
    let d = Daemon::start(
        "twiddler-conf",
        &format!(
            "{RPC}[rpcinterface:dyn]\n\
             supervisor.rpcinterface_factory = supervisor_twiddler.rpcinterface:make_twiddler_rpcinterface\n\
             whitelist = getAPIVersion, log\n{PROGRAMS}\n[program:slowstop]\n\
             command=/bin/sh -c 'trap \"sleep 3; exit 0\" TERM; while :; do sleep 0.1; done'\n\
             startsecs=0\nstopwaitsecs=20\n"
        ),
    );
    let sock = d.path("sock");
    wait_until(20, "slowstop RUNNING", || {
        state(&sock, "slowstop") == "RUNNING"
    });
    // The namespace is the section's name; `twiddler.*` is not served without its section.
    assert_eq!(rpc::call(&sock, "dyn.getAPIVersion", &[]), Ok(s("1.0")));
    assert_eq!(
        rpc::call(&sock, "twiddler.getAPIVersion", &[]),
        Err((1, "UNKNOWN_METHOD".into()))
    );
    assert_eq!(
        rpc::call(&sock, "dyn.getGroupNames", &[]),
        Err((230, "UNKNOWN: getGroupNames".into()))
    );
    assert_eq!(
        rpc::call(&sock, "dyn.log", &[s("from dyn"), s("CRIT")]),
        Ok(Value::Bool(true))
    );
    d.wait_log("CRIT from dyn", 5);
    let methods = rpc::call(&sock, "system.listMethods", &[]).expect("listMethods");
    let methods: Vec<&str> = methods
        .as_array()
        .expect("array")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        methods.contains(&"dyn.removeProcessFromGroup"),
        "{methods:?}"
    );
    assert!(!methods.iter().any(|m| m.starts_with("twiddler.")));
    let mut sorted = methods.clone();
    sorted.sort();
    assert_eq!(methods, sorted);
    assert_eq!(
        rpc::call(&sock, "system.methodSignature", &[s("dyn.log")]),
        Ok(Value::Array(vec![
            s("boolean"),
            s("string"),
            s("string|int")
        ]))
    );

    // While supervisord shuts down (a program takes its time to stop) every method faults.
    rpc::call(&sock, "supervisor.shutdown", &[]).expect("shutdown");
    assert_eq!(
        rpc::call(&sock, "dyn.getAPIVersion", &[]),
        Err((6, "SHUTDOWN_STATE".into()))
    );

    // Without the section there is no twiddler at all.
    let plain = Daemon::start("twiddler-none", &format!("{RPC}{PROGRAMS}"));
    let sock = plain.path("sock");
    assert_eq!(
        rpc::call(&sock, "twiddler.getAPIVersion", &[]),
        Err((1, "UNKNOWN_METHOD".into()))
    );
    let methods = rpc::call(&sock, "system.listMethods", &[]).expect("listMethods");
    // Supervisor 4.3's 41 and the project's 8 (supervisord(8)) plus getAllProcessHealth
    // and getStartPlan.
    assert_eq!(methods.as_array().map(|m| m.len()), Some(51));
}

#[test]
fn twiddler_section_errors() {
    let dir = TempDir::new("twiddler-bad");
    let conf = dir.path().join("supervisord.conf");
    // The factory takes `whitelist` only (4.3 fails with a TypeError for another key).
    std::fs::write(
        &conf,
        format!(
            "[supervisord]\nlogfile={d}/l\npidfile={d}/p\n{TWIDDLER}whitelist = log\nfoo = 1\n",
            d = dir.path().display()
        ),
    )
    .expect("write");
    let (code, _, err) = run_supervisord(&["-c", &conf.display().to_string()], dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "supervisor_twiddler.rpcinterface:make_twiddler_rpcinterface takes no option 'foo' \
             (only whitelist) in section 'rpcinterface:twiddler'"
        ),
        "{err}"
    );
    std::fs::write(
        &conf,
        "[supervisord]\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = \
         supervisor_twiddler.rpcinterface:make_twiddler_rpcinterface\n",
    )
    .expect("write");
    let (code, _, err) = run_supervisord(&["-c", &conf.display().to_string()], dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("'supervisor' is a built-in namespace"),
        "{err}"
    );
}

/// Python's supervisord with the real supervisor_twiddler, from the venv; None (a skip, or a
/// failure under CI) when it cannot import the plugin.
fn twiddler_venv() -> Option<()> {
    let python = venv_bin("python")?;
    let ok = Command::new(python)
        .args(["-c", "import supervisor_twiddler"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("supervisor_twiddler is not in the venv: run tools/venv.sh");
        }
        println!("SKIPPED: supervisor_twiddler missing from the venv; run tools/venv.sh");
        return None;
    }
    Some(())
}

fn probe(sock: &Path) -> String {
    let python = venv_bin("python").expect("venv python");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/twiddler_probe.py");
    let out = Command::new(python)
        .arg(script)
        .arg(sock)
        .output()
        .expect("probe");
    assert!(
        out.status.success(),
        "probe failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn readme_session_and_faults_match_python_with_supervisor_twiddler() {
    if twiddler_venv().is_none() {
        return;
    }
    let body = format!("{RPC}{TWIDDLER}{PROGRAMS}");
    let Some(python) = PyDaemon::start("twiddler-side-py", &body) else {
        return;
    };
    let ours = Daemon::start("twiddler-side-ours", &body);
    let theirs = probe(&python.dir.path().join("sock"));
    let mine = probe(&ours.path("sock"));
    let normalize = |text: &str, dir: &Path| text.replace(&dir.display().to_string(), "DIR");
    let (theirs, mine) = (
        normalize(&theirs, python.dir.path()),
        normalize(&mine, ours.dir.path()),
    );
    let diffs: Vec<String> = theirs
        .lines()
        .zip(mine.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("python: {a}\nours:   {b}"))
        .collect();
    assert!(
        diffs.is_empty() && theirs.lines().count() == mine.lines().count(),
        "{}\n--- python:\n{theirs}\n--- ours:\n{mine}",
        diffs.join("\n")
    );
    for level in ["WARN twiddled: by name", "ERRO twiddled: lower case"] {
        assert!(python.log().contains(level), "{}", python.log());
        assert!(ours.log().contains(level), "{}", ours.log());
    }
}
