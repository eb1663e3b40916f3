//! The listening socket of an `[fcgi-program:x]` group: created when its first process is
//! spawned, handed to every process as fd 0, closed when the last one has exited (reference
//! counting, as Supervisor's socket manager does).

use crate::config::{FcgiSocket, Owner, SocketSpec};
use crate::log::MainLog;
use std::ffi::CString;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;

pub struct SharedSocket {
    pub config: FcgiSocket,
    fd: Option<OwnedFd>,
    refs: usize,
}

fn chown(path: &std::path::Path, owner: &Owner) -> io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: c is a valid C string; u32::MAX (-1) leaves that id unchanged.
    let r = unsafe {
        libc::chown(
            c.as_ptr(),
            owner.uid.unwrap_or(u32::MAX),
            owner.gid.unwrap_or(u32::MAX),
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn create(cfg: &FcgiSocket) -> io::Result<OwnedFd> {
    let fd: OwnedFd = match &cfg.spec {
        SocketSpec::Tcp { host, port } => TcpListener::bind((host.as_str(), *port))?.into(),
        SocketSpec::Unix { path } => {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            let l = UnixListener::bind(path)?;
            std::fs::set_permissions(
                path,
                std::fs::Permissions::from_mode(cfg.mode.unwrap_or(0o700)),
            )?;
            if let Some(owner) = &cfg.owner {
                chown(path, owner)?;
            }
            l.into()
        }
    };
    let backlog = cfg.backlog.unwrap_or(libc::SOMAXCONN as i64) as libc::c_int;
    // SAFETY: listen() again on a bound, listening socket just sets the backlog.
    if unsafe { libc::listen(fd.as_raw_fd(), backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

impl SharedSocket {
    pub fn new(config: FcgiSocket) -> SharedSocket {
        SharedSocket {
            config,
            fd: None,
            refs: 0,
        }
    }

    /// One more process uses the socket; creates it if it is the first.
    pub fn acquire(&mut self, log: &mut MainLog) -> Result<RawFd, String> {
        if self.fd.is_none() {
            log.info(&format!("Creating socket {}", self.config.url));
            let fd = create(&self.config)
                .map_err(|e| format!("Could not create FastCGI socket {}: {e}", self.config.url))?;
            self.fd = Some(fd);
        }
        self.refs += 1;
        Ok(self.fd.as_ref().map_or(-1, |f| f.as_raw_fd()))
    }

    /// A process is done with the socket; the last one closes it.
    pub fn release(&mut self, log: &mut MainLog) {
        self.refs = self.refs.saturating_sub(1);
        if self.refs == 0 && self.fd.take().is_some() {
            log.info(&format!("Closing socket {}", self.config.url));
            if let SocketSpec::Unix { path } = &self.config.spec {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    pub fn is_open(&self) -> bool {
        self.fd.is_some()
    }
}
