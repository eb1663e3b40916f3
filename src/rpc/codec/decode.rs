//! Decoding XML-RPC calls and responses: strict, but accepting what real clients send
//! (`<i8>`, `<nil/>`, `true`/`false` booleans; R5), bounded in depth and in the number of
//! values, and building values straight from the reader's events.

use super::super::base64;
use super::super::value::{Key, Value};
use super::super::xml::{Event, Reader, XmlError};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

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

/// Whether XML text is only the whitespace that separates elements.
fn is_blank(t: &str) -> bool {
    t.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
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

/// The limits a decode enforces (tests shrink them).
pub(super) struct Limits {
    pub(super) max_depth: usize,
    pub(super) max_values: usize,
}

impl Limits {
    fn new() -> Limits {
        Limits {
            max_depth: MAX_DEPTH,
            max_values: MAX_VALUES,
        }
    }
}

/// Builds values straight from the reader's events, enforcing the depth and count limits.
/// Every method is entered just after the start tag of the element it decodes and returns
/// after its end tag.
struct Decoder<'a> {
    r: Reader<'a>,
    limits: Limits,
    values: usize,
    /// The items of the arrays being decoded, innermost last, and the same for struct
    /// members: each container collects on top of these shared stacks and then moves its
    /// part out into one exactly sized Vec, instead of growing a Vec of its own step by step.
    items: Vec<Value>,
    members: Vec<(Key, Value)>,
}

