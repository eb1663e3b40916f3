//! Carrying out a group's plan from `config::diff` (`supervisor.updateProcessGroup`): the
//! effects on the `Supervisor`. In-place settings go onto the running process; processes to
//! respawn or remove are stopped first (the API waits for that), then replaced, removed or
//! added through the same records `twiddle` uses; the group takes the new configuration.

use super::groups::Group;
use super::supervisor::Supervisor;
use crate::config::diff::{self, Change, GroupPlan};
use crate::config::{GroupConfig, ProcessConfig};
use crate::output::Stream;
use crate::process::{Input, Now, ProcessState};
use std::sync::Arc;

/// One effect of an update, as reported to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    /// Empty for the group itself.
    pub name: String,
    /// `in place`, `restart`, `add`, `remove`, `replace group`, `priority`.
    pub action: &'static str,
    pub changes: Vec<&'static str>,
}

impl Supervisor {
    /// The plan for active group `name` against the configuration read last: None when the
    /// group is not active, not in that configuration, or unchanged.
    pub fn group_update_plan(&self, name: &str) -> Option<GroupPlan> {
        let active = self.group(name)?;
        let pending = self.pending_config();
        let new = pending.groups.iter().find(|g| g.name == name)?;
        let env_changed = *active.global_env != *pending.supervisord.environment
            || self.config.supervisord.environment_files != pending.supervisord.environment_files
            || self.old_env_files.contains(name);
        diff::group_plan(&active.config, new, env_changed)
    }

    /// The new configuration of group `name`'s process `process`, from the last reread.
    pub fn pending_process(&self, group: &str, process: &str) -> Option<ProcessConfig> {
        let g = self
            .pending_config()
            .groups
            .iter()
            .find(|g| g.name == group)?;
        g.processes
            .iter()
            .find(|p| p.name == process)
            .map(|p| ProcessConfig::clone(p))
    }

    /// Applies in-place settings to process `id`: the machine reads its configuration at
    /// every step, the open log files and output channels take theirs now, a changed health
    /// check is re-armed. A new `ready=` waits for the end of a start under way.
    pub fn apply_in_place(&mut self, id: usize, new: &ProcessConfig) {
        // The machine's timers read the configuration (`due`).
        self.due.mark(id);
        let Some(p) = self.process_mut(id) else {
            return;
        };
        let mut cfg = diff::with_in_place(&p.config, new);
        let health_changed = cfg.probe.health != p.config.probe.health;
        p.probe.next_ready = None;
        if p.machine.state() == ProcessState::Starting && cfg.probe.ready != p.config.probe.ready {
            let new_ready = std::mem::replace(&mut cfg.probe.ready, p.config.probe.ready.clone());
            p.probe.next_ready = Some(new_ready);
        }
        let listener = p.listener.is_some();
        for (stream, ch_cfg) in [(Stream::Stdout, &cfg.stdout), (Stream::Stderr, &cfg.stderr)] {
            if let Some(ch) = p.channels.get_mut(stream) {
                if let Some(log) = ch.log.as_mut() {
                    log.set_limits(ch_cfg.maxbytes, ch_cfg.backups);
                }
                // A listener's stdout is its protocol: never PROCESS_LOG events (E14).
                ch.set_events(ch_cfg.events_enabled && !(listener && stream == Stream::Stdout));
            }
        }
        p.config = cfg.into();
        if health_changed {
            self.rearm_health(id, Now::current().mono);
        }
    }

    /// Stops process `id` if it runs; true if it was running (or starting, or in backoff).
    pub fn stop_for_update(&mut self, id: usize) -> bool {
        let running = self
            .process(id)
            .is_some_and(|p| p.machine.state().is_running());
        if running {
            self.apply(id, Input::Stop, Now::current());
        }
        running
    }

    /// Ends a group's update once every process it stopped has stopped: removes, replaces
    /// and adds processes, and gives the group the new configuration (priority, order, the
    /// global environment). `was_running`: respawned processes to start again.
    pub fn finish_group_update(
        &mut self,
        group: &str,
        processes: &[(String, Change)],
        was_running: &[String],
    ) {
        let Some(new) = self
            .pending_config()
            .groups
            .iter()
            .find(|g| g.name == group)
            .map(|g| GroupConfig::clone(g))
        else {
            return;
        };
        for (name, change) in processes {
            match change {
                Change::Remove | Change::Respawn(_) => {
                    if let Err(e) = self.remove_process(group, name) {
                        self.log
                            .warn(&format!("update: {group}:{name} not removed: {e:?}"));
                        continue;
                    }
                }
                _ => continue,
            }
        }
        // New records, in the new configuration's order (twiddle's add refuses taken names).
        for (name, change) in processes {
            if matches!(change, Change::Add | Change::Respawn(_)) {
                if let Some(pc) = self.pending_process(group, name) {
                    if let Err(e) = self.add_processes(group, vec![Arc::new(pc)]) {
                        self.log
                            .warn(&format!("update: {group}:{name} not added: {e:?}"));
                    }
                }
            }
        }
        let pending = &self.pending_config().supervisord;
        let (env, files) = (
            pending.environment.clone(),
            pending.environment_files.clone(),
        );
        if self.config.supervisord.environment_files != files {
            // The other groups' processes were made with the list in use until now.
            let others = self.groups.iter().map(|g| g.config.name.clone());
            self.old_env_files.extend(others);
        }
        self.old_env_files.remove(group);
        self.config.supervisord.environment = env.clone();
        self.config.supervisord.environment_files = files;
        self.set_group_config(group, new, env);
        let now = Now::current();
        for name in was_running {
            if let Some(id) = self.find(group, name) {
                self.apply(id, Input::Start, now);
            }
        }
    }

