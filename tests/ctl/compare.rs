//! Our output against Python's supervisorctl, on both daemons, where the format is fixed.

use super::*;
use std::fs;

/// Commands whose output has a fixed format and does not change the state (or changes it the
/// same way twice): ours and Python's supervisorctl must print the same and exit the same.
const COMPARED: &[&str] = &[
    "status",
    "status sleeper cat",
    "status nope",
    "status grp:*",
    "status grp:",
    "status nosuch:*",
    "status sleeper nope fail",
    "status all",
    "avail",
    "version",
    "pid",
    "pid all",
    "pid fail",
    "pid nope",
    "pid grp:*",
    "start",
    "stop",
    "restart",
    "clear",
    "start nope",
    "start grp",
    "start nosuch:*",
    "start sleeper",
    "start grp:*",
    "stop fail",
    "stop nosuch:*",
    "signal",
    "signal HUP",
    "signal HUP nope",
    "signal BOGUS sleeper",
    "signal HUP fail",
    "signal HUP nosuch:*",
    "signal BOGUS grp:*",
    "signal CONT sleeper",
    "clear nope",
    "clear fail",
    "tail",
    "tail a b c d",
    "tail -x echoer",
    "tail echoer foo",
    "tail -5",
    "tail nope",
    "tail echoer",
    "tail echoer stderr",
    "tail -3 echoer",
    "tail echoer x stderr",
    "maintail a b",
    "maintail x",
    "maintail -x",
    "reread",
    "update",
    "update nope",
    "add",
    "add nope",
    "add grp",
    "remove",
    "remove nope",
    "remove grp",
    "bogus",
    "st@tus",
    "status;",
    "help bogus",
    "help help",
    "help EOF",
    "help status",
    "help tail",
    "help maintail",
    "help signal",
    "help restart",
    "help update",
    "help fg",
    "help open",
    "help pid",
    "help exit",
    "fg",
    "fg a b",
    "fg nope",
    "fg fail",
    "open",
    "open ftp://x",
    "version x",
    "avail x",
    "reread x",
    "shutdown x",
    "reload x",
    "EOF",
    "quit",
    "?status",
];

/// Output without the help lines of our own flags (`--json`, `--no-wait`, `--dry-run`): the
/// one deliberate difference in help texts (supervisorctl(1), DIFFERENCES).
fn without_flag_help(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|l| {
            !["--json", "--no-wait", "--dry-run"]
                .iter()
                .any(|f| l.contains(&format!(" {f}")))
        })
        .collect()
}

/// Runs every COMPARED command with both clients against the daemon `conf` belongs to.
/// `our_daemon`: our daemon, where our reread and update say and do more (update only what
/// changed), so only Python's supervisord gets theirs compared.
fn compare_with_python_ctl(conf: &std::path::Path, our_daemon: bool) {
    let ours = Ctl::ours(conf);
    let Some(python) = Ctl::python(conf) else {
        return;
    };
    let argv0 = |c: &Ctl| c.bin.display().to_string();
    let mut diffs = Vec::new();
    let mut checks: Vec<Vec<&str>> = COMPARED.iter().map(|c| c.split(' ').collect()).collect();
    checks.push(vec![" status  sleeper "]);
    checks.push(vec!["-h"]);
    checks.push(vec!["-x"]);
    checks.push(vec!["-s"]);
    checks.push(vec!["--help=x"]);
    checks.push(vec!["-s", "unix:///nonexistent/supervisor.sock", "status"]);
    checks.push(vec!["-s", "unix:///nonexistent/supervisor.sock", "pid"]);
    checks.push(vec![
        "-s",
        "unix:///nonexistent/supervisor.sock",
        "shutdown",
    ]);
    for args in &checks {
        let p = python.run(args);
        let o = ours.run(args);
        let clean = |out: &Out, c: &Ctl| {
            normalize(&without_flag_help(&out.all()).replace(&argv0(c), "ARGV0"))
        };
        if (o.code, clean(&o, &ours)) != (p.code, clean(&p, &python)) {
            diffs.push(format!(
                "--- {args:?}\nours ({}):\n{}\npython ({}):\n{}",
                o.code,
                o.all(),
                p.code,
                p.all()
            ));
        }
    }
    // The shell with piped input: prompt, confirmations (answered no), errors, quit.
    let script =
        "status sleeper\n\nhelp start\n!ls\nfoo bar\nstatus nope\nshutdown\nn\nreload\n\nquit\n";
    let (o, p) = (ours.run_input(&[], script), python.run_input(&[], script));
    if (o.code, normalize(&without_flag_help(&o.all()))) != (p.code, normalize(&p.all())) {
        diffs.push(format!(
            "--- shell\nours:\n{}\npython:\n{}",
            o.all(),
            p.all()
        ));
    }
    if our_daemon {
        assert!(
            diffs.is_empty(),
            "{} differences:\n{}",
            diffs.len(),
            diffs.join("\n")
        );
        return;
    }
    // reread and update with real changes: each client applies the same change to the same
    // state (the other client reverts it in between).
    let original = fs::read_to_string(conf).expect("conf");
    let changed = original.replace("programs=g1,g2", "programs=g1")
        + "\n[program:newprog]\ncommand=sleep 999\nstartsecs=0\n";
    let step = |c: &Ctl, text: &str, args: &[&str]| {
        fs::write(conf, text).expect("write conf");
        c.run(args)
    };
    // State A = original, B = changed; each pair starts from the same state.
    let mut pairs = vec![(
        step(&python, &changed, &["reread"]),
        step(&ours, &changed, &["reread"]),
    )];
    let p = step(&python, &changed, &["update", "newprog", "nope"]);
    step(&python, &original, &["update"]);
    pairs.push((p, step(&ours, &changed, &["update", "newprog", "nope"])));
    step(&ours, &original, &["update"]);
    let p = step(&python, &changed, &["update"]);
    step(&python, &original, &["update"]);
    pairs.push((p, step(&ours, &changed, &["update"])));
    let p = step(&python, &original, &["update"]);
    step(&python, &changed, &["update"]);
    pairs.push((p, step(&ours, &original, &["update"])));
    for (p, o) in pairs {
        if (o.code, &o.stdout) != (p.code, &p.stdout) || o.stdout.is_empty() {
            diffs.push(format!(
                "--- reread/update\nours:\n{}\npython:\n{}",
                o.all(),
                p.all()
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn same_output_as_python_ctl_on_our_daemon() {
    let (_d, ctl) = our_daemon("ctl-cmp-ours");
    ctl.wait_for(&["tail", "echoer", "stderr"], "oops");
    compare_with_python_ctl(&ctl.conf, true);
}

#[test]
fn same_output_as_python_ctl_on_python_daemon() {
    let Some(d) = PyDaemon::start("ctl-cmp-py", &conf()) else {
        return;
    };
    let ctl = Ctl::ours(&d.conf);
    wait_running(&ctl);
    ctl.wait_for(&["tail", "echoer", "stderr"], "oops");
    compare_with_python_ctl(&d.conf, false);
}
