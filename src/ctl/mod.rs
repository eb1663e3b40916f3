//! supervisorctl: the command-line client of supervisord (ctl.md). Options and config are
//! resolved here; commands run once (one-shot) or in the interactive shell.

pub mod client;
pub mod commands;
pub mod complete;
pub mod controller;
pub mod format;
pub mod http;
pub mod interrupt;
pub mod names;
pub mod options;
pub mod shell;
pub mod term;
pub mod url;

use crate::config::ctl::{read_ctl_config, CtlSection};
use crate::config::find_config_file;
use client::{Client, Server};
use controller::Controller;
use options::{Args, Parsed};
use std::path::PathBuf;

pub const DEFAULT_SERVERURL: &str = "http://localhost:9001";
pub const DEFAULT_PROMPT: &str = "supervisor";

/// Exit status of a usage error (bad option, bad config), as Supervisor's options code uses.
const USAGE_ERROR: i32 = 2;

fn usage_error(argv0: &str, message: &str) -> i32 {
    eprintln!("Error: {message}");
    eprintln!("For help, use {argv0} -h");
    USAGE_ERROR
}

/// The settings after command line > `[supervisorctl]` > defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub server: Server,
    pub prompt: String,
    pub history_file: Option<String>,
}

/// Merges the command line with the config file section (either may be absent).
pub fn settings(args: &Args, file: Option<CtlSection>) -> Settings {
    let file = file.unwrap_or_default();
    Settings {
        server: Server {
            url: args
                .serverurl
                .clone()
                .or(file.serverurl)
                .unwrap_or_else(|| DEFAULT_SERVERURL.to_string()),
            username: args.username.clone().or(file.username),
            password: args.password.clone().or(file.password),
        },
        prompt: file.prompt.unwrap_or_else(|| DEFAULT_PROMPT.to_string()),
        history_file: args.history_file.clone().or(file.history_file),
    }
}

/// Finds and reads the config file: Ok(None) when there is none (every default applies).
fn load_config(argv0: &str, args: &Args) -> Result<Option<CtlSection>, String> {
    let path = match &args.configuration {
        Some(p) => PathBuf::from(p),
        None => match find_config_file(argv0) {
            Ok(p) => p,
            // No file at all is fine for supervisorctl (config.md §1.2).
            Err(_) => return Ok(None),
        },
    };
    match read_ctl_config(&path) {
        Ok(Some(section)) => Ok(Some(section)),
        // A file without the section is fatal as in 4.3, unless -s says where to go (T1).
        Ok(None) if args.serverurl.is_some() => Ok(None),
        Ok(None) => Err(".ini file does not include supervisorctl section".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs supervisorctl with the full argv; returns the exit status.
pub fn main(argv: Vec<String>) -> i32 {
    let argv0 = argv
        .first()
        .cloned()
        .unwrap_or_else(|| "supervisorctl".to_string());
    let args = match options::parse(argv.get(1..).unwrap_or_default()) {
        Ok(Parsed::Run(a)) => a,
        Ok(Parsed::Help) => {
            // Supervisor prints the text and a blank line.
            println!("{}", options::usage(&argv0));
            return 0;
        }
        Err(msg) => return usage_error(&argv0, &msg),
    };
    let file = match load_config(&argv0, &args) {
        Ok(f) => f,
        Err(msg) => return usage_error(&argv0, &msg),
    };
    for plugin in file.iter().flat_map(|f| &f.plugins) {
        eprintln!("Warning: [{plugin}] ignored: supervisorctl plugins are Python code and cannot be loaded");
    }
    let settings = settings(&args, file);
    let mut ctl = Controller::new(Client::new(settings.server));
    let line = args.action.join(" ");
    if !args.action.is_empty() && !args.interactive {
        ctl.run_line(&line);
        return ctl.exit;
    }
    shell::run(
        &mut ctl,
        shell::ShellOptions {
            prompt: settings.prompt,
            history_file: settings.history_file,
            first: (!args.action.is_empty()).then_some(line),
        },
    );
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_wins_over_file_over_defaults() {
        let args = Args {
            serverurl: Some("unix:///cli".into()),
            username: Some("cli".into()),
            ..Args::default()
        };
        let file = CtlSection {
            serverurl: Some("http://file:1".into()),
            username: Some("file".into()),
            password: Some("pw".into()),
            prompt: Some("p".into()),
            history_file: Some("/h".into()),
            plugins: Vec::new(),
        };
        let s = settings(&args, Some(file));
        assert_eq!(s.server.url, "unix:///cli");
        assert_eq!(s.server.username.as_deref(), Some("cli"));
        assert_eq!(s.server.password.as_deref(), Some("pw"));
        assert_eq!(
            (s.prompt.as_str(), s.history_file.as_deref()),
            ("p", Some("/h"))
        );
        let s = settings(&Args::default(), None);
        assert_eq!(s.server.url, DEFAULT_SERVERURL);
        assert_eq!(s.prompt, DEFAULT_PROMPT);
        assert_eq!(s.server.username, None);
    }
}
