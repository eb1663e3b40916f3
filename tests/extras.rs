//! The rest of Supervisor: fcgi-program sockets, pidproxy, echo_supervisord_conf.

mod common;

use common::rpc::{call, s, Value};
use common::*;
use std::fs;
use std::io::Read;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A FastCGI-style server: accepts on fd 0 and answers each connection with its pid.
const ANSWER_ON_FD0: &str = "python3 -c \"import socket,os;s=socket.socket(fileno=0);[(c.sendall(b'pid='+str(os.getpid()).encode()+b'\\n'),c.close()) for c,_ in iter(s.accept,None)]\"";

fn ask(port: u16) -> Option<i32> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut out = String::new();
    c.read_to_string(&mut out).ok()?;
    out.trim().strip_prefix("pid=")?.parse().ok()
}

#[test]
fn fcgi_socket_is_shared_survives_a_restart_and_closes_with_the_group() {
    let port = free_port();
    let d = Daemon::start(
        "fcgi",
        &format!(
            "{RPC}[fcgi-program:web]\nsocket=tcp://127.0.0.1:{port}\nnumprocs=2\n\
             process_name=%(program_name)s_%(process_num)d\nstartsecs=0\ncommand={ANSWER_ON_FD0}\n"
        ),
    );
    d.wait_count("entered RUNNING state", 2, 15);
    let (a, b) = (d.pid_of("web_0").unwrap(), d.pid_of("web_1").unwrap());
    // Both processes accept on the one socket.
    let mut seen = std::collections::HashSet::new();
    wait_until(15, "answers from both processes", || {
        if let Some(p) = ask(port) {
            seen.insert(p);
        }
        seen.contains(&a) && seen.contains(&b)
    });
    // One process dies and is restarted; the socket stays up the whole time.
    // SAFETY: killing a child of the daemon under test.
    unsafe { libc::kill(a, libc::SIGKILL) };
    // The listening socket outlives the process: connecting works at once, and an answer
    // comes (from web_1, or the new web_0). A connection web_0 had accepted when it was
    // killed gets no answer, hence the retries.
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "socket still listening"
    );
    wait_until(15, "answers while web_0 restarts", || ask(port).is_some());
    wait_until(15, "web_0 restarted", || d.pid_of("web_0") != Some(a));
    let fresh = d.pid_of("web_0").unwrap();
    wait_until(15, "the restarted process accepts too", || {
        ask(port) == Some(fresh)
    });
    assert_eq!(
        d.count("Creating socket tcp://127.0.0.1:"),
        1,
        "{}",
        d.log()
    );
    // Stopping the whole group closes the socket.
    let stopped = call(&d.path("sock"), "supervisor.stopProcessGroup", &[s("web")]).unwrap();
    assert!(
        matches!(stopped, Value::Array(ref v) if v.len() == 2),
        "{stopped:?}"
    );
    d.wait_log("Closing socket tcp://127.0.0.1:", 10);
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "socket gone"
    );
    // Starting again creates it again.
    call(&d.path("sock"), "supervisor.startProcessGroup", &[s("web")]).unwrap();
    wait_until(15, "answers after restart", || ask(port).is_some());
    assert_eq!(d.count("Creating socket tcp://127.0.0.1:"), 2);
}

#[test]
fn fcgi_unix_socket_mode_and_no_leak_on_failed_starts() {
    let d = Daemon::start(
        "fcgiunix",
        "[fcgi-program:bad]\nsocket=unix://{dir}/bad.sock\nsocket_mode=0660\n\
         command=/bin/sh -c 'exit 1'\nstartretries=1\n",
    );
    d.wait_log("gave up: bad entered FATAL state", 15);
    // Created for each attempt, and closed again after each failure.
    assert_eq!(d.count("Creating socket unix://"), 2, "{}", d.log());
    wait_until(5, "closed after the last failure", || {
        d.count("Closing socket unix://") == 2
    });
    assert!(!d.path("bad.sock").exists());
}

