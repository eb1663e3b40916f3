//! Spawning a child: everything is resolved and allocated in the parent (command, PATH search,
//! argv, environment, error texts), then a vfork-style clone and a child side that only makes
//! system calls before execve, as process.md §8.2 orders them.
//!
//! Why clone(CLONE_VM | CLONE_VFORK) rather than fork(): fork copies the daemon's page tables
//! and write-protects its memory, and every page the loop then touches is copied again; that
//! was the larger part of the daemon's own CPU when starting 200 programs. With CLONE_VM the
//! child borrows the daemon's memory on a stack of its own until execve, while the calling
//! thread waits (the HTTP threads keep running). That is what posix_spawn does, and why the
//! child side must not touch shared state: no allocation, no locks, no libc wrapper that keeps
//! process-wide bookkeeping. Credentials in particular are changed with raw system calls:
//! glibc's and musl's setuid() would broadcast the change to every thread they believe the
//! process has, i.e. the daemon's own threads.
//!
//! Why CLONE_FILES and parking slots: without it the clone copies the daemon's whole
//! descriptor table and the child then closes every copy, two walks over three pipe ends
//! per running child; starting 6,000 programs took 3.3x the machine's own posix_spawn of
//! them (perf: dup_fd, filp_flush, locks_remove_posix). Now the three descriptors the child
//! needs are parked in three low slots, the child shares the table until
//! close_range(K, ~0, CLOSE_RANGE_UNSHARE) gives it a copy of the descriptors below K only
//! (Linux 5.9; before that, unshare(CLONE_FILES) copies them all, as before), and the slots
//! get their /dev/null back once the child has exec'd.

use super::cmdline;
use crate::config::ProcessConfig;
use crate::sys::errno::{self, errno_name};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Everything the child needs, prepared before fork.
pub struct SpawnPlan {
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    dir: Option<CString>,
    umask: Option<u32>,
    /// (uid, gid, groups) to switch to.
    user: Option<(u32, u32, Vec<libc::gid_t>)>,
    redirect_stderr: bool,
    msg_setuid: Vec<u8>,
    msg_chdir: Vec<u8>,
    msg_exec: Vec<u8>,
}

/// The parent's ends of a spawned child's pipes.
pub struct Child {
    pub pid: i32,
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: Option<OwnedFd>,
}

const DEFAULT_PATH: &str = "/bin:/usr/bin:/usr/local/bin";

/// Why a command cannot be spawned, found before the fork: the kind for callers that choose
/// by it (the API's NO_FILE or NOT_EXECUTABLE fault), the text Supervisor's spawnerr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnError {
    kind: SpawnErrorKind,
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnErrorKind {
    /// `command=` does not split into words, is empty or holds a NUL byte.
    BadCommand,
    /// No file by that name (Supervisor's "can't find command").
    NotFound,
    /// A file that is a directory, has no execute bit or may not be run by us.
    NotExecutable,
    /// The process is no longer configured.
    Gone,
}

impl SpawnError {
    pub fn new(kind: SpawnErrorKind, text: impl Into<String>) -> SpawnError {
        SpawnError {
            kind,
            text: text.into(),
        }
    }

