//! JSON text (RFC 8259) for the machine-readable outputs (`supervisorctl … --json`,
//! `GET /status.json`): an encoder from the XML-RPC [`Value`] the API already produces, and
//! the decoder that tests and tools read it back with.
//!
//! Written here rather than taken from serde_json: the documents are XML-RPC values turned
//! into text, one function each way, and the project keeps its dependency list short
//! (STYLE.md §11). The encoder escapes every control character, `"` and `\`, and also
//! U+2028/U+2029 so a document can be pasted into JavaScript source; everything else is
//! written as UTF-8, which every JSON parser accepts.

use crate::rpc::base64;
use crate::rpc::value::Value;
use std::fmt;

/// How deep arrays and objects may nest in a decoded document (the decoder recurses).
pub const MAX_DEPTH: usize = 128;

/// `v` as one line of JSON text.
pub fn encode(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// Appends `v` as JSON. XML-RPC types without a JSON twin: base64 becomes its base64 text,
/// dateTime its ISO 8601 text, a double that is not finite `null` (JSON has no NaN).
pub fn write(v: &Value, out: &mut String) {
    match v {
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::String(s) | Value::DateTime(s) => string(s, out),
        Value::Double(d) if d.is_finite() => {
            // `{:?}` keeps a fraction (`1.0`), so the number reads back as a double.
            out.push_str(&format!("{d:?}"));
        }
        Value::Double(_) | Value::Nil => out.push_str("null"),
        Value::Base64(b) => string(&base64::encode(b), out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Struct(members) => {
            out.push('{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(k, out);
                out.push(':');
                write(item, out);
            }
            out.push('}');
        }
        // Only the daemon builds these, for getAllProcessInfo's XML; JSON documents are made
        // from value trees.
        Value::Encoded(_) => out.push_str("null"),
    }
}

/// Appends `s` as a JSON string literal.
pub fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Why a text is not one JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset where reading stopped.
    pub at: usize,
    pub what: &'static str,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.at, self.what)
    }
}

impl std::error::Error for JsonError {}

