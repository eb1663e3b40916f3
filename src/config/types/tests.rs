use super::*;

#[test]
fn integer_error_text() {
    assert_eq!(
        integer("abc").unwrap_err(),
        "invalid literal for int() with base 10: 'abc'"
    );
    assert_eq!(integer(" 3 ").unwrap(), 3);
}

#[test]
fn boolean_words() {
    for t in ["yes", "TRUE", "On", "1"] {
        assert_eq!(boolean(t), Ok(true));
    }
    for f in ["no", "False", "OFF", "0"] {
        assert_eq!(boolean(f), Ok(false));
    }
    assert_eq!(
        boolean("maybe").unwrap_err(),
        "not a valid boolean value: 'maybe'"
    );
    assert_eq!(boolean("").unwrap_err(), "not a valid boolean value: ''");
    assert!(boolean("y").is_err());
}

#[test]
fn byte_sizes() {
    assert_eq!(byte_size("50MB"), Ok(52428800));
    assert_eq!(byte_size("1 KB"), Ok(1024));
    assert_eq!(byte_size("-5MB"), Ok(-5242880));
    assert_eq!(byte_size("+5"), Ok(5));
    assert_eq!(byte_size("1gb"), Ok(1 << 30));
    assert_eq!(byte_size("0"), Ok(0));
    assert_eq!(
        byte_size("1.5MB").unwrap_err(),
        "invalid literal for int() with base 10: '1.5'"
    );
    assert_eq!(
        byte_size("1K").unwrap_err(),
        "invalid literal for int() with base 10: '1k'"
    );
    assert!(byte_size("1b").is_err());
    assert!(byte_size("0x10").is_err());
    assert!(byte_size("kb").is_err());
}

#[test]
fn signals_by_name_and_number() {
    assert_eq!(signal_number("TERM"), Ok(15));
    assert_eq!(signal_number("sigkill"), Ok(9));
    assert_eq!(signal_number(" hup "), Ok(1));
    assert_eq!(signal_number("9"), Ok(9));
    assert_eq!(signal_number("0"), Ok(0));
    for (alias, n) in [
        ("IOT", 6),
        ("CLD", 17),
        ("POLL", 29),
        ("RTMIN", 34),
        ("RTMAX", 64),
    ] {
        assert_eq!(signal_number(alias), Ok(n), "{alias}");
    }
    assert_eq!(signal_number("SIG_DFL"), Ok(0));
    assert_eq!(signal_number("SIG_IGN"), Ok(1));
    assert_eq!(signal_number("_DFL"), Ok(0));
    assert_eq!(signal_number("64"), Ok(64));
    assert_eq!(
        signal_number("FOO").unwrap_err(),
        "value 'FOO' is not a valid signal name"
    );
    assert_eq!(
        signal_number("RTMIN+3").unwrap_err(),
        "value 'RTMIN+3' is not a valid signal name"
    );
    for bad in ["32", "33", "35", "63", "65", "-1"] {
        assert_eq!(
            signal_number(bad).unwrap_err(),
            format!("value '{bad}' is not a valid signal number")
        );
    }
}

#[test]
fn signal_names() {
    assert_eq!(signal_name(15), "SIGTERM");
    assert_eq!(signal_name(29), "SIGPOLL");
    assert_eq!(signal_name(17), "SIGCHLD");
    assert_eq!(signal_name(6), "SIGABRT");
    assert_eq!(signal_name(34), "SIGRTMIN");
    assert_eq!(signal_name(64), "SIGRTMAX");
    assert_eq!(signal_name(40), "signal 40");
    assert_eq!(signal_name(0), "signal 0");
}

#[test]
fn exit_code_lists() {
    assert_eq!(exit_codes("0"), Ok(vec![0]));
    assert_eq!(exit_codes("0, 2 ,255"), Ok(vec![0, 2, 255]));
    assert_eq!(exit_codes(""), Ok(vec![]));
    assert_eq!(
        exit_codes("0,256").unwrap_err(),
        "not a valid list of exit codes: '0,256'"
    );
    assert!(exit_codes("0,").is_err());
    assert!(exit_codes("-1").is_err());
    assert!(exit_codes("a").is_err());
}

#[test]
fn octal_values() {
    assert_eq!(octal("022"), Ok(18));
    assert_eq!(octal("22"), Ok(18));
    assert_eq!(octal("0o22"), Ok(18));
    assert_eq!(octal("0O7_7"), Ok(63));
    assert_eq!(
        octal("089").unwrap_err(),
        "089 can not be converted to an octal type"
    );
    assert!(octal("8").is_err());
    assert!(octal("").is_err());
    assert!(octal("-1").is_err());
}

