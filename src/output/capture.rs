//! Capture mode (`*_capture_maxbytes` > 0): text between `<!--XSUPERVISOR:BEGIN-->` and
//! `<!--XSUPERVISOR:END-->` is not logged but becomes a PROCESS_COMMUNICATION event. Tokens
//! may be split across reads. Improvements over 4.3: only a real token prefix is held back
//! (E8: 4.3 can hold up to 24 bytes and lose them at exit; we flush at EOF too), and the
//! capture buffer limit is exact (E13).

const BEGIN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
const END: &[u8] = b"<!--XSUPERVISOR:END-->";

#[derive(Debug, Default)]
pub struct Output {
    /// Bytes for the log file (outside capture blocks).
    pub log: Vec<u8>,
    /// Every byte except tokens (what PROCESS_LOG events carry, as in 4.3: E7).
    pub visible: Vec<u8>,
    /// Completed capture blocks.
    pub comm: Vec<Vec<u8>>,
}

#[derive(Debug)]
pub struct Capture {
    maxbytes: usize,
    pending: Vec<u8>,
    capturing: bool,
    buf: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Length of the longest suffix of `data` that is a proper prefix of `token`.
fn partial_suffix(data: &[u8], token: &[u8]) -> usize {
    (1..token.len().min(data.len() + 1))
        .rev()
        .find(|&k| data.ends_with(&token[..k]))
        .unwrap_or(0)
}

impl Capture {
    pub fn new(maxbytes: i64) -> Capture {
        Capture {
            maxbytes: maxbytes.max(1) as usize,
            pending: Vec::new(),
            capturing: false,
            buf: Vec::new(),
        }
    }

    fn emit(&mut self, bytes: &[u8], out: &mut Output) {
        if bytes.is_empty() {
            return;
        }
        out.visible.extend_from_slice(bytes);
        if self.capturing {
            self.buf.extend_from_slice(bytes);
            if self.buf.len() > self.maxbytes {
                let excess = self.buf.len() - self.maxbytes;
                self.buf.drain(..excess);
            }
        } else {
            out.log.extend_from_slice(bytes);
        }
    }

    pub fn feed(&mut self, data: &[u8]) -> Output {
        let mut out = Output::default();
        self.pending.extend_from_slice(data);
        loop {
            let token = if self.capturing { END } else { BEGIN };
            let pending = std::mem::take(&mut self.pending);
            match find(&pending, token) {
                Some(i) => {
                    self.emit(&pending[..i], &mut out);
                    self.pending = pending[i + token.len()..].to_vec();
                    if self.capturing {
                        out.comm.push(std::mem::take(&mut self.buf));
                    }
                    self.capturing = !self.capturing;
                }
                None => {
                    let keep = partial_suffix(&pending, token);
                    let cut = pending.len() - keep;
                    self.emit(&pending[..cut], &mut out);
                    self.pending = pending[cut..].to_vec();
                    return out;
                }
            }
        }
    }

    /// The process exited: what was held back is ordinary output after all.
    pub fn flush(&mut self) -> Output {
        let mut out = Output::default();
        let pending = std::mem::take(&mut self.pending);
        self.emit(&pending, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_becomes_an_event_and_is_not_logged() {
        let mut c = Capture::new(1000);
        let o = c.feed(
            b"before<!--XSUPERVISOR:BEGIN-->captured \xc3\xa9 data<!--XSUPERVISOR:END-->after\n",
        );
        assert_eq!(o.log, b"beforeafter\n");
        assert_eq!(o.comm, vec![b"captured \xc3\xa9 data".to_vec()]);
        assert_eq!(o.visible, b"beforecaptured \xc3\xa9 dataafter\n");
    }

    #[test]
    fn tokens_split_across_reads() {
        let mut c = Capture::new(1000);
        let mut log = Vec::new();
        let mut comm = Vec::new();
        for piece in [
            &b"ab<!--XSUPER"[..],
            b"VISOR:BEGIN-->x",
            b"y<!--XSUPERVISOR:E",
            b"ND-->z",
        ] {
            let o = c.feed(piece);
            log.extend(o.log);
            comm.extend(o.comm);
        }
        assert_eq!(log, b"abz");
        assert_eq!(comm, vec![b"xy".to_vec()]);
    }

    #[test]
    fn only_real_prefixes_are_held_and_eof_flushes() {
        let mut c = Capture::new(1000);
        assert_eq!(c.feed(b"short\n").log, b"short\n", "not held back");
        let o = c.feed(b"tail<!--XSUP");
        assert_eq!(o.log, b"tail");
        assert_eq!(c.flush().log, b"<!--XSUP");
    }

    #[test]
    fn exact_limit_keeps_the_newest_bytes() {
        let mut c = Capture::new(4);
        let o = c.feed(b"<!--XSUPERVISOR:BEGIN-->abcdefgh<!--XSUPERVISOR:END-->");
        assert_eq!(o.comm, vec![b"efgh".to_vec()]);
    }
}
