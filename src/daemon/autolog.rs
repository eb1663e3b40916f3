//! `*_logfile=AUTO`: naming the temp log files in childlogdir and cleaning old ones at start.

use crate::log::MainLog;
use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    // The system call, not libc's wrapper: the static musl build links getrandom() as a weak
    // symbol that resolved to address 0 (a crash at the first AUTO log).
    // SAFETY: getrandom fills the buffer we pass.
    let n = unsafe {
        libc::syscall(
            libc::SYS_getrandom,
            bytes.as_mut_ptr(),
            bytes.len(),
            0 as libc::c_uint,
        )
    };
    if n != bytes.len() as libc::c_long {
        // Fall back on the clock and pid; O_EXCL below still guarantees a fresh file.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ std::process::id() as u128;
        bytes = (seed as u64).to_le_bytes();
    }
    bytes
        .iter()
        .map(|b| CHARS[*b as usize % CHARS.len()] as char)
        .collect()
}

/// Creates `<dir>/<process>-<channel>---<identifier>-<8 random>.log` with mode 0600, like
/// Python's mkstemp, and returns its path.
pub fn create(dir: &Path, process: &str, channel: &str, identifier: &str) -> io::Result<PathBuf> {
    loop {
        let path = dir.join(format!(
            "{process}-{channel}---{identifier}-{}.log",
            random_suffix()
        ));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Supervisor's cleanup pattern `.+?---<identifier>-\S+\.log\.{0,1}\d{0,4}`, anchored at the
/// start only: something, `---<identifier>-`, non-space characters, then `.log`.
fn is_auto_log(name: &str, identifier: &str) -> bool {
    let marker = format!("---{identifier}-");
    let mut from = 1;
    while let Some(pos) = name.get(from..).and_then(|s| s.find(&marker)) {
        let rest = &name[from + pos + marker.len()..];
        let word: &str = rest.split(char::is_whitespace).next().unwrap_or("");
        if let Some(p) = word.rfind(".log") {
            if p > 0 {
                return true;
            }
        }
        from += pos + 1;
    }
    false
}

/// Deletes AUTO logs of earlier runs with the same identifier.
pub fn cleanup(dir: &Path, identifier: &str, log: &mut MainLog) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        log.warn("Could not clear childlog dir");
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_auto_log(name, identifier) {
            let path = entry.path();
            if std::fs::remove_file(&path).is_err() {
                log.warn(&format!("Failed to clean up '{}'", path.display()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn names_and_cleanup_pattern() {
        let dir = TempDir::new("autolog");
        let p = create(dir.path(), "web", "stdout", "supervisor").unwrap();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        assert!(name.starts_with("web-stdout---supervisor-"), "{name}");
        assert!(name.ends_with(".log"));
        assert_eq!(name.len(), "web-stdout---supervisor-".len() + 8 + 4);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(is_auto_log(&name, "supervisor"));
        assert!(is_auto_log(&format!("{name}.3"), "supervisor"));
        assert!(!is_auto_log(&name, "other"));
        assert!(!is_auto_log("---supervisor-x.log", "supervisor"));
        assert!(!is_auto_log("keep.log", "supervisor"));
        std::fs::write(dir.path().join("keep.log"), "x").unwrap();
        let mut log = MainLog::new();
        cleanup(dir.path(), "supervisor", &mut log);
        assert!(!p.exists());
        assert!(dir.path().join("keep.log").exists());
    }
}
