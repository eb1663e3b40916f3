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

fn error(ns: &str, f: &Fault) -> String {
    format!("ERROR: Process {ns}: {}", f.text)
}

fn start(ctx: &mut Ctx, ns: &str) -> String {
    match run(ctx, "supervisor.startProcess", &[s(ns), Value::Bool(false)]) {
        Ok(_) if state_of(ctx, ns) == Some(ProcessState::Running) => {
            format!("Process {ns} started")
        }
        Ok(_) => format!("Process {ns} is starting"),
        Err(f) => error(ns, &f),
    }
}

fn stop(ctx: &mut Ctx, ns: &str) -> String {
    match run(ctx, "supervisor.stopProcess", &[s(ns), Value::Bool(false)]) {
        Ok(_) if state_of(ctx, ns).is_some_and(|s| s.is_stopped()) => {
            format!("Process {ns} stopped")
        }
        Ok(_) => format!("Process {ns} is stopping"),
        Err(f) => error(ns, &f),
    }
}

/// Stop (wait=False) and start again once stopped; a process that is not running is started.
fn restart(ctx: &mut Ctx, ns: &str) -> String {
    match run(ctx, "supervisor.stopProcess", &[s(ns), Value::Bool(false)]) {
        Ok(_) => {
            if let Ok(Target::One(id)) = resolve(ctx, ns) {
                if ctx.sup.start_after_stop(id) {
                    return format!("Process {ns} is restarting");
                }
            }
            match start(ctx, ns) {
                m if m.starts_with("ERROR") => m,
                _ => format!("Process {ns} restarted"),
            }
        }
        Err(f) if f.code == faults::NOT_RUNNING => match start(ctx, ns) {
            m if m.starts_with("ERROR") => m,
            _ => format!("Process {ns} restarted"),
        },
        Err(f) => error(ns, &f),
    }
}

fn clearlog(ctx: &mut Ctx, ns: &str) -> String {
    match run(ctx, "supervisor.clearProcessLogs", &[s(ns)]) {
        Ok(_) => format!("Log for {ns} cleared"),
        Err(f) => error(ns, &f),
    }
}

/// Summarises a group/all result array: `<what> <done>`, plus the failures.
fn summary(what: &str, done: &str, r: CallResult) -> String {
    let items = match r {
        Ok(Value::Array(items)) => items,
        Ok(_) => Vec::new(),
        Err(f) => return format!("ERROR: {what}: {}", f.text),
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
        format!("{what}: nothing to do")
    } else if errors.is_empty() {
        format!("{what} {done} ({} processes)", items.len())
    } else {
        format!("ERROR: {what}: {}", errors.join("; "))
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

fn restart_many(ctx: &mut Ctx, what: &str, names: Vec<String>) -> String {
    let errors: Vec<String> = names
        .iter()
        .map(|ns| restart(ctx, ns))
        .filter(|m| m.starts_with("ERROR"))
        .collect();
    if errors.is_empty() {
        format!("{what} restarting ({} processes)", names.len())
    } else {
        errors.join("; ")
    }
}

/// Performs `action`; returns the message for the page.
pub fn perform(ctx: &mut Ctx, form: &[(String, String)]) -> Result<String, String> {
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
        "refresh" => "Page refreshed".to_string(),
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
                format!("ERROR: Group {group}: BAD_NAME: {group}")
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
        Ok(m) => m,
        Err(e) => format!("ERROR: {e}"),
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
