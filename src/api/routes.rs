//! Routing an HTTP request that reached the main loop: `/RPC2` (XML-RPC), `/logtail/...`,
//! `/mainlogtail`, `/ok.html`, and the web UI, `/metrics` and `/healthz` (in `crate::web`),
//! after refusing what a browser could have been made to send (`refusal`). Deferred RPC
//! results are kept here until they complete. Every reply leaves through `ReplyTo`, which
//! refuses a large one when the server holds too many already (`http::held`).

use super::faults::{self, Fault};
use super::procs::{resolve, Target};
use super::{call, Ctx, Deferred, Outcome};
use crate::config::LogLevel;
use crate::http::held::ReplyTo;
use crate::http::request::percent_decode;
use crate::http::server::{HttpRequest, Reply};
use crate::rpc::codec;
use crate::web::csrf;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An RPC whose answer is not known yet.
pub struct Pending {
    method: String,
    reply: ReplyTo,
    deferred: Box<dyn Deferred>,
}

fn xml(body: String) -> Reply {
    Reply::ok("text/xml", body)
}

/// Sends the result of an RPC; one too large for what the server may hold now becomes a
/// FAILED fault that says so.
fn answer(ctx: &mut Ctx, method: &str, r: super::CallResult, to: &ReplyTo) {
    if ctx.sup.log.enabled(LogLevel::Trace) {
        match &r {
            Ok(_) => ctx.sup.log.log(
                LogLevel::Trace,
                &format!("XML-RPC method {method}() returned successfully"),
            ),
            Err(f) => ctx.sup.log.log(
                LogLevel::Trace,
                &format!(
                    "XML-RPC method {method}() returned fault: [{}] {}",
                    f.code, f.text
                ),
            ),
        }
    }
    let reply = match r {
        Ok(v) => xml(codec::encode_response_owned(v)),
        Err(f) => xml(codec::encode_fault(f.code, &f.text)),
    };
    to.send_or(reply, |busy| {
        xml(codec::encode_fault(
            faults::FAILED,
            &Fault::new(faults::FAILED, busy).text,
        ))
    });
}

fn rpc(ctx: &mut Ctx, req: HttpRequest) -> Option<Pending> {
    if req.method != "POST" {
        req.reply.send(Reply::error(400));
        return None;
    }
    let (method, params) = match codec::parse_call(&req.body) {
        Ok(c) => c,
        Err(e) => {
            ctx.sup.log.error(&format!(
                "XML-RPC request data {:?} is invalid: unmarshallable ({e})",
                String::from_utf8_lossy(&req.body[..req.body.len().min(200)])
            ));
            req.reply.send(Reply::error(400));
            return None;
        }
    };
    if method.is_empty() {
        ctx.sup.log.error(&format!(
            "XML-RPC request data {:?} is invalid: no method name",
            String::from_utf8_lossy(&req.body[..req.body.len().min(200)])
        ));
        req.reply.send(Reply::error(400));
        return None;
    }
    if ctx.sup.log.enabled(LogLevel::Trace) {
        ctx.sup.log.log(
            LogLevel::Trace,
            &format!("XML-RPC method called: {method}()"),
        );
    }
    match call(ctx, &method, &params) {
        Outcome::Done(r) => {
            answer(ctx, &method, r, &req.reply);
            None
        }
        Outcome::Later(deferred) => Some(Pending {
            method,
            reply: req.reply,
            deferred,
        }),
    }
}

fn logtail(ctx: &mut Ctx, req: &HttpRequest) -> Reply {
    let path = req.url.split('?').next().unwrap_or("");
    let Some(rest) = path.strip_prefix("/logtail/") else {
        return Reply::error(404);
    };
    let rest = percent_decode(rest);
    let mut parts = rest.splitn(2, '/');
    let spec = parts.next().unwrap_or("");
    let channel = parts.next().unwrap_or("stdout");
    let Ok(Target::One(id)) = resolve(ctx, spec) else {
        return Reply::error(404);
    };
    let Some(p) = ctx.sup.process(id) else {
        return Reply::error(404);
    };
    let file = match channel {
        "stdout" => p.stdout_path.clone(),
        "stderr" => p.stderr_path.clone(),
        _ => None,
    };
    match file {
        Some(path) if path.exists() => Reply::Follow {
            path,
            accel_header: true,
        },
        _ => Reply::error(404),
    }
}

/// The media types an HTML form can POST to another site without a CORS preflight.
const FORM_TYPES: [&str; 3] = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let is_port = |p: &str| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = host.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return false;
        };
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return port_ok && addr.parse::<Ipv6Addr>().is_ok_and(|a| a.is_loopback());
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if is_port(port) => name,
        Some(_) => return false,
        None => host,
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback())
}

/// Why a request a browser could have been made to send is refused, with its status.
/// - On a server bound to a loopback address, a Host that is not a loopback name: DNS
///   rebinding makes another site's page same-origin with the server (its name now
///   resolves to 127.0.0.1), and that page could read the answers. (No Host at all is not a
///   browser.)
/// - On /RPC2, an Origin, or else a Referer, naming another site (the web UI's own rule,
///   `csrf::same_origin`), or a Content-Type a cross-site form can send without a CORS
///   preflight: such a form could otherwise run a call with the browser's cached Basic
///   credentials. XML-RPC clients send `text/xml` (Python's xmlrpc.client and
///   supervisorctl, Node's xmlrpc, aiohttp-xmlrpc, ours) and no Origin.
fn refusal(req: &HttpRequest) -> Option<(u16, String)> {
    if req.loopback_only {
        if let Some(host) = req.host.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            if !is_loopback_host(host) {
                return Some((
                    403,
                    format!(
                        "Host {host:?} is not localhost, 127.x.y.z or [::1], and this server \
                         listens on a loopback address only"
                    ),
                ));
            }
        }
    }
    if req.url.starts_with("/RPC2") && req.method == "POST" {
        if let Err(why) = csrf::same_origin(req) {
            return Some((403, format!("cross-site request: {why}")));
        }
        if let Some(ctype) = req.header("Content-Type") {
            let media = ctype.split(';').next().unwrap_or("").trim();
            if FORM_TYPES.iter().any(|t| t.eq_ignore_ascii_case(media)) {
                return Some((
                    415,
                    format!(
                        "Content-Type {ctype:?} is what a cross-site form sends; \
                         XML-RPC clients send text/xml"
                    ),
                ));
            }
        }
    }
    None
}

