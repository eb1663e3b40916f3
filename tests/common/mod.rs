//! Test harness: runs the real supervisord in a temp dir and observes it through its main log,
//! log files and /proc. Every daemon started here is stopped (and killed by pid) on drop.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A binary under test: the one cargo built for this test run, or the same name in
/// `SUPERVISOR_TEST_BINDIR` (`make test` runs the suite a second time against the static
/// release build that `make install` ships).
pub fn bin(name: &str) -> PathBuf {
    let built = match name {
        "supervisord" => env!("CARGO_BIN_EXE_supervisord"),
        "supervisorctl" => env!("CARGO_BIN_EXE_supervisorctl"),
        "pidproxy" => env!("CARGO_BIN_EXE_pidproxy"),
        "echo_supervisord_conf" => env!("CARGO_BIN_EXE_echo_supervisord_conf"),
        other => panic!("unknown binary {other}"),
    };
    match std::env::var_os("SUPERVISOR_TEST_BINDIR") {
        // Relative to the crate root: tests run daemons in their own temp dirs.
        Some(dir) => Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(name),
        None => PathBuf::from(built),
    }
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("suprs-it-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Polls `cond` until it holds or `secs` pass; panics with `what` and the daemon's log.
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out after {secs}s waiting for: {what}");
}

pub fn pid_alive(pid: i32) -> bool {
    // A zombie has exited: only a live (or stopped) process counts.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

pub fn proc_status_field(pid: i32, field: &str) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .map(|l| l[field.len() + 1..].trim().to_string())
}

pub fn cmdline(pid: i32) -> String {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            String::from_utf8_lossy(&b)
                .replace('\0', " ")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

fn append(path: &Path) -> fs::File {
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("daemon output file")
}

pub struct Daemon {
    pub dir: TempDir,
    pub conf: PathBuf,
    pub child: Option<Child>,
    pub pid: i32,
}

impl Daemon {
    /// Writes `body` (with `{dir}` replaced by the temp dir) under a standard [supervisord]
    /// section and starts `supervisord -n -c <conf>`.
    pub fn start(tag: &str, body: &str) -> Daemon {
        let d = Daemon::configure(tag, body);
        d.spawn(&["-n"])
    }

    pub fn configure(tag: &str, body: &str) -> Daemon {
        let dir = TempDir::new(tag);
        let conf = dir.path().join("supervisord.conf");
        let d = Daemon {
            conf,
            dir,
            child: None,
            pid: 0,
        };
        d.write_conf(body);
        d
    }

    pub fn write_conf(&self, body: &str) {
        self.write_conf_at("debug", body);
    }

    /// `write_conf` with another main log level (below debug, log-only output is spliced).
    pub fn write_conf_at(&self, loglevel: &str, body: &str) {
        let dir = self.dir.path().display().to_string();
        let text = format!(
            "[supervisord]\nlogfile={dir}/supervisord.log\npidfile={dir}/supervisord.pid\nchildlogdir={dir}\nloglevel={loglevel}\n\n{}",
            body.replace("{dir}", &dir)
        );
        fs::write(&self.conf, text).expect("write conf");
    }

    pub fn spawn(self, extra: &[&str]) -> Daemon {
        let d = self.spawn_raw(extra);
        d.wait_log("supervisord started with pid", 10);
        d
    }

    /// `spawn` with extra environment variables for the daemon.
    pub fn spawn_env(self, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        let d = self.spawn_raw_env(extra, env);
        d.wait_log("supervisord started with pid", 10);
        d
    }

    /// Starts the daemon without waiting for its log (for configs that log elsewhere).
    pub fn spawn_raw(self, extra: &[&str]) -> Daemon {
        self.spawn_raw_env(extra, &[])
    }

    fn spawn_raw_env(mut self, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        let child = Command::new(bin("supervisord"))
            .envs(env.iter().copied())
            .args(extra)
            .arg("-c")
            .arg(&self.conf)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            // Appending, as `supervisord >> file` or systemd's `StandardOutput=append:` do.
            .stdout(append(&self.dir.path().join("stdout.txt")))
            .stderr(append(&self.dir.path().join("stderr.txt")))
            .spawn()
            .expect("spawn supervisord");
        self.pid = child.id() as i32;
        self.child = Some(child);
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.path("supervisord.log")).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(self.path("stderr.txt")).unwrap_or_default()
    }

    pub fn stdout(&self) -> String {
        fs::read_to_string(self.path("stdout.txt")).unwrap_or_default()
    }

    pub fn count(&self, needle: &str) -> usize {
        self.log().matches(needle).count()
    }

    pub fn wait_log(&self, needle: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "timed out waiting for {needle:?} in the main log:\n{}\nstderr:\n{}",
            self.log(),
            self.stderr()
        );
    }

    pub fn wait_count(&self, needle: &str, n: usize, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.count(needle) >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "timed out waiting for {n} x {needle:?} in the main log:\n{}",
            self.log()
        );
    }

    /// The pid of the latest `spawned: '<name>' with pid N` line.
    pub fn pid_of(&self, name: &str) -> Option<i32> {
        let prefix = format!("spawned: '{name}' with pid ");
        self.log()
            .lines()
            .filter_map(|l| l.split_once(&prefix).map(|(_, p)| p.trim().to_string()))
            .next_back()
            .and_then(|p| p.parse().ok())
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: signalling our own child by pid.
        unsafe { libc::kill(self.pid, sig) };
    }

    /// Waits for the daemon to exit and returns its exit code.
    pub fn wait_exit(&mut self, secs: u64) -> Option<i32> {
        wait_exit(&mut self.child, secs)
    }

    /// Runs this configuration in the foreground to completion instead of spawning it (for
    /// configs supervisord must refuse); (code, stdout, stderr).
    pub fn run_to_exit(&self) -> (i32, String, String) {
        run_conf(&self.conf, self.dir.path())
    }

    pub fn stop(&mut self) -> Option<i32> {
        self.signal(libc::SIGTERM);
        self.wait_exit(30)
    }
}

