//! Python `%`-formatting of config values against a name → value map (`%(here)s`,
//! `%(process_num)02d`, `%%`), with Supervisor's error texts (config.md §3.1). One deliberate
//! difference: a conversion without a mapping key (`%s`) is an error, where 4.3 would insert
//! the repr of the whole name map (leaking every `ENV_*` into e.g. a command line).

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::pyrepr::{ascii, repr};

/// A value an expansion name stands for: `process_num` and `numprocs` are integers, the rest
/// strings (so `%(program_name)d` is an error, as in Python).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Str(String),
    Int(i64),
}

/// The names available to one value: a shared base (the `ENV_*` names, the same for every
/// section) and a few names of this value's own on top, which win. Every program used to
/// copy the whole environment two or three times over; now a copy shares the base.
#[derive(Debug, Clone, Default)]
pub struct Names {
    base: Rc<BTreeMap<String, Val>>,
    /// Names shared by a family of copies (a program's own, for each of its processes).
    mid: Rc<Vec<(String, Val)>>,
    own: Vec<(String, Val)>,
}

impl Names {
    pub fn new() -> Names {
        Names::default()
    }

    /// Sets `key`, replacing an earlier value.
    pub fn insert(&mut self, key: String, val: Val) {
        match self.own.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = val,
            None => self.own.push((key, val)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Val> {
        fn find<'v>(layer: &'v [(String, Val)], key: &str) -> Option<&'v Val> {
            layer.iter().find(|(k, _)| k == key).map(|(_, v)| v)
        }
        find(&self.own, key)
            .or_else(|| find(&self.mid, key))
            .or_else(|| self.base.get(key))
    }

    /// Every name, sorted and once (error messages list them).
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.base.keys().map(String::as_str).collect();
        keys.extend(self.mid.iter().map(|(k, _)| k.as_str()));
        keys.extend(self.own.iter().map(|(k, _)| k.as_str()));
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// The same names with the own ones moved into a new shared base: for a set that all
    /// the others are made from (the `ENV_*` names with `[supervisord] environment`).
    pub fn shared(&self) -> Names {
        if self.own.is_empty() && self.mid.is_empty() {
            return self.clone();
        }
        let mut base = (*self.base).clone();
        for (k, v) in self.mid.iter().chain(&self.own) {
            base.insert(k.clone(), v.clone());
        }
        Names {
            base: Rc::new(base),
            mid: Rc::default(),
            own: Vec::new(),
        }
    }

    /// The same names with the own ones moved into a shared middle layer: for a program's
    /// names, copied once per process (a copy then costs no allocation).
    pub fn layered(&self) -> Names {
        let mut mid: Vec<(String, Val)> = (*self.mid).clone();
        for (k, v) in &self.own {
            match mid.iter_mut().find(|(m, _)| m == k) {
                Some(slot) => slot.1 = v.clone(),
                None => mid.push((k.clone(), v.clone())),
            }
        }
        Names {
            base: Rc::clone(&self.base),
            mid: Rc::new(mid),
            own: Vec::new(),
        }
    }
}

impl FromIterator<(String, Val)> for Names {
    fn from_iter<I: IntoIterator<Item = (String, Val)>>(iter: I) -> Names {
        Names {
            base: Rc::new(iter.into_iter().collect()),
            mid: Rc::default(),
            own: Vec::new(),
        }
    }
}

/// Expands `s`; `what` names the value in errors (`program:x.command`, `environment`).
pub fn expand(s: &str, names: &Names, what: &str) -> Result<String, String> {
    if !s.contains('%') {
        // Most values name nothing: `format` would only copy them.
        return Ok(s.to_string());
    }
    format(s, names).map_err(|e| match e {
        FormatError::UnknownName(name) => {
            let available = names.keys();
            format!(
                "Format string {} for {} contains names ({}) which cannot be expanded. \
                 Available names: {}",
                repr(s),
                repr(what),
                repr(&name),
                available.join(", ")
            )
        }
        FormatError::Bad(msg) => format!(
            "Format string {} for {} is badly formatted: {msg}",
            repr(s),
            repr(what)
        ),
    })
}

#[derive(Debug, PartialEq, Eq)]
enum FormatError {
    UnknownName(String),
    Bad(String),
}

fn bad<T>(msg: impl Into<String>) -> Result<T, FormatError> {
    Err(FormatError::Bad(msg.into()))
}