/// Handles one request; returns it as pending when its RPC has to wait.
pub fn handle(ctx: &mut Ctx, req: HttpRequest) -> Option<Pending> {
    if let Some((status, why)) = refusal(&req) {
        ctx.sup.log.warn(&format!(
            "HTTP: refused {} {:?}: {why}",
            req.method, req.url
        ));
        req.reply.send(Reply::refused(status, &why));
        return None;
    }
    let url = req.url.clone();
    if url.starts_with("/RPC2") {
        return rpc(ctx, req);
    }
    let reply = if url.starts_with("/logtail") {
        if req.method == "GET" {
            logtail(ctx, &req)
        } else {
            Reply::error(400)
        }
    } else if url.starts_with("/mainlogtail") {
        match (req.method.as_str(), ctx.sup.main_log_path()) {
            ("GET", Some(path)) if path.exists() => Reply::Follow {
                path,
                accel_header: false,
            },
            ("GET", _) => Reply::error(404),
            _ => Reply::error(400),
        }
    } else if url.split('?').next() == Some("/ok.html") {
        Reply::ok("text/plain", "OK")
    } else if crate::web::serves(url.split('?').next().unwrap_or("")) {
        crate::web::handle(ctx, &req)
    } else {
        Reply::error(404)
    };
    req.reply.send(reply);
    None
}

/// Re-evaluates every pending call; answers and drops the completed ones.
pub fn poll_pending(ctx: &mut Ctx, pending: &mut Vec<Pending>) {
    let mut i = 0;
    while i < pending.len() {
        match pending[i].deferred.poll(ctx) {
            Some(r) => {
                let p = pending.swap_remove(i);
                answer(ctx, &p.method, r, &p.reply);
            }
            None => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, url: &str, loopback_only: bool, headers: &[(&str, &str)]) -> HttpRequest {
        let headers = crate::testutil::owned(headers);
        HttpRequest {
            method: method.into(),
            url: url.into(),
            host: headers
                .iter()
                .find(|(k, _)| k == "Host")
                .map(|(_, v)| v.clone()),
            headers,
            body: Vec::new(),
            loopback_only,
            reply: ReplyTo::channel().0,
        }
    }

    fn status(r: &HttpRequest) -> u16 {
        refusal(r).map_or(200, |(s, _)| s)
    }

    #[test]
    fn loopback_hosts() {
        for ok in [
            "localhost",
            "LOCALHOST:9001",
            "127.0.0.1",
            "127.0.0.1:9001",
            "127.1.2.3:80",
            "[::1]",
            "[::1]:9001",
            "[0:0:0:0:0:0:0:1]:1",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:9001",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "128.0.0.1",
            "0.0.0.0:9001",
            "[::2]:9001",
            "[::1]x",
            "localhost:",
            "localhost:port",
            "127.0.0.1:9001:1",
            "127.1",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn a_loopback_server_takes_only_loopback_hosts_on_every_path() {
        let evil = [("Host", "rebound.example:9001")];
        for path in [
            "/RPC2",
            "/index.html",
            "/logtail/p",
            "/mainlogtail",
            "/metrics",
        ] {
            assert_eq!(status(&req("GET", path, true, &evil)), 403, "{path}");
            assert_eq!(status(&req("GET", path, false, &evil)), 200, "{path}");
            let local = [("Host", "localhost:9001")];
            assert_eq!(status(&req("GET", path, true, &local)), 200, "{path}");
        }
        assert_eq!(
            status(&req("GET", "/", true, &[])),
            200,
            "no Host: not a browser"
        );
    }

    #[test]
    fn rpc2_refuses_cross_site_origins_and_form_content_types() {
        let host = ("Host", "127.0.0.1:9001");
        let xml = ("Content-Type", "text/xml");
        let call = |h: &[(&str, &str)]| status(&req("POST", "/RPC2", true, h));
        assert_eq!(call(&[host, xml]), 200);
        assert_eq!(call(&[host]), 200, "no Content-Type");
        assert_eq!(
            call(&[host, ("Content-Type", "text/xml; charset=utf-8")]),
            200
        );
        assert_eq!(call(&[host, xml, ("Origin", "http://127.0.0.1:9001")]), 200);
        assert_eq!(call(&[host, xml, ("Origin", "http://evil.example")]), 403);
        assert_eq!(call(&[host, xml, ("Origin", "null")]), 403);
        assert_eq!(
            call(&[host, xml, ("Referer", "http://evil.example/x")]),
            403
        );
        for form in [
            "text/plain",
            "Text/Plain; charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            assert_eq!(call(&[host, ("Content-Type", form)]), 415, "{form}");
        }
        // The web UI's own forms post elsewhere, with their own checks.
        let form = ("Content-Type", "application/x-www-form-urlencoded");
        assert_eq!(
            status(&req("POST", "/index.html", true, &[host, form])),
            200
        );
    }
}
