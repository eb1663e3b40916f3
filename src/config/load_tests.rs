//! Tests of `load()` on whole files: defaults, expansion names per key, groups and their order,
//! listeners, fcgi sockets, servers, includes, overrides, warnings, and error locations.

use std::path::{Path, PathBuf};

use super::model::*;
use super::{load, ConfigError};
use crate::testutil::TempDir;

/// Writes `text` as supervisord.conf in a fresh temp dir and loads it.
fn load_text(text: &str) -> (TempDir, String, Result<Config, ConfigError>) {
    load_with(text, &Overrides::default())
}

fn load_with(text: &str, o: &Overrides) -> (TempDir, String, Result<Config, ConfigError>) {
    let t = TempDir::new("config");
    let path = t.write("supervisord.conf", text);
    let r = load(Path::new(&path), o);
    (t, path, r)
}

fn ok(text: &str) -> (TempDir, Config) {
    let (t, _, r) = load_text(text);
    match r {
        Ok(c) => (t, c),
        Err(e) => panic!("unexpected error: {e}\n--- config ---\n{text}"),
    }
}

/// The error text, with the temp file's path replaced by `F`.
fn err(text: &str) -> String {
    let (_t, path, r) = load_text(text);
    match r {
        Ok(_) => panic!("expected an error for\n{text}"),
        Err(e) => e.0.replace(&path, "F"),
    }
}

fn group<'a>(c: &'a Config, name: &str) -> &'a GroupConfig {
    c.groups
        .iter()
        .find(|g| g.name == name)
        .expect("group exists")
}

fn warnings(c: &Config) -> Vec<String> {
    c.startup_messages
        .iter()
        .filter(|(l, _)| *l == LogLevel::Warn)
        .map(|(_, m)| m.clone())
        .collect()
}

#[test]
fn missing_supervisord_section() {
    assert_eq!(
        err("[program:x]\ncommand=c\n"),
        ".ini file does not include supervisord section"
    );
}

#[test]
fn supervisord_defaults() {
    let (_t, c) = ok("[supervisord]\n");
    let s = &c.supervisord;
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(s.logfile, MainLogTarget::File(cwd.join("supervisord.log")));
    assert_eq!(s.pidfile, cwd.join("supervisord.pid"));
    assert_eq!(s.logfile_maxbytes, 50 * 1024 * 1024);
    assert_eq!(s.logfile_backups, 10);
    assert_eq!(s.loglevel, LogLevel::Info);
    assert_eq!(s.umask, 0o22);
    assert!(!s.nodaemon && !s.silent && !s.nocleanup && !s.strip_ansi);
    assert_eq!((s.minfds, s.minprocs), (1024, 200));
    assert!(s.childlogdir.is_dir());
    assert_eq!(s.user, None);
    assert_eq!(s.directory, None);
    assert_eq!(s.identifier, "supervisor");
    assert_eq!(s.event_drain_secs, 5);
    assert!(c.groups.is_empty() && c.unix_servers.is_empty() && c.inet_servers.is_empty());
    assert!(c.path.is_absolute());
}

#[test]
fn supervisord_values_and_paths() {
    let t = TempDir::new("config");
    let dir = t.path_str();
    t.mkdir("sub");
    let text = format!(
        "[supervisord]\nlogfile=%(here)s/sub/../main.log\npidfile=/tmp/x.pid\nloglevel=DEBUG\n\
         umask=077\nnodaemon=true\nminfds=10\nchildlogdir={dir}\ndirectory={dir}\n\
         identifier=id\nlogfile_maxbytes=1KB\nevent_drain_secs=0\nenvironment=A=1,B=\"x y\"\n"
    );
    let path = t.write("s.conf", &text);
    let c = load(Path::new(&path), &Overrides::default()).unwrap();
    let s = &c.supervisord;
    assert_eq!(
        s.logfile,
        MainLogTarget::File(PathBuf::from(format!("{dir}/main.log")))
    );
    assert_eq!(s.loglevel, LogLevel::Debug);
    assert_eq!(s.umask, 0o77);
    assert!(s.nodaemon);
    assert_eq!(s.minfds, 10);
    assert_eq!(s.childlogdir, PathBuf::from(&dir));
    assert_eq!(s.directory, Some(PathBuf::from(&dir)));
    assert_eq!(s.identifier, "id");
    assert_eq!(s.logfile_maxbytes, 1024);
    assert_eq!(s.event_drain_secs, 0);
    assert_eq!(
        s.environment,
        vec![
            ("A".to_string(), "1".to_string()),
            ("B".to_string(), "x y".to_string())
        ]
    );
    let (_t, c) = ok("[supervisord]\nlogfile=syslog\n");
    assert_eq!(c.supervisord.logfile, MainLogTarget::Syslog);
}