impl<'a> Decoder<'a> {
    fn next(&mut self) -> Result<Event<'a>, DecodeError> {
        Ok(self.r.next()?)
    }

    /// The next child element of the container `parent`, which may hold nothing but elements
    /// and whitespace; `None` at its end tag.
    fn child(&mut self, parent: &str) -> Result<Option<&'a str>, DecodeError> {
        loop {
            match self.next()? {
                Event::Start(name) => return Ok(Some(name)),
                Event::End(_) | Event::Eof => return Ok(None),
                Event::Text(t) if is_blank(&t) => {}
                Event::Text(_) => return structure(format!("<{parent}> may not contain text")),
            }
        }
    }

    /// The one child of `parent`, which must be named `want`: decoded by `inner`, then
    /// `parent`'s end tag.
    fn only_child<T>(
        &mut self,
        parent: &str,
        want: &str,
        inner: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        if self.child(parent)? != Some(want) {
            return structure(format!("<{parent}> must hold exactly one <{want}>"));
        }
        let v = inner(self)?;
        if self.child(parent)?.is_some() {
            return structure(format!("<{parent}> must hold exactly one <{want}>"));
        }
        Ok(v)
    }

    /// The text of the scalar element `name` up to its end tag; it may not contain elements.
    /// Borrowed from the body unless it had references, CDATA or several parts.
    fn leaf(&mut self, name: &str) -> Result<Cow<'a, str>, DecodeError> {
        let mut text = Cow::Borrowed("");
        loop {
            match self.next()? {
                Event::Text(t) if text.is_empty() => text = t,
                Event::Text(t) => text.to_mut().push_str(&t),
                Event::End(_) | Event::Eof => return Ok(text),
                Event::Start(_) => return structure(format!("<{name}> may not contain elements")),
            }
        }
    }

    /// A `<value>` (its start tag just read) at nesting `depth`.
    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > self.limits.max_depth {
            return Err(DecodeError {
                kind: Kind::TooDeep,
            });
        }
        self.values += 1;
        if self.values > self.limits.max_values {
            return Err(DecodeError {
                kind: Kind::TooManyValues,
            });
        }
        let mut text = Cow::Borrowed("");
        let ty = loop {
            match self.next()? {
                Event::Text(t) if text.is_empty() => text = t,
                Event::Text(t) => text.to_mut().push_str(&t),
                // An untyped <value>text</value> is a string.
                Event::End(_) | Event::Eof => return Ok(Value::String(text.into_owned())),
                Event::Start(ty) => break ty,
            }
        };
        if !is_blank(&text) {
            return structure(ONE_TYPE);
        }
        let v = self.typed(ty, depth)?;
        loop {
            match self.next()? {
                Event::Text(t) if is_blank(&t) => {}
                Event::End(_) | Event::Eof => return Ok(v),
                Event::Text(_) | Event::Start(_) => return structure(ONE_TYPE),
            }
        }
    }

    /// The type element `ty` inside a `<value>` (its start tag just read).
    fn typed(&mut self, ty: &'a str, depth: usize) -> Result<Value, DecodeError> {
        Ok(match ty {
            // Like Python's int(): surrounding whitespace and a '+' are fine.
            "int" | "i4" | "i8" => {
                let text = self.leaf(ty)?;
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
            "boolean" => match self.leaf(ty)?.trim() {
                "1" | "true" => Value::Bool(true),
                "0" | "false" => Value::Bool(false),
                other => return bad_scalar("boolean", other),
            },
            "string" => Value::String(self.leaf(ty)?.into_owned()),
            "double" => {
                let text = self.leaf(ty)?;
                match text.trim().parse() {
                    Ok(f) => Value::Double(f),
                    Err(_) => return bad_scalar("double", &text),
                }
            }
            "base64" => {
                let text = self.leaf(ty)?;
                match base64::decode(&text) {
                    Some(b) => Value::Base64(b),
                    None => return bad_scalar("base64", &text),
                }
            }
            "dateTime.iso8601" => {
                let text = self.leaf(ty)?;
                if !valid_datetime(text.trim()) {
                    return bad_scalar("dateTime.iso8601", &text);
                }
                Value::DateTime(text.trim().to_string())
            }
            "nil" => {
                if !self.leaf(ty)?.is_empty() {
                    return structure("<nil/> must be empty");
                }
                Value::Nil
            }
            "array" => self.only_child("array", "data", |d| {
                let base = d.items.len();
                while let Some(item) = d.child("data")? {
                    if item != "value" {
                        return structure("<data> may only hold <value>");
                    }
                    let v = d.value(depth + 1)?;
                    d.items.push(v);
                }
                Ok(Value::Array(d.items.drain(base..).collect()))
            })?,
            "struct" => Value::Struct(self.members(depth)?),
            other => {
                return Err(DecodeError {
                    kind: Kind::UnknownType(other.chars().take(40).collect()),
                })
            }
        })
    }

    /// A struct's members. A repeated name keeps its first position and takes the last
    /// value, as Python's dict does.
    fn members(&mut self, depth: usize) -> Result<Vec<(Key, Value)>, DecodeError> {
        /// Up to this many members, a repeated name is looked for by scanning: cheaper than
        /// hashing for the dozen or so members real structs have.
        const SCAN: usize = 32;
        let base = self.members.len();
        let mut index: HashMap<String, usize> = HashMap::new();
        while let Some(m) = self.child("struct")? {
            if m != "member" {
                return structure("<struct> may only hold <member>");
            }
            const SHAPE: &str = "<member> must hold <name> then <value>";
            if self.child("member")? != Some("name") {
                return structure(SHAPE);
            }
            let key = self.leaf("name")?;
            if self.child("member")? != Some("value") {
                return structure(SHAPE);
            }
            let value = self.value(depth + 1)?;
            if self.child("member")?.is_some() {
                return structure(SHAPE);
            }
            let members = &mut self.members[base..];
            let seen = if members.len() < SCAN {
                members.iter().position(|(k, _)| *k == key)
            } else {
                if index.is_empty() {
                    index = members
                        .iter()
                        .enumerate()
                        .map(|(i, (k, _))| (k.to_string(), i))
                        .collect();
                }
                index.get(key.as_ref()).copied()
            };
            match seen {
                Some(i) => members[i].1 = value,
                None => {
                    if members.len() >= SCAN {
                        index.insert(key.to_string(), members.len());
                    }
                    self.members.push((member_name(key), value));
                }
            }
        }
        Ok(self.members.drain(base..).collect())
    }

    /// The values of `<params><param><value>...</value></param>...</params>` (the `<params>`
    /// start tag just read).
    fn params(&mut self) -> Result<Vec<Value>, DecodeError> {
        let mut out = Vec::new();
        while let Some(p) = self.child("params")? {
            if p != "param" {
                return structure("<params> may only hold <param>");
            }
            out.push(self.only_child("param", "value", |d| d.value(1))?);
        }
        Ok(out)
    }
}

const ONE_TYPE: &str = "<value> must hold one type element, or text only";

