//! The table of known sections and keys, used to warn (never fail) about typos such as
//! `autorestrat=`, which 4.3 silently ignores (README C4).

use super::ini::Ini;
use super::pyrepr::repr;

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
    "identifier",
    "profile_options",
    "event_drain_secs",
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
    "directory",
    "umask",
    "serverurl",
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

/// WARN messages for unknown sections, and for unknown keys of known sections (a `[DEFAULT]`
/// key is unknown only if no section type knows it).
pub fn unknown_warnings(ini: &Ini) -> Vec<String> {
    let mut out = Vec::new();
    for sec in ini.sections() {
        match keys_for(&sec.name) {
            Err(()) => out.push(format!(
                "Unknown section {} (file: {}, line: {})",
                repr(&sec.name),
                repr(&sec.loc.file),
                sec.loc.line
            )),
            Ok(None) => {}
            Ok(Some(known)) => {
                for (key, entry) in sec.entries() {
                    if !known.contains(&key) {
                        out.push(format!(
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
        if !all.iter().any(|l| l.contains(&key)) {
            out.push(format!(
                "Unknown key {} in section 'DEFAULT' (file: {}, line: {})",
                repr(key),
                repr(&entry.loc.file),
                entry.loc.line
            ));
        }
    }
    out
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
            unknown_warnings(&ini),
            vec![
                "Unknown key 'autorestrat' in section 'program:x' (file: '/c.conf', line: 8)",
                "Unknown section 'Program:y' (file: '/c.conf', line: 9)",
                "Unknown key 'bogus' in section 'DEFAULT' (file: '/c.conf', line: 3)",
            ]
        );
    }
}
