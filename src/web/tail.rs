//! The tail page: the last N KB of a process's stdout or stderr log, HTML-escaped, with a
//! meta refresh whose interval is chosen by links (0 pauses it). Read through the API's
//! tailProcessStdoutLog/tailProcessStderrLog, so names and faults behave as over XML-RPC.

use super::field;
use super::html::{esc, page, quote};
use super::status::header;
use crate::api::{call, settle, Ctx, Outcome};
use crate::rpc::value::Value;

pub const SIZES_KB: [u64; 5] = [1, 4, 16, 64, 256];
pub const INTERVALS: [u64; 5] = [0, 2, 5, 10, 30];
const DEFAULT_KB: u64 = 16;
const DEFAULT_REFRESH: u64 = 5;
const MAX_KB: u64 = 1024;

fn link(ns: &str, channel: &str, kb: u64, refresh: u64) -> String {
    format!(
        "tail.html?processname={}&channel={channel}&kb={kb}&refresh={refresh}",
        quote(ns)
    )
}

/// The tail methods answer an empty log for a process without a log file; the read methods
/// fault NO_FILE, which Supervisor's page shows as "No file for <name>".
fn has_log(ctx: &mut Ctx, ns: &str, channel: &str) -> bool {
    let params = [Value::String(ns.to_string()), Value::Int(-1), Value::Int(0)];
    let outcome = call(ctx, &log_method("read", channel), &params);
    !matches!(settle(ctx, outcome), Outcome::Done(Err(f)) if f.code == crate::api::faults::NO_FILE)
}

/// `supervisor.<verb>ProcessStdoutLog`, or its Stderr twin for the stderr channel.
fn log_method(verb: &str, channel: &str) -> String {
    let stream = if channel == "stderr" {
        "Stderr"
    } else {
        "Stdout"
    };
    format!("supervisor.{verb}Process{stream}Log")
}

pub fn render(ctx: &mut Ctx, query: &[(String, String)]) -> String {
    let ns = field(query, "processname").unwrap_or("").to_string();
    let channel = match field(query, "channel") {
        Some("stderr") => "stderr",
        _ => "stdout",
    };
    // `limit` (bytes, at least 1024) is Supervisor's own parameter, kept for old links.
    let limit = field(query, "limit")
        .and_then(|v| v.parse::<u64>().ok())
        .map(|b| b.clamp(1024, MAX_KB * 1024));
    let kb_field = field(query, "kb");
    let kb = kb_field
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(limit.map_or(DEFAULT_KB, |b| b.div_ceil(1024)))
        .clamp(1, MAX_KB);
    let bytes = match (kb_field, limit) {
        (None, Some(b)) => b,
        _ => kb * 1024,
    };
    let refresh = field(query, "refresh")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(DEFAULT_REFRESH)
        .min(3600);
    let text = if ns.is_empty() {
        "No process name found".to_string()
    } else {
        let params = [
            Value::String(ns.clone()),
            Value::Int(0),
            Value::Int(bytes as i64),
        ];
        let outcome = call(ctx, &log_method("tail", channel), &params);
        match settle(ctx, outcome) {
            Outcome::Done(Ok(Value::Array(a))) => match a.first() {
                Some(Value::String(t)) if t.is_empty() && !has_log(ctx, &ns, channel) => {
                    format!("No file for {ns}")
                }
                Some(Value::String(t)) => t.clone(),
                _ => String::new(),
            },
            Outcome::Done(Err(f)) => format!("ERROR: {}", f.text),
            _ => String::new(),
        }
    };
    let here = link(&ns, channel, kb, refresh);
    let mut nav = format!(
        "<p><a href=\"index.html\">Status</a> · <b>{}</b> {channel} · ",
        esc(&ns)
    );
    let other = if channel == "stdout" {
        "stderr"
    } else {
        "stdout"
    };
    nav.push_str(&format!(
        "<a href=\"{}#end\">{other}</a></p>\n<nav>Refresh: ",
        esc(&link(&ns, other, kb, refresh))
    ));
    for i in INTERVALS {
        let label = if i == 0 {
            "pause".to_string()
        } else {
            format!("{i}s")
        };
        if i == refresh {
            nav.push_str(&format!("<b>{label}</b> "));
        } else {
            nav.push_str(&format!(
                "<a href=\"{}#end\">{label}</a> ",
                esc(&link(&ns, channel, kb, i))
            ));
        }
    }
    nav.push_str("</nav>\n<nav>Last: ");
    for k in SIZES_KB {
        if k == kb {
            nav.push_str(&format!("<b>{k} KB</b> "));
        } else {
            nav.push_str(&format!(
                "<a href=\"{}#end\">{k} KB</a> ",
                esc(&link(&ns, channel, k, refresh))
            ));
        }
    }
    nav.push_str(&format!(
        "· <a href=\"{}#end\">reload now</a></nav>\n",
        esc(&here)
    ));
    let body = format!(
        "{nav}<pre id=\"log\">{}</pre><a id=\"end\"></a>\n",
        esc(&text)
    );
    let meta = (refresh > 0).then(|| format!("{refresh}; url={here}#end"));
    let title = format!("Supervisor tail of process {ns} ({channel})");
    page(&title, meta, &header(ctx.sup), &body)
}
