//! The web interface on the HTTP server: the status page with POST actions (`/`,
//! `/index.html`), the log tail page (`/tail.html`), Prometheus metrics (`/metrics`) and the
//! health probe (`/healthz`), and the status document as JSON (`/status.json`,
//! `api::statusdoc`). Pages are built on the main loop from the `Supervisor`; actions go
//! through the XML-RPC method implementations so they behave exactly like the API.

pub mod actions;
pub mod csrf;
pub mod health;
pub mod html;
pub mod metrics;
pub mod status;
pub mod tail;

use crate::api::Ctx;
use crate::http::request::percent_decode;
use crate::http::server::{HttpRequest, Reply};

/// `application/x-www-form-urlencoded` (or a query string) → (name, value) pairs, in order.
pub fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// The first value of `name` in a parsed form.
pub fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The headers every page carries: never cached, never framed by another site.
fn page_headers() -> Vec<(&'static str, String)> {
    vec![
        ("Cache-Control", "no-cache, no-store".into()),
        ("Pragma", "no-cache".into()),
        ("X-Frame-Options", "DENY".into()),
        ("X-Content-Type-Options", "nosniff".into()),
        (
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'".into(),
        ),
        ("Referrer-Policy", "same-origin".into()),
    ]
}

pub fn html_reply(status: u16, body: String) -> Reply {
    Reply::Response {
        status,
        content_type: "text/html; charset=utf-8",
        headers: page_headers(),
        body: body.into_bytes(),
    }
}

/// A page path as Supervisor's server matches it: percent-decoded, runs of `/` taken as one
/// and a trailing `/` dropped, so `//` (what a proxy at `location /supervisor/` sends for
/// `/supervisor/`), `/%69ndex.html` and `/tail.html/` name their pages.
fn page_path(path: &str) -> String {
    let decoded = percent_decode(path);
    let mut out = String::with_capacity(decoded.len());
    for c in decoded.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    out
}

/// Whether `path` (without query) is served by this module.
pub fn serves(path: &str) -> bool {
    matches!(
        page_path(path).as_str(),
        "/" | "/index.html" | "/tail.html" | "/metrics" | "/healthz" | "/status.json"
    )
}

/// Answers a request for one of the paths [`serves`] accepts.
pub fn handle(ctx: &mut Ctx, req: &HttpRequest) -> Reply {
    let (path, query) = req.url.split_once('?').unwrap_or((&req.url, ""));
    let query = parse_form(query);
    match (page_path(path).as_str(), req.method.as_str()) {
        ("/" | "/index.html", "GET") => html_reply(200, status::render(ctx, &query)),
        ("/" | "/index.html", "POST") => actions::post(ctx, req),
        ("/tail.html", "GET") => html_reply(200, tail::render(ctx, &query)),
        ("/metrics", "GET") => Reply::ok(
            "text/plain; version=0.0.4; charset=utf-8",
            metrics::render(ctx.sup, ctx.now.wall),
        ),
        ("/healthz", "GET") => health::reply(ctx.sup),
        ("/status.json", "GET") => {
            let mut body = crate::json::encode(&crate::api::statusdoc::of_daemon(ctx));
            body.push('\n');
            Reply::Response {
                status: 200,
                content_type: "application/json",
                headers: page_headers(),
                body: body.into_bytes(),
            }
        }
        _ => Reply::error(405),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::supervisor::Supervisor;
    use crate::process::Now;
    use crate::testutil::{process_config, program_group, supervisor};

    /// A daemon with a hostile-named group of two programs (one not autostarted), never started.
    fn sup() -> Supervisor {
        let mut manual = process_config("m<u>", "/bin/cat");
        manual.autostart = false;
        let programs = vec![process_config("a'<x>", "/bin/cat"), manual];
        supervisor(vec![program_group("g<i>\"&", programs)])
    }

    #[test]
    fn status_page_escapes_every_name_and_has_only_post_forms() {
        let mut s = sup();
        let mut ctx = Ctx::new(&mut s, Now::current());
        let q = format!(
            "message=%3Cscript%3E&sig={}",
            csrf::sign_message("<script>")
        );
        let page = status::render(&mut ctx, &parse_form(&q));
        assert!(
            page.contains("id=\"message\">&lt;script&gt;</div>"),
            "{page}"
        );
        let forged = status::render(&mut ctx, &parse_form("message=Reinstall+from+evil"));
        assert!(!forged.contains("evil"), "{forged}");
        assert!(!page.contains("<i>") && !page.contains("<u>") && !page.contains("<x>"));
        assert!(!page.contains("<script"), "{page}");
        assert!(
            page.contains("g&lt;i&gt;&quot;&amp;:a&#39;&lt;x&gt;"),
            "{page}"
        );
        assert!(page.contains("processname=g%3Ci%3E%22%26%3Aa%27%3Cx%3E&amp;channel=stderr"));
        assert_eq!(
            page.matches("<form").count(),
            page.matches("<form method=\"post\" action=\"index.html\">")
                .count()
        );
        assert_eq!(
            page.matches("<form").count(),
            page.matches("name=\"token\"").count()
        );
    }

    #[test]
    fn healthz_names_stopped_autostart_programs_only() {
        let s = sup();
        assert_eq!(
            health::problems(&s),
            vec!["g<i>\"&:a'<x> STOPPED".to_string()]
        );
    }

    #[test]
    fn metrics_have_a_family_header_for_every_sample() {
        let s = sup();
        let text = metrics::render(&s, std::time::SystemTime::now());
        assert!(
            text.contains("supervisord_processes{state=\"STOPPED\"} 2"),
            "{text}"
        );
        assert!(text.contains(
            "supervisord_process_up{group=\"g<i>\\\"&\",name=\"a'<x>\",namespec=\"g<i>\\\"&:a'<x>\"} 0"
        ), "{text}");
        let mut declared = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.insert(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(declared.contains(name), "{name} has no TYPE line");
            }
        }
    }

    #[test]
    fn form_decoding() {
        let f = parse_form("action=stop&processname=g%3Ap+q&empty=&flag&x=%3Cb%3E");
        assert_eq!(field(&f, "action"), Some("stop"));
        assert_eq!(field(&f, "processname"), Some("g:p q"));
        assert_eq!(field(&f, "empty"), Some(""));
        assert_eq!(field(&f, "flag"), Some(""));
        assert_eq!(field(&f, "x"), Some("<b>"));
        assert_eq!(field(&f, "missing"), None);
    }
}
