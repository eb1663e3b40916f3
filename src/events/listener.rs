//! The listener side of the protocol: what a listener process writes on its stdout, parsed
//! incrementally (partial reads, several messages in one read), and its protocol state.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerState {
    Ready,
    Busy,
    Acknowledged,
    Unknown,
}

impl ListenerState {
    pub fn name(self) -> &'static str {
        match self {
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Unknown => "UNKNOWN",
        }
    }

    pub fn code(self) -> i32 {
        match self {
            ListenerState::Ready => 10,
            ListenerState::Busy => 20,
            ListenerState::Acknowledged => 30,
            ListenerState::Unknown => 40,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `READY\n` in ACKNOWLEDGED.
    Ready,
    /// A complete `RESULT <n>\n<body>`.
    Result(Vec<u8>),
    /// Anything the protocol does not allow at this point.
    Garbage(String),
}

/// Longest result line we wait for before calling it garbage.
const MAX_RESULT_LINE: usize = 64;

/// How much of a listener's unexpected output a log line quotes.
const SHOWN_GARBAGE: usize = 80;

/// Largest result body accepted. Real ones are `OK` or `FAIL`; a listener announcing more
/// would make us hold everything it writes (Supervisor buffers it all, without a limit).
const MAX_RESULT_BODY: usize = 1 << 20;

#[derive(Debug)]
pub struct Protocol {
    state: ListenerState,
    buf: Vec<u8>,
    /// Body length once the result line has been read.
    body_len: Option<usize>,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol::new()
    }
}

impl Protocol {
    /// A freshly spawned listener: ACKNOWLEDGED, waiting for READY.
    pub fn new() -> Protocol {
        Protocol {
            state: ListenerState::Acknowledged,
            buf: Vec::new(),
            body_len: None,
        }
    }

    pub fn state(&self) -> ListenerState {
        self.state
    }

    /// supervisord sent an event: READY -> BUSY.
    pub fn sent(&mut self) {
        self.state = ListenerState::Busy;
    }

    /// The listener's stdout is closed: nothing more can come, and no event must go to it.
    pub fn hang_up(&mut self) {
        self.state = ListenerState::Unknown;
        self.buf = Vec::new();
    }

    /// Consumes stdout bytes; returns the complete messages in order.
    pub fn feed(&mut self, data: &[u8]) -> Vec<Message> {
        let mut out = Vec::new();
        self.feed_into(data, &mut out);
        out
    }

    /// `feed`, appending to `out` (a buffer the caller reuses: this runs for every event).
    /// Parses in place and drops the consumed bytes once, at the end.
    pub fn feed_into(&mut self, data: &[u8], out: &mut Vec<Message>) {
        if self.state == ListenerState::Unknown {
            return;
        }
        if self.buf.is_empty() {
            // The common case, whole messages in one read: parsed straight from `data`.
            let used = self.parse(data, out);
            self.buf.extend_from_slice(&data[used..]);
        } else {
            self.buf.extend_from_slice(data);
            let buf = std::mem::take(&mut self.buf);
            let used = self.parse(&buf, out);
            self.buf = buf;
            self.buf.drain(..used);
        }
        if self.state == ListenerState::Unknown {
            self.buf.clear();
        }
    }

