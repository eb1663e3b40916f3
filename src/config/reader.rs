//! Reading keys of one section for validation: expansion with the right names, conversion, and
//! errors that name the file, line, section and key the value came from.

use std::borrow::Cow;
use std::fmt::Display;

use super::expand::{expand, Names, Val};
use super::ini::{Entry, Ini, Location, Section};
use super::ConfigError;
use crate::pyrepr::repr;
use std::rc::Rc;

/// The state shared by every section's validation.
pub struct Ctx<'a> {
    pub ini: &'a Ini,
    /// Absolute directory of the main config file (`%(here)s`).
    pub here: String,
    /// `%(host_node_name)s`.
    pub host: String,
    /// `ENV_*` names: supervisord's environment, plus `[supervisord] environment` once read.
    pub env: Names,
    /// WARN startup messages in the order they arise.
    pub warnings: Vec<String>,
}

impl<'a> Ctx<'a> {
    /// `ENV_*` plus the given extra names.
    pub fn names(&self, extra: &[(&str, Val)]) -> Names {
        let mut n = self.env.clone();
        for (k, v) in extra {
            n.insert((*k).to_string(), v.clone());
        }
        n
    }

    /// `ENV_*` plus `here`, the names most sections see.
    pub fn here_names(&self) -> Names {
        self.names(&[("here", Val::Str(self.here.clone()))])
    }

    /// A reader for one section; it borrows the parsed files, not the context, so warnings can
    /// be added while it is in use.
    pub fn section<'s>(&self, name: &'s str) -> Sec<'s>
    where
        'a: 's,
    {
        Sec::new(self.ini, name)
    }
}

/// Appends our location suffix to a message about a section.
pub fn located(msg: impl Display, section: &str, loc: &Location, key: Option<&str>) -> ConfigError {
    let key = key
        .map(|k| format!(", key: {}", repr(k)))
        .unwrap_or_default();
    ConfigError(format!(
        "{msg} in section {} (file: {}, line: {}{key})",
        repr(section),
        repr(&loc.file),
        loc.line
    ))
}

/// One section being validated.
#[derive(Clone, Copy)]
pub struct Sec<'a> {
    pub ini: &'a Ini,
    pub name: &'a str,
    /// Looked up once: a program's thirty-odd keys each hashed the section name before.
    section: Option<&'a Section>,
}

