//! One check in flight: a non-blocking TCP connect (and for HTTP a GET whose status line is
//! read, at most `STATUS_MAX` bytes), or a probe command (`/bin/sh -c`, in its own process
//! group so a timeout kills all of it). The loop watches the socket and reaps the command;
//! this module never blocks.

use super::Target;
use crate::config::ProcessConfig;
use crate::sys::poller::Interest;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// The bytes of an HTTP answer read at most: the status line is all a check looks at.
const STATUS_MAX: usize = 256;

/// Where a check is after an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Watch the socket for this next.
    Wait(Interest),
    /// Finished: success, or why not.
    Done(Result<(), String>),
}

/// A check just started: a socket to watch, or the pid of a probe command to reap.
pub enum Check {
    Conn(Conn),
    Exec { pid: i32 },
}

pub struct Conn {
    fd: OwnedFd,
    connected: bool,
    /// The HTTP request still to send (`None` for a TCP check).
    request: Option<Vec<u8>>,
    answer: Vec<u8>,
}

impl Check {
    /// Starts a check of `target` for a process configured as `cfg`.
    pub fn start(target: &Target, cfg: &ProcessConfig) -> Result<Check, String> {
        match target {
            Target::Tcp(addr) => Conn::connect(*addr, None).map(Check::Conn),
            Target::Http { addr, host, path } => {
                let req = format!(
                    "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: supervisord-probe\r\n\r\n"
                );
                Conn::connect(*addr, Some(req.into_bytes())).map(Check::Conn)
            }
            Target::Exec(cmd) => spawn_command(cmd, cfg).map(|pid| Check::Exec { pid }),
        }
    }

    /// The probe command was reaped: dropping the check must not signal its (free) pid.
    pub fn reaped(&mut self) {
        if let Check::Exec { pid } = self {
            *pid = 0;
        }
    }
}

/// Dropping a check gives it up: a probe command still running has its process group
/// killed (it is reaped as usual, its result ignored), whatever dropped it (a timeout, the
/// process leaving its state, the process removed by `update`); a socket is closed.
impl Drop for Check {
    fn drop(&mut self) {
        if let Check::Exec { pid } = self {
            if *pid > 0 {
                // SAFETY: kill has no memory-safety preconditions. ESRCH: it already exited.
                unsafe { libc::kill(-*pid, libc::SIGKILL) };
            }
        }
    }
}

impl Conn {
    fn connect(addr: SocketAddr, request: Option<Vec<u8>>) -> Result<Conn, String> {
        let family = if addr.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        // SAFETY: plain system call; the descriptor is owned at once.
        let raw = unsafe {
            libc::socket(
                family,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if raw < 0 {
            return Err(format!("socket: {}", io::Error::last_os_error()));
        }
        // SAFETY: raw is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let (storage, len) = sockaddr(addr);
        // SAFETY: storage holds a valid sockaddr of `len` bytes.
        let rc = unsafe {
            libc::connect(
                fd.as_raw_fd(),
                &storage as *const _ as *const libc::sockaddr,
                len,
            )
        };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINPROGRESS) {
                return Err(format!("connect to {addr}: {e}"));
            }
        }
        Ok(Conn {
            fd,
            connected: false,
            request,
            answer: Vec::new(),
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// What to watch first: the connect completing.
    pub fn interest(&self) -> Interest {
        Interest::Write
    }

    /// The socket is ready for what was asked: one step of the exchange.
    pub fn step(&mut self) -> Step {
        if !self.connected {
            let mut err: libc::c_int = 0;
            let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: err and len are valid for getsockopt to write.
            let rc = unsafe {
                libc::getsockopt(
                    self.fd.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_ERROR,
                    &mut err as *mut _ as *mut libc::c_void,
                    &mut len,
                )
            };
            if rc < 0 {
                return Step::Done(Err(io::Error::last_os_error().to_string()));
            }
            if err != 0 {
                return Step::Done(Err(format!(
                    "connect: {}",
                    io::Error::from_raw_os_error(err)
                )));
            }
            self.connected = true;
            if self.request.is_none() {
                return Step::Done(Ok(()));
            }
        }
        if let Some(req) = self.request.as_mut() {
            // SAFETY: req is a valid buffer of req.len() bytes.
            let n = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    req.as_ptr() as *const libc::c_void,
                    req.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock {
                    return Step::Wait(Interest::Write);
                }
                return Step::Done(Err(format!("send: {e}")));
            }
            req.drain(..n as usize);
            if !req.is_empty() {
                return Step::Wait(Interest::Write);
            }
            self.request = None;
            return Step::Wait(Interest::Read);
        }
        let mut buf = [0u8; STATUS_MAX];
        let room = STATUS_MAX - self.answer.len();
        // SAFETY: buf has room for `room` bytes.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                room,
                0,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Step::Wait(Interest::Read);
            }
            return Step::Done(Err(format!("recv: {e}")));
        }
        self.answer.extend_from_slice(&buf[..n as usize]);
        let whole = n == 0 || self.answer.len() >= STATUS_MAX || self.answer.contains(&b'\n');
        if !whole {
            return Step::Wait(Interest::Read);
        }
        Step::Done(http_status(&self.answer))
    }
}

