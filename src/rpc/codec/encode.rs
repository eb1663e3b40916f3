//! Encoding XML-RPC values, responses, faults and calls, laid out byte for byte like
//! Python's `xmlrpc.client.dumps`, and always well-formed: characters XML 1.0 forbids become
//! U+FFFD (R3) and ints are clamped to 32 bits (R4). Also what an encoding will cost
//! (`escaped_len`, `log_text_len`), measured before it is written.

use super::super::base64;
use super::super::value::Value;
use super::super::xml::is_xml_char;
use std::fmt::Write;

/// Writes `s` as XML text: `&`, `<`, `>` escaped like Python does; CR as `&#13;` so that it
/// survives line-end normalisation; characters XML cannot carry become U+FFFD (R3).
pub fn escape(s: &str, out: &mut String) {
    out.reserve(s.len());
    let bytes = s.as_bytes();
    // Runs of bytes that need nothing are copied whole: per-char pushes were the largest
    // single cost of encoding getAllProcessInfo.
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        let plain = matches!(b, 0x20..=0x7f | b'\n' | b'\t') && !matches!(b, b'&' | b'<' | b'>');
        if plain {
            i += 1;
            continue;
        }
        out.push_str(&s[start..i]);
        let c = s[i..].chars().next().unwrap_or('\u{FFFD}');
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
        i += c.len_utf8();
        start = i;
    }
    out.push_str(&s[start..]);
}

/// How long `escape` makes `s`, without writing it: a reply is measured before it is built
/// (the API's reply budget). Byte by byte: a character outside XML is a control character
/// (one byte, three as U+FFFD) or U+FFFE/U+FFFF (three bytes either way).
pub fn escaped_len(s: &str) -> usize {
    s.bytes()
        .map(|b| match b {
            b'&' | b'\r' => 5,
            b'<' | b'>' => 4,
            b'\t' | b'\n' => 1,
            0..=0x1f => 3,
            _ => 1,
        })
        .sum()
}

/// `escaped_len` of `text_from_log_bytes(bytes)`, without decoding them: each invalid
/// sequence becomes one U+FFFD.
pub fn log_text_len(bytes: &[u8]) -> usize {
    bytes
        .utf8_chunks()
        .map(|c| escaped_len(c.valid()) + if c.invalid().is_empty() { 0 } else { 3 })
        .sum()
}

/// A double as Python's `repr` writes it (`1e+16`, `1.5e-07`, `nan`), so that output is
/// byte-identical; any spelling would parse.
fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    let s = format!("{f:?}");
    let Some((mantissa, exp)) = s.split_once('e') else {
        return s;
    };
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

/// `n` in decimal: a getAllProcessInfo of 1000 processes writes 6000.
fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    out.push_str(crate::text::decimal(n.unsigned_abs(), &mut [0; 20]));
}

/// `<int>` of `n`, clamped to i32 as Python's xmlrpc would refuse anything wider.
fn encode_int(n: i64, out: &mut String) {
    out.push_str("<int>");
    push_int(out, n.clamp(i64::from(i32::MIN), i64::from(i32::MAX)));
    out.push_str("</int>");
}

fn encode_string(s: &str, out: &mut String) {
    out.push_str("<string>");
    escape(s, out);
    out.push_str("</string>");
}

/// A struct member up to its value (which ends with a newline), and what closes it.
fn open_member(name: &str, out: &mut String) {
    out.push_str("<member>\n<name>");
    escape(name, out);
    out.push_str("</name>\n");
}
const CLOSE_MEMBER: &str = "</member>\n";

