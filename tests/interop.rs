//! Interop: our supervisord driven by the real Python clients of supervisor 4.3.0 (its
//! `supervisorctl` and `xmlrpc.client` with supervisor's own unix-socket transport). The venv is
//! made by `make test` (tools/venv.sh); without it these tests fail under CI and skip elsewhere.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PROGRAMS: &str = "\
[unix_http_server]
file={dir}/sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{dir}/sock

[program:sleeper]
command=sleep 1000
startsecs=0

[program:cat]
command=cat
startsecs=0

[program:echoer]
command=/bin/sh -c 'i=0; while [ $i -lt 5 ]; do echo line$i; i=$((i+1)); done; echo oops >&2; exec sleep 1000'
startsecs=0

[program:fail]
command=/nonexistent/prog
autostart=false

[program:quick]
command=/bin/sh -c 'exit 3'
autostart=false
startretries=0

[program:nolog]
command=sleep 1000
stdout_logfile=NONE
startsecs=0

[program:noexec]
command=/etc/passwd
autostart=false

[program:slow]
command=sleep 1000
startsecs=3
autostart=false

[program:test_öäü]
command=sleep 1000
startsecs=0

[group:grp]
programs=g1,g2

[program:g1]
command=sleep 1000
startsecs=0

[program:g2]
command=sleep 1000
startsecs=0
";

#[test]
fn python_xmlrpc_client_drives_every_method() {
    let Some(python) = venv_bin("python") else {
        return;
    };
    let port = free_port();
    let body = format!(
        "{PROGRAMS}\n[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword={{SHA}}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d\n"
    );
    let mut d = Daemon::start("pyrpc", &body);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/rpc_methods.py");
    let out = Command::new(python)
        .arg(script)
        .arg(d.path("sock"))
        .arg(port.to_string())
        .arg(d.pid.to_string())
        .arg(&d.conf)
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("passed, 0 failed"),
        "python client failed:\n{stdout}\n{stderr}\n--- daemon log ---\n{}",
        d.log()
    );
    println!("{}", stdout.trim());
    assert_eq!(d.wait_exit(30), Some(0), "shutdown via RPC");
    assert!(!d.path("sock").exists(), "socket file removed at exit");
}

struct Ctl {
    bin: PathBuf,
    conf: PathBuf,
}

impl Ctl {
    fn run(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.conf)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run supervisorctl");
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }
}

