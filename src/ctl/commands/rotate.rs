//! `rotate` (an extension): rotate process logs and supervisord's log now, through the
//! `supervisor.rotate*Logs` methods, one line per log file.

use super::control::enough_words;
use super::words;
use crate::api::faults;
use crate::ctl::client::CallError;
use crate::ctl::controller::{exit, Controller};
use crate::ctl::format::Outcome;
use crate::ctl::names;
use crate::rpc::Value;

/// The line for one file a rotate method reported: `web stdout: rotated`.
fn file_line(item: &Value, o: &Outcome) -> String {
    let channel = item.get("channel").and_then(Value::as_str).unwrap_or("");
    let who = if channel == "main" {
        "supervisord".to_string()
    } else {
        format!("{} {channel}", o.namespec())
    };
    if o.status == faults::SUCCESS {
        format!("{who}: {}", o.description)
    } else {
        format!("{who}: ERROR ({})", o.description)
    }
}

/// Prints what one rotate call did; false when the server has no rotate methods.
fn report(ctl: &mut Controller, ns: &str, r: Result<Value, CallError>) -> Result<bool, CallError> {
    match r {
        Ok(v) => {
            let outcomes = Outcome::list(&v)?;
            let items = v.as_array().unwrap_or_default();
            if outcomes.is_empty() {
                ctl.say(&format!("{ns}: no log files"));
            }
            for (item, o) in items.iter().zip(&outcomes) {
                ctl.say(&file_line(item, o));
                ctl.status_from_fault(o.status, None);
            }
        }
        Err(CallError::Fault { code, .. }) if code == faults::UNKNOWN_METHOD => {
            ctl.say("ERROR: this supervisord cannot rotate logs on demand (no supervisor.rotateProcessLogs); send it SIGUSR2 to reopen them");
            ctl.exit = exit::GENERIC;
            return Ok(false);
        }
        Err(CallError::Fault { code, .. }) if code == faults::BAD_NAME => {
            ctl.say(&format!("{ns}: ERROR (no such process)"));
            ctl.exit = exit::GENERIC;
        }
        Err(CallError::Fault { code, text }) => {
            ctl.say(&format!("{ns}: ERROR ({text})"));
            ctl.status_from_fault(code, None);
        }
        Err(e) => return Err(e),
    }
    Ok(true)
}

pub fn rotate(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    let need = (1, "a process name, all or main");
    let Some(names) = enough_words(ctl, "rotate", words(arg), need, exit::INVALID_ARGS)? else {
        return Ok(());
    };
    // `all` is every process log and the main log, in one pass, whatever else is named.
    let calls: Vec<(String, &str, Vec<Value>)> = if names.contains(&"all") {
        vec![
            ("all".into(), "supervisor.rotateAllProcessLogs", vec![]),
            ("supervisord".into(), "supervisor.rotateLog", vec![]),
        ]
    } else {
        names
            .iter()
            .map(|&name| match name {
                "main" => ("supervisord".into(), "supervisor.rotateLog", vec![]),
                _ => {
                    let ns = match names::split(name) {
                        (g, Some(p)) => names::make(g, p),
                        (_, None) => name.to_string(),
                    };
                    let param = vec![Value::String(name.into())];
                    (ns, "supervisor.rotateProcessLogs", param)
                }
            })
            .collect()
    };
    for (ns, method, params) in calls {
        let r = ctl.call(method, &params);
        if !report(ctl, &ns, r)? {
            break;
        }
    }
    Ok(())
}
