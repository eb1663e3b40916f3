//! supervisor_twiddler's RPC interface, served natively when a `[rpcinterface:x]` section
//! names its factory (`config::twiddler`): add and remove programs at run time without
//! editing files. The methods are the table's `twiddler.*` rows; a configured namespace `x`
//! serves them as `x.*` (the README's `[rpcinterface:twiddler]` gives `twiddler.*`), and
//! without such a section they do not exist, as in Supervisor without the plugin.
//!
//! Semantics and fault codes follow supervisor_twiddler 1.0.0: every call first passes its
//! gate (SHUTDOWN_STATE while supervisord shuts down, then NOT_IN_WHITELIST, 230, for a
//! method the section's `whitelist` leaves out). `addGroup`, which twiddler had before 0.2,
//! is served too, as an addition.

use super::faults::{self, Fault};
use super::params;
use super::{Ctx, Outcome};
use crate::config::twiddler::{self as conf, TwiddlerConfig};
use crate::config::types::process_or_group_name;
use crate::config::LogLevel;
use crate::daemon::supervisor::Mood;
use crate::daemon::twiddle::TwiddleError;
use crate::rpc::value::Value;
use std::borrow::Cow;

/// What `getAPIVersion` answers (supervisor_twiddler 1.0.0's).
pub const API_VERSION: &str = "1.0";

/// supervisor_twiddler's own fault: the method is not in the section's whitelist.
pub const NOT_IN_WHITELIST: i64 = 230;

/// The namespace of the table's rows.
const NS: &str = "twiddler";

/// How a method name is served.
pub enum Route<'a> {
    /// Not a twiddler namespace: the table decides.
    Builtin,
    /// A configured twiddler namespace: the table row's name and the section's whitelist.
    Twiddler {
        method: String,
        short: String,
        whitelist: &'a [String],
    },
    /// `twiddler.*` while no section serves that namespace.
    Unserved,
}

/// How `method` is served with the configured `twiddlers`.
pub fn route<'a>(twiddlers: &'a [TwiddlerConfig], method: &str) -> Route<'a> {
    let Some((ns, short)) = method.split_once('.') else {
        return Route::Builtin;
    };
    match twiddlers.iter().find(|t| t.namespace == ns) {
        Some(t) => Route::Twiddler {
            method: format!("{NS}.{short}"),
            short: short.to_string(),
            whitelist: &t.whitelist,
        },
        None if ns == NS => Route::Unserved,
        None => Route::Builtin,
    }
}

/// supervisor_twiddler's gate before every method: SHUTDOWN_STATE only while supervisord
/// shuts down (not while it restarts), then the whitelist.
pub fn admit(ctx: &Ctx, short: &str, whitelist: &[String]) -> Result<(), Fault> {
    if matches!(ctx.sup.mood, Mood::Shutdown(_)) {
        return Err(Fault::plain(faults::SHUTDOWN_STATE));
    }
    if !whitelist.is_empty() && !whitelist.iter().any(|w| w == short) {
        return Err(Fault::new(NOT_IN_WHITELIST, short));
    }
    Ok(())
}

/// A table row's name as `system.listMethods` shows it: a twiddler row under every
/// configured namespace (none when there is none), any other row as it is.
pub fn listed<'a>(twiddlers: &[TwiddlerConfig], name: &'a str) -> Vec<Cow<'a, str>> {
    match name.strip_prefix("twiddler.") {
        Some(short) => twiddlers
            .iter()
            .map(|t| Cow::Owned(format!("{}.{short}", t.namespace)))
            .collect(),
        None => vec![Cow::Borrowed(name)],
    }
}

fn done(r: Result<Value, Fault>) -> Outcome {
    Outcome::Done(r)
}

pub fn get_api_version(_: &mut Ctx, _: &[Value]) -> Outcome {
    done(Ok(Value::String(API_VERSION.into())))
}

pub fn get_group_names(ctx: &mut Ctx, _: &[Value]) -> Outcome {
    let names = ctx
        .sup
        .groups
        .iter()
        .map(|g| Value::String(g.config.name.clone()))
        .collect();
    done(Ok(Value::Array(names)))
}

