//! The command table: every supervisorctl command with its help text, its handler and what its
//! arguments complete to. `help`, dispatch and completion all read this one table.

mod attach;
mod config;
mod control;
mod daemon;
mod follow;
mod help;
mod logs;
mod parallel;
mod rotate;
mod status;

use super::client::CallError;
use super::controller::Controller;

pub use help::print_help;

/// What the words after a command complete to in the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complete {
    Nothing,
    Commands,
    Groups,
    Processes,
}

pub type Handler = fn(&mut Controller, &str) -> Result<(), CallError>;

pub struct Command {
    pub name: &'static str,
    /// Help lines (tabs as Supervisor prints them).
    pub help: &'static [&'static str],
    pub run: Handler,
    pub complete: Complete,
    /// Listed by `help` (help and EOF are not).
    pub listed: bool,
    /// Options the command takes (`--json`), each explained in `help` and the man page.
    pub flags: &'static [&'static str],
}

impl Command {
    const fn flags(mut self, flags: &'static [&'static str]) -> Command {
        self.flags = flags;
        self
    }
}

const fn cmd(
    name: &'static str,
    help: &'static [&'static str],
    run: Handler,
    complete: Complete,
) -> Command {
    Command {
        name,
        help,
        run,
        complete,
        listed: true,
        flags: &[],
    }
}

use Complete::*;

pub static COMMANDS: &[Command] = &[
    cmd(
        "add",
        &["add <name> [...]\tActivates any updates in config for process/group"],
        config::add,
        Groups,
    ),
    cmd(
        "avail",
        &[
            "avail\t\t\tDisplay all configured processes",
            "avail --json\t\tThe same as one JSON document (see supervisorctl(1))",
        ],
        status::avail,
        Nothing,
    )
    .flags(&["--json"]),
    cmd(
        "clear",
        &[
            "clear <name>\t\tClear a process' log files.",
            "clear <name> <name>\tClear multiple process' log files",
            "clear all\t\tClear all process' log files",
        ],
        control::clear,
        Processes,
    ),
    cmd(
        "debug",
        &[
            "debug <name>\t\tAttach to a running process: each line typed goes to its",
            "\t\t\tstdin, its stdout and stderr stream back (stderr in red",
            "\t\t\ton a terminal). Ctrl-C or Ctrl-D detaches; the process",
            "\t\t\tkeeps running.",
        ],
        attach::debug,
        Processes,
    ),
    cmd(
        "exit",
        &["exit\tExit the supervisor shell."],
        daemon::quit,
        Nothing,
    ),
    cmd(
        "fg",
        &[
            "fg <process>\tConnect to a process in foreground mode",
            "\t\tCtrl-C to exit",
        ],
        attach::fg,
        Processes,
    ),
    // Not in its own list, as in Supervisor.
    Command {
        name: "help",
        help: &[
            "help\t\tPrint a list of available actions",
            "help <action>\tPrint help for <action>",
        ],
        run: help::help,
        complete: Commands,
        listed: false,
        flags: &[],
    },
    cmd(
        "maintail",
        &[
            "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)",
            "maintail -100\tlast 100 *bytes* of supervisord main log file",
            "maintail\tlast 1600 *bytes* of supervisor main log file",
            "",
        ],
        logs::maintail,
        Nothing,
    ),
    cmd(
        "open",
        &[
            "open <url>\tConnect to a remote supervisord process.",
            "\t\t(for UNIX domain socket, use unix:///socket/path)",
        ],
        daemon::open,
        Nothing,
    ),
    cmd(
        "pid",
        &[
            "pid\t\t\tGet the PID of supervisord.",
            "pid <name>\t\tGet the PID of a single child process by name.",
            "pid all\t\t\tGet the PID of every child process, one per line.",
            "pid --json [...]\t\tThe same as one JSON document (see supervisorctl(1))",
        ],
        status::pid,
        Processes,
    )
    .flags(&["--json"]),
    cmd(
        "quit",
        &["quit\tExit the supervisor shell."],
        daemon::quit,
        Nothing,
    ),
    cmd(
        "reload",
        &["reload \t\tRestart the remote supervisord."],
        daemon::reload,
        Nothing,
    ),
    cmd(
        "remove",
        &["remove <name> [...]\tRemoves process/group from active config"],
        config::remove,
        Groups,
    ),
    cmd(
        "reread",
        &["reread \t\t\tReload the daemon's configuration files without add/remove"],
        config::reread,
        Nothing,
    ),
    cmd(
        "restart",
        &[
            "restart <name>\t\tRestart a process",
            "restart <gname>:*\tRestart all processes in a group",
            "restart <name> <name>\tRestart multiple processes or groups",
            "restart all\t\tRestart all processes",
            "restart --no-wait <name> [...]\tReturn at once; each start follows its stop",
            "Note: restart does not reread config files. For that, see reread and update.",
        ],
        control::restart,
        Processes,
    )
    .flags(&["--no-wait"]),
    cmd(
        "rotate",
        &[
            "rotate <name>\t\tRotate a process' log files now (see supervisorctl(1))",
            "rotate <gname>:*\tRotate the log files of all processes in a group",
            "rotate <name> <name>\tRotate the log files of several processes or groups",
            "rotate main\t\tRotate supervisord's own log",
            "rotate all\t\tRotate every process' log files and supervisord's log",
        ],
        rotate::rotate,
        Processes,
    ),
    cmd(
        "shutdown",
        &["shutdown \tShut the remote supervisord down."],
        daemon::shutdown,
        Nothing,
    ),
    cmd(
        "signal",
        &[
            "signal <signal name> <name>\t\tSignal a process",
            "signal <signal name> <gname>:*\t\tSignal all processes in a group",
            "signal <signal name> <name> <name>\tSignal multiple processes or groups",
            "signal <signal name> all\t\tSignal all processes",
        ],
        control::signal,
        Processes,
    ),
    cmd(
        "start",
        &[
            "start <name>\t\tStart a process",
            "start <gname>:*\t\tStart all processes in a group",
            "start <name> <name>\tStart multiple processes or groups",
            "start all\t\tStart all processes",
            "start --no-wait <name> [...]\tSend the requests and return at once",
        ],
        control::start,
        Processes,
    )
    .flags(&["--no-wait"]),
    cmd(
        "status",
        &[
            "status <name>\t\tGet status for a single process",
            "status <gname>:*\tGet status for all processes in a group",
            "status <name> <name>\tGet status for multiple named processes",
            "status\t\t\tGet all process status info",
            "status --json [...]\tThe same as one JSON document (see supervisorctl(1))",
        ],
        status::status,
        Processes,
    )
    .flags(&["--json"]),
    cmd(
        "stop",
        &[
            "stop <name>\t\tStop a process",
            "stop <gname>:*\t\tStop all processes in a group",
            "stop <name> <name>\tStop multiple processes or groups",
            "stop all\t\tStop all processes",
            "stop --no-wait <name> [...]\tSend the requests and return at once",
        ],
        control::stop,
        Processes,
    )
    .flags(&["--no-wait"]),
    cmd(
        "tail",
        &[
            "tail [-f] <name> [stdout|stderr] (default stdout)",
            "Ex:",
            "tail -f <name>\t\tContinuous tail of named process stdout",
            "\t\t\tCtrl-C to exit.",
            "tail -100 <name>\tlast 100 *bytes* of process stdout",
            "tail <name> stderr\tlast 1600 *bytes* of process stderr",
        ],
        logs::tail,
        Processes,
    ),
    cmd(
        "update",
        &[
            "update\t\t\tReload config and add/remove as necessary, and will restart affected programs",
            "update all\t\tReload config and add/remove as necessary, and will restart affected programs",
            "update <gname> [...]\tUpdate specific groups",
            "update --dry-run [...]\tPrint what update would do, and do nothing",
        ],
        config::update,
        Groups,
    )
    .flags(&["--dry-run"]),
    cmd(
        "version",
        &["version\t\t\tShow the version of the remote supervisord process"],
        daemon::version,
        Nothing,
    ),
    Command {
        name: "EOF",
        help: &[],
        run: daemon::quit,
        complete: Nothing,
        listed: false,
        flags: &[],
    },
];