/// Reads one JSON value (surrounded by optional white space). Objects become structs with
/// their members in document order, integers that fit in i64 become ints, other numbers
/// doubles, `null` nil.
pub fn decode(text: &str) -> Result<Value, JsonError> {
    let mut r = Reader {
        b: text.as_bytes(),
        i: 0,
    };
    let v = r.value(0)?;
    r.space();
    if r.i != r.b.len() {
        return Err(r.err("text after the value"));
    }
    Ok(v)
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn err(&self, what: &'static str) -> JsonError {
        JsonError { at: self.i, what }
    }

    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.space();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, JsonError> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("unknown literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth >= MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.space();
        match self.b.get(self.i) {
            None => Err(self.err("unexpected end")),
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                if self.eat(b'}') {
                    return Ok(Value::Struct(members));
                }
                loop {
                    self.space();
                    if self.b.get(self.i) != Some(&b'"') {
                        return Err(self.err("expected a member name"));
                    }
                    let key = self.string()?;
                    if !self.eat(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    members.push((key.into(), self.value(depth + 1)?));
                    if self.eat(b'}') {
                        return Ok(Value::Struct(members));
                    }
                    if !self.eat(b',') {
                        return Err(self.err("expected ',' or '}'"));
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.eat(b']') {
                        return Ok(Value::Array(items));
                    }
                    if !self.eat(b',') {
                        return Err(self.err("expected ',' or ']'"));
                    }
                }
            }
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Nil),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.i;
        let digits = |r: &mut Self| {
            let from = r.i;
            while r.b.get(r.i).is_some_and(u8::is_ascii_digit) {
                r.i += 1;
            }
            r.i - from
        };
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let int_start = self.i;
        let n = digits(self);
        if n == 0 || (n > 1 && self.b[int_start] == b'0') {
            return Err(self.err("bad number"));
        }
        let mut integral = true;
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            integral = false;
            if digits(self) == 0 {
                return Err(self.err("bad number"));
            }
        }
        if let Some(b'e' | b'E') = self.b.get(self.i) {
            self.i += 1;
            integral = false;
            if let Some(b'+' | b'-') = self.b.get(self.i) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("bad number"));
            }
        }
        // Only ASCII digits, signs, '.' and 'e' were consumed.
        let text = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("");
        if integral {
            if let Ok(n) = text.parse::<i64>() {
                return Ok(Value::Int(n));
            }
        }
        text.parse::<f64>()
            .map(Value::Double)
            .map_err(|_| self.err("bad number"))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .b
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .ok_or_else(|| self.err("bad \\u escape"))?;
        let n = u32::from_str_radix(digits, 16).map_err(|_| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(n)
    }

    /// A string literal; `self.i` is at its opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return Err(self.err("unterminated string"));
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.b.get(self.i) else {
                        return Err(self.err("unterminated string"));
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&hi) {
                                if !self.b[self.i..].starts_with(b"\\u") {
                                    return Err(self.err("lone surrogate"));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return Err(self.err("lone surrogate"));
                                }
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or_else(|| self.err("lone surrogate"))?
                        }
                        _ => return Err(self.err("bad escape")),
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c if c < 0x20 => return Err(self.err("control character in a string")),
                c => out.push(c),
            }
        }
        // The input is a &str and escapes add whole characters, so this holds.
        String::from_utf8(out).map_err(|_| self.err("invalid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_every_control_character() {
        assert_eq!(encode(&s("a\"b\\c/d")), r#""a\"b\\c/d""#);
        assert_eq!(encode(&s("\n\r\t\u{8}\u{c}")), r#""\n\r\t\b\f""#);
        assert_eq!(
            encode(&s("\u{0}\u{1}\u{1f}\u{7f}")),
            r#""\u0000\u0001\u001f\u007f""#
        );
        assert_eq!(encode(&s("\u{2028}\u{2029}")), r#""\u2028\u2029""#);
        assert_eq!(encode(&s("tö 日本 🎉")), "\"tö 日本 🎉\"");
        // Every code point below 0x80 survives the round trip.
        let all: String = (0u8..0x80).map(char::from).collect();
        assert_eq!(decode(&encode(&s(&all))), Ok(s(&all)));
    }

    #[test]
    fn nesting_and_scalars() {
        let v = Value::Struct(vec![
            (
                "processes".into(),
                Value::Array(vec![Value::Struct(vec![
                    ("name".into(), s("a:b")),
                    ("pid".into(), Value::Int(-42)),
                    ("up".into(), Value::Bool(true)),
                    ("nothing".into(), Value::Nil),
                    ("ratio".into(), Value::Double(0.5)),
                    ("whole".into(), Value::Double(3.0)),
                ])]),
            ),
            ("empty".into(), Value::Array(vec![])),
            ("obj".into(), Value::Struct(vec![])),
        ]);
        let text = encode(&v);
        assert_eq!(
            text,
            r#"{"processes":[{"name":"a:b","pid":-42,"up":true,"nothing":null,"ratio":0.5,"whole":3.0}],"empty":[],"obj":{}}"#
        );
        assert_eq!(decode(&text), Ok(v));
    }

    #[test]
    fn types_without_a_json_twin() {
        assert_eq!(encode(&Value::Base64(b"hi\0".to_vec())), "\"aGkA\"");
        assert_eq!(
            encode(&Value::DateTime("20240102T03:04:05".into())),
            "\"20240102T03:04:05\""
        );
        assert_eq!(encode(&Value::Double(f64::NAN)), "null");
        assert_eq!(encode(&Value::Double(f64::INFINITY)), "null");
        assert_eq!(
            encode(&Value::Int(i64::MIN)),
            "-9223372036854775808".to_string()
        );
    }

    #[test]
    fn decoder_reads_what_other_encoders_write() {
        let v =
            decode(" { \"a\" : [ 1 , -0.5e1 , 1E2 , \"\\u00e9\\ud83c\\udf89\\/\" ] } \n").unwrap();
        assert_eq!(
            v,
            Value::Struct(vec![(
                "a".into(),
                Value::Array(vec![
                    Value::Int(1),
                    Value::Double(-5.0),
                    Value::Double(100.0),
                    s("é🎉/"),
                ])
            )])
        );
        assert_eq!(
            decode("99999999999999999999"),
            Ok(Value::Double(1e20)),
            "too large for an int"
        );
    }

    #[test]
    fn decoder_refuses_what_is_not_json() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "1.",
            "-",
            "1e",
            "\"\\x\"",
            "\"a\nb\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "tru",
            "nul",
            "[1] 2",
            "'a'",
        ] {
            assert!(decode(bad).is_err(), "{bad:?} was accepted");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(decode(&deep).map_err(|e| e.what), Err("nested too deeply"));
        let ok = "[".repeat(MAX_DEPTH - 1) + &"]".repeat(MAX_DEPTH - 1);
        assert!(decode(&ok).is_ok());
    }
}
