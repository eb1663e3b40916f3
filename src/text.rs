//! Numbers as text: written in decimal without core::fmt for the wire formats (event
//! notifications, XML-RPC replies), and read with Python's `int()` rules (configuration
//! values, supervisorctl arguments).

use crate::pyrepr::strip;

/// `n` in decimal, what `{}` prints, written into `buf` without core::fmt: these formats
/// write a number or five per event or per process, where fmt's machinery cost more than the
/// rest of the encoding.
pub fn decimal(n: u64, buf: &mut [u8; 20]) -> &str {
    let mut m = n;
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
}

/// Why Python's `int()` refused a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntError {
    Invalid,
    /// Valid syntax but beyond i64 (Python would accept it; nothing here needs such numbers).
    Overflow,
}

/// Python `int(s, base)` for base 10 or 8: surrounding whitespace, a sign, `_` between digits,
/// and for base 8 an optional `0o` prefix.
pub fn py_int(s: &str, base: u32) -> Result<i64, IntError> {
    let t = strip(s);
    let (neg, mut rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut prefixed = false;
    if base == 8 && (rest.starts_with("0o") || rest.starts_with("0O")) {
        rest = &rest[2..];
        prefixed = true;
    }
    let bytes = rest.as_bytes();
    if bytes.is_empty() {
        return Err(IntError::Invalid);
    }
    let mut value: i64 = 0;
    let mut overflow = false;
    let mut prev_digit = prefixed; // `0o_7` is allowed: an underscore may follow the prefix
    let mut digits = 0;
    for &b in bytes {
        if b == b'_' {
            if !prev_digit {
                return Err(IntError::Invalid);
            }
            prev_digit = false;
            continue;
        }
        let d = match (b as char).to_digit(base) {
            Some(d) => d,
            None => return Err(IntError::Invalid),
        };
        digits += 1;
        prev_digit = true;
        match value
            .checked_mul(base as i64)
            .and_then(|v| v.checked_add(d as i64))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if digits == 0 || !prev_digit {
        return Err(IntError::Invalid);
    }
    if overflow {
        return Err(IntError::Overflow);
    }
    Ok(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_print_like_display() {
        for n in [0, 7, 10, 99, 1234567890, u64::MAX] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string());
        }
    }

    #[test]
    fn py_int_rules() {
        assert_eq!(py_int(" 12 ", 10), Ok(12));
        assert_eq!(py_int("+5", 10), Ok(5));
        assert_eq!(py_int("-1", 10), Ok(-1));
        assert_eq!(py_int("1_000", 10), Ok(1000));
        assert_eq!(py_int("007", 10), Ok(7));
        assert_eq!(py_int("1__0", 10), Err(IntError::Invalid));
        assert_eq!(py_int("_1", 10), Err(IntError::Invalid));
        assert_eq!(py_int("1_", 10), Err(IntError::Invalid));
        assert_eq!(py_int("0x10", 10), Err(IntError::Invalid));
        assert_eq!(py_int("1.5", 10), Err(IntError::Invalid));
        assert_eq!(py_int("", 10), Err(IntError::Invalid));
        assert_eq!(py_int("-", 10), Err(IntError::Invalid));
        assert_eq!(py_int("99999999999999999999", 10), Err(IntError::Overflow));
    }
}