/// The command named exactly `name` (commands are case-sensitive).
pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// The argument string split on whitespace (commands do no quoting).
fn words(arg: &str) -> Vec<&str> {
    arg.split_whitespace().collect()
}

/// The words of `arg` without `command`'s flags, and whether each flag was given. A flag may
/// stand anywhere among the names; only the exact flag words are taken, so every other word
/// (even one starting with `-`) still means what it meant before flags existed.
fn flags_and_words<'a>(command: &str, arg: &'a str) -> (Vec<&'static str>, Vec<&'a str>) {
    let known = find(command).map_or(&[][..], |c| c.flags);
    let mut given = Vec::new();
    let mut rest = Vec::new();
    for w in arg.split_whitespace() {
        match known.iter().find(|f| **f == w) {
            Some(f) => given.push(*f),
            None => rest.push(w),
        }
    }
    (given, rest)
}

/// The server lists `method`: one of this project's extensions (a server without
/// `system.listMethods` has none).
fn has_method(ctl: &mut Controller, method: &str) -> Result<bool, CallError> {
    match ctl.call("system.listMethods", &[]) {
        Ok(v) => Ok(v
            .as_array()
            .is_some_and(|m| m.iter().any(|n| n.as_str() == Some(method)))),
        Err(CallError::Fault { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_complete() {
        let listed: Vec<&str> = COMMANDS
            .iter()
            .filter(|c| c.listed)
            .map(|c| c.name)
            .collect();
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(listed, sorted);
        for c in COMMANDS.iter().filter(|c| c.listed) {
            assert!(!c.help.is_empty(), "{} has no help", c.name);
        }
        assert!(find("status").is_some() && find("Status").is_none());
    }

    #[test]
    fn every_flag_is_in_its_help_and_the_man_page() {
        let man = include_str!("../../../man/supervisorctl.1").replace("\\-", "-");
        for c in COMMANDS {
            for flag in c.flags {
                assert!(
                    c.help
                        .iter()
                        .any(|l| l.split([' ', '\t']).any(|w| w == *flag)),
                    "help for {} does not mention {flag}",
                    c.name
                );
                assert!(
                    man.lines().any(|l| l.contains(c.name) && l.contains(flag)),
                    "supervisorctl.1 does not document {} {flag}",
                    c.name
                );
            }
        }
        assert_eq!(
            flags_and_words("status", "a --json -x --no-wait"),
            (vec!["--json"], vec!["a", "-x", "--no-wait"])
        );
        assert_eq!(flags_and_words("tail", "--json"), (vec![], vec!["--json"]));
    }

    #[test]
    fn man_page_documents_every_command() {
        let man = include_str!("../../../man/supervisorctl.1");
        for c in COMMANDS.iter().filter(|c| c.name != "EOF") {
            let documented = man.lines().any(|l| {
                (l.starts_with(".B") || l.starts_with(".TP"))
                    && l.split([' ', '"']).any(|w| w == c.name)
            });
            assert!(documented, "supervisorctl.1 does not document {}", c.name);
        }
    }
}
