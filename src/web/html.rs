//! HTML building blocks of the web UI: escaping, URL quoting, the embedded stylesheet and the
//! page frame. Every name and log byte goes through [`esc`].

/// Shared with the HTTP error pages, which are below the web UI.
pub use crate::http::response::{esc, esc_into};

/// Percent-encodes everything but unreserved characters (for query values).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    quote_into(&mut out, s);
    out
}

/// [`quote`] appended to `out`.
pub fn quote_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// The stylesheet, embedded in every page (no external assets).
pub const CSS: &str = "\
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;\
background:#f4f5f7;color:#222}\
header{background:#2d3e50;color:#fff;padding:.6em 1em}\
header h1{margin:0;font-size:1.3em}header p{margin:.2em 0 0;font-size:.9em;opacity:.9}\
main{padding:.5em 1em;max-width:70em}\
.msg{background:#fff8d6;border:1px solid #e0c35a;padding:.5em;margin:.5em 0;word-break:break-word}\
.msg.err{background:#fde2e1;border-color:#d9534f}\
h2{font-size:1.05em;margin:.2em 0;display:inline-block;margin-right:.6em;word-break:break-all}\
form{display:inline}\
button{font-size:.9em;margin:.15em .1em;padding:.25em .6em;border:1px solid #888;\
border-radius:3px;background:#eee;cursor:pointer}\
button.stop{background:#f6d5d4}button.start{background:#d7efd7}\
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #ddd;margin:.8em 0}\
td,th{text-align:left;padding:.3em .4em;border-top:1px solid #eee;vertical-align:top}\
th{font-size:.8em;color:#666}\
tr.group th{font-size:1em;color:#222;background:#e9edf2;border-top:2px solid #ccd3dc;\
padding:.35em .4em}\
td.name{font-weight:600;word-break:break-all}\
.state{font-weight:700;font-size:.85em;padding:.1em .4em;border-radius:3px;white-space:nowrap}\
.statusrunning{background:#3c9a3c;color:#fff}\
.statuserror{background:#c9302c;color:#fff}\
.statusnominal{background:#bbb;color:#222}\
.statusbusy{background:#e8a33d;color:#222}\
a{color:#1a5fb4}\
pre{background:#111;color:#ddd;padding:.6em;overflow-x:auto;white-space:pre-wrap;\
word-break:break-all;font-size:.85em}\
nav a,nav b{margin-right:.5em;white-space:nowrap}\
footer{font-size:.8em;color:#777;padding:1em}\
@media (max-width:640px){table,tbody,tr,td,tr.group th{display:block;width:auto}\
thead,tr.head{display:none}tr{border-top:2px solid #ddd;padding:.3em 0}\
td{border:0;padding:.15em .2em}}";

/// A complete page: head with the embedded stylesheet (and a meta refresh when asked).
pub fn page(title: &str, refresh: Option<String>, header: &str, body: &str) -> String {
    let mut out = String::with_capacity(CSS.len() + header.len() + body.len() + 512);
    page_start(&mut out, title, refresh.as_deref(), header);
    out.push_str(body);
    page_end(&mut out);
    out
}

/// [`page`] up to where the body begins, so a large page is written into one buffer.
pub fn page_start(out: &mut String, title: &str, refresh: Option<&str>, header: &str) {
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    );
    if let Some(r) = refresh {
        out.push_str("<meta http-equiv=\"refresh\" content=\"");
        esc_into(out, r);
        out.push_str("\">\n");
    }
    out.push_str("<title>");
    esc_into(out, title);
    out.push_str("</title>\n<style>");
    out.push_str(CSS);
    out.push_str("</style></head>\n<body>\n<header>");
    out.push_str(header);
    out.push_str("</header>\n<main>\n");
}

/// [`page`] after the body.
pub fn page_end(out: &mut String) {
    out.push_str(concat!(
        "</main>\n<footer>supervisor-rs ",
        env!("CARGO_PKG_VERSION"),
        " (Supervisor "
    ));
    out.push_str(crate::daemon::options::VERSION);
    out.push_str(" compatible)</footer>\n</body></html>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_query_values() {
        assert_eq!(quote("g:p q&r=s"), "g%3Ap%20q%26r%3Ds");
        assert_eq!(quote("tö"), "t%C3%B6");
    }
}
