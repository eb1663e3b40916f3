use super::*;

/// A test-only tree built from the reader's events, so that assertions can look at a whole
/// document.
#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug)]
struct Element {
    name: String,
    children: Vec<Node>,
}

impl Element {
    fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                s.push_str(t);
            }
        }
        s
    }

    fn has_text(&self) -> bool {
        self.children.iter().any(|n| match n {
            Node::Text(t) => !t.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')),
            Node::Element(_) => false,
        })
    }
}

/// Every event of `bytes`, through `Eof`.
fn events(bytes: &[u8]) -> Result<Vec<Event<'_>>, XmlError> {
    let mut r = Reader::new(bytes)?;
    let mut out = Vec::new();
    loop {
        let e = r.next()?;
        if e == Event::Eof {
            return Ok(out);
        }
        out.push(e);
    }
}

fn parse(bytes: &[u8]) -> Result<Element, XmlError> {
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    for e in events(bytes)? {
        match e {
            Event::Start(name) => stack.push(Element {
                name: name.to_string(),
                children: Vec::new(),
            }),
            Event::End(name) => {
                let done = stack.pop().expect("End matches a Start");
                assert_eq!(done.name, name);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => stack
                .last_mut()
                .expect("text only inside the root")
                .children
                .push(Node::Text(t.into_owned())),
            Event::Eof => unreachable!(),
        }
    }
    Ok(root.expect("a root element"))
}

fn ok(doc: &str) -> Element {
    match parse(doc.as_bytes()) {
        Ok(e) => e,
        Err(e) => panic!("{doc:?} failed: {e}"),
    }
}

fn err(doc: &[u8]) -> String {
    match events(doc) {
        Ok(e) => panic!("{:?} parsed as {e:?}", String::from_utf8_lossy(doc)),
        Err(e) => e.to_string(),
    }
}

#[test]
fn events_borrow_plain_text_and_pair_empty_tags() {
    let doc = b"<?xml version='1.0'?>\n<a><b>plain</b><c/>x &amp; y<![CDATA[z]]></a>\n";
    let ev = events(doc).expect("well-formed");
    assert_eq!(
        ev,
        [
            Event::Start("a"),
            Event::Start("b"),
            Event::Text(Cow::Borrowed("plain")),
            Event::End("b"),
            Event::Start("c"),
            Event::End("c"),
            Event::Text(Cow::Owned("x & y".into())),
            Event::Text(Cow::Borrowed("z")),
            Event::End("a"),
        ]
    );
    assert!(matches!(ev[2], Event::Text(Cow::Borrowed(_))));
    assert!(matches!(ev[6], Event::Text(Cow::Owned(_))));
    // Eof repeats; the root may be an empty-element tag.
    let mut r = Reader::new(b"<a/>").expect("valid text");
    assert_eq!(r.next(), Ok(Event::Start("a")));
    assert_eq!(r.next(), Ok(Event::End("a")));
    assert_eq!(r.next(), Ok(Event::Eof));
    assert_eq!(r.next(), Ok(Event::Eof));
}

#[test]
fn invalid_chars_are_found_in_every_block() {
    // The block-wise scan: a control character at each position of a block, before and after
    // non-ASCII text, is still reported at its own offset.
    for at in 0..40 {
        let mut doc = format!("<a>{}</a>", "x".repeat(40)).into_bytes();
        doc[3 + at] = 0x01;
        assert_eq!(
            err(&doc),
            format!("character U+0001 is not allowed in XML at byte {}", 3 + at)
        );
        let mut doc = format!("<a>{}ü</a>", "\n".repeat(40)).into_bytes();
        doc[3 + at] = 0x1f;
        assert_eq!(
            err(&doc),
            format!("character U+001F is not allowed in XML at byte {}", 3 + at)
        );
    }
    assert!(err("<a>ü\u{1}</a>".as_bytes()).contains("U+0001 is not allowed in XML at byte 5"));
    assert!(err("<a>ü\u{FFFF}</a>".as_bytes()).contains("U+FFFF"));
    assert_eq!(
        ok(&format!("<a>{}\t\r\nü</a>", "y".repeat(30)))
            .text()
            .len(),
        34
    );
}

#[test]
fn elements_text_entities_cdata() {
    let e = ok(
        "<?xml version='1.0' encoding=\"UTF-8\"?>\n<!-- c -->\n<a x=\"1>\" y = 'b'>\
                <b>t &amp; &#60;&#x3e;&quot;&apos;&lt;&gt;</b><c/><c />\
                <![CDATA[<raw> &amp;]]></a>\n<!-- trailing --><?pi x?>\n",
    );
    assert_eq!(e.name, "a");
    let kids: Vec<_> = e.elements().collect();
    assert_eq!(kids.len(), 3);
    assert_eq!(kids[0].text(), "t & <>\"'<>");
    assert_eq!(kids[1].name, "c");
    assert_eq!(e.text(), "<raw> &amp;");
    assert!(e.has_text());
}

#[test]
fn whitespace_between_elements_is_not_text() {
    let e = ok("<a>\n  <b/>\t\r\n</a>");
    assert!(!e.has_text());
    assert_eq!(e.elements().count(), 1);
    // ...but whitespace inside a leaf is kept.
    assert_eq!(ok("<s>  x  </s>").text(), "  x  ");
}

#[test]
fn utf8_names_and_text() {
    let e = ok("<test_öäü>grüße ✓ \u{1F600}</test_öäü>");
    assert_eq!(e.name, "test_öäü");
    assert_eq!(e.text(), "grüße ✓ \u{1F600}");
    assert_eq!(ok("\u{FEFF}<a>&#246;&#x1F600;</a>").text(), "ö\u{1F600}");
}

#[test]
fn line_ends_are_normalised_but_char_refs_survive() {
    assert_eq!(ok("<a>x\r\ny\rz&#13;</a>").text(), "x\ny\nz\r");
    assert_eq!(ok("<a><![CDATA[1\r\n2]]></a>").text(), "1\n2");
}

#[test]
fn rejects_malformed_documents() {
    for bad in [
        &b"<a><b></a>"[..],
        b"<a>",
        b"<a><b>",
        b"<a></a",
        b"<a>&bogus;</a>",
        b"<a>&amp</a>",
        b"<a>&#;</a>",
        b"<a>&#x;</a>",
        b"<a>&#+65;</a>",
        b"<a>&#xZZ;</a>",
        b"<a>&#99999999999;</a>",
        b"<a>&#xD800;</a>",
        b"<a/><b/>",
        b"<a/>text",
        b"",
        b"   ",
        b"text",
        b"<a>\xff</a>",
        b"<a x='1",
        b"<a x=1>",
        b"<a x>",
        b"<a x='<'>",
        b"<a x='1'y='2'>",
        b"<1a/>",
        b"<a></b>",
        b"< a/>",
        b"<a><!foo/></a>",
        b"<a>]]></a>",
        b"<a><![CDATA[x</a>",
        b"<a><!-- x</a>",
        b"<a><!-- x -- y --></a>",
        b"<a><?pi</a>",
        b"<a>\x00</a>",
        b"<a>\x1b</a>",
        b"<a>&#0;</a>",
        b"<a>&#x1;</a>",
        "<a>\u{FFFE}</a>".as_bytes(),
    ] {
        err(bad);
    }
}

#[test]
fn doctype_is_refused() {
    let billion_laughs = b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>\
        <!ENTITY lol2 '&lol;&lol;&lol;'>]><a>&lol2;</a>";
    assert!(err(billion_laughs).contains("DOCTYPE"));
    assert!(err(b"<a><!DOCTYPE x></a>").contains("DOCTYPE"));
}

#[test]
fn errors_name_the_problem_and_position() {
    assert_eq!(
        err(b"<a><b></a>"),
        "end tag </a> does not match <b> at byte 9"
    );
    assert_eq!(err(b"<a>\xc3</a>"), "invalid UTF-8 at byte 3");
    assert_eq!(err(b"<a>"), "element <a> is not closed at byte 3");
    assert!(err(b"<a>x &nope; y</a>").contains("&nope; at byte 5"));
}

#[test]
fn depth_is_bounded_without_recursion() {
    let at_limit = "<a>".repeat(MAX_DEPTH) + &"</a>".repeat(MAX_DEPTH);
    assert!(parse(at_limit.as_bytes()).is_ok());
    let doc = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
    assert!(err(doc.as_bytes()).contains("nested deeper"));
    // Far deeper than any call stack would survive: still just an error.
    let huge = "<a>".repeat(1_000_000);
    assert!(err(huge.as_bytes()).contains("nested deeper"));
}
