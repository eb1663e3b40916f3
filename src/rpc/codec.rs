//! XML-RPC calls, responses and faults in both directions: the daemon decodes calls and
//! encodes responses, supervisorctl does the reverse. Output is laid out byte for byte like
//! Python's `xmlrpc.client.dumps`, and is always well-formed: characters XML 1.0 forbids
//! become U+FFFD (README R3) and ints are clamped to 32 bits (R4). Input is decoded strictly
//! but accepts what real clients send: `<i8>`, `<nil/>`, and `true`/`false` booleans (R5).

use super::base64;
use super::value::Value;
use super::xml::{self, is_xml_char, Element, XmlError};
use std::collections::HashMap;
use std::fmt::{self, Write};

/// Deepest value nesting accepted; a parameter is at depth 1, a value in it at depth 2, ...
pub const MAX_DEPTH: usize = 64;
/// Most values in one document, all levels counted.
pub const MAX_VALUES: usize = 1_000_000;

/// Why a body is not a usable XML-RPC call or response.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Xml(XmlError),
    Root {
        expected: &'static str,
        found: String,
    },
    Structure(String),
    BadScalar {
        ty: &'static str,
        text: String,
    },
    UnknownType(String),
    TooDeep,
    TooManyValues,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Xml(e) => write!(f, "not well-formed XML: {e}"),
            Kind::Root { expected, found } => {
                write!(f, "root element is <{found}>, expected <{expected}>")
            }
            Kind::Structure(msg) => f.write_str(msg),
            Kind::BadScalar { ty, text } => write!(f, "invalid <{ty}> value {text:?}"),
            Kind::UnknownType(t) => write!(f, "unknown value type <{t}>"),
            Kind::TooDeep => write!(f, "values nested deeper than {MAX_DEPTH}"),
            Kind::TooManyValues => write!(f, "more than {MAX_VALUES} values"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<XmlError> for DecodeError {
    fn from(e: XmlError) -> DecodeError {
        DecodeError { kind: Kind::Xml(e) }
    }
}

fn structure<T>(msg: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError {
        kind: Kind::Structure(msg.into()),
    })
}

fn bad_scalar<T>(ty: &'static str, text: &str) -> Result<T, DecodeError> {
    // Enough of the text to recognise it; a hostile body can make it arbitrarily long.
    let text: String = text.chars().take(40).collect();
    Err(DecodeError {
        kind: Kind::BadScalar { ty, text },
    })
}

/// The child elements of a container element, which may hold nothing but them.
fn container(e: &Element) -> Result<impl Iterator<Item = &Element>, DecodeError> {
    if e.has_text() {
        return structure(format!("<{}> may not contain text", e.name));
    }
    Ok(e.elements())
}

/// The one child element of `e`, which must be named `want`.
fn only_child<'a>(e: &'a Element, want: &str) -> Result<&'a Element, DecodeError> {
    let mut it = container(e)?;
    match (it.next(), it.next()) {
        (Some(c), None) if c.name == want => Ok(c),
        _ => structure(format!("<{}> must hold exactly one <{want}>", e.name)),
    }
}

/// The text of a scalar type element, which may not contain elements.
fn leaf(t: &Element) -> Result<String, DecodeError> {
    if t.elements().next().is_some() {
        return structure(format!("<{}> may not contain elements", t.name));
    }
    Ok(t.text())
}

/// `YYYYMMDDTHH:MM:SS`, the only form supervisord accepts (rpc.md §2.1).
fn valid_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    b.len() == 17
        && b[8] == b'T'
        && b[11] == b':'
        && b[14] == b':'
        && num(0..4).is_some()
        && num(4..6).is_some_and(|m| (1..=12).contains(&m))
        && num(6..8).is_some_and(|d| (1..=31).contains(&d))
        && num(9..11).is_some_and(|h| h <= 23)
        && num(12..14).is_some_and(|m| m <= 59)
        && num(15..17).is_some_and(|s| s <= 61)
}

/// Turns `<value>` elements into values, enforcing the depth and count limits.
struct Decoder {
    max_depth: usize,
    max_values: usize,
    values: usize,
}

