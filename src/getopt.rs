//! Python's `getopt.getopt`, which Supervisor parses both its command lines with: bundled
//! short options (`-nc FILE`, `-cFILE`), long options by exact name or unique prefix (`--nod`,
//! `--config=FILE`), the first non-option ends the options, and getopt's error texts.

/// One option as getopt sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub short: Option<char>,
    /// Long names; the first is the one reported. Names of one option do not compete when a
    /// prefix is matched.
    pub long: &'static [&'static str],
    pub takes_arg: bool,
}

/// An option found on the command line, in command-line order.
#[derive(Debug, PartialEq, Eq)]
pub struct Found<'t, T> {
    pub opt: &'t T,
    pub value: Option<String>,
    /// The option as getopt reports it (`-c`, or the full long name `--configuration` however
    /// it was abbreviated): Supervisor's messages quote this.
    pub typed: String,
}

/// Splits `args` (after argv[0]) into options and the rest. `spec` gives each table row's
/// getopt view. Errors are getopt's messages (`option --x not recognized`).
pub fn getopt<'t, T>(
    args: &[String],
    table: &'t [T],
    spec: impl Fn(&T) -> Spec,
) -> Result<(Vec<Found<'t, T>>, Vec<String>), String> {
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "--" {
            i += 1;
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let opt = find_long(table, &spec, name)?;
            let s = spec(opt);
            let shown = s.long[0];
            let value = match (s.takes_arg, inline) {
                (true, Some(v)) => Some(v),
                (true, None) => {
                    i += 1;
                    let v = args.get(i).cloned();
                    Some(v.ok_or(format!("option --{shown} requires argument"))?)
                }
                (false, Some(_)) => {
                    return Err(format!("option --{shown} must not have an argument"))
                }
                (false, None) => None,
            };
            found.push(Found {
                opt,
                value,
                typed: format!("--{shown}"),
            });
        } else if a.len() > 1 && a.starts_with('-') {
            for (at, c) in a[1..].char_indices() {
                let Some(opt) = table.iter().find(|o| spec(o).short == Some(c)) else {
                    return Err(format!("option -{c} not recognized"));
                };
                let value = if spec(opt).takes_arg {
                    let rest = &a[1 + at + c.len_utf8()..];
                    let v = if rest.is_empty() {
                        i += 1;
                        let v = args.get(i).cloned();
                        v.ok_or(format!("option -{c} requires argument"))?
                    } else {
                        rest.to_string()
                    };
                    Some(v)
                } else {
                    None
                };
                let ends = value.is_some();
                found.push(Found {
                    opt,
                    value,
                    typed: format!("-{c}"),
                });
                if ends {
                    break;
                }
            }
        } else {
            // The first non-option ends the options (getopt, not gnu_getopt).
            break;
        }
        i += 1;
    }
    Ok((found, args[i.min(args.len())..].to_vec()))
}

/// A long option by exact name or unique prefix.
fn find_long<'t, T>(
    table: &'t [T],
    spec: &impl Fn(&T) -> Spec,
    name: &str,
) -> Result<&'t T, String> {
    if let Some(o) = table.iter().find(|o| spec(o).long.contains(&name)) {
        return Ok(o);
    }
    let mut hits = table
        .iter()
        .filter(|o| spec(o).long.iter().any(|l| l.starts_with(name)));
    match (hits.next(), hits.next()) {
        (Some(o), None) => Ok(o),
        (Some(_), Some(_)) => Err(format!("option --{name} not a unique prefix")),
        _ => Err(format!("option --{name} not recognized")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[(Option<char>, &[&str], bool)] = &[
        (Some('c'), &["configuration"], true),
        (Some('n'), &["nodaemon"], false),
        (Some('u'), &["user"], true),
        (Some('m'), &["umask"], true),
        (None, &["minprocs"], true),
        (Some('r'), &["history_file", "history-file"], true),
    ];

    /// Each option as (typed, value), and the rest.
    type Parsed = (Vec<(String, Option<String>)>, Vec<String>);

    fn run(line: &str) -> Result<Parsed, String> {
        let args: Vec<String> = line
            .split(' ')
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect();
        let (found, rest) = getopt(&args, TABLE, |&(short, long, takes_arg)| Spec {
            short,
            long,
            takes_arg,
        })?;
        Ok((
            found.into_iter().map(|f| (f.typed, f.value)).collect(),
            rest,
        ))
    }

    fn opts(line: &str) -> Vec<(String, Option<String>)> {
        run(line).unwrap().0
    }

    fn o(typed: &str, v: Option<&str>) -> (String, Option<String>) {
        (typed.to_string(), v.map(String::from))
    }

    #[test]
    fn short_options_bundle_and_take_attached_or_next_values() {
        assert_eq!(
            opts("-nc /x -c/y -u -n"),
            [
                o("-n", None),
                o("-c", Some("/x")),
                o("-c", Some("/y")),
                o("-u", Some("-n"))
            ]
        );
    }

    #[test]
    fn long_options_match_exactly_or_by_unique_prefix() {
        assert_eq!(
            opts("--nod --config=/x --us=root --mi 9 --configuration= --hist /h"),
            [
                o("--nodaemon", None),
                o("--configuration", Some("/x")),
                o("--user", Some("root")),
                o("--minprocs", Some("9")),
                o("--configuration", Some("")),
                o("--history_file", Some("/h")),
            ]
        );
        assert_eq!(opts("--history-file=/h"), [o("--history_file", Some("/h"))]);
    }

    #[test]
    fn the_first_non_option_or_a_double_dash_ends_the_options() {
        assert_eq!(run("-n status -c x").unwrap().1, ["status", "-c", "x"]);
        assert_eq!(run("-n -- -c").unwrap().1, ["-c"]);
        assert_eq!(
            run("- -n").unwrap(),
            (vec![], vec!["-".to_string(), "-n".to_string()])
        );
    }

    #[test]
    fn errors_are_getopts() {
        let err = |line| run(line).unwrap_err();
        assert_eq!(err("-x"), "option -x not recognized");
        assert_eq!(err("-c"), "option -c requires argument");
        assert_eq!(err("--u"), "option --u not a unique prefix");
        assert_eq!(err("--bogus"), "option --bogus not recognized");
        assert_eq!(err("--conf"), "option --configuration requires argument");
        assert_eq!(
            err("--nod=1"),
            "option --nodaemon must not have an argument"
        );
        assert_eq!(err("-é"), "option -é not recognized");
    }
}
