//! The supervisord daemon: start-up sequence, the state owner, the poll loop, signals, reaping
//! and restart. `main` returns the process exit status (0 ok, 2 usage/config error, or what
//! the shutdown's reason makes it: `exit_status`).

mod actions;
pub mod autolog;
pub mod control;
mod due;
mod effects;
pub mod environment;
pub mod essential;
pub mod eventloop;
pub mod events;
pub mod fcgi;
pub mod groups;
mod listener;
pub mod options;
pub mod order;
mod os;
mod park;
mod pids;
mod pipes;
mod probes;
pub mod rotate;
pub mod shutdown;
pub mod signals;
#[cfg(test)]
mod sim;
pub mod source;
pub mod startup;
pub mod supervisor;
mod ticks;
mod timers;
pub mod twiddle;
pub mod update;

use crate::config::{self, Config, LogLevel, MainLogTarget, Overrides};
use crate::http::listen;
use crate::http::server::{HttpServers, Listener};
use crate::log::MainLog;
use options::Command;
use signals::Signals;
use std::path::{Path, PathBuf};
use supervisor::{Mood, ShutdownReason, Supervisor};

const ROOT_SEARCH_WARNING: &str = "Supervisord is running as root and it is searching for its configuration file in default locations (including its current working directory); you probably want to specify a \"-c\" argument specifying an absolute path to a configuration file for improved security.";
const ROOT_CRIT: &str = "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.";

/// A usage or config error: printed as `Error: <text>` plus the help hint, exit 2.
struct Fatal(String);

/// supervisord's exit status when an essential process (or, with `exit_on_fatal`, any
/// process) went FATAL. 0, 1 and 2 already mean success, failure and usage error, 126/127
/// and 128+n are the shell's "cannot execute", "not found" and "killed by signal n"; 69 is
/// sysexits' EX_UNAVAILABLE ("a service is unavailable"), documented in supervisord(8).
pub const EXIT_FATAL: i32 = 69;

/// The exit status of a shutdown, by its reason: what an orchestrator reads to learn why.
pub fn exit_status(reason: ShutdownReason) -> i32 {
    match reason {
        ShutdownReason::Signal(_) | ShutdownReason::Request | ShutdownReason::LoopFailed => 0,
        // As a shell reports it: the low byte of the status, 128+n for signal n.
        ShutdownReason::EssentialExited(status) => status & 0xff,
        ShutdownReason::EssentialKilled(sig) => 128 + sig,
        ShutdownReason::Fatal => EXIT_FATAL,
    }
}

pub fn main(args: Vec<String>) -> i32 {
    let argv0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| "supervisord".into());
    match run(&argv0, &args[1.min(args.len())..]) {
        Ok(code) => code,
        Err(Fatal(msg)) => {
            eprintln!("Error: {msg}\nFor help, use {argv0} -h");
            2
        }
    }
}

fn run(argv0: &str, args: &[String]) -> Result<i32, Fatal> {
    let (config_opt, overrides) = match options::parse(args).map_err(Fatal)? {
        Command::Help => {
            print!("{}", options::usage(argv0));
            return Ok(0);
        }
        Command::Version => {
            println!("{}", options::VERSION);
            return Ok(0);
        }
        Command::Run { config, overrides } => (config, overrides),
    };
    let path = match config_opt {
        Some(c) => {
            let p = PathBuf::from(&c);
            if !p.exists() {
                return Err(Fatal(format!("could not find config file {c}")));
            }
            p
        }
        None => {
            let p = config::find_config_file(argv0).map_err(|e| Fatal(e.to_string()))?;
            if startup::is_root() {
                eprintln!("UserWarning: {ROOT_SEARCH_WARNING}");
            }
            p
        }
    };
    startup::return_large_buffers();
    let base_env = environment::current();
    let mut signals =
        Signals::install().map_err(|e| Fatal(format!("cannot install signal handlers: {e}")))?;
    let mut pidfile = None;
    let r = serve(&path, &overrides, &base_env, &mut signals, &mut pidfile);
    if r.is_err() {
        // A restart whose config or servers failed: we exit, so the pidfile must not stay
        // behind naming us (Supervisor removes it before every restart).
        if let Some(p) = pidfile {
            let _ = std::fs::remove_file(p);
        }
    }
    r
}

