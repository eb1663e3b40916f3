//! Reading method parameters with Python's leniency where clients rely on it (`"5"` and `5.7`
//! work as ints) and a clean INCORRECT_PARAMETERS fault instead of Supervisor's HTTP 500 for
//! wrong types (README R5).

use super::faults::{self, Fault};
use crate::rpc::value::Value;

fn bad() -> Fault {
    Fault::plain(faults::INCORRECT_PARAMETERS)
}

pub fn string(params: &[Value], i: usize) -> Result<String, Fault> {
    match params.get(i) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(bad()),
    }
}

pub fn int(params: &[Value], i: usize) -> Result<i64, Fault> {
    match params.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(Value::Bool(b)) => Ok(*b as i64),
        Some(Value::Double(f)) if f.is_finite() => Ok(f.trunc() as i64),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// An optional boolean (`wait`), true when absent. Supervisor only tests the value's truth,
/// so any value is accepted, as Python would judge it, except that the strings "0" and
/// "false" (any case) mean false: a caller who wrote them did not mean to wait.
pub fn flag(params: &[Value], i: usize) -> bool {
    match params.get(i) {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::Int(n)) => *n != 0,
        Some(Value::Double(f)) => *f != 0.0,
        Some(Value::String(s)) => !matches!(s.to_ascii_lowercase().as_str(), "0" | "false" | ""),
        Some(Value::Base64(b)) => !b.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Struct(m)) => !m.is_empty(),
        Some(Value::Nil) => false,
        Some(Value::DateTime(_) | Value::Encoded(_)) => true,
    }
}

/// A signal given as a name (`HUP`, `SIGHUP`) or a number (string or int).
pub fn signal_arg(params: &[Value], i: usize) -> Result<(i32, String), Fault> {
    let text = match params.get(i) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Int(n)) => n.to_string(),
        _ => return Err(bad()),
    };
    match crate::config::types::signal_number(&text) {
        Ok(n) => Ok((n, text)),
        Err(_) => Err(Fault::new(faults::BAD_SIGNAL, echo(&text))),
    }
}

/// A bad signal is echoed in every result of signalAllProcesses: a 4 MiB one would make a
/// reply of 4 MiB per process. No signal name is longer than this.
const MAX_SIGNAL_ECHO: usize = 64;

fn echo(text: &str) -> String {
    if text.len() <= MAX_SIGNAL_ECHO {
        return text.to_string();
    }
    let mut end = MAX_SIGNAL_ECHO;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_bad_signal_is_echoed_cut_short() {
        let long = "é".repeat(1000);
        let f = signal_arg(&[Value::String(long)], 0).unwrap_err();
        assert_eq!(f.code, faults::BAD_SIGNAL);
        assert_eq!(f.text, format!("BAD_SIGNAL: {}...", "é".repeat(32)));
        let f = signal_arg(&[Value::from("BOGUS")], 0).unwrap_err();
        assert_eq!(f.text, "BAD_SIGNAL: BOGUS");
    }
}
