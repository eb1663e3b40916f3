//! Python `repr()` and `ascii()` of strings and `repr()` of bytes, because Supervisor's error
//! messages quote values that way (`'foo=bar\n'`, `"it's"`) and shows output that is not
//! UTF-8 as `Undecodable: b'\x88\n'`; users compare them with what 4.3 printed.

/// `repr(s)` as Python 3 prints it.
pub fn repr(s: &str) -> String {
    quote(s, false)
}

/// `ascii(s)`: like [`repr`] but every non-ASCII character is escaped.
pub fn ascii(s: &str) -> String {
    quote(s, true)
}

/// `repr(data)` of a Python 3 `bytes` value: `b'...'` (or `b"..."` when it holds a `'` and
/// no `"`), printable ASCII as is, `\t \n \r \\` and the quote escaped, any other byte as
/// `\xNN`.
pub fn bytes_repr(data: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let q = if data.contains(&b'\'') && !data.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(q as char);
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b == q => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                out.push_str("\\x");
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
    out.push(q as char);
    out
}

/// Python's `str.isspace()`, which (unlike Rust's `char::is_whitespace`) also counts the ASCII
/// information separators 0x1c–0x1f; the INI rules strip with it.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `s.strip()` with Python's notion of whitespace.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

fn quote(s: &str, only_ascii: bool) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x7f => out.push(c),
            c if !only_ascii && printable(c) => out.push(c),
            c => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
        }
    }
    out.push(q);
    out
}

/// An approximation of `str.isprintable()` for non-ASCII characters: the separators, format
/// characters and private-use ranges Python escapes. Unassigned code points are not tracked
/// (that would need the Unicode tables); they are shown as they are.
fn printable(c: char) -> bool {
    let n = c as u32;
    !matches!(n,
        0x80..=0xa0
        | 0xad
        | 0x600..=0x605
        | 0x61c
        | 0x6dd
        | 0x70f
        | 0x1680
        | 0x180e
        | 0x2000..=0x200f
        | 0x2028..=0x202f
        | 0x205f..=0x2064
        | 0x2066..=0x206f
        | 0x3000
        | 0xe000..=0xf8ff
        | 0xfeff
        | 0xfff9..=0xfffb
        | 0xf0000..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_plain_and_escapes() {
        assert_eq!(repr("foo=bar\n"), "'foo=bar\\n'");
        assert_eq!(repr("a\tb\\c\r"), "'a\\tb\\\\c\\r'");
        assert_eq!(repr("\x01\x7f"), "'\\x01\\x7f'");
    }

    #[test]
    fn repr_chooses_quotes_like_python() {
        assert_eq!(repr("it's"), "\"it's\"");
        assert_eq!(repr("it's \"x\""), "'it\\'s \"x\"'");
        assert_eq!(repr("say \"x\""), "'say \"x\"'");
    }

    #[test]
    fn repr_keeps_printable_unicode() {
        assert_eq!(repr("öäü"), "'öäü'");
        assert_eq!(repr("a\u{a0}b"), "'a\\xa0b'");
        assert_eq!(repr("\u{2028}"), "'\\u2028'");
    }

    #[test]
    fn ascii_escapes_everything_non_ascii() {
        assert_eq!(ascii("ö"), "'\\xf6'");
        assert_eq!(ascii("€"), "'\\u20ac'");
        assert_eq!(ascii("😀"), "'\\U0001f600'");
    }

    #[test]
    fn bytes_repr_like_python() {
        assert_eq!(bytes_repr(b"\x88\n"), "b'\\x88\\n'");
        assert_eq!(bytes_repr(b"ok\nit's \x88\n"), "b\"ok\\nit's \\x88\\n\"");
        assert_eq!(
            bytes_repr(b"'\"\\\t\r\x7f\x00~"),
            "b'\\'\"\\\\\\t\\r\\x7f\\x00~'"
        );
    }

    #[test]
    fn python_whitespace() {
        assert!(is_space('\u{1c}'));
        assert!(is_space('\u{a0}'));
        assert_eq!(strip("\u{1f} x \t"), "x");
    }
}
