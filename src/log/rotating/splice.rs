//! Splicing a child's pipe into a rotating file: `splice_from` moves the bytes inside the
//! kernel (one copy instead of read + write). splice(2) refuses O_APPEND files, so the first
//! splice turns the file "positioned": O_APPEND is cleared and every later write goes to the
//! end the kernel reports at that moment (fstat), which keeps append semantics when the file
//! is truncated behind our back (logrotate copytruncate), short of atomicity against other
//! writers.

use super::RotatingFile;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

impl RotatingFile {
    /// Moves up to `max` bytes from `pipe` into the file without copying them through user
    /// space. `Ok(None)`: not a regular file, or within `slack` bytes of the rotation limit,
    /// where the caller's read + `write_all` path splits at a newline as usual. `Ok(Some(0))`
    /// is end of file; `WouldBlock` means the pipe is empty.
    ///
    /// Only regular files: into a pipe (`/dev/stdout` under a container runtime) a
    /// non-blocking splice could not tell a full target from an empty source, and the
    /// level-triggered loop would spin while the reader of our stdout lags.
    pub fn splice_from(
        &mut self,
        pipe: BorrowedFd<'_>,
        max: usize,
        slack: usize,
    ) -> io::Result<Option<usize>> {
        let mut len = max;
        if self.rotatable && self.maxbytes > 0 {
            let room = self.maxbytes.saturating_sub(self.size);
            if room <= slack as u64 {
                return Ok(None);
            }
            len = len.min((room - slack as u64) as usize);
        }
        let flags = libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK;
        let n = if self.rotatable {
            if !self.positioned {
                self.set_positioned()?;
            }
            let mut off = self.file.metadata()?.len() as libc::loff_t;
            // SAFETY: both descriptors are open; off is a local the kernel may update.
            unsafe {
                libc::splice(
                    pipe.as_raw_fd(),
                    std::ptr::null_mut(),
                    self.file.as_raw_fd(),
                    &mut off,
                    len,
                    flags,
                )
            }
        } else {
            return Ok(None);
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        self.size += n as u64;
        if n > 0 {
            self.at_line_start = None;
        }
        if self.rotatable && self.maxbytes > 0 && self.size >= self.maxbytes {
            self.rotate_at_line()?;
        }
        Ok(Some(n))
    }

    pub(super) fn set_positioned(&mut self) -> io::Result<()> {
        // open_append set no status flag but O_APPEND (F_SETFL ignores the access mode), so
        // clearing them all is clearing O_APPEND, without an F_GETFL first.
        // SAFETY: F_SETFL on a descriptor we own.
        if unsafe { libc::fcntl(self.file.as_raw_fd(), libc::F_SETFL, 0) } < 0 {
            return Err(io::Error::last_os_error());
        }
        self.positioned = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::backups::numbered;
    use super::super::tests::{nonblocking_pipe, read};
    use super::*;
    use crate::testutil::TempDir;
    use std::fs::{self, OpenOptions};
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;

    #[test]
    fn splice_appends_and_writes_follow_an_external_truncation() {
        use std::os::fd::AsFd;
        let dir = TempDir::new("rot6");
        let p = dir.path().join("x.log");
        fs::write(&p, b"old\n").unwrap();
        let mut f = RotatingFile::open(&p, 0, 0).unwrap();
        let (r, mut w) = nonblocking_pipe();
        let none = f.splice_from(r.as_fd(), 1 << 20, 0);
        assert_eq!(none.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        w.write_all(b"abc\n").unwrap();
        assert_eq!(f.splice_from(r.as_fd(), 1 << 20, 0).unwrap(), Some(4));
        assert_eq!(read(&p), b"old\nabc\n");
        // Writes after a splice still append, also after someone truncated the file.
        f.write_all(b"w1\n").unwrap();
        assert_eq!(read(&p), b"old\nabc\nw1\n");
        OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        f.write_all(b"w2\n").unwrap();
        w.write_all(b"s2\n").unwrap();
        assert_eq!(f.splice_from(r.as_fd(), 1 << 20, 0).unwrap(), Some(3));
        assert_eq!(read(&p), b"w2\ns2\n");
        drop(w);
        assert_eq!(f.splice_from(r.as_fd(), 1 << 20, 0).unwrap(), Some(0));
    }

    #[test]
    fn splice_stops_short_of_the_limit_and_rotates() {
        use std::os::fd::AsFd;
        let dir = TempDir::new("rot7");
        let p = dir.path().join("x.log");
        let mut f = RotatingFile::open(&p, 20, 1).unwrap();
        let (r, mut w) = nonblocking_pipe();
        w.write_all(b"0123456789abcdefghijKLMN").unwrap();
        // 20 bytes of room, 5 kept as slack for the newline-aware write path.
        assert_eq!(f.splice_from(r.as_fd(), 1 << 20, 5).unwrap(), Some(15));
        assert_eq!(f.splice_from(r.as_fd(), 1 << 20, 5).unwrap(), None);
        assert_eq!(f.size(), 15);
        // With no slack the splice fills the file exactly and rotates.
        assert_eq!(f.splice_from(r.as_fd(), 1 << 20, 0).unwrap(), Some(5));
        assert_eq!(read(&numbered(&p, 1)), b"0123456789abcdefghij");
        assert_eq!(f.size(), 0);
        assert_eq!(f.splice_from(r.as_fd(), 1 << 20, 0).unwrap(), Some(4));
        assert_eq!(read(&p), b"KLMN");
        // After the rotation the fresh file is O_APPEND again and plain writes append.
        f.write_all(b"!").unwrap();
        assert_eq!(read(&p), b"KLMN!");
    }

    #[test]
    fn splice_declines_devices_and_pipes() {
        use std::os::fd::AsFd;
        let dir = TempDir::new("rot8");
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo reads the path only.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Keep a reader open so opening the FIFO for writing does not block or fail.
        let _reader = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        for target in [Path::new("/dev/null"), fifo.as_path()] {
            let mut f = RotatingFile::open(target, 0, 0).unwrap();
            let (r, mut w) = nonblocking_pipe();
            w.write_all(b"x").unwrap();
            assert_eq!(
                f.splice_from(r.as_fd(), 1 << 20, 0).unwrap(),
                None,
                "{target:?}"
            );
        }
    }
}