impl Decoder {
    fn new() -> Decoder {
        Decoder {
            max_depth: MAX_DEPTH,
            max_values: MAX_VALUES,
            values: 0,
        }
    }

    fn value(&mut self, v: &Element, depth: usize) -> Result<Value, DecodeError> {
        if depth > self.max_depth {
            return Err(DecodeError {
                kind: Kind::TooDeep,
            });
        }
        self.values += 1;
        if self.values > self.max_values {
            return Err(DecodeError {
                kind: Kind::TooManyValues,
            });
        }
        let mut kids = v.elements();
        let Some(t) = kids.next() else {
            // An untyped <value>text</value> is a string.
            return Ok(Value::String(v.text()));
        };
        if kids.next().is_some() || v.has_text() {
            return structure("<value> must hold one type element, or text only");
        }
        Ok(match t.name.as_str() {
            // Like Python's int(): surrounding whitespace and a '+' are fine.
            ty @ ("int" | "i4" | "i8") => {
                let text = leaf(t)?;
                match text.trim().parse() {
                    Ok(n) => Value::Int(n),
                    Err(_) => {
                        let ty = match ty {
                            "int" => "int",
                            "i4" => "i4",
                            _ => "i8",
                        };
                        return bad_scalar(ty, &text);
                    }
                }
            }
            "boolean" => match leaf(t)?.trim() {
                "1" | "true" => Value::Bool(true),
                "0" | "false" => Value::Bool(false),
                other => return bad_scalar("boolean", other),
            },
            "string" => Value::String(leaf(t)?),
            "double" => {
                let text = leaf(t)?;
                match text.trim().parse() {
                    Ok(f) => Value::Double(f),
                    Err(_) => return bad_scalar("double", &text),
                }
            }
            "base64" => {
                let text = leaf(t)?;
                match base64::decode(&text) {
                    Some(b) => Value::Base64(b),
                    None => return bad_scalar("base64", &text),
                }
            }
            "dateTime.iso8601" => {
                let text = leaf(t)?;
                if !valid_datetime(text.trim()) {
                    return bad_scalar("dateTime.iso8601", &text);
                }
                Value::DateTime(text.trim().to_string())
            }
            "nil" => {
                if !leaf(t)?.is_empty() {
                    return structure("<nil/> must be empty");
                }
                Value::Nil
            }
            "array" => {
                let data = only_child(t, "data")?;
                let mut items = Vec::new();
                for item in container(data)? {
                    if item.name != "value" {
                        return structure("<data> may only hold <value>");
                    }
                    items.push(self.value(item, depth + 1)?);
                }
                Value::Array(items)
            }
            "struct" => Value::Struct(self.members(t, depth)?),
            other => {
                return Err(DecodeError {
                    kind: Kind::UnknownType(other.chars().take(40).collect()),
                })
            }
        })
    }

    /// A struct's members. A repeated name keeps its first position and takes the last
    /// value, as Python's dict does.
    fn members(&mut self, t: &Element, depth: usize) -> Result<Vec<(String, Value)>, DecodeError> {
        let mut members: Vec<(String, Value)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for m in container(t)? {
            if m.name != "member" {
                return structure("<struct> may only hold <member>");
            }
            let mut kids = container(m)?;
            let (name, value) = match (kids.next(), kids.next(), kids.next()) {
                (Some(n), Some(v), None) if n.name == "name" && v.name == "value" => (n, v),
                _ => return structure("<member> must hold <name> then <value>"),
            };
            let key = leaf(name)?;
            let value = self.value(value, depth + 1)?;
            match index.get(&key) {
                Some(&i) => members[i].1 = value,
                None => {
                    index.insert(key.clone(), members.len());
                    members.push((key, value));
                }
            }
        }
        Ok(members)
    }

    /// The values of `<params><param><value>...</value></param>...</params>`.
    fn params(&mut self, params: &Element) -> Result<Vec<Value>, DecodeError> {
        let mut out = Vec::new();
        for p in container(params)? {
            if p.name != "param" {
                return structure("<params> may only hold <param>");
            }
            out.push(self.value(only_child(p, "value")?, 1)?);
        }
        Ok(out)
    }
}

