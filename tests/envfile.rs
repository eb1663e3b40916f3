//! `environment_file=` (issue #20 item 3): systemd EnvironmentFile syntax, precedence against
//! `environment=`, reading at every spawn, spawn errors that name the file but never its text.

mod common;

use common::rpc::{call, get, s, Value};
use common::*;
use std::fs;

const RPC: &str = "[unix_http_server]\nfile={dir}/sock\n\n[rpcinterface:supervisor]\n\
    supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n";

/// Every syntax case of the module header of src/config/envfile.rs, in one file.
const PROGRAM_FILE: &str = "# a comment\n\
    ; another comment\n\
    \n\
    \x20  \n\
    PLAIN=plain value  \n\
    export EXPORTED=yes\n\
    SINGLE='  $HOME \\n \"x\" '\n\
    DOUBLE=\"a \\\"b\\\" \\\\ \\$c\"\n\
    MIXED=one' two'\" three\"\n\
    HASH=x#y\n\
    CONT=first\\\n\
    second\n\
    MULTI='line1\n\
    line2'\n\
    C=pfile\n\
    D=pfile\n";

fn config(dir_marker: &str) -> String {
    format!(
        "environment_file={dir_marker}/global.env\nenvironment=B=genv,C=genv\n\n{RPC}\
         [program:show]\n\
         command=/bin/sh -c 'printf \"%%s|\" \"$A\" \"$B\" \"$C\" \"$D\" \"$PLAIN\" \"$EXPORTED\" \"$SINGLE\" \"$DOUBLE\" \"$MIXED\" \"$HASH\" \"$CONT\" \"$MULTI\" \"$VERSION\"; echo'\n\
         environment_file = {dir_marker}/prog.env, -{dir_marker}/optional-missing.env\n\
         environment=D=penv\n\
         autostart=false\nautorestart=false\nstartsecs=0\n\
         stdout_logfile={dir_marker}/show.log\n\n\
         [program:missing]\ncommand=true\nautostart=false\nstartretries=0\n\
         environment_file={dir_marker}/does-not-exist.env\n\n\
         [program:bad]\ncommand=true\nautostart=false\nstartretries=0\n\
         environment_file={dir_marker}/bad.env\n"
    )
}

fn start_and_wait_exit(d: &Daemon, sock: &std::path::Path, name: &str) {
    let before = d.count(&format!("exited: {name} "));
    call(
        sock,
        "supervisor.startProcess",
        &[s(name), Value::Bool(false)],
    )
    .unwrap();
    d.wait_count(&format!("exited: {name} "), before + 1, 10);
}

#[test]
fn env_files_syntax_precedence_and_reread_at_spawn() {
    let d = Daemon::configure("envfile", "");
    let dir = d.dir.path().display().to_string();
    // The daemon's own environment is the lowest layer: A from it is overridden by global.env.
    fs::write(d.path("global.env"), "A=gfile\nB=gfile\nC=gfile\nD=gfile\n").unwrap();
    fs::write(d.path("prog.env"), format!("{PROGRAM_FILE}VERSION=1\n")).unwrap();
    fs::write(
        d.path("bad.env"),
        "TOKEN=hunter2-secret\nnot an assignment\n",
    )
    .unwrap();
    d.write_conf(&config("{dir}"));
    let d = d.spawn_env(&["-n"], &[("A", "daemon"), ("Z", "daemon")]);
    let sock = d.path("sock");

    start_and_wait_exit(&d, &sock, "show");
    let expected = |version: &str| {
        format!(
            "gfile|genv|pfile|penv|plain value|yes|  $HOME \\n \"x\" |a \"b\" \\ $c|one two three|x#y|firstsecond|line1\nline2|{version}|\n"
        )
    };
    let log = || fs::read_to_string(d.path("show.log")).unwrap_or_default();
    assert_eq!(log(), expected("1"));

    // A changed file takes effect at the next spawn, without reread.
    fs::write(d.path("prog.env"), format!("{PROGRAM_FILE}VERSION=2\n")).unwrap();
    start_and_wait_exit(&d, &sock, "show");
    assert_eq!(log(), format!("{}{}", expected("1"), expected("2")));

    // A missing non-optional file: the normal spawn-error path, naming the path (a waiting
    // startProcess gets SPAWN_ERROR, as for any failed start).
    let fault = call(
        &sock,
        "supervisor.startProcess",
        &[s("missing"), Value::Bool(true)],
    );
    assert_eq!(fault, Err((50, "SPAWN_ERROR: missing".to_string())));
    d.wait_log("gave up: missing entered FATAL state", 10);
    d.wait_log(
        &format!("spawnerr: cannot read environment file {dir}/does-not-exist.env: No such file"),
        10,
    );

    // A malformed line: file and line, never the file's text.
    let _ = call(
        &sock,
        "supervisor.startProcess",
        &[s("bad"), Value::Bool(false)],
    );
    d.wait_log("gave up: bad entered FATAL state", 10);
    d.wait_log(
        &format!("spawnerr: {dir}/bad.env, line 2: not an assignment (no '=')"),
        10,
    );
    let info = call(&sock, "supervisor.getProcessInfo", &[s("bad")]).unwrap();
    assert_eq!(
        get(&info, "spawnerr"),
        Some(&s(&format!(
            "{dir}/bad.env, line 2: not an assignment (no '=')"
        )))
    );

    // getAllConfigInfo shows the list, never the contents.
    let all = call(&sock, "supervisor.getAllConfigInfo", &[]).unwrap();
    let Value::Array(entries) = &all else {
        panic!("{all:?}")
    };
    let show = entries
        .iter()
        .find(|e| get(e, "name") == Some(&s("show")))
        .expect("show in getAllConfigInfo");
    assert_eq!(
        get(show, "environment_file"),
        Some(&s(&format!("{dir}/prog.env, -{dir}/optional-missing.env")))
    );
    let text = format!("{all:?}");
    assert!(
        !text.contains("hunter2") && !text.contains("plain value"),
        "{text}"
    );
    assert!(!d.log().contains("hunter2"), "{}", d.log());
}

#[test]
fn config_errors_for_environment_file() {
    let d = Daemon::configure(
        "envfile-rel",
        "[program:p]\ncommand=true\nenvironment_file=relative.env\n",
    );
    let (code, _out, err) =
        run_supervisord(&["-n", "-c", &d.conf.display().to_string()], d.dir.path());
    assert_ne!(code, 0);
    assert!(
        err.contains("environment_file paths must be absolute, not 'relative.env'")
            && err.contains("key: 'environment_file'"),
        "{err}"
    );
}