#[derive(Default)]
struct Spec {
    left: bool,
    sign: bool,
    blank: bool,
    alt: bool,
    zero: bool,
    width: usize,
    prec: Option<usize>,
}

/// The `%` operator with a mapping on the right, following CPython's parser step by step so the
/// same input fails with the same message.
fn format(s: &str, names: &Names) -> Result<String, FormatError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        // Mapping key: parentheses nest, as in CPython.
        let mut arg = None;
        if chars.get(i) == Some(&'(') {
            let start = i + 1;
            let mut depth = 1;
            let mut j = start;
            while depth > 0 && j < chars.len() {
                match chars[j] {
                    ')' => depth -= 1,
                    '(' => depth += 1,
                    _ => {}
                }
                j += 1;
            }
            if depth > 0 {
                return bad("incomplete format key");
            }
            let key: String = chars[start..j - 1].iter().collect();
            match names.get(&key) {
                Some(v) => arg = Some(v),
                None => return Err(FormatError::UnknownName(key)),
            }
            i = j;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.get(i) {
            match f {
                '-' => spec.left = true,
                '+' => spec.sign = true,
                ' ' => spec.blank = true,
                '#' => spec.alt = true,
                '0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        if chars.get(i) == Some(&'*') {
            return bad("* wants int");
        }
        spec.width = read_number(&chars, &mut i, "width too big")?;
        if chars.get(i) == Some(&'.') {
            i += 1;
            if chars.get(i) == Some(&'*') {
                return bad("* wants int");
            }
            spec.prec = Some(read_number(&chars, &mut i, "precision too big")?);
        }
        if matches!(chars.get(i), Some('h' | 'l' | 'L')) {
            i += 1;
        }
        let Some(&conv) = chars.get(i) else {
            return bad("incomplete format");
        };
        i += 1;
        if !"diouxXeEfFgGcrsa".contains(conv) {
            let shown = if (' '..='~').contains(&conv) {
                conv
            } else {
                '?'
            };
            return bad(format!(
                "unsupported format character '{shown}' ({:#x}) at index {}",
                conv as u32,
                i - 1
            ));
        }
        let Some(arg) = arg else {
            return bad(format!(
                "format requires a mapping key: '%{conv}' at index {} has none (write %% for a \
                 literal %)",
                i - 1
            ));
        };
        out.push_str(&convert(arg, conv, &spec)?);
    }
    // Most results are kept in the configuration (process names, commands): without the
    // room reserved for the unexpanded text (`%(program_name)s` for `p1`).
    out.shrink_to_fit();
    Ok(out)
}

fn read_number(chars: &[char], i: &mut usize, too_big: &str) -> Result<usize, FormatError> {
    let mut n: usize = 0;
    while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
        n = match n.checked_mul(10).and_then(|n| n.checked_add(d as usize)) {
            Some(n) if n <= i32::MAX as usize => n,
            _ => return bad(too_big),
        };
        *i += 1;
    }
    Ok(n)
}

