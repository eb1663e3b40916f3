//! A log file that rotates by size (`<file>.1 .2 …`), shared by child logs and the main log.
//!
//! Unlike Supervisor, a file never exceeds `maxbytes` (README P12), and files are cut at line
//! boundaries: a file ends at the last newline that fits, and the rest of the write starts the
//! next file. A line that began in the file (written by an earlier write, or spliced) and does
//! not fit moves whole to the next file; only a line longer than `maxbytes` is split. Every
//! byte is kept, in order. Files that are not regular files (a FIFO, a tty) are written to but
//! never rotated, and neither are the console streams (`/dev/stdout`, `/dev/fd/N`, ...) when
//! supervisord's own output goes to a file: their path names a link, not a log, so it is never
//! renamed or removed (Supervisor renames or unlinks `/dev/stdout` itself there), and the
//! description is the caller's, so its O_APPEND is never cleared for a splice. Opening
//! refuses another user's symlink in a sticky directory (`open`).
//!
//! The parts: cutting at line boundaries and reading the cut line back (`lines`), splicing a
//! pipe into the file (`splice`), and the numbered backups with rotation on demand
//! (`backups`).

mod backups;
mod lines;
mod splice;

pub use backups::{rotate_closed, Keep, Rotation};

use super::open::{is_console, open_append};
use backups::remove_if_exists;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, FileTypeExt};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    maxbytes: u64,
    backups: u32,
    size: u64,
    rotatable: bool,
    /// O_APPEND was cleared for splice; writes go to the current end explicitly.
    positioned: bool,
    /// The file is empty or ends with a newline: `Some(true)`; ends inside a line:
    /// `Some(false)`; not known (spliced bytes, a file we found): `None`, and read back.
    at_line_start: Option<bool>,
}

impl RotatingFile {
    /// Opens `path` for appending. `maxbytes <= 0` disables rotation; `backups <= 0` truncates
    /// instead of keeping backups.
    pub fn open(path: &Path, maxbytes: i64, backups: i64) -> io::Result<RotatingFile> {
        let file = open_append(path)?;
        let meta = file.metadata()?;
        let ft = meta.file_type();
        let rotatable = ft.is_file() && !ft.is_fifo() && !is_console(path);
        Ok(RotatingFile {
            path: path.to_path_buf(),
            size: if rotatable { meta.len() } else { 0 },
            file,
            maxbytes: maxbytes.max(0) as u64,
            backups: backups.clamp(0, 9999) as u32,
            rotatable,
            positioned: false,
            at_line_start: (meta.len() == 0).then_some(true),
        })
    }

    fn put(&mut self, data: &[u8]) -> io::Result<()> {
        if self.positioned {
            let end = self.file.metadata()?.len();
            self.file.write_all_at(data, end)?;
        } else {
            self.file.write_all(data)?;
        }
        if let Some(&last) = data.last() {
            self.at_line_start = Some(last == b'\n');
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Current size as this writer knows it (bytes in the live file).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// New rotation settings for the open file (`update` applies them in place); a file
    /// already past a smaller `maxbytes` rotates at the next write.
    pub fn set_limits(&mut self, maxbytes: i64, backups: i64) {
        self.maxbytes = maxbytes.max(0) as u64;
        self.backups = backups.clamp(0, 9999) as u32;
    }

    /// Closes and reopens the same path (after an external logrotate moved the file).
    pub fn reopen(&mut self) -> io::Result<()> {
        let fresh = RotatingFile::open(&self.path, self.maxbytes as i64, self.backups as i64)?;
        *self = fresh;
        Ok(())
    }

    /// Removes the live file and starts an empty one; backups are kept.
    pub fn clear(&mut self) -> io::Result<()> {
        if self.rotatable {
            remove_if_exists(&self.path)?;
        }
        self.reopen()
    }
}

#[cfg(test)]
mod tests {
    use super::backups::numbered;
    use super::*;
    use crate::testutil::TempDir;
    use std::fs;
    use std::os::fd::AsRawFd;

    pub(super) fn read(p: &Path) -> Vec<u8> {
        fs::read(p).unwrap_or_default()
    }

    /// The backups oldest first, then the live file.
    pub(super) fn files(p: &Path) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = (1..=500)
            .rev()
            .map(|n| numbered(p, n))
            .filter(|b| b.exists())
            .map(|b| read(&b))
            .collect();
        out.push(read(p));
        out
    }

    pub(super) fn nonblocking_pipe() -> (std::os::fd::OwnedFd, File) {
        crate::testutil::pipe(libc::O_NONBLOCK)
    }

    #[test]
    fn console_streams_are_never_rotated_or_removed() {
        // A console stream that is a regular file: written, not rotated, not removed.
        let dir = TempDir::new("rot7");
        let p = dir.path().join("console");
        let file = File::create(&p).unwrap();
        let link = format!("/proc/self/fd/{}", file.as_raw_fd());
        let mut f = RotatingFile::open(Path::new(&link), 4, 1).unwrap();
        f.write_all(b"0123456789").unwrap();
        f.clear().unwrap();
        f.write_all(b"x").unwrap();
        assert_eq!(read(&p), b"0123456789x");
        let (r, mut w) = nonblocking_pipe();
        w.write_all(b"s").unwrap();
        use std::os::fd::AsFd;
        assert_eq!(f.splice_from(r.as_fd(), 1 << 20, 0).unwrap(), None);
    }

    #[test]
    fn clear_and_reopen() {
        let dir = TempDir::new("rot5");
        let p = dir.path().join("x.log");
        let mut f = RotatingFile::open(&p, 0, 0).unwrap();
        f.write_all(b"hello").unwrap();
        f.clear().unwrap();
        f.write_all(b"x").unwrap();
        assert_eq!(read(&p), b"x");
        fs::rename(&p, dir.path().join("moved")).unwrap();
        f.reopen().unwrap();
        f.write_all(b"y").unwrap();
        assert_eq!(read(&p), b"y");
    }

    #[test]
    fn new_limits_apply_to_the_open_file() {
        let dir = TempDir::new("rot-limits");
        let p = dir.path().join("x.log");
        let mut f = RotatingFile::open(&p, 0, 0).unwrap();
        f.write_all(b"aaaa\nbbbb\n").unwrap();
        f.set_limits(8, 1);
        f.write_all(b"c\n").unwrap();
        assert_eq!(files(&p), [&b"aaaa\nbbbb\n"[..], b"c\n"]);
    }
}
