//! Opening the HTTP listeners: TCP with SO_REUSEADDR, and the unix socket created race-free
//! (bind a temp name, chmod, hard-link into place; a stale socket is replaced, a live one is an
//! error), as rpc.md §1.1 describes.

use crate::config::{InetServerConfig, Owner, UnixServerConfig};
use crate::sys::errno::errno_name;
use std::ffi::CString;
use std::io::{self, Write};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::Duration;

pub const IN_USE: &str = "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.";

fn os_error(e: &io::Error) -> String {
    let code = e.raw_os_error().unwrap_or(0);
    format!(
        "Cannot open an HTTP server: socket.error reported errno.{} ({code})",
        errno_name(code)
    )
}

pub fn bind_tcp(cfg: &InetServerConfig) -> Result<TcpListener, String> {
    let host = if cfg.host.is_empty() || cfg.host == "*" {
        "0.0.0.0"
    } else {
        cfg.host.as_str()
    };
    let listener = TcpListener::bind((host, cfg.port)).map_err(|e| {
        if e.kind() == io::ErrorKind::AddrInUse {
            IN_USE.to_string()
        } else {
            os_error(&e)
        }
    })?;
    // Supervisor's backlog (std's is 128): a burst of connections is accepted and sorted out
    // by the server's admission (slots.rs) instead of waiting out SYN retransmissions.
    // SAFETY: listen on the socket we just bound; calling it again only resizes the queue.
    unsafe { libc::listen(listener.as_raw_fd(), BACKLOG) };
    Ok(listener)
}

/// The listen(2) backlog of the TCP servers, as Supervisor's.
const BACKLOG: libc::c_int = 1024;

fn chmod(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

fn chown(path: &Path, owner: &Owner) -> io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    let uid = owner.uid.map_or(u32::MAX, |u| u);
    let gid = owner.gid.map_or(u32::MAX, |g| g);
    // SAFETY: c is a valid C string; -1 ids leave that part unchanged.
    if unsafe { libc::chown(c.as_ptr(), uid, gid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// True when something answers on the socket at `path`.
fn is_live(path: &Path) -> bool {
    match UnixStream::connect(path) {
        Ok(mut s) => {
            let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
            s.write_all(b"GET / HTTP/1.0\r\n\r\n").is_ok()
        }
        Err(_) => false,
    }
}

pub fn bind_unix(cfg: &UnixServerConfig) -> Result<UnixListener, String> {
    let path = &cfg.file;
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(format!(".{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let listener = UnixListener::bind(&tmp).map_err(|e| os_error(&e))?;
    let result = (|| {
        chmod(&tmp, cfg.chmod).map_err(|e| {
            format!(
                "Could not change permissions of socket file {}: {e}",
                tmp.display()
            )
        })?;
        for _ in 0..3 {
            match std::fs::hard_link(&tmp, path) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if is_live(path) {
                        return Err(IN_USE.to_string());
                    }
                    eprintln!("Unlinking stale socket {}", path.display());
                    let _ = std::fs::remove_file(path);
                }
                Err(e) => return Err(os_error(&e)),
            }
        }
        Err(IN_USE.to_string())
    })();
    let _ = std::fs::remove_file(&tmp);
    result?;
    if let Some(owner) = &cfg.chown {
        if let Err(e) = chown(path, owner) {
            let _ = std::fs::remove_file(path);
            return Err(format!(
                "Not permitted to chown {} to uid/gid ({}, {}); adjust \"chown\" value in config file or on command line to values that the current user can successfully chown ({e})",
                path.display(),
                owner.uid.map_or(-1, |u| u as i64),
                owner.gid.map_or(-1, |g| g as i64)
            ));
        }
    }
    Ok(listener)
}