/// Waits up to `secs` for `child` to exit and returns its exit code (None on a timeout, a
/// signal, or no child); an exited child is taken, so that drop does not signal its pid.
fn wait_exit(child: &mut Option<Child>, secs: u64) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let running = child.as_mut()?;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = running.try_wait() {
            *child = None;
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Ends a daemon the test started: SIGTERM, up to 20 s to exit, then SIGKILL.
pub fn stop_child(mut child: Child) {
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child);
        }
    }
}

/// Runs supervisord to completion (for config errors); returns (code, stdout, stderr).
pub fn run_supervisord(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(bin("supervisord"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run supervisord");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `supervisord -n -c <conf>` to completion in `cwd` (a config it must refuse); returns
/// (code, stdout, stderr).
pub fn run_conf(conf: &Path, cwd: &Path) -> (i32, String, String) {
    run_supervisord(&["-n", "-c", &conf.display().to_string()], cwd)
}

/// A minimal XML-RPC client over the daemon's unix socket, using our own codec.
pub mod rpc {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::path::Path;
    pub use supervisor::rpc::value::Value;

    /// Calls `method`; Ok(value) or Err((faultCode, faultString)).
    pub fn call(sock: &Path, method: &str, params: &[Value]) -> Result<Value, (i64, String)> {
        let body = supervisor::rpc::codec::encode_call(method, params);
        let mut s = UnixStream::connect(sock).expect("connect to the daemon socket");
        let head = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).expect("send");
        s.write_all(body.as_bytes()).expect("send");
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).expect("read");
        let split = resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("http head");
        let status = String::from_utf8_lossy(&resp[..split]).to_string();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        supervisor::rpc::codec::parse_response(&resp[split + 4..]).expect("decodable response")
    }

    pub fn s(text: &str) -> Value {
        Value::String(text.to_string())
    }

    /// A member of a struct value.
    pub fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
        match v {
            Value::Struct(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Whether the suite runs in CI (`CI` set to anything but empty, `0` or `false`), where every
/// tool a test needs is installed (.ci/run) and a skip is a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Skips the calling test because `missing` (what exactly is missing, and how to get it) is
/// not available: under CI a panic; elsewhere one `SKIPPED: <test binary>::<test>: <missing>`
/// line, written straight to stderr (cargo's capture would hide a println of a passing test)
/// and appended to the file named by `SUPERVISOR_TEST_SKIPS`, from which `make test` prints
/// its summary. The caller returns without testing.
pub fn skip(missing: &str) {
    static REPORTED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let thread = std::thread::current();
    let test = format!(
        "{}::{}",
        env!("CARGO_CRATE_NAME"),
        thread.name().unwrap_or("?")
    );
    if under_ci() {
        panic!("{test}: {missing} (CI must not skip tests: .ci/run installs everything)");
    }
    let line = format!("SKIPPED: {test}: {missing}\n");
    {
        let mut reported = REPORTED.lock().unwrap_or_else(|e| e.into_inner());
        if reported.contains(&line) {
            return;
        }
        reported.push(line.clone());
    }
    use std::io::Write;
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(path) = std::env::var_os("SUPERVISOR_TEST_SKIPS") {
        let _ = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
    }
}

/// A program of the interop venv (tools/venv.sh: Python supervisor 4.3.0, superlance), or a
/// [`skip`].
pub fn venv_bin(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".venv/bin")
        .join(name);
    if p.exists() {
        return Some(p);
    }
    skip(&format!(
        "{} is missing (make test creates the venv with tools/venv.sh; it needs network for pip)",
        p.display()
    ));
    None
}

/// An executable named `name` in `PATH`.
pub fn in_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Whether this test runs as root; else a [`skip`] naming what root is needed for.
pub fn root_or_skip(why: &str) -> bool {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    skip(&format!("root privileges (to {why})"));
    false
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The `[unix_http_server]` + `[rpcinterface:supervisor]` sections every control test needs.
pub const RPC: &str = "[unix_http_server]\nfile={dir}/sock\n\n[rpcinterface:supervisor]\n\
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n";

/// Whether this machine lets a test run `unshare --pid --fork --mount-proc` (util-linux; root
/// or user namespaces); else a [`skip`] that says why not.
pub fn unshare_or_skip() -> bool {
    let why = match Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .output()
    {
        Ok(out) if out.status.success() => return true,
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
        Err(e) => format!("unshare not runnable: {e}"),
    };
    skip(&format!(
        "permission for unshare --pid --fork --mount-proc (util-linux; root or user namespaces): {why}"
    ));
    false
}

/// Starts `supervisord -n -c <conf>` of `d` as PID 1 of a new PID namespace (the container
/// case); the child is `unshare`, whose one child is the daemon.
pub fn spawn_in_pid_namespace(d: &Daemon) -> Child {
    Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(bin("supervisord"))
        .args(["-n", "-c"])
        .arg(&d.conf)
        .current_dir(d.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn unshare")
}

/// The children of `pid` (from /proc), empty once it is gone.
pub fn children(pid: i32) -> Vec<i32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Python's supervisord 4.3.0 running `-n` in a temp dir; killed by pid on drop.
pub struct PyDaemon {
    pub dir: TempDir,
    pub conf: PathBuf,
    child: Option<Child>,
    pub pid: i32,
}

impl PyDaemon {
    /// Writes `body` (with `{dir}`) under a [supervisord] section and starts the daemon; None
    /// (or a panic under CI) when the venv is missing.
    pub fn start(tag: &str, body: &str) -> Option<PyDaemon> {
        let bin = venv_bin("supervisord")?;
        let dir = TempDir::new(tag);
        let d = dir.path().display().to_string();
        let conf = dir.path().join("supervisord.conf");
        std::fs::write(
            &conf,
            format!(
                "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\n\
                 childlogdir={d}\nloglevel=debug\n\n{}",
                body.replace("{dir}", &d)
            ),
        )
        .expect("write conf");
        let child = Command::new(bin)
            .arg("-n")
            .arg("-c")
            .arg(&conf)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr.txt")).expect("stderr"))
            .spawn()
            .expect("spawn python supervisord");
        let pd = PyDaemon {
            pid: child.id() as i32,
            child: Some(child),
            conf,
            dir,
        };
        wait_until(30, "python supervisord to start", || {
            pd.log().contains("supervisord started with pid")
        });
        Some(pd)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("supervisord.log")).unwrap_or_default()
    }

    /// Waits for the daemon to exit; its exit code.
    pub fn wait_exit(&mut self, secs: u64) -> Option<i32> {
        wait_exit(&mut self.child, secs)
    }
}

impl Drop for PyDaemon {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child);
        }
    }
}
