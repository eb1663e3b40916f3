//! Process-wide setup done once per start: privileges, rlimits, daemonizing, the pidfile and
//! the child subreaper flag. Each returns errors as the text Supervisor prints after `Error: `.

use crate::config::UserSpec;
use crate::sys::errno;
use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Switches the daemon to `user`. Returns the INFO line to log on success, which 4.3 logs
/// also when the daemon already runs as that user (`user=root` as root).
pub fn drop_privileges(user: &UserSpec) -> Result<String, String> {
    let done = format!("Set uid to user {} succeeded", user.uid);
    // SAFETY: plain id getters and setters.
    unsafe {
        if libc::getuid() == user.uid && libc::getgid() == user.gid {
            return Ok(done);
        }
        if libc::getuid() != 0 {
            return Err("Can't drop privilege as nonroot user".to_string());
        }
        let groups: Vec<libc::gid_t> = user.groups.iter().map(|&g| g as libc::gid_t).collect();
        if libc::setgroups(groups.len(), groups.as_ptr()) != 0 {
            return Err(format!(
                "Could not set groups of effective user: {}",
                io::Error::last_os_error()
            ));
        }
        if libc::setgid(user.gid) != 0 {
            return Err(format!(
                "Could not set group id of effective user: {}",
                io::Error::last_os_error()
            ));
        }
        if libc::setuid(user.uid) != 0 {
            return Err(format!(
                "Could not set user id of effective user: {}",
                io::Error::last_os_error()
            ));
        }
    }
    Ok(done)
}

/// Raises RLIMIT_NOFILE/RLIMIT_NPROC soft limits to `minfds`/`minprocs`. Returns INFO lines.
pub fn raise_rlimits(minfds: i64, minprocs: i64) -> Result<Vec<String>, String> {
    let mut info = Vec::new();
    let limits = [
        (
            libc::RLIMIT_NOFILE,
            minfds,
            "RLIMIT_NOFILE",
            "file descriptors",
            "minfds",
        ),
        (
            libc::RLIMIT_NPROC,
            minprocs,
            "RLIMIT_NPROC",
            "available processes",
            "minprocs",
        ),
    ];
    for (res, min, name, what, key) in limits {
        if min <= 0 {
            continue;
        }
        let min = min as libc::rlim_t;
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit write/read the struct we pass.
        unsafe {
            if libc::getrlimit(res, &mut lim) != 0
                || lim.rlim_cur == libc::RLIM_INFINITY
                || lim.rlim_cur >= min
            {
                continue;
            }
            let hard = lim.rlim_max;
            let wanted = libc::rlimit {
                rlim_cur: min,
                rlim_max: if hard != libc::RLIM_INFINITY && hard < min {
                    min
                } else {
                    hard
                },
            };
            if libc::setrlimit(res, &wanted) != 0 {
                return Err(format!(
                    "The minimum number of {what} required to run this process is {min} as per the \"{key}\" command-line argument or config file setting. The current environment will only allow you to open {hard} {what}.  Either raise the number of usable {what} in your environment (see README.rst) or lower the {key} setting in the config file to allow the process to start."
                ));
            }
        }
        info.push(format!("Increased {name} limit to {min}"));
    }
    Ok(info)
}

/// The daemon's end of the readiness pipe: the waiting parent exits 0 once told.
pub struct Ready(Option<OwnedFd>);

impl Ready {
    pub fn none() -> Ready {
        Ready(None)
    }

    pub fn signal(&mut self) {
        if let Some(fd) = self.0.take() {
            let mut f = std::fs::File::from(fd);
            let _ = f.write_all(b"0");
        }
    }
}

/// Double fork + setsid. The original process waits until the daemon reports readiness (or
/// dies) and exits with 0 (or 1), so a caller's `supervisord && supervisorctl status` works.
pub fn daemonize() -> io::Result<Ready> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds is a valid array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh descriptors from pipe2.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the process is single-threaded at this point; each branch below either returns
    // into normal code or ends with _exit.
    match unsafe { libc::fork() } {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        _ => {
            drop(w);
            let mut f = std::fs::File::from(r);
            let mut b = [0u8; 1];
            let ok = matches!(f.read(&mut b), Ok(1));
            // SAFETY: leaving without running the daemon's destructors.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) }
        }
    }
    drop(r);
    // SAFETY: as above.
    unsafe {
        libc::setsid();
        match libc::fork() {
            -1 => return Err(io::Error::last_os_error()),
            0 => {}
            _ => libc::_exit(0),
        }
    }
    redirect_std_to_null();
    Ok(Ready(Some(w)))
}

fn redirect_std_to_null() {
    // SAFETY: open/dup2/close on descriptors we manage.
    unsafe {
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd >= 0 {
            for target in 0..3 {
                libc::dup2(fd, target);
            }
            if fd > 2 {
                libc::close(fd);
            }
        }
    }
}

/// Writes our pid to a fresh file beside `path` and renames it into place. A plain write
/// would follow a symlink planted at `path` (the pidfile is often in /tmp) and truncate
/// whatever it names; rename replaces the link itself, and readers never see a partial file.
pub fn write_pidfile(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    // A name nobody else can have created (O_EXCL, and no symlink followed): retried when
    // someone did.
    for attempt in 0..8u32 {
        let tmp = dir.join(format!(".{name}.{pid}.{nanos:x}{attempt}"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&tmp);
        let mut file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let written = file
            .write_all(format!("{pid}\n").as_bytes())
            .and_then(|_| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        return written;
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary name for the pidfile",
    ))
}

/// Buffers of a mebibyte or more (large replies, whole-log reads) are mapped for themselves
/// and given back to the system when freed. glibc otherwise raises its mmap threshold after
/// each large free (up to 32 MiB) and serves the next ones from its heap, where a freed
/// buffer may stay resident: a daemon that once answered a 30 MB read would keep those 30 MB,
/// and the next large reply would come on top. musl maps large buffers anyway.
pub fn return_large_buffers() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets an allocator parameter; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Makes orphans of our children come to us rather than to init (not needed as PID 1).
pub fn become_subreaper() {
    if std::process::id() != 1 {
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    }
}

pub fn set_umask(mask: u32) {
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(mask as libc::mode_t) };
}

pub fn chdir(dir: &Path) -> Result<(), String> {
    std::env::set_current_dir(dir).map_err(|e| {
        let code = e.raw_os_error().unwrap_or(0);
        format!(
            "can't chdir into '{}': {}",
            dir.display(),
            errno::errno_name(code)
        )
    })
}

pub fn is_root() -> bool {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() == 0 }
}
