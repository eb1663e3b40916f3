//! INI reading with the exact rules of Python 3's `configparser.RawConfigParser` as Supervisor
//! configures it (config.md §2): `=`/`:` delimiters, `#`/`;` comments, indentation-based
//! continuation lines, `[DEFAULT]`, merged duplicate sections. Every value remembers the file
//! and line of its key so later errors can point at it.

use super::ConfigError;
use crate::pyrepr::{is_space, repr, strip};
use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

/// Where something was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file name as it was given to the parser (one shared copy per file, not per key).
    pub file: Rc<str>,
    /// 1-based line number (of the key line for multi-line values).
    pub line: usize,
}

/// One key's raw value (multi-line values joined with `\n`, trailing whitespace removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: String,
    pub loc: Location,
}

/// A section: its keys in first-definition order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Verbatim text between the brackets.
    pub name: String,
    /// Where the section's first header is.
    pub loc: Location,
    /// Later headers of the same name, whose keys were merged into this section.
    pub repeats: Vec<Location>,
    entries: Vec<(String, Entry)>,
}

impl Section {
    /// The section's own keys (not `[DEFAULT]`'s), in order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(k, e)| (k.as_str(), e))
    }

    fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, e)| e)
    }
}

/// Sets `key` (keeping its position if it already exists, like a Python dict); its index.
fn set(entries: &mut Vec<(String, Entry)>, key: String, entry: Entry) -> usize {
    match entries.iter().position(|(k, _)| *k == key) {
        Some(i) => {
            entries[i].1 = entry;
            i
        }
        None => {
            entries.push((key, entry));
            entries.len() - 1
        }
    }
}

/// The parsed content of one or more files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    sections: Vec<Section>,
    defaults: Vec<(String, Entry)>,
    /// Section name -> index in `sections`: every key read looks its section up, so a
    /// scan here made loading 10,000 programs quadratic.
    index: HashMap<String, usize>,
    /// Sections a file opened since the last `replace_here`, and whether it opened
    /// `[DEFAULT]`: only those can hold a `%(here)s` that is not replaced yet.
    touched: Vec<usize>,
    defaults_touched: bool,
}

/// Which table the parser is currently filling.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Defaults,
    Section(usize),
}

impl Ini {
    pub fn new() -> Ini {
        Ini::default()
    }