    /// The group takes `new` (already matching its processes): members in the new order, and
    /// its place in start order as `update` gives a changed group (after those of lower or
    /// equal priority, as `add_group` places one).
    fn set_group_config(&mut self, group: &str, new: GroupConfig, env: Vec<(String, String)>) {
        let Some(g) = self.groups.remove(group) else {
            return;
        };
        let mut members = Vec::with_capacity(g.members.len());
        for pc in &new.processes {
            members.extend(
                g.members
                    .iter()
                    .copied()
                    .find(|&id| self.process(id).is_some_and(|p| p.config.name == pc.name)),
            );
        }
        // A record the new configuration does not know stays, last: never lose a process.
        for &id in &g.members {
            if !members.contains(&id) {
                members.push(id);
            }
        }
        let env: Arc<[(String, String)]> = Arc::from(env);
        self.groups.insert(Group::new(
            Arc::new(new),
            members,
            env,
            g.socket.map(|s| *s),
            g.pool.map(|p| *p),
        ));
        self.groups_changed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::MainLog;
    use crate::testutil::TempDir;

    /// A supervisor with `text`'s groups active; the file is rewritten by the caller.
    fn supervisor(t: &TempDir, text: &str) -> (Supervisor, String) {
        let path = t.write("s.conf", text);
        let o = Default::default();
        let loaded = crate::config::load(std::path::Path::new(&path), &o).expect("config");
        let mut sup = Supervisor::new(loaded.clone(), o, MainLog::new(), Vec::new()).unwrap();
        for g in loaded.groups {
            sup.add_group(g);
        }
        (sup, path)
    }

    #[test]
    fn in_place_settings_reach_the_process_and_the_group() {
        let t = TempDir::new("update-inplace");
        let text = "[supervisord]\n[program:x]\ncommand=/bin/sleep 1\npriority=5\n";
        let (mut sup, _) = supervisor(&t, text);
        t.write(
            "s.conf",
            &text.replace("priority=5", "priority=7\nstartretries=9"),
        );
        sup.reread().unwrap();
        let Some(GroupPlan::Update {
            priority: true,
            processes,
        }) = sup.group_update_plan("x")
        else {
            panic!("no priority update planned");
        };
        let id = sup.find("x", "x").expect("x");
        let new = sup.pending_process("x", "x").expect("pending x");
        sup.apply_in_place(id, &new);
        sup.finish_group_update("x", &processes, &[]);
        assert_eq!(sup.find("x", "x"), Some(id), "the same process record");
        let p = sup.process(id).expect("x");
        assert_eq!((p.config.startretries, p.config.priority), (9, 7));
        assert_eq!(sup.group("x").map(|g| g.config.priority), Some(7));
        assert_eq!(sup.group_update_plan("x"), None);
    }

    #[test]
    fn a_new_environment_file_list_respawns_every_group_one_update_at_a_time() {
        let t = TempDir::new("update-envfile");
        let a = t.write("a.env", "A=1\n");
        let b = t.write("b.env", "B=1\n");
        let text = |f: &str| {
            format!(
                "[supervisord]\nenvironment_file={f}\n[program:x]\ncommand=/bin/sleep 1\n\
                 [program:y]\ncommand=/bin/sleep 1\n"
            )
        };
        let (mut sup, _) = supervisor(&t, &text(&a));
        t.write("s.conf", &text(&b));
        sup.reread().unwrap();
        let respawn = |sup: &Supervisor, g: &str| match sup.group_update_plan(g) {
            Some(GroupPlan::Update { processes, .. }) => processes,
            other => panic!("{g}: {other:?}"),
        };
        let x = respawn(&sup, "x");
        assert_eq!(
            x,
            [(
                "x".to_string(),
                Change::Respawn(vec!["[supervisord] environment"])
            )]
        );
        sup.finish_group_update("x", &x, &[]);
        assert_eq!(sup.group_update_plan("x"), None);
        // y was made with the old list: still to respawn after x took the new one.
        assert_eq!(respawn(&sup, "y").len(), 1);
    }
}
