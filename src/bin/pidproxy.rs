//! pidproxy PIDFILE COMMAND [ARGS...]: lets supervisord manage a program that daemonizes.
//!
//! Runs COMMAND, forwards TERM, INT, QUIT, HUP, USR1 and USR2 to the pid found in PIDFILE, and
//! exits when that process is gone, with its exit status (128+N for a signal). Supervisor's
//! pidproxy exits 0 right after forwarding TERM and polls every 5 s; this one becomes a child
//! subreaper, so the daemonized process is re-parented to it and its real status can be
//! reaped. libc only, so it stays tiny on embedded images.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

const FORWARDED: [libc::c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGHUP,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

fn usage() -> ! {
    eprintln!("pidproxy -- run a daemonizing program under supervisord\n\nUsage: pidproxy <pidfile name> <command> [<cmdarg1> ...]");
    std::process::exit(1)
}

fn read_pid(pidfile: &str) -> Option<libc::pid_t> {
    std::fs::read_to_string(pidfile)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&p: &libc::pid_t| p > 0)
}

/// Exit code for a wait status, the way shells report it.
fn status_code(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    }
}

fn spawn(args: &[std::ffi::OsString]) -> libc::pid_t {
    let argv: Vec<CString> = args
        .iter()
        .filter_map(|a| CString::new(a.as_bytes()).ok())
        .collect();
    if argv.len() != args.len() {
        eprintln!("pidproxy: argument contains a NUL byte");
        std::process::exit(1);
    }
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: fork, then only async-signal-safe calls in the child before exec; the sigset is
    // initialised by sigemptyset before use.
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        match libc::fork() {
            -1 => {
                eprintln!("pidproxy: fork failed: {}", std::io::Error::last_os_error());
                std::process::exit(1);
            }
            0 => {
                libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
                libc::execvp(ptrs[0], ptrs.as_ptr());
                let msg = b"pidproxy: cannot execute the command\n";
                libc::write(2, msg.as_ptr().cast(), msg.len());
                libc::_exit(127);
            }
            pid => pid,
        }
    }
}

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args.len() < 2 {
        usage();
    }
    let pidfile = args[0].to_string_lossy().into_owned();
    // SAFETY: an all-zero sigset is valid storage; sigemptyset initialises it below.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: plain signal-mask and prctl calls on this single-threaded process.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        libc::sigemptyset(&mut set);
        for s in FORWARDED.iter().chain([libc::SIGCHLD].iter()) {
            libc::sigaddset(&mut set, *s);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    let child = spawn(&args[1..]);
    let mut child_status: Option<i32> = None;
    loop {
        // Reap everything that is done; the pidfile's process ends it all.
        loop {
            let mut status = 0;
            // SAFETY: waitpid writes only into status.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                if pid < 0 {
                    // No children left: the daemon is gone (or never was our descendant).
                    std::process::exit(child_status.unwrap_or(0));
                }
                break;
            }
            if Some(pid) == read_pid(&pidfile) {
                std::process::exit(status_code(status));
            }
            if pid == child {
                child_status = Some(status_code(status));
            }
        }
        let timeout = libc::timespec {
            tv_sec: 1,
            tv_nsec: 0,
        };
        // SAFETY: sigtimedwait on the blocked set; no handlers run.
        let sig = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &timeout) };
        if sig > 0 && sig != libc::SIGCHLD {
            match read_pid(&pidfile) {
                // SAFETY: kill has no memory-safety preconditions.
                Some(pid) => unsafe {
                    libc::kill(pid, sig);
                },
                None => eprintln!("Can't read child pidfile {pidfile}!"),
            }
        }
        // A pidfile process that is not our descendant: notice when it is gone. Only once the
        // command itself has finished, so a stale pidfile from an earlier run cannot end us.
        if let (Some(pid), Some(_)) = (read_pid(&pidfile), child_status) {
            // SAFETY: signal 0 only checks existence.
            let gone = unsafe { libc::kill(pid, 0) } != 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
            if gone {
                std::process::exit(child_status.unwrap_or(0));
            }
        }
    }
}
