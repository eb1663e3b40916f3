//! `log_prefix=` / `log_timestamps=` (issue #20 item 4): every line of a child's output in its
//! log files starts with a timestamp and a prefix, in files and on /dev/stdout alike, with
//! lines that arrive in pieces prefixed once.

mod common;

use common::*;
use std::fs;

/// Removes the ISO 8601 timestamp (and its space) from every line, checking its shape.
fn without_iso_stamps(text: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let (stamp, rest) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("no timestamp in {line:?} of {text:?}"));
        let b = stamp.as_bytes();
        assert!(
            stamp.len() == 29 && b[10] == b'T' && b[19] == b'.' && b[26] == b':',
            "not an ISO 8601 timestamp: {stamp:?} in {text:?}"
        );
        out.push_str(rest);
    }
    out
}

#[test]
fn prefixes_and_timestamps_in_files_and_on_dev_stdout() {
    let d = Daemon::configure(
        "logprefix",
        // [supervisord] defaults, quoted to keep the trailing space.
        "log_prefix=\"%(program_name)s | \"\n\n\
         [program:files]\n\
         command=/bin/sh -c 'printf \"one\\ntw\"; sleep 0.5; printf \"o\\nthree\\n\"; printf \"err\\n\" >&2'\n\
         log_timestamps=true\n\
         stdout_logfile={dir}/files.out\nstderr_logfile={dir}/files.err\n\
         autorestart=false\nstartsecs=0\n\n\
         [program:console]\n\
         command=/bin/sh -c 'printf \"a\\nb\"; sleep 0.5; printf \"c\\n\"; printf \"e\\n\" >&2'\n\
         log_prefix='[%(program_name)s:%(process_num)d] '\n\
         log_timestamps=%Y\n\
         stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n\
         stderr_logfile=/dev/stderr\nstderr_logfile_maxbytes=0\n\
         autorestart=false\nstartsecs=0\n\n\
         [program:plain]\n\
         command=/bin/sh -c 'printf \"raw\\n\"'\n\
         log_prefix=\n\
         stdout_logfile={dir}/plain.out\n\
         autorestart=false\nstartsecs=0\n",
    );
    // -s: the main log is not copied to stdout, which then holds only the child's lines.
    let d = d.spawn(&["-n", "-s"]);
    for name in ["files", "console", "plain"] {
        d.wait_log(&format!("exited: {name} "), 10);
    }
    let read = |f: &str| fs::read_to_string(d.path(f)).unwrap_or_default();
    assert_eq!(
        without_iso_stamps(&read("files.out")),
        "files | one\nfiles | two\nfiles | three\n"
    );
    assert_eq!(without_iso_stamps(&read("files.err")), "files | err\n");
    let year = {
        let mut y = Vec::new();
        assert!(
            supervisor::config::logline::Timestamps::Strftime("%Y".into())
                .render(std::time::SystemTime::now(), &mut y)
        );
        String::from_utf8(y).unwrap()
    };
    assert_eq!(
        d.stdout(),
        format!("{year} [console:0] a\n{year} [console:0] bc\n")
    );
    assert!(
        d.stderr().contains(&format!("{year} [console:0] e\n")),
        "{}",
        d.stderr()
    );
    // An empty log_prefix (and no timestamps) turns the [supervisord] default off.
    assert_eq!(read("plain.out"), "raw\n");
    // The main log's DEBUG copy keeps the child's bytes.
    assert!(
        d.log().contains("'files' stdout output:\none\ntw"),
        "{}",
        d.log()
    );
}

#[test]
fn bad_log_timestamps_is_a_config_error() {
    // In a program, and as a [supervisord] default that no program uses.
    for (body, section) in [
        (
            "[program:p]\ncommand=true\nlog_timestamps=sometimes\n",
            "program:p",
        ),
        ("log_timestamps=sometimes\n", "supervisord"),
    ] {
        let d = Daemon::configure("logprefix-bad", body);
        let (code, _out, err) = d.run_to_exit();
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("log_timestamps must be a boolean or a strftime format, not 'sometimes'")
                && err.contains(&format!("in section '{section}'")),
            "{err}"
        );
    }
}

/// conf/container.conf as shipped (its /tmp paths moved into the test's directory): the
/// programs' lines reach supervisord's stdout with their names, and the optional env file
/// that does not exist is no error.
#[test]
fn shipped_container_conf_prefixes_program_lines() {
    let text =
        fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/container.conf")).unwrap();
    let d = Daemon::configure("container-conf", "");
    let dir = d.dir.path().display().to_string();
    fs::write(&d.conf, text.replace("/tmp/", &format!("{dir}/"))).unwrap();
    let d = d.spawn_raw(&[]);
    wait_until(20, "app's line and RUNNING state on stdout", || {
        let out = d.stdout();
        out.contains("\napp | alive at ") && out.contains("success: app entered RUNNING state")
    });
    assert!(!d.stdout().contains("spawnerr"), "{}", d.stdout());
}
