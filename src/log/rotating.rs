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
//! `splice_from` moves bytes from a child's pipe into the file inside the kernel (one copy
//! instead of read + write). splice(2) refuses O_APPEND files, so the first splice turns the
//! file "positioned": O_APPEND is cleared and every later write goes to the end the kernel
//! reports at that moment (fstat), which keeps append semantics when the file is truncated
//! behind our back (logrotate copytruncate), short of atomicity against other writers.
//!
//! `rotate_now` (and `rotate_closed` for a log no process has open) is rotation on demand
//! (`supervisorctl rotate`): the same numbering as size rotation, whatever `maxbytes`. It
//! never discards a byte: an empty file and a file with `backups=0` are kept as they are, and
//! a path that no longer names the open file (logrotate moved it) is only reopened.

use super::open::{is_console, open_append, open_read};
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Bytes read back from a log at a time (to find or move the line that ends it).
const BLOCK: usize = 64 * 1024;

/// What an on-demand rotation did to one log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// Renamed to `<file>.1` (older backups shifted up); a fresh file started.
    Rotated,
    /// The path no longer named the open file (something else rotated it): reopened, nothing
    /// renamed.
    Reopened,
    /// Left as it was, for this reason.
    Kept(Keep),
}

/// Why a rotation on demand left a file as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Nothing in it: rotating would only push a real backup out.
    Empty,
    /// `backups=0`: there is no numbered file to keep the contents in, and rotation on demand
    /// never truncates.
    NoBackups,
    /// A console stream, FIFO or device: written to, never renamed.
    NotAFile,
    /// No file at the path (a stopped process that never wrote).
    Missing,
}

