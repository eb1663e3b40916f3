//! Signals reach the loop through a self-pipe: the handler (signal-hook) only sets a flag and
//! writes a byte; the loop polls the pipe's read end and then reads the flags.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The signals supervisord acts on, in the order one pass handles them.
pub const HANDLED: [i32; 7] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGHUP,
    libc::SIGUSR2,
    libc::SIGCHLD,
    libc::SIGUSR1,
];

pub struct Signals {
    read: UnixStream,
    flags: Vec<(i32, Arc<AtomicBool>)>,
}

impl Signals {
    pub fn install() -> io::Result<Signals> {
        let (read, write) = UnixStream::pair()?;
        read.set_nonblocking(true)?;
        let mut flags = Vec::new();
        for sig in HANDLED {
            let flag = Arc::new(AtomicBool::new(false));
            signal_hook::flag::register(sig, Arc::clone(&flag))?;
            signal_hook::low_level::pipe::register(sig, write.try_clone()?)?;
            flags.push((sig, flag));
        }
        Ok(Signals { read, flags })
    }

    pub fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Empties the wake-up pipe and returns the signals that arrived since the last call.
    pub fn take(&mut self) -> Vec<i32> {
        let mut buf = [0u8; 64];
        // Drain until EAGAIN; the flags, not the bytes, say which signals came.
        while let Ok(n) = self.read.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        self.flags
            .iter()
            .filter(|(_, f)| f.swap(false, Ordering::SeqCst))
            .map(|(s, _)| *s)
            .collect()
    }
}