#[test]
fn log_levels() {
    assert_eq!(log_level("INFO"), Ok(LogLevel::Info));
    assert_eq!(log_level("blather"), Ok(LogLevel::Blather));
    assert_eq!(log_level("critical"), Ok(LogLevel::Critical));
    assert_eq!(
        log_level("verbose").unwrap_err(),
        "bad logging level name 'verbose'"
    );
    assert!(log_level("warning").is_err());
    assert!(log_level("crit").is_err());
}

#[test]
fn autorestart_values() {
    assert_eq!(auto_restart("true"), Ok(AutoRestart::Always));
    assert_eq!(auto_restart("OFF"), Ok(AutoRestart::Never));
    assert_eq!(auto_restart("Unexpected"), Ok(AutoRestart::Unexpected));
    assert_eq!(
        auto_restart("Sometimes").unwrap_err(),
        "invalid 'autorestart' value 'sometimes'"
    );
}

#[test]
fn logfile_names() {
    assert_eq!(logfile_name("AUTO"), Ok(LogFileName::Auto));
    assert_eq!(logfile_name("none"), Ok(LogFileName::None));
    assert_eq!(logfile_name("Off"), Ok(LogFileName::None));
    assert_eq!(logfile_name("SYSLOG"), Ok(LogFileName::Syslog));
    assert_eq!(
        logfile_name("/tmp/x.log"),
        Ok(LogFileName::Path("/tmp/x.log".into()))
    );
    assert_eq!(
        logfile_name("bare.log"),
        Ok(LogFileName::Path("bare.log".into()))
    );
    assert_eq!(
        logfile_name("/nonexistent/dir/x.log").unwrap_err(),
        "The directory named as part of the path /nonexistent/dir/x.log does not exist"
    );
    assert_eq!(
        logfile_name("~root/x.log"),
        Ok(LogFileName::Path("/root/x.log".into()))
    );
}

#[test]
fn directories() {
    assert_eq!(existing_directory("/tmp"), Ok(PathBuf::from("/tmp")));
    assert_eq!(
        existing_directory("/nonexistent").unwrap_err(),
        "/nonexistent is not an existing directory"
    );
    assert_eq!(existing_dirpath("x.pid"), Ok(PathBuf::from("x.pid")));
    assert!(existing_dirpath("/nonexistent/x.pid").is_err());
}

#[test]
fn names() {
    assert_eq!(process_or_group_name(" foo "), Ok("foo".to_string()));
    assert_eq!(process_or_group_name("öäü"), Ok("öäü".to_string()));
    assert_eq!(process_or_group_name(""), Ok(String::new()));
    assert_eq!(
        process_or_group_name("x y").unwrap_err(),
        "Invalid name: 'x y' because of character: ' '"
    );
    assert_eq!(
        process_or_group_name("a:b").unwrap_err(),
        "Invalid name: 'a:b' because of character: ':'"
    );
    assert!(process_or_group_name("a/b").is_err());
}

#[test]
fn string_lists() {
    assert_eq!(list_of_strings(""), Vec::<String>::new());
    assert_eq!(list_of_strings("a, b ,,c"), vec!["a", "b", "", "c"]);
}

#[test]
fn inet_addresses() {
    assert_eq!(inet_address("9001"), Ok((String::new(), 9001)));
    assert_eq!(inet_address(":9001"), Ok((String::new(), 9001)));
    assert_eq!(inet_address("*:9001"), Ok((String::new(), 9001)));
    assert_eq!(
        inet_address("LocalHost:9001"),
        Ok(("localhost".to_string(), 9001))
    );
    assert_eq!(inet_address("::1:9001"), Ok(("::1".to_string(), 9001)));
    assert_eq!(inet_address("[::1]:9001"), Ok(("[::1]".to_string(), 9001)));
    assert_eq!(
        inet_address("host:").unwrap_err(),
        "no port number specified in ''"
    );
    assert_eq!(
        inet_address("abc").unwrap_err(),
        "not a valid port number: 'abc' "
    );
    assert_eq!(
        inet_address("0").unwrap_err(),
        "not a valid port number: '0' "
    );
    assert_eq!(
        inet_address("h:0").unwrap_err(),
        "0 is below lower bound (1)"
    );
    assert_eq!(
        inet_address("h:70000").unwrap_err(),
        "70000 is above upper bound (65535)"
    );
    assert_eq!(
        inet_address("h:x").unwrap_err(),
        "invalid literal for int() with base 10: 'x'"
    );
}

#[test]
fn urls() {
    assert!(url("http://localhost:9001").is_ok());
    assert!(url("unix:///tmp/s.sock").is_ok());
    assert!(url("localhost:9001").is_ok());
    assert!(url("foo:bar").is_ok());
    assert_eq!(url("http://").unwrap_err(), "value 'http://' is not a URL");
    assert!(url("nourl").is_err());
    assert!(url("9x:foo").is_err());
}
