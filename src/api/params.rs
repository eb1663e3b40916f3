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

/// An optional boolean (`wait`), true when absent.
pub fn flag(params: &[Value], i: usize) -> Result<bool, Fault> {
    match params.get(i) {
        None => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Int(n)) => Ok(*n != 0),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(true),
            "0" | "false" | "" => Ok(false),
            _ => Err(bad()),
        },
        _ => Err(bad()),
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
        Err(_) => Err(Fault::new(faults::BAD_SIGNAL, &text)),
    }
}
