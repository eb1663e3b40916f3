//! Splitting `command=` into words like Python's `shlex.split` (POSIX mode), which is what
//! Supervisor does: quotes and backslashes, but no variables, globs, operators or comments.

/// Splits a command line; errors carry shlex's wording (`No closing quotation`).
pub fn split(command: &str) -> Result<Vec<String>, &'static str> {
    #[derive(PartialEq)]
    enum Q {
        None,
        Single,
        Double,
    }
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote = Q::None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match quote {
            Q::Single => {
                if c == '\'' {
                    quote = Q::None;
                } else {
                    word.push(c);
                }
            }
            Q::Double => match c {
                '"' => quote = Q::None,
                '\\' => match chars.next() {
                    // Inside double quotes a backslash escapes only `"` and `\`.
                    Some(n @ ('"' | '\\')) => word.push(n),
                    Some(n) => {
                        word.push('\\');
                        word.push(n);
                    }
                    None => return Err("No closing quotation"),
                },
                _ => word.push(c),
            },
            Q::None => match c {
                ' ' | '\t' | '\n' | '\r' => {
                    if in_word {
                        words.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                }
                '\'' => {
                    quote = Q::Single;
                    in_word = true;
                }
                '"' => {
                    quote = Q::Double;
                    in_word = true;
                }
                '\\' => match chars.next() {
                    Some(n) => {
                        word.push(n);
                        in_word = true;
                    }
                    None => return Err("No escaped character"),
                },
                _ => {
                    word.push(c);
                    in_word = true;
                }
            },
        }
    }
    if quote != Q::None {
        return Err("No closing quotation");
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    fn ok(s: &str) -> Vec<String> {
        split(s).unwrap()
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(ok("  a  b\tc\nd "), ["a", "b", "c", "d"]);
        assert_eq!(ok("sh -c 'echo $HOME; ls'"), ["sh", "-c", "echo $HOME; ls"]);
        assert_eq!(ok(r#"echo "a \"b\" \n c""#), ["echo", r#"a "b" \n c"#]);
        assert_eq!(ok(r"a\ b c\\d"), ["a b", r"c\d"]);
        assert_eq!(ok("x'y'\"z\""), ["xyz"]);
        assert_eq!(ok("''"), [""]);
        assert_eq!(ok("a # b"), ["a", "#", "b"]);
        assert!(ok("   ").is_empty());
    }

    #[test]
    fn errors() {
        assert_eq!(split("echo 'x"), Err("No closing quotation"));
        assert_eq!(split("echo \"x"), Err("No closing quotation"));
        assert_eq!(split("echo x\\"), Err("No escaped character"));
    }
}