/// Writes `v` as a `<value>` element (what a response or a multicall slot carries).
pub fn encode_value(v: &Value, out: &mut String) {
    if let Value::Encoded(e) = v {
        out.push_str(e.xml());
        return;
    }
    out.push_str("<value>");
    match v {
        Value::Int(n) => encode_int(*n, out),
        Value::Bool(b) => {
            let _ = write!(out, "<boolean>{}</boolean>", u8::from(*b));
        }
        Value::String(s) => encode_string(s, out),
        Value::Double(f) => {
            let _ = write!(out, "<double>{}</double>", python_float(*f));
        }
        Value::Base64(b) => {
            // Python's base64.encodebytes: lines of 76 characters, each ending in a newline.
            out.push_str("<base64>\n");
            let text = base64::encode(b);
            let mut rest = text.as_str();
            while !rest.is_empty() {
                let (line, tail) = rest.split_at(rest.len().min(76));
                out.push_str(line);
                out.push('\n');
                rest = tail;
            }
            out.push_str("</base64>");
        }
        Value::DateTime(d) => {
            out.push_str("<dateTime.iso8601>");
            escape(d, out);
            out.push_str("</dateTime.iso8601>");
        }
        Value::Nil => {
            // Python's dump_nil omits the newline the other types write; so do we.
            out.push_str("<nil/></value>");
            return;
        }
        Value::Encoded(_) => return,
        Value::Array(items) => {
            out.push_str("<array><data>\n");
            for i in items {
                encode_value(i, out);
            }
            out.push_str("</data></array>");
        }
        Value::Struct(members) => {
            out.push_str("<struct>\n");
            for (k, v) in members {
                open_member(k, out);
                encode_value(v, out);
                out.push_str(CLOSE_MEMBER);
            }
            out.push_str("</struct>");
        }
    }
    out.push_str("</value>\n");
}

const PROLOG: &str = "<?xml version='1.0'?>\n";

/// One struct member, written as `encode_value` writes a `Value::Struct` member.
pub enum Member<'a> {
    Int(i64),
    Str(std::borrow::Cow<'a, str>),
}

/// A `<value><struct>` of `members`, byte for byte what `encode_value` writes for the same
/// `Value::Struct`, without building it.
pub fn encode_struct(members: &[(&str, Member<'_>)], out: &mut String) {
    out.push_str("<value><struct>\n");
    for (name, m) in members {
        open_member(name, out);
        out.push_str("<value>");
        match m {
            Member::Int(n) => encode_int(*n, out),
            Member::Str(s) => encode_string(s, out),
        }
        out.push_str("</value>\n");
        out.push_str(CLOSE_MEMBER);
    }
    out.push_str("</struct></value>\n");
}

/// The start and end of an encoded `<value><array>` (items go between).
pub const ARRAY_OPEN: &str = "<value><array><data>\n";
pub const ARRAY_CLOSE: &str = "</data></array></value>\n";

const RESPONSE_HEAD: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n";
const RESPONSE_TAIL: &str = "</param>\n</params>\n</methodResponse>\n";

/// An empty `Encoded` in `buf` (its capacity is kept), ready to become a response.
pub fn encoded_value(buf: String) -> crate::rpc::value::Encoded {
    crate::rpc::value::Encoded::with_head(buf, RESPONSE_HEAD)
}

/// `encode_response`, taking the value: an already encoded one becomes the response in
/// its own buffer (a second megabyte-sized buffer cost its page faults and an unmap, and
/// shifting the XML to put the head in front cost a fifth of getAllProcessInfo(1000)).
pub fn encode_response_owned(v: Value) -> String {
    match v {
        Value::Encoded(e) if e.buf.get(..e.start) == Some(RESPONSE_HEAD) => {
            let mut out = e.buf;
            out.push_str(RESPONSE_TAIL);
            out
        }
        v => encode_response(&v),
    }
}

/// A successful `<methodResponse>` carrying `v`.
pub fn encode_response(v: &Value) -> String {
    let mut out = String::from(RESPONSE_HEAD);
    encode_value(v, &mut out);
    out.push_str(RESPONSE_TAIL);
    out
}

/// A fault response: a struct with `faultCode` (int) and `faultString` (string).
pub fn encode_fault(code: i64, message: &str) -> String {
    let mut out = format!("{PROLOG}<methodResponse>\n<fault>\n");
    encode_value(
        &Value::structure([
            ("faultCode", Value::Int(code)),
            ("faultString", Value::from(message)),
        ]),
        &mut out,
    );
    out.push_str("</fault>\n</methodResponse>\n");
    out
}

/// A `<methodCall>` (what supervisorctl sends).
pub fn encode_call(method: &str, params: &[Value]) -> String {
    let mut out = format!("{PROLOG}<methodCall>\n<methodName>");
    escape(method, &mut out);
    out.push_str("</methodName>\n<params>\n");
    for p in params {
        out.push_str("<param>\n");
        encode_value(p, &mut out);
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out
}

/// Log bytes as XML-RPC text, decoded lossily so that a read window splitting a UTF-8
/// sequence, or invalid bytes, still give a string (R3; supervisord answers HTTP 500).
/// Byte offsets stay the caller's business.
pub fn text_from_log_bytes(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
