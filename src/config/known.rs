//! The table of known sections and keys, used to warn (never fail) about typos such as
//! `autorestrat=`, which 4.3 silently ignores (README C4), and about sections merged because
//! they were given twice; keys of known plugins get one INFO line instead.

use super::ini::Ini;
use crate::pyrepr::repr;

const SUPERVISORD: &[&str] = &[
    "logfile",
    "logfile_maxbytes",
    "logfile_backups",
    "loglevel",
    "pidfile",
    "umask",
    "nodaemon",
    "silent",
    "minfds",
    "minprocs",
    "nocleanup",
    "childlogdir",
    "user",
    "directory",
    "strip_ansi",
    "environment",
    "environment_file",
    "log_prefix",
    "log_timestamps",
    "identifier",
    "profile_options",
    "event_drain_secs",
    "exit_on_fatal",
];

const UNIX_SERVER: &[&str] = &["file", "chmod", "chown", "username", "password"];
const INET_SERVER: &[&str] = &["port", "username", "password"];
const SUPERVISORCTL: &[&str] = &[
    "serverurl",
    "username",
    "password",
    "prompt",
    "history_file",
];
const INCLUDE: &[&str] = &["files"];
const GROUP: &[&str] = &["programs", "priority"];

const PROGRAM: &[&str] = &[
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "startsecs",
    "startretries",
    "autorestart",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "environment_file",
    "log_prefix",
    "log_timestamps",
    "directory",
    "umask",
    "serverurl",
    "essential",
    "depends_on",
    "depends_on_restart",
    "backoff",
    "backoff_max_secs",
    "backoff_jitter",
    "retry_forever",
    "restart_delay_secs",
    "ready",
    "watchdog_secs",
    "healthcheck",
    "healthcheck_interval",
    "healthcheck_timeout",
    "healthcheck_retries",
    "healthcheck_start_period",
    "healthcheck_action",
];

const FCGI_EXTRA: &[&str] = &["socket", "socket_backlog", "socket_owner", "socket_mode"];
const LISTENER_EXTRA: &[&str] = &[
    "events",
    "buffer_size",
    "result_handler",
    "handler",
    "max_retry",
];

/// The keys a section accepts; `Ok(None)` for sections whose every key is meaningful (factory
/// keyword arguments), `Err(())` for a section supervisord does not know.
fn keys_for(section: &str) -> Result<Option<Vec<&'static str>>, ()> {
    let list = |parts: &[&[&'static str]]| Ok(Some(parts.concat()));
    if section == "supervisord" {
        list(&[SUPERVISORD])
    } else if section.starts_with("unix_http_server") {
        list(&[UNIX_SERVER])
    } else if section.starts_with("inet_http_server") {
        list(&[INET_SERVER])
    } else if section == "supervisorctl" {
        list(&[SUPERVISORCTL])
    } else if section == "include" {
        list(&[INCLUDE])
    } else if section.starts_with("group:") {
        list(&[GROUP])
    } else if section.starts_with("program:") {
        list(&[PROGRAM])
    } else if section.starts_with("fcgi-program:") {
        list(&[PROGRAM, FCGI_EXTRA])
    } else if section.starts_with("eventlistener:") {
        list(&[PROGRAM, LISTENER_EXTRA])
    } else if section.starts_with("rpcinterface:") || section.starts_with("ctlplugin:") {
        Ok(None)
    } else {
        Err(())
    }
}

/// Keys that well-known third-party plugins read from program sections themselves (by key
/// prefix); supervisord ignores them. Every program of a setup that uses such a plugin has
/// them, so they get one INFO line rather than a warning per key and program on every start.
const PLUGIN_KEYS: &[(&str, &str)] = &[
    // https://github.com/bendikro/supervisord-dependent-startup: dependent_startup,
    // dependent_startup_wait_for, dependent_startup_inherit_priority.
    ("supervisord-dependent-startup", "dependent_startup"),
];

/// What the table finds in a configuration: WARN lines for unknown sections, unknown keys of
/// known sections (a `[DEFAULT]` key is unknown only if no section type knows it) and merged
/// duplicate sections; INFO lines for plugin keys.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

pub fn check(ini: &Ini) -> Findings {
    let mut out = Findings::default();
    let mut plugins = PluginKeys::default();
    for sec in ini.sections() {
        for again in &sec.repeats {
            out.warnings.push(format!(
                "Duplicate section {} (file: {}, line: {}) is merged into the first one \
                 (file: {}, line: {}): a key set in both takes the later value",
                repr(&sec.name),
                repr(&again.file),
                again.line,
                repr(&sec.loc.file),
                sec.loc.line
            ));
        }
        match keys_for(&sec.name) {
            Err(()) => out.warnings.push(format!(
                "Unknown section {} (file: {}, line: {})",
                repr(&sec.name),
                repr(&sec.loc.file),
                sec.loc.line
            )),
            Ok(None) => {}
            Ok(Some(known)) => {
                for (key, entry) in sec.entries() {
                    if !known.contains(&key) && !plugins.take(key, &sec.name) {
                        out.warnings.push(format!(
                            "Unknown key {} in section {} (file: {}, line: {})",
                            repr(key),
                            repr(&sec.name),
                            repr(&entry.loc.file),
                            entry.loc.line
                        ));
                    }
                }
            }
        }
    }
    let all: Vec<&[&str]> = vec![
        SUPERVISORD,
        UNIX_SERVER,
        INET_SERVER,
        SUPERVISORCTL,
        INCLUDE,
        GROUP,
        PROGRAM,
        FCGI_EXTRA,
        LISTENER_EXTRA,
    ];
    for (key, entry) in ini.defaults() {
        if !all.iter().any(|l| l.contains(&key)) && !plugins.take(key, "DEFAULT") {
            out.warnings.push(format!(
                "Unknown key {} in section 'DEFAULT' (file: {}, line: {})",
                repr(key),
                repr(&entry.loc.file),
                entry.loc.line
            ));
        }
    }
    for (plugin, keys, sections) in plugins.0 {
        let keys: Vec<String> = keys.iter().map(|k| repr(k)).collect();
        let n = sections.len();
        out.infos.push(format!(
            "Ignoring the keys of the {plugin} plugin (read by the plugin, not by \
             supervisord): {} in {n} section{}",
            keys.join(", "),
            if n == 1 { "" } else { "s" }
        ));
    }
    out
}

/// Plugin keys seen so far, per plugin: its keys and the sections that set them, in order.
#[derive(Default)]
struct PluginKeys<'a>(Vec<(&'static str, Vec<&'a str>, Vec<&'a str>)>);