/// Starts, runs and restarts the daemon until a shutdown (or a fatal error). `written` is
/// the pidfile this process wrote.
fn serve(
    path: &Path,
    overrides: &Overrides,
    base_env: &[(String, String)],
    signals: &mut Signals,
    written: &mut Option<PathBuf>,
) -> Result<i32, Fatal> {
    let mut first = true;
    let mut ready = startup::Ready::none();
    loop {
        let config = config::load(path, overrides).map_err(|e| Fatal(e.to_string()))?;
        if first && !config.supervisord.nodaemon {
            // Once detached the daemon has only its log; the admin who started it should see
            // the config's warnings too (a foreground daemon echoes its log anyway).
            for (_, msg) in config
                .startup_messages
                .iter()
                .filter(|(l, _)| *l >= LogLevel::Warn)
            {
                eprintln!("Warning: {msg}");
            }
        }
        let mut log = MainLog::new();
        log.set_level(config.supervisord.loglevel);
        let mut early = startup_messages(&config);
        if config.supervisord.user.is_none() && startup::is_root() {
            // On every start, restarts too, as 4.3 does.
            early.insert(0, (LogLevel::Critical, ROOT_CRIT.to_string()));
        }
        if first {
            early.extend(process_setup(&config)?);
        }
        startup::set_umask(config.supervisord.umask);
        open_main_log(&mut log, &config)?;
        for (level, msg) in early {
            log.log(level, &msg);
        }
        // Bind before daemonizing so "address in use" reaches the terminal; the serving
        // threads start after the fork (threads do not survive fork).
        let listeners = bind_servers(&config).map_err(Fatal)?;
        if first && !config.supervisord.nodaemon {
            log.info("daemonizing the supervisord process");
            ready = startup::daemonize().map_err(|e| Fatal(format!("could not daemonize: {e}")))?;
            log.set_echo_stdout(false);
            if let Some(dir) = &config.supervisord.directory {
                match startup::chdir(dir) {
                    Ok(()) => log.info(&format!("set current directory: '{}'", dir.display())),
                    Err(e) => log.critical(&e),
                }
            }
        }
        startup::become_subreaper();
        let pidfile = config.supervisord.pidfile.clone();
        match startup::write_pidfile(&pidfile) {
            Ok(()) => *written = Some(pidfile.clone()),
            Err(e) => log.critical(&format!(
                "could not write pidfile {}: {e}",
                pidfile.display()
            )),
        }
        if !config.supervisord.nocleanup {
            // After the pidfile, not before: a second instance that fails earlier must not wipe
            // the running one's logs (README P11).
            autolog::cleanup(
                &config.supervisord.childlogdir,
                &config.supervisord.identifier,
                &mut log,
            );
        }
        let groups = config.groups.clone();
        let mut sup = Supervisor::new(config, overrides.clone(), log, base_env.to_vec())
            .map_err(|e| Fatal(format!("cannot create the poller: {e}")))?;
        let (tx, requests) = std::sync::mpsc::channel();
        let servers = HttpServers::start(listeners, tx, sup.poller().clone())
            .map_err(|e| Fatal(format!("cannot start the HTTP servers: {e}")))?;
        // In bind_servers' order, as 4.3 logs them when it makes its servers.
        // (Disjoint fields: the config is read while the log is written.)
        let cfg = &sup.config;
        let inet = cfg.inet_servers.iter().map(|s| (&s.section, &s.auth));
        let unix = cfg.unix_servers.iter().map(|s| (&s.section, &s.auth));
        let twiddlers: Vec<String> = cfg.twiddlers.iter().map(|t| t.namespace.clone()).collect();
        for (section, auth) in inet.chain(unix) {
            sup.log.info("RPC interface 'supervisor' initialized");
            for ns in &twiddlers {
                sup.log.info(&format!("RPC interface '{ns}' initialized"));
            }
            if auth.is_none() {
                sup.log.critical(&format!(
                    "Server '{section}' running without any HTTP authentication checking"
                ));
            }
        }
        for g in groups {
            sup.add_group(g);
        }
        sup.emit(crate::events::Event::new(
            crate::events::EventKind::SupervisorStateChangeRunning,
            "",
        ));
        sup.log.info(&format!(
            "supervisord started with pid {}",
            std::process::id()
        ));
        ready.signal();
        let mood = match eventloop::run(&mut sup, signals, &requests) {
            Ok(m) => m,
            Err(e) => {
                sup.log.critical(&format!("poll loop failed: {e}"));
                sup.shut_down(ShutdownReason::LoopFailed);
                sup.mood
            }
        };
        drop(servers);
        // Unanswered requests now get their 503, and every reply reaches its connection
        // before we exit or rebind.
        drop(requests);
        crate::http::server::wait_answers(std::time::Duration::from_secs(2));
        if let Mood::Shutdown(reason) = mood {
            let _ = std::fs::remove_file(&pidfile);
            sup.log.info("supervisord stopped");
            return Ok(exit_status(reason));
        }
        sup.log.info("supervisord restarting");
        first = false;
    }
}

