//! supervisord's command line (config.md §6): one option table for the parser (Python getopt
//! rules, `crate::getopt`), the per-option value checks and the `-h` text, into config
//! overrides.

use crate::config::types::{
    byte_size, existing_directory, existing_dirpath, integer, log_level, octal,
};
use crate::config::Overrides;
use crate::getopt::{getopt, Spec};
use crate::pyrepr::repr;

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

/// What an option sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Configuration,
    Nodaemon,
    Silent,
    Help,
    Version,
    User,
    Umask,
    Directory,
    Logfile,
    LogfileMaxbytes,
    LogfileBackups,
    Loglevel,
    Pidfile,
    Identifier,
    Childlogdir,
    Nocleanup,
    Minfds,
    StripAnsi,
    Minprocs,
    ProfileOptions,
}

/// A value check, run when the option is parsed (as 4.3's option handlers are).
type Check = fn(&str) -> Result<(), String>;

struct DaemonOpt {
    spec: Spec,
    what: Opt,
    check: Option<Check>,
    /// The option's lines of the `-h` text after its names (`-c/--configuration`), as
    /// Supervisor 4.3 prints them (empty: not listed).
    usage: &'static str,
}

const fn opt(
    short: Option<char>,
    long: &'static [&'static str],
    takes_arg: bool,
    what: Opt,
    check: Option<Check>,
    usage: &'static str,
) -> DaemonOpt {
    DaemonOpt {
        spec: Spec {
            short,
            long,
            takes_arg,
        },
        what,
        check,
        usage,
    }
}

#[rustfmt::skip]
const OPTIONS: &[DaemonOpt] = &[
    opt(Some('c'), &["configuration"], true, Opt::Configuration, None,
        " FILENAME -- configuration file path (searches if not given)"),
    opt(Some('n'), &["nodaemon"], false, Opt::Nodaemon, None,
        " -- run in the foreground (same as 'nodaemon=true' in config file)"),
    opt(Some('s'), &["silent"], false, Opt::Silent, None,
        " -- no logs to stdout (maps to 'silent=true' in config file)"),
    opt(Some('h'), &["help"], false, Opt::Help, None,
        " -- print this usage message and exit"),
    opt(Some('?'), &[], false, Opt::Help, None, ""),
    opt(Some('v'), &["version"], false, Opt::Version, None,
        " -- print supervisord version number and exit"),
    opt(Some('u'), &["user"], true, Opt::User, None,
        " USER -- run supervisord as this user (or numeric uid)"),
    opt(Some('m'), &["umask"], true, Opt::Umask, Some(|v| octal(v).map(drop)),
        " UMASK -- use this umask for daemon subprocess (default is 022)"),
    opt(Some('d'), &["directory"], true, Opt::Directory, Some(|v| existing_directory(v).map(drop)),
        " DIRECTORY -- directory to chdir to when daemonized"),
    opt(Some('l'), &["logfile"], true, Opt::Logfile, Some(|v| existing_dirpath(v).map(drop)),
        " FILENAME -- use FILENAME as logfile path"),
    opt(Some('y'), &["logfile_maxbytes"], true, Opt::LogfileMaxbytes, Some(|v| byte_size(v).map(drop)),
        " BYTES -- use BYTES to limit the max size of logfile"),
    opt(Some('z'), &["logfile_backups"], true, Opt::LogfileBackups, Some(|v| integer(v).map(drop)),
        " NUM -- number of backups to keep when max bytes reached"),
    opt(Some('e'), &["loglevel"], true, Opt::Loglevel, Some(|v| log_level(v).map(drop)),
        " LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)"),
    opt(Some('j'), &["pidfile"], true, Opt::Pidfile, Some(|v| existing_dirpath(v).map(drop)),
        " FILENAME -- write a pid file for the daemon process to FILENAME"),
    opt(Some('i'), &["identifier"], true, Opt::Identifier, None,
        " STR -- identifier used for this instance of supervisord"),
    opt(Some('q'), &["childlogdir"], true, Opt::Childlogdir, Some(|v| existing_directory(v).map(drop)),
        " DIRECTORY -- the log directory for child process logs"),
    opt(Some('k'), &["nocleanup"], false, Opt::Nocleanup, None,
        " --  prevent the process from performing cleanup (removal of\n                   old automatic child log files) at startup."),
    opt(Some('a'), &["minfds"], true, Opt::Minfds, Some(|v| integer(v).map(drop)),
        " NUM -- the minimum number of file descriptors for start success"),
    opt(Some('t'), &["strip_ansi"], false, Opt::StripAnsi, None,
        " -- strip ansi escape codes from process output"),
    opt(None, &["minprocs"], true, Opt::Minprocs, Some(|v| integer(v).map(drop)),
        " NUM  -- the minimum number of processes available for start success"),
    // 4.3 runs itself under cProfile with it; we have no profiler, so the text says so.
    opt(None, &["profile_options"], true, Opt::ProfileOptions, None,
        " OPTIONS -- accepted for compatibility and ignored (there is\n                             no profiler)"),
];

