//! Readiness and health probes end to end (issue #18): a program with `ready=tcp:` is RUNNING
//! only once it listens, `ready=http://` once it answers 2xx, `ready=exec:` once the command
//! exits 0 (a hanging one is killed at its timeout); an sd_notify program (a real
//! `systemd-notify` and a plain datagram sender) is RUNNING on READY=1, shows its STATUS, is
//! restarted when its watchdog pings stop, is followed to its MAINPID and ends STOPPED after
//! STOPPING=1; a program not ready within startsecs fails its start; hanging checks do not
//! slow the loop; a failing health check reports (events, status, JSON, /metrics, /healthz,
//! web page) and restarts or stops; and the idle cost of 100 health checks.

mod common;

use common::rpc::{call, get, s, Value};
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

fn member(sock: &Path, name: &str, key: &str) -> String {
    let info = call(sock, "supervisor.getProcessInfo", &[s(name)]).expect("getProcessInfo");
    match get(&info, key) {
        Some(Value::String(v)) => v.clone(),
        Some(Value::Int(n)) => n.to_string(),
        other => panic!("{key}: {other:?}"),
    }
}

fn state(sock: &Path, name: &str) -> String {
    member(sock, name, "statename")
}

/// It stays STARTING for `ms` (past Supervisor's own startsecs rule).
fn stays_starting(d: &Daemon, name: &str, ms: u64) {
    let sock = d.path("sock");
    wait_until(10, "STARTING", || state(&sock, name) == "STARTING");
    let until = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < until {
        assert_eq!(state(&sock, name), "STARTING", "{}", d.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn python() -> Option<std::path::PathBuf> {
    let p = in_path("python3");
    if p.is_none() {
        skip("python3 (probe test programs)");
    }
    p
}

#[test]
fn tcp_ready_program_is_running_only_once_it_listens() {
    let Some(py) = python() else { return };
    let port = free_port();
    let body = format!(
        "{RPC}[program:srv]\ncommand=sh -c 'while [ ! -e {{dir}}/go ]; do sleep 0.05; done; \
         exec {py} -c \"import socket,time; s=socket.socket(); \
         s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\\\"127.0.0.1\\\", {port})); \
         s.listen(); time.sleep(1000)\"'\nready=tcp:{port}\nstartsecs=60\n",
        py = py.display()
    );
    let d = Daemon::start("probe-tcp", &body);
    stays_starting(&d, "srv", 1_500);
    std::fs::write(d.path("go"), "").expect("flag");
    let sock = d.path("sock");
    wait_until(10, "RUNNING once it listens", || {
        state(&sock, "srv") == "RUNNING"
    });
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    assert_eq!(
        d.count("success: srv entered RUNNING state, process is ready"),
        1
    );
}

/// A Python HTTP server on `port` that answers 200 while the file `flag` exists in its
/// directory, and `otherwise` before and after.
fn flag_server(port: u16, flag: &str, otherwise: u16) -> String {
    format!(
        "import http.server,os\n\
         class H(http.server.BaseHTTPRequestHandler):\n \
         def do_GET(self):\n  \
         self.send_response(200 if os.path.exists('{flag}') else {otherwise}); self.end_headers()\n \
         def log_message(self, *a): pass\n\
         http.server.HTTPServer(('127.0.0.1', {port}), H).serve_forever()\n"
    )
}

#[test]
fn http_and_exec_readiness() {
    let Some(py) = python() else { return };
    let port = free_port();
    // A server that answers 503 until the flag exists, then 200.
    let server = flag_server(port, "go", 503);
    let d = Daemon::configure("probe-http", "");
    std::fs::write(d.path("server.py"), server).expect("server.py");
    d.write_conf(&format!(
        "{RPC}[program:web]\ncommand={py} {{dir}}/server.py\ndirectory={{dir}}\n\
         ready=http://127.0.0.1:{port}/health\nstartsecs=60\n\n\
         [program:ex]\ncommand=sleep 1000\nready=exec:test -e {{dir}}/go\nstartsecs=60\n",
        py = py.display()
    ));
    let d = d.spawn(&["-n"]);
    stays_starting(&d, "web", 1_500);
    assert_eq!(state(&d.path("sock"), "ex"), "STARTING");
    std::fs::write(d.path("go"), "").expect("flag");
    let sock = d.path("sock");
    wait_until(10, "both RUNNING", || {
        state(&sock, "web") == "RUNNING" && state(&sock, "ex") == "RUNNING"
    });
    // Probe commands are reaped as such, never as unknown pids.
    assert_eq!(d.count("reaped unknown pid"), 0, "{}", d.log());
}

#[test]
fn not_ready_within_startsecs_fails_the_start() {
    let port = free_port();
    let body = format!(
        "{RPC}[program:never]\ncommand=sleep 1000\nready=tcp:127.0.0.1:{port}\nstartsecs=1\n\
         startretries=1\n"
    );
    let d = Daemon::start("probe-never", &body);
    let sock = d.path("sock");
    wait_until(20, "FATAL", || state(&sock, "never") == "FATAL");
    assert_eq!(d.count("never: not ready within 1 seconds (startsecs)"), 2);
    assert_eq!(
        member(&sock, "never", "spawnerr"),
        "not ready within 1 seconds (startsecs)"
    );
}

/// A shell program that becomes ready with `send READY=1 STATUS=...`, then pings the
/// watchdog every 300 ms while `{dir}/ping` exists.
fn notify_program(send: &str) -> String {
    format!(
        "{RPC}[program:nt]\ncommand=sh -c 'sleep 0.3; {send} READY=1 STATUS=serving-requests; \
         while true; do if [ -e {{dir}}/ping ]; then {send} WATCHDOG=1; fi; sleep 0.3; done'\n\
         ready=notify\nwatchdog_secs=2\nstartsecs=30\n"
    )
}

/// Writes `{dir}/send.py`, which sends its arguments as one sd_notify datagram the way
/// libsystemd does ('@' for the abstract namespace), and returns the command that runs it.
fn datagram_sender(d: &Daemon, py: &Path) -> String {
    std::fs::write(
        d.path("send.py"),
        "import os,socket,sys\n\
         a=os.environ['NOTIFY_SOCKET']\n\
         a='\\0'+a[1:] if a.startswith('@') else a\n\
         s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
         s.sendto('\\n'.join(sys.argv[1:]).encode(), a)\n",
    )
    .expect("send.py");
    format!("{} {{dir}}/send.py", py.display())
}

/// Starts `d` with [`notify_program`]`(send)`, pinging from the start, and runs
/// [`notify_checks`].
fn notify_run(d: Daemon, send: &str) {
    std::fs::write(d.path("ping"), "").expect("ping");
    d.write_conf(&notify_program(send));
    let d = d.spawn(&["-n"]);
    notify_checks(&d);
}

fn notify_checks(d: &Daemon) {
    let sock = d.path("sock");
    wait_until(10, "RUNNING on READY=1", || state(&sock, "nt") == "RUNNING");
    let mut desc = String::new();
    wait_until(10, "STATUS in the description", || {
        desc = member(&sock, "nt", "description");
        desc.ends_with(", serving-requests")
    });
    assert!(desc.starts_with("pid "), "{desc}");
    let pid = member(&sock, "nt", "pid");
    // Pings keep it running past the watchdog's 2 s.
    std::thread::sleep(Duration::from_millis(3_000));
    assert_eq!(member(&sock, "nt", "pid"), pid, "{}", d.log());
    assert_eq!(d.count("watchdog timeout"), 0);
    // No more pings: restarted (a new pid, RUNNING again after its new READY=1).
    std::fs::remove_file(d.path("ping")).expect("rm ping");
    d.wait_log(
        "restarting nt: watchdog timeout (no WATCHDOG=1 for 2 seconds)",
        10,
    );
    wait_until(10, "RUNNING again with a new pid", || {
        state(&sock, "nt") == "RUNNING" && member(&sock, "nt", "pid") != pid
    });
}

#[test]
fn sd_notify_with_systemd_notify() {
    let Some(tool) = in_path("systemd-notify") else {
        skip("systemd-notify (Debian package systemd)");
        return;
    };
    // systemd-notify takes one assignment per argument; --ready is READY=1.
    let send = format!("{}", tool.display());
    notify_run(Daemon::configure("probe-sdn", ""), &send);
}

#[test]
fn sd_notify_with_a_plain_datagram_sender() {
    let Some(py) = python() else { return };
    let d = Daemon::configure("probe-dgram", "");
    let send = datagram_sender(&d, &py);
    notify_run(d, &send);
}

#[test]
fn hanging_checks_do_not_slow_the_loop() {
    // A listener that accepts (in the kernel's backlog) and never answers: every HTTP check
    // waits for a status line until its timeout.
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = l.local_addr().expect("addr").port();
    let mut body = String::from(RPC);
    for i in 0..50 {
        body.push_str(&format!(
            "[program:p{i}]\ncommand=sleep 1000\nready=http://127.0.0.1:{port}/\nstartsecs=60\n\n"
        ));
    }
    let d = Daemon::start("probe-hang", &body);
    let sock = d.path("sock");
    wait_until(20, "all STARTING", || {
        (0..50).all(|i| state(&sock, &format!("p{i}")) == "STARTING")
    });
    // Keep the backlog drained so new checks connect, and hold every connection open.
    l.set_nonblocking(true).expect("nonblocking");
    let mut held = Vec::new();
    let mut times = Vec::new();
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        while let Ok((c, _)) = l.accept() {
            held.push(c);
        }
        let t = Instant::now();
        call(&sock, "supervisor.getState", &[]).expect("getState");
        times.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(50));
    }
    times.sort();
    let median = times[times.len() / 2];
    eprintln!(
        "getState while 50 checks hang: median {median:?}, max {:?}, {} connections held",
        times[times.len() - 1],
        held.len()
    );
    assert!(held.len() >= 50, "the checks connected ({})", held.len());
    assert!(median < Duration::from_millis(20), "median {median:?}");
    assert!((0..50).all(|i| state(&sock, &format!("p{i}")) == "STARTING"));
}

#[test]
fn failing_http_health_check_restarts_after_retries_and_emits_events() {
    let Some(py) = venv_bin("python") else {
        skip("the interop venv's python (supervisor's childutils for the listener)");
        return;
    };
    let recorder =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/events/recorder.py");
    let port = free_port();
    let server = flag_server(port, "ok", 500);
    let d = Daemon::configure("probe-health", "");
    std::fs::write(d.path("server.py"), server).expect("server.py");
    std::fs::write(d.path("ok"), "").expect("ok");
    d.write_conf(&format!(
        "{RPC}[program:web]\ncommand={py} {{dir}}/server.py\ndirectory={{dir}}\n\
         ready=tcp:{port}\nstartsecs=30\nhealthcheck=http://127.0.0.1:{port}/\n\
         healthcheck_interval=1\nhealthcheck_retries=3\nhealthcheck_timeout=2\n\n\
         [eventlistener:rec]\ncommand={py} {rec} {{dir}}/rec.rec ok\n\
         events=PROCESS_HEALTH_HEALTHY,PROCESS_HEALTH_UNHEALTHY\nstartsecs=0\n",
        py = py.display(),
        rec = recorder.display()
    ));
    let d = d.spawn(&["-n"]);
    let sock = d.path("sock");
    let rec = || std::fs::read_to_string(d.path("rec.rec")).unwrap_or_default();
    wait_until(20, "a PROCESS_HEALTH_HEALTHY event", || {
        rec().contains("PROCESS_HEALTH_HEALTHY")
    });
    let pid = member(&sock, "web", "pid");
    assert!(
        rec().contains(&format!(
            "processname:web groupname:web from_state:RUNNING pid:{pid} failures:0"
        )),
        "{}",
        rec()
    );
    // Failing from now on: unhealthy after 3 failures, then restarted.
    let failing = Instant::now();
    std::fs::remove_file(d.path("ok")).expect("rm ok");
    wait_until(20, "a PROCESS_HEALTH_UNHEALTHY event", || {
        rec().contains("PROCESS_HEALTH_UNHEALTHY")
    });
    let took = failing.elapsed();
    assert!(
        took >= Duration::from_millis(1_500),
        "3 checks 1 s apart: {took:?}"
    );
    assert!(
        rec().contains(&format!("pid:{pid} failures:3")),
        "{}",
        rec()
    );
    d.wait_log(
        "restarting web: health check failed 3 times (HTTP status 500)",
        10,
    );
    std::fs::write(d.path("ok"), "").expect("ok");
    wait_until(20, "RUNNING again with a new pid", || {
        state(&sock, "web") == "RUNNING" && member(&sock, "web", "pid") != pid
    });
    // getProcessInfo keeps Supervisor's members: the description has no health in it.
    assert!(!member(&sock, "web", "description").contains("health"));
}

/// `GET path` over the daemon's unix socket: (status line, body).
fn unix_get(sock: &Path, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(sock).expect("connect");
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    (
        head.lines().next().unwrap_or_default().to_string(),
        body.to_string(),
    )
}

fn ctl_out(bin: &Path, conf: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(bin)
        .arg("-c")
        .arg(conf)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run supervisorctl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn health_is_shown_in_status_json_metrics_healthz_and_the_web_page() {
    let d = Daemon::configure("probe-show", "");
    std::fs::write(d.path("ok"), "").expect("ok");
    d.write_conf(&format!(
        "{RPC}[supervisorctl]\nserverurl=unix://{{dir}}/sock\n\n\
         [program:app]\ncommand=sleep 1000\nhealthcheck=exec:test -e {{dir}}/ok\n\
         healthcheck_interval=1\nhealthcheck_retries=2\nhealthcheck_action=none\n\n\
         [program:plain]\ncommand=sleep 1000\n"
    ));
    let d = d.spawn(&["-n"]);
    let sock = d.path("sock");
    let ours = bin("supervisorctl");
    let mut line = String::new();
    wait_until(15, "healthy in status", || {
        line = ctl_out(&ours, &d.conf, &["status", "app"]);
        line.contains(", healthy")
    });
    assert!(line.contains("RUNNING   pid "), "{line}");
    assert!(unix_get(&sock, "/healthz").0.contains(" 200 "));
    std::fs::remove_file(d.path("ok")).expect("rm ok");
    wait_until(15, "unhealthy in status", || {
        line = ctl_out(&ours, &d.conf, &["status"]);
        line.contains(", unhealthy (2 failures)")
    });
    assert!(d
        .log()
        .contains("app is unhealthy (2 failed health checks in a row"));
    // Without an action it keeps running; only the health is reported.
    assert!(
        line.lines()
            .any(|l| l.starts_with("app ") && l.contains("RUNNING")),
        "{line}"
    );
    assert!(
        !line
            .lines()
            .any(|l| l.starts_with("plain") && l.contains("health")),
        "{line}"
    );
    let json = ctl_out(&ours, &d.conf, &["status", "--json", "app"]);
    assert!(json.contains("\"health\":\"unhealthy\""), "{json}");
    let (status, body) = unix_get(&sock, "/healthz");
    assert!(status.contains(" 503 "), "{status}");
    assert!(body.contains("app RUNNING unhealthy"), "{body}");
    let (_, metrics) = unix_get(&sock, "/metrics");
    assert!(
        metrics
            .contains("supervisord_process_health{group=\"app\",name=\"app\",namespec=\"app\"} 2"),
        "{metrics}"
    );
    let (_, page) = unix_get(&sock, "/");
    assert!(page.contains(", unhealthy (2 failures)"), "web page");
    // getProcessInfo keeps 4.3's members; Python's supervisorctl shows them unchanged.
    assert!(!member(&sock, "app", "description").contains("health"));
    if let Some(py) = venv_bin("supervisorctl") {
        let out = ctl_out(&py, &d.conf, &["status", "app"]);
        assert!(out.contains("RUNNING") && !out.contains("health"), "{out}");
    } else {
        skip("the interop venv's supervisorctl");
    }
}

/// Voluntary context switches of every thread of `pid`.
fn switches(pid: i32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|dir| {
            dir.flatten()
                .filter_map(|t| {
                    let path = t.path().join("status");
                    let text = std::fs::read_to_string(path).ok()?;
                    text.lines()
                        .find(|l| l.starts_with("voluntary_ctxt_switches:"))
                        .and_then(|l| l.split_whitespace().nth(1))
                        .and_then(|n| n.parse::<u64>().ok())
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn bench_idle_wake_ups_with_100_health_checks_every_10_s() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = l.local_addr().expect("addr").port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            drop(c);
        }
    });
    let mut body = String::from(RPC);
    for i in 0..100 {
        body.push_str(&format!(
            "[program:h{i}]\ncommand=sleep 100000\nstartsecs=0\nstdout_logfile=NONE\n\
             stderr_logfile=NONE\nhealthcheck=tcp:{port}\nhealthcheck_interval=10\n\n"
        ));
    }
    let d = Daemon::start("probe-bench", &body);
    d.wait_count("is healthy", 100, 30);
    let checks = || accepted.load(std::sync::atomic::Ordering::Relaxed);
    let (before, checked) = (switches(d.pid), checks());
    // Two rounds (at 10 s and 20 s after the first), not on the window's edges.
    std::thread::sleep(Duration::from_secs(25));
    let woke = switches(d.pid) - before;
    let ran = checks() - checked;
    eprintln!(
        "100 health checks every 10 s: {woke} wake-ups of the daemon for {ran} checks in 25 s"
    );
    assert!(ran >= 200, "the checks ran ({ran})");
    // Checks that fall due together share their wake-ups; at worst one each.
    assert!(woke <= ran + 10, "{woke} wake-ups in 25 s");
}

/// Pids whose command line is exactly `words`.
fn pids_running(words: &[&str]) -> Vec<i32> {
    let want = words.join("\0") + "\0";
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
                .filter(|pid| {
                    std::fs::read(format!("/proc/{pid}/cmdline"))
                        .is_ok_and(|c| c == want.as_bytes())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_hanging_probe_command_is_killed_at_its_timeout() {
    let body = format!(
        "{RPC}[program:slow]\ncommand=sleep 1000\nready=exec:exec sleep 31.25\nstartsecs=5\n\
         startretries=0\n"
    );
    let d = Daemon::start("probe-exec-timeout", &body);
    let sock = d.path("sock");
    let mut first = Vec::new();
    wait_until(10, "the probe command runs", || {
        first = pids_running(&["sleep", "31.25"]);
        !first.is_empty()
    });
    // Killed after 2 s (probe::TIMEOUT) while the program still has time (startsecs=5).
    wait_until(10, "the first probe command killed", || {
        !pids_running(&["sleep", "31.25"]).contains(&first[0])
    });
    assert_eq!(state(&sock, "slow"), "STARTING");
    wait_until(10, "FATAL", || state(&sock, "slow") == "FATAL");
    assert!(pids_running(&["sleep", "31.25"]).len() <= 1);
    wait_until(5, "no probe command left", || {
        pids_running(&["sleep", "31.25"]).is_empty()
    });
    assert_eq!(d.count("reaped unknown pid"), 0, "{}", d.log());
}

#[test]
fn sd_notify_mainpid_is_followed_when_the_first_pid_exits() {
    let Some(py) = python() else { return };
    let d = Daemon::configure("probe-mainpid", "");
    // A forking daemon: the parent names its child with MAINPID=, says READY=1 and exits.
    std::fs::write(
        d.path("forker.py"),
        "import os,socket,time\n\
         a=os.environ['NOTIFY_SOCKET']\n\
         a='\\0'+a[1:] if a.startswith('@') else a\n\
         pid=os.fork()\n\
         if pid == 0:\n    time.sleep(1000)\n    os._exit(0)\n\
         s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
         s.sendto(('MAINPID=%d\\nREADY=1' % pid).encode(), a)\n\
         open('child.pid','w').write(str(pid))\n\
         time.sleep(0.5)\n\
         os._exit(0)\n",
    )
    .expect("forker.py");
    d.write_conf(&format!(
        "{RPC}[program:fk]\ncommand={} {{dir}}/forker.py\ndirectory={{dir}}\nready=notify\n\
         startsecs=10\nstopwaitsecs=5\n",
        py.display()
    ));
    let d = d.spawn(&["-n"]);
    let sock = d.path("sock");
    let mut child = 0;
    wait_until(10, "the child's pid", || {
        child = std::fs::read_to_string(d.path("child.pid"))
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        child != 0
    });
    wait_until(10, "RUNNING as the child", || {
        state(&sock, "fk") == "RUNNING" && member(&sock, "fk", "pid") == child.to_string()
    });
    d.wait_log(&format!("following its main pid {child} (MAINPID)"), 10);
    assert_eq!(d.count("exited: fk"), 0, "{}", d.log());
    call(&sock, "supervisor.stopProcess", &[s("fk")]).expect("stopProcess");
    assert_eq!(state(&sock, "fk"), "STOPPED");
    wait_until(5, "the child gone", || !pid_alive(child));
}

#[test]
fn sd_notify_stopping_ends_stopped_and_health_action_stop_stops() {
    let Some(py) = python() else { return };
    let d = Daemon::configure("probe-stopping", "");
    let send = datagram_sender(&d, &py);
    d.write_conf(&format!(
        "{RPC}[program:quits]\ncommand=sh -c '{send} READY=1; while [ ! -e {{dir}}/go ]; do sleep 0.05; done; \
         {send} STOPPING=1; sleep 0.5'\nready=notify\nstartsecs=10\nautorestart=true\n\n\
         [program:sick]\ncommand=sleep 1000\nhealthcheck=exec:false\nhealthcheck_interval=1\n\
         healthcheck_retries=2\nhealthcheck_action=stop\nstartsecs=0\n"
    ));
    let d = d.spawn(&["-n"]);
    let sock = d.path("sock");
    wait_until(10, "quits RUNNING", || state(&sock, "quits") == "RUNNING");
    std::fs::write(d.path("go"), "").expect("go");
    d.wait_log("quits is stopping on its own (STOPPING=1)", 10);
    wait_until(10, "quits STOPPED", || state(&sock, "quits") == "STOPPED");
    assert_eq!(d.count("spawned: 'quits'"), 1, "not restarted: {}", d.log());
    wait_until(15, "sick STOPPED by its health check", || {
        state(&sock, "sick") == "STOPPED"
    });
    assert!(d.log().contains("sick is unhealthy (2 failed health checks in a row, last: probe command exit status 1)"), "{}", d.log());
}

/// One program `app` (`sleep 1000`, startsecs=0) with `extra` keys, and a supervisorctl
/// section, for the `update` tests.
fn app_conf(extra: &str) -> String {
    format!(
        "{RPC}[supervisorctl]\nserverurl=unix://{{dir}}/sock\n\n\
         [program:app]\ncommand=sleep 1000\nstartsecs=0\n{extra}"
    )
}

/// `update` re-arms a changed health check on the running process (issue #19 item 1): the
/// pid stays, the new check runs from scratch, and without `healthcheck=` checking stops.
#[test]
fn update_rearms_a_changed_health_check_in_place() {
    let open = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let open = open.local_addr().expect("addr").port();
    let closed = free_port();
    let checked = |port: u16| {
        app_conf(&format!(
            "healthcheck=tcp:{port}\nhealthcheck_interval=1\nhealthcheck_retries=1\n\
             healthcheck_action=none\n"
        ))
    };
    let d = Daemon::start("probe-update", &checked(open));
    let sock = d.path("sock");
    let ours = bin("supervisorctl");
    let status = || ctl_out(&ours, &d.conf, &["status", "app"]);
    wait_until(15, "healthy", || status().contains(", healthy"));
    let pid = member(&sock, "app", "pid");

    d.write_conf(&checked(closed));
    assert_eq!(
        ctl_out(&ours, &d.conf, &["update"]),
        "app: updated in place (healthcheck)\n"
    );
    let mut line = String::new();
    wait_until(15, "unhealthy under the new check", || {
        line = status();
        line.contains(", unhealthy (1 failure)")
    });
    assert!(line.contains("RUNNING"), "{line}");
    assert_eq!(member(&sock, "app", "pid"), pid, "not restarted");

    // No health check any more: health is unknown again and no check makes it unhealthy.
    d.write_conf(&app_conf(""));
    assert_eq!(
        ctl_out(&ours, &d.conf, &["update"]),
        "app: updated in place (healthcheck)\n"
    );
    // Two intervals of the old check, which would have failed at once.
    let until = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < until {
        let line = status();
        assert!(
            line.contains("RUNNING") && !line.contains("health"),
            "{line}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(member(&sock, "app", "pid"), pid, "not restarted");
}

/// A new `ready=` is applied in place from the next start: a process STARTING under the old
/// rule keeps it (here: it keeps waiting for a port nobody opens).
#[test]
fn update_applies_a_new_ready_from_the_next_start() {
    let closed = free_port();
    let d = Daemon::start(
        "probe-update-ready",
        &app_conf(&format!("ready=tcp:{closed}\n")),
    );
    let sock = d.path("sock");
    let ours = bin("supervisorctl");
    stays_starting(&d, "app", 300);
    let pid = member(&sock, "app", "pid");
    d.write_conf(&app_conf(""));
    assert_eq!(
        ctl_out(&ours, &d.conf, &["update"]),
        "app: updated in place (ready)\n"
    );
    // startsecs=0 under the new rule would be RUNNING at once.
    stays_starting(&d, "app", 1500);
    assert_eq!(member(&sock, "app", "pid"), pid, "not restarted");
    ctl_out(&ours, &d.conf, &["restart", "app"]);
    wait_until(15, "RUNNING under the new rule", || {
        state(&sock, "app") == "RUNNING"
    });
    assert_ne!(member(&sock, "app", "pid"), pid);
    assert_eq!(
        ctl_out(&ours, &d.conf, &["reread"]),
        "No config updates to processes\n"
    );
}
