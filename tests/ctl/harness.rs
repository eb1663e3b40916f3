//! Harness for the supervisorctl tests: running a ctl (ours or Python's) with a deadline,
//! Python's supervisord 4.3.0 from the venv as a second server, a tmux terminal to drive the
//! shell, and output normalisation for comparisons.

#![allow(dead_code)]

use crate::common::{skip, venv_bin, wait_until};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn our_ctl() -> PathBuf {
    crate::common::bin("supervisorctl")
}

/// The result of one supervisorctl run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// stdout then stderr.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `cmd` to completion with `input` on stdin; panics (after killing it) past `secs`.
pub fn run_cmd(mut cmd: Command, input: Option<&str>, secs: u64) -> Out {
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(text) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        let text = text.to_string();
        // A writer thread, so a child that does not read cannot block us.
        std::thread::spawn(move || {
            let _ = stdin.write_all(text.as_bytes());
        });
    }
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {secs}s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Out {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned(),
    }
}

/// A supervisorctl binary bound to a config file.
#[derive(Clone)]
pub struct Ctl {
    pub bin: PathBuf,
    pub conf: PathBuf,
}

impl Ctl {
    pub fn ours(conf: &Path) -> Ctl {
        Ctl {
            bin: our_ctl(),
            conf: conf.to_path_buf(),
        }
    }

    pub fn python(conf: &Path) -> Option<Ctl> {
        Some(Ctl {
            bin: venv_bin("supervisorctl")?,
            conf: conf.to_path_buf(),
        })
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("-c").arg(&self.conf).args(args);
        // Python's ctl would otherwise buffer or warn about the encoding.
        c.env("PYTHONUNBUFFERED", "1").env("LANG", "C.UTF-8");
        c
    }

    pub fn run(&self, args: &[&str]) -> Out {
        run_cmd(self.command(args), None, 60)
    }

    pub fn run_input(&self, args: &[&str], input: &str) -> Out {
        run_cmd(self.command(args), Some(input), 60)
    }

    /// Runs until the output contains `want` (or 20 s pass) and returns the last output.
    pub fn wait_for(&self, args: &[&str], want: &str) -> Out {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = self.run(args);
            if out.all().contains(want) || Instant::now() > deadline {
                return out;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Replaces what differs between two otherwise equal runs: uptimes and stop dates.
pub fn normalize(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = match l.find(", uptime ") {
                Some(i) => format!("{}, uptime <t>", &l[..i]),
                None => l.to_string(),
            };
            // A stop date `Nov 26 10:48 PM` ends the line.
            let n = l.len();
            if n >= 15 && l.is_char_boundary(n - 15) {
                let tail = &l.as_bytes()[n - 15..];
                let is_date = tail[0].is_ascii_uppercase()
                    && tail[3] == b' '
                    && tail[4..6].iter().all(u8::is_ascii_digit)
                    && tail[9] == b':'
                    && (&tail[13..] == b"AM" || &tail[13..] == b"PM");
                if is_date {
                    return format!("{}<date>", &l[..n - 15]);
                }
            }
            l
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A private tmux server with one window running a command; killed on drop.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// None (or a panic under CI) when tmux is not installed.
    pub fn start(tag: &str, command: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            skip("tmux is not installed (Debian package tmux)");
            return None;
        }
        let socket = format!("suprs-{tag}-{}", std::process::id());
        let t = Tmux { socket };
        let status = t
            .cmd()
            .args(["new-session", "-d", "-s", "main", "-x", "150", "-y", "50"])
            .arg(command)
            .env("TERM", "xterm")
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        Some(t)
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        // A private server that ignores any user configuration.
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    /// Sends keys (tmux key names such as `Enter`, `Tab`, `C-c`, or literal text).
    pub fn keys(&self, keys: &[&str]) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", "main"])
            .args(keys)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux send-keys {keys:?}");
    }

    /// Sends literal text (no key-name lookup).
    pub fn type_text(&self, text: &str) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", "main", "-l", text])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux send-keys -l {text:?}");
    }

    /// The visible screen (with `-e`, colour escapes included).
    pub fn screen(&self, escapes: bool) -> String {
        let mut c = self.cmd();
        c.args(["capture-pane", "-p", "-t", "main"]);
        if escapes {
            c.arg("-e");
        }
        c.output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Polls the screen until `cond` holds; panics with the screen after `secs`.
    pub fn wait(&self, secs: u64, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen(true);
            if cond(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_text(&self, secs: u64, text: &str) -> String {
        self.wait(secs, text, |s| s.contains(text))
    }

    /// The last non-empty line on screen.
    pub fn last_line(&self) -> String {
        self.screen(false)
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("")
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

/// Collects what a child writes, in a thread, for polling with deadlines.
pub struct Collector(std::sync::Arc<(std::sync::Mutex<Vec<u8>>, std::sync::atomic::AtomicBool)>);

impl Collector {
    pub fn new(mut r: impl std::io::Read + Send + 'static) -> Collector {
        let shared = std::sync::Arc::new((
            std::sync::Mutex::new(Vec::new()),
            std::sync::atomic::AtomicBool::new(false),
        ));
        let sink = std::sync::Arc::clone(&shared);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            // Ends when the child closes its end (exit or kill).
            while let Ok(n) = r.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.0.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
            sink.1.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        Collector(shared)
    }

    /// Waits until the writer closed its end, so the text is complete.
    pub fn wait_closed(&self, secs: u64) {
        wait_until(secs, "the output to close", || {
            self.0 .1.load(std::sync::atomic::Ordering::SeqCst)
        });
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0 .0.lock().unwrap()).into_owned()
    }

    /// Waits until the text contains `want`; panics with what was seen after `secs`.
    pub fn wait_for(&self, want: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let t = self.text();
            if t.contains(want) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {want:?}; got:\n{t}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A ctl child with piped stdin/stdout/stderr.
pub struct Running {
    pub child: std::process::Child,
    pub stdin: Option<std::process::ChildStdin>,
    pub out: Collector,
    pub err: Collector,
}

impl Running {
    pub fn start(ctl: &Ctl, args: &[&str]) -> Running {
        use std::process::Stdio;
        let mut child = ctl
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ctl");
        Running {
            stdin: child.stdin.take(),
            out: Collector::new(child.stdout.take().unwrap()),
            err: Collector::new(child.stderr.take().unwrap()),
            child,
        }
    }

    pub fn send(&mut self, text: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Exit code, waiting at most `secs` (then kills and panics).
    pub fn wait(&mut self, secs: u64) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                // Everything it wrote is collected before anyone looks.
                self.out.wait_closed(secs);
                self.err.wait_closed(secs);
                return st.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("ctl did not exit; stdout:\n{}", self.out.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
