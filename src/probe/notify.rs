//! The sd_notify side of the daemon: one datagram socket per running process in the abstract
//! namespace (`NOTIFY_SOCKET=@...`, so nothing is left in the file system), with SO_PASSCRED
//! so every datagram carries its sender's uid, and the parsing of its `KEY=VALUE` lines.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

/// The largest datagram read; a longer one is dropped whole (MSG_TRUNC), as systemd does.
pub const DATAGRAM_MAX: usize = 4096;
/// Datagrams read per wake-up, so a chatty sender cannot hold the loop.
pub const READS_PER_WAKE: usize = 16;
/// The longest `STATUS=` kept (it becomes the process description).
pub const STATUS_MAX: usize = 256;

/// What a datagram said that the daemon acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Ready,
    Status(String),
    Stopping,
    MainPid(i32),
    Watchdog,
    /// `WATCHDOG=trigger`: the program asks to be treated as hung.
    WatchdogTrigger,
}

/// Every message of one datagram, in order; unknown lines are ignored, as by systemd.
pub fn parse(datagram: &[u8], out: &mut Vec<Message>) {
    for line in datagram.split(|&b| b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let m = match (key, value) {
            ("READY", "1") => Message::Ready,
            ("STOPPING", "1") => Message::Stopping,
            ("WATCHDOG", "1") => Message::Watchdog,
            ("WATCHDOG", "trigger") => Message::WatchdogTrigger,
            ("STATUS", v) => {
                let mut end = v.len().min(STATUS_MAX);
                while !v.is_char_boundary(end) {
                    end -= 1;
                }
                Message::Status(v[..end].to_string())
            }
            ("MAINPID", v) => match v.parse::<i32>() {
                Ok(pid) if pid > 0 => Message::MainPid(pid),
                _ => continue,
            },
            _ => continue,
        };
        out.push(m);
    }
}

pub struct NotifySocket {
    fd: OwnedFd,
    /// The value of `NOTIFY_SOCKET` (`@` stands for the abstract namespace's NUL).
    pub name: String,
}

static SERIAL: AtomicU64 = AtomicU64::new(0);

impl NotifySocket {
    /// A fresh socket whose name says whose it is (daemon pid, process name, a serial).
    pub fn new(process: &str) -> io::Result<NotifySocket> {
        // SAFETY: plain system call; the descriptor is owned at once.
        let raw = unsafe {
            libc::socket(
                libc::AF_UNIX,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: raw is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let safe: String = process
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .take(40)
            .collect();
        let name = format!(
            "@supervisord/{}/{safe}/{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::Relaxed)
        );
        // SAFETY: all-zero is a valid sockaddr_un.
        let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        // sun_path[0] stays NUL: the abstract namespace.
        for (dst, &b) in addr.sun_path[1..]
            .iter_mut()
            .zip(name.as_bytes()[1..].iter())
        {
            *dst = b as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sa_family_t>() + name.len();
        // SAFETY: addr is a valid sockaddr_un and len stays within it (name < 108 bytes).
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &addr as *const _ as *const libc::sockaddr,
                len as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let one: libc::c_int = 1;
        // SAFETY: `one` is a valid c_int for setsockopt to read.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_PASSCRED,
                &one as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(NotifySocket { fd, name })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Reads what is waiting (at most `READS_PER_WAKE` datagrams) and appends the messages of
    /// those whose sender's uid `accept` allows.
    pub fn receive(&self, accept: impl Fn(u32) -> bool, out: &mut Vec<Message>) {
        let mut data = [0u8; DATAGRAM_MAX];
        // u64s: cmsg data must be aligned.
        let mut control = [0u64; 16];
        for _ in 0..READS_PER_WAKE {
            let mut iov = libc::iovec {
                iov_base: data.as_mut_ptr() as *mut libc::c_void,
                iov_len: data.len(),
            };
            // SAFETY: all-zero is a valid msghdr; the pointers set below outlive the call.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
            msg.msg_controllen = std::mem::size_of_val(&control) as _;
            // SAFETY: msg points to valid buffers of the sizes it states.
            let n = unsafe {
                libc::recvmsg(
                    self.fd.as_raw_fd(),
                    &mut msg,
                    libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC,
                )
            };
            if n < 0 {
                // EAGAIN: drained. Anything else: nothing more to read this turn.
                return;
            }
            let uid = credentials_uid(&msg);
            // Passed descriptors (FDSTORE) are closed by MSG_CMSG_CLOEXEC only at exec:
            // close them now, since nothing here keeps them.
            close_rights(&msg);
            if msg.msg_flags & libc::MSG_TRUNC != 0 {
                continue;
            }
            if uid.is_some_and(&accept) {
                parse(&data[..n as usize], out);
            }
        }
    }
}

fn credentials_uid(msg: &libc::msghdr) -> Option<u32> {
    // SAFETY: msg was filled by recvmsg; the CMSG macros walk its control buffer.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_CREDENTIALS {
                let cred = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::ucred);
                return Some(cred.uid);
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    None
}

fn close_rights(msg: &libc::msghdr) {
    // SAFETY: as in credentials_uid; every SCM_RIGHTS descriptor is ours to close.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let bytes = (*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let p = libc::CMSG_DATA(c) as *const libc::c_int;
                for i in 0..bytes / std::mem::size_of::<libc::c_int>() {
                    libc::close(std::ptr::read_unaligned(p.add(i)));
                }
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_lines_it_knows() {
        let mut out = Vec::new();
        parse(
            b"READY=1\nSTATUS=Listening on 80\nMAINPID=42\nWATCHDOG=1\nX=1\nnoise\nSTOPPING=1",
            &mut out,
        );
        assert_eq!(
            out,
            vec![
                Message::Ready,
                Message::Status("Listening on 80".into()),
                Message::MainPid(42),
                Message::Watchdog,
                Message::Stopping
            ]
        );
        out.clear();
        parse(b"READY=0\nMAINPID=-3\nWATCHDOG=trigger", &mut out);
        assert_eq!(out, vec![Message::WatchdogTrigger]);
    }

    #[test]
    fn status_is_bounded_on_a_char_boundary() {
        let mut out = Vec::new();
        let long = format!("STATUS={}", "é".repeat(STATUS_MAX));
        parse(long.as_bytes(), &mut out);
        let Message::Status(s) = &out[0] else {
            panic!("{out:?}")
        };
        assert!(s.len() <= STATUS_MAX && s.len() >= STATUS_MAX - 1);
    }

    #[test]
    fn receives_with_credentials() {
        use std::os::linux::net::SocketAddrExt;
        let s = NotifySocket::new("t/x y").unwrap();
        assert!(s.name.starts_with("@supervisord/"), "{}", s.name);
        let mut path = vec![0u8];
        path.extend_from_slice(&s.name.as_bytes()[1..]);
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(&path[1..]).unwrap();
        let tx = std::os::unix::net::UnixDatagram::unbound().unwrap();
        tx.send_to_addr(b"READY=1\nSTATUS=up", &addr).unwrap();
        let mut out = Vec::new();
        // SAFETY: getuid has no preconditions.
        let me = unsafe { libc::getuid() };
        s.receive(|uid| uid == me, &mut out);
        assert_eq!(out, vec![Message::Ready, Message::Status("up".into())]);
        tx.send_to_addr(b"READY=1", &addr).unwrap();
        out.clear();
        s.receive(|_| false, &mut out);
        assert!(out.is_empty(), "a refused sender's datagram is dropped");
    }
}