/// Applies one conversion to one value.
fn convert(arg: &Val, conv: char, spec: &Spec) -> Result<String, FormatError> {
    match conv {
        's' | 'r' | 'a' => {
            let text = match (arg, conv) {
                (Val::Str(s), 's') => s.clone(),
                (Val::Str(s), 'r') => repr(s),
                (Val::Str(s), _) => ascii(s),
                (Val::Int(n), _) => n.to_string(),
            };
            let text = match spec.prec {
                Some(p) => text.chars().take(p).collect(),
                None => text,
            };
            Ok(pad(String::new(), text, spec, false))
        }
        'c' => {
            let ch = match arg {
                Val::Str(s) if s.chars().count() == 1 => s.chars().next(),
                Val::Str(_) => return bad("%c requires int or char"),
                Val::Int(n) => match u32::try_from(*n).ok().filter(|n| *n < 0x110000) {
                    Some(n) => char::from_u32(n).or(Some('\u{fffd}')),
                    None => return bad("%c arg not in range(0x110000)"),
                },
            };
            Ok(pad(
                String::new(),
                ch.map(String::from).unwrap_or_default(),
                spec,
                false,
            ))
        }
        'd' | 'i' | 'u' | 'o' | 'x' | 'X' => {
            let n = match arg {
                Val::Int(n) => *n,
                Val::Str(_) if matches!(conv, 'd' | 'i' | 'u') => {
                    return bad(format!(
                        "%{conv} format: a real number is required, not str"
                    ))
                }
                Val::Str(_) => {
                    return bad(format!("%{conv} format: an integer is required, not str"))
                }
            };
            let magnitude = n.unsigned_abs();
            let mut digits = match conv {
                'o' => format!("{magnitude:o}"),
                'x' => format!("{magnitude:x}"),
                'X' => format!("{magnitude:X}"),
                _ => magnitude.to_string(),
            };
            if let Some(p) = spec.prec {
                if digits.len() < p {
                    digits = format!("{}{digits}", "0".repeat(p - digits.len()));
                }
            }
            let mut prefix = sign_prefix(n < 0, spec);
            if spec.alt {
                match conv {
                    'o' => prefix.push_str("0o"),
                    'x' => prefix.push_str("0x"),
                    'X' => prefix.push_str("0X"),
                    _ => {}
                }
            }
            Ok(pad(prefix, digits, spec, true))
        }
        _ => {
            let Val::Int(n) = arg else {
                return bad("must be real number, not str");
            };
            let v = *n as f64;
            let prec = spec.prec.unwrap_or(6);
            let body = match conv {
                'f' | 'F' => format!("{:.*}", prec, v.abs()),
                'e' | 'E' => exp_format(v.abs(), prec, conv == 'E'),
                _ => general_format(v.abs(), prec, spec.alt, conv == 'G'),
            };
            Ok(pad(sign_prefix(v < 0.0, spec), body, spec, true))
        }
    }
}

fn sign_prefix(negative: bool, spec: &Spec) -> String {
    if negative {
        "-".into()
    } else if spec.sign {
        "+".into()
    } else if spec.blank {
        " ".into()
    } else {
        String::new()
    }
}

/// Pads to the width: left-justified with `-`, zero-filled after the sign for numbers with `0`.
fn pad(prefix: String, body: String, spec: &Spec, numeric: bool) -> String {
    let len = prefix.chars().count() + body.chars().count();
    if len >= spec.width {
        return prefix + &body;
    }
    let fill = spec.width - len;
    if spec.left {
        format!("{prefix}{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        format!("{prefix}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{prefix}{body}", " ".repeat(fill))
    }
}

/// `%e`: mantissa with `prec` decimals, exponent with a sign and at least two digits.
fn exp_format(v: f64, prec: usize, upper: bool) -> String {
    let s = format!("{:.*e}", prec, v);
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}{e}{sign}{:02}", exp.abs())
}

