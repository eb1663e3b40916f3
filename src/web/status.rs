//! The status page: supervisord's identity and state in the header, the result of the last
//! action, whole-daemon buttons, then one table: per group a row with its buttons, and a row
//! per process (coloured state, description, actions, stdout/stderr tail links). Every button is a
//! POST form carrying a CSRF token; Supervisor's old `?action=` links only show a confirm button.

use super::csrf;
use super::html::{esc, esc_into, page_end, page_start, quote_into};
use crate::api::info::description;
use crate::api::Ctx;
use crate::daemon::supervisor::{Process, Supervisor};
use crate::probe::Health;
use crate::process::{Now, ProcessState};

/// CSS class of a state badge.
pub fn state_class(s: ProcessState) -> &'static str {
    match s {
        ProcessState::Running => "statusrunning",
        ProcessState::Fatal | ProcessState::Backoff | ProcessState::Unknown => "statuserror",
        ProcessState::Starting | ProcessState::Stopping => "statusbusy",
        _ => "statusnominal",
    }
}

/// A form's submit button: action, label, CSS class.
type Button<'a> = (&'a str, &'a str, &'a str);

const CLEAR_LOG: Button = ("clearlog", "Clear log", "");
const ALL_BUTTONS: &[Button] = &[
    ("startall", "Start all", "start"),
    ("stopall", "Stop all", "stop"),
    ("restartall", "Restart all", ""),
];
const GROUP_BUTTONS: &[Button] = &[
    ("startgroup", "Start group", "start"),
    ("stopgroup", "Stop group", "stop"),
    ("restartgroup", "Restart group", ""),
];

/// Bytes a process row and its share of group rows take, give or take, so a page of ten
/// thousand rows is written without growing its buffer.
const ROW_BYTES: usize = 1280;

/// Appends a POST form with the page's token (escaped once per page: every form of a
/// rendering carries the same one) and hidden fields, holding `buttons`.
fn form(out: &mut String, token: &str, hidden: &[(&str, &str)], buttons: &[Button]) {
    out.push_str(
        "<form method=\"post\" action=\"index.html\">\
<input type=\"hidden\" name=\"token\" value=\"",
    );
    out.push_str(token);
    out.push_str("\">");
    for (k, v) in hidden {
        out.push_str("<input type=\"hidden\" name=\"");
        esc_into(out, k);
        out.push_str("\" value=\"");
        esc_into(out, v);
        out.push_str("\">");
    }
    for (action, label, class) in buttons {
        out.push_str("<button type=\"submit\" name=\"action\" value=\"");
        esc_into(out, action);
        out.push_str("\" class=\"");
        out.push_str(class);
        out.push_str("\">");
        esc_into(out, label);
        out.push_str("</button>");
    }
    out.push_str("</form>");
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

fn row(out: &mut String, token: &str, p: &Process, now: Now) {
    let state = p.machine.state();
    let ns = p.namespec();
    let buttons: &[Button] = match state {
        ProcessState::Running | ProcessState::Starting | ProcessState::Backoff => &[
            ("restart", "Restart", ""),
            ("stop", "Stop", "stop"),
            CLEAR_LOG,
        ],
        ProcessState::Stopped | ProcessState::Exited | ProcessState::Fatal => {
            &[("start", "Start", "start"), CLEAR_LOG]
        }
        _ => &[CLEAR_LOG],
    };
    out.push_str("<tr><td><span class=\"state ");
    out.push_str(state_class(state));
    out.push_str("\">");
    // State names are ASCII.
    out.extend(state.name().chars().map(|c| c.to_ascii_lowercase()));
    out.push_str("</span></td><td>");
    esc_into(out, &with_health(p, description(p, now)));
    out.push_str("</td><td class=\"name\">");
    esc_into(out, &ns);
    out.push_str("</td><td>");
    form(out, token, &[("processname", &ns)], buttons);
    out.push_str(" <a href=\"tail.html?processname=");
    quote_into(out, &ns);
    out.push_str("&amp;channel=stdout\">stdout</a>");
    // With redirect_stderr the stderr lines are in the stdout log; there is no stderr log.
    if !p.config.redirect_stderr {
        out.push_str(" <a href=\"tail.html?processname=");
        quote_into(out, &ns);
        out.push_str("&amp;channel=stderr\">stderr</a>");
    }
    out.push_str("</td></tr>\n");
}

/// The row that opens a group in the one process table: its name and buttons.
fn group_row(out: &mut String, token: &str, name: &str) {
    out.push_str("<tr class=\"group\"><th colspan=\"4\"><h2>");
    esc_into(out, name);
    out.push_str("</h2>");
    form(out, token, &[("group", name)], GROUP_BUTTONS);
    out.push_str("</th></tr>\n");
}

/// The legacy `?action=` notice: nothing was done; a button confirms with a POST.
fn legacy_notice(out: &mut String, token: &str, query: &[(String, String)]) {
    let action = super::field(query, "action").unwrap_or("");
    if action.is_empty() || action == "refresh" {
        return;
    }
    let name = super::field(query, "processname").unwrap_or("");
    out.push_str("<div class=\"msg\">This link asks for <b>");
    esc_into(out, action);
    let hidden: &[(&str, &str)] = if name.is_empty() {
        &[]
    } else {
        out.push(' ');
        esc_into(out, name);
        &[("processname", name)]
    };
    out.push_str("</b>. Actions are never taken from a link (GET); confirm to do it: ");
    form(out, token, hidden, &[(action, "Confirm", "")]);
    out.push_str("</div>\n");
}

/// The page, written into one buffer sized for it: with ten thousand processes it is some
/// 12 MB, and a string per cell was most of the time it took.
pub fn render(ctx: &mut Ctx, query: &[(String, String)]) -> String {
    let sup = &*ctx.sup;
    let now = ctx.now;
    let procs = sup.processes_by_name();
    let token = esc(&csrf::token());
    let mut out = String::with_capacity(16 * 1024 + procs.len() * ROW_BYTES);
    page_start(&mut out, "Supervisor Status", None, &header(sup));
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
        out.push_str("<div class=\"");
        out.push_str(class);
        out.push_str("\" id=\"message\">");
        esc_into(&mut out, m);
        out.push_str("</div>\n");
    }
    legacy_notice(&mut out, &token, query);
    out.push_str("<nav>");
    form(&mut out, &token, &[], ALL_BUTTONS);
    out.push_str(" <a href=\"index.html\">Refresh</a></nav>\n");
    // One table, so the columns line up across groups; processes in `supervisorctl status`
    // order (group, then name), each group opened by a row with its buttons.
    if procs.is_empty() {
        out.push_str("<p>No programs to manage</p>\n");
    } else {
        out.push_str(
            "<table>\n<thead><tr class=\"head\"><th>State</th><th>Description</th>\
<th>Name</th><th>Actions</th></tr></thead>\n<tbody>\n",
        );
        let mut group: Option<&str> = None;
        for p in procs {
            if group != Some(p.group.as_str()) {
                group = Some(&p.group);
                group_row(&mut out, &token, &p.group);
            }
            row(&mut out, &token, p, now);
        }
        out.push_str("</tbody></table>\n");
    }
    page_end(&mut out);
    out
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
