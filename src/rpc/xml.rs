//! A small, strict-enough XML pull reader for XML-RPC bodies: UTF-8 only; elements
//! (attributes checked for form, then dropped), text with the five predefined entities and
//! numeric character references, CDATA; comments and processing instructions (the `<?xml ...?>`
//! declaration included) skipped. DOCTYPE and other declarations are rejected, which rules out
//! entity-expansion attacks. No namespaces (XML-RPC has none).
//!
//! [`Reader`] hands out events whose names and text borrow from the input, so decoding a
//! value builds no intermediate tree (that tree was most of supervisorctl's run time). It keeps
//! only the stack of open element names, with a bounded depth and element count, so hostile
//! input gives an [`XmlError`], never a panic or a stack overflow.

use std::borrow::Cow;
use std::fmt;

/// Deepest element nesting accepted. XML-RPC needs three levels per value level
/// (`value`/`array`/`data`), so this leaves room for the codec's own, clearer, value limit.
pub const MAX_DEPTH: usize = 256;
/// Most elements in one document.
pub const MAX_ELEMENTS: usize = 2_000_000;

/// Why a document was rejected, and near which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    kind: ErrorKind,
    offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ErrorKind {
    InvalidUtf8,
    InvalidChar(char),
    Declaration,
    Unterminated(&'static str),
    Unclosed(String),
    Mismatched { open: String, close: String },
    BadName,
    BadAttribute,
    BadReference(String),
    CdataEndInText,
    DoubleHyphenInComment,
    NoRoot,
    TrailingContent,
    TooDeep,
    TooManyElements,
}

impl XmlError {
    /// Byte offset into the document where the problem was noticed.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::InvalidUtf8 => write!(f, "invalid UTF-8")?,
            ErrorKind::InvalidChar(c) => {
                write!(f, "character U+{:04X} is not allowed in XML", u32::from(*c))?
            }
            ErrorKind::Declaration => write!(f, "DOCTYPE and other declarations are not accepted")?,
            ErrorKind::Unterminated(what) => write!(f, "unterminated {what}")?,
            ErrorKind::Unclosed(name) => write!(f, "element <{name}> is not closed")?,
            ErrorKind::Mismatched { open, close } => {
                write!(f, "end tag </{close}> does not match <{open}>")?
            }
            ErrorKind::BadName => write!(f, "invalid or missing name")?,
            ErrorKind::BadAttribute => write!(f, "malformed attribute")?,
            ErrorKind::BadReference(r) => write!(f, "unknown or invalid reference &{r};")?,
            ErrorKind::CdataEndInText => write!(f, "']]>' is not allowed in text")?,
            ErrorKind::DoubleHyphenInComment => write!(f, "'--' is not allowed in a comment")?,
            ErrorKind::NoRoot => write!(f, "no root element")?,
            ErrorKind::TrailingContent => write!(f, "content after the root element")?,
            ErrorKind::TooDeep => write!(f, "elements nested deeper than {MAX_DEPTH}")?,
            ErrorKind::TooManyElements => write!(f, "more than {MAX_ELEMENTS} elements")?,
        }
        write!(f, " at byte {}", self.offset)
    }
}

impl std::error::Error for XmlError {}

type R<T> = Result<T, XmlError>;

/// The characters XML 1.0 allows in a document (§2.2).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// XML 1.0 (5th edition) NameStartChar.
fn is_name_start(c: char) -> bool {
    matches!(c, ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 (5th edition) NameChar.
fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Line-end normalisation (XML 1.0 §2.11): CR LF and lone CR read as LF. Done on raw text
/// only, so `&#13;` still yields a CR.
fn normalize_newlines(s: &str) -> Cow<'_, str> {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        s.into()
    }
}

