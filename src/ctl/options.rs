//! supervisorctl's command line (ctl.md §1): the option table, parsed with Python's getopt
//! rules (`crate::getopt`), and the usage text.

use crate::getopt::{getopt, Found, Spec};

/// One command-line option. The table below is the single source of truth for the parser, the
/// usage text and the man page test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptSpec {
    pub short: char,
    /// Long names; the first is the one shown. `history-file` is accepted next to Python's
    /// `history_file` because Supervisor's own help text prints it (README T3).
    pub long: &'static [&'static str],
    pub takes_arg: bool,
    pub what: Opt,
}

/// Which setting an option sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt {
    Configuration,
    Help,
    Interactive,
    ServerUrl,
    Username,
    Password,
    HistoryFile,
}

pub const OPTIONS: &[OptSpec] = &[
    OptSpec {
        short: 'c',
        long: &["configuration"],
        takes_arg: true,
        what: Opt::Configuration,
    },
    OptSpec {
        short: 'h',
        long: &["help"],
        takes_arg: false,
        what: Opt::Help,
    },
    OptSpec {
        short: '?',
        long: &[],
        takes_arg: false,
        what: Opt::Help,
    },
    OptSpec {
        short: 'i',
        long: &["interactive"],
        takes_arg: false,
        what: Opt::Interactive,
    },
    OptSpec {
        short: 's',
        long: &["serverurl"],
        takes_arg: true,
        what: Opt::ServerUrl,
    },
    OptSpec {
        short: 'u',
        long: &["username"],
        takes_arg: true,
        what: Opt::Username,
    },
    OptSpec {
        short: 'p',
        long: &["password"],
        takes_arg: true,
        what: Opt::Password,
    },
    OptSpec {
        short: 'r',
        long: &["history_file", "history-file"],
        takes_arg: true,
        what: Opt::HistoryFile,
    },
];

/// What the command line asked for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Args {
    pub configuration: Option<String>,
    pub interactive: bool,
    pub serverurl: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub history_file: Option<String>,
    /// The action and its arguments (everything after the options).
    pub action: Vec<String>,
}

/// The outcome of parsing.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(Args),
    Help,
}

