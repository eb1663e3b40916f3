//! The status page: supervisord's identity and state in the header, the result of the last
//! action, whole-daemon buttons, then one table: per group a row with its buttons, and a row
//! per process (coloured state, description, actions, stdout/stderr tail links). Every button is a
//! POST form carrying a CSRF token; Supervisor's old `?action=` links only show a confirm button.

use super::csrf;
use super::html::{esc, page, quote};
use crate::api::info::description;
use crate::api::Ctx;
use crate::daemon::supervisor::{Process, Supervisor};
use crate::probe::Health;
use crate::process::ProcessState;

/// `group:name`, or `name` when the group is named after its only program.
pub fn namespec(p: &Process) -> String {
    crate::namespec::namespec(&p.group, &p.config.name)
}

/// CSS class of a state badge.
pub fn state_class(s: ProcessState) -> &'static str {
    match s {
        ProcessState::Running => "statusrunning",
        ProcessState::Fatal | ProcessState::Backoff | ProcessState::Unknown => "statuserror",
        ProcessState::Starting | ProcessState::Stopping => "statusbusy",
        _ => "statusnominal",
    }
}

/// A POST form with the token and hidden fields, holding `buttons` (action, label, class).
pub fn form(hidden: &[(&str, &str)], buttons: &[(&str, &str, &str)]) -> String {
    let mut s = String::from("<form method=\"post\" action=\"index.html\">");
    s.push_str(&format!(
        "<input type=\"hidden\" name=\"token\" value=\"{}\">",
        esc(&csrf::token())
    ));
    for (k, v) in hidden {
        s.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        ));
    }
    for (action, label, class) in buttons {
        s.push_str(&format!(
            "<button type=\"submit\" name=\"action\" value=\"{}\" class=\"{class}\">{}</button>",
            esc(action),
            esc(label)
        ));
    }
    s.push_str("</form>");
    s
}

/// The page header: identification, state, pid, version.
pub fn header(sup: &Supervisor) -> String {
    let (_, state) = sup.state_code();
    format!(
        "<h1>Supervisor <small>{}</small></h1><p>supervisord <b>{state}</b> · pid {} · \
version {}</p>",
        esc(&sup.config.supervisord.identifier),
        std::process::id(),
        esc(crate::daemon::options::VERSION),
    )
}

fn row(p: &Process, now: crate::process::Now) -> String {
    let state = p.machine.state();
    let ns = namespec(p);
    let mut buttons = Vec::new();
    match state {
        ProcessState::Running | ProcessState::Starting | ProcessState::Backoff => {
            buttons.push(("restart", "Restart", ""));
            buttons.push(("stop", "Stop", "stop"));
        }
        ProcessState::Stopped | ProcessState::Exited | ProcessState::Fatal => {
            buttons.push(("start", "Start", "start"));
        }
        _ => {}
    }
    buttons.push(("clearlog", "Clear log", ""));
    let q = quote(&ns);
    // With redirect_stderr the stderr lines are in the stdout log; there is no stderr log.
    let stderr = if p.config.redirect_stderr {
        String::new()
    } else {
        format!(" <a href=\"tail.html?processname={q}&amp;channel=stderr\">stderr</a>")
    };
    format!(
        "<tr><td><span class=\"state {}\">{}</span></td><td>{}</td><td class=\"name\">{}</td>\
<td>{} <a href=\"tail.html?processname={q}&amp;channel=stdout\">stdout</a>{stderr}</td></tr>\n",
        state_class(state),
        state.name().to_lowercase(),
        esc(&with_health(p, description(p, now))),
        esc(&ns),
        form(&[("processname", &ns)], &buttons),
    )
}

/// The row that opens a group in the one process table: its name and buttons.
fn group_row(name: &str) -> String {
    format!(
        "<tr class=\"group\"><th colspan=\"4\"><h2>{}</h2>{}</th></tr>\n",
        esc(name),
        form(
            &[("group", name)],
            &[
                ("startgroup", "Start group", "start"),
                ("stopgroup", "Stop group", "stop"),
                ("restartgroup", "Restart group", ""),
            ],
        )
    )
}

/// The legacy `?action=` notice: nothing was done; a button confirms with a POST.
fn legacy_notice(query: &[(String, String)]) -> String {
    let action = super::field(query, "action").unwrap_or("");
    if action.is_empty() || action == "refresh" {
        return String::new();
    }
    let name = super::field(query, "processname").unwrap_or("");
    let what = if name.is_empty() {
        esc(action)
    } else {
        format!("{} {}", esc(action), esc(name))
    };
    let mut hidden = vec![];
    if !name.is_empty() {
        hidden.push(("processname", name));
    }
    format!(
        "<div class=\"msg\">This link asks for <b>{what}</b>. Actions are never taken from a \
link (GET); confirm to do it: {}</div>\n",
        form(&hidden, &[(action, "Confirm", "")])
    )
}

pub fn render(ctx: &mut Ctx, query: &[(String, String)]) -> String {
    let sup = &*ctx.sup;
    let now = ctx.now;
    let mut body = String::new();
    let sig = super::field(query, "sig").unwrap_or("");
    // Only messages signed by an action are shown (see csrf::sign_message).
    if let Some(m) =
        super::field(query, "message").filter(|m| !m.is_empty() && csrf::message_valid(m, sig))
    {
        let class = if m.contains("ERROR") {
            "msg err"
        } else {
            "msg"
        };
        body.push_str(&format!(
            "<div class=\"{class}\" id=\"message\">{}</div>\n",
            esc(m)
        ));
    }
    body.push_str(&legacy_notice(query));
    body.push_str("<nav>");
    body.push_str(&form(
        &[],
        &[
            ("startall", "Start all", "start"),
            ("stopall", "Stop all", "stop"),
            ("restartall", "Restart all", ""),
        ],
    ));
    body.push_str(" <a href=\"index.html\">Refresh</a></nav>\n");
    // One table, so the columns line up across groups; processes in `supervisorctl status`
    // order (group, then name), each group opened by a row with its buttons.
    let procs = sup.processes_by_name();
    if procs.is_empty() {
        body.push_str("<p>No programs to manage</p>\n");
    } else {
        body.push_str(
            "<table>\n<thead><tr class=\"head\"><th>State</th><th>Description</th>\
<th>Name</th><th>Actions</th></tr></thead>\n<tbody>\n",
        );
        let mut group: Option<&str> = None;
        for p in procs {
            if group != Some(p.group.as_str()) {
                group = Some(&p.group);
                body.push_str(&group_row(&p.group));
            }
            body.push_str(&row(p, now));
        }
        body.push_str("</tbody></table>\n");
    }
    page("Supervisor Status", None, &header(sup), &body)
}

/// The description with the health of a RUNNING process that has a health check, as
/// `supervisorctl status` shows it.
pub fn with_health(p: &Process, mut text: String) -> String {
    if p.machine.state() != ProcessState::Running || p.config.probe.health.is_none() {
        return text;
    }
    match p.probe.verdict {
        Health::Healthy => text.push_str(", healthy"),
        Health::Unhealthy => {
            let n = p.probe.failures;
            let plural = if n == 1 { "" } else { "s" };
            text.push_str(&format!(", unhealthy ({n} failure{plural})"));
        }
        Health::Unknown => {}
    }
    text
}

#[cfg(test)]
mod tests;