/// The `-h` text: Supervisor 4.3's, line for line, with `argv0` filled in.
pub fn usage(argv0: &str) -> String {
    let mut s = format!(
        "supervisord -- run a set of applications as daemons.\n\nUsage: {argv0} [options]\n\nOptions:\n"
    );
    for o in OPTIONS.iter().filter(|o| !o.usage.is_empty()) {
        if let Some(c) = o.spec.short {
            s.push('-');
            s.push(c);
            s.push('/');
        }
        s.push_str("--");
        s.push_str(o.spec.long.first().copied().unwrap_or_default());
        s.push_str(o.usage);
        s.push('\n');
    }
    s.push('\n');
    s
}

/// Every option's short form and long forms, in table order (for the man page's test).
pub fn names() -> impl Iterator<Item = (Option<char>, &'static [&'static str])> {
    OPTIONS.iter().map(|o| (o.spec.short, o.spec.long))
}

/// Parses `args` (without argv[0]) as 4.3 does: getopt, then each option in command-line
/// order (help and version act at once; a value is checked before it can conflict with an
/// earlier one). Errors are the text after `Error: `.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let (found, free) = getopt(args, OPTIONS, |o| o.spec)?;
    if !free.is_empty() {
        let list: Vec<String> = free.iter().map(|f| repr(f)).collect();
        return Err(format!(
            "positional arguments are not supported: [{}]",
            list.join(", ")
        ));
    }
    let mut config = None;
    let mut o = Overrides::default();
    let mut seen = Vec::new();
    for f in found {
        match f.opt.what {
            Opt::Help => return Ok(Command::Help),
            Opt::Version => return Ok(Command::Version),
            _ => {}
        }
        let value = f.value.unwrap_or_default();
        if let Some(check) = f.opt.check {
            check(&value)
                .map_err(|why| format!("invalid value for {} {}: {why}", f.typed, repr(&value)))?;
        }
        if seen.contains(&f.opt.what) {
            return Err(format!(
                "conflicting command line option {}",
                repr(&f.typed)
            ));
        }
        seen.push(f.opt.what);
        let v = Some(value);
        match f.opt.what {
            Opt::Configuration => config = v,
            Opt::Nodaemon => o.nodaemon = true,
            Opt::Silent => o.silent = true,
            Opt::User => o.user = v,
            Opt::Umask => o.umask = v,
            Opt::Directory => o.directory = v,
            Opt::Logfile => o.logfile = v,
            Opt::LogfileMaxbytes => o.logfile_maxbytes = v,
            Opt::LogfileBackups => o.logfile_backups = v,
            Opt::Loglevel => o.loglevel = v,
            Opt::Pidfile => o.pidfile = v,
            Opt::Identifier => o.identifier = v,
            Opt::Childlogdir => o.childlogdir = v,
            Opt::Nocleanup => o.nocleanup = true,
            Opt::Minfds => o.minfds = v,
            Opt::StripAnsi => o.strip_ansi = true,
            Opt::Minprocs => o.minprocs = v,
            Opt::ProfileOptions | Opt::Help | Opt::Version => {}
        }
    }
    Ok(Command::Run {
        config,
        overrides: Box::new(o),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn run(s: &str) -> (Option<String>, Box<Overrides>) {
        match parse(&args(s)) {
            Ok(Command::Run { config, overrides }) => (config, overrides),
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn combined_and_long_forms() {
        let (config, overrides) = run("-nc /x.conf --loglevel=debug -i me --minprocs 300");
        assert_eq!(config.as_deref(), Some("/x.conf"));
        assert!(overrides.nodaemon);
        assert_eq!(overrides.loglevel.as_deref(), Some("debug"));
        assert_eq!(overrides.identifier.as_deref(), Some("me"));
        assert_eq!(overrides.minprocs.as_deref(), Some("300"));
    }

    /// supervisord(8) and 4.3 (getopt) accept any unambiguous prefix of a long option.
    #[test]
    fn abbreviated_long_options() {
        let (config, o) =
            run("--nod --config=/x.conf --us=root --logfile_b 3 --pro=x --nocl --str");
        assert_eq!(config.as_deref(), Some("/x.conf"));
        assert!(o.nodaemon && o.nocleanup && o.strip_ansi);
        assert_eq!(o.user.as_deref(), Some("root"));
        assert_eq!(o.logfile_backups.as_deref(), Some("3"));
        assert_eq!(parse(&args("--he")), Ok(Command::Help));
        assert_eq!(parse(&args("--vers")), Ok(Command::Version));
        assert_eq!(
            parse(&args("--u=x")),
            Err("option --u not a unique prefix".into())
        );
        assert_eq!(
            parse(&args("--logfile_max=1x")),
            Err("invalid value for --logfile_maxbytes '1x': invalid literal for int() with base 10: '1x'".into())
        );
    }

    #[test]
    fn errors_match_supervisor() {
        let err = |s| parse(&args(s)).unwrap_err();
        assert_eq!(err("-x"), "option -x not recognized");
        assert_eq!(err("--foo"), "option --foo not recognized");
        assert_eq!(err("-c"), "option -c requires argument");
        assert_eq!(
            err("--nodaemon=1"),
            "option --nodaemon must not have an argument"
        );
        assert_eq!(
            err("foo"),
            "positional arguments are not supported: ['foo']"
        );
        assert_eq!(
            err("-h foo"),
            "positional arguments are not supported: ['foo']"
        );
        assert_eq!(err("-n -n"), "conflicting command line option '-n'");
        assert_eq!(
            err("-n --nod"),
            "conflicting command line option '--nodaemon'"
        );
        assert_eq!(err("-c a -c b"), "conflicting command line option '-c'");
        assert_eq!(
            err("-m 99"),
            "invalid value for -m '99': 99 can not be converted to an octal type"
        );
        assert_eq!(
            err("--minfds=x"),
            "invalid value for --minfds 'x': invalid literal for int() with base 10: 'x'"
        );
        assert_eq!(
            err("-e foo"),
            "invalid value for -e 'foo': bad logging level name 'foo'"
        );
        // In command-line order: help acts before a later bad value, not after an earlier one.
        assert_eq!(parse(&args("-h -m 99")), Ok(Command::Help));
        assert_eq!(
            err("-m 99 -h"),
            "invalid value for -m '99': 99 can not be converted to an octal type"
        );
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(&args("-h")), Ok(Command::Help));
        assert_eq!(parse(&args("-?")), Ok(Command::Help));
        assert_eq!(parse(&args("-v")), Ok(Command::Version));
    }

    /// `-h` prints 4.3's text (scripts and docs quote its lines), except that
    /// `--profile_options` says it is ignored.
    #[test]
    fn usage_is_supervisors() {
        let text = usage("/usr/bin/supervisord");
        // Python 4.3.0's `supervisord -h`, run as /usr/bin/supervisord.
        let expected = include_str!("../../tests/golden/supervisord-h.txt");
        let (ours, theirs) = (
            text.split("--profile_options").next(),
            expected.split("--profile_options").next(),
        );
        assert_eq!(ours, theirs, "\n{text}");
        assert!(text.ends_with("(there is\n                             no profiler)\n\n"));
    }
}
