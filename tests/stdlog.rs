//! The container recipe of the PyPI package supervisor-stdlog (issue #20 item 4): its
//! documented config, with its real listener from the interop venv, prints on supervisord's
//! stdout and stderr exactly what Python supervisord 4.3 prints with the package's handler.

mod common;

use common::*;
use std::fs;
use std::process::{Command, Stdio};

/// The package's README config, plus a second program that prints only once the test has
/// seen all of `web`'s lines (so the order of first appearances, which picks the colours,
/// is fixed). Each program writes each channel in one write: one event per channel.
fn recipe(listener: &str, handler: &str) -> String {
    format!(
        "[program:web]\n\
         command = /bin/sh -c 'printf \"hello\\na\\nb\\n\"; printf \"oops\\n\" >&2; exec sleep 1000'\n\
         stdout_events_enabled = true\n\
         stderr_events_enabled = true\n\n\
         [program:worker_long]\n\
         command = /bin/sh -c 'while [ ! -e {{dir}}/go ]; do sleep 0.05; done; echo late; exec sleep 1000'\n\
         stdout_events_enabled = true\n\n\
         [eventlistener:stdlog]\n\
         events = PROCESS_LOG\n\
         command = {listener}\n\
         result_handler = {handler}\n\
         buffer_size = 100\n"
    )
}

const STDOUT: &str = "\x1b[36mweb | \x1b[37mhello\x1b[m\n\
                      \x1b[36mweb | \x1b[37ma\x1b[m\n\
                      \x1b[36mweb | \x1b[37mb\x1b[m\n\
                      \x1b[32mworker_long | \x1b[37mlate\x1b[m\n";
const STDERR: &str = "\x1b[36mweb | \x1b[31moops\x1b[m\n";

/// Lets both programs print and returns (stdout, the handler's lines of stderr).
fn exercise(d: &Daemon) -> (String, String) {
    let handler_lines = |text: String| -> String {
        text.split_inclusive('\n')
            .filter(|l| l.contains('\x1b'))
            .collect()
    };
    wait_until(30, "web's lines on stdout and stderr", || {
        d.stdout().contains("mb\x1b[m\n") && d.stderr().contains("oops")
    });
    fs::write(d.path("go"), "").unwrap();
    wait_until(30, "worker_long's line", || d.stdout().contains("late"));
    (d.stdout(), handler_lines(d.stderr()))
}

#[test]
fn supervisor_stdlog_recipe_prints_as_under_python_supervisor() {
    let (Some(listener), Some(python_supervisord)) =
        (venv_bin("supervisor-stdlog"), venv_bin("supervisord"))
    else {
        return;
    };
    let listener = listener.display().to_string();
    let body = recipe(&listener, "supervisor_stdlog:log_handler");

    let ours = Daemon::configure("stdlog", &body).spawn(&["-n", "-s"]);
    let got = exercise(&ours);
    assert_eq!(got, (STDOUT.to_string(), STDERR.to_string()));

    // The reference: Python supervisord 4.3 with the package's own handler (unbuffered, so
    // its output can be waited for).
    let mut py = Daemon::configure("stdlog-py", &body);
    let out = |name: &str| fs::File::create(py.path(name)).unwrap();
    let child = Command::new(python_supervisord)
        .args(["-n", "-s", "-c"])
        .arg(&py.conf)
        .env("PYTHONUNBUFFERED", "1")
        .current_dir(py.dir.path())
        .stdin(Stdio::null())
        .stdout(out("stdout.txt"))
        .stderr(out("stderr.txt"))
        .spawn()
        .expect("spawn Python supervisord");
    py.pid = child.id() as i32;
    py.child = Some(child);
    assert_eq!(exercise(&py), got, "Python supervisord printed otherwise");
}

/// Also: with `log_prefix` and `log_timestamps` set, PROCESS_LOG events still carry the
/// child's own bytes, so the printed lines are the same.
#[test]
fn supervisor_stdout_handler_name_is_the_same_handler() {
    let Some(listener) = venv_bin("supervisor-stdlog") else {
        return;
    };
    let body = format!(
        "log_prefix=\"%(program_name)s | \"\nlog_timestamps=true\n\n{}",
        recipe(
            &listener.display().to_string(),
            "supervisor_stdout:event_handler",
        )
    );
    let d = Daemon::configure("stdout-name", &body).spawn(&["-n", "-s"]);
    assert_eq!(exercise(&d), (STDOUT.to_string(), STDERR.to_string()));
}
