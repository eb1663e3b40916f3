//! What a new configuration changes for what runs (issue #19 item 1): the diff between the
//! active groups and a reread's configuration, classified per process as applied in place,
//! a respawn, an addition or a removal; a group whose own settings changed is replaced whole.
//! Pure: the daemon (`daemon::update`) carries a plan out as a list of effects.
//!
//! A setting is applied in place only if it is listed in `IN_PLACE`: it changes how
//! supervisord treats the child (when to restart it, how to stop it, how big its logs grow,
//! how its health is checked, when its next start counts as ready), not how the child is
//! spawned. A health check is re-armed on the running process; `ready=` waits for the next
//! start (a start under way keeps its rule). `watchdog_secs` is a respawn: the child got
//! WATCHDOG_USEC at its spawn. Every other difference, including keys this module does not
//! know, is a respawn, so a new key is safe before anyone lists it here.

use super::envfile::EnvFile;
use super::model::{ChannelConfig, Config, GroupConfig, GroupKind, ProcessConfig};
use std::collections::{HashMap, HashSet};

/// How one process is brought in line with the new configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// These settings are copied onto the running process; it keeps its pid.
    InPlace(Vec<&'static str>),
    /// Stopped (if running) and replaced by a process made from the new configuration,
    /// which starts if `autostart` says so; these settings are why.
    Respawn(Vec<&'static str>),
    /// A new process (numprocs grew, or a program joined the group).
    Add,
    /// Stopped (if running) and forgotten.
    Remove,
}

/// What happens to one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupPlan {
    Add,
    Remove,
    /// The group's own settings changed (its kind: listener pool events, fcgi socket, ...):
    /// stopped, removed and added again, as Supervisor's `update` does with every change.
    Replace(Vec<&'static str>),
    /// Process by process; `priority` is set when the group's priority changed (applied in
    /// place: the group moves in start order).
    Update {
        priority: bool,
        processes: Vec<(String, Change)>,
    },
}

/// A setting applied in place: its name in supervisord.conf, whether it differs, and how it
/// is copied from the new configuration onto the old.
struct Setting {
    key: &'static str,
    differs: Differs,
    copy: fn(&mut ProcessConfig, &ProcessConfig),
}

macro_rules! setting {
    ($key:literal, $($field:ident).+) => {
        Setting {
            key: $key,
            differs: |a, b| a.$($field).+ != b.$($field).+,
            copy: |a, b| a.$($field).+ = b.$($field).+.clone(),
        }
    };
}

/// Settings that do not change how a child is spawned.
const IN_PLACE: &[Setting] = &[
    setting!("autostart", autostart),
    setting!("autorestart", autorestart),
    setting!("startsecs", startsecs),
    setting!("startretries", startretries),
    setting!("exitcodes", exitcodes),
    setting!("stopsignal", stopsignal),
    setting!("stopwaitsecs", stopwaitsecs),
    setting!("stopasgroup", stopasgroup),
    setting!("killasgroup", killasgroup),
    setting!("priority", priority),
    setting!("stdout_logfile_maxbytes", stdout.maxbytes),
    setting!("stdout_logfile_backups", stdout.backups),
    setting!("stdout_events_enabled", stdout.events_enabled),
    setting!("stderr_logfile_maxbytes", stderr.maxbytes),
    setting!("stderr_logfile_backups", stderr.backups),
    setting!("stderr_events_enabled", stderr.events_enabled),
    setting!("essential", essential),
    setting!("backoff", restart.curve),
    setting!("backoff_max_secs", restart.max_secs),
    setting!("backoff_jitter", restart.jitter_percent),
    setting!("retry_forever", restart.retry_forever),
    setting!("restart_delay_secs", restart.restart_delay_secs),
    // From the next start; a start under way keeps the readiness it began with.
    setting!("ready", probe.ready),
    // All the `healthcheck*` keys: a RUNNING process's check is re-armed with them.
    setting!("healthcheck", probe.health),
];

type Differs = fn(&ProcessConfig, &ProcessConfig) -> bool;

/// Names for the settings that need a respawn, for reports. A difference none of them
/// explains is reported as `other`.
const RESPAWN: &[(&str, Differs)] = &[
    ("command", |a, b| a.command != b.command),
    ("directory", |a, b| a.directory != b.directory),
    ("umask", |a, b| a.umask != b.umask),
    ("user", |a, b| a.user != b.user),
    ("environment", |a, b| a.environment != b.environment),
    ("environment_file", |a, b| {
        a.environment_files != b.environment_files
    }),
    ("log_prefix", |a, b| a.log_prefix != b.log_prefix),
    ("redirect_stderr", |a, b| {
        a.redirect_stderr != b.redirect_stderr
    }),
    ("serverurl", |a, b| a.serverurl != b.serverurl),
    // Dependency links are made when the process record is (re)made.
    ("depends_on", |a, b| {
        a.depends_on != b.depends_on || a.depends_on_restart != b.depends_on_restart
    }),
    // The child got WATCHDOG_USEC in its environment.
    ("watchdog_secs", |a, b| {
        a.probe.watchdog_secs != b.probe.watchdog_secs
    }),
    ("stdout_logfile", |a, b| {
        channel_respawn(&a.stdout, &b.stdout)
    }),
    ("stderr_logfile", |a, b| {
        channel_respawn(&a.stderr, &b.stderr)
    }),
];

/// Channel settings fixed when the channel is made at spawn (the file, syslog, capture).
fn channel_respawn(a: &ChannelConfig, b: &ChannelConfig) -> bool {
    a.logfile != b.logfile || a.syslog != b.syslog || a.capture_maxbytes != b.capture_maxbytes
}

/// `old` with the in-place settings of `new`: what the running process's configuration
/// becomes when the change is applied in place.
pub fn with_in_place(old: &ProcessConfig, new: &ProcessConfig) -> ProcessConfig {
    let mut out = old.clone();
    for s in IN_PLACE {
        (s.copy)(&mut out, new);
    }
    out
}

/// How a process configured as `old` becomes one configured as `new`; None when they are the
/// same. `env_changed`: `[supervisord] environment` changed, which every child inherits.
pub fn process_change(
    old: &ProcessConfig,
    new: &ProcessConfig,
    env_changed: bool,
) -> Option<Change> {
    let in_place: Vec<&'static str> = IN_PLACE
        .iter()
        .filter(|s| (s.differs)(old, new))
        .map(|s| s.key)
        .collect();
    let mut respawn: Vec<&'static str> = RESPAWN
        .iter()
        .filter(|(_, differs)| differs(old, new))
        .map(|(key, _)| *key)
        .collect();
    if env_changed {
        respawn.push("[supervisord] environment");
    }
    if respawn.is_empty() && with_in_place(old, new) != *new {
        respawn.push("other");
    }
    if !respawn.is_empty() {
        Some(Change::Respawn(respawn))
    } else if !in_place.is_empty() {
        Some(Change::InPlace(in_place))
    } else {
        None
    }
}

/// The plan for a group active as `old` that the new configuration has as `new`; None when
/// nothing changes. `env_changed`: what every child inherits changed (`[supervisord]
/// environment` or `environment_file`).
pub fn group_plan(old: &GroupConfig, new: &GroupConfig, env_changed: bool) -> Option<GroupPlan> {
    if old.kind != new.kind {
        return Some(GroupPlan::Replace(vec![kind_key(&new.kind)]));
    }
    let olds: HashMap<&str, &ProcessConfig> = old
        .processes
        .iter()
        .map(|p| (p.name.as_str(), &**p))
        .collect();
    let news: HashSet<&str> = new.processes.iter().map(|p| p.name.as_str()).collect();
    let mut processes = Vec::new();
    for n in &new.processes {
        match olds.get(n.name.as_str()) {
            None => processes.push((n.name.clone(), Change::Add)),
            Some(o) => {
                if let Some(c) = process_change(o, n, env_changed) {
                    processes.push((n.name.clone(), c));
                }
            }
        }
    }
    for o in &old.processes {
        if !news.contains(o.name.as_str()) {
            processes.push((o.name.clone(), Change::Remove));
        }
    }
    let priority = old.priority != new.priority;
    // Only pools and fcgi groups are made for their processes: adding, removing or
    // respawning one of theirs alone is not possible, so they are replaced whole.
    let structural = processes
        .iter()
        .any(|(_, c)| !matches!(c, Change::InPlace(_)));
    if structural && !matches!(new.kind, GroupKind::Program) {
        return Some(GroupPlan::Replace(vec![kind_key(&new.kind)]));
    }
    let order_changed = old.processes.len() == new.processes.len()
        && old
            .processes
            .iter()
            .zip(&new.processes)
            .any(|(o, n)| o.name != n.name);
    (priority || !processes.is_empty() || order_changed).then_some(GroupPlan::Update {
        priority,
        processes,
    })
}

fn kind_key(kind: &GroupKind) -> &'static str {
    match kind {
        GroupKind::Program => "group",
        GroupKind::EventListener(_) => "eventlistener",
        GroupKind::Fcgi(_) => "fcgi-program",
    }
}

