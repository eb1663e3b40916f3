//! Routing an HTTP request that reached the main loop: `/RPC2` (XML-RPC), `/logtail/...`,
//! `/mainlogtail`, `/ok.html`, and the web UI, `/metrics` and `/healthz` (in `crate::web`).
//! Deferred RPC results are kept here until they complete.

use super::procs::{resolve, Target};
use super::{call, Ctx, Deferred, Outcome};
use crate::config::LogLevel;
use crate::http::server::{HttpRequest, Reply};
use crate::rpc::codec;
use std::sync::mpsc::Sender;

/// An RPC whose answer is not known yet.
pub struct Pending {
    method: String,
    reply: Sender<Reply>,
    deferred: Box<dyn Deferred>,
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn xml(body: String) -> Reply {
    Reply::ok("text/xml", body)
}

fn answer(ctx: &mut Ctx, method: &str, r: super::CallResult) -> Reply {
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
    match r {
        Ok(v) => xml(codec::encode_response_owned(v)),
        Err(f) => xml(codec::encode_fault(f.code, &f.text)),
    }
}

fn rpc(ctx: &mut Ctx, req: HttpRequest) -> Option<Pending> {
    if req.method != "POST" {
        let _ = req.reply.send(Reply::error(400));
        return None;
    }
    let (method, params) = match codec::parse_call(&req.body) {
        Ok(c) => c,
        Err(e) => {
            ctx.sup.log.error(&format!(
                "XML-RPC request data {:?} is invalid: unmarshallable ({e})",
                String::from_utf8_lossy(&req.body[..req.body.len().min(200)])
            ));
            let _ = req.reply.send(Reply::error(400));
            return None;
        }
    };
    if method.is_empty() {
        ctx.sup.log.error(&format!(
            "XML-RPC request data {:?} is invalid: no method name",
            String::from_utf8_lossy(&req.body[..req.body.len().min(200)])
        ));
        let _ = req.reply.send(Reply::error(400));
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
            let reply = answer(ctx, &method, r);
            let _ = req.reply.send(reply);
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

/// Handles one request; returns it as pending when its RPC has to wait.
pub fn handle(ctx: &mut Ctx, req: HttpRequest) -> Option<Pending> {
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
    let _ = req.reply.send(reply);
    None
}

/// Re-evaluates every pending call; answers and drops the completed ones.
pub fn poll_pending(ctx: &mut Ctx, pending: &mut Vec<Pending>) {
    let mut i = 0;
    while i < pending.len() {
        match pending[i].deferred.poll(ctx) {
            Some(r) => {
                let p = pending.swap_remove(i);
                let reply = answer(ctx, &p.method, r);
                let _ = p.reply.send(reply);
            }
            None => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent() {
        assert_eq!(super::percent_decode("a%3Ab%20c"), "a:b c");
        assert_eq!(super::percent_decode("bad%zz%"), "bad%zz%");
        assert_eq!(super::percent_decode("t%C3%B6"), "tö");
    }
}
