use super::*;
use crate::testutil::{process_config, TempDir};
use std::io::Read;

#[test]
fn resolve_errors_have_supervisor_texts() {
    let dir = TempDir::new("resolve");
    let d = dir.path();
    let err = |r: Result<PathBuf, SpawnError>| r.map_err(|e| (e.kind(), e.to_string()));
    assert_eq!(
        err(resolve("nope-xyz", "/nonexistent", None)),
        Err((
            SpawnErrorKind::NotFound,
            "can't find command 'nope-xyz'".into()
        ))
    );
    std::fs::create_dir(d.join("adir")).unwrap();
    let shown = d.join("adir").display().to_string();
    assert_eq!(
        err(resolve(&shown, "", None)),
        Err((
            SpawnErrorKind::NotExecutable,
            format!("command at '{shown}' is a directory")
        ))
    );
    let f = d.join("noexec");
    std::fs::write(&f, "x").unwrap();
    assert_eq!(
        err(resolve(&f.display().to_string(), "", None)),
        Err((
            SpawnErrorKind::NotExecutable,
            format!("command at '{}' is not executable", f.display())
        ))
    );
}

#[test]
fn path_search_skips_non_executables() {
    let dir = TempDir::new("pathsearch");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(a.join("tool"), "x").unwrap();
    std::fs::write(b.join("tool"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(b.join("tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let pv = format!("{}:{}", a.display(), b.display());
    assert_eq!(resolve("tool", &pv, None), Ok(b.join("tool")));
    // Relative with a slash: against the program's directory.
    assert_eq!(
        resolve("./tool", "", Some(&b.display().to_string())),
        Ok(b.join("./tool"))
    );
}

#[test]
fn prepare_reports_parse_and_empty_errors() {
    let err = |command: &str| {
        let e = prepare(&process_config("p", command), &[]).err();
        e.map(|e| (e.kind(), e.to_string()))
    };
    let bad = SpawnErrorKind::BadCommand;
    assert_eq!(
        err("echo 'x"),
        Some((
            bad,
            "can't parse command 'echo 'x': No closing quotation".into()
        ))
    );
    assert_eq!(err("  "), Some((bad, "command is empty".into())));
}

fn run_to_end(cfg: &ProcessConfig, env: &[(String, String)]) -> (String, String, i32) {
    let plan = prepare(cfg, env).unwrap();
    let child = spawn(&plan, &cfg.name, None).unwrap();
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(child.pid, &mut status, 0) };
    let read_all = |fd: OwnedFd| {
        let mut f = std::fs::File::from(fd);
        let mut s = String::new();
        let _ = f.read_to_string(&mut s);
        s
    };
    let out = read_all(child.stdout);
    let err = child.stderr.map(read_all).unwrap_or_default();
    (out, err, libc::WEXITSTATUS(status))
}

#[test]
fn child_gets_env_dir_umask_and_only_three_fds() {
    let dir = TempDir::new("spawnenv");
    let mut cfg = process_config(
        "p",
        "/bin/sh -c 'echo $FOO; pwd; umask; ls /proc/self/fd | wc -l; grep SigIgn /proc/self/status'",
    );
    cfg.directory = Some(dir.path().display().to_string());
    cfg.umask = Some(0o027);
    let env = vec![
        ("PATH".to_string(), "/usr/bin:/bin".to_string()),
        ("FOO".to_string(), "bar baz".to_string()),
    ];
    let (out, _, code) = run_to_end(&cfg, &env);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(code, 0);
    assert_eq!(lines[0], "bar baz");
    assert_eq!(lines[1], dir.path().display().to_string());
    assert_eq!(lines[2], "0027");
    // 0,1,2 plus the fd ls itself opens for /proc/self/fd.
    assert_eq!(lines[3], "4");
    let ign = u64::from_str_radix(lines[4].trim_start_matches("SigIgn:\t"), 16).unwrap();
    let bit = |sig: i32| 1u64 << (sig - 1);
    assert_eq!(
        ign & (bit(libc::SIGPIPE) | bit(libc::SIGXFSZ)),
        0,
        "{}",
        lines[4]
    );
}

#[test]
fn child_sees_three_fds_and_eof_however_many_the_parent_holds() {
    // Thousands of open pipes in the parent (a daemon with that many running children):
    // the child still gets only 0..2 (shared table, then unshared below the slots),
    // and the parent keeps no reference to the child's ends (the read sees EOF).
    let held: Vec<(OwnedFd, OwnedFd)> = (0..1500).map(|_| pipe().unwrap()).collect();
    let cfg = process_config("p", "/bin/sh -c 'ls /proc/self/fd | wc -l; echo err >&2'");
    let env = vec![("PATH".to_string(), "/usr/bin:/bin".to_string())];
    for _ in 0..3 {
        let (out, err, code) = run_to_end(&cfg, &env);
        assert_eq!((out.trim(), err.trim(), code), ("4", "err", 0));
    }
    drop(held);
}

#[test]
fn bad_directory_reports_errno_and_exits_127() {
    let mut cfg = process_config("p", "/bin/true");
    cfg.directory = Some("/nonexistent-dir-xyz".into());
    let (_, err, code) = run_to_end(&cfg, &[]);
    assert_eq!(code, 127);
    assert_eq!(
        err,
        "supervisor: couldn't chdir to /nonexistent-dir-xyz: ENOENT\nsupervisor: child process was not spawned\n"
    );
}

#[test]
fn exec_failure_is_reported() {
    let dir = TempDir::new("noshebang");
    let f = dir.path().join("script");
    std::fs::write(&f, "echo hi\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = process_config("p", &f.display().to_string());
    let (_, err, code) = run_to_end(&cfg, &[]);
    assert_eq!(code, 127);
    assert!(
        err.starts_with(&format!(
            "supervisor: couldn't exec {}: ENOEXEC\n",
            f.display()
        )),
        "{err}"
    );
}

#[test]
fn redirect_stderr_joins_stdout() {
    let mut cfg = process_config("p", "/bin/sh -c 'echo out; echo err >&2'");
    cfg.redirect_stderr = true;
    let (out, err, _) = run_to_end(&cfg, &[]);
    assert_eq!(out, "out\nerr\n");
    assert_eq!(err, "");
}