/// A level as twiddler takes it: a level's four-letter name in any case (`info`, `ERRO`)
/// or its number.
fn level(v: Option<&Value>) -> Result<LogLevel, Fault> {
    const LEVELS: [LogLevel; 7] = [
        LogLevel::Critical,
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
        LogLevel::Trace,
        LogLevel::Blather,
    ];
    let found = match v {
        None => Some(LogLevel::Info),
        Some(Value::String(s)) => LEVELS
            .into_iter()
            .find(|l| l.code() == s.to_ascii_uppercase()),
        Some(Value::Int(n)) => LEVELS.into_iter().find(|l| *l as i64 == *n),
        Some(_) => None,
    };
    found.ok_or_else(|| Fault::plain(faults::INCORRECT_PARAMETERS))
}

pub fn log(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let level = match level(p.get(1)) {
        Ok(l) => l,
        Err(f) => return done(Err(f)),
    };
    let message = match p.first() {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Base64(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(other) => other.py_str(),
        None => return done(Err(Fault::plain(faults::INCORRECT_PARAMETERS))),
    };
    ctx.sup.log.log(level, &message);
    done(Ok(Value::Bool(true)))
}

fn group_fault(group: &str, e: TwiddleError, process: &str) -> Fault {
    match e {
        TwiddleError::NoSuchGroup => Fault::new(faults::BAD_NAME, format!("group: {group}")),
        TwiddleError::NotProgramGroup => Fault::new(
            faults::INCORRECT_PARAMETERS,
            format!("group: {group} is an event listener pool or an fcgi-program group"),
        ),
        TwiddleError::Exists(name) => Fault::new(faults::BAD_NAME, name),
        TwiddleError::NoSuchProcess => Fault::new(faults::BAD_NAME, process),
        TwiddleError::StillRunning => Fault::new(faults::STILL_RUNNING, process),
    }
}

/// The struct of program options as `(key, text)`: what Python's `str()` makes of strings,
/// numbers and booleans (`"True"` reads as true); anything else is not an option value.
fn options(v: Option<&Value>) -> Result<Vec<(String, String)>, Fault> {
    let bad = || Fault::plain(faults::INCORRECT_PARAMETERS);
    let Some(Value::Struct(members)) = v else {
        return Err(bad());
    };
    members
        .iter()
        .map(|(k, v)| match v {
            Value::String(_) | Value::Int(_) | Value::Bool(_) | Value::Double(_) => {
                Ok((k.to_string(), v.py_str()))
            }
            _ => Err(bad()),
        })
        .collect()
}

pub fn add_program_to_group(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let (group, program) = match (params::string(p, 0), params::string(p, 1)) {
        (Ok(g), Ok(n)) => (g, n),
        (Err(f), _) | (_, Err(f)) => return done(Err(f)),
    };
    if ctx.sup.group(&group).is_none() {
        return done(Err(group_fault(&group, TwiddleError::NoSuchGroup, "")));
    }
    let options = match options(p.get(2)) {
        Ok(o) => o,
        Err(f) => return done(Err(f)),
    };
    let (procs, warnings) = match conf::program(&ctx.sup.config, &group, &program, &options) {
        Ok(r) => r,
        Err(e) => return done(Err(Fault::new(faults::INCORRECT_PARAMETERS, e))),
    };
    for w in &warnings {
        ctx.sup.log.warn(w);
    }
    let names: Vec<String> = procs.iter().map(|pc| pc.name.clone()).collect();
    if let Err(e) = ctx.sup.add_processes(&group, procs) {
        return done(Err(group_fault(&group, e, "")));
    }
    // Anyone with this interface can run any command: say what was added.
    for name in names {
        ctx.sup.log.info(&format!(
            "twiddler: added process '{name}' to group '{group}'"
        ));
    }
    done(Ok(Value::Bool(true)))
}

pub fn remove_process_from_group(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let (group, process) = match (params::string(p, 0), params::string(p, 1)) {
        (Ok(g), Ok(n)) => (g, n),
        (Err(f), _) | (_, Err(f)) => return done(Err(f)),
    };
    match ctx.sup.remove_process(&group, &process) {
        Ok(()) => {
            ctx.sup.log.info(&format!(
                "twiddler: removed process '{process}' from group '{group}'"
            ));
            done(Ok(Value::Bool(true)))
        }
        Err(e) => done(Err(group_fault(&group, e, &process))),
    }
}

pub fn add_group(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let name = match params::string(p, 0) {
        Ok(n) => n,
        Err(f) => return done(Err(f)),
    };
    let name = match process_or_group_name(&name) {
        Ok(n) if !n.is_empty() => n,
        Ok(_) => return done(Err(Fault::plain(faults::INCORRECT_PARAMETERS))),
        Err(why) => return done(Err(Fault::new(faults::INCORRECT_PARAMETERS, why))),
    };
    let priority = match params::int(p, 1) {
        Ok(n) => n,
        Err(f) => return done(Err(f)),
    };
    if !ctx.sup.add_empty_group(&name, priority) {
        return done(Err(Fault::new(faults::BAD_NAME, &name)));
    }
    ctx.sup
        .log
        .info(&format!("twiddler: added empty group '{name}'"));
    done(Ok(Value::Bool(true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tw(ns: &str, whitelist: &[&str]) -> TwiddlerConfig {
        TwiddlerConfig {
            namespace: ns.into(),
            whitelist: whitelist.iter().map(|w| w.to_string()).collect(),
        }
    }

    #[test]
    fn namespaces_route_to_the_twiddler_rows() {
        let none: Vec<TwiddlerConfig> = Vec::new();
        assert!(matches!(route(&none, "twiddler.log"), Route::Unserved));
        assert!(matches!(route(&none, "supervisor.getPID"), Route::Builtin));
        let two = [tw("twiddler", &[]), tw("dyn", &["log"])];
        match route(&two, "dyn.log") {
            Route::Twiddler {
                method,
                short,
                whitelist,
            } => {
                assert_eq!((method.as_str(), short.as_str()), ("twiddler.log", "log"));
                assert_eq!(whitelist, ["log"]);
            }
            _ => panic!("dyn.log not routed"),
        }
        assert!(matches!(
            route(&two, "twiddler.getGroupNames"),
            Route::Twiddler { .. }
        ));
        assert_eq!(
            listed(&two, "twiddler.log"),
            [Cow::from("twiddler.log"), Cow::from("dyn.log")]
        );
        assert_eq!(listed(&none, "twiddler.log"), Vec::<Cow<str>>::new());
        assert_eq!(
            listed(&none, "system.multicall"),
            [Cow::from("system.multicall")]
        );
    }

    #[test]
    fn levels_by_name_or_number() {
        let s = |t: &str| Value::String(t.into());
        assert_eq!(level(None), Ok(LogLevel::Info));
        assert_eq!(level(Some(&s("erro"))), Ok(LogLevel::Error));
        assert_eq!(level(Some(&s("BLAT"))), Ok(LogLevel::Blather));
        assert_eq!(level(Some(&Value::Int(50))), Ok(LogLevel::Critical));
        for bad in [s("error"), s("info "), Value::Int(21), Value::Bool(true)] {
            assert_eq!(
                level(Some(&bad)).map_err(|f| f.text),
                Err("INCORRECT_PARAMETERS".to_string()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn option_values_are_python_str() {
        let v = Value::Struct(vec![
            ("command".into(), Value::String("ls".into())),
            ("startsecs".into(), Value::Int(0)),
            ("autostart".into(), Value::Bool(false)),
        ]);
        assert_eq!(
            options(Some(&v)).unwrap(),
            [
                ("command".to_string(), "ls".to_string()),
                ("startsecs".into(), "0".into()),
                ("autostart".into(), "False".into())
            ]
        );
        assert!(options(Some(&Value::Array(vec![]))).is_err());
        let nested = Value::Struct(vec![("x".into(), Value::Array(vec![]))]);
        assert!(options(Some(&nested)).is_err());
    }
}
