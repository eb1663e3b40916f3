//! The status document: what `supervisorctl status --json` (also `pid --json`,
//! `avail --json`) prints and `GET /status.json` serves, built from the structs the XML-RPC
//! API returns so both sides show the same fields (schema in supervisorctl(1)).
//!
//! ```text
//! { "supervisord": {"pid": N},            only `pid --json` without names
//!   "processes": [ {every member of the server's getProcessInfo struct (or, for avail,
//!                   getAllConfigInfo struct), in its order, then "namespec"} ],
//!   "errors": [ {"name": what was asked for, "error": "no such process"} ] }
//! ```
//! Members are passed through whatever the server sends, so members a later server adds to
//! its process info (health, backoff detail) appear without a change here; readers must
//! ignore members they do not know. Nothing is ever removed or renamed.

use super::Ctx;
use crate::rpc::value::Value;

/// A process (or config) info struct with its `namespec` member added: `name` when the
/// process has its group's name, else `group:name` (supervisorctl's form).
pub fn entry(info: &Value) -> Value {
    let mut members = match info {
        Value::Struct(m) => m.clone(),
        other => return other.clone(),
    };
    let text = |k: &str| info.get(k).and_then(Value::as_str);
    if let (Some(group), Some(name), None) = (text("group"), text("name"), info.get("namespec")) {
        let ns = crate::namespec::namespec(group, name);
        members.push(("namespec".into(), Value::String(ns)));
    }
    Value::Struct(members)
}

/// One name that matched nothing, and why (`no such process`, `no such group`).
pub struct Miss {
    pub name: String,
    pub error: String,
}

/// The document for `infos` (server structs, shown in this order) and `misses`.
pub fn document(infos: &[Value], misses: &[Miss]) -> Value {
    Value::Struct(vec![
        (
            "processes".into(),
            Value::Array(infos.iter().map(entry).collect()),
        ),
        (
            "errors".into(),
            Value::Array(
                misses
                    .iter()
                    .map(|m| {
                        Value::Struct(vec![
                            ("name".into(), Value::String(m.name.clone())),
                            ("error".into(), Value::String(m.error.clone())),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

/// The document about every process, in getAllProcessInfo's order.
pub fn of_daemon(ctx: &Ctx) -> Value {
    let infos: Vec<Value> = ctx
        .sup
        .processes_by_name()
        .into_iter()
        .map(|p| {
            let info = super::info::process_info(p, ctx.now);
            match (info, &p.config.probe.health) {
                // `healthcheck=` (extension): as `supervisorctl status --json` adds it.
                (Value::Struct(mut m), Some(_)) => {
                    m.push((
                        "health".into(),
                        Value::String(p.probe.verdict.name().into()),
                    ));
                    m.push((
                        "health_failures".into(),
                        Value::Int(p.probe.failures as i64),
                    ));
                    Value::Struct(m)
                }
                (info, _) => info,
            }
        })
        .collect();
    document(&infos, &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn info(group: &str, name: &str) -> Value {
        Value::Struct(vec![
            ("name".into(), Value::String(name.into())),
            ("group".into(), Value::String(group.into())),
            ("pid".into(), Value::Int(7)),
        ])
    }

    #[test]
    fn entries_gain_a_namespec_and_keep_every_member() {
        let doc = document(
            &[info("g", "p"), info("x", "x")],
            &[Miss {
                name: "nope".into(),
                error: "no such process".into(),
            }],
        );
        assert_eq!(
            json::encode(&doc),
            r#"{"processes":[{"name":"p","group":"g","pid":7,"namespec":"g:p"},{"name":"x","group":"x","pid":7,"namespec":"x"}],"errors":[{"name":"nope","error":"no such process"}]}"#
        );
        // A server that already sends a namespec keeps its own.
        let mut own = info("g", "p");
        if let Value::Struct(m) = &mut own {
            m.push(("namespec".into(), Value::String("mine".into())));
        }
        assert_eq!(entry(&own).as_struct().map(|m| m.len()), Some(4));
    }
}
