//! The processes of one `[program:x]`, `[fcgi-program:x]` or `[eventlistener:x]` section:
//! section-wide keys first, then one [`ProcessConfig`] per `process_num` with the per-process
//! expansion names (config.md §3.3, §5.5).

use super::envfile::env_file_list;
use super::expand::{expand, Names, Val};
use super::logline::line_prefix;
use super::model::{ChannelConfig, LogFile, ProcessConfig};
use super::reader::{Ctx, Sec};
use super::types::{
    auto_restart, boolean, byte_size, environment, exit_codes, integer, logfile_name, octal,
    process_or_group_name, signal_number, LogFileName,
};
use super::users::resolve_user;
use super::ConfigError;
use std::sync::Arc;

/// The part after the first `:` of a section name.
pub fn object_name(section: &str) -> &str {
    section.split_once(':').map_or("", |(_, n)| n)
}

/// Builds the processes of `section`, which belong to group `group_name`, sorted by
/// (priority, name). Startup warnings go to `ctx.warnings`.
pub fn processes(
    ctx: &mut Ctx,
    section: &str,
    group_name: &str,
) -> Result<Vec<Arc<ProcessConfig>>, ConfigError> {
    let sec = ctx.section(section);
    let program_name = sec.check_section(process_or_group_name(object_name(section)))?;
    let common = ctx
        .names(&[
            ("here", Val::Str(ctx.here.clone())),
            ("program_name", Val::Str(program_name.clone())),
            ("host_node_name", Val::Str(ctx.host.clone())),
            ("group_name", Val::Str(group_name.to_string())),
        ])
        .layered();
    let priority = sec.conv("priority", "999", &common, integer)?;
    let autostart = sec.conv("autostart", "true", &common, boolean)?;
    let autorestart = sec.conv("autorestart", "unexpected", &common, auto_restart)?;
    let startsecs = sec.conv("startsecs", "1", &common, integer)?;
    let startretries = sec.conv("startretries", "3", &common, integer)?;
    let stopsignal = sec.conv("stopsignal", "TERM", &common, signal_number)?;
    let stopwaitsecs = sec.conv("stopwaitsecs", "10", &common, integer)?;
    let stopasgroup = sec.conv("stopasgroup", "false", &common, boolean)?;
    let killasgroup = match sec.conv_opt("killasgroup", &common, boolean)? {
        Some(k) => k,
        None => stopasgroup,
    };
    let exitcodes = sec.conv("exitcodes", "0", &common, exit_codes)?;
    let redirect_stderr = sec.conv("redirect_stderr", "false", &common, boolean)?;
    let numprocs = sec.conv("numprocs", "1", &common, integer)?;
    let numprocs_start = sec.conv("numprocs_start", "0", &common, integer)?;
    let environment_raw = sec.raw("environment").unwrap_or("");
    let stdout_capture = sec.conv("stdout_capture_maxbytes", "0", &common, byte_size)?;
    let stdout_events = sec.conv("stdout_events_enabled", "false", &common, boolean)?;
    let stderr_capture = sec.conv("stderr_capture_maxbytes", "0", &common, byte_size)?;
    let stderr_events = sec.conv("stderr_events_enabled", "false", &common, boolean)?;
    let serverurl = sec
        .get("serverurl", &common)?
        .filter(|u| !u.trim().is_empty() && !u.trim().eq_ignore_ascii_case("AUTO"));
    // Project extensions (issue #20): restart policy and essential programs.
    let restart = super::restart::read(&sec, &common)?;
    let essential = sec.conv("essential", "false", &common, boolean)?;
    // Project extension (issue #18): readiness probes.
    let health = match sec.conv_opt("healthcheck", &common, super::probe::healthcheck)? {
        None => None,
        Some(target) => {
            let n = |key, default| sec.conv(key, default, &common, super::probe::positive);
            Some(Box::new(super::probe::HealthConfig {
                target,
                interval: n("healthcheck_interval", "30")?,
                timeout: n("healthcheck_timeout", "5")?,
                retries: n("healthcheck_retries", "3")? as u32,
                start_period: sec.conv(
                    "healthcheck_start_period",
                    "0",
                    &common,
                    super::probe::seconds,
                )?,
                action: sec.conv(
                    "healthcheck_action",
                    "restart",
                    &common,
                    super::probe::health_action,
                )?,
            }))
        }
    };
    let probe = super::probe::ProbeConfig {
        ready: sec.conv("ready", "startsecs", &common, super::probe::ready)?,
        watchdog_secs: sec.conv("watchdog_secs", "0", &common, super::probe::seconds)?,
        health,
    };
    if section.starts_with("eventlistener:") {
        if probe.waits_for_ready() {
            return Err(sec.err(Some("ready"), "ready= is not supported for event listeners"));
        }
        if probe.health.is_some() {
            return Err(sec.err(
                Some("healthcheck"),
                "healthcheck= is not supported for event listeners",
            ));
        }
    }
    if probe.watchdog_secs > 0 && !probe.notify() {
        return Err(sec.err(Some("watchdog_secs"), "watchdog_secs needs ready=notify"));
    }
    // Resolved and checked once every group exists (config::depends).
    let depends_on = sec
        .get("depends_on", &common)?
        .map_or_else(Vec::new, |t| super::depends::items(&t));
    let depends_on_restart = sec.conv("depends_on_restart", "false", &common, boolean)?;
    let user = sec.conv_opt("user", &common, resolve_user)?.map(Box::new);
    let umask = sec.conv_opt("umask", &common, octal)?;
    let process_name = sec.check(
        "process_name",
        process_or_group_name(sec.raw("process_name").unwrap_or("%(program_name)s")),
    )?;
    if numprocs > 1 && !process_name.contains("%(process_num)") {
        return Err(sec.err_first(
            &["process_name", "numprocs"],
            "%(process_num) must be present within process_name when numprocs > 1",
        ));
    }
    if stopasgroup && !killasgroup {
        return Err(sec.err_first(
            &["killasgroup", "stopasgroup"],
            "Cannot set stopasgroup=true and killasgroup=false",
        ));
    }

    let end = numprocs_start.saturating_add(numprocs.max(0));
    let mut out = Vec::new();
    for process_num in numprocs_start..end {
        let mut names = common.clone();
        names.insert("process_num".into(), Val::Int(process_num));
        names.insert("numprocs".into(), Val::Int(numprocs));
        let env_text = expand(environment_raw, &names, "environment")
            .map_err(|m| sec.err(Some("environment"), m))?;
        let env = sec.check("environment", environment(&env_text))?;
        for (k, v) in &env {
            names.insert(format!("ENV_{k}"), Val::Str(v.clone()));
        }
        let environment_files = sec.conv("environment_file", "", &names, env_file_list)?;
        let log_prefix = line_prefix(ctx, sec, &names)?.map(Box::new);
        let directory = sec.get("directory", &names)?;
        let stdout = channel(ctx, sec, "stdout", &names, stdout_capture, stdout_events)?;
        let mut stderr = channel(ctx, sec, "stderr", &names, stderr_capture, stderr_events)?;
        if redirect_stderr {
            if matches!(stderr.logfile, LogFile::Path(_)) {
                ctx.warnings.push(format!(
                    "For [{section}], redirect_stderr=true but stderr_logfile has also been set \
                     to a filename, the filename has been ignored"
                ));
            }
            stderr.logfile = LogFile::None;
        }
        let Some(command) = sec.get("command", &names)? else {
            return Err(sec.err(
                None,
                format!("program section {section} does not specify a command"),
            ));
        };
        let name = expand(&process_name, &names, "process_name")
            .map_err(|m| sec.err(Some("process_name"), m))?;
        out.push(Arc::new(ProcessConfig {
            name,
            program_name: program_name.clone(),
            command,
            directory,
            umask,
            priority,
            autostart,
            autorestart,
            startsecs,
            startretries,
            exitcodes: exitcodes.clone(),
            stopsignal,
            stopwaitsecs,
            stopasgroup,
            killasgroup,
            user: user.clone(),
            redirect_stderr,
            stdout,
            stderr,
            environment: env,
            environment_files,
            log_prefix,
            serverurl: serverurl.clone(),
            essential,
            restart,
            probe: probe.clone(),
            depends_on: depends_on.clone(),
            depends_on_restart,
        }));
    }
    out.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    Ok(out)
}