/// Runs `body_of` on the document after checking that its root is `expected`, then checks
/// that nothing but misc follows the root. Errors keep the old whole-document precedence: a
/// well-formedness error anywhere wins over a structural one found before it.
fn decode<T>(
    body: &[u8],
    expected: &'static str,
    limits: Limits,
    body_of: impl for<'a> FnOnce(&mut Decoder<'a>) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let mut dec = Decoder {
        r: Reader::new(body)?,
        limits,
        values: 0,
        items: Vec::new(),
        members: Vec::new(),
    };
    let result = match dec.next() {
        Ok(Event::Start(root)) if root == expected => body_of(&mut dec),
        Ok(Event::Start(root)) => Err(DecodeError {
            kind: Kind::Root {
                expected,
                found: root.chars().take(40).collect(),
            },
        }),
        Ok(_) => Err(DecodeError {
            kind: Kind::Structure("no root element".into()),
        }),
        Err(e) => Err(e),
    };
    if let Err(e @ DecodeError { kind: Kind::Xml(_) }) = result {
        return Err(e);
    }
    // Through to the end of the document: the epilog after a successful decode, the rest of
    // it after a structural error.
    loop {
        match dec.r.next() {
            Ok(Event::Eof) => return result,
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Decodes a `<methodCall>` into (method name, parameters). The name is trimmed; a missing
/// `<methodName>` gives an empty name, which the caller answers with HTTP 400 like
/// supervisord does ("no method name"). `<params>` is optional.
pub fn parse_call(body: &[u8]) -> Result<(String, Vec<Value>), DecodeError> {
    parse_call_with(body, Limits::new())
}

pub(super) fn parse_call_with(
    body: &[u8],
    limits: Limits,
) -> Result<(String, Vec<Value>), DecodeError> {
    decode(body, "methodCall", limits, |dec| {
        let (mut name, mut params) = (None, None);
        while let Some(e) = dec.child("methodCall")? {
            match e {
                "methodName" if name.is_none() => {
                    name = Some(dec.leaf("methodName")?.trim().to_string())
                }
                "params" if params.is_none() => params = Some(dec.params()?),
                other => {
                    return structure(format!("unexpected or repeated <{other}> in <methodCall>"))
                }
            }
        }
        Ok((name.unwrap_or_default(), params.unwrap_or_default()))
    })
}

/// Decodes a `<methodResponse>`: `Ok(Ok(value))`, or `Ok(Err((faultCode, faultString)))` for a
/// fault.
pub fn parse_response(body: &[u8]) -> Result<Result<Value, (i64, String)>, DecodeError> {
    const SHAPE: &str = "<methodResponse> must hold one <params> or one <fault>";
    decode(body, "methodResponse", Limits::new(), |dec| {
        let decoded = match dec.child("methodResponse")? {
            Some("fault") => Err(dec.only_child("fault", "value", |d| d.value(1))?),
            Some("params") => Ok(dec.params()?),
            _ => return structure(SHAPE),
        };
        if dec.child("methodResponse")?.is_some() {
            return structure(SHAPE);
        }
        match decoded {
            Err(v) => {
                let code = v.get("faultCode").and_then(Value::as_int);
                let text = v.get("faultString").and_then(Value::as_str);
                match (code, text) {
                    (Some(code), Some(text)) => Ok(Err((code, text.to_string()))),
                    _ => structure("a fault needs an int faultCode and a string faultString"),
                }
            }
            Ok(mut params) => match (params.pop(), params.is_empty()) {
                (Some(v), true) => Ok(Ok(v)),
                _ => structure("a response must hold exactly one <param>"),
            },
        }
    })
}

/// Member names Supervisor's replies use, so that decoding them allocates nothing.
const KNOWN_NAMES: [&str; 36] = [
    "name",
    "group",
    "start",
    "stop",
    "now",
    "state",
    "statename",
    "spawnerr",
    "exitstatus",
    "logfile",
    "stdout_logfile",
    "stderr_logfile",
    "pid",
    "description",
    "statecode",
    "faultCode",
    "faultString",
    "status",
    "methodName",
    "params",
    "autostart",
    "command",
    "group_prio",
    "inuse",
    "killasgroup",
    "process_prio",
    "redirect_stderr",
    "startretries",
    "startsecs",
    "stopsignal",
    "stopwaitsecs",
    "serverurl",
    "autorestart",
    "uid",
    "processname",
    "priority",
];

fn member_name(key: Cow<'_, str>) -> Key {
    match KNOWN_NAMES.iter().find(|&&k| k == key) {
        Some(&k) => Key::Borrowed(k),
        None => Key::Owned(key.into_owned()),
    }
}