impl<'a> Sec<'a> {
    pub fn new(ini: &'a Ini, name: &'a str) -> Sec<'a> {
        Sec {
            ini,
            name,
            section: ini.section(name),
        }
    }

    pub fn entry(&self, key: &str) -> Option<&'a Entry> {
        self.ini.get_in(self.section, key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.entry(key).is_some()
    }

    /// Where the section header is (first appearance).
    pub fn header(&self) -> Location {
        self.section.map(|s| s.loc.clone()).unwrap_or(Location {
            file: Rc::from(""),
            line: 0,
        })
    }

    /// An error about `key` (located at its definition), or about the section as a whole when
    /// the key is `None` or not defined (located at the header, no key named).
    pub fn err(&self, key: Option<&str>, msg: impl Display) -> ConfigError {
        match key.and_then(|k| self.entry(k).map(|e| (k, e))) {
            Some((k, e)) => located(msg, self.name, &e.loc, Some(k)),
            None => located(msg, self.name, &self.header(), None),
        }
    }

    /// The first of `keys` that is defined, for errors that involve several keys.
    pub fn err_first(&self, keys: &[&str], msg: impl Display) -> ConfigError {
        let key = keys.iter().copied().find(|k| self.has(k));
        self.err(key, msg)
    }

    /// The value as written (no expansion).
    pub fn raw(&self, key: &str) -> Option<&'a str> {
        self.entry(key).map(|e| e.value.as_str())
    }

    /// The value expanded with `names` (errors say `section.key`).
    pub fn get(&self, key: &str, names: &Names) -> Result<Option<String>, ConfigError> {
        Ok(self.get_cow(key, names)?.map(Cow::into_owned))
    }

    /// `get`, borrowing the value when it has nothing to expand (most values, and the
    /// conversions only read them: one allocation less per key of every program).
    fn get_cow(&self, key: &str, names: &Names) -> Result<Option<Cow<'a, str>>, ConfigError> {
        match self.entry(key) {
            None => Ok(None),
            Some(e) if !e.value.contains('%') => Ok(Some(Cow::Borrowed(&e.value))),
            Some(e) => expand(&e.value, names, &format!("{}.{key}", self.name))
                .map(|v| Some(Cow::Owned(v)))
                .map_err(|m| located(m, self.name, &e.loc, Some(key))),
        }
    }

    /// Expanded value, or `default` (used verbatim) when the key is absent.
    pub fn get_or(&self, key: &str, default: &str, names: &Names) -> Result<String, ConfigError> {
        Ok(self.get(key, names)?.unwrap_or_else(|| default.to_string()))
    }

    /// Expanded and converted; a bad default (e.g. a missing temp dir) is reported at the header.
    pub fn conv<T>(
        &self,
        key: &str,
        default: &str,
        names: &Names,
        f: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        let v = self.get_cow(key, names)?;
        f(v.as_deref().unwrap_or(default)).map_err(|m| self.err(Some(key), m))
    }

    /// Expanded and converted when present.
    pub fn conv_opt<T>(
        &self,
        key: &str,
        names: &Names,
        f: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.get_cow(key, names)? {
            None => Ok(None),
            Some(v) => f(&v).map(Some).map_err(|m| self.err(Some(key), m)),
        }
    }

    /// Locates an error about the section itself (its name, a missing key) at its header.
    pub fn check_section<T>(&self, r: Result<T, String>) -> Result<T, ConfigError> {
        r.map_err(|m| self.err(None, m))
    }

    /// Runs `f` on an already-obtained string and locates its error at `key`.
    pub fn check<T>(&self, key: &str, r: Result<T, String>) -> Result<T, ConfigError> {
        r.map_err(|m| self.err(Some(key), m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::types::integer;

    fn ini() -> Ini {
        let mut ini = Ini::new();
        ini.read_str(
            "[DEFAULT]\nd=x\n[program:x]\n\nstartsecs=abc\nn=%(nope)s\n",
            "/c.conf",
        )
        .unwrap();
        ini
    }

    #[test]
    fn errors_name_file_line_section_key() {
        let ini = ini();
        let s = Sec::new(&ini, "program:x");
        let e = s
            .conv("startsecs", "1", &Names::new(), integer)
            .unwrap_err();
        assert_eq!(
            e.0,
            "invalid literal for int() with base 10: 'abc' in section 'program:x' \
             (file: '/c.conf', line: 5, key: 'startsecs')"
        );
        let e = s.err(Some("missing"), "boom");
        assert_eq!(
            e.0,
            "boom in section 'program:x' (file: '/c.conf', line: 3)"
        );
        let e = s.conv("d", "1", &Names::new(), integer).unwrap_err();
        assert!(
            e.0.ends_with("(file: '/c.conf', line: 2, key: 'd')"),
            "{}",
            e.0
        );
    }

    #[test]
    fn expansion_errors_are_located() {
        let ini = ini();
        let s = Sec::new(&ini, "program:x");
        let e = s.get("n", &Names::new()).unwrap_err();
        assert_eq!(
            e.0,
            "Format string '%(nope)s' for 'program:x.n' contains names ('nope') which cannot \
             be expanded. Available names:  in section 'program:x' (file: '/c.conf', line: 6, \
             key: 'n')"
        );
    }

    #[test]
    fn defaults_are_not_expanded() {
        let ini = ini();
        let s = Sec::new(&ini, "program:x");
        assert_eq!(s.get_or("absent", "%(x)s", &Names::new()).unwrap(), "%(x)s");
    }
}