/// The usage text printed by `-h` (Supervisor's wording, `argv0` filled in).
pub fn usage(argv0: &str) -> String {
    format!(
        "supervisorctl -- control applications run by supervisord from the cmd line.

Usage: {argv0} [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default \"http://localhost:9001\").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)

action [arguments] -- see below

Actions are commands like \"tail\" or \"stop\".  If -i is specified or no action is
specified on the command line, a \"shell\" interpreting actions typed
interactively is started.  Use the action \"help\" to find out about available
actions.
"
    )
}

/// Parses the arguments after argv[0]. Errors are the text after `Error: ` (usage error,
/// exit 2).
pub fn parse(args: &[String]) -> Result<Parsed, String> {
    let mut out = Args::default();
    let mut seen: Vec<Opt> = Vec::new();
    let (given, action) = getopt(args, OPTIONS, |o| Spec {
        short: Some(o.short),
        long: o.long,
        takes_arg: o.takes_arg,
    })?;
    out.action = action;
    for Found {
        opt: spec,
        value,
        typed,
    } in given
    {
        if spec.what == Opt::Help {
            return Ok(Parsed::Help);
        }
        // As in Supervisor, each value is checked before it can conflict with an earlier one.
        if let Some(v) = value
            .as_deref()
            .filter(|v| spec.what == Opt::ServerUrl && !is_url(v))
        {
            return Err(format!(
                "invalid value for {typed} '{v}': value '{v}' is not a URL"
            ));
        }
        if seen.contains(&spec.what) {
            return Err(format!("conflicting command line option '{typed}'"));
        }
        seen.push(spec.what);
        match spec.what {
            Opt::Configuration => out.configuration = value,
            Opt::Interactive => out.interactive = true,
            Opt::ServerUrl => out.serverurl = value,
            Opt::Username => out.username = value,
            Opt::Password => out.password = value,
            Opt::HistoryFile => out.history_file = value,
            Opt::Help => {}
        }
    }
    Ok(Parsed::Run(out))
}

/// Supervisor's check of `-s` (`datatypes.url`): `urlparse` finds a scheme, and a host or a
/// path after it. `localhost:9` passes (scheme `localhost`) and fails at the first request.
fn is_url(v: &str) -> bool {
    let v = v.split(['?', '#']).next().unwrap_or("");
    let Some((scheme, rest)) = v.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let (host, path) = match rest.strip_prefix("//") {
        Some(r) => r.split_at(r.find('/').unwrap_or(r.len())),
        None => ("", rest),
    };
    scheme_ok && !(host.is_empty() && path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Parsed, String> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn run(args: &[&str]) -> Args {
        match p(args) {
            Ok(Parsed::Run(a)) => a,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn attached_separate_and_long_forms() {
        let a = run(&[
            "-sunix:///x",
            "-u",
            "bob",
            "--password=pw",
            "--history",
            "/h",
            "status",
            "-x",
        ]);
        assert_eq!(a.serverurl.as_deref(), Some("unix:///x"));
        assert_eq!(a.username.as_deref(), Some("bob"));
        assert_eq!(a.password.as_deref(), Some("pw"));
        assert_eq!(a.history_file.as_deref(), Some("/h"));
        assert_eq!(a.action, ["status", "-x"]);
        let a = run(&["--history-file=/h2", "--ser", "http://h:1", "-i"]);
        assert_eq!(a.history_file.as_deref(), Some("/h2"));
        assert_eq!(a.serverurl.as_deref(), Some("http://h:1"));
        assert!(a.interactive && a.action.is_empty());
        assert_eq!(run(&["--", "-s"]).action, ["-s"]);
    }

    #[test]
    fn errors_use_getopt_wording() {
        assert_eq!(p(&["-x"]), Err("option -x not recognized".into()));
        assert_eq!(p(&["-s"]), Err("option -s requires argument".into()));
        assert_eq!(
            p(&["-s", "127.0.0.1:9001"]),
            Err(
                "invalid value for -s '127.0.0.1:9001': value '127.0.0.1:9001' is not a URL".into()
            )
        );
        assert_eq!(
            p(&["--ser=http://"]),
            Err("invalid value for --serverurl 'http://': value 'http://' is not a URL".into())
        );
        assert!(p(&["-s", "unix://"]).is_err());
        for ok in [
            "localhost:9",
            "http://h",
            "unix:///tmp/s",
            "unix://rel",
            "http://[::1]:9",
        ] {
            assert!(p(&["-s", ok]).is_ok(), "{ok}");
        }
        assert_eq!(
            p(&["--serverurl"]),
            Err("option --serverurl requires argument".into())
        );
        assert_eq!(
            p(&["--help=x"]),
            Err("option --help must not have an argument".into())
        );
        assert_eq!(p(&["--bogus"]), Err("option --bogus not recognized".into()));
        assert_eq!(
            p(&["-s", "http://a", "-s", "http://a"]),
            Err("conflicting command line option '-s'".into())
        );
        assert_eq!(
            p(&["-i", "-i"]),
            Err("conflicting command line option '-i'".into())
        );
        // getopt reports a long option by its full name, and 4.3 quotes it as given.
        assert_eq!(
            p(&["-shttp://a", "--ser=http://b"]),
            Err("conflicting command line option '--serverurl'".into())
        );
    }

    #[test]
    fn man_page_documents_every_option() {
        let man = include_str!("../../man/supervisorctl.1");
        for o in OPTIONS {
            let short = format!("\\-{}", o.short);
            assert!(man.contains(&short), "supervisorctl.1 lacks {short}");
            for long in o.long {
                let long = format!("\\-\\-{}", long.replace('-', "\\-"));
                assert!(man.contains(&long), "supervisorctl.1 lacks {long}");
            }
        }
    }

    #[test]
    fn help_wins_wherever_it_is() {
        assert_eq!(p(&["-ih"]), Ok(Parsed::Help));
        assert_eq!(p(&["-?"]), Ok(Parsed::Help));
        assert_eq!(p(&["--he"]), Ok(Parsed::Help));
    }
}