#[test]
fn supervisord_errors_are_located() {
    assert_eq!(
        err("[supervisord]\nchildlogdir=/nonexistent\n"),
        "/nonexistent is not an existing directory in section 'supervisord' (file: 'F', line: 2, \
         key: 'childlogdir')"
    );
    assert_eq!(
        err("[supervisord]\n\nloglevel=verbose\n"),
        "bad logging level name 'verbose' in section 'supervisord' (file: 'F', line: 3, key: \
         'loglevel')"
    );
    // minfds is checked before loglevel, as in 4.3.
    assert!(err("[supervisord]\nloglevel=x\nminfds=y\n").contains("key: 'minfds'"));
    assert!(err("[supervisord]\nevent_drain_secs=-1\n").contains("key: 'event_drain_secs'"));
    assert!(err("[supervisord]\nenvironment=A=$HOME\n").contains("key: 'environment'"));
}

#[test]
fn supervisord_environment_expanded_once_with_host_node_name() {
    let (_t, c) = ok("[supervisord]\nenvironment=A=\"100%%\",H=%(host_node_name)s,D=%(here)s\n");
    let env = &c.supervisord.environment;
    assert_eq!(env[0], ("A".to_string(), "100%".to_string()));
    assert_eq!(env[1].1, super::host_node_name());
    assert!(!env[2].1.is_empty());
}

#[test]
fn parser_errors_come_first() {
    assert_eq!(
        err("[supervisord]\nbad\n"),
        "Source contains parsing errors: 'F'\n\t[line  2]: 'bad\\n'"
    );
    assert_eq!(
        err("x=1\n"),
        "File contains no section headers.\nfile: 'F', line: 1\n'x=1\\n'"
    );
}

#[test]
fn program_defaults() {
    let (_t, c) = ok("[supervisord]\n[program:web]\ncommand=/bin/web --port 80\n");
    let g = group(&c, "web");
    assert_eq!((g.priority, &g.kind), (999, &GroupKind::Program));
    let p = &g.processes[0];
    assert_eq!(p.name, "web");
    assert_eq!(p.program_name, "web");
    assert_eq!(p.command, "/bin/web --port 80");
    assert_eq!(p.directory, None);
    assert_eq!(p.umask, None);
    assert_eq!(p.priority, 999);
    assert!(p.autostart);
    assert_eq!(p.autorestart, AutoRestart::Unexpected);
    assert_eq!((p.startsecs, p.startretries, p.stopwaitsecs), (1, 3, 10));
    assert_eq!(p.exitcodes, vec![0]);
    assert_eq!(p.stopsignal, 15);
    assert!(!p.stopasgroup && !p.killasgroup && !p.redirect_stderr);
    assert_eq!(p.user, None);
    let auto = ChannelConfig {
        logfile: LogFile::Auto,
        maxbytes: 50 * 1024 * 1024,
        backups: 10,
        capture_maxbytes: 0,
        events_enabled: false,
        syslog: false,
    };
    assert_eq!(p.stdout, auto);
    assert_eq!(p.stderr, auto);
    assert!(p.environment.is_empty());
    assert_eq!(p.serverurl, None);
}

#[test]
fn program_values() {
    let (_t, c) = ok(
        "[supervisord]\n[program:x]\ncommand=c\n  --flag\nautostart=false\n\
                      autorestart=true\nexitcodes=0,2\nstopsignal=KILL\nstopasgroup=true\n\
                      umask=002\ndirectory=/nowhere\nuser=root\nserverurl=http://h:1\n\
                      stdout_logfile=NONE\nstderr_logfile=/tmp/e.log\nstderr_syslog=true\n\
                      stdout_capture_maxbytes=1KB\nstdout_events_enabled=yes\n\
                      environment=A=1,B=2\n",
    );
    let p = &group(&c, "x").processes[0];
    assert_eq!(p.command, "c\n--flag");
    assert!(!p.autostart);
    assert_eq!(p.autorestart, AutoRestart::Always);
    assert_eq!(p.exitcodes, vec![0, 2]);
    assert_eq!(p.stopsignal, 9);
    assert!(
        p.stopasgroup && p.killasgroup,
        "killasgroup defaults to stopasgroup"
    );
    assert_eq!(p.umask, Some(2));
    assert_eq!(p.directory.as_deref(), Some("/nowhere"));
    assert_eq!(p.user.as_ref().map(|u| u.uid), Some(0));
    assert_eq!(p.serverurl.as_deref(), Some("http://h:1"));
    assert_eq!(p.stdout.logfile, LogFile::None);
    assert_eq!(
        (p.stdout.capture_maxbytes, p.stdout.events_enabled),
        (1024, true)
    );
    assert_eq!(p.stderr.logfile, LogFile::Path("/tmp/e.log".into()));
    assert!(p.stderr.syslog);
    assert_eq!(p.environment.len(), 2);
    let (_t, c) = ok("[supervisord]\n[program:x]\ncommand=c\nserverurl= auto \n");
    assert_eq!(group(&c, "x").processes[0].serverurl, None);
}

