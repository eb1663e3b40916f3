//! supervisord's command line (config.md §6), parsed with getopts into config overrides.

use crate::config::Overrides;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run {
        config: Option<String>,
        overrides: Box<Overrides>,
    },
    Help,
    Version,
}

pub const VERSION: &str = "4.3.0";

/// (short, long, takes a value, help)
const OPTIONS: &[(&str, &str, bool, &str)] = &[
    ("c", "configuration", true, "configuration file path (searched for if not given)"),
    ("n", "nodaemon", false, "run in the foreground (same as 'nodaemon=true' in config file)"),
    ("s", "silent", false, "no logs to stdout (maps to 'silent=true' in config file)"),
    ("h", "help", false, "print this usage message and exit"),
    ("v", "version", false, "print supervisord version number and exit"),
    ("u", "user", true, "run supervisord as this user (or numeric uid)"),
    ("m", "umask", true, "use this umask for daemon subprocess (default is 022)"),
    ("d", "directory", true, "directory to chdir to when daemonized"),
    ("l", "logfile", true, "use FILENAME as logfile path"),
    ("y", "logfile_maxbytes", true, "use BYTES to limit the max size of logfile"),
    ("z", "logfile_backups", true, "number of backups to keep when max bytes reached"),
    ("e", "loglevel", true, "use LEVEL as log level (debug,info,warn,error,critical)"),
    ("j", "pidfile", true, "write a pid file for the daemon process to FILENAME"),
    ("i", "identifier", true, "identifier used for this instance of supervisord"),
    ("q", "childlogdir", true, "the log directory for child process logs"),
    ("k", "nocleanup", false, "prevent the process from performing cleanup (removal of old automatic child log files) at startup"),
    ("a", "minfds", true, "the minimum number of file descriptors for start success"),
    ("t", "strip_ansi", false, "strip ansi escape codes from process output"),
    ("", "minprocs", true, "the minimum number of processes available for start success"),
    ("", "profile_options", true, "accepted for compatibility and ignored"),
];

pub fn usage(argv0: &str) -> String {
    let mut s = format!("supervisord -- run a set of applications as daemons.\n\nUsage: {argv0} [options]\n\nOptions:\n");
    for (short, long, arg, help) in OPTIONS {
        let val = if *arg { " ARG" } else { "" };
        let left = if short.is_empty() {
            format!("--{long}{val}")
        } else {
            format!("-{short}/--{long}{val}")
        };
        s.push_str(&format!("{left:<28} -- {help}\n"));
    }
    s
}

/// Parses `args` (without argv[0]). Errors are the text after `Error: `.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut opts = getopts::Options::new();
    for (short, long, arg, help) in OPTIONS {
        if *arg {
            opts.optopt(short, long, help, "ARG");
        } else {
            opts.optflag(short, long, help);
        }
    }
    opts.optflag("?", "", "help");
    let m = opts.parse(args).map_err(|e| match e {
        getopts::Fail::UnrecognizedOption(o) => format!("option {} not recognized", dashed(&o)),
        getopts::Fail::ArgumentMissing(o) => format!("option {} requires argument", dashed(&o)),
        getopts::Fail::OptionDuplicated(o) => {
            // getopts names the long form; Supervisor shows the short one where there is one.
            let short = OPTIONS
                .iter()
                .find(|(s, l, _, _)| *l == o && !s.is_empty())
                .map_or(o, |(s, _, _, _)| s.to_string());
            format!("conflicting command line option '{}'", dashed(&short))
        }
        other => other.to_string(),
    })?;
    if !m.free.is_empty() {
        let list: Vec<String> = m.free.iter().map(|f| format!("'{f}'")).collect();
        return Err(format!(
            "positional arguments are not supported: [{}]",
            list.join(", ")
        ));
    }
    if m.opt_present("h") || m.opt_present("?") {
        return Ok(Command::Help);
    }
    if m.opt_present("v") {
        return Ok(Command::Version);
    }
    if let Some(u) = m.opt_str("m") {
        if u32::from_str_radix(u.trim_start_matches("0o"), 8).is_err() {
            return Err(format!(
                "invalid value for -m '{u}': {u} can not be converted to an octal type"
            ));
        }
    }
    let overrides = Box::new(Overrides {
        nodaemon: m.opt_present("n"),
        silent: m.opt_present("s"),
        user: m.opt_str("u"),
        umask: m.opt_str("m"),
        directory: m.opt_str("d"),
        logfile: m.opt_str("l"),
        logfile_maxbytes: m.opt_str("y"),
        logfile_backups: m.opt_str("z"),
        loglevel: m.opt_str("e"),
        pidfile: m.opt_str("j"),
        identifier: m.opt_str("i"),
        childlogdir: m.opt_str("q"),
        nocleanup: m.opt_present("k"),
        minfds: m.opt_str("a"),
        minprocs: m.opt_str("minprocs"),
        strip_ansi: m.opt_present("t"),
    });
    Ok(Command::Run {
        config: m.opt_str("c"),
        overrides,
    })
}

fn dashed(name: &str) -> String {
    if name.len() == 1 {
        format!("-{name}")
    } else {
        format!("--{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn combined_and_long_forms() {
        let Ok(Command::Run { config, overrides }) =
            parse(&args("-nc /x.conf --loglevel=debug -i me --minprocs 300"))
        else {
            panic!("parse failed")
        };
        assert_eq!(config.as_deref(), Some("/x.conf"));
        assert!(overrides.nodaemon);
        assert_eq!(overrides.loglevel.as_deref(), Some("debug"));
        assert_eq!(overrides.identifier.as_deref(), Some("me"));
        assert_eq!(overrides.minprocs.as_deref(), Some("300"));
    }

    #[test]
    fn errors_match_supervisor() {
        assert_eq!(parse(&args("-x")), Err("option -x not recognized".into()));
        assert_eq!(
            parse(&args("--foo")),
            Err("option --foo not recognized".into())
        );
        assert_eq!(
            parse(&args("-c")),
            Err("option -c requires argument".into())
        );
        assert_eq!(
            parse(&args("foo")),
            Err("positional arguments are not supported: ['foo']".into())
        );
        assert_eq!(
            parse(&args("-n -n")),
            Err("conflicting command line option '-n'".into())
        );
        assert_eq!(
            parse(&args("-m 99")),
            Err("invalid value for -m '99': 99 can not be converted to an octal type".into())
        );
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(&args("-h")), Ok(Command::Help));
        assert_eq!(parse(&args("-v")), Ok(Command::Version));
        assert!(usage("supervisord").contains("-c/--configuration ARG"));
    }
}
