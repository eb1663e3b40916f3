//! `environment=` values (`KEY=value,KEY2="value 2"`) read with Supervisor 4.3's legacy
//! `shlex` tokenizer, so the forms 4.3 accepts give the same result; where 4.3 would silently
//! truncate a value (README C10) this reports an error naming the variable instead.

use crate::pyrepr::repr;

/// A token of 4.3's tokenizer (legacy, non-POSIX `shlex` with `/.+-():` added to the word
/// characters); quoted tokens keep their quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    /// Char index where the token starts in the value.
    start: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '+' | '-' | '(' | ')' | ':')
}

fn is_shlex_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Splits like `shlex.shlex(value)` in non-POSIX mode. Returns the tokens and the position of
/// the first unquoted `#` (a comment that silently swallows the rest of its line in 4.3).
fn env_tokens(s: &str) -> Result<(Vec<Token>, Option<usize>), String> {
    let chars: Vec<char> = s.chars().collect();
    let mut tokens = Vec::new();
    let mut comment = None;
    let mut i = 0;
    // Skips a comment up to and including the end of its line.
    let skip_line = |i: &mut usize| {
        while *i < chars.len() && chars[*i] != '\n' {
            *i += 1;
        }
        *i += 1;
    };
    while i < chars.len() {
        let c = chars[i];
        if is_shlex_space(c) {
            i += 1;
        } else if c == '#' {
            comment.get_or_insert(i);
            skip_line(&mut i);
        } else if c == '\'' || c == '"' {
            let start = i;
            let mut text = String::from(c);
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("No closing quotation".to_string()),
                    Some(&q) if q == c => {
                        text.push(q);
                        i += 1;
                        break;
                    }
                    Some(&o) => {
                        text.push(o);
                        i += 1;
                    }
                }
            }
            tokens.push(Token { text, start });
        } else if is_word_char(c) {
            let start = i;
            let mut text = String::new();
            while i < chars.len() {
                let d = chars[i];
                if is_word_char(d) || d == '\'' || d == '"' {
                    text.push(d);
                    i += 1;
                } else if d == '#' {
                    // Legacy shlex drops the rest of the line but keeps building the word.
                    comment.get_or_insert(i);
                    skip_line(&mut i);
                } else {
                    break;
                }
            }
            tokens.push(Token { text, start });
        } else {
            tokens.push(Token {
                text: c.to_string(),
                start: i,
            });
            i += 1;
        }
    }
    Ok((tokens, comment))
}

/// `dict_of_key_value_pairs`: `KEY=value,KEY2="value 2"` with 4.3's tokenizer. Where 4.3 would
/// silently truncate a value (`A=$HOME` gives `$`, `A=x y` gives `x`, `A=a#b` gives `a`), this
/// reports an error naming the variable instead. Later duplicates replace earlier values in place.
pub fn environment(s: &str) -> Result<Vec<(String, String)>, String> {
    let (tokens, comment) = env_tokens(s)?;
    let advice = "quote values that contain spaces or characters other than letters, digits \
                  and _/.+-():";
    // First 4.3's own algorithm, so every input 4.3 rejects gets 4.3's message.
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let group = &tokens[i..(i + 3).min(tokens.len())];
        if group.len() != 3 || group[1].text != "=" {
            return Err(format!("Unexpected end of key/value pairs in value '{s}'"));
        }
        let key = group[0].text.clone();
        let value = group[2]
            .text
            .trim_matches(|c| c == '\'' || c == '"')
            .to_string();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
        i += 4;
    }
    // Then what 4.3 accepts silently but loses data: whatever token follows a value is thrown
    // away as "the separator", so anything but `,` there was really the rest of the value
    // (`A=x y`, `A=$HOME`, `A=http://h?x=1`).
    for pair in tokens.chunks(4) {
        if let [key, _, value, sep] = pair {
            if sep.text != "," {
                return Err(format!(
                    "environment variable {} would get the truncated value {} (followed by {} \
                     instead of ',') in value {}; {advice}",
                    repr(&key.text),
                    repr(value.text.trim_matches(|c| c == '\'' || c == '"')),
                    repr(&sep.text),
                    repr(s)
                ));
            }
        }
    }
    if let Some(pos) = comment {
        let owner = tokens
            .iter()
            .step_by(4)
            .take_while(|t| t.start < pos)
            .last()
            .map(|t| format!("environment variable {}: ", repr(&t.text)))
            .unwrap_or_default();
        return Err(format!(
            "{owner}unquoted '#' in value {} would silently drop the rest of the line; {advice}",
            repr(s)
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::owned;

    #[test]
    fn environment_common_forms() {
        assert_eq!(environment("A=1,B=2"), Ok(owned(&[("A", "1"), ("B", "2")])));
        assert_eq!(
            environment("A=\"x y\",B='z'"),
            Ok(owned(&[("A", "x y"), ("B", "z")]))
        );
        assert_eq!(environment("A=1,"), Ok(owned(&[("A", "1")])));
        assert_eq!(environment(""), Ok(vec![]));
        assert_eq!(
            environment("A=/a:b.c+d-e(f)"),
            Ok(owned(&[("A", "/a:b.c+d-e(f)")]))
        );
        assert_eq!(
            environment("A = 1 , B = 2"),
            Ok(owned(&[("A", "1"), ("B", "2")]))
        );
        assert_eq!(
            environment("A=1,\nB=2"),
            Ok(owned(&[("A", "1"), ("B", "2")]))
        );
        assert_eq!(environment("A=1,A=2"), Ok(owned(&[("A", "2")])));
        assert_eq!(environment("A='a,b'"), Ok(owned(&[("A", "a,b")])));
        assert_eq!(environment("A=\"$HOME\""), Ok(owned(&[("A", "$HOME")])));
        assert_eq!(environment("A=x'y'"), Ok(owned(&[("A", "x'y")])));
        assert_eq!(environment("A=\"\""), Ok(owned(&[("A", "")])));
        assert_eq!(environment("A=é"), Ok(owned(&[("A", "é")])));
    }

    #[test]
    fn environment_structural_errors_match_supervisor() {
        for bad in ["A=1,,B=2", "A=", "=1", "A=a=b", "A"] {
            assert_eq!(
                environment(bad).unwrap_err(),
                format!("Unexpected end of key/value pairs in value '{bad}'"),
                "{bad}"
            );
        }
        assert_eq!(environment("A='x").unwrap_err(), "No closing quotation");
    }

    #[test]
    fn c10_truncation_is_an_error_naming_the_variable() {
        let e = environment("A=$HOME").unwrap_err();
        assert!(
            e.starts_with("environment variable 'A' would get the truncated value '$'"),
            "{e}"
        );
        let e = environment("A=x y").unwrap_err();
        assert!(e.contains("'A'") && e.contains("followed by 'y'"), "{e}");
        let e = environment("A=1;B=2").unwrap_err();
        assert!(e.contains("followed by ';' instead of ','"), "{e}");
        let e = environment("A=\"a\"b").unwrap_err();
        assert!(e.contains("'A'") && e.contains("followed by 'b'"), "{e}");
        let e = environment("A=1,B=x y").unwrap_err();
        assert!(e.contains("'B'"), "{e}");
        let e = environment("A=1,B=http://h?x=1").unwrap_err();
        assert!(e.contains("'B'"), "{e}");
        let e = environment("A=1,B=abc#def").unwrap_err();
        assert!(
            e.starts_with("environment variable 'B': unquoted '#'"),
            "{e}"
        );
        assert!(environment("A=\"abc#def\"").is_ok());
    }
}
