//! Helpers shared by unit tests: unique temporary directories removed on drop, configs with
//! Supervisor's defaults, pipes, and owned string pairs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("suprs-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn path_str(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }

    /// Writes `rel` (creating parent directories) and returns its absolute path.
    pub fn write(&self, rel: &str, text: &str) -> String {
        let p = self.0.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&p, text).expect("write file");
        p.to_string_lossy().into_owned()
    }

    pub fn mkdir(&self, rel: &str) -> String {
        let p = self.0.join(rel);
        std::fs::create_dir_all(&p).expect("mkdir");
        p.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `(key, value)` literals as the owned pairs that environments, program options and HTTP
/// headers are.
pub fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

use crate::config::{AutoRestart, ChannelConfig, GroupConfig, GroupKind, LogFile, ProcessConfig};
use crate::daemon::supervisor::Supervisor;

/// A supervisord with [`config`] and these groups, never started (no process spawned).
pub fn supervisor(groups: Vec<GroupConfig>) -> Supervisor {
    let mut sup = Supervisor::new(
        config(),
        Default::default(),
        crate::log::MainLog::new(),
        Vec::new(),
    )
    .expect("supervisor from the test config");
    for g in groups {
        sup.add_group(g);
    }
    sup
}

/// A `[program:x]`-style group of `processes` at priority 1.
pub fn program_group(name: &str, processes: Vec<ProcessConfig>) -> GroupConfig {
    GroupConfig {
        name: name.into(),
        priority: 1,
        kind: GroupKind::Program,
        processes: processes.into_iter().map(Into::into).collect(),
    }
}

/// A program with Supervisor's defaults, for tests that need a ProcessConfig.
pub fn process_config(name: &str, command: &str) -> ProcessConfig {
    let channel = ChannelConfig {
        logfile: LogFile::None,
        maxbytes: 50 * 1024 * 1024,
        backups: 10,
        capture_maxbytes: 0,
        events_enabled: false,
        syslog: false,
    };
    ProcessConfig {
        name: name.to_string(),
        program_name: name.to_string(),
        command: command.to_string(),
        directory: None,
        umask: None,
        priority: 999,
        autostart: true,
        autorestart: AutoRestart::Unexpected,
        startsecs: 1,
        startretries: 3,
        exitcodes: vec![0],
        stopsignal: libc::SIGTERM,
        stopwaitsecs: 10,
        stopasgroup: false,
        killasgroup: false,
        user: None,
        redirect_stderr: false,
        stdout: channel.clone(),
        stderr: channel,
        environment: Vec::new(),
        environment_files: Vec::new(),
        log_prefix: None,
        serverurl: None,
        essential: false,
        restart: Default::default(),
        probe: Default::default(),
        depends_on: Vec::new(),
        depends_on_restart: false,
    }
}

/// A minimal validated config with Supervisor's defaults and no programs.
pub fn config() -> crate::config::Config {
    use crate::config::*;
    Config {
        path: PathBuf::from("/tmp/supervisord.conf"),
        supervisord: SupervisordConfig {
            logfile: MainLogTarget::File(PathBuf::from("/tmp/supervisord.log")),
            logfile_maxbytes: 50 * 1024 * 1024,
            logfile_backups: 10,
            loglevel: LogLevel::Info,
            pidfile: PathBuf::from("/tmp/supervisord.pid"),
            umask: 0o022,
            nodaemon: true,
            silent: false,
            minfds: 1024,
            minprocs: 200,
            nocleanup: false,
            childlogdir: std::env::temp_dir(),
            user: None,
            directory: None,
            strip_ansi: false,
            environment: Vec::new(),
            environment_files: Vec::new(),
            identifier: "supervisor".to_string(),
            event_drain_secs: 5,
            exit_on_fatal: false,
        },
        groups: Vec::new(),
        unix_servers: Vec::new(),
        inet_servers: Vec::new(),
        rpcinterfaces: Vec::new(),
        twiddlers: Vec::new(),
        startup_messages: Vec::new(),
    }
}

/// A pipe: (read end, write end as a File for write_all). `flags` go to pipe2(2).
pub fn pipe(flags: libc::c_int) -> (std::os::fd::OwnedFd, std::fs::File) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: fds has room for both descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), flags) }, 0);
    // SAFETY: both descriptors are fresh and owned from here on.
    unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

/// The configuration `text` makes after a `[supervisord]` header, read in memory through
/// `config::load_text` (as if from /etc/supervisord.conf; nothing is written), or the error
/// text.
pub fn config_after_header(text: &str) -> Result<crate::config::Config, String> {
    crate::config::load_text(
        &format!("[supervisord]\n{text}"),
        Path::new("/etc/supervisord.conf"),
        &Default::default(),
    )
    .map_err(|e| e.0)
}

/// The first process of [`config_after_header`]`(text)`, which must load without a warning:
/// a misspelt key only warns, and the test would then pass on the defaults.
pub fn first_process_quietly(text: &str) -> ProcessConfig {
    let c = config_after_header(text).unwrap_or_else(|e| panic!("{e}"));
    let warned: Vec<_> = c
        .startup_messages
        .iter()
        .filter(|(l, _)| *l >= crate::config::LogLevel::Warn)
        .collect();
    assert!(warned.is_empty(), "no unknown-key warnings: {warned:?}");
    (*c.groups[0].processes[0]).clone()
}