#[test]
fn fcgi_unix_socket_has_its_mode() {
    let d = Daemon::start(
        "fcgimode",
        "[fcgi-program:ok]\nsocket=unix://{dir}/ok.sock\nsocket_mode=0660\ncommand=sleep 1000\nstartsecs=0\n",
    );
    d.wait_log("success: ok entered RUNNING", 10);
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(d.path("ok.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660);
    // The process really has the listening socket as stdin.
    let pid = d.pid_of("ok").unwrap();
    let link = fs::read_link(format!("/proc/{pid}/fd/0")).unwrap();
    assert!(
        link.to_string_lossy().starts_with("socket:"),
        "{}",
        link.display()
    );
}

fn pidproxy() -> std::path::PathBuf {
    common::bin("pidproxy")
}

#[test]
fn pidproxy_forwards_term_and_exits_with_the_daemons_status() {
    let dir = TempDir::new("pidproxy");
    let pidfile = dir.path().join("d.pid");
    // Forks, the parent exits at once, the child writes its pid and exits 7 on SIGTERM.
    let daemon = format!(
        "import os,sys,signal,time\nif os.fork(): sys.exit(0)\nos.setsid()\n\
         signal.signal(signal.SIGTERM, lambda *a: os._exit(7))\n\
         open('{}.tmp','w').write(str(os.getpid()))\nos.rename('{0}.tmp','{0}')\n\
         while True: time.sleep(0.05)\n",
        pidfile.display()
    );
    let mut proxy = Command::new(pidproxy())
        .arg(&pidfile)
        .args(["python3", "-c", &daemon])
        .stdin(Stdio::null())
        .spawn()
        .expect("pidproxy");
    wait_until(10, "pidfile", || pidfile.exists());
    let target: i32 = fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid_alive(target));
    // Still running while the daemon runs, even though its direct child has exited.
    assert!(proxy.try_wait().unwrap().is_none());
    // SAFETY: signalling the pidproxy we started.
    unsafe { libc::kill(proxy.id() as i32, libc::SIGTERM) };
    let mut code = None;
    wait_until(10, "pidproxy exit", || {
        code = proxy.try_wait().unwrap().map(|s| s.code());
        code.is_some()
    });
    assert_eq!(code, Some(Some(7)));
    assert!(!pid_alive(target));
}

#[test]
fn pidproxy_usage() {
    let out = Command::new(pidproxy()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Usage: pidproxy <pidfile name> <command>")
    );
}

#[test]
fn echoed_sample_config_loads_without_warnings() {
    let out = Command::new(common::bin("echo_supervisord_conf"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/sample.conf")).unwrap()
    );
    // Supervisor's first line, which tools and tests look for.
    assert!(
        text.starts_with("; Sample supervisor config file.\n"),
        "{text}"
    );
    for section in [
        "[unix_http_server]",
        "[inet_http_server]",
        "[supervisord]",
        "[rpcinterface:supervisor]",
        "[supervisorctl]",
        "[program:",
        "[eventlistener:",
        "[fcgi-program:",
        "[group:",
        "[include]",
    ] {
        assert!(text.contains(section), "{section} missing");
    }
    // As-is, except that the fixed /tmp paths move into a private directory.
    let d = Daemon::configure("sample", "");
    let dir = d.dir.path().display().to_string();
    fs::write(&d.conf, text.replace("/tmp/", &format!("{dir}/"))).unwrap();
    let mut d = d.spawn_raw(&["-n"]);
    let log = d.path("supervisord.log");
    wait_until(10, "started", || {
        fs::read_to_string(&log).is_ok_and(|l| l.contains("supervisord started"))
    });
    let text = fs::read_to_string(&log).unwrap();
    assert!(!text.contains(" WARN "), "{text}");
    assert!(!text.contains(" ERRO "), "{text}");
    let state = call(&d.path("supervisor.sock"), "supervisor.getState", &[]).unwrap();
    assert_eq!(
        state.get("statename"),
        Some(&Value::String("RUNNING".into()))
    );
    assert_eq!(d.stop(), Some(0));
}

/// echo_supervisord_conf(1): OPTIONS and EXIT STATUS.
#[test]
fn echo_supervisord_conf_help_and_usage_error() {
    let run = |args: &[&str]| {
        let out = Command::new(common::bin("echo_supervisord_conf"))
            .args(args)
            .output()
            .unwrap();
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        (out.status.code(), text(out.stdout), text(out.stderr))
    };
    for help in ["-h", "--help"] {
        let (code, out, err) = run(&[help]);
        assert_eq!((code, err.as_str()), (Some(0), ""), "{help}");
        assert!(
            out.starts_with("Usage: echo_supervisord_conf > supervisord.conf\n"),
            "{out}"
        );
    }
    let (code, out, err) = run(&["--bogus"]);
    assert_eq!((code, out.as_str()), (Some(2), ""));
    assert!(
        err.starts_with("Error: arguments are not supported: --bogus\n"),
        "{err}"
    );
}

#[test]
fn fcgi_changed_socket_is_recreated_by_update() {
    let (p1, p2) = (free_port(), free_port());
    let conf = |port: u16| {
        format!(
            "{RPC}[fcgi-program:web]\nsocket=tcp://127.0.0.1:{port}\nstartsecs=0\ncommand={ANSWER_ON_FD0}\n"
        )
    };
    let d = Daemon::start("fcgiupdate", &conf(p1));
    wait_until(15, "first socket answers", || ask(p1).is_some());
    d.write_conf(&conf(p2));
    let sock = d.path("sock");
    let diff = call(&sock, "supervisor.reloadConfig", &[]).unwrap();
    let changed = Value::Array(vec![Value::Array(vec![
        Value::Array(vec![]),
        Value::Array(vec![s("web")]),
        Value::Array(vec![]),
    ])]);
    assert_eq!(diff, changed);
    // What `supervisorctl update` does for a changed group.
    call(&sock, "supervisor.stopProcessGroup", &[s("web")]).unwrap();
    call(&sock, "supervisor.removeProcessGroup", &[s("web")]).unwrap();
    call(&sock, "supervisor.addProcessGroup", &[s("web")]).unwrap();
    wait_until(15, "new socket answers", || ask(p2).is_some());
    assert!(
        TcpStream::connect(("127.0.0.1", p1)).is_err(),
        "old socket closed"
    );
}
