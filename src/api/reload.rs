//! reread/update support: reloadConfig (diff of the pending config against the active groups),
//! addProcessGroup, removeProcessGroup, and getAllConfigInfo (process.md §7, rpc.md §5.3).

use super::faults::{self, Fault};
use super::params;
use super::{Ctx, Outcome};
use crate::config::diff::{pairs, Active, Pair};
use crate::config::envfile::EnvFile;
use crate::config::{AutoRestart, ChannelConfig, Config, LogFile};
use crate::rpc::value::{Key, Value};

/// (added, changed, removed) group names: `active` holds each active group's configuration
/// and the global environment it was made with. An unchanged group usually is the very same
/// configuration (`share_unchanged`), so the pointer comparison settles most of them.
/// `active_files` is the `[supervisord] environment_file` list in use: like a changed
/// `[supervisord] environment`, a changed list changes every group.
pub fn diff(
    active: &[Active],
    active_files: &[EnvFile],
    pending: &Config,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut added = Vec::new();
    let mut changed = Vec::new();
    let mut removed = Vec::new();
    for pair in pairs(active, active_files, pending) {
        match pair {
            Pair::Added(g) => added.push(g.name.clone()),
            Pair::Kept(a, g, env_changed) => {
                let same = std::ptr::eq(a, g) || a == g;
                if !same || env_changed {
                    changed.push(g.name.clone());
                }
            }
            Pair::Removed(a) => removed.push(a.name.clone()),
        }
    }
    (added, changed, removed)
}

fn names(v: Vec<String>) -> Value {
    Value::Array(v.into_iter().map(Value::String).collect())
}

pub fn reload_config(ctx: &mut Ctx, _p: &[Value]) -> Outcome {
    if let Err(e) = ctx.sup.reread() {
        return Outcome::Done(Err(Fault::new(faults::CANT_REREAD, e)));
    }
    let (a, c, r) = diff(
        &ctx.sup.active_group_configs(),
        &ctx.sup.config.supervisord.environment_files,
        ctx.sup.pending_config(),
    );
    Outcome::Done(Ok(Value::Array(vec![Value::Array(vec![
        names(a),
        names(c),
        names(r),
    ])])))
}

pub fn add_group(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let name = match params::string(p, 0) {
        Ok(n) => n,
        Err(f) => return Outcome::Done(Err(f)),
    };
    // As in Supervisor, the configuration read last decides first: a group removed from it
    // is BAD_NAME even while it is still active.
    if ctx.sup.pending_group(&name).is_none() {
        return Outcome::Done(Err(Fault::new(faults::BAD_NAME, &name)));
    }
    if ctx.sup.group(&name).is_some() {
        return Outcome::Done(Err(Fault::new(faults::ALREADY_ADDED, &name)));
    }
    match ctx.sup.add_pending_group(&name) {
        true => Outcome::Done(Ok(Value::Bool(true))),
        false => Outcome::Done(Err(Fault::new(faults::BAD_NAME, &name))),
    }
}

pub fn remove_group(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let name = match params::string(p, 0) {
        Ok(n) => n,
        Err(f) => return Outcome::Done(Err(f)),
    };
    let Some(g) = ctx.sup.group(&name) else {
        return Outcome::Done(Err(Fault::new(faults::BAD_NAME, &name)));
    };
    let busy = g.members.iter().any(|&id| {
        ctx.sup
            .process(id)
            .is_some_and(|p| !p.machine.state().is_stopped())
    });
    if busy {
        return Outcome::Done(Err(Fault::new(faults::STILL_RUNNING, &name)));
    }
    ctx.sup.remove_group(&name);
    Outcome::Done(Ok(Value::Bool(true)))
}

fn logfile_text(lf: &LogFile, resolved: Option<&std::path::Path>) -> String {
    match (lf, resolved) {
        (_, Some(p)) => p.display().to_string(),
        (LogFile::Auto, None) => "auto".into(),
        (LogFile::None, None) => "none".into(),
        (LogFile::Path(p), None) => p.display().to_string(),
    }
}