/// A channel's keys: `*_logfile`, `*_logfile_backups`, `*_logfile_maxbytes`, `*_syslog`.
fn channel_keys(which: &str) -> [&'static str; 4] {
    if which == "stdout" {
        [
            "stdout_logfile",
            "stdout_logfile_backups",
            "stdout_logfile_maxbytes",
            "stdout_syslog",
        ]
    } else {
        [
            "stderr_logfile",
            "stderr_logfile_backups",
            "stderr_logfile_maxbytes",
            "stderr_syslog",
        ]
    }
}

/// One output channel's keys. `*_logfile` is expanded twice, as in 4.3 (README C9).
fn channel(
    ctx: &mut Ctx,
    sec: Sec,
    which: &str,
    names: &Names,
    capture_maxbytes: i64,
    events_enabled: bool,
) -> Result<ChannelConfig, ConfigError> {
    let [lf_key, backups_key, maxbytes_key, sy_key] = channel_keys(which);
    let logfile = match sec.get(lf_key, names)? {
        None => LogFileName::Auto,
        Some(v) => {
            let twice = expand(&v, names, lf_key).map_err(|m| sec.err(Some(lf_key), m))?;
            sec.check(lf_key, logfile_name(&twice))?
        }
    };
    let backups = sec.conv(backups_key, "10", names, integer)?;
    let maxbytes = sec.conv(maxbytes_key, "50MB", names, byte_size)?;
    let mut syslog = sec.conv(sy_key, "false", names, boolean)?;
    let section = sec.name;
    let logfile = match logfile {
        LogFileName::Syslog => {
            ctx.warnings.push(format!(
                "For [{section}], {lf_key}=syslog but this is deprecated and will be removed.  \
                 Use {sy_key}=true to enable syslog instead."
            ));
            syslog = true;
            LogFile::None
        }
        LogFileName::Auto => {
            if maxbytes == 0 {
                ctx.warnings.push(format!(
                    "For [{section}], AUTO logging used for {lf_key} without rollover, set \
                     maxbytes > 0 to avoid filling up filesystem unintentionally"
                ));
            }
            LogFile::Auto
        }
        LogFileName::None => LogFile::None,
        LogFileName::Path(p) => LogFile::Path(p),
    };
    Ok(ChannelConfig {
        logfile,
        maxbytes,
        backups,
        capture_maxbytes,
        events_enabled,
        syslog,
    })
}