impl Rotation {
    /// One word or phrase for reports (`rotated`, `kept: empty`).
    pub fn describe(self) -> &'static str {
        match self {
            Rotation::Rotated => "rotated",
            Rotation::Reopened => "reopened (moved by someone else)",
            Rotation::Kept(Keep::Empty) => "not rotated: empty",
            Rotation::Kept(Keep::NoBackups) => "not rotated: backups=0",
            Rotation::Kept(Keep::NotAFile) => "not rotated: not a regular file",
            Rotation::Kept(Keep::Missing) => "not rotated: no file",
        }
    }
}

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

    fn set_positioned(&mut self) -> io::Result<()> {
        // open_append set no status flag but O_APPEND (F_SETFL ignores the access mode), so
        // clearing them all is clearing O_APPEND, without an F_GETFL first.
        // SAFETY: F_SETFL on a descriptor we own.
        if unsafe { libc::fcntl(self.file.as_raw_fd(), libc::F_SETFL, 0) } < 0 {
            return Err(io::Error::last_os_error());
        }
        self.positioned = true;
        Ok(())
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

    /// Writes every byte, rotating as often as the limit requires, at line boundaries.
    pub fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        if !self.rotatable || self.maxbytes == 0 {
            self.put(data)?;
            self.size += data.len() as u64;
            return Ok(());
        }
        while !data.is_empty() {
            if self.size >= self.maxbytes {
                self.rotate_at_line()?;
            }
            let room = (self.maxbytes - self.size) as usize;
            let cut = if data.len() <= room {
                data.len()
            } else if let Some(nl) = data[..room].iter().rposition(|&b| b == b'\n') {
                nl + 1
            } else {
                // No line of `data` ends in this file. Unless the file is one line, it ends
                // at its last newline, and the line it ends with moves on with the rest.
                let partial = self.partial_line()?;
                if partial < self.size {
                    self.rotate_keeping(partial)?;
                    continue;
                }
                room
            };
            self.put(&data[..cut])?;
            self.size += cut as u64;
            data = &data[cut..];
            if !data.is_empty() && self.at_line_start == Some(true) {
                self.rotate()?;
            }
        }
        if self.size >= self.maxbytes {
            self.rotate_at_line()?;
        }
        Ok(())
    }

    /// How many bytes at the end of the file follow its last newline (all of them if it has
    /// none). Read back only when not known from our own writes.
    fn partial_line(&mut self) -> io::Result<u64> {
        if self.at_line_start == Some(true) {
            return Ok(0);
        }
        let Some(reader) = self.reader() else {
            // Unreadable: as if it were one line, which is split as before.
            return Ok(self.size);
        };
        let end = reader.metadata()?.len();
        let mut block = vec![0u8; BLOCK.min(end as usize)];
        let mut pos = end;
        while pos > 0 {
            let n = block.len().min(pos as usize);
            let chunk = &mut block[..n];
            reader.read_exact_at(chunk, pos - n as u64)?;
            if let Some(nl) = chunk.iter().rposition(|&b| b == b'\n') {
                let partial = end - (pos - n as u64 + nl as u64 + 1);
                self.at_line_start = Some(partial == 0);
                return Ok(partial);
            }
            pos -= n as u64;
        }
        Ok(end)
    }

    /// The live file, opened for reading, if the path still names it.
    fn reader(&self) -> Option<File> {
        let reader = open_read(&self.path).ok()?;
        let (ours, theirs) = (self.file.metadata().ok()?, reader.metadata().ok()?);
        (ours.dev() == theirs.dev() && ours.ino() == theirs.ino()).then_some(reader)
    }

    /// The file is full: rotate, moving the line it ends with to the next file unless that
    /// line is the whole file (longer than `maxbytes`, so split in any case).
    fn rotate_at_line(&mut self) -> io::Result<()> {
        let partial = self.partial_line()?;
        if partial < self.size {
            self.rotate_keeping(partial)
        } else {
            self.rotate()
        }
    }

    /// Rotates, and the last `partial` bytes of the old file (an unfinished line) become the
    /// start of the new one: copied first, then cut from the old file, so a crash in between
    /// duplicates them rather than losing them.
    fn rotate_keeping(&mut self, partial: u64) -> io::Result<()> {
        let reader = match self.reader() {
            Some(r) if partial > 0 => r,
            _ => return self.rotate(),
        };
        let end = reader.metadata()?.len();
        let Some(from) = end.checked_sub(partial) else {
            return self.rotate();
        };
        let mut block = vec![0u8; BLOCK.min(partial as usize)];
        if self.backups > 0 {
            let old = self.rotate_files()?;
            let mut done = 0;
            while done < partial {
                let n = block.len().min((partial - done) as usize);
                reader.read_exact_at(&mut block[..n], from + done)?;
                self.file.write_all(&block[..n])?;
                done += n as u64;
            }
            old.set_len(from)?;
        } else {
            // The same file starts again with the line: moved to its front, then cut there.
            if !self.positioned {
                self.set_positioned()?;
            }
            let mut done = 0;
            while done < partial {
                let n = block.len().min((partial - done) as usize);
                reader.read_exact_at(&mut block[..n], from + done)?;
                self.file.write_all_at(&block[..n], done)?;
                done += n as u64;
            }
            self.file.set_len(partial)?;
        }
        self.size = partial;
        self.at_line_start = Some(false);
        Ok(())
    }

    /// Shifts `<file>.N` up by one and starts a fresh `<file>`.
    fn rotate(&mut self) -> io::Result<()> {
        if self.backups > 0 {
            self.rotate_files()?;
        } else {
            self.file.set_len(0)?;
        }
        self.size = 0;
        self.at_line_start = Some(true);
        Ok(())
    }

    /// Renames the backups and the live file up by one and opens a fresh live file; returns
    /// the old one (now `<file>.1`).
    fn rotate_files(&mut self) -> io::Result<File> {
        shift(&self.path, self.backups)?;
        let fresh = open_append(&self.path)?;
        self.positioned = false;
        Ok(std::mem::replace(&mut self.file, fresh))
    }

    /// Rotation on demand: the same numbering as size rotation, also with `maxbytes=0`. An
    /// unfinished last line moves to the fresh file, as it would at the size limit.
    pub fn rotate_now(&mut self) -> io::Result<Rotation> {
        if !self.rotatable {
            return Ok(Rotation::Kept(Keep::NotAFile));
        }
        let ours = self.file.metadata()?;
        let same =
            fs::metadata(&self.path).is_ok_and(|m| m.dev() == ours.dev() && m.ino() == ours.ino());
        if !same {
            self.reopen()?;
            return Ok(Rotation::Reopened);
        }
        if ours.len() == 0 {
            return Ok(Rotation::Kept(Keep::Empty));
        }
        if self.backups == 0 {
            return Ok(Rotation::Kept(Keep::NoBackups));
        }
        // The file as it is now, also if someone truncated or appended behind our back.
        self.size = ours.len();
        self.rotate_at_line()?;
        Ok(Rotation::Rotated)
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

/// Rotation on demand of a log no process has open: `<file>` becomes `<file>.1` and an empty
/// `<file>` takes its place (as `rotate_now`, with nothing to move or reopen).
pub fn rotate_closed(path: &Path, backups: i64) -> io::Result<Rotation> {
    if is_console(path) {
        return Ok(Rotation::Kept(Keep::NotAFile));
    }
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Rotation::Kept(Keep::Missing)),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_file() {
        return Ok(Rotation::Kept(Keep::NotAFile));
    }
    if meta.len() == 0 {
        return Ok(Rotation::Kept(Keep::Empty));
    }
    if backups <= 0 {
        return Ok(Rotation::Kept(Keep::NoBackups));
    }
    shift(path, backups.min(9999) as u32)?;
    open_append(path)?;
    Ok(Rotation::Rotated)
}

