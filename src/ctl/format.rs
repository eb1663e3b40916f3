//! What supervisorctl prints: process info and result structs read from the server's values,
//! the status and avail tables (ctl.md §5), reread summaries, and Python's `cmd.columnize`
//! layout for `help`.

use super::client::CallError;
use super::names;
use crate::rpc::Value;
use std::collections::BTreeMap;

/// Process states that make `status` exit 3 (process.md §1 codes).
const STOPPED: i64 = 0;
const EXITED: i64 = 100;
const FATAL: i64 = 200;
const UNKNOWN: i64 = 1000;
pub const RUNNING: i64 = 20;

fn bad_answer(what: &str) -> CallError {
    CallError::Other(format!("the server sent an unexpected answer: {what}"))
}

fn str_member(v: &Value, key: &str) -> Result<String, CallError> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| bad_answer(&format!("no string '{key}'")))
}

fn int_member(v: &Value, key: &str) -> Result<i64, CallError> {
    v.get(key)
        .and_then(Value::as_int)
        .ok_or_else(|| bad_answer(&format!("no int '{key}'")))
}

fn bool_member(v: &Value, key: &str) -> Result<bool, CallError> {
    match v.get(key) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Int(n)) => Ok(*n != 0),
        _ => Err(bad_answer(&format!("no boolean '{key}'"))),
    }
}

/// The array a call returned.
pub fn array(v: &Value) -> Result<&[Value], CallError> {
    v.as_array().ok_or_else(|| bad_answer("not an array"))
}

/// The members of a process info struct that supervisorctl uses (rpc.md §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    pub name: String,
    pub group: String,
    pub state: i64,
    pub statename: String,
    pub description: String,
    pub pid: i64,
}

impl ProcInfo {
    pub fn from_value(v: &Value) -> Result<ProcInfo, CallError> {
        Ok(ProcInfo {
            name: str_member(v, "name")?,
            group: str_member(v, "group")?,
            state: int_member(v, "state")?,
            statename: str_member(v, "statename")?,
            description: str_member(v, "description")?,
            pid: int_member(v, "pid")?,
        })
    }

    pub fn list(v: &Value) -> Result<Vec<ProcInfo>, CallError> {
        array(v)?.iter().map(ProcInfo::from_value).collect()
    }

    pub fn namespec(&self) -> String {
        names::make(&self.group, &self.name)
    }

    /// STOPPED, EXITED, FATAL or UNKNOWN: `status` exits 3 when it shows one.
    pub fn is_down(&self) -> bool {
        matches!(self.state, STOPPED | EXITED | FATAL | UNKNOWN)
    }
}

/// One entry of the arrays group and "all" operations return (rpc.md §5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub name: String,
    pub group: String,
    pub status: i64,
    pub description: String,
}

impl Outcome {
    pub fn list(v: &Value) -> Result<Vec<Outcome>, CallError> {
        array(v)?
            .iter()
            .map(|r| {
                Ok(Outcome {
                    name: str_member(r, "name")?,
                    group: str_member(r, "group")?,
                    status: int_member(r, "status")?,
                    description: str_member(r, "description").unwrap_or_default(),
                })
            })
            .collect()
    }

    pub fn namespec(&self) -> String {
        names::make(&self.group, &self.name)
    }
}

/// The status table: the name column is as wide as the longest name (at least 30) plus 3, the
/// state column 10, then the description (so empty descriptions leave trailing spaces, T6).
pub fn status_table(infos: &[&ProcInfo]) -> Vec<String> {
    let specs: Vec<String> = infos.iter().map(|i| i.namespec()).collect();
    let width = specs
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(30)
        + 3;
    infos
        .iter()
        .zip(&specs)
        .map(|(i, ns)| format!("{ns:<width$}{:<10}{}", i.statename, i.description))
        .collect()
}

/// One `avail` line per configured process (getAllConfigInfo order).
pub fn avail_lines(v: &Value) -> Result<Vec<String>, CallError> {
    array(v)?
        .iter()
        .map(|c| {
            let ns = names::make(&str_member(c, "group")?, &str_member(c, "name")?);
            let inuse = if bool_member(c, "inuse")? {
                "in use"
            } else {
                "avail"
            };
            let auto = if bool_member(c, "autostart")? {
                "auto"
            } else {
                "manual"
            };
            let prio = format!(
                "{}:{}",
                int_member(c, "group_prio")?,
                int_member(c, "process_prio")?
            );
            Ok(format!("{ns:<32} {inuse:<9} {auto:<9} {prio}"))
        })
        .collect()
}

