use super::*;

/// Exactly what Python's xmlrpc.client.dumps((1, 'a', True, [1,2], {'k': 'v'}),
/// 'supervisor.getState') produces.
const PY_CALL: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getState</methodName>\n<params>\n<param>\n<value><int>1</int></value>\n</param>\n<param>\n<value><string>a</string></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n<param>\n<value><array><data>\n<value><int>1</int></value>\n<value><int>2</int></value>\n</data></array></value>\n</param>\n<param>\n<value><struct>\n<member>\n<name>k</name>\n<value><string>v</string></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodCall>\n";

/// Python's dumps(({'name': 't_öäü', 'n': 5},), methodresponse=True).
const PY_RESPONSE: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>name</name>\n<value><string>t_öäü</string></value>\n</member>\n<member>\n<name>n</name>\n<value><int>5</int></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n";

fn sample() -> Vec<Value> {
    vec![
        Value::Int(1),
        Value::String("a".into()),
        Value::Bool(true),
        Value::Array(vec![Value::Int(1), Value::Int(2)]),
        Value::Struct(vec![("k".into(), Value::String("v".into()))]),
    ]
}

#[test]
fn python_call_decodes_and_ours_encodes_identically() {
    let (name, params) = parse_call(PY_CALL.as_bytes()).unwrap();
    assert_eq!(name, "supervisor.getState");
    assert_eq!(params, sample());
    assert_eq!(encode_call("supervisor.getState", &sample()), PY_CALL);
}

#[test]
fn response_matches_python_layout() {
    let v = Value::Struct(vec![
        ("name".into(), Value::String("t_öäü".into())),
        ("n".into(), Value::Int(5)),
    ]);
    assert_eq!(encode_response(&v), PY_RESPONSE);
    assert_eq!(parse_response(PY_RESPONSE.as_bytes()).unwrap(), Ok(v));
}

#[test]
fn every_type_round_trips() {
    let v = Value::Array(vec![
        Value::Int(-7),
        Value::Bool(false),
        Value::String("x < y & z > w \"q\" 'a' öäü \u{1F600}".into()),
        Value::Double(1.5),
        Value::Base64(vec![0, 1, 2, 255]),
        Value::DateTime("20261127T01:02:03".into()),
        Value::Nil,
        Value::Struct(vec![]),
        Value::Array(vec![]),
        Value::String(String::new()),
    ]);
    let back = parse_response(encode_response(&v).as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(back, v);
    let (_, params) = parse_call(encode_call("m", std::slice::from_ref(&v)).as_bytes()).unwrap();
    assert_eq!(params, vec![v]);
}

#[test]
fn lenient_forms_clients_send() {
    let call = |body: &str| {
        parse_call(format!("<methodCall><methodName>m</methodName><params><param><value>{body}</value></param></params></methodCall>").as_bytes()).map(|(_, p)| p[0].clone())
    };
    assert_eq!(call("plain"), Ok(Value::String("plain".into())));
    assert_eq!(call("<i8>5</i8>"), Ok(Value::Int(5)));
    assert_eq!(call("<i4> +5 </i4>"), Ok(Value::Int(5)));
    assert_eq!(call("<boolean>true</boolean>"), Ok(Value::Bool(true)));
    assert_eq!(call("<boolean>0</boolean>"), Ok(Value::Bool(false)));
    assert_eq!(call("<nil/>"), Ok(Value::Nil));
    assert_eq!(
        call("<string><![CDATA[<x>]]></string>"),
        Ok(Value::String("<x>".into()))
    );
    assert_eq!(
        call("<string>&#246;&#x00e4;</string>"),
        Ok(Value::String("öä".into()))
    );
    assert!(call("<int>abc</int>").is_err());
    assert!(call("<boolean>yes</boolean>").is_err());
    assert!(call("<weird>1</weird>").is_err());
    assert!(call("<base64>***</base64>").is_err());
    let no_params =
        parse_call(b"<methodCall><methodName>system.listMethods</methodName></methodCall>");
    assert_eq!(no_params, Ok(("system.listMethods".into(), vec![])));
    assert_eq!(
        parse_call(b"<methodCall><params/></methodCall>").unwrap().0,
        ""
    );
}

#[test]
fn faults_round_trip() {
    let f = encode_fault(10, "BAD_NAME: foo");
    assert_eq!(
        parse_response(f.as_bytes()).unwrap(),
        Err((10, "BAD_NAME: foo".into()))
    );
    assert!(f.contains("<name>faultCode</name>\n<value><int>10</int></value>"));
}

#[test]
fn output_is_always_well_formed() {
    let v = Value::String("log\x01with\x1bcontrol\u{FFFE}".into());
    let text = encode_response(&v);
    assert!(!text.contains('\x01') && !text.contains('\x1b'));
    assert_eq!(
        parse_response(text.as_bytes()).unwrap(),
        Ok(Value::String(
            "log\u{FFFD}with\u{FFFD}control\u{FFFD}".into()
        ))
    );
    assert!(encode_response(&Value::Int(1 << 40)).contains("<int>2147483647</int>"));
    assert_eq!(text_from_log_bytes(b"ab\xc3"), "ab\u{FFFD}");
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let deep = "<value><array><data>".repeat(MAX_VALUE_DEPTH + 2);
    let doc = format!("<methodCall><methodName>m</methodName><params><param>{deep}");
    for bad in [
        doc.as_bytes(),
        b"<methodCall><methodName>x</meth",
        b"<notACall/>",
        b"\xff\xfe",
        b"",
        b"<methodCall><params><param><value><struct><member><name>a</name></member></struct></value></param></params></methodCall>",
        b"<methodCall><params><param><value><array><data><x/></data></array></value></param></params></methodCall>",
        b"<methodCall><params><param><value><int>1</int><int>2</int></value></param></params></methodCall>",
    ] {
        assert!(parse_call(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
    }
    let deep_ok = format!(
        "<methodCall><methodName>m</methodName><params><param>{}<value>x</value>{}</param></params></methodCall>",
        "<value><array><data>".repeat(MAX_VALUE_DEPTH + 2),
        "</data></array></value>".repeat(MAX_VALUE_DEPTH + 2)
    );
    assert!(parse_call(deep_ok.as_bytes())
        .unwrap_err()
        .0
        .contains("deeply"));
    assert!(parse_response(b"<methodResponse><params/></methodResponse>").is_err());
}

/// Regression (fuzzing): a NUL in the method name was accepted, then re-encoded as U+FFFD.
#[test]
fn fuzz_nul_in_method_name_is_rejected() {
    let doc = b"<methodCall><methodName>x\x00\x00</methodName><params><param><value>! <![CDATA[a]]>&amp;&#x41;</value></param></params></methodCall>";
    assert!(parse_call(doc)
        .unwrap_err()
        .0
        .contains("invalid character U+0000"));
}