fn root(body: &[u8], expected: &'static str) -> Result<Element, DecodeError> {
    let root = xml::parse(body)?;
    if root.name != expected {
        return Err(DecodeError {
            kind: Kind::Root {
                expected,
                found: root.name.chars().take(40).collect(),
            },
        });
    }
    Ok(root)
}

/// Decodes a `<methodCall>` into (method name, parameters). The name is trimmed; a missing
/// `<methodName>` gives an empty name, which the caller answers with HTTP 400 like
/// supervisord does ("no method name"). `<params>` is optional.
pub fn parse_call(body: &[u8]) -> Result<(String, Vec<Value>), DecodeError> {
    parse_call_with(body, Decoder::new())
}

fn parse_call_with(body: &[u8], mut dec: Decoder) -> Result<(String, Vec<Value>), DecodeError> {
    let root = root(body, "methodCall")?;
    let (mut name, mut params) = (None, None);
    for e in container(&root)? {
        match e.name.as_str() {
            "methodName" if name.is_none() => name = Some(leaf(e)?.trim().to_string()),
            "params" if params.is_none() => params = Some(dec.params(e)?),
            other => return structure(format!("unexpected or repeated <{other}> in <methodCall>")),
        }
    }
    Ok((name.unwrap_or_default(), params.unwrap_or_default()))
}

/// Decodes a `<methodResponse>`: `Ok(Ok(value))`, or `Ok(Err((faultCode, faultString)))` for a
/// fault.
pub fn parse_response(body: &[u8]) -> Result<Result<Value, (i64, String)>, DecodeError> {
    let root = root(body, "methodResponse")?;
    let mut dec = Decoder::new();
    let mut kids = container(&root)?;
    let body = match (kids.next(), kids.next()) {
        (Some(b), None) if b.name == "params" || b.name == "fault" => b,
        _ => return structure("<methodResponse> must hold one <params> or one <fault>"),
    };
    if body.name == "fault" {
        let v = dec.value(only_child(body, "value")?, 1)?;
        let code = v.get("faultCode").and_then(Value::as_int);
        let text = v.get("faultString").and_then(Value::as_str);
        return match (code, text) {
            (Some(code), Some(text)) => Ok(Err((code, text.to_string()))),
            _ => structure("a fault needs an int faultCode and a string faultString"),
        };
    }
    let mut params = dec.params(body)?;
    match (params.pop(), params.is_empty()) {
        (Some(v), true) => Ok(Ok(v)),
        _ => structure("a response must hold exactly one <param>"),
    }
}

/// Writes `s` as XML text: `&`, `<`, `>` escaped like Python does; CR as `&#13;` so that it
/// survives line-end normalisation; characters XML cannot carry become U+FFFD (R3).
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
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

fn encode_value(v: &Value, out: &mut String) {
    out.push_str("<value>");
    match v {
        Value::Int(n) => {
            let n = (*n).clamp(i64::from(i32::MIN), i64::from(i32::MAX));
            let _ = write!(out, "<int>{n}</int>");
        }
        Value::Bool(b) => {
            let _ = write!(out, "<boolean>{}</boolean>", u8::from(*b));
        }
        Value::String(s) => {
            out.push_str("<string>");
            escape(s, out);
            out.push_str("</string>");
        }
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
                out.push_str("<member>\n<name>");
                escape(k, out);
                out.push_str("</name>\n");
                encode_value(v, out);
                out.push_str("</member>\n");
            }
            out.push_str("</struct>");
        }
    }
    out.push_str("</value>\n");
}

const PROLOG: &str = "<?xml version='1.0'?>\n";

/// A successful `<methodResponse>` carrying `v`.
pub fn encode_response(v: &Value) -> String {
    let mut out = format!("{PROLOG}<methodResponse>\n<params>\n<param>\n");
    encode_value(v, &mut out);
    out.push_str("</param>\n</params>\n</methodResponse>\n");
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

#[cfg(test)]
mod tests;