/// `%g`: `%e` or `%f` depending on the exponent, trailing zeros removed unless `#`.
fn general_format(v: f64, prec: usize, alt: bool, upper: bool) -> String {
    let p = prec.max(1);
    let exp = if v == 0.0 {
        0
    } else {
        let s = format!("{:.*e}", p - 1, v);
        s.split_once('e')
            .and_then(|(_, e)| e.parse::<i32>().ok())
            .unwrap_or(0)
    };
    let mut s = if exp < -4 || exp >= p as i32 {
        exp_format(v, p - 1, upper)
    } else {
        format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, v)
    };
    if !alt {
        let (num, tail) = match s.find(['e', 'E']) {
            Some(k) => (s[..k].to_string(), s[k..].to_string()),
            None => (s.clone(), String::new()),
        };
        let num = if num.contains('.') {
            num.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            num
        };
        s = num + &tail;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let mut n = Names::new();
        n.insert("here".into(), Val::Str("/etc/sv".into()));
        n.insert("program_name".into(), Val::Str("web".into()));
        n.insert("process_num".into(), Val::Int(7));
        n.insert("numprocs".into(), Val::Int(12));
        n.insert("ENV_HOME".into(), Val::Str("/root".into()));
        n
    }

    fn ok(s: &str) -> String {
        expand(s, &names(), "program:web.command").unwrap()
    }

    fn err(s: &str) -> String {
        expand(s, &names(), "program:web.command").unwrap_err()
    }

    #[test]
    fn plain_and_named() {
        assert_eq!(ok("no format"), "no format");
        assert_eq!(ok("%(here)s/x"), "/etc/sv/x");
        assert_eq!(ok("%(program_name)s_%(process_num)s"), "web_7");
        assert_eq!(ok("%(ENV_HOME)s"), "/root");
        assert_eq!(ok("100%%"), "100%");
        assert_eq!(ok("%%(here)s"), "%(here)s");
    }

    #[test]
    fn integer_conversions() {
        assert_eq!(ok("%(process_num)02d"), "07");
        assert_eq!(ok("%(numprocs)x"), "c");
        assert_eq!(ok("%(numprocs)X"), "C");
        assert_eq!(ok("%(numprocs)#x"), "0xc");
        assert_eq!(ok("%(numprocs)#o"), "0o14");
        assert_eq!(ok("%(numprocs)o"), "14");
        assert_eq!(ok("%(process_num)+d"), "+7");
        assert_eq!(ok("%(process_num) d"), " 7");
        assert_eq!(ok("%(process_num)-3d|"), "7  |");
        assert_eq!(ok("%(process_num)3d"), "  7");
        assert_eq!(ok("%(process_num).3d"), "007");
        assert_eq!(ok("%(process_num)ld"), "7");
        assert_eq!(ok("%(process_num)i %(process_num)u"), "7 7");
        assert_eq!(ok("%(process_num)s"), "7");
        assert_eq!(ok("%(process_num)r"), "7");
        assert_eq!(ok("%(numprocs)c"), "\u{c}");
    }

    #[test]
    fn float_conversions() {
        assert_eq!(ok("%(process_num)f"), "7.000000");
        assert_eq!(ok("%(process_num).1f"), "7.0");
        assert_eq!(ok("%(process_num)e"), "7.000000e+00");
        assert_eq!(ok("%(numprocs).2E"), "1.20E+01");
        assert_eq!(ok("%(process_num)g"), "7");
        assert_eq!(ok("%(numprocs)#g"), "12.0000");
        assert_eq!(ok("%(process_num)06.2f"), "007.00");
    }

    #[test]
    fn string_conversions() {
        assert_eq!(ok("%(program_name)r"), "'web'");
        assert_eq!(ok("%(program_name)a"), "'web'");
        assert_eq!(ok("%(program_name)5s|"), "  web|");
        assert_eq!(ok("%(program_name)-5s|"), "web  |");
        assert_eq!(ok("%(program_name)05s|"), "  web|");
        assert_eq!(ok("%(program_name).2s"), "we");
    }

    #[test]
    fn unknown_name_lists_available_names() {
        assert_eq!(
            err("x %(nope)s"),
            "Format string 'x %(nope)s' for 'program:web.command' contains names ('nope') \
             which cannot be expanded. Available names: ENV_HOME, here, numprocs, process_num, \
             program_name"
        );
    }

    #[test]
    fn badly_formatted() {
        assert_eq!(
            err("100%"),
            "Format string '100%' for 'program:web.command' is badly formatted: incomplete format"
        );
        assert_eq!(
            err("/bin/x %(here)b"),
            "Format string '/bin/x %(here)b' for 'program:web.command' is badly formatted: \
             unsupported format character 'b' (0x62) at index 14"
        );
        assert!(err("%(here").ends_with("badly formatted: incomplete format key"));
        assert!(err("%(program_name)d")
            .ends_with("badly formatted: %d format: a real number is required, not str"));
        assert!(err("%(here)x").ends_with("%x format: an integer is required, not str"));
        assert!(err("%(here)f").ends_with("must be real number, not str"));
        assert!(err("%(here)c").ends_with("%c requires int or char"));
        assert!(err("%(here)*d").ends_with("* wants int"));
        assert!(err("%(process_num)5").ends_with("incomplete format"));
        assert!(err("a %\u{e9}").contains("unsupported format character '?' (0xe9) at index 3"));
    }

    #[test]
    fn unkeyed_conversion_is_an_error() {
        let e = err("/bin/echo %s");
        assert!(
            e.starts_with(
                "Format string '/bin/echo %s' for 'program:web.command' is badly formatted: \
             format requires a mapping key"
            ),
            "{e}"
        );
        assert!(err("date +%d").contains("format requires a mapping key"));
        // An invalid character is reported as such even without a key, like Python.
        assert!(err("%y").contains("unsupported format character 'y' (0x79) at index 1"));
    }

    #[test]
    fn nested_parentheses_in_key() {
        let mut n = names();
        n.insert("a(b)".into(), Val::Str("ok".into()));
        assert_eq!(expand("%(a(b))s", &n, "k").unwrap(), "ok");
    }
}
