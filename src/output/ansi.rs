//! `strip_ansi=true`: removing `ESC [ … <final>` sequences the way Supervisor does (per chunk).

use std::borrow::Cow;

const FINALS: &[u8] = b"HfABCDRsuJKhlpm";

/// `strip` when `on`, the data as it is otherwise.
pub fn strip_if(data: &[u8], on: bool) -> Cow<'_, [u8]> {
    if on {
        strip(data)
    } else {
        Cow::Borrowed(data)
    }
}

pub fn strip(data: &[u8]) -> Cow<'_, [u8]> {
    if !data.contains(&0x1b) {
        return Cow::Borrowed(data);
    }
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == 0x1b && data.get(i + 1) == Some(&b'[') {
            match data[i + 2..].iter().position(|b| FINALS.contains(b)) {
                Some(p) => i += 2 + p + 1,
                // An unterminated sequence drops the rest of the chunk, as Supervisor does.
                None => break,
            }
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_sequences() {
        assert_eq!(&*super::strip(b"\x1b[31mred\x1b[0m ok"), b"red ok");
        assert_eq!(&*super::strip(b"plain"), b"plain");
        assert_eq!(&*super::strip(b"a\x1b[12;3Hb"), b"ab");
        assert_eq!(&*super::strip(b"a\x1b[31"), b"a");
        assert_eq!(&*super::strip(b"a\x1bb"), b"a\x1bb");
    }
}
