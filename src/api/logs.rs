//! Log methods: read/tail/clear of the main log and of process logs (rpc.md §6.1, §6.2).
//! Text is decoded lossily, so a window that splits a UTF-8 character still answers (R3).

use super::budget::{self, Budget};
use super::faults::{self, Fault};
use super::info;
use super::params;
use super::procs::{resolve, Target};
use super::{Ctx, Outcome};
use crate::config::MainLogTarget;
use crate::daemon::rotate::Rotated;
use crate::log::Rotation;
use crate::output::Stream;
use crate::rpc::value::Value;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The bytes `read*Log(offset, length)` returns, or the fault: also when they are more than
/// `budget` (whose XML can only be larger), before anything is allocated.
pub fn read_window(
    path: &Path,
    offset: i64,
    length: i64,
    budget: Budget,
) -> Result<Vec<u8>, Fault> {
    if (offset < 0 && length != 0) || (offset >= 0 && length < 0) {
        return Err(Fault::plain(faults::BAD_ARGUMENTS));
    }
    let mut f = File::open(path).map_err(|_| Fault::new(faults::NO_FILE, path.display()))?;
    let size = f
        .metadata()
        .map_err(|e| Fault::new(faults::FAILED, e))?
        .len() as i64;
    let (start, len) = if offset < 0 {
        ((size + offset).max(0), size)
    } else if length == 0 {
        (offset, size)
    } else {
        (offset, length)
    };
    if start >= size {
        return Ok(Vec::new());
    }
    let len = len.min(size - start) as usize;
    if len > budget.left {
        return Err(budget::too_large(len, budget, budget::READ_HINT));
    }
    let mut buf = vec![0; len];
    f.seek(SeekFrom::Start(start as u64))
        .and_then(|_| f.read_exact(&mut buf))
        .map_err(|e| Fault::new(faults::FAILED, e))?;
    Ok(buf)
}

/// `[data, size, overflow]` with Supervisor's tail semantics (R16: the last `length` bytes,
/// whatever the offset, once anything is past it), or the fault for data over `budget`.
pub fn tail_window(path: &Path, offset: i64, length: i64, budget: Budget) -> Result<Value, Fault> {
    let Ok(mut f) = File::open(path) else {
        return Ok(Value::Array(vec![
            Value::String(String::new()),
            Value::Int(0),
            Value::Bool(false),
        ]));
    };
    let size = f.metadata().map(|m| m.len() as i64).unwrap_or(0);
    let overflow = size > offset.saturating_add(length);
    let mut data = Vec::new();
    if offset < size && length > 0 {
        let n = length.min(size);
        if n as u64 > budget.left as u64 {
            return Err(budget::too_large(n as usize, budget, budget::TAIL_HINT));
        }
        let _ = f
            .seek(SeekFrom::Start((size - n) as u64))
            .and_then(|_| f.take(n as u64).read_to_end(&mut data));
    }
    Ok(Value::Array(vec![
        Value::String(budget::log_text(data, budget, budget::TAIL_HINT)?),
        Value::Int(size),
        Value::Bool(overflow),
    ]))
}

fn process_log(ctx: &Ctx, name: &str, stream: Stream) -> Result<Option<std::path::PathBuf>, Fault> {
    match resolve(ctx, name)? {
        Target::One(id) => {
            let p = ctx
                .sup
                .process(id)
                .ok_or_else(|| Fault::new(faults::BAD_NAME, name))?;
            Ok(match stream {
                Stream::Stdout => p.stdout_path.clone(),
                Stream::Stderr => p.stderr_path.clone(),
            })
        }
        Target::Group(_) => Err(Fault::new(faults::BAD_NAME, name)),
    }
}

fn read_process(ctx: &mut Ctx, p: &[Value], stream: Stream) -> Outcome {
    let r = (|| {
        let name = params::string(p, 0)?;
        let (offset, length) = (params::int(p, 1)?, params::int(p, 2)?);
        let path = process_log(ctx, &name, stream)?.ok_or_else(|| Fault::plain(faults::NO_FILE))?;
        let bytes = read_window(&path, offset, length, ctx.budget)?;
        budget::log_text(bytes, ctx.budget, budget::READ_HINT).map(Value::String)
    })();
    Outcome::Done(r)
}

pub fn read_stdout(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    read_process(ctx, p, Stream::Stdout)
}

pub fn read_stderr(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    read_process(ctx, p, Stream::Stderr)
}

fn tail_process(ctx: &mut Ctx, p: &[Value], stream: Stream) -> Outcome {
    let r = (|| {
        let name = params::string(p, 0)?;
        let (offset, length) = (params::int(p, 1)?, params::int(p, 2)?);
        let path = process_log(ctx, &name, stream)?.unwrap_or_default();
        tail_window(&path, offset, length, ctx.budget)
    })();
    Outcome::Done(r)
}