/// An active group's configuration and the global environment it was made with.
pub type Active<'a> = (&'a GroupConfig, &'a [(String, String)]);

/// One group name as it stands between the active groups and a reread's configuration.
#[derive(Debug)]
pub enum Pair<'a> {
    /// Only in the new configuration.
    Added(&'a GroupConfig),
    /// Active and in the new configuration: (active, new, whether the global environment or
    /// the `environment_file` list it was made with changed since).
    Kept(&'a GroupConfig, &'a GroupConfig, bool),
    /// Active, and gone from the new configuration.
    Removed(&'a GroupConfig),
}

/// Every group of `pending` in its order, then the removed active groups in theirs. Linear:
/// a group is looked up by name. Both `reloadConfig` (which answers by group) and [`plan`]
/// (which goes down to processes) start here, so they cannot disagree about which groups
/// were added, kept or removed.
pub fn pairs<'a>(
    active: &[Active<'a>],
    active_files: &[EnvFile],
    pending: &'a Config,
) -> Vec<Pair<'a>> {
    let env = pending.supervisord.environment.as_slice();
    let files_changed = active_files != pending.supervisord.environment_files.as_slice();
    let by_name: HashMap<&str, Active> = active
        .iter()
        .map(|&(g, e)| (g.name.as_str(), (g, e)))
        .collect();
    let mut out = Vec::new();
    for g in &pending.groups {
        out.push(match by_name.get(g.name.as_str()) {
            None => Pair::Added(g),
            Some(&(a, a_env)) => Pair::Kept(a, g, files_changed || a_env != env),
        });
    }
    let kept: HashSet<&str> = pending.groups.iter().map(|g| g.name.as_str()).collect();
    for &(a, _) in active {
        if !kept.contains(a.name.as_str()) {
            out.push(Pair::Removed(a));
        }
    }
    out
}

