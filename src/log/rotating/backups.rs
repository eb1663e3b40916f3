//! The numbered backups of a rotating file (`<file>.1 .2 …`): shifting them up at each
//! rotation, and rotation on demand.
//!
//! `rotate_now` (and `rotate_closed` for a log no process has open) is rotation on demand
//! (`supervisorctl rotate`): the same numbering as size rotation, whatever `maxbytes`. It
//! never discards a byte: an empty file and a file with `backups=0` are kept as they are, and
//! a path that no longer names the open file (logrotate moved it) is only reopened.

use super::super::open::{is_console, open_append};
use super::RotatingFile;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

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

impl RotatingFile {
    /// Shifts `<file>.N` up by one and starts a fresh `<file>`.
    pub(super) fn rotate(&mut self) -> io::Result<()> {
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
    pub(super) fn rotate_files(&mut self) -> io::Result<File> {
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
pub(super) fn shift(path: &Path, backups: u32) -> io::Result<()> {
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

pub(super) fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

pub(super) fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{files, read};
    use super::*;
    use crate::testutil::TempDir;

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
}
