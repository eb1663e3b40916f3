//! Update only what changed (issue #19 item 1): `reread` says per process what changed and
//! whether it restarts, `update --dry-run` what update would do, and `update` changes only
//! that: settings applied in place keep every pid, a new command restarts only its process,
//! numprocs adds or removes only the extra processes. Against Python's supervisord our ctl
//! keeps Supervisor's whole-group update.

use super::*;
use crate::common::rpc::{self, Value};
use std::collections::BTreeMap;
use std::fs;

const PROGRAMS: &str = "
[group:trio]
programs=a,b,c

[program:a]
command=sleep 1001
startsecs=0

[program:b]
command=sleep 1002
startsecs=0

[program:c]
command=sleep 1003
startsecs=0

[program:solo]
command=sleep 1004
startsecs=0

[program:w]
command=sleep 1005
process_name=%(program_name)s_%(process_num)s
numprocs=2
startsecs=0
";

/// Every process's namespec and (state, pid).
fn processes(d: &Daemon) -> BTreeMap<String, (String, i64)> {
    let all = rpc::call(&d.path("sock"), "supervisor.getAllProcessInfo", &[]).expect("rpc");
    let text = |p: &Value, k: &str| {
        rpc::get(p, k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    all.as_array()
        .expect("array")
        .iter()
        .map(|p| {
            let pid = rpc::get(p, "pid").and_then(Value::as_int).unwrap_or(0);
            let ns = format!("{}:{}", text(p, "group"), text(p, "name"));
            (ns, (text(p, "statename"), pid))
        })
        .collect()
}

fn all_running(d: &Daemon, n: usize) -> BTreeMap<String, (String, i64)> {
    let mut now = BTreeMap::new();
    wait_until(30, &format!("{n} processes RUNNING"), || {
        now = processes(d);
        now.len() == n && now.values().all(|(s, _)| s == "RUNNING")
    });
    now
}

/// The pids that differ between two snapshots (and the processes only in one).
fn changed(
    a: &BTreeMap<String, (String, i64)>,
    b: &BTreeMap<String, (String, i64)>,
) -> Vec<String> {
    let mut out: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k).map(|v| v.1) != b.get(*k).map(|v| v.1))
        .cloned()
        .collect();
    out.dedup();
    out
}

#[test]
fn update_changes_only_what_changed() {
    let body = format!("{RPC}{PROGRAMS}");
    let d = Daemon::start("ctl-update-fine", &body);
    let ctl = Ctl::ours(&d.conf);
    let conf = |text: &str| d.write_conf(text);
    let before = all_running(&d, 6);

    // Nothing changed: nothing to do.
    expect(&ctl.run(&["update", "--dry-run"]), 0, "");

    // The first test: changing autorestart of one program leaves every pid unchanged.
    let step1 = body.replace(
        "command=sleep 1004\n",
        "command=sleep 1004\nautorestart=false\n",
    );
    conf(&step1);
    expect(
        &ctl.run(&["reread"]),
        0,
        "solo: changed\n  solo: autorestart changed: applied in place, no restart\n",
    );
    expect(
        &ctl.run(&["update", "--dry-run"]),
        0,
        "solo: would update in place (autorestart)\n",
    );
    expect(
        &ctl.run(&["update"]),
        0,
        "solo: updated in place (autorestart)\n",
    );
    let after = all_running(&d, 6);
    assert_eq!(changed(&before, &after), Vec::<String>::new());
    // The running process has the new setting, and the next reread sees nothing to do.
    let info = rpc::call(&d.path("sock"), "supervisor.getAllConfigInfo", &[]).expect("rpc");
    let solo = info
        .as_array()
        .expect("array")
        .iter()
        .find(|c| rpc::get(c, "name").and_then(Value::as_str) == Some("solo"))
        .cloned()
        .expect("solo");
    assert_eq!(rpc::get(&solo, "autorestart"), Some(&Value::Bool(false)));
    expect(&ctl.run(&["reread"]), 0, "No config updates to processes\n");

    // The second test: changing the command of one program of a 3-program group
    // restarts only that one.
    let step2 = step1.replace("sleep 1002", "sleep 2002");
    conf(&step2);
    expect(
        &ctl.run(&["reread"]),
        0,
        "trio: changed\n  trio:b: command changed: will restart\n",
    );
    expect(&ctl.run(&["update"]), 0, "trio:b: restarted (command)\n");
    let now = all_running(&d, 6);
    assert_eq!(changed(&after, &now), ["trio:b"]);
    assert!(cmdline(now["trio:b"].1 as i32).contains("2002"));

    // numprocs adds, then removes, only the extra processes.
    let step3 = step2.replace("numprocs=2", "numprocs=3");
    conf(&step3);
    expect(
        &ctl.run(&["update", "--dry-run", "w"]),
        0,
        "w:w_2: would add\n",
    );
    expect(&ctl.run(&["update", "w"]), 0, "w:w_2: added\n");
    let grown = all_running(&d, 7);
    assert_eq!(changed(&now, &grown), ["w:w_2"]);
    conf(&step3.replace("numprocs=3", "numprocs=1"));
    expect(
        &ctl.run(&["update"]),
        0,
        "w:w_1: stopped and removed\nw:w_2: stopped and removed\n",
    );
    let shrunk = all_running(&d, 5);
    assert_eq!(changed(&grown, &shrunk), ["w:w_1", "w:w_2"]);
    assert_eq!(shrunk["w:w_0"], grown["w:w_0"]);

    // A setting in place and one that needs a respawn in the same program: a restart.
    conf(&step3.replace("numprocs=3", "numprocs=1").replace(
        "command=sleep 1001\n",
        "command=sleep 1001\nenvironment=X=1\nstartretries=5\n",
    ));
    expect(
        &ctl.run(&["update"]),
        0,
        "trio:a: restarted (environment)\n",
    );
    let last = all_running(&d, 5);
    assert_eq!(changed(&shrunk, &last), ["trio:a"]);
}

#[test]
fn dry_run_against_python_supervisord_is_supervisors_update() {
    let Some(d) = PyDaemon::start("ctl-update-py", &format!("{RPC}{PROGRAMS}")) else {
        return;
    };
    let ctl = Ctl::ours(&d.conf);
    wait_until(30, "python's programs RUNNING", || {
        ctl.run(&["status"]).stdout.matches("RUNNING").count() == 6
    });
    let text = fs::read_to_string(&d.conf).expect("conf");
    fs::write(&d.conf, text.replace("sleep 1002", "sleep 2002")).expect("write");
    expect(&ctl.run(&["reread"]), 0, "trio: changed\n");
    expect(
        &ctl.run(&["update", "--dry-run"]),
        0,
        "trio: would stop and restart the whole group\n",
    );
    expect(
        &ctl.run(&["update"]),
        0,
        "trio: stopped\ntrio: updated process group\n",
    );
}
