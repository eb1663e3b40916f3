//! The few system calls the state owner makes on its children (spawn, kill, reap, a stdin
//! write), behind one small trait so `Supervisor`'s logic runs in unit tests against fake
//! processes (`daemon::sim`), as `process::machine`'s does with fake time. `Real` is the
//! default: each method is the one raw call it replaces, with its errno.

use crate::process::spawn::{self, Child, SpawnPlan};
use crate::process::WaitStatus;
use crate::sys::errno;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

/// What the daemon asks of the operating system about its children. Called per spawn, kill,
/// reap or stdin write, never per byte of output: one dynamic call costs nothing there.
pub trait Os {
    /// Forks and execs `plan` (`process::spawn::spawn`); the error is the spawnerr text.
    fn spawn(
        &mut self,
        plan: &SpawnPlan,
        name: &str,
        stdin: Option<RawFd>,
    ) -> Result<Child, String>;
    /// `kill(2)`; the error is the errno.
    fn kill(&mut self, pid: i32, signal: i32) -> Result<(), i32>;
    /// One exited child, without blocking (`waitpid(-1, WNOHANG)`); `None` when there is
    /// none now (or no child at all, ECHILD).
    fn wait_any(&mut self) -> Option<(i32, WaitStatus)>;
    /// `write(2)` to a non-blocking child stdin; the bytes taken (more than zero), or the
    /// errno.
    fn write(&mut self, fd: BorrowedFd<'_>, bytes: &[u8]) -> Result<usize, i32>;
}

/// The operating system itself.
pub struct Real;

impl Os for Real {
    fn spawn(
        &mut self,
        plan: &SpawnPlan,
        name: &str,
        stdin: Option<RawFd>,
    ) -> Result<Child, String> {
        spawn::spawn(plan, name, stdin)
    }

    fn kill(&mut self, pid: i32, signal: i32) -> Result<(), i32> {
        // SAFETY: kill has no memory-safety preconditions.
        if unsafe { libc::kill(pid, signal) } == 0 {
            Ok(())
        } else {
            Err(errno::last())
        }
    }

    fn wait_any(&mut self) -> Option<(i32, WaitStatus)> {
        let mut status = 0;
        // SAFETY: waitpid writes only into status.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        (pid > 0).then_some((pid, WaitStatus(status)))
    }

    fn write(&mut self, fd: BorrowedFd<'_>, bytes: &[u8]) -> Result<usize, i32> {
        // SAFETY: writing from a live slice to a descriptor the caller holds.
        let n = unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        // Zero bytes taken reads the errno too, as the loop that drains the buffer did.
        if n > 0 {
            Ok(n as usize)
        } else {
            Err(errno::last())
        }
    }
}
