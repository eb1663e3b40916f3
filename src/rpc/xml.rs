//! A small, strict-enough XML parser for XML-RPC bodies: UTF-8 only; elements (attributes
//! checked for form, then dropped), text with the five predefined entities and numeric
//! character references, CDATA; comments and processing instructions (the `<?xml ...?>`
//! declaration included) skipped. DOCTYPE and other declarations are rejected, which rules out
//! entity-expansion attacks. No namespaces (XML-RPC has none). The parser is iterative with a
//! bounded depth and element count, so hostile input gives an [`XmlError`], never a panic or a
//! stack overflow.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub children: Vec<Node>,
}

impl Element {
    /// Child elements, skipping text.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The concatenated text directly inside this element (CDATA included).
    pub fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                s.push_str(t);
            }
        }
        s
    }

    /// Whether some direct text is more than the whitespace that separates elements.
    pub fn has_text(&self) -> bool {
        self.children.iter().any(|n| match n {
            Node::Text(t) => !t.chars().all(is_xml_space),
            Node::Element(_) => false,
        })
    }
}

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

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
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
fn normalize_newlines(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        s.into()
    }
}

/// Decodes the predefined entities and character references in `s` (which starts at byte
/// `offset` of the document, for error positions).
fn unescape(s: &str, offset: usize) -> R<String> {
    if !s.contains('&') {
        return Ok(s.to_string());
    }
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
    Ok(out)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    elements: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn fail<T>(&self, kind: ErrorKind) -> R<T> {
        Err(XmlError {
            kind,
            offset: self.pos,
        })
    }

    /// Skips whitespace; whether there was any.
    fn skip_ws(&mut self) -> bool {
        let r = self.rest();
        let n = r.len() - r.trim_start_matches(is_xml_space).len();
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
        // only at the first non-ASCII byte (a third of parse time went here before).
        let b = r.as_bytes();
        let mut end = b
            .iter()
            .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':')))
            .unwrap_or(b.len());
        if b.get(end).is_some_and(|&c| c >= 0x80) {
            end = r.find(|c: char| !is_name_char(c)).unwrap_or(r.len());
        }
        let name = &r[..end];
        match name.chars().next() {
            Some(c) if is_name_start(c) => {
                self.pos += end;
                Ok(name)
            }
            _ => self.fail(ErrorKind::BadName),
        }
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
        unescape(value, start)?;
        self.pos += end + 1;
        Ok(())
    }

    /// A start tag (the `<` not yet consumed); `true` with it when it is an empty-element tag.
    fn start_tag(&mut self) -> R<(Element, bool)> {
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return self.fail(ErrorKind::TooManyElements);
        }
        self.pos += 1;
        let name = self.name()?.to_string();
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
            let el = Element {
                name,
                children: Vec::new(),
            };
            return Ok((el, empty));
        }
    }

    /// Character data up to the next `<` (or the end).
    fn text(&mut self) -> R<String> {
        let start = self.pos;
        let r = self.rest();
        let end = r.find('<').unwrap_or(r.len());
        let raw = &r[..end];
        if let Some(i) = raw.contains(']').then(|| raw.find("]]>")).flatten() {
            return Err(XmlError {
                kind: ErrorKind::CdataEndInText,
                offset: start + i,
            });
        }
        self.pos += end;
        // Normalising first keeps offsets right: it only shortens CR LF pairs, which are no
        // part of a reference.
        unescape(&normalize_newlines(raw), start)
    }

    fn document(mut self) -> R<Element> {
        self.misc()?;
        if !self.rest().starts_with('<') {
            return self.fail(ErrorKind::NoRoot);
        }
        let (root, empty) = self.start_tag()?;
        let root = if empty { root } else { self.content(root)? };
        self.misc()?;
        if !self.rest().is_empty() {
            return self.fail(ErrorKind::TrailingContent);
        }
        Ok(root)
    }

    /// Everything inside `root` up to and including its end tag. Open elements live on an
    /// explicit stack instead of the call stack.
    fn content(&mut self, root: Element) -> R<Element> {
        let mut stack = vec![root];
        loop {
            let r = self.rest();
            let Some(top) = stack.last_mut() else {
                return self.fail(ErrorKind::NoRoot);
            };
            if r.is_empty() {
                return self.fail(ErrorKind::Unclosed(top.name.clone()));
            } else if r.starts_with("</") {
                self.pos += 2;
                let close = self.name()?;
                self.skip_ws();
                if !self.rest().starts_with('>') {
                    return self.fail(ErrorKind::Unterminated("end tag"));
                }
                if close != top.name {
                    return self.fail(ErrorKind::Mismatched {
                        open: top.name.clone(),
                        close: close.to_string(),
                    });
                }
                self.pos += 1;
                let Some(done) = stack.pop() else {
                    return self.fail(ErrorKind::NoRoot);
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => return Ok(done),
                }
            } else if r.starts_with("<!--") {
                self.comment()?;
            } else if r.starts_with("<?") {
                self.processing_instruction()?;
            } else if r.starts_with("<![CDATA[") {
                self.pos += "<![CDATA[".len();
                let body = self.until("]]>", "CDATA section")?;
                top.children
                    .push(Node::Text(normalize_newlines(body).into_owned()));
            } else if r.starts_with("<!") {
                return self.fail(ErrorKind::Declaration);
            } else if r.starts_with('<') {
                if stack.len() >= MAX_DEPTH {
                    return self.fail(ErrorKind::TooDeep);
                }
                let (el, empty) = self.start_tag()?;
                match (empty, stack.last_mut()) {
                    (true, Some(parent)) => parent.children.push(Node::Element(el)),
                    _ => stack.push(el),
                }
            } else {
                let t = self.text()?;
                top.children.push(Node::Text(t));
            }
        }
    }
}

/// Parses a whole document into its root element.
pub fn parse(bytes: &[u8]) -> Result<Element, XmlError> {
    let s = std::str::from_utf8(bytes).map_err(|e| XmlError {
        kind: ErrorKind::InvalidUtf8,
        offset: e.valid_up_to(),
    })?;
    // Like expat: characters XML 1.0 forbids make the document not well-formed. Accepting them
    // would let a value fail to survive our own re-encoding (found by fuzzing).
    // ASCII documents (the usual case) are checked bytewise; only the C0 controls other than
    // tab, LF and CR are illegal there.
    let bad = if s.is_ascii() {
        s.bytes()
            .position(|b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
            .map(|i| (i, s.as_bytes()[i] as char))
    } else {
        s.char_indices().find(|&(_, c)| !is_xml_char(c))
    };
    if let Some((offset, c)) = bad {
        return Err(XmlError {
            kind: ErrorKind::InvalidChar(c),
            offset,
        });
    }
    let pos = if s.starts_with('\u{FEFF}') { 3 } else { 0 };
    Parser {
        s,
        pos,
        elements: 0,
    }
    .document()
}

#[cfg(test)]
mod tests;
