//! Cutting a rotating file at line boundaries: a write ends the file at the last newline that
//! fits, and a line the file already ends with (written by an earlier write, or spliced) that
//! does not fit is read back and moved whole to the next file.

use super::super::open::open_read;
use super::RotatingFile;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, MetadataExt};

/// Bytes read back from a log at a time (to find or move the line that ends it).
const BLOCK: usize = 64 * 1024;

impl RotatingFile {
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
    pub(super) fn rotate_at_line(&mut self) -> io::Result<()> {
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
}

#[cfg(test)]
mod tests {
    use super::super::backups::numbered;
    use super::super::tests::{files, nonblocking_pipe, read};
    use super::*;
    use crate::testutil::TempDir;
    use std::fs;

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
    fn existing_size_counts_toward_limit() {
        let dir = TempDir::new("rot4");
        let p = dir.path().join("x.log");
        fs::write(&p, b"12345678").unwrap();
        let mut f = RotatingFile::open(&p, 10, 1).unwrap();
        f.write_all(b"abcd").unwrap();
        assert_eq!(read(&numbered(&p, 1)), b"12345678ab");
        assert_eq!(read(&p), b"cd");
    }
}
