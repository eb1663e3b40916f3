//! `help` and `help <topic>` (ctl.md §4 help): the command list laid out like Python's `cmd`
//! module, and each command's help text.

use super::{find, COMMANDS};
use crate::ctl::client::CallError;
use crate::ctl::controller::Controller;
use crate::ctl::format::columnize;

const HEADER: &str = "default commands (type help <topic>):";

pub fn help(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !arg.is_empty() {
        // `help <topic>` looks at the whole argument, as cmd.Cmd does.
        match find(arg).filter(|c| !c.help.is_empty()) {
            Some(_) => print_help(ctl, arg),
            None => ctl.say(&format!("*** No help on {arg}")),
        }
        return Ok(());
    }
    let names: Vec<&str> = COMMANDS
        .iter()
        .filter(|c| c.listed)
        .map(|c| c.name)
        .collect();
    let mut text = vec![String::new(), HEADER.to_string(), "=".repeat(HEADER.len())];
    // cmd.Cmd lays out for 80 columns minus one.
    text.extend(columnize(&names, 79));
    text.push(String::new());
    ctl.say(&text.join("\n"));
    Ok(())
}

/// Prints a command's help text (nothing for an unknown command).
pub fn print_help(ctl: &mut Controller, command: &str) {
    if let Some(c) = find(command) {
        ctl.say(&c.help.join("\n"));
    }
}
