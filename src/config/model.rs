//! The validated configuration: what the daemon acts on. Every string from the file has been
//! expanded, typed and checked by the time a value lands here (the daemon never re-parses).

pub use super::restart::{BackoffCurve, RestartPolicy};
use std::path::PathBuf;
use std::sync::Arc;

/// Main-log / child-log verbosity, ordered like Supervisor's numeric levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Blather = 3,
    Trace = 5,
    Debug = 10,
    Info = 20,
    Warn = 30,
    Error = 40,
    Critical = 50,
}

impl LogLevel {
    /// The four-letter code written in main-log lines.
    pub fn code(self) -> &'static str {
        match self {
            LogLevel::Blather => "BLAT",
            LogLevel::Trace => "TRAC",
            LogLevel::Debug => "DEBG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERRO",
            LogLevel::Critical => "CRIT",
        }
    }
}

/// A resolved user for `user=` (daemon or program): ids looked up at config time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    /// As written in the config (`nobody`, `1000`, `www:adm`).
    pub spec: String,
    /// The passwd name of the user (used for the supplementary-group lookup).
    pub name: String,
    pub uid: u32,
    /// The primary gid the process gets: the `:group` part when given, else the user's own.
    pub gid: u32,
    /// Full group list for setgroups(): the primary gid first, then every group the user is a
    /// member of (and the user's own passwd group when `:group` replaced it).
    pub groups: Vec<u32>,
}

/// `user[:group]` of `[unix_http_server] chown` and fcgi `socket_owner`: -1 parts mean "unchanged".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// Where a child channel's output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFile {
    /// `AUTO`: a temp file in childlogdir, named when the group is created.
    Auto,
    /// `NONE` / `OFF` (or `syslog`, which also sets the `syslog` flag).
    None,
    Path(PathBuf),
}

/// One output channel's settings (`stdout_*` or `stderr_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    pub logfile: LogFile,
    pub maxbytes: i64,
    pub backups: i64,
    pub capture_maxbytes: i64,
    pub events_enabled: bool,
    pub syslog: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoRestart {
    Never,
    Unexpected,
    Always,
}