    /// Parses complete messages from `input`; returns how many bytes they used.
    fn parse(&mut self, input: &[u8], out: &mut Vec<Message>) -> usize {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                ListenerState::Unknown => return pos,
                ListenerState::Acknowledged => {
                    if rest.len() < 6 {
                        if !b"READY\n".starts_with(rest) {
                            return self.garbage(rest, out, pos);
                        }
                        return pos;
                    }
                    if !rest.starts_with(b"READY\n") {
                        return self.garbage(rest, out, pos);
                    }
                    pos += 6;
                    self.state = ListenerState::Ready;
                    out.push(Message::Ready);
                }
                ListenerState::Ready => {
                    if rest.is_empty() {
                        return pos;
                    }
                    return self.garbage(rest, out, pos);
                }
                ListenerState::Busy => {
                    let n = match self.body_len {
                        Some(n) => n,
                        None => {
                            // The limit holds for a whole line too: a line's fate must not
                            // depend on how the pipe split it (found by fuzzing).
                            let Some(nl) = rest
                                .iter()
                                .take(MAX_RESULT_LINE + 1)
                                .position(|&b| b == b'\n')
                            else {
                                if rest.len() > MAX_RESULT_LINE {
                                    return self.garbage(rest, out, pos);
                                }
                                return pos;
                            };
                            let line = &rest[..=nl];
                            pos += nl + 1;
                            // Supervisor does not check the 7-byte `RESULT ` prefix (E2).
                            let num = line.get(7..line.len() - 1).unwrap_or(b"");
                            match std::str::from_utf8(num)
                                .ok()
                                .and_then(|s| s.trim().parse::<usize>().ok())
                            {
                                Some(n) if n <= MAX_RESULT_BODY => {
                                    self.body_len = Some(n);
                                    n
                                }
                                parsed => {
                                    let text = String::from_utf8_lossy(line).trim_end().to_string();
                                    let why = if parsed.is_some() {
                                        format!(
                                            "result longer than {MAX_RESULT_BODY} bytes: '{text}'"
                                        )
                                    } else {
                                        format!("bad result line: '{text}'")
                                    };
                                    out.push(Message::Garbage(why));
                                    self.state = ListenerState::Unknown;
                                    return input.len();
                                }
                            }
                        }
                    };
                    let rest = &input[pos..];
                    if rest.len() < n {
                        return pos;
                    }
                    pos += n;
                    self.body_len = None;
                    self.state = ListenerState::Acknowledged;
                    out.push(Message::Result(rest[..n].to_vec()));
                }
            }
        }
    }

    /// Everything from `rest` on is garbage: the listener is in UNKNOWN from now on.
    fn garbage(&mut self, rest: &[u8], out: &mut Vec<Message>, pos: usize) -> usize {
        // Quoted in a log line (once per failed start): the start of it is enough.
        let shown = String::from_utf8_lossy(&rest[..rest.len().min(SHOWN_GARBAGE)]);
        let what = if rest.len() > SHOWN_GARBAGE {
            format!("unexpected output {shown:?}... ({} bytes)", rest.len())
        } else {
            format!("unexpected output {shown:?}")
        };
        out.push(Message::Garbage(what));
        self.state = ListenerState::Unknown;
        pos + rest.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listener that said READY and was sent an event.
    fn busy() -> Protocol {
        let mut p = Protocol::new();
        p.feed(b"READY\n");
        p.sent();
        p
    }

    #[test]
    fn ready_and_result_in_pieces() {
        let mut p = Protocol::new();
        assert!(p.feed(b"REA").is_empty());
        assert_eq!(p.feed(b"DY\n"), vec![Message::Ready]);
        assert_eq!(p.state(), ListenerState::Ready);
        p.sent();
        assert!(p.feed(b"RESULT").is_empty());
        assert!(p.feed(b" 2\nO").is_empty());
        assert_eq!(p.feed(b"K"), vec![Message::Result(b"OK".to_vec())]);
        assert_eq!(p.state(), ListenerState::Acknowledged);
    }

    #[test]
    fn a_message_split_after_a_whole_one_completes_later() {
        let mut p = busy();
        assert_eq!(
            p.feed(b"RESULT 4\nFAILREA"),
            vec![Message::Result(b"FAIL".to_vec())]
        );
        assert_eq!(p.feed(b"DY"), vec![]);
        assert_eq!(p.feed(b"\n"), vec![Message::Ready]);
        p.sent();
        assert_eq!(p.feed(b"RESULT 2\nO"), vec![]);
        assert_eq!(
            p.feed(b"KREADY\n"),
            vec![Message::Result(b"OK".to_vec()), Message::Ready]
        );
        assert_eq!(p.state(), ListenerState::Ready);
    }

    #[test]
    fn several_messages_in_one_read() {
        let mut p = busy();
        assert_eq!(
            p.feed(b"RESULT 4\nFAILREADY\n"),
            vec![Message::Result(b"FAIL".to_vec()), Message::Ready]
        );
        assert_eq!(p.state(), ListenerState::Ready);
    }

    #[test]
    fn lenient_prefix_and_zero_length() {
        let mut p = busy();
        assert_eq!(
            p.feed(b"XXXXXXX 2\nOK"),
            vec![Message::Result(b"OK".to_vec())]
        );
        p.feed(b"READY\n");
        p.sent();
        assert_eq!(p.feed(b"RESULT 0\n"), vec![Message::Result(Vec::new())]);
    }

    #[test]
    fn an_absurd_result_length_is_garbage_not_a_buffer() {
        let mut p = busy();
        let m = p.feed(b"RESULT 1000000000000\nxxxx");
        assert_eq!(
            m,
            vec![Message::Garbage(format!(
                "result longer than {MAX_RESULT_BODY} bytes: 'RESULT 1000000000000'"
            ))]
        );
        assert_eq!(p.state(), ListenerState::Unknown);
        assert!(p.feed(&[b'x'; 65536]).is_empty());
        assert!(p.buf.is_empty(), "nothing more is kept");
        // The largest allowed body still completes.
        let mut p = busy();
        let head = format!("RESULT {MAX_RESULT_BODY}\n");
        assert!(p.feed(head.as_bytes()).is_empty());
        let m = p.feed(&vec![b'y'; MAX_RESULT_BODY]);
        assert!(matches!(&m[..], [Message::Result(b)] if b.len() == MAX_RESULT_BODY));
    }

    #[test]
    fn a_result_line_over_the_limit_is_garbage_in_one_read_or_in_pieces() {
        let line = format!("RESULT{}2\n", " ".repeat(MAX_RESULT_LINE - 6));
        let mut whole = busy();
        assert!(matches!(
            whole.feed(line.as_bytes())[..],
            [Message::Garbage(_)]
        ));
        let mut pieces = busy();
        let mut got = Vec::new();
        for b in line.as_bytes() {
            pieces.feed_into(std::slice::from_ref(b), &mut got);
        }
        assert!(matches!(got[..], [Message::Garbage(_)]));
        // At the limit, both ways accept it.
        let line = format!("RESULT{}2\nOK", " ".repeat(MAX_RESULT_LINE - 7));
        assert_eq!(
            busy().feed(line.as_bytes()),
            vec![Message::Result(b"OK".to_vec())]
        );
        let mut pieces = busy();
        let mut got = Vec::new();
        for b in line.as_bytes() {
            pieces.feed_into(std::slice::from_ref(b), &mut got);
        }
        assert_eq!(got, vec![Message::Result(b"OK".to_vec())]);
    }

    #[test]
    fn garbage_goes_unknown() {
        let mut p = Protocol::new();
        assert!(matches!(p.feed(b"hello world\n")[0], Message::Garbage(_)));
        assert_eq!(p.state(), ListenerState::Unknown);
        assert!(p.feed(b"READY\n").is_empty(), "UNKNOWN ignores everything");

        let mut p = Protocol::new();
        p.feed(b"READY\n");
        assert!(
            matches!(p.feed(b"x")[0], Message::Garbage(_)),
            "output while READY"
        );

        let mut p = busy();
        let m = p.feed(b"RESULT abc\n");
        assert_eq!(
            m,
            vec![Message::Garbage("bad result line: 'RESULT abc'".into())]
        );
        let mut p = busy();
        assert!(
            matches!(p.feed(b"RESULT -5\n")[0], Message::Garbage(_)),
            "negative length"
        );
        let mut p = busy();
        assert!(
            matches!(p.feed(&[b'9'; 100])[0], Message::Garbage(_)),
            "endless line"
        );
    }
}