/// Every group's plan, in the new configuration's order, then the removed groups.
/// `active`: each active group's configuration and the global environment it was made with;
/// `active_files`: the `[supervisord] environment_file` list in use. Linear in the groups.
pub fn plan(
    active: &[Active],
    active_files: &[EnvFile],
    pending: &Config,
) -> Vec<(String, GroupPlan)> {
    pairs(active, active_files, pending)
        .into_iter()
        .filter_map(|pair| match pair {
            Pair::Added(g) => Some((g.name.clone(), GroupPlan::Add)),
            Pair::Kept(a, g, env_changed) => {
                group_plan(a, g, env_changed).map(|p| (g.name.clone(), p))
            }
            Pair::Removed(a) => Some((a.name.clone(), GroupPlan::Remove)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;
    use std::borrow::Borrow;

    /// The model may hold its groups and processes in an Arc or not.
    fn inner<T, B: Borrow<T>>(b: &B) -> &T {
        b.borrow()
    }

    fn load(text: &str) -> Config {
        let t = TempDir::new("diff");
        let path = t.write("supervisord.conf", &format!("[supervisord]\n{text}"));
        super::super::load(std::path::Path::new(&path), &Default::default()).expect("config")
    }

    fn plan_of(old: &str, new: &str) -> Vec<(String, GroupPlan)> {
        let (old, new) = (load(old), load(new));
        let active: Vec<(&GroupConfig, &[(String, String)])> = old
            .groups
            .iter()
            .map(|g| (inner(g), old.supervisord.environment.as_slice()))
            .collect();
        plan(&active, &old.supervisord.environment_files, &new)
    }

    fn update(processes: Vec<(&str, Change)>) -> GroupPlan {
        GroupPlan::Update {
            priority: false,
            processes: processes
                .into_iter()
                .map(|(n, c)| (n.to_string(), c))
                .collect(),
        }
    }

    const THREE: &str = "[group:g]\nprograms=a,b,c\n\
        [program:a]\ncommand=sleep 1\n[program:b]\ncommand=sleep 2\n[program:c]\ncommand=sleep 3\n";

    #[test]
    fn nothing_changed_is_no_plan() {
        assert_eq!(plan_of(THREE, THREE), vec![]);
    }

    #[test]
    fn settings_the_child_does_not_see_are_in_place() {
        let new = THREE.replace(
            "command=sleep 2\n",
            "command=sleep 2\nautorestart=false\nstartretries=9\nstdout_logfile_maxbytes=1KB\n\
             stopsignal=INT\nexitcodes=0,2\nstderr_events_enabled=true\n",
        );
        assert_eq!(
            plan_of(THREE, &new),
            vec![(
                "g".into(),
                update(vec![(
                    "b",
                    Change::InPlace(vec![
                        "autorestart",
                        "startretries",
                        "exitcodes",
                        "stopsignal",
                        "stdout_logfile_maxbytes",
                        "stderr_events_enabled"
                    ])
                )])
            )]
        );
    }

    #[test]
    fn a_new_command_respawns_that_process_only() {
        let new = THREE.replace("sleep 2", "sleep 20");
        assert_eq!(
            plan_of(THREE, &new),
            vec![(
                "g".into(),
                update(vec![("b", Change::Respawn(vec!["command"]))])
            )]
        );
        // An in-place change beside a respawning one is part of the respawn.
        let both = THREE.replace("sleep 2\n", "sleep 20\nstartsecs=3\n");
        assert_eq!(
            plan_of(THREE, &both)[0].1,
            update(vec![("b", Change::Respawn(vec!["command"]))])
        );
    }

    #[test]
    fn numprocs_adds_and_removes_only_the_extra_processes() {
        let two = "[program:w]\ncommand=sleep 1\nprocess_name=%(program_name)s_%(process_num)s\nnumprocs=2\n";
        let four = two.replace("numprocs=2", "numprocs=4");
        assert_eq!(
            plan_of(two, &four),
            vec![(
                "w".into(),
                update(vec![("w_2", Change::Add), ("w_3", Change::Add)])
            )]
        );
        assert_eq!(
            plan_of(&four, two),
            vec![(
                "w".into(),
                update(vec![("w_2", Change::Remove), ("w_3", Change::Remove)])
            )]
        );
    }

    #[test]
    fn groups_added_removed_and_the_global_environment() {
        let old = "[program:x]\ncommand=sleep 1\n[program:y]\ncommand=sleep 1\n";
        let new = "[supervisord]\nenvironment=A=1\n[program:x]\ncommand=sleep 1\n\
                   [program:z]\ncommand=sleep 1\n";
        assert_eq!(
            plan_of(old, new),
            vec![
                (
                    "x".into(),
                    update(vec![(
                        "x",
                        Change::Respawn(vec!["[supervisord] environment"])
                    )])
                ),
                ("z".into(), GroupPlan::Add),
                ("y".into(), GroupPlan::Remove),
            ]
        );
    }

    #[test]
    fn pairs_follow_the_new_configuration_then_the_removed_and_see_the_environment() {
        let old = load("[program:y]\ncommand=sleep 1\n[program:x]\ncommand=sleep 1\n");
        let new = load("[supervisord]\nenvironment=A=1\n[program:z]\ncommand=sleep 1\n[program:x]\ncommand=sleep 1\n");
        let active: Vec<Active> = old
            .groups
            .iter()
            .map(|g| (inner(g), old.supervisord.environment.as_slice()))
            .collect();
        let got: Vec<String> = pairs(&active, &old.supervisord.environment_files, &new)
            .into_iter()
            .map(|p| match p {
                Pair::Added(g) => format!("+{}", g.name),
                Pair::Kept(a, g, env) => format!("{}={}:{env}", a.name, g.name),
                Pair::Removed(a) => format!("-{}", a.name),
            })
            .collect();
        assert_eq!(got, ["x=x:true", "+z", "-y"]);
    }

    #[test]
    fn program_priority_moves_the_group_in_place() {
        let old = "[program:x]\ncommand=sleep 1\npriority=5\n";
        let new = old.replace("priority=5", "priority=7");
        assert_eq!(
            plan_of(old, &new),
            vec![(
                "x".into(),
                GroupPlan::Update {
                    priority: true,
                    processes: vec![("x".into(), Change::InPlace(vec!["priority"]))]
                }
            )]
        );
    }

    #[test]
    fn listener_pools_are_replaced_whole_unless_in_place() {
        let old = "[eventlistener:l]\ncommand=cat\nevents=TICK_5\n";
        let events = old.replace("TICK_5", "TICK_60");
        assert_eq!(
            plan_of(old, &events),
            vec![("l".into(), GroupPlan::Replace(vec!["eventlistener"]))]
        );
        let command = old.replace("command=cat", "command=cat -u");
        assert_eq!(
            plan_of(old, &command),
            vec![("l".into(), GroupPlan::Replace(vec!["eventlistener"]))]
        );
        let retries = old.replace("command=cat", "command=cat\nstartretries=7");
        assert_eq!(
            plan_of(old, &retries),
            vec![(
                "l".into(),
                update(vec![("l", Change::InPlace(vec!["startretries"]))])
            )]
        );
    }

    #[test]
    fn probes_are_in_place_but_the_watchdog_and_dependencies_respawn() {
        let old = "[program:x]\ncommand=sleep 1\nhealthcheck=tcp:8080\n";
        let in_place = |new: &str| plan_of(old, new).pop().map(|(_, p)| p).expect("a plan");
        for new in [
            "healthcheck=tcp:8081\n",
            "healthcheck=tcp:8080\nhealthcheck_interval=3\n",
            "healthcheck=tcp:8080\nhealthcheck_timeout=9\nhealthcheck_retries=1\n\
             healthcheck_start_period=4\nhealthcheck_action=none\n",
            "",
        ] {
            let new = old.replace("healthcheck=tcp:8080\n", new);
            assert_eq!(
                in_place(&new),
                update(vec![("x", Change::InPlace(vec!["healthcheck"]))]),
                "{new}"
            );
        }
        assert_eq!(
            in_place(&old.replace(
                "healthcheck=tcp:8080\n",
                "ready=tcp:8080\n\
                                   healthcheck=tcp:8080\n"
            )),
            update(vec![("x", Change::InPlace(vec!["ready"]))])
        );
        assert_eq!(
            in_place(&old.replace("healthcheck=tcp:8080\n", "ready=notify\n")),
            update(vec![("x", Change::InPlace(vec!["ready", "healthcheck"]))])
        );
        let notify = "[program:x]\ncommand=sleep 1\nready=notify\n";
        assert_eq!(
            plan_of(notify, &format!("{notify}watchdog_secs=5\n"))[0].1,
            update(vec![("x", Change::Respawn(vec!["watchdog_secs"]))])
        );
        let two = "[program:y]\ncommand=sleep 1\n[program:x]\ncommand=sleep 1\n";
        assert_eq!(
            plan_of(two, &format!("{two}depends_on=y\n")),
            vec![(
                "x".into(),
                update(vec![("x", Change::Respawn(vec!["depends_on"]))])
            )]
        );
    }

    #[test]
    fn an_unknown_difference_is_a_respawn() {
        let (old, new) = (
            load("[program:x]\ncommand=sleep 1\n"),
            load("[program:x]\ncommand=sleep 1\n"),
        );
        let a: &ProcessConfig = inner(&old.groups[0].processes[0]);
        let mut b = a.clone();
        b.program_name = "renamed".into();
        assert_eq!(
            process_change(a, &b, false),
            Some(Change::Respawn(vec!["other"]))
        );
        assert_eq!(process_change(a, &new.groups[0].processes[0], false), None);
    }
}