/// reloadConfig's `[[added, changed, removed]]`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl Changes {
    pub fn from_value(v: &Value) -> Result<Changes, CallError> {
        let outer = array(v)?;
        let inner = outer
            .first()
            .map(array)
            .transpose()?
            .ok_or_else(|| bad_answer("empty reloadConfig result"))?;
        let list = |i: usize| -> Result<Vec<String>, CallError> {
            let Some(l) = inner.get(i) else {
                return Err(bad_answer("short reloadConfig result"));
            };
            array(l)?
                .iter()
                .map(|n| {
                    n.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad_answer("group name not a string"))
                })
                .collect()
        };
        Ok(Changes {
            added: list(0)?,
            changed: list(1)?,
            removed: list(2)?,
        })
    }

    /// `reread` output: one line per group sorted by name; a group in several lists shows its
    /// last classification.
    pub fn summary(&self) -> Vec<String> {
        let mut by_name = BTreeMap::new();
        for (list, what) in [
            (&self.added, "available"),
            (&self.changed, "changed"),
            (&self.removed, "disappeared"),
        ] {
            for g in list {
                by_name.insert(g.as_str(), what);
            }
        }
        if by_name.is_empty() {
            return vec!["No config updates to processes".to_string()];
        }
        by_name
            .into_iter()
            .map(|(g, what)| format!("{g}: {what}"))
            .collect()
    }
}

/// Python's `cmd.Cmd.columnize`: the fewest rows whose columns (two spaces apart) fit in
/// `width`; filled column by column; every cell padded to its column width.
pub fn columnize(words: &[&str], width: usize) -> Vec<String> {
    if words.is_empty() {
        return vec!["<empty>".to_string()];
    }
    let size = words.len();
    if size == 1 {
        return vec![words[0].to_string()];
    }
    let mut layout = (size, vec![0]);
    for nrows in 1..size {
        let ncols = size.div_ceil(nrows);
        let mut widths = Vec::new();
        let mut total: isize = -2;
        for col in 0..ncols {
            let w = (0..nrows)
                .filter_map(|row| words.get(row + nrows * col))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0);
            widths.push(w);
            total += w as isize + 2;
            if total > width as isize {
                break;
            }
        }
        if total <= width as isize {
            layout = (nrows, widths);
            break;
        }
    }
    let (nrows, widths) = layout;
    (0..nrows)
        .map(|row| {
            let mut cells: Vec<&str> = (0..widths.len())
                .map(|col| words.get(row + nrows * col).copied().unwrap_or(""))
                .collect();
            while cells.last().is_some_and(|c| c.is_empty()) {
                cells.pop();
            }
            cells
                .iter()
                .enumerate()
                .map(|(col, c)| format!("{c:<w$}", w = widths[col]))
                .collect::<Vec<_>>()
                .join("  ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(group: &str, name: &str, state: i64, statename: &str, desc: &str) -> ProcInfo {
        ProcInfo {
            name: name.into(),
            group: group.into(),
            state,
            statename: statename.into(),
            description: desc.into(),
            pid: 0,
        }
    }

    #[test]
    fn status_columns_match_supervisor() {
        let a = info("exiter", "exiter", EXITED, "EXITED", "Nov 26 10:48 PM");
        let b = info("grp", "g1", RUNNING, "RUNNING", "pid 5654, uptime 0:00:07");
        let c = info("newprog", "newprog", 10, "STARTING", "");
        assert_eq!(
            status_table(&[&a, &b, &c]),
            [
                "exiter                           EXITED    Nov 26 10:48 PM",
                "grp:g1                           RUNNING   pid 5654, uptime 0:00:07",
                "newprog                          STARTING  ",
            ]
        );
        let long = info("g", &"x".repeat(40), STOPPED, "STOPPED", "Not started");
        assert_eq!(
            status_table(&[&long])[0],
            format!("g:{}   STOPPED   Not started", "x".repeat(40))
        );
        assert!(a.is_down() && !b.is_down() && !c.is_down());
    }

    #[test]
    fn reread_summary() {
        let c = Changes {
            added: vec!["newprog".into(), "g2".into()],
            changed: vec!["cat".into()],
            removed: vec!["old".into()],
        };
        assert_eq!(
            c.summary(),
            [
                "cat: changed",
                "g2: available",
                "newprog: available",
                "old: disappeared"
            ]
        );
        assert_eq!(
            Changes::default().summary(),
            ["No config updates to processes"]
        );
    }

    #[test]
    fn columnize_like_python_cmd() {
        let words = [
            "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload",
            "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
            "update", "version",
        ];
        assert_eq!(
            columnize(&words, 79),
            [
                "add    exit      open  reload  restart   start   tail   ",
                "avail  fg        pid   remove  shutdown  status  update ",
                "clear  maintail  quit  reread  signal    stop    version",
            ]
        );
    }
}