#[test]
fn program_errors_name_file_line_section_and_key() {
    assert_eq!(
        err("[supervisord]\n[program:x]\ncommand=c\nstartsecs=abc\n"),
        "invalid literal for int() with base 10: 'abc' in section 'program:x' (file: 'F', line: \
         4, key: 'startsecs')"
    );
    assert_eq!(
        err("[supervisord]\n[program:x]\ncommand=c\nautorestart=sometimes\n"),
        "invalid 'autorestart' value 'sometimes' in section 'program:x' (file: 'F', line: 4, \
         key: 'autorestart')"
    );
    assert_eq!(
        err("[supervisord]\n[program:x]\ncommand=c\nstopsignal=FOO\n"),
        "value 'FOO' is not a valid signal name in section 'program:x' (file: 'F', line: 4, \
         key: 'stopsignal')"
    );
    assert_eq!(
        err("[supervisord]\n[program:x]\ncommand=c\nuser=nosuchuser\n"),
        "Invalid user name nosuchuser in section 'program:x' (file: 'F', line: 4, key: 'user')"
    );
    assert_eq!(
        err("[supervisord]\n[program:x]\ncommand=c\nstdout_logfile=/nonexistent/dir/x.log\n"),
        "The directory named as part of the path /nonexistent/dir/x.log does not exist in \
         section 'program:x' (file: 'F', line: 4, key: 'stdout_logfile')"
    );
    assert_eq!(
        err("[supervisord]\n\n[program:x]\nautostart=true\n"),
        "program section program:x does not specify a command in section 'program:x' (file: \
         'F', line: 3)"
    );
    assert_eq!(
        err("[supervisord]\n[program:x y]\ncommand=c\n"),
        "Invalid name: 'x y' because of character: ' ' in section 'program:x y' (file: 'F', \
         line: 2)"
    );
    assert_eq!(
        err("[supervisord]\n[program:x]\ncommand=c\nstopasgroup=true\nkillasgroup=false\n"),
        "Cannot set stopasgroup=true and killasgroup=false in section 'program:x' (file: 'F', \
         line: 5, key: 'killasgroup')"
    );
    assert_eq!(
        err("[supervisord]\n[program:x]\ncommand=c\nnumprocs=2\n"),
        "%(process_num) must be present within process_name when numprocs > 1 in section \
         'program:x' (file: 'F', line: 4, key: 'numprocs')"
    );
    assert!(
        err("[supervisord]\n[program:x]\ncommand=c\nprocess_name=a:b\n")
            .ends_with("(file: 'F', line: 4, key: 'process_name')")
    );
    assert!(
        err("[supervisord]\n[program:x]\ncommand=c\nenvironment=A=x y\n")
            .ends_with("(file: 'F', line: 4, key: 'environment')")
    );
}

#[test]
fn user_group_extension_in_program() {
    let (_t, c) = ok("[supervisord]\n[program:x]\ncommand=c\nuser=root:daemon\n");
    let u = group(&c, "x").processes[0].user.clone().unwrap();
    assert_eq!((u.uid, u.gid, u.spec.as_str()), (0, 1, "root:daemon"));
    assert!(u.groups.contains(&0));
    assert_eq!(
        err("[supervisord]\n[program:x]\ncommand=c\nuser=root:nosuchgroup_xyz\n"),
        "Invalid group name nosuchgroup_xyz in section 'program:x' (file: 'F', line: 4, key: \
         'user')"
    );
}

#[test]
fn numprocs_naming_and_order() {
    let (_t, c) = ok(
        "[supervisord]\n[program:w]\ncommand=run %(process_num)d of %(numprocs)d\n\
                      process_name=%(program_name)s_%(process_num)02d\nnumprocs=3\n\
                      numprocs_start=1\n",
    );
    let names: Vec<&str> = group(&c, "w")
        .processes
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, vec!["w_01", "w_02", "w_03"]);
    assert_eq!(group(&c, "w").processes[0].command, "run 1 of 3");

    // Sorted by (priority, name), so _10 comes before _2, as in 4.3.
    let (_t, c) = ok("[supervisord]\n[program:x]\ncommand=c\nnumprocs=11\n\
                      process_name=x_%(process_num)d\n");
    let names: Vec<&str> = group(&c, "x")
        .processes
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(&names[..4], &["x_0", "x_1", "x_10", "x_2"]);

    // numprocs=0: an empty group, and no command needed.
    let (_t, c) = ok("[supervisord]\n[program:x]\nnumprocs=0\n");
    assert!(group(&c, "x").processes.is_empty());
}

