//! The interactive shell (ctl.md §6): a linefeed line editor when stdin is a terminal (prompt,
//! history kept in `history_file`, Ctrl-R search, tab completion), plain line reading
//! otherwise. Ctrl-C clears the line instead of leaving (T11); errors never leave the shell.

use super::complete::{candidates, NameCache, WORD_BREAK};
use super::controller::{Ask, Controller};
use super::interrupt;
use super::term::{self, Line};
use linefeed::complete::{Completer, Completion};
use linefeed::{DefaultTerminal, Interface, Prompter, ReadResult, Terminal};
use std::sync::{Arc, Mutex};

/// Shell settings.
pub struct ShellOptions {
    pub prompt: String,
    pub history_file: Option<String>,
    /// Run first instead of `status` (a command given together with `-i`, T2).
    pub first: Option<String>,
}

/// Runs the shell until quit/exit/EOF.
pub fn run(ctl: &mut Controller, opts: ShellOptions) {
    ctl.interactive = true;
    if let Err(e) = interrupt::enable() {
        ctl.say(&format!("error: cannot catch Ctrl-C: {e}"));
    }
    let editor = if term::stdin_is_tty() {
        Interface::new("supervisorctl").ok().map(Arc::new)
    } else {
        None
    };
    let prompt = format!("{}> ", opts.prompt);
    match editor {
        Some(iface) => run_editor(ctl, iface, &prompt, &opts),
        None => run_plain(ctl, &prompt, &opts),
    }
}

fn first_command(ctl: &mut Controller, opts: &ShellOptions) {
    ctl.run_line(opts.first.as_deref().unwrap_or("status"));
    interrupt::clear();
}

fn run_plain(ctl: &mut Controller, prompt: &str, opts: &ShellOptions) {
    ctl.asker = Some(Box::new(PlainAsk));
    first_command(ctl, opts);
    while !ctl.done {
        match term::prompt_line(prompt) {
            Ok(Line::Text(line)) => ctl.run_line(&line),
            Ok(Line::Interrupted) => ctl.say(""),
            Ok(Line::TimedOut) => {}
            Ok(Line::Eof) | Err(_) => {
                ctl.say("");
                break;
            }
        }
        interrupt::clear();
    }
}

fn run_editor(
    ctl: &mut Controller,
    iface: Arc<Interface<DefaultTerminal>>,
    prompt: &str,
    opts: &ShellOptions,
) {
    if let Some(h) = &opts.history_file {
        // A missing or unreadable history file is not worth a message (as in Supervisor).
        let _ = iface.load_history(h);
    }
    iface.lock_reader().set_word_break_chars(WORD_BREAK);
    let cache = NameCache::new(ctl.client.server.clone());
    iface.set_completer(Arc::new(ShellCompleter {
        cache: Arc::clone(&cache),
    }));
    ctl.asker = Some(Box::new(EditorAsk {
        iface: Arc::clone(&iface),
        prompt: prompt.to_string(),
    }));
    first_command(ctl, opts);
    while !ctl.done {
        cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .reset(&ctl.client.server);
        if iface.set_prompt(prompt).is_err() {
            break;
        }
        match iface.read_line() {
            Ok(ReadResult::Input(line)) => {
                if !line.trim().is_empty() {
                    iface.add_history(line.clone());
                    save_history(&iface, opts);
                }
                ctl.run_line(&line);
            }
            Ok(ReadResult::Signal(_)) => {}
            Ok(ReadResult::Eof) | Err(_) => {
                ctl.say("");
                break;
            }
        }
        interrupt::clear();
    }
    save_history(&iface, opts);
}

/// Written after every command, so a killed shell loses nothing; errors are ignored. A new
/// file is made readable by its owner only, as readline does: it lists commands and names.
fn save_history<T: Terminal>(iface: &Interface<T>, opts: &ShellOptions) {
    if let Some(h) = &opts.history_file {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(h);
        let _ = iface.save_history(h);
    }
}

struct ShellCompleter {
    cache: Arc<Mutex<NameCache>>,
}

impl<T: Terminal> Completer<T> for ShellCompleter {
    fn complete(
        &self,
        word: &str,
        prompter: &Prompter<T>,
        start: usize,
        _end: usize,
    ) -> Option<Vec<Completion>> {
        let line = prompter.buffer();
        let cache = &self.cache;
        let words = candidates(line, start, word, || {
            cache.lock().unwrap_or_else(|e| e.into_inner()).names()
        });
        Some(words.into_iter().map(Completion::simple).collect())
    }
}

/// Questions in the line editor: the answer is read with the editor, then the prompt restored.
struct EditorAsk {
    iface: Arc<Interface<DefaultTerminal>>,
    prompt: String,
}

impl Ask for EditorAsk {
    fn ask(&mut self, question: &str) -> Option<String> {
        self.iface.set_prompt(question).ok()?;
        let answer = match self.iface.read_line() {
            Ok(ReadResult::Input(a)) => Some(a),
            _ => None,
        };
        let _ = self.iface.set_prompt(&self.prompt);
        answer
    }

    fn ask_secret(&mut self, question: &str) -> Option<String> {
        PlainAsk.ask_secret(question)
    }
}

/// Questions without a line editor.
struct PlainAsk;

impl Ask for PlainAsk {
    fn ask(&mut self, question: &str) -> Option<String> {
        match term::prompt_line(question) {
            Ok(Line::Text(a)) => Some(a),
            _ => None,
        }
    }

    fn ask_secret(&mut self, question: &str) -> Option<String> {
        match term::prompt_secret(question) {
            Ok(Line::Text(a)) => Some(a),
            _ => None,
        }
    }
}
