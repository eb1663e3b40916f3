//! Process groups: `[group:x]` (heterogeneous), `[program:x]`, `[eventlistener:x]` pools and
//! `[fcgi-program:x]` groups, in 4.3's order of checks, sorted by (priority, name).

use std::collections::HashMap;
use std::sync::Arc;

use super::expand::Val;
use super::load_program::{object_name, processes};
use super::model::{
    FcgiSocket, GroupConfig, GroupKind, ListenerPoolConfig, Owner, SocketSpec, UserSpec,
};
use super::pypath;
use super::reader::{Ctx, Sec};
use super::types::{boolean, integer, list_of_strings, octal, port_number, process_or_group_name};
use super::users::{parse_owner, resolve_user};
use super::ConfigError;

/// Result handlers a listener pool may name (`result_handler=` or its alias `handler=`).
pub const RESULT_HANDLERS: &[&str] = &[
    "supervisor.dispatchers:default_handler",
    "standard",
    "command",
    // Built in: the PyPI package's handler, so its documented config runs unchanged.
    "supervisor_stdlog:log_handler",
    "supervisor_stdout:event_handler",
];

const DEFAULT_HANDLER: &str = "supervisor.dispatchers:default_handler";

/// Gives, for a group just read, an equal configuration already held elsewhere to use
/// instead (see `load_sharing`).
pub type Reuse<'r> = &'r dyn Fn(&GroupConfig) -> Option<Arc<GroupConfig>>;