#[test]
fn per_key_expansion_names() {
    let home = std::env::var("HOME").unwrap_or_default();
    let (_t, c) = ok("[supervisord]\nenvironment=GLOBAL=g,N=4\n[program:x]\n\
                      command=%(here)s %(program_name)s %(group_name)s %(host_node_name)s \
                      %(ENV_HOME)s %(ENV_GLOBAL)s %(ENV_OWN)s %(process_num)x\n\
                      environment=OWN=o%(process_num)d\nstartretries=%(ENV_N)s\n\
                      directory=/d/%(ENV_OWN)s\n");
    let p = &group(&c, "x").processes[0];
    let here = c.path.parent().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        p.command,
        format!("{here} x x {} {home} g o0 0", super::host_node_name())
    );
    assert_eq!(p.directory.as_deref(), Some("/d/o0"));
    assert_eq!(p.environment, vec![("OWN".to_string(), "o0".to_string())]);
    assert_eq!(p.startretries, 4);
}

#[test]
fn once_per_section_keys_do_not_see_process_num() {
    let e = err("[supervisord]\n[program:x]\ncommand=c\npriority=%(process_num)d\n");
    assert!(
        e.starts_with(
            "Format string '%(process_num)d' for 'program:x.priority' contains names \
                       ('process_num') which cannot be expanded."
        ),
        "{e}"
    );
    assert!(
        e.ends_with("in section 'program:x' (file: 'F', line: 4, key: 'priority')"),
        "{e}"
    );
    let e = err("[supervisord]\n[program:x]\ncommand=c\nstartsecs=%(process_num)d\n");
    assert!(e.contains("('process_num')"), "{e}");
    // The group-level read of priority only sees here and ENV_*.
    let e = err("[supervisord]\n[program:x]\ncommand=c\npriority=%(program_name)s\n");
    assert!(e.contains("('program_name')"), "{e}");
}

#[test]
fn logfiles_are_expanded_twice() {
    let e = err("[supervisord]\n[program:x]\ncommand=c\nstdout_logfile=/tmp/%%.log\n");
    assert!(
        e.starts_with("Format string '/tmp/%.log' for 'stdout_logfile' is badly formatted"),
        "{e}"
    );
    let (_t, c) = ok("[supervisord]\n[program:x]\ncommand=c\nstdout_logfile=/tmp/%%%%.log\n");
    assert_eq!(
        group(&c, "x").processes[0].stdout.logfile,
        LogFile::Path("/tmp/%.log".into())
    );
    let e = err("[supervisord]\n[program:x]\ncommand=/bin/echo %s\n");
    assert!(e.contains("format requires a mapping key"), "{e}");
}

#[test]
fn startup_warnings() {
    let (_t, c) = ok(
        "[supervisord]\n[program:p]\ncommand=c\nstdout_logfile_maxbytes=0\n\
                      redirect_stderr=true\nstderr_logfile=/tmp/e.log\n[program:s]\ncommand=c\n\
                      stdout_logfile=syslog\nautorestrat=true\n",
    );
    assert_eq!(
        warnings(&c),
        vec![
            "Unknown key 'autorestrat' in section 'program:s' (file: '".to_string()
                + &c.path.to_string_lossy()
                + "', line: 10)",
            "For [program:p], AUTO logging used for stdout_logfile without rollover, set maxbytes \
             > 0 to avoid filling up filesystem unintentionally"
                .to_string(),
            "For [program:p], redirect_stderr=true but stderr_logfile has also been set to a \
             filename, the filename has been ignored"
                .to_string(),
            "For [program:s], stdout_logfile=syslog but this is deprecated and will be removed.  \
             Use stdout_syslog=true to enable syslog instead."
                .to_string(),
        ]
    );
    let p = &group(&c, "p").processes[0];
    assert_eq!(p.stderr.logfile, LogFile::None);
    let s = &group(&c, "s").processes[0];
    assert_eq!(
        (s.stdout.logfile.clone(), s.stdout.syslog),
        (LogFile::None, true)
    );
}