/// Decodes the predefined entities and character references in `s` (which starts at byte
/// `offset` of the document, for error positions). Text without a `&` is passed through as it
/// is, borrowed text staying borrowed.
fn unescape(text: Cow<'_, str>, offset: usize) -> R<Cow<'_, str>> {
    if !text.contains('&') {
        return Ok(text);
    }
    let s: &str = &text;
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let at = offset + (s.len() - rest.len()) + i;
        let after = &rest[i + 1..];
        let bad = |r: &str| XmlError {
            kind: ErrorKind::BadReference(r.chars().take(20).collect()),
            offset: at,
        };
        let Some(end) = after.find(';') else {
            return Err(bad(after));
        };
        let name = &after[..end];
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                // Digits only: Rust's integer parsing would also take a leading '+'.
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                        .then(|| u32::from_str_radix(hex, 16).ok())
                        .flatten()
                } else if let Some(dec) = name.strip_prefix('#') {
                    (!dec.is_empty() && dec.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| dec.parse::<u32>().ok())
                        .flatten()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .filter(|&c| is_xml_char(c))
                    .ok_or_else(|| bad(name))?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// One step through a document. Names and text borrow from the input where they can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// A start tag; an empty-element tag gives `Start` and then `End`.
    Start(&'a str),
    End(&'a str),
    /// Character data or a CDATA section, line ends normalised and references decoded.
    /// Consecutive runs (split by a comment, CDATA, ...) come as separate events.
    Text(Cow<'a, str>),
    /// The root element has closed and nothing but comments, PIs and whitespace followed.
    /// Repeated on every later call.
    Eof,
}

/// Where the reader is in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the root element.
    Prolog,
    /// Inside the root element.
    Content,
    /// An empty-element tag was reported as `Start`; its `End` is owed.
    EmptyEnd,
    /// After the root element closed.
    Epilog,
    Done,
}

/// A pull parser over a whole document held in memory.
pub struct Reader<'a> {
    s: &'a str,
    pos: usize,
    elements: usize,
    /// Names of the open elements, for matching end tags (and the name an `EmptyEnd` owes).
    open: Vec<&'a str>,
    phase: Phase,
}

impl<'a> Reader<'a> {
    /// Checks the whole document for UTF-8 and XML characters first, so that a bad byte
    /// anywhere rejects it before any event is used.
    pub fn new(bytes: &'a [u8]) -> R<Reader<'a>> {
        let s = std::str::from_utf8(bytes).map_err(|e| XmlError {
            kind: ErrorKind::InvalidUtf8,
            offset: e.valid_up_to(),
        })?;
        // Like expat: characters XML 1.0 forbids make the document not well-formed. Accepting
        // them would let a value fail to survive our own re-encoding (found by fuzzing).
        if let Some((offset, c)) = first_invalid_char(s) {
            return Err(XmlError {
                kind: ErrorKind::InvalidChar(c),
                offset,
            });
        }
        let pos = if s.starts_with('\u{FEFF}') { 3 } else { 0 };
        Ok(Reader {
            s,
            pos,
            elements: 0,
            open: Vec::with_capacity(16),
            phase: Phase::Prolog,
        })
    }

    /// The next event. After an error the reader is not to be used again.
    // Not an Iterator: the end of the document is an event (`Eof`), and errors end it.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> R<Event<'a>> {
        match self.phase {
            Phase::Prolog => {
                self.misc()?;
                if !self.rest().starts_with('<') {
                    return self.fail(ErrorKind::NoRoot);
                }
                self.start_tag()
            }
            Phase::Content => self.content(),
            Phase::EmptyEnd => {
                let name = self.close()?;
                Ok(Event::End(name))
            }
            Phase::Epilog => {
                self.misc()?;
                if !self.rest().is_empty() {
                    return self.fail(ErrorKind::TrailingContent);
                }
                self.phase = Phase::Done;
                Ok(Event::Eof)
            }
            Phase::Done => Ok(Event::Eof),
        }
    }

    #[inline]
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or_default()
    }

    /// The unread input as bytes (for dispatching on ASCII).
    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes().get(self.pos..).unwrap_or_default()
    }

    fn fail<T>(&self, kind: ErrorKind) -> R<T> {
        Err(XmlError {
            kind,
            offset: self.pos,
        })
    }

    /// Pops the innermost open element, moving on to the epilog after the root.
    fn close(&mut self) -> R<&'a str> {
        let Some(name) = self.open.pop() else {
            return self.fail(ErrorKind::NoRoot);
        };
        self.phase = if self.open.is_empty() {
            Phase::Epilog
        } else {
            Phase::Content
        };
        Ok(name)
    }

    /// Skips whitespace; whether there was any.
    fn skip_ws(&mut self) -> bool {
        let n = self
            .bytes()
            .iter()
            .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
        self.pos += n;
        n > 0
    }

    /// Skips past `end`, returning what came before it.
    fn until(&mut self, end: &str, what: &'static str) -> R<&'a str> {
        let r = self.rest();
        match r.find(end) {
            Some(i) => {
                self.pos += i + end.len();
                Ok(&r[..i])
            }
            None => self.fail(ErrorKind::Unterminated(what)),
        }
    }

    fn comment(&mut self) -> R<()> {
        self.pos += "<!--".len();
        let start = self.pos;
        let body = self.until("-->", "comment")?;
        if body.contains("--") || body.ends_with('-') {
            return Err(XmlError {
                kind: ErrorKind::DoubleHyphenInComment,
                offset: start,
            });
        }
        Ok(())
    }

    fn processing_instruction(&mut self) -> R<()> {
        self.pos += "<?".len();
        self.name()?;
        self.until("?>", "processing instruction")?;
        Ok(())
    }

    /// Whitespace, comments and processing instructions around the root element.
    fn misc(&mut self) -> R<()> {
        loop {
            self.skip_ws();
            let r = self.rest();
            if r.starts_with("<!--") {
                self.comment()?;
            } else if r.starts_with("<?") {
                self.processing_instruction()?;
            } else if r.starts_with("<!") {
                return self.fail(ErrorKind::Declaration);
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> R<&'a str> {
        let r = self.rest();
        // Names are ASCII in practice: scan bytes, and fall back on the full Unicode rules
        // only at the first non-ASCII byte.
        let b = r.as_bytes();
        let mut end = b
            .iter()
            .position(|&c| !NAME_BYTE[usize::from(c)])
            .unwrap_or(b.len());
        if b.get(end).is_some_and(|&c| c >= 0x80) {
            end = r.find(|c: char| !is_name_char(c)).unwrap_or(r.len());
        }
        let name = &r[..end];
        let start_ok = match name.as_bytes().first() {
            Some(&c) if c < 0x80 => c.is_ascii_alphabetic() || c == b'_' || c == b':',
            Some(_) => name.chars().next().is_some_and(is_name_start),
            None => false,
        };
        if !start_ok {
            return self.fail(ErrorKind::BadName);
        }
        self.pos += end;
        Ok(name)
    }

    /// `name = "value"`; the value is checked (no `<`, valid references) and dropped.
    fn attribute(&mut self) -> R<()> {
        self.name()?;
        self.skip_ws();
        if !self.rest().starts_with('=') {
            return self.fail(ErrorKind::BadAttribute);
        }
        self.pos += 1;
        self.skip_ws();
        let quote = match self.rest().chars().next() {
            Some(q @ ('"' | '\'')) => q,
            _ => return self.fail(ErrorKind::BadAttribute),
        };
        self.pos += 1;
        let start = self.pos;
        let r = self.rest();
        let Some(end) = r.find(quote) else {
            return self.fail(ErrorKind::Unterminated("attribute value"));
        };
        let value = &r[..end];
        if value.contains('<') {
            return self.fail(ErrorKind::BadAttribute);
        }
        unescape(Cow::Borrowed(value), start)?;
        self.pos += end + 1;
        Ok(())
    }

    /// A start tag (the `<` not yet consumed).
    fn start_tag(&mut self) -> R<Event<'a>> {
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return self.fail(ErrorKind::TooManyElements);
        }
        self.pos += 1;
        let name = self.name()?;
        loop {
            let had_space = self.skip_ws();
            let r = self.rest();
            let empty = if r.starts_with("/>") {
                true
            } else if r.starts_with('>') {
                false
            } else if r.is_empty() {
                return self.fail(ErrorKind::Unterminated("start tag"));
            } else if !had_space {
                // Attributes must be separated from the name and from each other.
                return self.fail(ErrorKind::BadAttribute);
            } else {
                self.attribute()?;
                continue;
            };
            self.pos += if empty { 2 } else { 1 };
            self.open.push(name);
            self.phase = if empty {
                Phase::EmptyEnd
            } else {
                Phase::Content
            };
            return Ok(Event::Start(name));
        }
    }

    /// An end tag (`</` seen, not consumed).
    fn end_tag(&mut self) -> R<Event<'a>> {
        self.pos += 2;
        let Some(&open) = self.open.last() else {
            return self.fail(ErrorKind::NoRoot);
        };
        // Usually the end tag names the open element: compare in place rather than scan a
        // name. A longer name (the next byte a name byte, or any non-ASCII byte) takes the
        // full path, which reports the mismatch.
        let b = self.bytes();
        let close = match b.get(open.len()) {
            Some(&c)
                if b.starts_with(open.as_bytes()) && !NAME_BYTE[usize::from(c)] && c < 0x80 =>
            {
                self.pos += open.len();
                open
            }
            _ => self.name()?,
        };
        self.skip_ws();
        if !self.rest().starts_with('>') {
            return self.fail(ErrorKind::Unterminated("end tag"));
        }
        if close != open {
            return self.fail(ErrorKind::Mismatched {
                open: open.to_string(),
                close: close.to_string(),
            });
        }
        self.pos += 1;
        self.close()?;
        Ok(Event::End(close))
    }

    /// Character data up to the next `<` (or the end).
    fn text(&mut self) -> R<Event<'a>> {
        let start = self.pos;
        let r = self.rest();
        // One pass finds the end and whether the text needs any closer look (most text is a
        // short name or the newline between elements).
        let mut special = false;
        let end = r
            .bytes()
            .position(|c| {
                special |= matches!(c, b']' | b'\r' | b'&');
                c == b'<'
            })
            .unwrap_or(r.len());
        let raw = &r[..end];
        self.pos += end;
        if !special {
            return Ok(Event::Text(Cow::Borrowed(raw)));
        }
        if let Some(i) = raw.find("]]>") {
            return Err(XmlError {
                kind: ErrorKind::CdataEndInText,
                offset: start + i,
            });
        }
        // Normalising first keeps offsets right: it only shortens CR LF pairs, which are no
        // part of a reference.
        Ok(Event::Text(unescape(normalize_newlines(raw), start)?))
    }

    /// The next event inside the root element; comments and PIs are skipped.
    fn content(&mut self) -> R<Event<'a>> {
        loop {
            let r = self.rest();
            match r.as_bytes() {
                [] => {
                    let open = self.open.last().copied().unwrap_or_default();
                    return self.fail(ErrorKind::Unclosed(open.to_string()));
                }
                [b'<', b'/', ..] => return self.end_tag(),
                [b'<', b'!' | b'?', ..] => {}
                [b'<', ..] => {
                    if self.open.len() >= MAX_DEPTH {
                        return self.fail(ErrorKind::TooDeep);
                    }
                    return self.start_tag();
                }
                _ => return self.text(),
            }
            if r.starts_with("<!--") {
                self.comment()?;
            } else if r.starts_with("<?") {
                self.processing_instruction()?;
            } else if r.starts_with("<![CDATA[") {
                self.pos += "<![CDATA[".len();
                let body = self.until("]]>", "CDATA section")?;
                return Ok(Event::Text(normalize_newlines(body)));
            } else {
                return self.fail(ErrorKind::Declaration);
            }
        }
    }
}