/// Startup messages from the config, CRIT first, then WARN, then INFO (Supervisor's order).
fn startup_messages(config: &Config) -> Vec<(LogLevel, String)> {
    let mut msgs = config.startup_messages.clone();
    msgs.sort_by_key(|(level, _)| std::cmp::Reverse(*level));
    msgs
}

/// First start only: user switch and rlimits. Returns lines to log once the log is open.
fn process_setup(config: &Config) -> Result<Vec<(LogLevel, String)>, Fatal> {
    let mut msgs = Vec::new();
    if let Some(user) = &config.supervisord.user {
        let line = startup::drop_privileges(user).map_err(Fatal)?;
        msgs.push((LogLevel::Info, line));
    }
    let sd = &config.supervisord;
    for line in startup::raise_rlimits(sd.minfds, sd.minprocs).map_err(Fatal)? {
        msgs.push((LogLevel::Info, line));
    }
    Ok(msgs)
}

fn bind_servers(config: &Config) -> Result<Vec<(Listener, Option<config::Auth>)>, String> {
    let mut out = Vec::new();
    for inet in &config.inet_servers {
        out.push((Listener::Tcp(listen::bind_tcp(inet)?), inet.auth.clone()));
    }
    for unix in &config.unix_servers {
        let l = listen::bind_unix(unix)?;
        out.push((Listener::Unix(l, unix.file.clone()), unix.auth.clone()));
    }
    Ok(out)
}

fn is_stdout(path: &Path) -> bool {
    matches!(
        path.to_str(),
        Some("/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1")
    )
}

fn open_main_log(log: &mut MainLog, config: &Config) -> Result<(), Fatal> {
    let sd = &config.supervisord;
    match &sd.logfile {
        MainLogTarget::File(path) => {
            // With the log already on stdout, echoing would print every line twice.
            log.set_echo_stdout(sd.nodaemon && !sd.silent && !is_stdout(path));
            log.open_file(path, sd.logfile_maxbytes, sd.logfile_backups)
                .map_err(|e| Fatal(format!("could not open logfile {}: {e}", path.display())))
        }
        MainLogTarget::Syslog => {
            log.set_echo_stdout(sd.nodaemon && !sd.silent);
            log.open_syslog();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::supervisor;

    #[test]
    fn exit_status_by_reason() {
        assert_eq!(exit_status(ShutdownReason::Signal(libc::SIGTERM)), 0);
        assert_eq!(exit_status(ShutdownReason::Request), 0);
        assert_eq!(exit_status(ShutdownReason::EssentialExited(3)), 3);
        assert_eq!(exit_status(ShutdownReason::EssentialExited(256 + 7)), 7);
        assert_eq!(exit_status(ShutdownReason::EssentialKilled(9)), 137);
        assert_eq!(exit_status(ShutdownReason::Fatal), EXIT_FATAL);
    }

    #[test]
    fn the_first_shutdown_reason_stays() {
        let mut sup = supervisor(Vec::new());
        sup.shut_down(ShutdownReason::Fatal);
        sup.shut_down(ShutdownReason::Signal(libc::SIGTERM));
        assert_eq!(sup.mood, Mood::Shutdown(ShutdownReason::Fatal));
    }
}