impl<'a> PluginKeys<'a> {
    /// Records `key` if it is a plugin's; false if it is not.
    fn take(&mut self, key: &'a str, section: &'a str) -> bool {
        let Some(&(plugin, _)) = PLUGIN_KEYS.iter().find(|(_, p)| key.starts_with(p)) else {
            return false;
        };
        let i = match self.0.iter().position(|(p, _, _)| *p == plugin) {
            Some(i) => i,
            None => {
                self.0.push((plugin, Vec::new(), Vec::new()));
                self.0.len() - 1
            }
        };
        let (_, keys, sections) = &mut self.0[i];
        if !keys.contains(&key) {
            keys.push(key);
        }
        if !sections.contains(&section) {
            sections.push(section);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_about_typos_and_unknown_sections() {
        let mut ini = Ini::new();
        ini.read_str(
            "[DEFAULT]\nstartsecs=1\nbogus=1\n[supervisord]\nlogfile=x\n[program:x]\ncommand=c\n\
             autorestrat=true\n[Program:y]\n[supervisorctl]\nprompt=p\n[ctlplugin:z]\n\
             supervisor.ctl_factory=a:b\nx=1\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory=a\n\
             [eventlistener:l]\nhandler=standard\nmax_retry=2\n[fcgi-program:f]\nsocket=x\n\
             [inet_http_serverX]\nport=1\n",
            "/c.conf",
        )
        .unwrap();
        assert_eq!(
            check(&ini).warnings,
            vec![
                "Unknown key 'autorestrat' in section 'program:x' (file: '/c.conf', line: 8)",
                "Unknown section 'Program:y' (file: '/c.conf', line: 9)",
                "Unknown key 'bogus' in section 'DEFAULT' (file: '/c.conf', line: 3)",
            ]
        );
    }

    #[test]
    fn duplicate_sections_are_merged_with_a_warning() {
        let mut ini = Ini::new();
        ini.read_str(
            "[program:a]\ncommand=x\n[program:b]\ncommand=y\n",
            "/one.conf",
        )
        .unwrap();
        ini.read_str("[program:a]\ncommand=z\n", "/two.conf")
            .unwrap();
        assert_eq!(
            check(&ini).warnings,
            vec![
                "Duplicate section 'program:a' (file: '/two.conf', line: 1) is merged into the \
                 first one (file: '/one.conf', line: 1): a key set in both takes the later value"
            ]
        );
    }

    /// supervisord-dependent-startup's keys in every program: one INFO line, no warnings.
    #[test]
    fn plugin_keys_get_one_line() {
        let mut ini = Ini::new();
        let mut text = String::from("[DEFAULT]\ndependent_startup_inherit_priority=true\n");
        for n in 0..5 {
            text.push_str(&format!(
                "[program:p{n}]\ncommand=c\ndependent_startup=true\n\
                 dependent_startup_wait_for=p0:running\nautorestrat=1\n"
            ));
        }
        ini.read_str(&text, "/c.conf").unwrap();
        let found = check(&ini);
        assert_eq!(found.warnings.len(), 5, "{:?}", found.warnings);
        assert!(found.warnings.iter().all(|w| w.contains("'autorestrat'")));
        assert_eq!(
            found.infos,
            vec![
                "Ignoring the keys of the supervisord-dependent-startup plugin (read by the \
                 plugin, not by supervisord): 'dependent_startup', 'dependent_startup_wait_for', \
                 'dependent_startup_inherit_priority' in 6 sections"
            ]
        );
    }
}