/// Renames `<file>.N` to `<file>.N+1` (the one at `backups` falls off), then `<file>` to
/// `<file>.1`.
fn shift(path: &Path, backups: u32) -> io::Result<()> {
    for i in (1..backups).rev() {
        let from = numbered(path, i);
        let to = numbered(path, i + 1);
        if from.exists() {
            remove_if_exists(&to)?;
            fs::rename(&from, &to)?;
        }
    }
    let first = numbered(path, 1);
    remove_if_exists(&first)?;
    fs::rename(path, &first)
}

fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;
    use std::fs::OpenOptions;
    use std::os::unix::fs::OpenOptionsExt;

    fn read(p: &Path) -> Vec<u8> {
        fs::read(p).unwrap_or_default()
    }

    /// The backups oldest first, then the live file.
    fn files(p: &Path) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = (1..=500)
            .rev()
            .map(|n| numbered(p, n))
            .filter(|b| b.exists())
            .map(|b| read(&b))
            .collect();
        out.push(read(p));
        out
    }

    #[test]
    fn files_start_and_end_at_lines_whatever_the_writes() {
        let dir = TempDir::new("rot-lines");
        let p = dir.path().join("x.log");
        let mut f = RotatingFile::open(&p, 1024, 500).unwrap();
        let all: Vec<u8> = (0..400)
            .flat_map(|i| format!("{i:04} {}\n", "y".repeat(94)).into_bytes())
            .collect();
        // Writes of every size from 1 to 299 bytes: most end inside a line.
        let (mut at, mut n) = (0, 1);
        while at < all.len() {
            let end = (at + n).min(all.len());
            f.write_all(&all[at..end]).unwrap();
            at = end;
            n = n % 299 + 1;
        }
        let files = files(&p);
        assert!(files.len() > 30);
        for (i, data) in files.iter().enumerate() {
            assert!(data.len() <= 1024, "file {i} has {} bytes", data.len());
            if i + 1 < files.len() {
                assert_eq!(data.len() % 100, 0, "file {i} holds part of a line");
                assert_eq!(data.last(), Some(&b'\n'), "file {i}");
                assert!(
                    data.len() > 1024 - 100,
                    "file {i} cut early: {}",
                    data.len()
                );
            }
        }
        assert_eq!(files.concat(), all);
    }

    #[test]
    fn only_a_line_longer_than_maxbytes_is_split() {
        let dir = TempDir::new("rot-long");
        let p = dir.path().join("x.log");
        let mut f = RotatingFile::open(&p, 10, 5).unwrap();
        f.write_all(b"ab\n0123456789abcdef\nxy\n").unwrap();
        let want: [&[u8]; 4] = [b"ab\n", b"0123456789", b"abcdef\nxy\n", b""];
        assert_eq!(files(&p), want);
    }

    #[test]
    fn a_line_begun_by_an_earlier_write_moves_to_the_next_file() {
        for backups in [1, 0] {
            let dir = TempDir::new("rot-move");
            let p = dir.path().join("x.log");
            let mut f = RotatingFile::open(&p, 10, backups).unwrap();
            f.write_all(b"ab\ncd").unwrap();
            f.write_all(b"efghij\n").unwrap();
            assert_eq!(read(&p), b"cdefghij\n", "backups={backups}");
            assert_eq!(f.size(), 9);
            if backups > 0 {
                assert_eq!(read(&numbered(&p, 1)), b"ab\n");
            }
            // Full with an unfinished line: that line starts the next file.
            f.write_all(b"k").unwrap();
            assert_eq!(read(&p), b"k");
            if backups > 0 {
                assert_eq!(read(&numbered(&p, 1)), b"cdefghij\n");
            }
        }
    }

    #[test]
    fn a_spliced_line_is_found_and_moved_too() {
        use std::os::fd::AsFd;
        let dir = TempDir::new("rot-splice-line");
        let p = dir.path().join("x.log");
        let mut f = RotatingFile::open(&p, 12, 3).unwrap();
        let (r, mut w) = nonblocking_pipe();
        w.write_all(b"aaaa\nbbbb").unwrap();
        assert_eq!(f.splice_from(r.as_fd(), 1 << 20, 0).unwrap(), Some(9));
        f.write_all(b"bbbb\ncc\n").unwrap();
        let want: [&[u8]; 3] = [b"aaaa\n", b"bbbbbbbb\ncc\n", b""];
        assert_eq!(files(&p), want);
    }

    #[test]
    fn never_exceeds_maxbytes_and_loses_nothing() {
        let dir = TempDir::new("rot");
        let p = dir.path().join("x.log");
        let mut f = RotatingFile::open(&p, 100, 500).unwrap();
        let mut all = Vec::new();
        for i in 0..200 {
            let line = format!("line {i:05} {}\n", "z".repeat(i % 37));
            all.extend_from_slice(line.as_bytes());
            f.write_all(line.as_bytes()).unwrap();
        }
        let mut got = Vec::new();
        let mut n = 500;
        while n > 0 {
            let b = numbered(&p, n);
            if b.exists() {
                let data = read(&b);
                assert!(data.len() <= 100, "{} is {} bytes", b.display(), data.len());
                got.extend(data);
            }
            n -= 1;
        }
        let live = read(&p);
        assert!(live.len() <= 100);
        got.extend(live);
        assert_eq!(got, all);
    }

    #[test]
    fn keeps_at_most_backups() {
        let dir = TempDir::new("rot2");
        let p = dir.path().join("x.log");
        let mut f = RotatingFile::open(&p, 10, 2).unwrap();
        for _ in 0..10 {
            f.write_all(b"0123456789").unwrap();
        }
        assert!(numbered(&p, 1).exists());
        assert!(numbered(&p, 2).exists());
        assert!(!numbered(&p, 3).exists());
    }

    #[test]
    fn zero_backups_truncates() {
        let dir = TempDir::new("rot3");
        let p = dir.path().join("x.log");
        let mut f = RotatingFile::open(&p, 10, 0).unwrap();
        f.write_all(b"0123456789abc").unwrap();
        assert!(!numbered(&p, 1).exists());
        assert_eq!(read(&p), b"abc");
    }

    #[test]
    fn existing_size_counts_toward_limit() {
        let dir = TempDir::new("rot4");
        let p = dir.path().join("x.log");
        fs::write(&p, b"12345678").unwrap();
        let mut f = RotatingFile::open(&p, 10, 1).unwrap();
        f.write_all(b"abcd").unwrap();
        assert_eq!(read(&numbered(&p, 1)), b"12345678ab");
        assert_eq!(read(&p), b"cd");
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

    #[test]
    fn rotate_now_keeps_the_numbering_whatever_maxbytes() {
        let dir = TempDir::new("rot-now");
        let p = dir.path().join("x.log");
        fs::write(numbered(&p, 1), b"older\n").unwrap();
        let mut f = RotatingFile::open(&p, 0, 3).unwrap();
        f.write_all(b"one\ntwo\n").unwrap();
        assert_eq!(f.rotate_now().unwrap(), Rotation::Rotated);
        assert_eq!(files(&p), [&b"older\n"[..], b"one\ntwo\n", b""]);
        f.write_all(b"three\n").unwrap();
        assert_eq!(read(&p), b"three\n");
        // An empty file is not rotated: the backups stay where they are.
        let mut g = RotatingFile::open(&dir.path().join("e.log"), 0, 3).unwrap();
        assert_eq!(g.rotate_now().unwrap(), Rotation::Kept(Keep::Empty));
        assert!(!numbered(&dir.path().join("e.log"), 1).exists());
    }

    #[test]
    fn rotate_now_moves_an_unfinished_line_to_the_fresh_file() {
        let dir = TempDir::new("rot-now-line");
        let p = dir.path().join("x.log");
        let mut f = RotatingFile::open(&p, 0, 1).unwrap();
        f.write_all(b"done\nhalf").unwrap();
        assert_eq!(f.rotate_now().unwrap(), Rotation::Rotated);
        f.write_all(b" a line\n").unwrap();
        assert_eq!(files(&p), [&b"done\n"[..], b"half a line\n"]);
    }

    #[test]
    fn rotate_now_never_truncates_and_follows_a_move() {
        let dir = TempDir::new("rot-now-keep");
        let p = dir.path().join("x.log");
        let mut f = RotatingFile::open(&p, 10, 0).unwrap();
        f.write_all(b"keep\n").unwrap();
        assert_eq!(f.rotate_now().unwrap(), Rotation::Kept(Keep::NoBackups));
        assert_eq!(read(&p), b"keep\n");
        assert!(!numbered(&p, 1).exists());
        // logrotate moved it (and created a new one): reopened, not rotated again.
        fs::rename(&p, dir.path().join("x.log-moved")).unwrap();
        fs::write(&p, b"").unwrap();
        assert_eq!(f.rotate_now().unwrap(), Rotation::Reopened);
        f.write_all(b"new\n").unwrap();
        assert_eq!(read(&p), b"new\n");
        assert_eq!(read(&dir.path().join("x.log-moved")), b"keep\n");
    }

    #[test]
    fn rotate_closed_and_console_paths() {
        let dir = TempDir::new("rot-closed");
        let p = dir.path().join("x.log");
        assert_eq!(rotate_closed(&p, 2).unwrap(), Rotation::Kept(Keep::Missing));
        fs::write(&p, b"a\n").unwrap();
        assert_eq!(
            rotate_closed(&p, 0).unwrap(),
            Rotation::Kept(Keep::NoBackups)
        );
        assert_eq!(rotate_closed(&p, 2).unwrap(), Rotation::Rotated);
        assert_eq!(files(&p), [&b"a\n"[..], b""]);
        assert_eq!(rotate_closed(&p, 2).unwrap(), Rotation::Kept(Keep::Empty));
        let out = Path::new("/dev/stdout");
        assert_eq!(
            rotate_closed(out, 2).unwrap(),
            Rotation::Kept(Keep::NotAFile)
        );
        let mut console = RotatingFile::open(Path::new("/dev/null"), 0, 2).unwrap();
        assert_eq!(
            console.rotate_now().unwrap(),
            Rotation::Kept(Keep::NotAFile)
        );
    }

    fn nonblocking_pipe() -> (std::os::fd::OwnedFd, File) {
        crate::testutil::pipe(libc::O_NONBLOCK)
    }

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
