//! `depends_on=` (project extension, issue #18): the names a program depends on, resolved to
//! processes `(group, name)` by one `Index` (at load, where unknown names, event listeners and
//! cycles are errors, and by the daemon when processes come and go), so both agree.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::model::{GroupConfig, GroupKind};
use super::reader::Ctx;
use super::ConfigError;
use crate::pyrepr::repr;

/// The items of a `depends_on` value: comma-separated, blanks around them and empty ones
/// dropped, duplicates kept once.
pub fn items(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == item) {
            out.push(item.to_string());
        }
    }
    out
}

/// The section a process of `g` was read from.
fn section_of(g: &GroupConfig, program: &str) -> String {
    match g.kind {
        GroupKind::Program => format!("program:{program}"),
        GroupKind::Fcgi(_) => format!("fcgi-program:{program}"),
        GroupKind::EventListener(_) => format!("eventlistener:{program}"),
    }
}

/// Processes by program name and by group, built in one pass over the groups.
pub struct Index<'a> {
    by_program: HashMap<&'a str, Vec<(&'a str, &'a str)>>,
    by_group: HashMap<&'a str, (bool, Vec<&'a str>)>,
    listeners: HashSet<&'a str>,
}

impl<'a> Index<'a> {
    pub fn new(groups: impl IntoIterator<Item = &'a GroupConfig>) -> Index<'a> {
        let mut ix = Index {
            by_program: HashMap::new(),
            by_group: HashMap::new(),
            listeners: HashSet::new(),
        };
        for g in groups {
            let pool = matches!(g.kind, GroupKind::EventListener(_));
            let names = g.processes.iter().map(|p| p.name.as_str()).collect();
            ix.by_group.insert(g.name.as_str(), (pool, names));
            for p in &g.processes {
                if pool {
                    ix.listeners.insert(p.program_name.as_str());
                } else {
                    ix.by_program
                        .entry(p.program_name.as_str())
                        .or_default()
                        .push((g.name.as_str(), p.name.as_str()));
                }
            }
        }
        ix
    }

    /// The processes one `depends_on` item names: `program`, `group:name` or `group:*`.
    pub fn lookup(&self, item: &str) -> Result<Vec<(&'a str, &'a str)>, String> {
        let listener = |what: &str| {
            format!(
                "depends_on names {}, an event listener: a listener cannot be a dependency",
                repr(what)
            )
        };
        match item.split_once(':') {
            Some((group, name)) => {
                let Some((g, (pool, members))) = self.by_group.get_key_value(group) else {
                    return Err(format!(
                        "depends_on names {}, but there is no group {}",
                        repr(item),
                        repr(group)
                    ));
                };
                if *pool {
                    return Err(listener(item));
                }
                if name == "*" {
                    return Ok(members.iter().map(|&n| (*g, n)).collect());
                }
                match members.iter().find(|&&n| n == name) {
                    Some(&n) => Ok(vec![(*g, n)]),
                    None => Err(format!(
                        "depends_on names {}, but group {} has no process {}",
                        repr(item),
                        repr(group),
                        repr(name)
                    )),
                }
            }
            None => match self.by_program.get(item) {
                Some(keys) => Ok(keys.clone()),
                None if self.listeners.contains(item) => Err(listener(item)),
                None => Err(format!(
                    "depends_on names {}, but there is no [program:{item}] \
                     (processes of a group are named group:name or group:*)",
                    repr(item)
                )),
            },
        }
    }
}

/// Checks every `depends_on` of the configuration: names that resolve to programs, no event
/// listener on either side, no cycle.
pub fn check(ctx: &Ctx, groups: &[Arc<GroupConfig>]) -> Result<(), ConfigError> {
    if !groups
        .iter()
        .any(|g| g.processes.iter().any(|p| !p.depends_on.is_empty()))
    {
        return Ok(());
    }
    let ix = Index::new(groups.iter().map(|g| &**g));
    let mut nodes: Vec<(&GroupConfig, usize)> = Vec::new();
    let mut ids: HashMap<(&str, &str), usize> = HashMap::new();
    for g in groups {
        for (i, p) in g.processes.iter().enumerate() {
            ids.insert((g.name.as_str(), p.name.as_str()), nodes.len());
            nodes.push((g, i));
        }
    }
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (n, &(g, i)) in nodes.iter().enumerate() {
        let p = &g.processes[i];
        if p.depends_on.is_empty() {
            continue;
        }
        let section = section_of(g, &p.program_name);
        let sec = ctx.section(&section);
        if matches!(g.kind, GroupKind::EventListener(_)) {
            return Err(sec.err(
                Some("depends_on"),
                "an event listener cannot have dependencies (depends_on)",
            ));
        }
        for item in &p.depends_on {
            let found = ix
                .lookup(item)
                .map_err(|m| sec.err(Some("depends_on"), m))?;
            edges[n].extend(found.into_iter().filter_map(|k| ids.get(&k).copied()));
        }
    }
    check_cycles(ctx, &nodes, &edges)
}

/// A cycle is an error naming every member with the file and line of its `depends_on`.
fn check_cycles(
    ctx: &Ctx,
    nodes: &[(&GroupConfig, usize)],
    edges: &[Vec<usize>],
) -> Result<(), ConfigError> {
    // Iterative depth-first search: 0 unseen, 1 on the path, 2 done. Chains can be long.
    let mut color = vec![0u8; nodes.len()];
    for root in 0..nodes.len() {
        if color[root] != 0 {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        color[root] = 1;
        while let Some(top) = path.last_mut() {
            let node = top.0;
            if let Some(&to) = edges[node].get(top.1) {
                top.1 += 1;
                match color[to] {
                    0 => {
                        color[to] = 1;
                        path.push((to, 0));
                    }
                    1 => {
                        let at = path.iter().position(|&(n, _)| n == to).unwrap_or(0);
                        let members: Vec<usize> = path[at..].iter().map(|&(n, _)| n).collect();
                        return Err(cycle_error(ctx, nodes, &members));
                    }
                    _ => {}
                }
            } else {
                color[node] = 2;
                path.pop();
            }
        }
    }
    Ok(())
}

fn cycle_error(ctx: &Ctx, nodes: &[(&GroupConfig, usize)], members: &[usize]) -> ConfigError {
    let name = |n: usize| {
        let (g, i) = nodes[n];
        crate::namespec::namespec(&g.name, &g.processes[i].name)
    };
    let mut chain: Vec<String> = members.iter().map(|&n| name(n)).collect();
    chain.push(name(members[0]));
    let mut places: Vec<String> = Vec::new();
    for &n in members {
        let (g, i) = nodes[n];
        let section = section_of(g, &g.processes[i].program_name);
        if let Some(e) = ctx.section(&section).entry("depends_on") {
            let place = format!(
                "section {} (file: {}, line: {}, key: 'depends_on')",
                repr(&section),
                repr(&e.loc.file),
                e.loc.line
            );
            if !places.contains(&place) {
                places.push(place);
            }
        }
    }
    ConfigError(format!(
        "depends_on makes a cycle: {}; in {}",
        chain.join(" -> "),
        places.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use crate::config::{load, Config, ConfigError, Overrides};
    use crate::testutil::TempDir;
    use std::path::Path;

    fn load_text(text: &str) -> (TempDir, String, Result<Config, ConfigError>) {
        let t = TempDir::new("depends");
        let body = format!("[supervisord]\nlogfile=/dev/null\n{text}");
        let path = t.write("supervisord.conf", &body);
        let r = load(Path::new(&path), &Overrides::default());
        (t, path, r)
    }

    fn err(text: &str) -> String {
        let (_t, path, r) = load_text(text);
        match r {
            Ok(_) => panic!("expected an error for\n{text}"),
            Err(e) => e.0.replace(&path, "F"),
        }
    }

    fn deps(text: &str, group: &str, name: &str) -> Vec<(String, String)> {
        let (_t, _, r) = load_text(text);
        let c = r.unwrap_or_else(|e| panic!("{e}"));
        let g = c.groups.iter().find(|g| g.name == group).expect("group");
        let p = g
            .processes
            .iter()
            .find(|p| p.name == name)
            .expect("process");
        let ix = super::Index::new(c.groups.iter().map(|g| &**g));
        let mut out: Vec<(String, String)> = Vec::new();
        for item in &p.depends_on {
            for (g, n) in ix.lookup(item).expect("resolves") {
                if !out.contains(&key(g, n)) {
                    out.push(key(g, n));
                }
            }
        }
        out
    }

    fn key(g: &str, n: &str) -> (String, String) {
        (g.to_string(), n.to_string())
    }

    #[test]
    fn programs_group_members_and_whole_groups_resolve() {
        let text = "[program:db]\ncommand=true\n\
                    [program:q]\ncommand=true\nnumprocs=2\nprocess_name=q_%(process_num)s\n\
                    [program:w1]\ncommand=true\n[program:w2]\ncommand=true\n\
                    [group:web]\nprograms=w1,w2\n\
                    [program:x]\ncommand=true\ndepends_on = db, q , web:w2,, web:*\n";
        assert_eq!(
            deps(text, "x", "x"),
            vec![
                key("db", "db"),
                key("q", "q_0"),
                key("q", "q_1"),
                key("web", "w2"),
                key("web", "w1"),
            ]
        );
        // A program listed in a [group:] is still found by its program name.
        let text2 = format!("{text}[program:y]\ncommand=true\ndepends_on=w1\n");
        assert_eq!(deps(&text2, "y", "y"), vec![key("web", "w1")]);
    }

    #[test]
    fn unknown_names_are_located_errors() {
        assert_eq!(
            err("[program:x]\ncommand=true\ndepends_on=nope\n"),
            "depends_on names 'nope', but there is no [program:nope] (processes of a group \
             are named group:name or group:*) in section 'program:x' (file: 'F', line: 5, \
             key: 'depends_on')"
        );
        assert!(err("[program:x]\ncommand=true\ndepends_on=g:*\n")
            .starts_with("depends_on names 'g:*', but there is no group 'g'"));
        assert!(
            err("[program:a]\ncommand=true\n[program:x]\ncommand=true\ndepends_on=a:b\n")
                .starts_with("depends_on names 'a:b', but group 'a' has no process 'b'")
        );
    }

    #[test]
    fn listeners_take_no_part() {
        let l = "[eventlistener:l]\ncommand=true\nevents=TICK_5\n";
        assert!(
            err(&format!("{l}[program:x]\ncommand=true\ndepends_on=l\n"))
                .starts_with("depends_on names 'l', an event listener")
        );
        assert!(
            err(&format!("{l}[program:x]\ncommand=true\ndepends_on=l:*\n"))
                .starts_with("depends_on names 'l:*', an event listener")
        );
        let e = err(
            "[program:x]\ncommand=true\n[eventlistener:l]\ncommand=true\n\
                     events=TICK_5\ndepends_on=x\n",
        );
        assert!(
            e.starts_with("an event listener cannot have dependencies"),
            "{e}"
        );
    }

    #[test]
    fn a_cycle_names_every_member_with_file_and_line() {
        let e = err("[program:a]\ncommand=true\ndepends_on=c\n\
                     [program:b]\ncommand=true\ndepends_on=a\n\
                     [program:c]\ncommand=true\ndepends_on=b\n\
                     [program:d]\ncommand=true\ndepends_on=a\n");
        assert_eq!(
            e,
            "depends_on makes a cycle: a -> c -> b -> a; in section 'program:a' (file: 'F', \
             line: 5, key: 'depends_on'), section 'program:c' (file: 'F', line: 11, key: \
             'depends_on'), section 'program:b' (file: 'F', line: 8, key: 'depends_on')"
        );
        let e = err("[program:a]\ncommand=true\ndepends_on=a\n");
        assert!(e.starts_with("depends_on makes a cycle: a -> a;"), "{e}");
    }

    #[test]
    fn the_shipped_example_loads() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/depends.conf");
        let c = load(Path::new(path), &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
        let ix = super::Index::new(c.groups.iter().map(|g| &**g));
        let web = c.groups.iter().find(|g| g.name == "web").expect("web");
        let found = ix
            .lookup(&web.processes[0].depends_on[0])
            .expect("resolves");
        assert_eq!(found, vec![("backend", "db"), ("backend", "queue")]);
    }

    #[test]
    fn a_long_chain_is_no_cycle_and_no_recursion() {
        let mut text = String::from("[program:p0]\ncommand=true\n");
        for i in 1..1000 {
            text.push_str(&format!(
                "[program:p{i}]\ncommand=true\ndepends_on=p{}\n",
                i - 1
            ));
        }
        assert_eq!(deps(&text, "p999", "p999"), vec![key("p998", "p998")]);
    }
}
