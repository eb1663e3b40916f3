//! The status page's POST actions. A request must be a form post from this site (Origin, or
//! else Referer, names the Host it was sent to) carrying a valid token from the page; then the
//! action runs through the XML-RPC method implementations with wait=False, so the page never
//! blocks on a slow start or stop, and the browser is redirected (303) to the status page with
//! a message saying what happened.

use super::csrf;
use super::html::{esc, page, quote};
use super::{field, html_reply, parse_form};
use crate::api::faults::{self, Fault};
use crate::api::procs::{resolve, Target};
use crate::api::{call, settle, CallResult, Ctx, Outcome};
use crate::http::server::{HttpRequest, Reply};
use crate::process::ProcessState;
use crate::rpc::value::Value;

fn refused(ctx: &mut Ctx, why: &str) -> Reply {
    ctx.sup
        .log
        .warn(&format!("web UI: refused an action: {why}"));
    let body = format!(
        "<div class=\"msg err\">Action refused: {}</div><p><a href=\"index.html\">Back to \
the status page</a> (reload it to get a fresh form).</p>\n",
        esc(why)
    );
    html_reply(
        403,
        page(
            "Supervisor: action refused",
            None,
            "<h1>Forbidden</h1>",
            &body,
        ),
    )
}

/// Runs an API method to completion if it completes now; a still-pending one counts as done
/// (wait=False calls never defer).
fn run(ctx: &mut Ctx, method: &str, params: &[Value]) -> CallResult {
    let outcome = call(ctx, method, params);
    match settle(ctx, outcome) {
        Outcome::Done(r) => r,
        Outcome::Later(_) => Ok(Value::Bool(true)),
    }
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn state_of(ctx: &Ctx, ns: &str) -> Option<ProcessState> {
    match resolve(ctx, ns) {
        Ok(Target::One(id)) => ctx.sup.process(id).map(|p| p.machine.state()),
        _ => None,
    }
}

/// What an action did: the message for the page, and whether it is a failure (decided where
/// the outcome is known, never read back from the text).
struct Said {
    failed: bool,
    text: String,
}

impl Said {
    fn done(text: String) -> Said {
        Said {
            failed: false,
            text,
        }
    }

    /// A failure; its message starts with `ERROR: `, which the status page styles.
    fn error(what: impl std::fmt::Display) -> Said {
        Said {
            failed: true,
            text: format!("ERROR: {what}"),
        }
    }
}

fn error(ns: &str, f: &Fault) -> Said {
    Said::error(format_args!("Process {ns}: {}", f.text))
}

fn start(ctx: &mut Ctx, ns: &str) -> Said {
    match run(ctx, "supervisor.startProcess", &[s(ns), Value::Bool(false)]) {
        Ok(_) if state_of(ctx, ns) == Some(ProcessState::Running) => {
            Said::done(format!("Process {ns} started"))
        }
        Ok(_) => Said::done(format!("Process {ns} is starting")),
        Err(f) => error(ns, &f),
    }
}

fn stop(ctx: &mut Ctx, ns: &str) -> Said {
    match run(ctx, "supervisor.stopProcess", &[s(ns), Value::Bool(false)]) {
        Ok(_) if state_of(ctx, ns).is_some_and(|s| s.is_stopped()) => {
            Said::done(format!("Process {ns} stopped"))
        }
        Ok(_) => Said::done(format!("Process {ns} is stopping")),
        Err(f) => error(ns, &f),
    }
}

/// `restartProcess` with wait=False: a running process is stopped and started again once
/// stopped, one that is not running is started.
fn restart(ctx: &mut Ctx, ns: &str) -> Said {
    match run(
        ctx,
        "supervisor.restartProcess",
        &[s(ns), Value::Bool(false)],
    ) {
        Ok(_) => match resolve(ctx, ns) {
            Ok(Target::One(id)) if ctx.sup.restart_pending(id) => {
                Said::done(format!("Process {ns} is restarting"))
            }
            _ => Said::done(format!("Process {ns} restarted")),
        },
        Err(f) => error(ns, &f),
    }
}

fn clearlog(ctx: &mut Ctx, ns: &str) -> Said {
    match run(ctx, "supervisor.clearProcessLogs", &[s(ns)]) {
        Ok(_) => Said::done(format!("Log for {ns} cleared")),
        Err(f) => error(ns, &f),
    }
}

/// Summarises a group/all result array: `<what> <done>`, plus the failures.
fn summary(what: &str, done: &str, r: CallResult) -> Said {
    let items = match r {
        Ok(Value::Array(items)) => items,
        Ok(_) => Vec::new(),
        Err(f) => return Said::error(format_args!("{what}: {}", f.text)),
    };
    let mut errors = Vec::new();
    for item in &items {
        let Value::Struct(m) = item else { continue };
        let get = |k: &str| m.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        if let Some(Value::Int(code)) = get("status") {
            if *code != faults::SUCCESS {
                let name = match get("name") {
                    Some(Value::String(n)) => n.clone(),
                    _ => String::new(),
                };
                let desc = match get("description") {
                    Some(Value::String(d)) => d.clone(),
                    _ => String::new(),
                };
                errors.push(format!("{name}: {desc}"));
            }
        }
    }
    if items.is_empty() {
        Said::done(format!("{what}: nothing to do"))
    } else if errors.is_empty() {
        Said::done(format!("{what} {done} ({} processes)", items.len()))
    } else {
        Said::error(format_args!("{what}: {}", errors.join("; ")))
    }
}

fn members(ctx: &Ctx, group: Option<&str>) -> Vec<String> {
    let sup = &*ctx.sup;
    sup.groups
        .iter()
        .filter(|g| group.is_none_or(|n| g.config.name == n))
        .flat_map(|g| g.members.iter().filter_map(|&id| sup.process(id)))
        .map(|p| crate::namespec::qualified(&p.group, &p.config.name))
        .collect()
}

fn restart_many(ctx: &mut Ctx, what: &str, names: Vec<String>) -> Said {
    let errors: Vec<String> = names
        .iter()
        .map(|ns| restart(ctx, ns))
        .filter(|m| m.failed)
        .map(|m| m.text)
        .collect();
    if errors.is_empty() {
        Said::done(format!("{what} restarting ({} processes)", names.len()))
    } else {
        // Each failure already says ERROR.
        Said {
            failed: true,
            text: errors.join("; "),
        }
    }
}

/// Performs `action`; returns the message for the page.
fn perform(ctx: &mut Ctx, form: &[(String, String)]) -> Result<Said, String> {
    let action = field(form, "action").unwrap_or("");
    let name = field(form, "processname").unwrap_or("");
    let group = field(form, "group").unwrap_or("");
    let need = |v: &str, what: &str| {
        if v.is_empty() {
            Err(format!("action {action} needs {what}"))
        } else {
            Ok(())
        }
    };
    let f = false;
    Ok(match action {
        "refresh" => Said::done("Page refreshed".to_string()),
        "start" => need(name, "processname").map(|_| start(ctx, name))?,
        "stop" => need(name, "processname").map(|_| stop(ctx, name))?,
        "restart" => need(name, "processname").map(|_| restart(ctx, name))?,
        "clearlog" => need(name, "processname").map(|_| clearlog(ctx, name))?,
        "startgroup" | "stopgroup" => {
            need(group, "group")?;
            let (method, done) = if action == "startgroup" {
                ("supervisor.startProcessGroup", "started")
            } else {
                ("supervisor.stopProcessGroup", "stopped")
            };
            let r = run(ctx, method, &[s(group), Value::Bool(f)]);
            summary(&format!("Group {group}"), done, r)
        }
        "restartgroup" => {
            need(group, "group")?;
            if ctx.sup.group(group).is_none() {
                Said::error(format_args!("Group {group}: BAD_NAME: {group}"))
            } else {
                let names = members(ctx, Some(group));
                restart_many(ctx, &format!("Group {group}"), names)
            }
        }
        "startall" => {
            let r = run(ctx, "supervisor.startAllProcesses", &[Value::Bool(f)]);
            summary("All processes", "started", r)
        }
        "stopall" => {
            let r = run(ctx, "supervisor.stopAllProcesses", &[Value::Bool(f)]);
            summary("All processes", "stopped", r)
        }
        "restartall" => {
            let names = members(ctx, None);
            restart_many(ctx, "All processes", names)
        }
        other => return Err(format!("unknown action {other:?}")),
    })
}

/// A POST to the status page.
pub fn post(ctx: &mut Ctx, req: &HttpRequest) -> Reply {
    let ctype = req.header("Content-Type").unwrap_or("");
    if !ctype
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return refused(ctx, "not a form post (Content-Type)");
    }
    if let Err(why) = csrf::same_origin(req) {
        return refused(ctx, &format!("cross-site request: {why}"));
    }
    let form = parse_form(&String::from_utf8_lossy(&req.body));
    if !field(&form, "token").is_some_and(csrf::token_valid) {
        return refused(ctx, "missing, invalid or expired form token");
    }
    let message = match perform(ctx, &form) {
        Ok(said) => said.text,
        Err(e) => Said::error(e).text,
    };
    ctx.sup.log.info(&format!("web UI: {message}"));
    let location = format!(
        "index.html?message={}&sig={}",
        quote(&message),
        csrf::sign_message(&message)
    );
    Reply::Response {
        status: 303,
        content_type: "text/html; charset=utf-8",
        headers: vec![
            ("Location", location.clone()),
            ("Cache-Control", "no-cache, no-store".into()),
        ],
        body: format!("<a href=\"{}\">{}</a>\n", esc(&location), esc(&message)).into_bytes(),
    }
}
