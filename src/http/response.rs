//! What goes back to a client: the `Reply` the main loop hands over, Supervisor's (medusa's)
//! error pages (with the HTML escaping the web UI shares, `esc`), the `Date:` format, and
//! writing a response in one writev under a deadline for the whole reply (a client that
//! stops reading holds its thread only that long). Large reply bodies are recycled.

use super::limits::Timeouts;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The last large reply body, kept for the next large reply once written: a fresh buffer
/// of getAllProcessInfo(1000)'s 1.2 MB cost a quarter of that call in page faults and an
/// unmap. One buffer at most, of 64 KiB to 8 MiB, so an idle daemon keeps at most about
/// the size of its largest recent reply.
static SPARE_BODY: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());
const SPARE_MIN: usize = 64 * 1024;
const SPARE_MAX: usize = 8 << 20;

/// An empty buffer for a reply body of about `capacity` bytes, recycled when there is one.
pub fn reply_buffer(capacity: usize) -> Vec<u8> {
    let mut buf = SPARE_BODY
        .lock()
        .map(|mut spare| std::mem::take(&mut *spare))
        .unwrap_or_default();
    buf.clear();
    buf.reserve(capacity);
    buf
}

pub fn recycle(body: Vec<u8>) {
    if let Ok(mut spare) = SPARE_BODY.lock() {
        keep_larger(&mut spare, body);
    }
}

/// Keeps `body` as the spare if its size is worth keeping and it beats the current one.
fn keep_larger(spare: &mut Vec<u8>, body: Vec<u8>) {
    if (SPARE_MIN..=SPARE_MAX).contains(&body.capacity()) && spare.capacity() < body.capacity() {
        *spare = body;
    }
}

/// What the connection thread writes back.
pub enum Reply {
    Response {
        status: u16,
        content_type: &'static str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// Stream a log file like `tail -f`: its last 1024 bytes, then what is appended.
    Follow { path: PathBuf, accel_header: bool },
}

impl Reply {
    pub fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Response {
            status: 200,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Supervisor's (medusa's) HTML error page.
    pub fn error(status: u16) -> Reply {
        Reply::Response {
            status,
            content_type: "text/html",
            headers: Vec::new(),
            body: error_page(status).into_bytes(),
        }
    }

