//! The interactive shell in a real terminal (tmux): completion, history, Ctrl-C, Ctrl-R,
//! confirmations and debug.

use super::*;
use std::fs;

/// The shell command for tmux: our ctl, then a marker so the pane outlives it.
fn shell_command(conf: &std::path::Path, hist: &std::path::Path) -> String {
    format!(
        "{} -c {} -r {}; echo CTL-EXITED; sleep 600",
        our_ctl().display(),
        conf.display(),
        hist.display()
    )
}

/// capture-pane drops trailing spaces, so the bare prompt shows without its space.
const PROMPT: &str = "supervisor>";

#[test]
fn shell_in_a_terminal_completion_history_ctrl_c() {
    let (d, _ctl) = our_daemon("ctl-tty");
    let hist = d.path("history");
    let Some(t) = Tmux::start("shell", &shell_command(&d.conf, &hist)) else {
        return;
    };
    t.wait(20, "the first prompt", |s| {
        s.contains("sleeper ") && s.contains(PROMPT)
    });
    // Commands complete; a unique completion gets a trailing space.
    t.type_text("statu");
    t.keys(&["Tab"]);
    t.wait(10, "status completed", |_| {
        t.last_line() == "supervisor> status"
    });
    // Process names complete to the common prefix; a second Tab lists the candidates.
    t.type_text("gr");
    t.keys(&["Tab"]);
    t.wait(10, "grp: completed", |_| {
        t.last_line() == "supervisor> status grp:"
    });
    t.keys(&["Tab", "Tab"]);
    t.wait_text(10, "grp:*  grp:g1  grp:g2");
    t.type_text("g1");
    t.keys(&["Enter"]);
    t.wait(10, "status of grp:g1", |s| {
        s.contains("supervisor> status grp:g1\ngrp:g1                           RUNNING   pid ")
    });
    // `all` completes; Ctrl-C clears the line and the shell stays (T11).
    t.type_text("stop a");
    t.keys(&["Tab"]);
    t.wait(10, "all completed", |_| {
        t.last_line() == "supervisor> stop all"
    });
    t.keys(&["C-c"]);
    t.wait(10, "a fresh prompt", |_| t.last_line() == "supervisor>");
    t.type_text("version");
    t.keys(&["Enter"]);
    t.wait_text(10, "supervisor> version\n4.3.0\n");
    // Errors print one line and the shell goes on.
    t.type_text("pid nope");
    t.keys(&["Enter"]);
    t.wait_text(
        10,
        "supervisor> pid nope\nNo such process nope\nsupervisor>",
    );
    // History: Up recalls, Ctrl-R searches.
    t.keys(&["Up"]);
    t.wait(10, "Up recalls pid nope", |_| {
        t.last_line() == "supervisor> pid nope"
    });
    t.keys(&["Up"]);
    t.wait(10, "Up recalls version", |_| {
        t.last_line() == "supervisor> version"
    });
    // Ctrl-C is a signal, typed-ahead keys are not: wait for it to take effect.
    t.keys(&["C-c"]);
    t.wait(10, "the line cleared", |_| t.last_line() == "supervisor>");
    t.keys(&["C-r"]);
    t.type_text("grp");
    t.wait_text(10, "(reverse-i-search)`grp': status grp:g1");
    t.keys(&["Enter"]);
    t.wait(10, "the search result ran", |s| {
        s.matches("supervisor> status grp:g1\ngrp:g1                           RUNNING")
            .count()
            == 2
    });
    t.type_text("quit");
    t.keys(&["Enter"]);
    t.wait_text(10, "CTL-EXITED");
    let saved = fs::read_to_string(&hist).expect("history file written");
    assert_eq!(
        saved, "status grp:g1\nversion\npid nope\nstatus grp:g1\nquit\n",
        "history file"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(&hist).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "a new history file is private, as readline makes it"
    );
    drop(t);
    // A new session starts with that history.
    let t = Tmux::start("shell2", &shell_command(&d.conf, &hist)).expect("tmux");
    t.wait(20, "the first prompt", |s| {
        s.contains("sleeper ") && s.contains(PROMPT)
    });
    t.keys(&["Up", "Up"]);
    t.wait(10, "history from the file", |_| {
        t.last_line() == "supervisor> status grp:g1"
    });
    t.keys(&["C-c"]);
    t.wait(10, "the line cleared", |_| t.last_line() == "supervisor>");
    t.keys(&["C-d"]);
    t.wait_text(10, "CTL-EXITED");
}

#[test]
fn debug_in_a_terminal() {
    let (d, ctl) = our_daemon("ctl-tty-debug");
    let Some(t) = Tmux::start("debug", &shell_command(&d.conf, &d.path("history"))) else {
        return;
    };
    t.wait(20, "the first prompt", |s| {
        s.contains("sleeper ") && s.contains(PROMPT)
    });
    t.type_text("debug echo2");
    t.keys(&["Enter"]);
    t.wait_text(10, "==> Attached to echo2 (pid ");
    t.type_text("hello");
    t.keys(&["Enter"]);
    // stdout plain, stderr in red.
    t.wait(10, "both channels", |s| {
        s.contains("out:hello") && s.contains("\x1b[31merr:hello")
    });
    t.keys(&["C-d"]);
    t.wait_text(
        10,
        "==> Detached from echo2; it keeps running <==\nsupervisor>",
    );
    assert_eq!(ctl.run(&["status", "echo2"]).code, 0, "echo2 still runs");
    // Ctrl-C detaches too, and the shell carries on.
    t.type_text("debug echo2");
    t.keys(&["Enter"]);
    t.wait(10, "attached again", |s| {
        s.matches("==> Attached to echo2").count() == 2
    });
    t.type_text("again");
    t.keys(&["Enter"]);
    t.wait_text(10, "out:again");
    t.keys(&["C-c"]);
    t.wait(10, "detached again", |s| {
        s.matches("==> Detached from echo2").count() == 2
    });
    t.type_text("version");
    t.keys(&["Enter"]);
    t.wait_text(10, "supervisor> version\n4.3.0");
    assert_eq!(ctl.run(&["status", "echo2"]).code, 0, "echo2 still runs");
    // Confirmations are read with the editor; anything but y cancels.
    t.type_text("reload");
    t.keys(&["Enter"]);
    t.wait_text(10, "Really restart the remote supervisord process y/N?");
    t.type_text("n");
    t.keys(&["Enter"]);
    t.wait(10, "the prompt after the question", |_| {
        t.last_line() == "supervisor>"
    });
    // Ctrl-C ends tail -f and the shell carries on.
    t.type_text("tail -f echo2");
    t.keys(&["Enter"]);
    t.wait_text(10, "==> Press Ctrl-C to exit <==\nout:hello");
    t.keys(&["C-c"]);
    t.wait(10, "the prompt after tail -f", |_| {
        t.last_line() == "supervisor>"
    });
    // A stopped process is refused.
    t.type_text("debug fail");
    t.keys(&["Enter"]);
    t.wait_text(
        10,
        "ERROR: fail is not running (STOPPED); debug attaches only to a running process",
    );
}