/// Success for a `HTTP/1.x 2xx` status line.
fn http_status(answer: &[u8]) -> Result<(), String> {
    let line = answer.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let line = line.trim_end();
    let mut words = line.split_ascii_whitespace();
    let (Some(proto), Some(code)) = (words.next(), words.next()) else {
        return Err(format!("no HTTP status line (got {line:?})"));
    };
    if !proto.starts_with("HTTP/") || code.len() != 3 {
        return Err(format!("no HTTP status line (got {line:?})"));
    }
    if code.starts_with('2') {
        Ok(())
    } else {
        Err(format!("HTTP status {code}"))
    }
}

fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and suitably aligned.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in, sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in6, sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// `/bin/sh -c COMMAND` with the program's environment, directory and user, output
/// discarded, in a process group of its own; its pid (the loop reaps it).
fn spawn_command(cmd: &str, cfg: &ProcessConfig) -> Result<i32, String> {
    let mut c = Command::new("/bin/sh");
    c.arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .envs(cfg.environment.iter().map(|(k, v)| (k, v)))
        .process_group(0);
    if let Some(dir) = &cfg.directory {
        c.current_dir(dir);
    }
    // SAFETY: geteuid has no preconditions.
    if let (Some(u), 0) = (&cfg.user, unsafe { libc::geteuid() }) {
        c.uid(u.uid).gid(u.gid);
    }
    let child = c.spawn().map_err(|e| format!("probe command: {e}"))?;
    // The loop reaps it by pid (waitpid(-1)); `Child` is only dropped, never waited on.
    Ok(child.id() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(http_status(b"HTTP/1.1 200 OK\r\n"), Ok(()));
        assert_eq!(http_status(b"HTTP/1.0 204 No Content\r\n"), Ok(()));
        assert_eq!(
            http_status(b"HTTP/1.1 503 Busy\r\n"),
            Err("HTTP status 503".into())
        );
        assert!(http_status(b"SSH-2.0-OpenSSH\r\n").is_err());
        assert!(http_status(b"").is_err());
    }

    fn finish(conn: &mut Conn) -> Result<(), String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match conn.step() {
                Step::Done(r) => return r,
                Step::Wait(_) => {
                    assert!(std::time::Instant::now() < deadline, "check never finished");
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
        }
    }

    #[test]
    fn tcp_and_http_against_a_local_listener() {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            drop(s.write_all(b""));
            let (mut s2, _) = l.accept().unwrap();
            let mut head = [0u8; 512];
            let n = s2.read(&mut head).unwrap();
            s2.write_all(b"HTTP/1.0 200 OK\r\n\r\n").unwrap();
            s.flush().unwrap();
            String::from_utf8_lossy(&head[..n]).into_owned()
        });
        let mut tcp = Conn::connect(addr, None).unwrap();
        assert_eq!(finish(&mut tcp), Ok(()));
        let req = b"GET /h HTTP/1.0\r\nHost: x\r\n\r\n".to_vec();
        let mut http = Conn::connect(addr, Some(req)).unwrap();
        assert_eq!(finish(&mut http), Ok(()));
        assert!(server.join().unwrap().starts_with("GET /h HTTP/1.0\r\n"));
    }

    #[test]
    fn refused_connection_fails() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let mut c = Conn::connect(port, None).unwrap();
        assert!(finish(&mut c).unwrap_err().contains("refused"));
    }
}