pub fn tail_stdout(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    tail_process(ctx, p, Stream::Stdout)
}

pub fn tail_stderr(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    tail_process(ctx, p, Stream::Stderr)
}

pub fn read_main(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let r = (|| {
        let (offset, length) = (params::int(p, 0)?, params::int(p, 1)?);
        let Some(path) = ctx.sup.main_log_path() else {
            // 4.3 names the logfile setting: `NO_FILE: syslog`.
            return Err(match ctx.sup.config.supervisord.logfile {
                MainLogTarget::Syslog => Fault::new(faults::NO_FILE, "syslog"),
                _ => Fault::plain(faults::NO_FILE),
            });
        };
        let bytes = read_window(&path, offset, length, ctx.budget)?;
        budget::log_text(bytes, ctx.budget, budget::READ_HINT).map(Value::String)
    })();
    Outcome::Done(r)
}

pub fn clear_main(ctx: &mut Ctx, _p: &[Value]) -> Outcome {
    let Some(path) = ctx.sup.main_log_path() else {
        return Outcome::Done(Err(Fault::plain(faults::NO_FILE)));
    };
    if !path.exists() {
        return Outcome::Done(Err(Fault::plain(faults::NO_FILE)));
    }
    match ctx.sup.clear_main_log() {
        Ok(()) => Outcome::Done(Ok(Value::Bool(true))),
        Err(cause) => Outcome::Done(Err(Fault::new(faults::FAILED, cause))),
    }
}

fn clear_one(ctx: &mut Ctx, id: usize) -> Result<(), Fault> {
    ctx.sup.clear_process_logs(id).map_err(|cause| {
        let name = ctx
            .sup
            .process(id)
            .map(|p| p.config.name.clone())
            .unwrap_or_default();
        Fault::new(faults::FAILED, format!("{name}: {cause}"))
    })
}

pub fn clear_process(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let r = (|| {
        let name = params::string(p, 0)?;
        match resolve(ctx, &name)? {
            Target::One(id) => clear_one(ctx, id).map(|_| Value::Bool(true)),
            Target::Group(_) => Err(Fault::new(faults::BAD_NAME, &name)),
        }
    })();
    Outcome::Done(r)
}

pub fn clear_all(ctx: &mut Ctx, _p: &[Value]) -> Outcome {
    let mut out = Vec::new();
    for id in ctx.sup.process_ids() {
        let r = clear_one(ctx, id);
        if let Some(p) = ctx.sup.process(id) {
            out.push(info::status(p, &r));
        }
    }
    Outcome::Done(Ok(Value::Array(out)))
}

// ---- rotation on demand (an extension: not in Supervisor 4.3) ----

/// One rotated file as the rotate methods report it.
fn rotated(group: &str, name: &str, r: &Rotated) -> Value {
    let (status, rotated, description) = match &r.result {
        Ok(rot) => (
            faults::SUCCESS,
            *rot == Rotation::Rotated,
            rot.describe().to_string(),
        ),
        Err(e) => (faults::FAILED, false, e.clone()),
    };
    Value::Struct(vec![
        ("group".into(), Value::String(group.into())),
        ("name".into(), Value::String(name.into())),
        ("channel".into(), Value::String(r.channel.into())),
        (
            "logfile".into(),
            Value::String(r.path.display().to_string()),
        ),
        ("rotated".into(), Value::Bool(rotated)),
        ("status".into(), Value::Int(status)),
        ("description".into(), Value::String(description)),
    ])
}

fn rotate_ids(ctx: &mut Ctx, ids: Vec<usize>, out: &mut Vec<Value>) {
    for id in ids {
        let (group, name) = match ctx.sup.process(id) {
            Some(p) => (p.group.clone(), p.config.name.clone()),
            None => continue,
        };
        for r in ctx.sup.rotate_process_logs(id) {
            out.push(rotated(&group, &name, &r));
        }
    }
}

/// `supervisor.rotateProcessLogs(name)`: a process, or `group:*`.
pub fn rotate_process(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let r = (|| {
        let name = params::string(p, 0)?;
        let ids = match resolve(ctx, &name)? {
            Target::One(id) => vec![id],
            Target::Group(g) => ctx
                .sup
                .group(&g)
                .map(|g| g.members.clone())
                .unwrap_or_default(),
        };
        let mut out = Vec::new();
        rotate_ids(ctx, ids, &mut out);
        Ok(Value::Array(out))
    })();
    Outcome::Done(r)
}