#[test]
fn default_section_changes_defaults() {
    let (_t, c) = ok(
        "[DEFAULT]\nstartsecs=7\n[supervisord]\n[program:a]\ncommand=a\n\
                      [program:b]\ncommand=b\nstartsecs=2\n",
    );
    assert_eq!(group(&c, "a").processes[0].startsecs, 7);
    assert_eq!(group(&c, "b").processes[0].startsecs, 2);
    assert!(warnings(&c).is_empty(), "{:?}", warnings(&c));
}

#[test]
fn groups_sorted_and_heterogeneous_order() {
    let (_t, c) = ok(
        "[supervisord]\n[program:x]\ncommand=x\n[program:a]\ncommand=a\n\
                      priority=5\n[eventlistener:l]\ncommand=l\nevents=TICK_5\n[group:g]\n\
                      programs=p2,p1\n[program:p1]\ncommand=p1\npriority=1\n[program:p2]\n\
                      command=p2 %(group_name)s %(program_name)s\n",
    );
    let order: Vec<(&str, i64)> = c
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.priority))
        .collect();
    assert_eq!(order, vec![("l", -1), ("a", 5), ("g", 999), ("x", 999)]);
    let g = group(&c, "g");
    let procs: Vec<(&str, &str)> = g
        .processes
        .iter()
        .map(|p| (p.name.as_str(), p.command.as_str()))
        .collect();
    assert_eq!(procs, vec![("p2", "p2 g p2"), ("p1", "p1")]);
}

#[test]
fn group_errors() {
    assert_eq!(
        err("[supervisord]\n[group:g]\nprograms=a,zzz\n[program:a]\ncommand=a\n"),
        "[group:g] names unknown program or fcgi-program 'zzz' in section 'group:g' (file: 'F', \
         line: 3, key: 'programs')"
    );
    assert!(err(
        "[supervisord]\n[group:g]\nprograms=a\n[program:a]\ncommand=a\n\
                 [fcgi-program:a]\ncommand=a\nsocket=tcp://h:1\n"
    )
    .starts_with("[group:g] name a is ambiguous (exists as program and fcgi-program)"));
    let e = err(
        "[supervisord]\n[group:g]\nprograms=a\n[group:h]\nprograms=a\n[program:a]\n\
                 command=a\n",
    );
    assert!(
        e.starts_with("[group:h] names a, which already belongs to [group:g]"),
        "{e}"
    );
    assert!(e.ends_with("(file: 'F', line: 5, key: 'programs')"), "{e}");
    // Named twice in one group: one process, as in Supervisor, and a warning.
    let (_t, c) = ok("[supervisord]\n[group:g]\nprograms=a,a\n[program:a]\ncommand=a\n");
    let g = c.groups.iter().find(|g| g.name == "g").unwrap();
    assert_eq!(g.processes.len(), 1);
    assert!(c
        .startup_messages
        .iter()
        .any(|(_, m)| m == "[group:g] names a twice; once is enough"));
}

#[test]
fn eventlistener_pools() {
    let (_t, c) = ok("[supervisord]\n[eventlistener:l]\ncommand=l\n\
                      events=process_state, TICK_5,PROCESS_STATE\nbuffer_size=3\n\
                      handler=command\nmax_retry=4\n");
    let g = group(&c, "l");
    assert_eq!(g.priority, -1);
    assert_eq!(g.processes[0].priority, 999);
    let GroupKind::EventListener(pool) = &g.kind else {
        panic!("not a pool")
    };
    assert_eq!(pool.events, vec!["PROCESS_STATE", "TICK_5"]);
    assert_eq!((pool.buffer_size, pool.max_retry), (3, 4));
    assert_eq!(pool.result_handler, "command");

    let (_t, c) = ok("[supervisord]\n[eventlistener:l]\ncommand=l\nevents=\
                      PROCESS_STATE_CHANGE_EXITED_UNEXPECTEDLY\npriority=3\n");
    let GroupKind::EventListener(pool) = &group(&c, "l").kind else {
        panic!("not a pool")
    };
    assert_eq!(
        pool.result_handler,
        "supervisor.dispatchers:default_handler"
    );
    assert_eq!(pool.max_retry, 0);
    assert_eq!(group(&c, "l").priority, 3);
}

