//! The files the daemon writes (issue #15, items 9 and 10): rotated logs are cut at line
//! boundaries and keep every byte; the pidfile and log files cannot be turned against other
//! files by a symlink planted in a sticky world-writable directory.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

/// `{dir}/<name>` and its backups `.1 .. .n`, oldest first.
fn rotated(d: &Daemon, name: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<Vec<u8>> = (1..=2000)
        .rev()
        .filter_map(|i| fs::read(d.path(&format!("{name}.{i}"))).ok())
        .collect();
    files.push(fs::read(d.path(name)).unwrap_or_default());
    files
}

/// Checks that `files` are `src` cut at line boundaries into files of at most `max` bytes.
fn assert_cut_at_lines(name: &str, files: &[Vec<u8>], src: &[u8], max: usize) {
    assert!(files.len() > 3, "{name}: only {} files", files.len());
    for (i, f) in files.iter().enumerate() {
        assert!(f.len() <= max, "{name} file {i}: {} bytes", f.len());
        if i + 1 < files.len() {
            assert_eq!(f.last(), Some(&b'\n'), "{name} file {i} ends inside a line");
            assert_eq!(f.len() % 100, 0, "{name} file {i} holds part of a line");
            assert!(f.len() > max - 100, "{name} file {i} cut early");
        }
    }
    assert!(files.concat() == src, "{name}: bytes lost or reordered");
}

/// Supervisor (and our old rotation) filled each file to the byte, leaving `.1`, `.2`, ...
/// that start and end in the middle of a line. Now a file ends at its last whole line and
/// the line that does not fit starts the next one, also when a pipe read or a splice ended
/// inside it; every byte is kept, in order.
#[test]
fn rotated_logs_start_and_end_at_line_boundaries() {
    let d = Daemon::configure("rot-lines", "");
    let small: Vec<u8> = (0..2000)
        .flat_map(|i| format!("{i:05} {}\n", "s".repeat(93)).into_bytes())
        .collect();
    let big: Vec<u8> = (0..60_000)
        .flat_map(|i| format!("{i:06} {}\n", "b".repeat(92)).into_bytes())
        .collect();
    fs::write(d.path("small.txt"), &small).unwrap();
    fs::write(d.path("big.txt"), &big).unwrap();
    // `cat` writes 128 KiB blocks, so pipe reads end inside lines. At info level the big
    // log is spliced until its limit is near, then read and written.
    d.write_conf_at(
        "info",
        "[program:small]\ncommand=cat {dir}/small.txt\nstartsecs=0\nautorestart=false\n\
         stdout_logfile={dir}/small.log\nstdout_logfile_maxbytes=1024\n\
         stdout_logfile_backups=1000\n\n\
         [program:big]\ncommand=cat {dir}/big.txt\nstartsecs=0\nautorestart=false\n\
         stdout_logfile={dir}/big.log\nstdout_logfile_maxbytes=1MB\n\
         stdout_logfile_backups=20\n",
    );
    let d = d.spawn(&["-n"]);
    d.wait_count("exited: ", 2, 60);
    assert_cut_at_lines("small.log", &rotated(&d, "small.log"), &small, 1024);
    assert_cut_at_lines("big.log", &rotated(&d, "big.log"), &big, 1 << 20);
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Root is needed to make a symlink another user's; elsewhere the test is skipped, loudly
/// under CI.
fn need_root(what: &str) -> bool {
    if is_root() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "{what}: needs root");
    println!("SKIPPED {what}: needs root to chown a symlink to another user");
    false
}

/// A sticky world-writable directory `{dir}/tmp` (like /tmp) holding `link` -> `{dir}/victim`
/// (a root file that says "precious"), the link owned by nobody: what another user can plant.
fn plant(d: &Daemon, link: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let tmp = d.path("tmp");
    fs::create_dir_all(&tmp).unwrap();
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = d.path("victim");
    fs::write(&victim, "precious\n").unwrap();
    let l = tmp.join(link);
    symlink(&victim, &l).unwrap();
    std::os::unix::fs::lchown(&l, Some(65534), Some(65534)).unwrap();
    (l, victim)
}

fn conf(d: &Daemon, logfile: &Path, pidfile: &Path, programs: &str) {
    let dir = d.dir.path().display().to_string();
    fs::write(
        &d.conf,
        format!(
            "[supervisord]\nlogfile={}\npidfile={}\nloglevel=debug\n\n{}",
            logfile.display(),
            pidfile.display(),
            programs.replace("{dir}", &dir)
        ),
    )
    .unwrap();
}

/// The pidfile was written with a plain truncating write, through whatever symlink sat at
/// its path: another user could have root truncate any file. Now it is written beside it
/// and renamed into place, which replaces the link.
#[test]
fn a_symlink_planted_at_the_pidfile_is_replaced_not_followed() {
    if !need_root("pidfile symlink test") {
        return;
    }
    let d = Daemon::configure("pid-link", "");
    let (link, victim) = plant(&d, "sd.pid");
    conf(&d, &d.path("supervisord.log"), &link, "");
    let d = d.spawn(&["-n"]);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    let meta = fs::symlink_metadata(&link).unwrap();
    assert!(meta.file_type().is_file(), "{meta:?}");
    assert_eq!(fs::read_to_string(&link).unwrap(), format!("{}\n", d.pid));
    let leftovers: Vec<_> = fs::read_dir(d.path("tmp")).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "a temporary file was left behind");
}

/// Log files were opened following symlinks: a link another user planted in /tmp had root
/// append to (or, with backups=0, truncate) the file it names. Now such a link is refused
/// with a clear error, for child logs and the main log; console paths still work.
#[test]
fn another_users_symlink_as_a_log_file_is_refused() {
    if !need_root("log symlink test") {
        return;
    }
    let d = Daemon::configure("log-link", "");
    let (link, victim) = plant(&d, "p.log");
    conf(
        &d,
        &d.path("supervisord.log"),
        &d.path("supervisord.pid"),
        &format!(
            "[program:p]\ncommand=/bin/echo written\nstartsecs=0\nstartretries=0\n\
             autorestart=false\nstdout_logfile={}\nstdout_logfile_maxbytes=0\n\n\
             [program:fd]\ncommand=/bin/echo through-dev-fd\nstartsecs=0\nautorestart=false\n\
             stdout_logfile=/dev/fd/1\nstdout_logfile_maxbytes=0\n\n\
             [program:out]\ncommand=/bin/echo through-dev-stdout\nstartsecs=0\n\
             autorestart=false\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n",
            link.display()
        ),
    );
    let d = d.spawn(&["-n"]);
    d.wait_log("gave up: p entered FATAL state", 20);
    let log = d.log();
    assert!(
        log.contains(&format!(
            "spawnerr: unknown error making dispatchers for 'p': refusing to follow the \
             symlink {}: it belongs to uid 65534 in the sticky world-writable directory",
            link.display()
        )),
        "{log}"
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    wait_until(10, "console logs written", || {
        let out = d.stdout();
        out.contains("through-dev-fd") && out.contains("through-dev-stdout")
    });
    drop(d);

    // The main log: supervisord refuses to start, and says why.
    let d = Daemon::configure("mainlog-link", "");
    let (link, victim) = plant(&d, "main.log");
    conf(&d, &link, &d.path("supervisord.pid"), "");
    let (code, _, err) = d.run_to_exit();
    assert_ne!(code, 0);
    assert!(err.contains("refusing to follow the symlink"), "{err}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
}
