//! Rewriting a channel's log-file bytes so that every line starts with its timestamp and
//! prefix (`log_prefix`, `log_timestamps`). A line that arrives in several reads gets one
//! prefix: whether the next byte starts a line is kept between reads.

use crate::config::logline::LinePrefix;
use std::time::SystemTime;

pub struct Prefixer {
    spec: LinePrefix,
    /// The next byte written starts a line.
    at_line_start: bool,
    /// This chunk's timestamp and prefix, built at the first line start of the chunk.
    head: Vec<u8>,
    /// The rewritten chunk (kept for its capacity).
    out: Vec<u8>,
}

impl Prefixer {
    pub fn new(spec: LinePrefix) -> Prefixer {
        Prefixer {
            spec,
            at_line_start: true,
            head: Vec::new(),
            out: Vec::new(),
        }
    }

    /// `data` with the head inserted at every line start. The clock is read once per chunk
    /// (`now`, only called when a line starts in it): lines of one read share a timestamp.
    pub fn apply(&mut self, data: &[u8], now: impl FnOnce() -> SystemTime) -> &[u8] {
        self.out.clear();
        self.head.clear();
        let mut now = Some(now);
        for line in data.split_inclusive(|&b| b == b'\n') {
            if self.at_line_start {
                if let Some(now) = now.take() {
                    if let Some(ts) = &self.spec.timestamps {
                        if ts.render(now(), &mut self.head) {
                            self.head.push(b' ');
                        }
                    }
                    self.head.extend_from_slice(self.spec.text.as_bytes());
                }
                self.out.extend_from_slice(&self.head);
            }
            self.out.extend_from_slice(line);
            self.at_line_start = line.ends_with(b"\n");
        }
        &self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::logline::Timestamps;
    use std::time::{Duration, UNIX_EPOCH};

    fn prefixer(text: &str, ts: Option<Timestamps>) -> Prefixer {
        Prefixer::new(LinePrefix {
            text: text.into(),
            timestamps: ts,
        })
    }

    #[test]
    fn every_line_start_once_across_reads() {
        let mut p = prefixer("web | ", None);
        let never = || -> SystemTime { panic!("no timestamps configured") };
        assert_eq!(p.apply(b"one\ntw", never), b"web | one\nweb | tw");
        assert_eq!(p.apply(b"o\n", never), b"o\n");
        assert_eq!(p.apply(b"", never), b"");
        assert_eq!(p.apply(b"\n\nthree", never), b"web | \nweb | \nweb | three");
    }

    #[test]
    fn timestamp_taken_once_per_chunk_and_only_when_a_line_starts() {
        let t = UNIX_EPOCH + Duration::from_secs(86400 * 400);
        let mut p = prefixer("x: ", Some(Timestamps::Strftime("%Y".into())));
        let mut calls = 0;
        let out = p
            .apply(b"a\nb\n", || {
                calls += 1;
                t
            })
            .to_vec();
        assert_eq!(out, b"1971 x: a\n1971 x: b\n");
        assert_eq!(calls, 1);
        let mut p = prefixer("", Some(Timestamps::Strftime("%Y".into())));
        assert_eq!(p.apply(b"part", || t), b"1971 part");
        assert_eq!(
            p.apply(b"ial\n", || panic!("no line starts here")),
            b"ial\n"
        );
    }
}
