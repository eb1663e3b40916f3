//! XML-RPC encoding and decoding: method calls and responses, both directions (the daemon
//! decodes calls and encodes responses; supervisorctl does the reverse). Output is laid out like
//! Python's `xmlrpc.client.dumps`, and is always well-formed: characters XML 1.0 forbids are
//! replaced by U+FFFD (README R3), ints are clamped to 32 bits (R4).

use super::base64;
use super::value::Value;
use super::xml::{self, is_xml_char, Element};
use std::fmt::{self, Write};

pub const MAX_VALUE_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

fn err<T>(msg: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError(msg.into()))
}

fn only_child<'a>(e: &'a Element, what: &str) -> Result<&'a Element, DecodeError> {
    let mut it = e.elements();
    match (it.next(), it.next()) {
        (Some(c), None) => Ok(c),
        _ => err(format!("<{what}> must hold exactly one element")),
    }
}

fn decode_value(v: &Element, depth: usize) -> Result<Value, DecodeError> {
    if depth > MAX_VALUE_DEPTH {
        return err("values nested too deeply");
    }
    let mut kids = v.elements();
    let Some(t) = kids.next() else {
        // An untyped <value>text</value> is a string.
        return Ok(Value::String(v.text()));
    };
    if kids.next().is_some() {
        return err("<value> holds more than one element");
    }
    let text = t.text();
    Ok(match t.name.as_str() {
        "int" | "i4" | "i8" => Value::Int(
            text.trim()
                .parse()
                .map_err(|_| DecodeError(format!("bad integer {text:?}")))?,
        ),
        "boolean" => match text.trim() {
            "1" | "true" => Value::Bool(true),
            "0" | "false" => Value::Bool(false),
            other => return err(format!("bad boolean {other:?}")),
        },
        "string" => Value::String(text),
        "double" => Value::Double(
            text.trim()
                .parse()
                .map_err(|_| DecodeError(format!("bad double {text:?}")))?,
        ),
        "base64" => Value::Base64(base64::decode(&text).ok_or(DecodeError("bad base64".into()))?),
        "dateTime.iso8601" => Value::DateTime(text.trim().to_string()),
        "nil" => Value::Nil,
        "array" => {
            let data = only_child(t, "array")?;
            if data.name != "data" {
                return err("<array> must hold <data>");
            }
            let mut items = Vec::new();
            for item in data.elements() {
                if item.name != "value" {
                    return err("<data> may only hold <value>");
                }
                items.push(decode_value(item, depth + 1)?);
            }
            Value::Array(items)
        }
        "struct" => {
            let mut members = Vec::new();
            for m in t.elements() {
                if m.name != "member" {
                    return err("<struct> may only hold <member>");
                }
                let name = m.elements().find(|e| e.name == "name");
                let value = m.elements().find(|e| e.name == "value");
                match (name, value) {
                    (Some(n), Some(v)) => members.push((n.text(), decode_value(v, depth + 1)?)),
                    _ => return err("<member> needs <name> and <value>"),
                }
            }
            Value::Struct(members)
        }
        other => return err(format!("unknown value type <{other}>")),
    })
}

fn decode_params(root: &Element) -> Result<Vec<Value>, DecodeError> {
    let Some(params) = root.elements().find(|e| e.name == "params") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for p in params.elements() {
        if p.name != "param" {
            return err("<params> may only hold <param>");
        }
        let v = only_child(p, "param")?;
        if v.name != "value" {
            return err("<param> must hold <value>");
        }
        out.push(decode_value(v, 0)?);
    }
    Ok(out)
}

/// Decodes a `<methodCall>`: (method name, parameters). An empty name is returned as such.
pub fn parse_call(body: &[u8]) -> Result<(String, Vec<Value>), DecodeError> {
    let root = xml::parse(body).map_err(DecodeError)?;
    if root.name != "methodCall" {
        return err("root element is not <methodCall>");
    }
    let name = root
        .elements()
        .find(|e| e.name == "methodName")
        .map(|e| e.text().trim().to_string())
        .unwrap_or_default();
    Ok((name, decode_params(&root)?))
}

/// Decodes a `<methodResponse>`: Ok(value), or Ok(Err((faultCode, faultString))).
pub fn parse_response(body: &[u8]) -> Result<Result<Value, (i64, String)>, DecodeError> {
    let root = xml::parse(body).map_err(DecodeError)?;
    if root.name != "methodResponse" {
        return err("root element is not <methodResponse>");
    }
    if let Some(f) = root.elements().find(|e| e.name == "fault") {
        let v = decode_value(only_child(f, "fault")?, 0)?;
        let code = v.get("faultCode").and_then(Value::as_int).unwrap_or(0);
        let text = v
            .get("faultString")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        return Ok(Err((code, text)));
    }
    let mut params = decode_params(&root)?;
    if params.len() != 1 {
        return err("a response holds exactly one value");
    }
    Ok(Ok(params.remove(0)))
}

/// Escapes `&`, `<`, `>` and replaces characters XML cannot carry.
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

fn encode_value(v: &Value, out: &mut String) {
    out.push_str("<value>");
    match v {
        Value::Int(n) => {
            let n = (*n).clamp(i32::MIN as i64, i32::MAX as i64);
            let _ = write!(out, "<int>{n}</int>");
        }
        Value::Bool(b) => {
            let _ = write!(out, "<boolean>{}</boolean>", *b as u8);
        }
        Value::String(s) => {
            out.push_str("<string>");
            escape(s, out);
            out.push_str("</string>");
        }
        Value::Double(f) => {
            let _ = write!(out, "<double>{f:?}</double>");
        }
        Value::Base64(b) => {
            let _ = write!(out, "<base64>\n{}\n</base64>", base64::encode(b));
        }
        Value::DateTime(d) => {
            out.push_str("<dateTime.iso8601>");
            escape(d, out);
            out.push_str("</dateTime.iso8601>");
        }
        Value::Nil => out.push_str("<nil/>"),
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

pub fn encode_response(v: &Value) -> String {
    let mut out = String::from("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n");
    encode_value(v, &mut out);
    out.push_str("</param>\n</params>\n</methodResponse>\n");
    out
}

pub fn encode_fault(code: i64, message: &str) -> String {
    let mut out = String::from("<?xml version='1.0'?>\n<methodResponse>\n<fault>\n");
    encode_value(
        &Value::Struct(vec![
            ("faultCode".into(), Value::Int(code)),
            ("faultString".into(), Value::String(message.to_string())),
        ]),
        &mut out,
    );
    out.push_str("</fault>\n</methodResponse>\n");
    out
}

pub fn encode_call(method: &str, params: &[Value]) -> String {
    let mut out = String::from("<?xml version='1.0'?>\n<methodCall>\n<methodName>");
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

/// Log bytes as XML-RPC text: lossy, so a window splitting a UTF-8 character still works.
pub fn text_from_log_bytes(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests;
