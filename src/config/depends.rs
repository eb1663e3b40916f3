//! `depends_on=` (project extension, issue #18): each program's dependencies read from its
//! section, resolved to processes `(group, name)` and checked once at load (unknown names,
//! event listeners, cycles), so the daemon only follows resolved keys.

use std::collections::HashMap;

use super::expand::Val;
use super::model::{GroupConfig, GroupKind};
use super::pyrepr::repr;
use super::reader::Ctx;
use super::ConfigError;

/// The section a process of `g` was read from.
fn section_of(g: &GroupConfig, program: &str) -> String {
    match g.kind {
        GroupKind::Program => format!("program:{program}"),
        GroupKind::Fcgi(_) => format!("fcgi-program:{program}"),
        GroupKind::EventListener(_) => format!("eventlistener:{program}"),
    }
}

/// How status output names a process: `name`, or `group:name` when they differ.
fn display(group: &str, name: &str) -> String {
    if group == name {
        name.to_string()
    } else {
        format!("{group}:{name}")
    }
}

/// Fills every process's `depends_on` from its section's `depends_on=` and checks the graph.
pub fn resolve(ctx: &Ctx, groups: &mut [GroupConfig]) -> Result<(), ConfigError> {
    // Indexes, linear in the number of processes.
    let mut by_program: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut by_group: HashMap<String, (bool, Vec<String>)> = HashMap::new();
    let mut listeners: HashMap<String, ()> = HashMap::new();
    for g in groups.iter() {
        let pool = matches!(g.kind, GroupKind::EventListener(_));
        let names = g.processes.iter().map(|p| p.name.clone()).collect();
        by_group.insert(g.name.clone(), (pool, names));
        for p in &g.processes {
            if pool {
                listeners.insert(p.program_name.clone(), ());
            } else {
                by_program
                    .entry(p.program_name.clone())
                    .or_default()
                    .push((g.name.clone(), p.name.clone()));
            }
        }
    }
    let mut any = false;
    for g in groups.iter_mut() {
        let group_name = g.name.clone();
        let pool = matches!(g.kind, GroupKind::EventListener(_));
        for i in 0..g.processes.len() {
            let program = g.processes[i].program_name.clone();
            let section = section_of(g, &program);
            let sec = ctx.section(&section);
            if !sec.has("depends_on") {
                continue;
            }
            if pool {
                return Err(sec.err(
                    Some("depends_on"),
                    "an event listener cannot have dependencies (depends_on)",
                ));
            }
            let names = ctx.names(&[
                ("here", Val::Str(ctx.here.clone())),
                ("program_name", Val::Str(program.clone())),
                ("host_node_name", Val::Str(ctx.host.clone())),
                ("group_name", Val::Str(group_name.clone())),
            ]);
            let text = sec.get("depends_on", &names)?.unwrap_or_default();
            let mut deps: Vec<(String, String)> = Vec::new();
            for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let found = lookup(item, &by_program, &by_group, &listeners)
                    .map_err(|m| sec.err(Some("depends_on"), m))?;
                for key in found {
                    if !deps.contains(&key) {
                        deps.push(key);
                    }
                }
            }
            any |= !deps.is_empty();
            g.processes[i].depends_on = deps;
        }
    }
    if any {
        check_cycles(ctx, groups)?;
    }
    Ok(())
}

/// The processes one `depends_on` item names.
fn lookup(
    item: &str,
    by_program: &HashMap<String, Vec<(String, String)>>,
    by_group: &HashMap<String, (bool, Vec<String>)>,
    listeners: &HashMap<String, ()>,
) -> Result<Vec<(String, String)>, String> {
    let listener = |what: &str| {
        format!(
            "depends_on names {}, an event listener: a listener cannot be a dependency",
            repr(what)
        )
    };
    match item.split_once(':') {
        Some((group, name)) => {
            let Some((pool, members)) = by_group.get(group) else {
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
                return Ok(members
                    .iter()
                    .map(|n| (group.to_string(), n.clone()))
                    .collect());
            }
            if members.iter().any(|n| n == name) {
                return Ok(vec![(group.to_string(), name.to_string())]);
            }
            Err(format!(
                "depends_on names {}, but group {} has no process {}",
                repr(item),
                repr(group),
                repr(name)
            ))
        }
        None => match by_program.get(item) {
            Some(keys) => Ok(keys.clone()),
            None if listeners.contains_key(item) => Err(listener(item)),
            None => Err(format!(
                "depends_on names {}, but there is no [program:{item}] \
                 (processes of a group are named group:name or group:*)",
                repr(item)
            )),
        },
    }
}

/// A cycle is an error naming every member with the file and line of its `depends_on`.
fn check_cycles(ctx: &Ctx, groups: &[GroupConfig]) -> Result<(), ConfigError> {
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut nodes: Vec<(&GroupConfig, usize)> = Vec::new();
    for g in groups {
        for (i, p) in g.processes.iter().enumerate() {
            index.insert((g.name.as_str(), p.name.as_str()), nodes.len());
            nodes.push((g, i));
        }
    }
    let edges: Vec<Vec<usize>> = nodes
        .iter()
        .map(|(g, i)| {
            g.processes[*i]
                .depends_on
                .iter()
                .filter_map(|(gn, n)| index.get(&(gn.as_str(), n.as_str())).copied())
                .collect()
        })
        .collect();
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
                        return Err(cycle_error(ctx, &nodes, &members));
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
        display(&g.name, &g.processes[i].name)
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
        p.depends_on.clone()
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