#[test]
fn eventlistener_errors() {
    assert_eq!(
        err("[supervisord]\n[eventlistener:l]\ncommand=l\n"),
        "[eventlistener:l] section requires an \"events\" line in section 'eventlistener:l' \
         (file: 'F', line: 2)"
    );
    assert_eq!(
        err("[supervisord]\n[eventlistener:l]\ncommand=l\nevents=TICK_5,TOCK\n"),
        "Unknown event type TOCK in [eventlistener:l] events in section 'eventlistener:l' \
         (file: 'F', line: 4, key: 'events')"
    );
    assert!(
        err("[supervisord]\n[eventlistener:l]\ncommand=l\nevents=TICK\nbuffer_size=0\n")
            .starts_with("[eventlistener:l] section sets invalid buffer_size (0) in section")
    );
    assert!(
        err("[supervisord]\n[eventlistener:l]\ncommand=l\nevents=TICK\nredirect_stderr=1\n")
            .starts_with(
                "[eventlistener:l] section sets redirect_stderr=true but this is not allowed"
            )
    );
    let e = err("[supervisord]\n[eventlistener:l]\ncommand=l\nevents=TICK\nresult_handler=a:b\n");
    assert!(
        e.starts_with("a:b cannot be resolved within [eventlistener:l]"),
        "{e}"
    );
    assert!(e.ends_with("key: 'result_handler')"), "{e}");
    assert!(
        err("[supervisord]\n[eventlistener:l]\ncommand=l\nevents=TICK\nmax_retry=-1\n")
            .contains("invalid max_retry (-1)")
    );
}

#[test]
fn fcgi_sockets() {
    let (_t, c) = ok(
        "[supervisord]\n[fcgi-program:f]\ncommand=x\nsocket=tcp://LocalHost:009000\n\
                      socket_backlog=5\n",
    );
    let GroupKind::Fcgi(s) = &group(&c, "f").kind else {
        panic!("not fcgi")
    };
    assert_eq!(s.url, "tcp://localhost:9000");
    assert_eq!(
        s.spec,
        SocketSpec::Tcp {
            host: "localhost".into(),
            port: 9000
        }
    );
    assert_eq!((s.owner, s.mode, s.backlog), (None, None, Some(5)));

    let (_t, c) = ok("[supervisord]\n[fcgi-program:f]\ncommand=x\n\
                      socket=unix:///tmp/../tmp/%(program_name)s.sock\nsocket_owner=root:daemon\n");
    let GroupKind::Fcgi(s) = &group(&c, "f").kind else {
        panic!("not fcgi")
    };
    assert_eq!(s.url, "unix:///tmp/f.sock");
    assert_eq!(
        s.spec,
        SocketSpec::Unix {
            path: "/tmp/f.sock".into()
        }
    );
    assert_eq!(
        s.owner,
        Some(Owner {
            uid: Some(0),
            gid: Some(1)
        })
    );
    assert_eq!(s.mode, Some(0o700));
}

#[test]
fn fcgi_errors() {
    assert_eq!(
        err("[supervisord]\n[fcgi-program:f]\ncommand=x\nsocket=unix://rel\n"),
        "Unix socket path rel is not an absolute path in [fcgi-program:f] socket in section \
         'fcgi-program:f' (file: 'F', line: 4, key: 'socket')"
    );
    assert!(
        err("[supervisord]\n[fcgi-program:f]\ncommand=x\nsocket=udp://h:1\n")
            .starts_with("Bad socket format udp://h:1 in [fcgi-program:f] socket")
    );
    assert!(err(
        "[supervisord]\n[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\nsocket_mode=0600\n"
    )
    .starts_with(
        "socket_owner and socket_mode params should only be used with a Unix domain \
                      socket in [fcgi-program:f] socket"
    ));
    assert!(err("[supervisord]\n[fcgi-program:f]\ncommand=x\n")
        .starts_with("[fcgi-program:f] section requires a \"socket\" line"));
    assert!(err(
        "[supervisord]\n[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\nsocket_backlog=0\n"
    )
    .starts_with("Invalid socket_backlog value 0"));
    assert!(err(
        "[supervisord]\n[fcgi-program:f]\ncommand=x\nsocket=unix:///t\nsocket_owner=nouser_x\n"
    )
    .starts_with("Invalid socket_owner value nouser_x"));
    assert!(
        err("[supervisord]\n[fcgi-program:f]\ncommand=x\nsocket=tcp://h:0\n")
            .starts_with("0 is below lower bound (1) in [fcgi-program:f] socket")
    );
}

#[test]
fn fcgi_in_a_group_loses_its_socket_with_a_warning() {
    let (_t, c) = ok(
        "[supervisord]\n[group:g]\nprograms=f\n[fcgi-program:f]\ncommand=x\n\
                      socket=tcp://h:1\n",
    );
    assert_eq!(c.groups.len(), 1);
    assert_eq!(group(&c, "g").kind, GroupKind::Program);
    assert!(warnings(&c)[0].contains("without a FastCGI socket"));
}