    /// The error page with a sentence saying why (HTML-escaped), for refusals a client's
    /// author needs to understand.
    pub fn refused(status: u16, why: &str) -> Reply {
        let mut page = error_page(status);
        page.truncate(page.len() - "</body>\r\n".len());
        page.push_str(&format!("<p>{}\r\n</body>\r\n", esc(why)));
        Reply::Response {
            status,
            content_type: "text/html",
            headers: Vec::new(),
            body: page.into_bytes(),
        }
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        301 => "Moved Permanently",
        303 => "See Other",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

pub fn error_page(status: u16) -> String {
    [
        "<head>",
        "<title>Error response</title>",
        "</head>",
        "<body>",
        "<h1>Error response</h1>",
        &format!("<p>Error code {status}."),
        &format!("<p>Message: {}.", reason(status)),
        "</body>",
        "",
    ]
    .join("\r\n")
}

/// Writes a whole response; it must be out by the transfer deadline of its size.
pub fn write_response(
    out: &File,
    status: u16,
    content_type: &str,
    headers: &[(&'static str, String)],
    body: &[u8],
    keep_alive: bool,
    timeouts: &Timeouts,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nServer: Medusa/1.12\r\nDate: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        reason(status),
        httpdate_fmt(std::time::SystemTime::now()),
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !keep_alive && !headers.iter().any(|(k, _)| *k == "Connection") {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let deadline = timeouts.transfer_deadline(Instant::now(), head.len() + body.len());
    // Head and body in one writev: one packet for small replies (no Nagle delay between head
    // and body), and no copy of a large body (getAllProcessInfo(1000) is 1.2 MB).
    write_all_2(out, head.as_bytes(), body, deadline)
}

/// An error page with `Connection: close` (and `extra` headers), for a request refused
/// before it reached the loop.
pub fn write_error(out: &File, status: u16, extra: &[(&'static str, String)], t: &Timeouts) {
    let page = error_page(status);
    // The connection is closed next whatever happens here.
    let _ = write_response(out, status, "text/html", extra, page.as_bytes(), false, t);
}

/// Sets SO_SNDTIMEO (zero would mean "no timeout", so at least a microsecond).
pub fn set_send_timeout(fd: RawFd, d: Duration) {
    let d = d.max(Duration::from_micros(1));
    let tv = libc::timeval {
        tv_sec: d.as_secs().min(i32::MAX as u64) as _,
        tv_usec: d.subsec_micros() as _,
    };
    // SAFETY: setsockopt reads the timeval we pass.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
}

/// `write_all` of `a` then `b` with writev(2), resuming after partial writes, each wait
/// bounded by what is left until `deadline`.
fn write_all_2(out: &File, mut a: &[u8], mut b: &[u8], deadline: Instant) -> io::Result<()> {
    while !a.is_empty() || !b.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        set_send_timeout(out.as_raw_fd(), left);
        let iov = [
            libc::iovec {
                iov_base: a.as_ptr() as *mut libc::c_void,
                iov_len: a.len(),
            },
            libc::iovec {
                iov_base: b.as_ptr() as *mut libc::c_void,
                iov_len: b.len(),
            },
        ];
        // SAFETY: both iovecs describe live slices that writev only reads.
        let n = unsafe { libc::writev(out.as_raw_fd(), iov.as_ptr(), 2) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        let n = n as usize;
        if n < a.len() {
            a = &a[n..];
        } else {
            b = &b[n - a.len()..];
            a = &[];
        }
    }
    Ok(())
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    esc_into(&mut out, s);
    out
}

/// [`esc`] appended to `out`, for pages built in one buffer.
pub fn esc_into(out: &mut String, s: &str) {
    // Names, tokens and labels rarely need anything: copy them whole (a status page of ten
    // thousand rows escapes some hundred thousand of them).
    if s.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && !matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
    {
        out.push_str(s);
        return;
    }
    out.reserve(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab/newline are shown as U+FFFD, not passed through.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// RFC 1123 date (`Thu, 26 Nov 2026 22:50:18 GMT`).
pub fn httpdate_fmt(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let tm = crate::sys::tm::utc(secs);
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[tm.tm_wday.clamp(0, 6) as usize],
        tm.tm_mday,
        crate::sys::tm::MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_large_reply_buffer_is_kept() {
        let mut spare = Vec::new();
        keep_larger(&mut spare, Vec::with_capacity(1024));
        assert_eq!(spare.capacity(), 0, "small bodies are not worth keeping");
        keep_larger(&mut spare, Vec::with_capacity(SPARE_MAX + 1));
        assert_eq!(spare.capacity(), 0, "nor huge ones");
        keep_larger(&mut spare, Vec::with_capacity(200 * 1024));
        assert!(spare.capacity() >= 200 * 1024);
        keep_larger(&mut spare, Vec::with_capacity(100 * 1024));
        assert!(spare.capacity() >= 200 * 1024, "the larger one stays");
    }

    #[test]
    fn a_refusal_says_why_in_the_error_page() {
        let Reply::Response { status, body, .. } =
            Reply::refused(403, "Origin <x> is not this site")
        else {
            panic!("not a response");
        };
        let body = String::from_utf8(body).unwrap();
        assert_eq!(status, 403);
        assert!(body.starts_with(&error_page(403)[..60]));
        assert!(
            body.ends_with("<p>Origin &lt;x&gt; is not this site\r\n</body>\r\n"),
            "{body}"
        );
    }

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            esc("<script>\"a\"&'b'</script>"),
            "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(esc("a\x1b[31mb\n"), "a\u{fffd}[31mb\n");
    }

    #[test]
    fn rfc1123() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_424_618);
        assert_eq!(httpdate_fmt(t), "Fri, 04 Dec 2026 22:50:18 GMT");
    }
}
