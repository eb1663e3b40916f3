//! A small XML parser for what XML-RPC needs: elements, text with the predefined and numeric
//! entities, CDATA, comments and processing instructions skipped. No DOCTYPE (so no entity
//! expansion attacks), no namespaces. Bounded depth and size; errors, never panics.

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

    /// The concatenated text directly inside this element.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                s.push_str(t);
            }
        }
        s
    }
}

pub const MAX_DEPTH: usize = 200;
pub const MAX_NODES: usize = 2_000_000;

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    nodes: usize,
}

type R<T> = Result<T, String>;

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }

    fn expect(&mut self, lit: &str) -> R<()> {
        if self.rest().starts_with(lit) {
            self.pos += lit.len();
            Ok(())
        } else {
            Err(format!("expected {lit:?} at byte {}", self.pos))
        }
    }

    fn skip_past(&mut self, end: &str) -> R<()> {
        match self.rest().find(end) {
            Some(i) => {
                self.pos += i + end.len();
                Ok(())
            }
            None => Err(format!("unterminated construct, missing {end:?}")),
        }
    }

    /// Skips comments and processing instructions; rejects DOCTYPE.
    fn skip_misc(&mut self) -> R<()> {
        loop {
            self.skip_ws();
            let r = self.rest();
            if r.starts_with("<?") {
                self.skip_past("?>")?;
            } else if r.starts_with("<!--") {
                self.skip_past("-->")?;
            } else if r.starts_with("<!") && !r.starts_with("<![CDATA[") {
                return Err("DOCTYPE and declarations are not accepted".into());
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> R<String> {
        let r = self.rest();
        let end = r
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(r.len());
        if end == 0 {
            return Err(format!("missing element name at byte {}", self.pos));
        }
        self.pos += end;
        Ok(r[..end].to_string())
    }

    fn element(&mut self, depth: usize) -> R<Element> {
        if depth > MAX_DEPTH {
            return Err("document nested too deeply".into());
        }
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err("document has too many nodes".into());
        }
        self.expect("<")?;
        let name = self.name()?;
        // Attributes are not used by XML-RPC: skip them, respecting quotes.
        let mut quote: Option<char> = None;
        let mut self_closing = false;
        loop {
            let Some(c) = self.rest().chars().next() else {
                return Err(format!("unterminated start tag <{name}>"));
            };
            self.pos += c.len_utf8();
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '/') if self.rest().starts_with('>') => {
                    self.pos += 1;
                    self_closing = true;
                    break;
                }
                (None, '>') => break,
                (None, '<') => return Err(format!("'<' inside start tag <{name}>")),
                _ => {}
            }
        }
        let mut el = Element {
            name,
            children: Vec::new(),
        };
        if self_closing {
            return Ok(el);
        }
        loop {
            let r = self.rest();
            if r.is_empty() {
                return Err(format!("unclosed element <{}>", el.name));
            }
            if r.starts_with("</") {
                self.pos += 2;
                let end = self.name()?;
                self.skip_ws();
                self.expect(">")?;
                if end != el.name {
                    return Err(format!("mismatched </{end}> for <{}>", el.name));
                }
                return Ok(el);
            } else if r.starts_with("<!--") {
                self.skip_past("-->")?;
            } else if r.starts_with("<?") {
                self.skip_past("?>")?;
            } else if let Some(body) = r.strip_prefix("<![CDATA[") {
                let end = body.find("]]>").ok_or("unterminated CDATA section")?;
                el.children.push(Node::Text(body[..end].to_string()));
                self.pos += "<![CDATA[".len() + end + 3;
            } else if r.starts_with('<') {
                el.children.push(Node::Element(self.element(depth + 1)?));
            } else {
                let end = r.find('<').unwrap_or(r.len());
                el.children.push(Node::Text(unescape(&r[..end])?));
                self.pos += end;
            }
        }
    }
}

/// Decodes entity and character references.
pub fn unescape(s: &str) -> R<String> {
    if !s.contains('&') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or("unterminated entity reference")?;
        let ent = &after[..end];
        let c = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = ent.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = ent.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .filter(|&c| is_xml_char(c))
                    .ok_or_else(|| format!("unknown or invalid entity &{ent};"))?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The characters XML 1.0 allows in a document.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Parses a whole document into its root element.
pub fn parse(bytes: &[u8]) -> R<Element> {
    let s = std::str::from_utf8(bytes).map_err(|e| format!("invalid UTF-8: {e}"))?;
    let s = s.strip_prefix('\u{feff}').unwrap_or(s);
    // Like expat: characters XML 1.0 forbids make the document not well-formed. Accepting them
    // would let a value fail to survive our own re-encoding (found by fuzzing).
    if let Some(c) = s.chars().find(|&c| !is_xml_char(c)) {
        return Err(format!("invalid character U+{:04X}", c as u32));
    }
    let mut p = Parser {
        s,
        pos: 0,
        nodes: 0,
    };
    p.skip_misc()?;
    if !p.rest().starts_with('<') {
        return Err("no root element".into());
    }
    let root = p.element(0)?;
    p.skip_misc()?;
    if !p.rest().is_empty() {
        return Err("content after the root element".into());
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_elements_text_entities_cdata() {
        let e = parse(b"<?xml version='1.0'?>\n<!-- c --><a x=\"1>\"><b>t &amp; &#60;&#x3e;</b><c/><![CDATA[<raw>]]></a>").unwrap();
        assert_eq!(e.name, "a");
        let kids: Vec<_> = e.elements().collect();
        assert_eq!(kids[0].text(), "t & <>");
        assert_eq!(kids[1].name, "c");
        assert_eq!(e.text(), "<raw>");
    }

    #[test]
    fn rejects_bad_documents() {
        for bad in [
            &b"<a><b></a>"[..],
            b"<a>",
            b"<a>&bogus;</a>",
            b"<!DOCTYPE x [<!ENTITY a 'b'>]><a/>",
            b"<a/><b/>",
            b"",
            b"text",
            b"<a>\xff</a>",
            b"<a x='1",
            b"<a>\x00</a>",
            b"<a>\x1b</a>",
            b"<a>&#0;</a>",
            b"<a>&#x1;</a>",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn depth_is_bounded() {
        let doc = "<a>".repeat(MAX_DEPTH + 5) + &"</a>".repeat(MAX_DEPTH + 5);
        assert!(parse(doc.as_bytes()).unwrap_err().contains("deeply"));
    }
}