#[test]
fn http_servers() {
    let (_t, c) = ok(
        "[supervisord]\n[unix_http_server]\nfile=%(here)s/s.sock\nchown=root:root\n\
                      [inet_http_server]\nport=127.0.0.1:9001\nusername=u\npassword={SHA}x\n\
                      [inet_http_server:two]\nport=9002\n",
    );
    let here = c.path.parent().unwrap().to_path_buf();
    let u = &c.unix_servers[0];
    assert_eq!(
        (u.section.as_str(), &u.file, u.chmod),
        ("unix_http_server", &here.join("s.sock"), 0o700)
    );
    assert_eq!(
        u.chown,
        Some(Owner {
            uid: Some(0),
            gid: Some(0)
        })
    );
    assert_eq!(u.auth, None);
    let i = &c.inet_servers[0];
    assert_eq!((i.host.as_str(), i.port), ("127.0.0.1", 9001));
    assert_eq!(
        i.auth,
        Some(Auth {
            username: "u".into(),
            password: "{SHA}x".into()
        })
    );
    assert_eq!(c.inet_servers[1].host, "");
    let crit: Vec<&str> = c
        .startup_messages
        .iter()
        .filter(|(l, _)| *l == LogLevel::Critical)
        .map(|(_, m)| m.as_str())
        .collect();
    // Logged by the daemon once each server is open, not with the config's messages.
    assert!(crit.is_empty(), "{crit:?}");
}

#[test]
fn http_server_errors_and_empty_username() {
    assert_eq!(
        err("[supervisord]\n[inet_http_server]\nport=9001\nusername=u\n"),
        "Section [inet_http_server] contains incomplete authentication: If a username or a \
         password is specified, both the username and password must be specified in section \
         'inet_http_server' (file: 'F', line: 4, key: 'username')"
    );
    assert_eq!(
        err("[supervisord]\n[inet_http_server]\n"),
        "section [inet_http_server] has no port value in section 'inet_http_server' (file: 'F', \
         line: 2)"
    );
    assert!(err("[supervisord]\n[inet_http_server]\nport=h:\n")
        .starts_with("no port number specified in '' in section"));
    assert!(err("[supervisord]\n[unix_http_server]\n")
        .starts_with("section [unix_http_server] has no file value"));
    assert!(
        err("[supervisord]\n[unix_http_server]\nfile=/tmp/s\nchmod=9\n")
            .starts_with("Invalid chmod value 9 in section")
    );
    assert!(
        err("[supervisord]\n[unix_http_server]\nfile=/tmp/s\nchown=nouser_x\n")
            .starts_with("Invalid sockchown value nouser_x in section")
    );
    let (_t, c) = ok("[supervisord]\n[inet_http_server]\nport=9001\nusername=\npassword=p\n");
    assert_eq!(c.inet_servers[0].auth, None);
    assert!(c.startup_messages.iter().any(|(l, m)| *l == LogLevel::Warn
        && m.starts_with("Server 'inet_http_server' has an empty username")));
}

#[test]
fn rpcinterfaces() {
    let (_t, c) = ok("[supervisord]\n[rpcinterface:supervisor]\n\
                      supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n");
    assert_eq!(c.rpcinterfaces, vec!["supervisor"]);
    let e = err("[supervisord]\n[rpcinterface:x]\nsupervisor.rpcinterface_factory=my.mod:f\n");
    assert!(
        e.starts_with("my.mod:f cannot be resolved within [rpcinterface:x]"),
        "{e}"
    );
    assert_eq!(
        err("[supervisord]\n[rpcinterface:x]\n"),
        "section [rpcinterface:x] does not specify a supervisor.rpcinterface_factory in section \
         'rpcinterface:x' (file: 'F', line: 2)"
    );
}

#[test]
fn includes_and_here_per_file() {
    let t = TempDir::new("config");
    let main = t.write(
        "etc/supervisord.conf",
        "[supervisord]\n[include]\nfiles=conf.d/*.conf missing/*.conf\n",
    );
    let inc = t.write(
        "etc/conf.d/web.conf",
        "[program:web]\ncommand=%(here)s/run\nstartsecs=bad\n",
    );
    let e = load(Path::new(&main), &Overrides::default()).unwrap_err();
    assert_eq!(
        e.0,
        format!(
            "invalid literal for int() with base 10: 'bad' in section 'program:web' (file: \
             '{inc}', line: 3, key: 'startsecs')"
        )
    );
    t.write(
        "etc/conf.d/web.conf",
        "[program:web]\ncommand=%(here)s/run\n",
    );
    let c = load(Path::new(&main), &Overrides::default()).unwrap();
    let root = t.path_str();
    assert_eq!(
        group(&c, "web").processes[0].command,
        format!("{root}/etc/conf.d/run")
    );
    assert_eq!(
        c.startup_messages,
        vec![
            (
                LogLevel::Warn,
                format!("No file matches via include \"{root}/etc/missing/*.conf\"")
            ),
            (
                LogLevel::Info,
                format!("Included extra file \"{root}/etc/conf.d/web.conf\" during parsing")
            ),
        ]
    );
}

