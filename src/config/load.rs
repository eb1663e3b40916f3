//! `load()`: the whole supervisord configuration from a file, in Supervisor 4.3's order of
//! checks (config.md §7.1): read and include files, `[supervisord]` with command-line
//! overrides, `[rpcinterface:x]`, process groups, HTTP servers, then the effective `user`.

use std::path::{Path, PathBuf};

use super::envfile::env_file_list;
use super::expand::{expand, Names, Val};
use super::model::{Config, LogLevel, MainLogTarget, Overrides, SupervisordConfig};
use super::pypath;
use super::reader::Ctx;
use super::source::{host_node_name, read_sources, sources_from_text, Sources};
use super::types::{
    boolean, byte_size, existing_directory, existing_dirpath, integer, log_level, octal,
};
use super::users::resolve_user;
use super::{depends, known, load_groups, load_servers, ConfigError};

/// Reads and validates the configuration at `path` for supervisord, with `overrides` (the
/// command-line options) taking precedence over the file's `[supervisord]` values.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
    load_sharing(path, overrides, &|_| None)
}

/// `load`, where `reuse` may give a group configuration equal to one just read (a reread
/// keeps the active groups' copies of unchanged groups).
pub fn load_sharing(
    path: &Path,
    overrides: &Overrides,
    reuse: load_groups::Reuse,
) -> Result<Config, ConfigError> {
    let host = host_node_name();
    let env = process_env_names();
    let src = read_sources(path, &env, &host)?;
    validate(src, path, host, env, overrides, reuse)
}

/// `load` with the main file's text already in memory, as `path` would hold it (the fuzzer's
/// way in, `crate::fuzz::config`). `[include]` still reads the files it names.
pub fn load_text(text: &str, path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
    let host = host_node_name();
    let env = process_env_names();
    let src = sources_from_text(text, path, &env, &host)?;
    validate(src, path, host, env, overrides, &|_| None)
}

/// Everything after reading: the sections in 4.3's order of checks.
fn validate(
    src: Sources,
    path: &Path,
    host: String,
    env: Names,
    overrides: &Overrides,
    reuse: load_groups::Reuse,
) -> Result<Config, ConfigError> {
    if !src.ini.has_section("supervisord") {
        return Err(ConfigError(
            ".ini file does not include supervisord section".to_string(),
        ));
    }
    let mut ctx = Ctx {
        ini: &src.ini,
        here: src.here.clone(),
        host,
        env,
        warnings: src.warnings.clone(),
    };
    let found = known::check(&src.ini);
    ctx.warnings.extend(found.warnings);

    let (mut supervisord, config_user) = supervisord_section(&mut ctx, overrides)?;
    let (rpcinterfaces, twiddlers) = load_servers::rpcinterfaces(&ctx)?;
    let groups = load_groups::groups(&mut ctx, reuse)?;
    depends::check(&ctx, &groups)?;
    let servers = load_servers::servers(&ctx)?;

    // Like 4.3, the user is resolved only after everything else parsed, and only the effective
    // one (a command-line -u makes the file's value irrelevant).
    supervisord.user = match (&overrides.user, config_user) {
        (Some(u), _) => Some(resolve_user(u).map_err(ConfigError)?),
        (None, Some(u)) => {
            let sec = ctx.section("supervisord");
            Some(sec.check("user", resolve_user(&u))?)
        }
        (None, None) => None,
    };

    let mut startup_messages: Vec<(LogLevel, String)> = Vec::new();
    startup_messages.extend(ctx.warnings.iter().map(|w| (LogLevel::Warn, w.clone())));
    startup_messages.extend(src.infos.iter().map(|i| (LogLevel::Info, i.clone())));
    startup_messages.extend(found.infos.into_iter().map(|i| (LogLevel::Info, i)));
    startup_messages.extend(servers.messages);

    Ok(Config {
        path: PathBuf::from(pypath::abspath(&path.to_string_lossy())),
        supervisord,
        groups,
        unix_servers: servers.unix,
        inet_servers: servers.inet,
        rpcinterfaces,
        twiddlers,
        startup_messages,
    })
}

/// `ENV_<NAME>` for every (UTF-8) variable of this process's environment.
pub(super) fn process_env_names() -> Names {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .map(|(k, v)| (format!("ENV_{k}"), Val::Str(v)))
        .collect()
}

/// Python's `tempfile.gettempdir()` in short: `$TMPDIR`, `$TEMP`, `$TMP` if they name a
/// directory, else `/tmp`.
fn default_tempdir() -> String {
    ["TMPDIR", "TEMP", "TMP"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|d| !d.is_empty() && Path::new(d).is_dir())
        .map(|d| pypath::abspath(&d))
        .unwrap_or_else(|| "/tmp".to_string())
}

/// An override's converted value (already validated), else the file's.
fn pick<T>(
    over: &Option<String>,
    conv: impl Fn(&str) -> Result<T, String>,
    file_value: T,
) -> Result<T, ConfigError> {
    match over {
        Some(v) => conv(v).map_err(ConfigError),
        None => Ok(file_value),
    }
}