    /// Sections in order of first appearance (`[DEFAULT]` excluded).
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.index.get(name).map(|&i| &self.sections[i])
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.section(name).is_some()
    }

    /// `[DEFAULT]`'s keys.
    pub fn defaults(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.defaults.iter().map(|(k, e)| (k.as_str(), e))
    }

    /// A key of a section, falling back to `[DEFAULT]` (`key` must be lower case).
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        self.get_in(self.section(section), key)
    }

    /// `get` for a section already looked up (or absent).
    pub fn get_in<'s>(&'s self, section: Option<&'s Section>, key: &str) -> Option<&'s Entry> {
        let own = section.and_then(|s| s.get(key));
        own.or_else(|| self.defaults.iter().find(|(k, _)| k == key).map(|(_, e)| e))
    }

    /// Every key visible in a section: its own, then `[DEFAULT]`'s not overridden.
    pub fn options(&self, section: &str) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .section(section)
            .map(|s| s.entries.iter().map(|(k, _)| k.as_str()).collect())
            .unwrap_or_default();
        for (k, _) in &self.defaults {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
        keys
    }

    /// Supervisor's `expand_here`: textual replacement of `%(here)s` in every value visible in
    /// every section. A `[DEFAULT]` value is copied into the section it is replaced in (so later
    /// files still see the raw default), as Python's `set()` does.
    ///
    /// Python scans every section after every included file, which is quadratic with one file
    /// per program. Only the sections the last file opened can change here: every other one
    /// was scanned before, so its own values hold no `%(here)s` any more and it already has its
    /// copy of each `%(here)s` default, unless that file changed `[DEFAULT]` (then all are).
    pub fn replace_here(&mut self, here: &str) {
        let mut which = std::mem::take(&mut self.touched);
        if std::mem::take(&mut self.defaults_touched) {
            which = (0..self.sections.len()).collect();
        } else {
            which.sort_unstable();
            which.dedup();
        }
        for i in which {
            self.replace_here_in(i, here);
        }
    }

    fn replace_here_in(&mut self, i: usize, here: &str) {
        const HERE: &str = "%(here)s";
        let name = self.sections[i].name.clone();
        let keys: Vec<String> = self
            .options(&name)
            .into_iter()
            .map(str::to_string)
            .collect();
        for key in keys {
            let Some(entry) = self.get(&name, &key) else {
                continue;
            };
            if entry.value.contains(HERE) {
                let replaced = Entry {
                    value: entry.value.replace(HERE, here),
                    loc: entry.loc.clone(),
                };
                set(&mut self.sections[i].entries, key, replaced);
            }
        }
    }

    /// Parses one file's text into this parser (`file` is the name used in errors/locations).
    /// Bad option lines are collected and reported together; a line before any section header
    /// stops parsing at once. Values already read stay merged even when an error is returned.
    pub fn read_str(&mut self, text: &str, file: &str) -> Result<(), ConfigError> {
        let mut target: Option<Target> = None;
        // The open key, as its index in the target's entries (set() keeps positions).
        let mut key: Option<usize> = None;
        let mut indent_level = 0usize;
        let mut errors: Vec<(usize, String)> = Vec::new();

        let text = universal_newlines(text);
        let file_name: Rc<str> = Rc::from(file);
        for (idx, line) in text.split_inclusive('\n').enumerate() {
            let lineno = idx + 1;
            let comment_start = comment_start(line);
            let value = strip(&line[..comment_start.unwrap_or(line.len())]);
            if value.is_empty() {
                // A truly blank line continues a multi-line value; comment lines do not.
                if comment_start.is_none() {
                    if let (Some(t), Some(k)) = (target, key) {
                        if let Some(e) = self.entry_in(t, k) {
                            e.value.push('\n');
                        }
                    }
                }
                continue;
            }
            let cur_indent = line.chars().take_while(|c| is_space(*c)).count();
            if let (Some(t), Some(k)) = (target, key) {
                if cur_indent > indent_level {
                    if let Some(e) = self.entry_in(t, k) {
                        e.value.push('\n');
                        e.value.push_str(value);
                    }
                    continue;
                }
            }
            indent_level = cur_indent;
            let loc = Location {
                file: Rc::clone(&file_name),
                line: lineno,
            };
            if let Some(name) = section_header(value) {
                target = Some(self.open_section(name, loc));
                key = None;
            } else if let Some(t) = target {
                match split_option(value) {
                    Some((k, v)) if !k.is_empty() => {
                        let k = k.to_lowercase();
                        let entry = Entry {
                            value: v.to_string(),
                            loc,
                        };
                        key = Some(match t {
                            Target::Defaults => set(&mut self.defaults, k, entry),
                            Target::Section(i) => set(&mut self.sections[i].entries, k, entry),
                        });
                    }
                    Some(_) => {
                        // An empty key is an error, and (as in Python) ends the open value.
                        errors.push((lineno, repr(line)));
                        key = None;
                    }
                    None => errors.push((lineno, repr(line))),
                }
            } else {
                return Err(ConfigError(format!(
                    "File contains no section headers.\nfile: {}, line: {}\n{}",
                    repr(file),
                    lineno,
                    repr(line)
                )));
            }
        }
        self.rstrip_values();
        if errors.is_empty() {
            return Ok(());
        }
        let mut msg = format!("Source contains parsing errors: {}", repr(file));
        for (lineno, line) in errors {
            msg.push_str(&format!("\n\t[line {lineno:2}]: {line}"));
        }
        Err(ConfigError(msg))
    }

    /// Adds a section that no file wrote (Python's `add_section`); nothing if it exists.
    pub fn add_section(&mut self, name: &str, loc: Location) {
        if !self.has_section(name) {
            self.open_section(name, loc);
        }
    }

    /// Sets a key as Python's `set` does (the key lower-cased, the value as it is), adding the
    /// section if needed (not a repeated header: nothing is merged).
    pub fn set(&mut self, section: &str, key: &str, value: &str, loc: Location) {
        self.add_section(section, loc.clone());
        let entry = Entry {
            value: value.to_string(),
            loc,
        };
        let key = key.to_lowercase();
        if section == "DEFAULT" {
            set(&mut self.defaults, key, entry);
        } else if let Some(&i) = self.index.get(section) {
            set(&mut self.sections[i].entries, key, entry);
        }
    }

    fn open_section(&mut self, name: &str, loc: Location) -> Target {
        if name == "DEFAULT" {
            self.defaults_touched = true;
            return Target::Defaults;
        }
        let i = match self.index.get(name) {
            Some(&i) => {
                self.sections[i].repeats.push(loc);
                i
            }
            None => {
                self.sections.push(Section {
                    name: name.to_string(),
                    loc,
                    repeats: Vec::new(),
                    entries: Vec::new(),
                });
                let i = self.sections.len() - 1;
                self.index.insert(name.to_string(), i);
                i
            }
        };
        self.touched.push(i);
        Target::Section(i)
    }

    fn entry_in(&mut self, t: Target, key: usize) -> Option<&mut Entry> {
        let entries = match t {
            Target::Defaults => &mut self.defaults,
            Target::Section(i) => &mut self.sections.get_mut(i)?.entries,
        };
        entries.get_mut(key).map(|(_, e)| e)
    }

    /// Python joins multi-line values and `rstrip`s them after each file. Values of sections
    /// the file did not open are stripped already (and there may be thousands of them).
    fn rstrip_values(&mut self) {
        fn rstrip(entries: &mut [(String, Entry)]) {
            for (_, e) in entries {
                let trimmed = e.value.trim_end_matches(is_space).len();
                e.value.truncate(trimmed);
            }
        }
        for &i in &self.touched {
            rstrip(&mut self.sections[i].entries);
        }
        if self.defaults_touched {
            rstrip(&mut self.defaults);
        }
    }
}

