use super::*;

fn parse(text: &str) -> Ini {
    let mut ini = Ini::new();
    ini.read_str(text, "/etc/s.conf").unwrap();
    ini
}

fn val<'a>(ini: &'a Ini, s: &str, k: &str) -> &'a str {
    &ini.get(s, k).unwrap().value
}

#[test]
fn delimiters_first_of_either() {
    let ini = parse("[a]\nx=1\ny : 2\nurl = http://h:1/x=y\nk:v=w\nK2 = V\n");
    assert_eq!(val(&ini, "a", "x"), "1");
    assert_eq!(val(&ini, "a", "y"), "2");
    assert_eq!(val(&ini, "a", "url"), "http://h:1/x=y");
    assert_eq!(val(&ini, "a", "k"), "v=w");
    assert_eq!(val(&ini, "a", "k2"), "V");
    assert!(ini.get("a", "K2").is_none());
}

#[test]
fn inline_comments_need_preceding_whitespace() {
    let ini = parse("[a]\na=b ;c\nb=b;c\nc=x #y\nd=/tmp/p;x\ne=bash -c 'a ; b'\nf=x\t#tab\n");
    assert_eq!(val(&ini, "a", "a"), "b");
    assert_eq!(val(&ini, "a", "b"), "b;c");
    assert_eq!(val(&ini, "a", "c"), "x");
    assert_eq!(val(&ini, "a", "d"), "/tmp/p;x");
    assert_eq!(val(&ini, "a", "e"), "bash -c 'a");
    assert_eq!(val(&ini, "a", "f"), "x");
}

#[test]
fn inline_comment_rounds_quirk() {
    // Round 1: 1st ';' (qualifies, index 7) and 1st '#' (index 3, does not) -> ';' wins even
    // though ' #c' comes earlier.
    let ini = parse("[a]\nv=a#b #c ;d\nw=a;b #c\n");
    assert_eq!(val(&ini, "a", "v"), "a#b #c");
    assert_eq!(val(&ini, "a", "w"), "a;b");
}

#[test]
fn full_line_comments_even_indented() {
    let ini = parse("# top\n[a]\n; c1\n   # indented\nx=1\n  ;inside\n  more\n");
    assert_eq!(val(&ini, "a", "x"), "1\nmore");
}

#[test]
fn continuation_and_blank_lines() {
    let ini = parse("[a]\ncmd=one\n  two\n\n  three\n\nnext=1\n");
    assert_eq!(val(&ini, "a", "cmd"), "one\ntwo\n\nthree");
    assert_eq!(val(&ini, "a", "next"), "1");
}

#[test]
fn indented_key_is_swallowed_as_continuation() {
    let ini = parse("[a]\nx=1\n  y=2\n");
    assert_eq!(val(&ini, "a", "x"), "1\ny=2");
    assert!(ini.get("a", "y").is_none());
}

#[test]
fn indentation_is_relative_to_key_line() {
    let ini = parse("[a]\n  x=1\n  y=2\n    z\n");
    assert_eq!(val(&ini, "a", "x"), "1");
    assert_eq!(val(&ini, "a", "y"), "2\nz");
}

#[test]
fn comment_line_does_not_add_blank_line() {
    let ini = parse("[a]\nx=1\n# c\n  2\n\n");
    assert_eq!(val(&ini, "a", "x"), "1\n2");
}

#[test]
fn trailing_blank_lines_are_stripped() {
    let ini = parse("[a]\nx=1\n\n\n");
    assert_eq!(val(&ini, "a", "x"), "1");
    let ini = parse("[a]\nx=\n");
    assert_eq!(val(&ini, "a", "x"), "");
}

#[test]
fn section_headers_verbatim() {
    let ini = parse("[program:d] trailing junk\nx=1\n[ program:b ]\ny=2\n[Program:x]\n[a]b]\n");
    let names: Vec<&str> = ini.sections().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["program:d", " program:b ", "Program:x", "a]b"]);
}

#[test]
fn header_closes_open_key() {
    let ini = parse("[a]\nx=1\n[b]\n  y=2\n");
    assert_eq!(val(&ini, "a", "x"), "1");
    assert_eq!(val(&ini, "b", "y"), "2");
}

#[test]
fn defaults_apply_to_every_section() {
    let ini = parse("[DEFAULT]\nstartsecs=7\n[a]\nx=1\n[b]\nstartsecs=2\n");
    assert_eq!(val(&ini, "a", "startsecs"), "7");
    assert_eq!(val(&ini, "b", "startsecs"), "2");
    assert!(!ini.has_section("DEFAULT"));
    assert_eq!(ini.options("a"), vec!["x", "startsecs"]);
}

#[test]
fn duplicate_sections_merge_last_key_wins() {
    let ini = parse("[a]\nx=1\ny=1\n[b]\n[a]\nx=2\n");
    assert_eq!(val(&ini, "a", "x"), "2");
    assert_eq!(val(&ini, "a", "y"), "1");
    assert_eq!(ini.sections().len(), 2);
    assert_eq!(ini.section("a").unwrap().loc.line, 1);
    let repeats = &ini.section("a").unwrap().repeats;
    assert_eq!(repeats.iter().map(|l| l.line).collect::<Vec<_>>(), [5]);
}