/// XML-RPC ints are 32-bit: larger byte sizes are clamped instead of failing (R4).
fn int32(n: i64) -> Value {
    Value::Int(n.clamp(i32::MIN as i64, i32::MAX as i64))
}

fn channel(
    prefix: &str,
    ch: &ChannelConfig,
    resolved: Option<&std::path::Path>,
    out: &mut Vec<(Key, Value)>,
) {
    out.push((
        format!("{prefix}_capture_maxbytes").into(),
        int32(ch.capture_maxbytes),
    ));
    out.push((
        format!("{prefix}_events_enabled").into(),
        Value::Bool(ch.events_enabled),
    ));
    out.push((
        format!("{prefix}_logfile").into(),
        Value::String(logfile_text(&ch.logfile, resolved)),
    ));
    out.push((
        format!("{prefix}_logfile_backups").into(),
        int32(ch.backups),
    ));
    out.push((
        format!("{prefix}_logfile_maxbytes").into(),
        int32(ch.maxbytes),
    ));
    out.push((format!("{prefix}_syslog").into(), Value::Bool(ch.syslog)));
}

pub fn all_config_info(ctx: &mut Ctx, _p: &[Value]) -> Outcome {
    let pending = ctx.sup.pending_config();
    let mut entries = Vec::new();
    for g in &pending.groups {
        let active = ctx.sup.group(&g.name);
        for pc in &g.processes {
            let live = active
                .and_then(|_| ctx.sup.find(&g.name, &pc.name))
                .and_then(|id| ctx.sup.process(id));
            let mut m: Vec<(Key, Value)> = vec![
                ("autostart".into(), Value::Bool(pc.autostart)),
                (
                    "directory".into(),
                    Value::String(pc.directory.clone().unwrap_or_else(|| "none".into())),
                ),
                (
                    "uid".into(),
                    pc.user
                        .as_ref()
                        .map_or(Value::String("none".into()), |u| Value::Int(u.uid as i64)),
                ),
                ("command".into(), Value::String(pc.command.clone())),
                (
                    "exitcodes".into(),
                    Value::Array(pc.exitcodes.iter().map(|&c| Value::Int(c as i64)).collect()),
                ),
                ("group".into(), Value::String(g.name.clone())),
                ("group_prio".into(), int32(g.priority)),
                ("inuse".into(), Value::Bool(active.is_some())),
                ("killasgroup".into(), Value::Bool(pc.killasgroup)),
                ("name".into(), Value::String(pc.name.clone())),
                ("process_prio".into(), int32(pc.priority)),
                ("redirect_stderr".into(), Value::Bool(pc.redirect_stderr)),
                ("startretries".into(), int32(pc.startretries)),
                ("startsecs".into(), int32(pc.startsecs)),
            ];
            channel(
                "stdout",
                &pc.stdout,
                live.and_then(|p| p.stdout_path.as_deref()),
                &mut m,
            );
            m.push(("stopsignal".into(), Value::Int(pc.stopsignal as i64)));
            m.push(("stopwaitsecs".into(), int32(pc.stopwaitsecs)));
            channel(
                "stderr",
                &pc.stderr,
                live.and_then(|p| p.stderr_path.as_deref()),
                &mut m,
            );
            m.push((
                "serverurl".into(),
                Value::String(pc.serverurl.clone().unwrap_or_else(|| "none".into())),
            ));
            // 4.4 adds autorestart; harmless extra member for 4.3 clients.
            m.push((
                "autorestart".into(),
                match pc.autorestart {
                    AutoRestart::Always => Value::Bool(true),
                    AutoRestart::Never => Value::Bool(false),
                    AutoRestart::Unexpected => Value::String("unexpected".into()),
                },
            ));
            // The files' names only: their contents may be secrets. Absent when unused, so
            // an existing configuration's answer stays as it was.
            if !pc.environment_files.is_empty() {
                m.push((
                    "environment_file".into(),
                    Value::String(crate::config::envfile::display_list(&pc.environment_files)),
                ));
            }
            entries.push((pc.name.clone(), Value::Struct(m)));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Outcome::Done(Ok(Value::Array(
        entries.into_iter().map(|(_, v)| v).collect(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{GroupConfig, GroupKind};
    use crate::testutil::{config, process_config};
    use std::sync::Arc;

    fn group(name: &str, cmd: &str) -> Arc<GroupConfig> {
        Arc::new(GroupConfig {
            name: name.into(),
            priority: 999,
            kind: GroupKind::Program,
            processes: vec![process_config(name, cmd).into()],
        })
    }

    #[test]
    fn diff_added_changed_removed() {
        let groups = [
            group("same", "a"),
            group("changed", "a"),
            group("gone", "a"),
        ];
        let active: Vec<Active> = groups.iter().map(|g| (&**g, &[][..])).collect();
        let mut pending = config();
        pending.groups = vec![group("same", "a"), group("changed", "b"), group("new", "a")];
        let (a, c, r) = diff(&active, &[], &pending);
        assert_eq!(a, vec!["new"]);
        assert_eq!(c, vec!["changed"]);
        assert_eq!(r, vec!["gone"]);
        // A changed global environment changes every group.
        pending.supervisord.environment = vec![("X".into(), "1".into())];
        let (_, c, _) = diff(&active, &[], &pending);
        assert_eq!(c, vec!["same", "changed"]);
        // So does a changed [supervisord] environment_file list (not the files' contents,
        // which are read at every spawn anyway).
        pending.supervisord.environment = vec![];
        pending.supervisord.environment_files = vec![EnvFile {
            path: "/etc/a.env".into(),
            optional: true,
        }];
        let (_, c, _) = diff(&active, &[], &pending);
        assert_eq!(c, vec!["same", "changed"]);
        let (_, c, _) = diff(&active, &pending.supervisord.environment_files, &pending);
        assert_eq!(c, vec!["changed"]);
    }

    #[test]
    fn reread_shares_unchanged_groups_with_the_active_ones() {
        use crate::daemon::supervisor::Supervisor;
        use crate::testutil::TempDir;
        let t = TempDir::new("reread");
        let text = |b: &str| {
            format!(
                "[supervisord]\n[program:a]\ncommand=/bin/sleep 1\n\
                 [program:b]\ncommand=/bin/sleep {b}\n"
            )
        };
        let path = t.write("s.conf", &text("2"));
        let o = Default::default();
        let loaded = crate::config::load(std::path::Path::new(&path), &o).unwrap();
        let mut sup =
            Supervisor::new(loaded.clone(), o, crate::log::MainLog::new(), Vec::new()).unwrap();
        for g in loaded.groups {
            sup.add_group(g);
        }
        t.write("s.conf", &text("3"));
        sup.reread().unwrap();
        let pending = sup.pending_config();
        let active = |n: &str| &sup.group(n).unwrap().config;
        assert!(Arc::ptr_eq(&pending.groups[0], active("a")));
        assert!(!Arc::ptr_eq(&pending.groups[1], active("b")));
        let (a, c, r) = diff(&sup.active_group_configs(), &[], pending);
        assert!(a.is_empty() && r.is_empty());
        assert_eq!(c, ["b"]);
    }

    #[test]
    fn diff_of_many_groups_is_linear() {
        // 10^5 groups: a scan of the active groups per pending one would be 10^10 steps.
        let n = 100_000;
        let groups: Vec<_> = (0..n).map(|i| group(&format!("g{i}"), "a")).collect();
        let active: Vec<Active> = groups.iter().map(|g| (&**g, &[][..])).collect();
        let mut pending = config();
        pending.groups = groups[1..].to_vec();
        pending.groups[0] = group("g1", "b");
        pending.groups.push(group("new", "a"));
        let (a, c, r) = diff(&active, &[], &pending);
        assert_eq!(
            (a, c, r),
            (vec!["new".into()], vec!["g1".into()], vec!["g0".into()])
        );
    }
}