/// One process (one of `numprocs` of a program section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    /// Expanded `process_name`.
    pub name: String,
    /// Name of the section's program (`x` of `[program:x]`).
    pub program_name: String,
    /// Expanded command line (split at spawn time, so split errors are spawn errors).
    pub command: String,
    pub directory: Option<String>,
    pub umask: Option<u32>,
    pub priority: i64,
    pub autostart: bool,
    pub autorestart: AutoRestart,
    pub startsecs: i64,
    pub startretries: i64,
    pub exitcodes: Vec<i32>,
    pub stopsignal: i32,
    pub stopwaitsecs: i64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    /// Boxed: rarely set, and 80 bytes inline in every process's configuration.
    pub user: Option<Box<UserSpec>>,
    pub redirect_stderr: bool,
    pub stdout: ChannelConfig,
    pub stderr: ChannelConfig,
    /// The program's own `environment=` pairs, in file order.
    pub environment: Vec<(String, String)>,
    /// `environment_file=`: read at every spawn, between `[supervisord]`'s and `environment=`.
    pub environment_files: Vec<super::envfile::EnvFile>,
    /// `log_prefix=` / `log_timestamps=` (or `[supervisord]`'s): rewrites lines in log files.
    /// Boxed: rarely set, and 40 bytes inline in every process's configuration.
    pub log_prefix: Option<Box<super::logline::LinePrefix>>,
    /// `serverurl=`; `None` means AUTO.
    pub serverurl: Option<String>,
    /// `essential=` (project extension): its end ends supervisord (daemon::supervisor).
    pub essential: bool,
    /// The backoff/restart keys (project extension, `config::restart`).
    pub restart: RestartPolicy,
    /// `ready=` and `watchdog_secs=` (project extension, `config::probe`).
    pub probe: super::probe::ProbeConfig,
    /// `depends_on=` (project extension, `config::depends`): the names as written (expanded,
    /// split at commas), checked at load; resolved to processes by `depends::Index`.
    pub depends_on: Vec<String>,
    /// `depends_on_restart=`: restarted when a dependency restarts.
    pub depends_on_restart: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketSpec {
    Tcp { host: String, port: u16 },
    Unix { path: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcgiSocket {
    /// The socket URL as Supervisor prints it (after expansion; tcp host lower-cased and port
    /// in decimal, unix path normalised), e.g. `tcp://127.0.0.1:9000`.
    pub url: String,
    pub spec: SocketSpec,
    pub owner: Option<Owner>,
    pub mode: Option<u32>,
    pub backlog: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerPoolConfig {
    /// Upper-cased event type names, duplicates removed, in file order.
    pub events: Vec<String>,
    pub buffer_size: i64,
    /// `result_handler=` (alias `handler=`) as written.
    pub result_handler: String,
    /// `max_retry=` (project extension; 0 = retry forever).
    pub max_retry: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKind {
    /// `[program:x]` (a homogeneous group) or `[group:x]`.
    Program,
    /// Boxed, like `Fcgi`: inline, the largest variant made every program's group
    /// configuration a hundred bytes larger.
    EventListener(Box<ListenerPoolConfig>),
    Fcgi(Box<FcgiSocket>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    pub name: String,
    pub priority: i64,
    pub kind: GroupKind,
    /// In start order: (priority, name) for homogeneous groups, `programs=` order for `[group:x]`.
    /// Shared with the daemon's process records (one copy per program, however many hold it).
    pub processes: Vec<Arc<ProcessConfig>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub username: String,
    /// Plain text, or `{SHA}` + 40 hex digits.
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixServerConfig {
    /// Section name as written (`unix_http_server`, `unix_http_server:two`).
    pub section: String,
    pub file: PathBuf,
    pub chmod: u32,
    pub chown: Option<Owner>,
    pub auth: Option<Auth>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InetServerConfig {
    pub section: String,
    /// Lower-cased host; empty = all interfaces.
    pub host: String,
    pub port: u16,
    pub auth: Option<Auth>,
}

/// Where the main log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MainLogTarget {
    File(PathBuf),
    Syslog,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisordConfig {
    pub logfile: MainLogTarget,
    pub logfile_maxbytes: i64,
    pub logfile_backups: i64,
    pub loglevel: LogLevel,
    pub pidfile: PathBuf,
    pub umask: u32,
    pub nodaemon: bool,
    pub silent: bool,
    pub minfds: i64,
    pub minprocs: i64,
    pub nocleanup: bool,
    pub childlogdir: PathBuf,
    pub user: Option<UserSpec>,
    pub directory: Option<PathBuf>,
    pub strip_ansi: bool,
    pub environment: Vec<(String, String)>,
    /// `environment_file=`: read at every spawn, before `environment=`.
    pub environment_files: Vec<super::envfile::EnvFile>,
    pub identifier: String,
    /// Project extension: seconds to keep serving listeners at shutdown (issue: events).
    pub event_drain_secs: i64,
    /// Project extension: any process going FATAL shuts supervisord down.
    pub exit_on_fatal: bool,
}

/// Values given on the supervisord command line; each overrides its config key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub nodaemon: bool,
    pub silent: bool,
    pub user: Option<String>,
    pub umask: Option<String>,
    pub directory: Option<String>,
    pub logfile: Option<String>,
    pub logfile_maxbytes: Option<String>,
    pub logfile_backups: Option<String>,
    pub loglevel: Option<String>,
    pub pidfile: Option<String>,
    pub identifier: Option<String>,
    pub childlogdir: Option<String>,
    pub nocleanup: bool,
    pub minfds: Option<String>,
    pub minprocs: Option<String>,
    pub strip_ansi: bool,
}

/// The whole validated configuration of supervisord.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The config file read (absolute).
    pub path: PathBuf,
    pub supervisord: SupervisordConfig,
    /// Sorted by (priority, name). Shared with the daemon's active groups, and with a later
    /// reread's configuration where a group is unchanged.
    pub groups: Vec<Arc<GroupConfig>>,
    pub unix_servers: Vec<UnixServerConfig>,
    pub inet_servers: Vec<InetServerConfig>,
    /// The `x` of each `[rpcinterface:x]` section, in file order.
    pub rpcinterfaces: Vec<String>,
    /// The sections that serve supervisor_twiddler's interface (`api::twiddler`).
    pub twiddlers: Vec<TwiddlerConfig>,
    /// Startup messages to write once the main log is open, in order.
    pub startup_messages: Vec<(LogLevel, String)>,
}

/// One twiddler interface (read by `config::twiddler`): its namespace (the `x` of its
/// `[rpcinterface:x]` section) and the methods it allows (all when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwiddlerConfig {
    pub namespace: String,
    pub whitelist: Vec<String>,
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;

    /// Every configured process holds one behind an `Arc`: with the `Arc`'s counts (16
    /// bytes) and musl's 4-byte chunk header it fits the 496-byte size class; 8 bytes more
    /// and it takes 576, for each of a hundred thousand programs.
    #[test]
    fn process_config_fits_its_malloc_size_class() {
        assert!(std::mem::size_of::<ProcessConfig>() + 16 + 4 <= 496);
    }
}