#[test]
fn locations_point_at_key_lines() {
    let mut ini = Ini::new();
    ini.read_str("[a]\n\nx=1\n  cont\ny=2\n", "/one.conf")
        .unwrap();
    ini.read_str("[b]\nz=3\n[a]\ny=9\n", "/two.conf").unwrap();
    let x = ini.get("a", "x").unwrap();
    assert_eq!((&*x.loc.file, x.loc.line), ("/one.conf", 3));
    let y = ini.get("a", "y").unwrap();
    assert_eq!(
        (&*y.loc.file, y.loc.line, y.value.as_str()),
        ("/two.conf", 4, "9")
    );
    let b = ini.section("b").unwrap();
    assert_eq!((&*b.loc.file, b.loc.line), ("/two.conf", 1));
}

#[test]
fn missing_section_header() {
    let mut ini = Ini::new();
    let e = ini
        .read_str("# c\n\nfoo=bar\n[a]\n", "/tmp/sx/e.conf")
        .unwrap_err();
    assert_eq!(
        e.0,
        "File contains no section headers.\nfile: '/tmp/sx/e.conf', line: 3\n'foo=bar\\n'"
    );
}

#[test]
fn parsing_errors_are_collected() {
    let mut ini = Ini::new();
    let text = "[a]\nx=1\n\n\n\nthis line has no delimiter\nanother bad\n=novalue\n";
    let e = ini.read_str(text, "/tmp/sx/e.conf").unwrap_err();
    assert_eq!(
        e.0,
        "Source contains parsing errors: '/tmp/sx/e.conf'\n\
         \t[line  6]: 'this line has no delimiter\\n'\n\
         \t[line  7]: 'another bad\\n'\n\
         \t[line  8]: '=novalue\\n'"
    );
}

#[test]
fn crlf_and_cr_line_endings() {
    let ini = parse("[a]\r\nx=1\r\n  2\ry=3");
    assert_eq!(val(&ini, "a", "x"), "1\n2");
    assert_eq!(val(&ini, "a", "y"), "3");
    // CR then CR LF is two line ends: a blank line inside the value, as in Python.
    let ini = parse("[a]\nx=1\r\r\n  2\n");
    assert_eq!(val(&ini, "a", "x"), "1\n\n2");
}

#[test]
fn continuation_of_a_repeated_key_goes_to_its_first_position() {
    let ini = parse("[a]\nx=1\ny=2\nx=3\n  more\n[a]\ny=4\n  cont\n");
    assert_eq!(ini.options("a"), ["x", "y"]);
    assert_eq!(val(&ini, "a", "x"), "3\nmore");
    assert_eq!(val(&ini, "a", "y"), "4\ncont");
}

#[test]
fn replace_here_per_file() {
    let mut ini = Ini::new();
    ini.read_str(
        "[DEFAULT]\nd=%(here)s/d\n[a]\nx=%(here)s/x\n",
        "/m/main.conf",
    )
    .unwrap();
    ini.replace_here("/m");
    ini.read_str("[b]\ny=%(here)s/y\n[a]\nz=%(here)s/z\n", "/inc/b.conf")
        .unwrap();
    ini.replace_here("/inc");
    assert_eq!(val(&ini, "a", "x"), "/m/x");
    assert_eq!(val(&ini, "a", "z"), "/inc/z");
    assert_eq!(val(&ini, "a", "d"), "/m/d");
    assert_eq!(val(&ini, "b", "y"), "/inc/y");
    assert_eq!(val(&ini, "b", "d"), "/inc/d");
    // The raw default itself is untouched.
    assert_eq!(ini.defaults().next().unwrap().1.value, "%(here)s/d");
    // A later file's default reaches the sections of earlier files, with its own here.
    ini.read_str("[DEFAULT]\ne=%(here)s/e\n", "/late/c.conf")
        .unwrap();
    ini.replace_here("/late");
    assert_eq!(val(&ini, "a", "e"), "/late/e");
    assert_eq!(val(&ini, "b", "e"), "/late/e");
    assert_eq!(val(&ini, "a", "x"), "/m/x");
}

#[test]
fn many_sections_and_included_files_cost_linear_time() {
    // A scan of every section per header, per key read or per included file would be
    // 10^9..10^10 steps here; the test would not finish.
    let n = 100_000;
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!("[program:p{i}]\ncommand=%(here)s/run {i}\n"));
    }
    let mut ini = Ini::new();
    ini.read_str(&text, "/m/main.conf").unwrap();
    ini.replace_here("/m");
    for i in 0..n / 10 {
        let file = format!("/inc/{i}.conf");
        ini.read_str(&format!("[x{i}]\ndir=%(here)s\n"), &file)
            .unwrap();
        ini.replace_here(&format!("/inc{i}"));
    }
    assert_eq!(val(&ini, "program:p99999", "command"), "/m/run 99999");
    assert_eq!(val(&ini, "x9999", "dir"), "/inc9999");
    assert_eq!(ini.sections().len(), n + n / 10);
}