#[test]
fn overrides_win() {
    let o = Overrides {
        nodaemon: true,
        loglevel: Some("debug".into()),
        logfile: Some("/tmp/o.log".into()),
        identifier: Some("cli".into()),
        minfds: Some("99".into()),
        ..Overrides::default()
    };
    let (_t, _, r) = load_with("[supervisord]\nloglevel=info\nidentifier=f\n", &o);
    let s = r.unwrap().supervisord;
    assert!(s.nodaemon);
    assert_eq!(s.loglevel, LogLevel::Debug);
    assert_eq!(s.logfile, MainLogTarget::File("/tmp/o.log".into()));
    assert_eq!((s.identifier.as_str(), s.minfds), ("cli", 99));

    // (Their values were checked when the command line was parsed: daemon::options.)
    // The file's values are still checked even when overridden.
    let o = Overrides {
        loglevel: Some("debug".into()),
        ..Overrides::default()
    };
    let (_t, _, r) = load_with("[supervisord]\nloglevel=nope\n", &o);
    assert!(r.is_err());
}

#[test]
fn supervisord_user_is_resolved_last() {
    let (_t, c) = ok("[supervisord]\nuser=root\n");
    assert_eq!(c.supervisord.user.map(|u| u.uid), Some(0));
    // A program error comes before the user error, as in 4.3.
    let e = err("[supervisord]\nuser=nosuchuser\n[program:x]\nstartsecs=x\ncommand=c\n");
    assert!(e.contains("key: 'startsecs'"), "{e}");
    assert_eq!(
        err("[supervisord]\nuser=nosuchuser\n"),
        "Invalid user name nosuchuser in section 'supervisord' (file: 'F', line: 2, key: 'user')"
    );
    let o = Overrides {
        user: Some("nosuchuser".into()),
        ..Overrides::default()
    };
    let (_t, _, r) = load_with("[supervisord]\nuser=alsobad\n", &o);
    assert_eq!(r.unwrap_err().0, "Invalid user name nosuchuser");
}

#[test]
fn duplicate_group_names_keep_the_first() {
    let (_t, c) = ok(
        "[supervisord]\n[program:x]\ncommand=c\n[eventlistener:x]\ncommand=l\n\
                      events=TICK\n",
    );
    assert_eq!(c.groups.len(), 1);
    assert!(matches!(c.groups[0].kind, GroupKind::EventListener(_)));
    assert!(
        warnings(&c)[0].starts_with("[program:x] is ignored"),
        "{:?}",
        warnings(&c)
    );
}

#[test]
fn many_programs_and_a_large_group_load_in_linear_time() {
    // 20,000 programs, half of them in one [group:x]. A scan over all sections per key read
    // or per listed program (as there was) is 10^9 steps here.
    let n = 20_000;
    let mut text = String::from("[supervisord]\n[group:big]\nprograms=");
    let listed: Vec<String> = (0..n / 2).map(|i| format!("p{i}")).collect();
    text.push_str(&listed.join(","));
    text.push('\n');
    for i in 0..n {
        text.push_str(&format!(
            "[program:p{i}]\ncommand=/bin/sleep {i}\nautostart=false\npriority={}\n",
            i % 3
        ));
    }
    let (_t, c) = ok(&text);
    assert_eq!(c.groups.len(), n / 2 + 1);
    assert_eq!(group(&c, "big").processes.len(), n / 2);
    assert_eq!(group(&c, "big").processes[4999].command, "/bin/sleep 4999");
    let order: Vec<(i64, &str)> = c
        .groups
        .iter()
        .map(|g| (g.priority, g.name.as_str()))
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn text_in_memory_loads_as_the_file_holding_it() {
    let t = TempDir::new("config");
    t.write("more.ini", "[program:b]\ncommand=/bin/false\n");
    for text in [
        "[supervisord]\nlogfile=%(here)s/x.log\n[program:a]\ncommand=/bin/true\n\
         [include]\nfiles=*.ini\n",
        "[program:x]\ncommand=c\n",
        "no header\n",
    ] {
        let path = t.write("supervisord.conf", text);
        let path = Path::new(&path);
        let o = Overrides::default();
        assert_eq!(super::load_text(text, path, &o), load(path, &o), "{text}");
    }
}