/// `supervisor.rotateAllProcessLogs()`.
pub fn rotate_all(ctx: &mut Ctx, _p: &[Value]) -> Outcome {
    let mut out = Vec::new();
    let ids = ctx.sup.process_ids();
    rotate_ids(ctx, ids, &mut out);
    Outcome::Done(Ok(Value::Array(out)))
}

/// `supervisor.rotateLog()`: supervisord's own log; NO_FILE when it goes to syslog.
pub fn rotate_main(ctx: &mut Ctx, _p: &[Value]) -> Outcome {
    match ctx.sup.rotate_main_log() {
        Some(r) => Outcome::Done(Ok(Value::Array(vec![rotated("", "supervisord", &r)]))),
        None => Outcome::Done(Err(Fault::new(faults::NO_FILE, "syslog"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    fn sample() -> (TempDir, std::path::PathBuf) {
        let d = TempDir::new("tailwin");
        let p = d.path().join("f.log");
        std::fs::write(&p, "0123456789abcdefghijklmnopqrstuvwxyzABCDEF").unwrap();
        (d, p)
    }

    fn tail(p: &Path, o: i64, l: i64) -> (String, i64, bool) {
        match tail_window(p, o, l, B).unwrap() {
            Value::Array(v) => match (&v[0], &v[1], &v[2]) {
                (Value::String(s), Value::Int(n), Value::Bool(b)) => (s.clone(), *n, *b),
                _ => panic!("shape"),
            },
            _ => panic!("shape"),
        }
    }

    #[test]
    fn tail_matches_supervisor_table() {
        let (_d, p) = sample();
        let all = "0123456789abcdefghijklmnopqrstuvwxyzABCDEF".to_string();
        assert_eq!(tail(&p, 0, 100), (all.clone(), 42, false));
        assert_eq!(tail(&p, 10, 100), (all.clone(), 42, false));
        assert_eq!(tail(&p, 40, 5), ("BCDEF".into(), 42, false));
        assert_eq!(tail(&p, 10, 30).0, all[12..].to_string());
        assert!(tail(&p, 10, 30).2);
        assert_eq!(tail(&p, 42, 5), (String::new(), 42, false));
        assert_eq!(tail(&p, 100, 100), (String::new(), 42, false));
        assert_eq!(tail(&p, -5, 3), ("DEF".into(), 42, true));
        assert_eq!(tail(&p, 2, 1), ("F".into(), 42, true));
        assert_eq!(tail(&p, 0, 0), (String::new(), 42, true));
        assert_eq!(tail(&p, 30, -5), (String::new(), 42, true));
    }

    #[test]
    fn a_tail_over_the_budget_faults_and_an_empty_one_never_does() {
        let (_d, p) = sample();
        let b = Budget::reply;
        assert!(tail_window(&p, 0, 10, b(10)).is_ok());
        let f = tail_window(&p, 0, 11, b(10)).unwrap_err();
        assert!(f.text.contains("ask for a smaller length"), "{}", f.text);
        // Only what would be returned counts: a huge length on a small log, or nothing to read.
        assert!(tail_window(&p, 0, 1 << 40, b(42)).is_ok());
        assert!(tail_window(&p, 100, 1 << 40, b(0)).is_ok());
    }

    const B: Budget = Budget {
        left: budget::REPLY_BUDGET,
        by: budget::Bound::Reply,
    };

    #[test]
    fn read_windows() {
        let (_d, p) = sample();
        assert_eq!(read_window(&p, -5, 0, B).unwrap(), b"BCDEF");
        assert_eq!(read_window(&p, 40, 0, B).unwrap(), b"EF");
        assert_eq!(read_window(&p, 0, 3, B).unwrap(), b"012");
        assert_eq!(read_window(&p, 100, 3, B).unwrap(), b"");
        assert_eq!(
            read_window(&p, -1, 1, B).unwrap_err().code,
            faults::BAD_ARGUMENTS
        );
        assert_eq!(
            read_window(&p, 1, -1, B).unwrap_err().code,
            faults::BAD_ARGUMENTS
        );
        // Over the budget: a fault before anything is read, whatever the request.
        assert_eq!(read_window(&p, 0, 0, Budget::reply(42)).unwrap().len(), 42);
        for (o, l) in [(0, 0), (-100, 0), (0, 43), (0, 1 << 40)] {
            let f = read_window(&p, o, l, Budget::reply(41)).unwrap_err();
            assert_eq!(f.code, faults::FAILED, "{o} {l}");
            assert!(f.text.contains("reply too large"), "{}", f.text);
        }
        let missing = p.with_file_name("nope");
        assert_eq!(
            read_window(&missing, 0, 0, B).unwrap_err().text,
            format!("NO_FILE: {}", missing.display())
        );
    }
}