/// `[supervisord]`: every key is read and checked (even if overridden), in 4.3's order. Returns
/// the raw `user` value too; it is resolved last. Adds `[supervisord] environment` to the
/// `ENV_*` names every later section sees.
fn supervisord_section(
    ctx: &mut Ctx,
    o: &Overrides,
) -> Result<(SupervisordConfig, Option<String>), ConfigError> {
    let sec = ctx.section("supervisord");
    let names = ctx.here_names();
    let minfds = sec.conv("minfds", "1024", &names, integer)?;
    let minprocs = sec.conv("minprocs", "200", &names, integer)?;
    let directory = sec.conv_opt("directory", &names, existing_directory)?;
    let user = sec.get("user", &names)?;
    let umask = sec.conv("umask", "022", &names, octal)?;
    let logfile = sec.conv("logfile", "supervisord.log", &names, existing_dirpath)?;
    let logfile_maxbytes = sec.conv("logfile_maxbytes", "50MB", &names, byte_size)?;
    let logfile_backups = sec.conv("logfile_backups", "10", &names, integer)?;
    let loglevel = sec.conv("loglevel", "info", &names, log_level)?;
    let pidfile = sec.conv("pidfile", "supervisord.pid", &names, existing_dirpath)?;
    let identifier = sec.get_or("identifier", "supervisor", &names)?;
    let nodaemon = sec.conv("nodaemon", "false", &names, boolean)?;
    let silent = sec.conv("silent", "false", &names, boolean)?;
    let childlogdir = sec.conv(
        "childlogdir",
        &default_tempdir(),
        &names,
        existing_directory,
    )?;
    let nocleanup = sec.conv("nocleanup", "false", &names, boolean)?;
    let strip_ansi = sec.conv("strip_ansi", "false", &names, boolean)?;

    // Expanded once, with host_node_name (4.3 expands twice; 4.4 and we do not: README C8).
    let environment = match sec.entry("environment") {
        None => Vec::new(),
        Some(e) => {
            let mut env_names = names.clone();
            env_names.insert("host_node_name".into(), Val::Str(ctx.host.clone()));
            let expanded = expand(&e.value, &env_names, "supervisord.environment")
                .map_err(|m| sec.err(Some("environment"), m))?;
            sec.check("environment", super::types::environment(&expanded))?
        }
    };
    let environment_files = sec.conv("environment_file", "", &names, env_file_list)?;
    // Checked here too, so that a bad default is found with no program using it.
    if let Some(v) = sec.raw("log_timestamps") {
        sec.check("log_timestamps", super::logline::timestamps(v))?;
    }
    let event_drain_secs = sec.conv("event_drain_secs", "5", &names, integer)?;
    if event_drain_secs < 0 {
        return Err(sec.err(
            Some("event_drain_secs"),
            format!("event_drain_secs must not be negative ({event_drain_secs})"),
        ));
    }

    let exit_on_fatal = sec.conv("exit_on_fatal", "false", &names, boolean)?;

    let logfile = pick(&o.logfile, existing_dirpath, logfile)?;
    let logfile = if logfile.as_os_str() == "syslog" {
        MainLogTarget::Syslog
    } else {
        MainLogTarget::File(PathBuf::from(pypath::normalize_path(
            &logfile.to_string_lossy(),
        )))
    };
    let pidfile = pick(&o.pidfile, existing_dirpath, pidfile)?;
    let config = SupervisordConfig {
        logfile,
        logfile_maxbytes: pick(&o.logfile_maxbytes, byte_size, logfile_maxbytes)?,
        logfile_backups: pick(&o.logfile_backups, integer, logfile_backups)?,
        loglevel: pick(&o.loglevel, log_level, loglevel)?,
        pidfile: PathBuf::from(pypath::normalize_path(&pidfile.to_string_lossy())),
        umask: pick(&o.umask, octal, umask)?,
        nodaemon: o.nodaemon || nodaemon,
        silent: o.silent || silent,
        minfds: pick(&o.minfds, integer, minfds)?,
        minprocs: pick(&o.minprocs, integer, minprocs)?,
        nocleanup: o.nocleanup || nocleanup,
        childlogdir: pick(&o.childlogdir, existing_directory, childlogdir)?,
        user: None,
        directory: match &o.directory {
            Some(d) => Some(existing_directory(d).map_err(ConfigError)?),
            None => directory,
        },
        strip_ansi: o.strip_ansi || strip_ansi,
        environment,
        environment_files,
        identifier: o.identifier.clone().unwrap_or(identifier),
        event_drain_secs,
        exit_on_fatal,
    };
    for (k, v) in &config.environment {
        ctx.env.insert(format!("ENV_{k}"), Val::Str(v.clone()));
    }
    // Every later section starts from these names.
    ctx.env = ctx.env.shared();
    Ok((config, user))
}