/// Every group of the configuration, sorted by (priority, name). A later group with the name
/// of an earlier one is dropped with a warning (4.3 silently keeps only the first).
pub fn groups(ctx: &mut Ctx, reuse: Reuse) -> Result<Vec<Arc<GroupConfig>>, ConfigError> {
    let sections: Vec<String> = ctx.ini.sections().iter().map(|s| s.name.clone()).collect();
    let mut found: Vec<(Arc<GroupConfig>, String)> = Vec::new();
    // Each group is swapped for its reused twin as soon as it is read, so a reread of
    // unchanged programs never holds a second copy of them all at once.
    // Kept for as long as the group exists: no spare room (a program's one process would
    // otherwise hold room for four).
    let share = |mut g: GroupConfig| {
        g.processes.shrink_to_fit();
        reuse(&g).unwrap_or_else(|| Arc::new(g))
    };
    // program section -> the [group:x] section that took it
    let mut grouped: HashMap<String, String> = HashMap::new();

    for s in sections.iter().filter(|s| s.starts_with("group:")) {
        found.push((share(heterogeneous(ctx, s, &mut grouped)?), s.clone()));
    }
    for s in sections.iter().filter(|s| s.starts_with("program:")) {
        if grouped.contains_key(s) {
            continue;
        }
        let sec = ctx.section(s);
        let name = sec.check_section(process_or_group_name(object_name(s)))?;
        let priority = sec.conv("priority", "999", &ctx.here_names(), integer)?;
        let processes = processes(ctx, s, &name)?;
        found.push((
            share(GroupConfig {
                name,
                priority,
                kind: GroupKind::Program,
                processes,
            }),
            s.clone(),
        ));
    }
    for s in sections.iter().filter(|s| s.starts_with("eventlistener:")) {
        found.push((share(listener_pool(ctx, s)?), s.clone()));
    }
    for s in sections.iter().filter(|s| s.starts_with("fcgi-program:")) {
        if !grouped.contains_key(s) {
            found.push((share(fcgi_group(ctx, s)?), s.clone()));
        }
    }

    found.sort_by(|(a, _), (b, _)| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    let mut out: Vec<Arc<GroupConfig>> = Vec::new();
    let mut owner: HashMap<String, String> = HashMap::new();
    for (g, section) in found {
        if let Some(first) = owner.get(&g.name) {
            ctx.warnings.push(format!(
                "[{section}] is ignored: a group named '{}' is already defined by [{first}]",
                g.name
            ));
            continue;
        }
        owner.insert(g.name.clone(), section);
        out.push(g);
    }
    Ok(out)
}

/// `[group:x]`: the listed programs' processes in `programs=` order. A program may belong to
/// one group only (4.3 would run it once per group: README C12).
fn heterogeneous(
    ctx: &mut Ctx,
    s: &str,
    grouped: &mut HashMap<String, String>,
) -> Result<GroupConfig, ConfigError> {
    let sec = ctx.section(s);
    let name = sec.check_section(process_or_group_name(object_name(s)))?;
    let names = ctx.here_names();
    let programs = list_of_strings(&sec.get_or("programs", "", &names)?);
    let priority = sec.conv("priority", "999", &names, integer)?;
    let mut procs = Vec::new();
    for program in programs {
        let program_section = format!("program:{program}");
        let fcgi_section = format!("fcgi-program:{program}");
        let has_program = ctx.ini.has_section(&program_section);
        let has_fcgi = ctx.ini.has_section(&fcgi_section);
        let target = match (has_program, has_fcgi) {
            (false, false) => {
                return Err(sec.err(
                    Some("programs"),
                    format!("[{s}] names unknown program or fcgi-program '{program}'"),
                ))
            }
            (true, true) => {
                return Err(sec.err(
                    Some("programs"),
                    format!(
                        "[{s}] name {program} is ambiguous (exists as program and fcgi-program)"
                    ),
                ))
            }
            (true, false) => program_section,
            (false, true) => fcgi_section,
        };
        if let Some(other) = grouped.get(&target) {
            if other == s {
                // Supervisor keeps one process per name, so a repeat changes nothing.
                ctx.warnings
                    .push(format!("[{s}] names {program} twice; once is enough"));
                continue;
            }
            return Err(sec.err(
                Some("programs"),
                format!(
                    "[{s}] names {program}, which already belongs to [{other}]; a program can \
                     be in one group only"
                ),
            ));
        }
        if !has_program {
            ctx.warnings.push(format!(
                "[{target}] is listed in [{s}]: it runs as an ordinary program of that group, \
                 without a FastCGI socket"
            ));
        }
        grouped.insert(target.clone(), s.to_string());
        procs.extend(processes(ctx, &target, &name)?);
    }
    Ok(GroupConfig {
        name,
        priority,
        kind: GroupKind::Program,
        processes: procs,
    })
}

/// `[eventlistener:x]`: pool keys first (pool priority defaults to -1), then the processes.
fn listener_pool(ctx: &mut Ctx, s: &str) -> Result<GroupConfig, ConfigError> {
    let sec = ctx.section(s);
    let names = ctx.here_names();
    let pool_name = object_name(s).to_string();
    let priority = sec.conv("priority", "-1", &names, integer)?;
    let buffer_size = sec.conv("buffer_size", "10", &names, integer)?;
    if buffer_size < 1 {
        return Err(sec.err(
            Some("buffer_size"),
            format!("[{s}] section sets invalid buffer_size ({buffer_size})"),
        ));
    }
    let handler_key = if sec.has("result_handler") {
        "result_handler"
    } else {
        "handler"
    };
    let result_handler = sec.get_or(handler_key, DEFAULT_HANDLER, &names)?;
    if !RESULT_HANDLERS.contains(&result_handler.as_str()) {
        return Err(sec.err(
            Some(handler_key),
            format!(
                "{result_handler} cannot be resolved within [{s}] (known handlers: {})",
                RESULT_HANDLERS.join(", ")
            ),
        ));
    }
    let mut events: Vec<String> = Vec::new();
    for e in list_of_strings(&sec.get_or("events", "", &names)?) {
        let e = e.to_uppercase();
        if !events.contains(&e) {
            events.push(e);
        }
    }
    if events.is_empty() {
        return Err(sec.err(
            Some("events"),
            format!("[{s}] section requires an \"events\" line"),
        ));
    }
    if let Some(bad) = events.iter().find(|e| !crate::events::types::is_known(e)) {
        return Err(sec.err(
            Some("events"),
            format!("Unknown event type {bad} in [{s}] events"),
        ));
    }
    if sec.conv("redirect_stderr", "false", &names, boolean)? {
        return Err(sec.err(
            Some("redirect_stderr"),
            format!(
                "[{s}] section sets redirect_stderr=true but this is not allowed because it \
                 will interfere with the eventlistener protocol"
            ),
        ));
    }
    let max_retry = sec.conv("max_retry", "0", &names, integer)?;
    if max_retry < 0 {
        return Err(sec.err(
            Some("max_retry"),
            format!("[{s}] section sets invalid max_retry ({max_retry})"),
        ));
    }
    let processes = processes(ctx, s, &pool_name)?;
    Ok(GroupConfig {
        name: pool_name,
        priority,
        kind: GroupKind::EventListener(Box::new(ListenerPoolConfig {
            events,
            buffer_size,
            result_handler,
            max_retry,
        })),
        processes,
    })
}

/// `[fcgi-program:x]`: the socket keys, then the processes.
fn fcgi_group(ctx: &mut Ctx, s: &str) -> Result<GroupConfig, ConfigError> {
    let sec = ctx.section(s);
    let name = sec.check_section(process_or_group_name(object_name(s)))?;
    let names = ctx.here_names();
    let priority = sec.conv("priority", "999", &names, integer)?;
    let user = sec.conv_opt("user", &names, resolve_user)?;
    let backlog = sec.conv_opt("socket_backlog", &names, integer)?;
    if let Some(b) = backlog {
        if !(1..=65535).contains(&b) {
            return Err(sec.err(
                Some("socket_backlog"),
                format!("Invalid socket_backlog value {b}"),
            ));
        }
    }
    let owner = sec.conv_opt("socket_owner", &names, |v| {
        parse_owner(v).map_err(|_| format!("Invalid socket_owner value {v}"))
    })?;
    let mode = sec.conv_opt("socket_mode", &names, |v| {
        octal(v).map_err(|_| format!("Invalid socket_mode value {v}"))
    })?;
    let mut socket_names = names.clone();
    socket_names.insert("program_name".into(), Val::Str(name.clone()));
    let socket = sec.get("socket", &socket_names)?.unwrap_or_default();
    if socket.is_empty() {
        return Err(sec.err(
            Some("socket"),
            format!("[{s}] section requires a \"socket\" line"),
        ));
    }
    let socket = parse_socket(sec, &socket, user.as_ref(), owner, mode, backlog)?;
    let processes = processes(ctx, s, &name)?;
    Ok(GroupConfig {
        name,
        priority,
        kind: GroupKind::Fcgi(Box::new(socket)),
        processes,
    })
}

/// `unix:///abs/path` or `tcp://host:port`. Messages are 4.3's without its tuple reprs
/// (README C14).
fn parse_socket(
    sec: Sec,
    value: &str,
    user: Option<&UserSpec>,
    owner: Option<Owner>,
    mode: Option<u32>,
    backlog: Option<i64>,
) -> Result<FcgiSocket, ConfigError> {
    let s = sec.name;
    let fail = |why: String| sec.err(Some("socket"), format!("{why} in [{s}] socket"));
    if let Some(path) = value.strip_prefix("unix://") {
        if !pypath::isabs(path) {
            return Err(fail(format!(
                "Unix socket path {path} is not an absolute path"
            )));
        }
        let path = pypath::normalize_path(path);
        // SAFETY: getuid has no preconditions and cannot fail.
        let my_uid = unsafe { libc::getuid() };
        let owner = owner.or_else(|| {
            user.filter(|u| u.uid != my_uid).map(|u| Owner {
                uid: Some(u.uid),
                gid: Some(u.gid),
            })
        });
        return Ok(FcgiSocket {
            url: format!("unix://{path}"),
            spec: SocketSpec::Unix { path: path.into() },
            owner,
            mode: Some(mode.unwrap_or(0o700)),
            backlog,
        });
    }
    if owner.is_some() || mode.is_some() {
        return Err(fail(
            "socket_owner and socket_mode params should only be used with a Unix domain socket"
                .to_string(),
        ));
    }
    // tcp://([^\s:]+):(\d+)$
    let tcp = value.strip_prefix("tcp://").and_then(|rest| {
        let (host, port) = rest.split_once(':')?;
        let host_ok = !host.is_empty() && !host.chars().any(|c| c.is_whitespace());
        let port_ok = !port.is_empty() && port.chars().all(|c| c.is_ascii_digit());
        (host_ok && port_ok).then_some((host, port))
    });
    let Some((host, port)) = tcp else {
        return Err(fail(format!("Bad socket format {value}")));
    };
    let port = port_number(port).map_err(fail)?;
    let host = host.to_lowercase();
    Ok(FcgiSocket {
        url: format!("tcp://{host}:{port}"),
        spec: SocketSpec::Tcp { host, port },
        owner: None,
        mode: None,
        backlog,
    })
}