/// The ASCII bytes allowed in a name after its first character, as a table: name scanning
/// was a fifth of supervisorctl's decode time with a chain of comparisons.
static NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':');
        c += 1;
    }
    t
};

/// The first character XML 1.0 forbids, and where it is.
fn first_invalid_char(s: &str) -> Option<(usize, char)> {
    let b = s.as_bytes();
    // Only bytes below 0x20 can be bad in ASCII, and those are rare: test 8 bytes at a time
    // (a byte below 0x20 or from 0x80 on sets its top bit in `(w - 0x20..) | w`; a borrow can
    // only flag a byte above one that is truly flagged) and look closer only at a word with
    // a control character (a newline, usually) or a non-ASCII byte.
    const LOW: u64 = u64::from_ne_bytes([0x20; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut at = 0;
    let mut words = b.chunks_exact(8);
    for chunk in words.by_ref() {
        let mut w = [0; 8];
        w.copy_from_slice(chunk);
        let w = u64::from_le_bytes(w);
        if (w.wrapping_sub(LOW) | w) & HIGH != 0 {
            if chunk.iter().any(|&c| c >= 0x80) {
                break;
            }
            if let Some(i) = chunk
                .iter()
                .position(|&c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r'))
            {
                return Some((at + i, char::from(chunk[i])));
            }
        }
        at += 8;
    }
    // Non-ASCII from `at` on (a char boundary: every byte before it was ASCII).
    s[at..]
        .char_indices()
        .find(|&(_, c)| !is_xml_char(c))
        .map(|(i, c)| (at + i, c))
}

#[cfg(test)]
mod tests;