    pub fn kind(&self) -> SpawnErrorKind {
        self.kind
    }
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Resolves the command and builds the plan; the error is Supervisor's spawnerr text.
pub fn prepare(cfg: &ProcessConfig, env: &[(String, String)]) -> Result<SpawnPlan, SpawnError> {
    let bad = |text: String| SpawnError::new(SpawnErrorKind::BadCommand, text);
    let words = cmdline::split(&cfg.command)
        .map_err(|e| bad(format!("can't parse command '{}': {e}", cfg.command)))?;
    let Some(program) = words.first() else {
        return Err(bad("command is empty".to_string()));
    };
    let path_var = env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or(DEFAULT_PATH);
    let path = resolve(program, path_var, cfg.directory.as_deref())?;
    let cstr = |s: &[u8]| {
        CString::new(s).map_err(|_| bad(format!("command '{}' contains a NUL byte", cfg.command)))
    };
    let argv = words
        .iter()
        .map(|w| cstr(w.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let envp = env
        .iter()
        .filter_map(|(k, v)| CString::new(format!("{k}={v}")).ok())
        .collect();
    let dir = match &cfg.directory {
        Some(d) => Some(cstr(d.as_bytes())?),
        None => None,
    };
    let user = cfg.user.as_ref().map(|u| {
        (
            u.uid,
            u.gid,
            u.groups.iter().map(|&g| g as libc::gid_t).collect(),
        )
    });
    let uid_text = cfg.user.as_ref().map(|u| u.uid).unwrap_or(0);
    Ok(SpawnPlan {
        path: cstr(path.as_os_str().as_bytes())?,
        argv,
        envp,
        dir,
        umask: cfg.umask,
        user,
        redirect_stderr: cfg.redirect_stderr,
        msg_setuid: format!("supervisor: couldn't setuid to {uid_text}: ").into_bytes(),
        msg_chdir: format!(
            "supervisor: couldn't chdir to {}: ",
            cfg.directory.as_deref().unwrap_or("")
        )
        .into_bytes(),
        msg_exec: format!("supervisor: couldn't exec {program}: ").into_bytes(),
    })
}

fn is_executable(p: &Path) -> bool {
    let Ok(c) = CString::new(p.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: c is a valid C string.
    p.is_file() && unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0
}

/// Finds the file to exec. Improvements over Supervisor (README P10): a relative path with a
/// slash is taken relative to the program's `directory`, and the PATH search skips entries that
/// are not executable files (reporting the first existing one if none is).
fn resolve(program: &str, path_var: &str, directory: Option<&str>) -> Result<PathBuf, SpawnError> {
    let not_found = || {
        SpawnError::new(
            SpawnErrorKind::NotFound,
            format!("can't find command '{program}'"),
        )
    };
    let not_executable = |text: String| SpawnError::new(SpawnErrorKind::NotExecutable, text);
    let chosen = if program.contains('/') {
        let p = Path::new(program);
        match directory {
            Some(d) if p.is_relative() => Path::new(d).join(p),
            _ => p.to_path_buf(),
        }
    } else {
        let candidates: Vec<PathBuf> = path_var
            .split(':')
            .map(|d| Path::new(if d.is_empty() { "." } else { d }).join(program))
            .collect();
        match candidates.iter().find(|c| is_executable(c)) {
            Some(c) => c.clone(),
            None => match candidates.iter().find(|c| c.exists()) {
                Some(c) => c.clone(),
                None => return Err(not_found()),
            },
        }
    };
    let meta = std::fs::metadata(&chosen).map_err(|_| not_found())?;
    let shown = chosen.display();
    if meta.is_dir() {
        return Err(not_executable(format!(
            "command at '{shown}' is a directory"
        )));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(not_executable(format!(
            "command at '{shown}' is not executable"
        )));
    }
    if !is_executable(&chosen) {
        return Err(not_executable(format!(
            "no permission to run command '{shown}'"
        )));
    }
    Ok(chosen)
}

fn pipe() -> Result<(OwnedFd, OwnedFd), i32> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds is a valid array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(errno::last());
    }
    // SAFETY: pipe2 returned two fresh descriptors we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// For the parent's ends of fresh pipes, whose status flags are known to be empty.
fn set_nonblocking(fd: RawFd) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) };
}

/// Three low descriptors a child's stdin, stdout and stderr are parked in across the clone,
/// holding `null` in between (see the module header).
struct Slots {
    fds: [RawFd; 3],
    null: RawFd,
}

impl Slots {
    /// Opens /dev/null and three copies of it at the lowest free numbers: the daemon opens
    /// its first program's pipes after few other descriptors, so they stay low.
    fn open() -> Option<Slots> {
        // SAFETY: open and fcntl on a path we name and a descriptor we own.
        unsafe {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
            if null < 0 {
                return None;
            }
            let mut fds = [-1; 3];
            for slot in fds.iter_mut() {
                *slot = libc::fcntl(null, libc::F_DUPFD_CLOEXEC, 3);
                if *slot < 0 {
                    for fd in fds.iter().chain([&null]).filter(|&&fd| fd >= 0) {
                        libc::close(*fd);
                    }
                    return None;
                }
            }
            Some(Slots { fds, null })
        }
    }

    /// Parks `fds` (stdin, stdout, stderr) in the slots; false if a dup3 failed (the slots
    /// are then given back their /dev/null).
    fn park(&self, fds: [RawFd; 3]) -> bool {
        for (slot, fd) in self.fds.iter().zip(fds) {
            // SAFETY: dup3 onto a slot we own; it replaces what the slot held.
            if unsafe { libc::dup3(fd, *slot, libc::O_CLOEXEC) } < 0 {
                self.release();
                return false;
            }
        }
        true
    }

    /// Gives the slots back their /dev/null, dropping the references to the child's ends.
    fn release(&self) {
        for slot in self.fds {
            // SAFETY: as in park.
            unsafe { libc::dup3(self.null, slot, libc::O_CLOEXEC) };
        }
    }

    /// The child keeps the descriptors below this.
    fn below(&self) -> u32 {
        self.fds.iter().copied().max().unwrap_or(2) as u32 + 1
    }
}