fn wait_ctl(ctl: &Ctl, args: &[&str], want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, out) = ctl.run(args);
        if out.contains(want) || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn python_supervisorctl_commands() {
    let Some(bin) = venv_bin("supervisorctl") else {
        return;
    };
    let mut d = Daemon::start("pyctl", PROGRAMS);
    let ctl = Ctl {
        bin,
        conf: d.conf.clone(),
    };
    wait_ctl(&ctl, &["status", "echoer"], "RUNNING");
    // Some programs are stopped (autostart=false): status exits 3.
    let (code, out) = ctl.run(&["status"]);
    assert_eq!(code, 3, "{out}");
    for line in [
        "sleeper                          RUNNING   pid ",
        "fail                             STOPPED   Not started",
        "grp:g1                           RUNNING",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    let (code, out) = ctl.run(&["status", "sleeper", "cat"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = ctl.run(&["status", "nope"]);
    assert_eq!((code, out.trim()), (4, "nope: ERROR (no such process)"));

    assert_eq!(
        ctl.run(&["stop", "sleeper"]),
        (0, "sleeper: stopped\n".into())
    );
    assert_eq!(
        ctl.run(&["start", "sleeper"]),
        (0, "sleeper: started\n".into())
    );
    assert_eq!(
        ctl.run(&["restart", "sleeper"]),
        (0, "sleeper: stopped\nsleeper: started\n".into())
    );
    let (code, out) = ctl.run(&["start", "fail"]);
    assert_eq!((code, out.trim()), (1, "fail: ERROR (no such file)"));
    let (code, out) = ctl.run(&["start", "quick"]);
    assert_eq!((code, out.trim()), (7, "quick: ERROR (spawn error)"));
    assert_eq!(ctl.run(&["stop", "grp:*"]).0, 0);
    let (_, out) = ctl.run(&["status", "grp:*"]);
    assert_eq!(out.matches("STOPPED").count(), 2, "{out}");
    assert_eq!(ctl.run(&["start", "grp:*"]).0, 0);

    let (code, out) = ctl.run(&["pid"]);
    assert_eq!((code, out.trim()), (0, d.pid.to_string().as_str()));
    let (code, out) = ctl.run(&["pid", "cat"]);
    assert_eq!(code, 0);
    assert!(out.trim().parse::<i32>().is_ok_and(pid_alive), "{out}");
    let (code, _) = ctl.run(&["pid", "fail"]);
    assert_eq!(code, 7);

    let out = wait_ctl(&ctl, &["tail", "echoer"], "line4");
    assert!(
        out.starts_with("line0\nline1\nline2\nline3\nline4\n"),
        "{out:?}"
    );
    let (_, out) = ctl.run(&["tail", "echoer", "stderr"]);
    assert!(out.contains("oops"), "{out}");
    let (_, out) = ctl.run(&["tail", "-8", "echoer"]);
    assert_eq!(out, "3\nline4\n\n");
    assert_eq!(
        ctl.run(&["clear", "echoer"]),
        (0, "echoer: cleared\n".into())
    );
    let (_, out) = ctl.run(&["tail", "echoer"]);
    assert_eq!(out.trim(), "");

    // tail -f streams over /logtail: what cat echoes from stdin arrives while it follows.
    let mut follow = Command::new(&ctl.bin)
        .arg("-c")
        .arg(&ctl.conf)
        .args(["tail", "-f", "cat"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tail -f");
    let mut stream = follow.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains("followed-line") {
                break;
            }
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    let sock = d.path("sock");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !reader.is_finished() && Instant::now() < deadline {
        let _ = common::rpc::call(
            &sock,
            "supervisor.sendProcessStdin",
            &[common::rpc::s("cat"), common::rpc::s("followed-line\n")],
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = follow.kill();
    let _ = follow.wait();
    let seen = reader.join().expect("reader");
    assert!(seen.contains("followed-line"), "tail -f showed {seen:?}");
    let (code, _) = ctl.run(&["signal", "CONT", "cat"]);
    assert_eq!(code, 0);

    let (_, out) = ctl.run(&["maintail"]);
    assert!(
        out.contains("success: sleeper entered RUNNING state"),
        "{out}"
    );
    let (code, out) = ctl.run(&["signal", "HUP", "nope"]);
    assert_eq!((code, out.trim()), (1, "nope: ERROR (no such process)"));

    assert_eq!(
        ctl.run(&["reread"]),
        (0, "No config updates to processes\n".into())
    );
    std::fs::write(
        &d.conf,
        std::fs::read_to_string(&d.conf).unwrap()
            + "\n[program:newprog]\ncommand=sleep 999\nstartsecs=0\n",
    )
    .unwrap();
    assert_eq!(ctl.run(&["reread"]), (0, "newprog: available\n".into()));
    assert_eq!(
        ctl.run(&["update"]),
        (0, "newprog: added process group\n".into())
    );
    wait_ctl(&ctl, &["status", "newprog"], "RUNNING");
    assert_eq!(ctl.run(&["stop", "newprog"]).0, 0);
    assert_eq!(
        ctl.run(&["remove", "newprog"]),
        (0, "newprog: removed process group\n".into())
    );
    assert_eq!(
        ctl.run(&["add", "newprog"]),
        (0, "newprog: added process group\n".into())
    );
    let (code, out) = ctl.run(&["avail"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("newprog                          in use    auto      999:999"),
        "{out}"
    );

    let (code, out) = ctl.run(&["shutdown"]);
    assert_eq!((code, out.trim()), (0, "Shut down"));
    assert_eq!(d.wait_exit(30), Some(0));
}
