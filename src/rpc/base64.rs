//! Standard base64 (RFC 4648 alphabet, `=` padding) for `<base64>` values and HTTP Basic
//! credentials; written here because the crate takes no dependency for 60 lines.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes with padding, on one line.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        // A chunk of k bytes yields k + 1 significant characters; the rest is padding.
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes, skipping ASCII whitespace (Python's encoder wraps lines at 76 characters).
/// Like Python's non-strict decoder, decoding stops at the first `=`; missing padding is
/// tolerated. `None` for any other character outside the alphabet, or for a dangling
/// single character (6 bits cannot make a byte).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let (mut acc, mut bits, mut chars) = (0u32, 0u32, 0usize);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        // Only the low 12 bits are ever needed; masking keeps the shift from overflowing.
        acc = ((acc << 6) | u32::from(v)) & 0xFFF;
        bits += 6;
        chars += 1;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if chars % 4 == 1 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

    #[test]
    fn round_trip_all_lengths() {
        for s in ["", "a", "ab", "abc", "abcd", "user:thepassword"] {
            let e = encode(s.as_bytes());
            assert_eq!(decode(&e).as_deref(), Some(s.as_bytes()), "{e}");
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&all)), Some(all));
    }

    #[test]
    fn known_vectors() {
        // RFC 4648 §10.
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), enc);
            assert_eq!(decode(enc).as_deref(), Some(plain.as_bytes()));
        }
    }

    #[test]
    fn lenient_and_strict_parts() {
        assert_eq!(decode("YW\nJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(decode("YWI").as_deref(), Some(&b"ab"[..]));
        // Python's decodebytes also stops at the padding.
        assert_eq!(decode("YQ==garbage").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode("a*"), None);
        assert_eq!(decode("Y"), None);
        assert_eq!(decode("YWJjZ"), None);
        assert_eq!(decode("ü"), None);
    }
}
