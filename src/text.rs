//! Small text helpers shared by the wire formats (event notifications, XML-RPC replies).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_print_like_display() {
        for n in [0, 7, 10, 99, 1234567890, u64::MAX] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string());
        }
    }
}