/// The parking slots, opened at the first spawn; a lock because tests spawn from several
/// threads (the daemon spawns from its loop only, so it never waits here).
static SLOTS: Mutex<Option<Option<Slots>>> = Mutex::new(None);

/// Forks and execs. `stdin_override` (an fcgi socket) becomes fd 0 instead of a pipe.
pub fn spawn(plan: &SpawnPlan, name: &str, stdin_override: Option<RawFd>) -> Result<Child, String> {
    let pipe_err = |e: i32| {
        if e == libc::EMFILE || e == libc::ENFILE {
            format!("too many open files to spawn '{name}'")
        } else {
            format!(
                "unknown error making dispatchers for '{name}': {}",
                errno_name(e)
            )
        }
    };
    let (in_r, in_w) = pipe().map_err(pipe_err)?;
    let (out_r, out_w) = pipe().map_err(pipe_err)?;
    let err_pipe = if plan.redirect_stderr {
        None
    } else {
        Some(pipe().map_err(pipe_err)?)
    };
    let mut argv: Vec<*const libc::c_char> = plan.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = plan.envp.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    let mut child_fds = ChildFds {
        stdin: stdin_override.unwrap_or(in_r.as_raw_fd()),
        stdout: out_w.as_raw_fd(),
        stderr: err_pipe
            .as_ref()
            .map(|(_, w)| w.as_raw_fd())
            .unwrap_or(out_w.as_raw_fd()),
        unshare_below: None,
    };
    let mut guard = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
    let slots = guard
        .get_or_insert_with(Slots::open)
        .as_ref()
        .filter(|s| s.park([child_fds.stdin, child_fds.stdout, child_fds.stderr]));
    if let Some(s) = slots {
        child_fds.stdin = s.fds[0];
        child_fds.stdout = s.fds[1];
        child_fds.stderr = s.fds[2];
        child_fds.unshare_below = Some(s.below());
    }
    let share = if slots.is_some() {
        libc::CLONE_FILES
    } else {
        0
    };
    // Block every signal across the clone: a signal arriving in the child before exec would run
    // the daemon's own handler there (writing to the daemon's self-pipe) and be lost, so a
    // stop signal sent right after the spawn would not stop the program.
    // SAFETY: sigset manipulation on local storage.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above; pthread_sigmask only reads `all` and writes `old`.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
    }
    let args = ChildArgs {
        plan,
        fds: &child_fds,
        argv: &argv,
        envp: &envp,
    };
    // SAFETY: the child runs child_main on its own stack and only reads `args` (which outlives
    // the call: CLONE_VFORK returns only after the child's execve or exit, so the stack is
    // free again when it returns).
    let (pid, e) = CHILD_STACK.with_borrow_mut(|stack| unsafe {
        // The stack grows down from its 16-byte aligned end.
        let top = (stack.as_mut_ptr() as usize + stack.capacity()) & !15;
        let pid = libc::clone(
            child_main,
            top as *mut libc::c_void,
            libc::CLONE_VM | libc::CLONE_VFORK | share | libc::SIGCHLD,
            &args as *const ChildArgs as *mut libc::c_void,
        );
        (pid, errno::last())
    });
    // Only the parent gets here: the child leaves child_main through execve or _exit.
    // SAFETY: restoring the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    if let Some(s) = slots {
        s.release();
    }
    if pid < 0 {
        return Err(if e == libc::EAGAIN {
            format!("Too many processes in process table to spawn '{name}'")
        } else {
            format!("unknown error during fork for '{name}': {}", errno_name(e))
        });
    }
    drop(in_r);
    drop(out_w);
    let stderr = err_pipe.map(|(r, w)| {
        drop(w);
        set_nonblocking(r.as_raw_fd());
        r
    });
    set_nonblocking(in_w.as_raw_fd());
    set_nonblocking(out_r.as_raw_fd());
    Ok(Child {
        pid,
        stdin: in_w,
        stdout: out_r,
        stderr,
    })
}

struct ChildFds {
    stdin: RawFd,
    stdout: RawFd,
    stderr: RawFd,
    /// Cloned with CLONE_FILES: the child must first take its own table, of the
    /// descriptors below this.
    unshare_below: Option<u32>,
}

thread_local! {
    /// The clone child's stack: plenty for child_exec, which keeps a few words and calls only
    /// system call wrappers. Kept for the next spawn (a fresh one cost an mmap and a munmap
    /// per spawn, and the munmap a TLB flush on every core a daemon thread ran on), and left
    /// uninitialised: the child writes its frames before it reads them.
    static CHILD_STACK: std::cell::RefCell<Vec<u8>> =
        std::cell::RefCell::new(Vec::with_capacity(64 * 1024));
}

