//! Opening a log file for appending, safely where other users can write: console streams
//! share supervisord's own descriptors, and a symlink another user planted in a sticky
//! world-writable directory such as /tmp is refused (the kernel's `protected_symlinks` rule,
//! applied whether or not that sysctl is on), so root never writes or truncates the file it
//! points to.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// A path that names one of our standard streams rather than a file of its own.
pub fn is_console(path: &Path) -> bool {
    let Some(s) = path.to_str() else {
        return false;
    };
    matches!(s, "/dev/stdout" | "/dev/stderr")
        || s.starts_with("/dev/fd/")
        || s.starts_with("/proc/self/fd/")
}

/// Opens `path` for appending, creating it (mode 0666 less the umask).
pub fn open_append(path: &Path) -> io::Result<File> {
    // Reopening /dev/stdout fails when stdout is a socket (journald, some container runtimes):
    // share our own descriptor instead.
    let std_fd = match path.to_str() {
        Some("/dev/stdout") => Some(1),
        Some("/dev/stderr") => Some(2),
        _ => None,
    };
    if let Some(fd) = std_fd {
        // SAFETY: fd 1/2 are borrowed only for the duration of the clone.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        return Ok(File::from(borrowed.try_clone_to_owned()?));
    }
    let open = |follow: bool| {
        let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
        OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o666)
            .custom_flags(libc::O_CLOEXEC | nofollow)
            .open(path)
    };
    // Not following first: a path that is no symlink now cannot become one under us. A
    // symlink fails with ELOOP, or with EACCES in a sticky directory when it is another
    // user's (O_CREAT there).
    match open(false) {
        Err(e) if is_symlink(path) => {
            if !matches!(e.raw_os_error(), Some(libc::ELOOP | libc::EACCES)) {
                return Err(e);
            }
            check_symlink(path)?;
            open(true)
        }
        r => r,
    }
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Opens `path` for reading without following a symlink (a log's own content, read back).
pub fn open_read(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
}

/// Refuses a symlink at `path` that the kernel's protected_symlinks rule would not follow:
/// one in a sticky world-writable directory, owned neither by us nor by the directory's
/// owner. Such a link cannot be replaced by anyone else once checked (the sticky bit), so
/// following it afterwards is safe.
pub fn check_symlink(path: &Path) -> io::Result<()> {
    let link = fs::symlink_metadata(path)?;
    if !link.file_type().is_symlink() {
        return Ok(());
    }
    let dir_path = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = fs::metadata(dir_path)?;
    let sticky_world_writable = {
        let bits: u32 = libc::S_ISVTX | libc::S_IWOTH;
        dir.mode() & bits == bits
    };
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    if sticky_world_writable && link.uid() != me && link.uid() != dir.uid() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "refusing to follow the symlink {}: it belongs to uid {} in the sticky \
                 world-writable directory {} (the protected_symlinks rule)",
                path.display(),
                link.uid(),
                dir_path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn console_paths_are_recognised() {
        for p in ["/dev/stdout", "/dev/stderr", "/dev/fd/1", "/proc/self/fd/2"] {
            assert!(is_console(Path::new(p)), "{p}");
        }
        assert!(!is_console(Path::new("/var/log/dev/stdout")));
    }

    #[test]
    fn symlinks_of_our_own_and_outside_sticky_directories_are_followed() {
        let d = TempDir::new("open-own");
        let target = d.path().join("target");
        fs::write(&target, "a").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        open_append(&link).unwrap().write_all(b"b").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"ab");
        // Ours, in a sticky world-writable directory: still followed.
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o1777)).unwrap();
        open_append(&link).unwrap().write_all(b"c").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"abc");
        // Console links (/dev/fd/N is one) are not in a sticky directory.
        assert!(check_symlink(Path::new("/dev/fd/1")).is_ok());
        // A plain file is opened without a check.
        open_append(&d.path().join("new")).unwrap();
    }

    #[test]
    fn another_users_symlink_in_a_sticky_directory_is_refused() {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            assert!(
                std::env::var_os("CI").is_none(),
                "needs root to chown a symlink"
            );
            println!("SKIPPED: needs root to chown a symlink to another user");
            return;
        }
        let d = TempDir::new("open-sticky");
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o1777)).unwrap();
        let target = d.path().join("victim");
        fs::write(&target, "precious").unwrap();
        let link = d.path().join("x.log");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        std::os::unix::fs::lchown(&link, Some(65534), Some(65534)).unwrap();
        let e = open_append(&link).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("protected_symlinks"), "{e}");
        assert!(e.to_string().contains("uid 65534"), "{e}");
        assert_eq!(fs::read(&target).unwrap(), b"precious");
        // Not sticky: followed, as the kernel would.
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o777)).unwrap();
        assert!(open_append(&link).is_ok());
    }
}