/// Line ends the way Python's universal-newline reading sees them: `\r\n` and `\r` become
/// `\n`. Lines then split after each `\n` and keep it, for error reprs. Borrowed when there is
/// no `\r` (the usual case), so that lines are slices of the file rather than copies.
fn universal_newlines(text: &str) -> Cow<'_, str> {
    if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Byte offset where the line's comment starts, if any. Inline `;`/`#` count only at the start
/// of the line or after whitespace. Python looks at occurrences in rounds (1st `;` and 1st `#`,
/// then the 2nd of each, ...) and stops at the first round with a qualifying one, so in
/// `a#b #c ;d` the comment is ` ;d`. A line whose stripped text starts with `#`/`;` is all comment.
fn comment_start(line: &str) -> Option<usize> {
    let stripped = strip(line);
    if stripped.starts_with('#') || stripped.starts_with(';') {
        return Some(0);
    }
    let qualifies = |i: usize| i == 0 || line[..i].chars().next_back().is_some_and(is_space);
    let mut next = [(';', Some(0)), ('#', Some(0))];
    loop {
        let mut best: Option<usize> = None;
        let mut any = false;
        for (prefix, from) in next.iter_mut() {
            let Some(start) = *from else { continue };
            match line[start..].find(*prefix).map(|i| i + start) {
                None => *from = None,
                Some(i) => {
                    any = true;
                    *from = Some(i + 1);
                    if qualifies(i) {
                        best = Some(best.map_or(i, |b: usize| b.min(i)));
                    }
                }
            }
        }
        if best.is_some() || !any {
            return best;
        }
    }
}

/// `^\[(?P<header>.+)\]`: from the first `[` to the last `]`, verbatim.
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    let name = &rest[..end];
    // `.` does not match a newline; values never contain one here, but keep the regex's rule.
    (!name.is_empty() && !name.contains('\n')).then_some(name)
}

/// `(?P<option>.*?)\s*(=|:)\s*(?P<value>.*)$`: key before the first `=` or `:`.
fn split_option(value: &str) -> Option<(&str, &str)> {
    let i = value.find(['=', ':'])?;
    let key = value[..i].trim_end_matches(is_space);
    let val = strip(&value[i + 1..]);
    Some((key, val))
}

#[cfg(test)]
mod tests;