struct ChildArgs<'a> {
    plan: &'a SpawnPlan,
    fds: &'a ChildFds,
    argv: &'a [*const libc::c_char],
    envp: &'a [*const libc::c_char],
}

extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the ChildArgs the parent passed to clone; it stays alive and unchanged
    // while the parent waits for this child's execve or exit.
    unsafe {
        let a = &*(arg as *const ChildArgs);
        child_exec(a.plan, a.fds, a.argv, a.envp)
    }
}

/// rt_sigaction's own struct, as x86_64 lays it out, passed straight to the kernel instead
/// of through libc's sigaction(), which keeps process-wide bookkeeping the child must not
/// touch. Only SIG_DFL (0) with no flags, restorer or mask is ever passed: all zeros, which
/// means the same on architectures that order or omit these fields differently.
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: libc::c_ulong,
    restorer: usize,
    mask: u64,
}

unsafe fn write_err(parts: &[&[u8]]) {
    for p in parts {
        libc::write(2, p.as_ptr().cast(), p.len());
    }
}

unsafe fn fail(parts: &[&[u8]]) -> ! {
    write_err(parts);
    write_err(&[b"supervisor: child process was not spawned\n"]);
    libc::_exit(127)
}

/// # Safety
/// Must only run in the cloned child: it uses no allocation, no locks, no libc state.
unsafe fn child_exec(
    plan: &SpawnPlan,
    fds: &ChildFds,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> ! {
    libc::setpgid(0, 0);
    // Every signal to its default before unblocking: the daemon's handlers must not run here,
    // and Rust (like Python) ignores SIGPIPE, which children should not inherit (README P8).
    let default = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    for sig in 1..32 {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                &default as *const KernelSigaction,
                std::ptr::null_mut::<KernelSigaction>(),
                8usize,
            );
        }
    }
    let none: u64 = 0;
    libc::syscall(
        libc::SYS_rt_sigprocmask,
        libc::SIG_SETMASK,
        &none as *const u64,
        std::ptr::null_mut::<u64>(),
        8usize,
    );
    if let Some(below) = fds.unshare_below {
        // Nothing may touch a descriptor before this: the table is still the daemon's.
        let unshared = libc::syscall(
            libc::SYS_close_range,
            below,
            u32::MAX,
            libc::CLOSE_RANGE_UNSHARE,
        ) == 0
            || libc::syscall(libc::SYS_unshare, libc::CLONE_FILES) == 0;
        if !unshared {
            libc::_exit(127);
        }
    }
    // Copy the sources above 2 first: one of them may itself be fd 0..2 (a daemon started with
    // closed std fds), and dup2 onto 0..2 also clears close-on-exec.
    let (i, o, e) = (
        libc::fcntl(fds.stdin, libc::F_DUPFD_CLOEXEC, 3),
        libc::fcntl(fds.stdout, libc::F_DUPFD_CLOEXEC, 3),
        libc::fcntl(fds.stderr, libc::F_DUPFD_CLOEXEC, 3),
    );
    libc::dup2(i, 0);
    libc::dup2(o, 1);
    libc::dup2(e, 2);
    // Close everything above stderr, not just below minfds (README P9).
    if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
        let max = libc::sysconf(libc::_SC_OPEN_MAX).clamp(256, 65536) as RawFd;
        for fd in 3..max {
            libc::close(fd);
        }
    }
    if let Some((uid, gid, groups)) = &plan.user {
        if libc::getuid() == 0 {
            if libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) != 0
                || libc::syscall(libc::SYS_setgid, *gid) != 0
                || libc::syscall(libc::SYS_setuid, *uid) != 0
            {
                fail(&[
                    &plan.msg_setuid,
                    errno_name(errno::last()).as_bytes(),
                    b"\n",
                ]);
            }
        } else if libc::getuid() != *uid || libc::getgid() != *gid {
            fail(&[&plan.msg_setuid, b"Can't drop privilege as nonroot user\n"]);
        }
    }
    if let Some(dir) = &plan.dir {
        if libc::chdir(dir.as_ptr()) != 0 {
            fail(&[&plan.msg_chdir, errno_name(errno::last()).as_bytes(), b"\n"]);
        }
    }
    if let Some(mask) = plan.umask {
        libc::umask(mask as libc::mode_t);
    }
    libc::execve(plan.path.as_ptr(), argv.as_ptr(), envp.as_ptr());
    fail(&[&plan.msg_exec, errno_name(errno::last()).as_bytes(), b"\n"])
}

#[cfg(test)]
mod tests;
