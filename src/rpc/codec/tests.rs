use super::decode::{parse_call_with, Limits};
use super::*;
use crate::rpc::value::{Key, Value};

/// Exactly what Python 3.11's `xmlrpc.client.dumps((1, 'a', True, [1,2], {'k': 'v'}),
/// 'supervisor.getState')` produces (generated with python3, pasted verbatim).
const PY_CALL: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getState</methodName>\n<params>\n<param>\n<value><int>1</int></value>\n</param>\n<param>\n<value><string>a</string></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n<param>\n<value><array><data>\n<value><int>1</int></value>\n<value><int>2</int></value>\n</data></array></value>\n</param>\n<param>\n<value><struct>\n<member>\n<name>k</name>\n<value><string>v</string></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodCall>\n";

/// Our `encode_response` for the struct in `response_is_what_python_accepts`. Checked by hand:
/// `python3 -c "import xmlrpc.client as x; print(x.loads(<this literal>))"` printed
/// `(({'name': 'test_öäü', 'pid': 42, 'ok': True, 'desc': 'a & <b> \r\n', 'args': ['x', 1], 'none': None},), None)`,
/// i.e. Python parses it, CR included.
const OUR_RESPONSE: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>name</name>\n<value><string>test_öäü</string></value>\n</member>\n<member>\n<name>pid</name>\n<value><int>42</int></value>\n</member>\n<member>\n<name>ok</name>\n<value><boolean>1</boolean></value>\n</member>\n<member>\n<name>desc</name>\n<value><string>a &amp; &lt;b&gt; &#13;\n</string></value>\n</member>\n<member>\n<name>args</name>\n<value><array><data>\n<value><string>x</string></value>\n<value><int>1</int></value>\n</data></array></value>\n</member>\n<member>\n<name>none</name>\n<value><nil/></value></member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n";

/// Python's `dumps(([Binary(b''), Binary(bytes(range(100))), 1e16, 1e15, 1.5e-7, 0.0001,
/// 1e-05, -2.5, inf, nan, 1e300, 123456789012345678.0, 5e-324],), methodresponse=True)`.
const PY_DOUBLES_BASE64: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n<value><base64>\n</base64></value>\n<value><base64>\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\nOTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiYw==\n</base64></value>\n<value><double>1e+16</double></value>\n<value><double>1000000000000000.0</double></value>\n<value><double>1.5e-07</double></value>\n<value><double>0.0001</double></value>\n<value><double>1e-05</double></value>\n<value><double>-2.5</double></value>\n<value><double>inf</double></value>\n<value><double>nan</double></value>\n<value><double>1e+300</double></value>\n<value><double>1.2345678901234568e+17</double></value>\n<value><double>5e-324</double></value>\n</data></array></value>\n</param>\n</params>\n</methodResponse>\n";

/// Python's `dumps(Fault(10, 'BAD_NAME: foo'), methodresponse=True)`.
const PY_FAULT: &str = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: foo</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";

fn sample() -> Vec<Value> {
    vec![
        Value::Int(1),
        Value::from("a"),
        Value::Bool(true),
        Value::Array(vec![Value::Int(1), Value::Int(2)]),
        Value::structure([("k", Value::from("v"))]),
    ]
}

/// One parameter given as the inside of a `<value>`.
fn param(inner: &str) -> Result<Value, DecodeError> {
    let doc = format!(
        "<methodCall><methodName>m</methodName><params><param><value>{inner}</value></param></params></methodCall>"
    );
    let (_, mut params) = parse_call(doc.as_bytes())?;
    Ok(params.remove(0))
}

fn call_err(doc: &[u8]) -> String {
    match parse_call(doc) {
        Ok(c) => panic!("{:?} decoded as {c:?}", String::from_utf8_lossy(doc)),
        Err(e) => e.to_string(),
    }
}

fn round_trip_response(v: &Value) -> Value {
    match parse_response(encode_response(v).as_bytes()) {
        Ok(Ok(back)) => back,
        other => panic!("{v:?} came back as {other:?}"),
    }
}

#[test]
fn python_call_decodes_and_ours_encodes_identically() {
    let (name, params) = parse_call(PY_CALL.as_bytes()).expect("Python's call decodes");
    assert_eq!(name, "supervisor.getState");
    assert_eq!(params, sample());
    assert_eq!(encode_call("supervisor.getState", &sample()), PY_CALL);
    assert_eq!(
        encode_call("system.listMethods", &[]),
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>system.listMethods</methodName>\n<params>\n</params>\n</methodCall>\n"
    );
}

#[test]
fn response_is_what_python_accepts() {
    let v = Value::structure([
        ("name", Value::from("test_öäü")),
        ("pid", Value::Int(42)),
        ("ok", Value::Bool(true)),
        ("desc", Value::from("a & <b> \r\n")),
        ("args", Value::Array(vec![Value::from("x"), Value::Int(1)])),
        ("none", Value::Nil),
    ]);
    assert_eq!(encode_response(&v), OUR_RESPONSE);
    assert_eq!(round_trip_response(&v), v);
}

#[test]
fn doubles_and_base64_are_laid_out_like_python() {
    let v = Value::Array(vec![
        Value::Base64(vec![]),
        Value::Base64((0..100).collect()),
        Value::Double(1e16),
        Value::Double(1e15),
        Value::Double(1.5e-7),
        Value::Double(0.0001),
        Value::Double(1e-5),
        Value::Double(-2.5),
        Value::Double(f64::INFINITY),
        Value::Double(f64::NAN),
        Value::Double(1e300),
        Value::Double(123456789012345678.0),
        Value::Double(5e-324),
    ]);
    assert_eq!(encode_response(&v), PY_DOUBLES_BASE64);
    let back = round_trip_response(&v);
    let items = back.as_array().unwrap_or_default();
    assert_eq!(items.len(), 13);
    assert_eq!(items[1], Value::Base64((0..100).collect()));
    assert!(items[9].as_f64().is_some_and(f64::is_nan));
    assert_eq!(items[12], Value::Double(5e-324));
}

#[test]
fn faults_encode_like_python_and_parse_back() {
    assert_eq!(encode_fault(10, "BAD_NAME: foo"), PY_FAULT);
    assert_eq!(
        parse_response(PY_FAULT.as_bytes()),
        Ok(Err((10, "BAD_NAME: foo".into())))
    );
    let f = encode_fault(2, "INCORRECT_PARAMETERS: <\u{1}>");
    assert_eq!(
        parse_response(f.as_bytes()),
        Ok(Err((2, "INCORRECT_PARAMETERS: <\u{FFFD}>".into())))
    );
    for bad in [
        "<methodResponse><fault><value><struct></struct></value></fault></methodResponse>",
        "<methodResponse><fault><value><int>1</int></value></fault></methodResponse>",
        "<methodResponse><fault/></methodResponse>",
    ] {
        assert!(parse_response(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn every_type_round_trips_both_ways() {
    let v = Value::Array(vec![
        Value::Int(-7),
        Value::Int(i64::from(i32::MAX)),
        Value::Int(i64::from(i32::MIN)),
        Value::Bool(false),
        Value::Bool(true),
        Value::from("x < y & z > w \"q\" 'a' öäü \u{1F600} ]]> \t\r\n"),
        Value::Double(1.5),
        Value::Double(-0.0),
        Value::Base64(vec![0, 1, 2, 255]),
        Value::Base64((0..=255).collect()),
        Value::DateTime("20261127T01:02:03".into()),
        Value::Nil,
        Value::Struct(vec![]),
        Value::Array(vec![]),
        Value::String(String::new()),
        Value::structure([("test_öäü", Value::from("ü")), ("<&>", Value::Nil)]),
    ]);
    assert_eq!(round_trip_response(&v), v);
    let call = encode_call("test_öäü.method", std::slice::from_ref(&v));
    assert_eq!(
        parse_call(call.as_bytes()),
        Ok(("test_öäü.method".to_string(), vec![v.clone()]))
    );
    let many = vec![Value::Nil, Value::Int(3), v];
    let call = encode_call("m", &many);
    assert_eq!(parse_call(call.as_bytes()), Ok(("m".to_string(), many)));
}

#[test]
fn nesting_round_trips_up_to_the_limit() {
    // MAX_DEPTH levels: the parameter itself plus MAX_DEPTH - 1 containers inside it.
    let mut v = Value::from("leaf");
    for i in 1..MAX_DEPTH {
        v = if i % 2 == 0 {
            Value::Array(vec![Value::Int(i as i64), v])
        } else {
            Value::structure([("k", v)])
        };
    }
    let call = encode_call("m", std::slice::from_ref(&v));
    assert_eq!(
        parse_call(call.as_bytes()),
        Ok(("m".to_string(), vec![v.clone()]))
    );
    assert_eq!(round_trip_response(&v), v);
    let deeper = Value::Array(vec![v]);
    let call = encode_call("m", std::slice::from_ref(&deeper));
    assert!(call_err(call.as_bytes()).contains("nested deeper than 64"));
    assert!(parse_response(encode_response(&deeper).as_bytes()).is_err());
}

#[test]
fn too_deep_nesting_is_an_error_at_any_depth() {
    for levels in [MAX_DEPTH + 1, 100, 10_000] {
        let doc = format!(
            "<methodCall><methodName>m</methodName><params><param>{}<value>x</value>{}</param></params></methodCall>",
            "<value><array><data>".repeat(levels - 1),
            "</data></array></value>".repeat(levels - 1)
        );
        let e = call_err(doc.as_bytes());
        assert!(e.contains("nested deeper"), "{levels}: {e}");
    }
}

#[test]
fn value_count_is_bounded() {
    let doc = "<methodCall><params><param><value><array><data><value/><value/><value/></data></array></value></param></params></methodCall>";
    let small = |max_values| Limits {
        max_depth: MAX_DEPTH,
        max_values,
    };
    assert!(parse_call_with(doc.as_bytes(), small(4)).is_ok());
    let e = parse_call_with(doc.as_bytes(), small(3)).map(|_| ());
    assert_eq!(
        e.map_err(|e| e.to_string()),
        Err(format!("more than {MAX_VALUES} values"))
    );
}

#[test]
fn booleans_accept_digits_and_words() {
    assert_eq!(param("<boolean>1</boolean>"), Ok(Value::Bool(true)));
    assert_eq!(param("<boolean>0</boolean>"), Ok(Value::Bool(false)));
    // R5: Python's supervisord reads `true` as false; we read what the client meant.
    assert_eq!(param("<boolean>true</boolean>"), Ok(Value::Bool(true)));
    assert_eq!(param("<boolean>false</boolean>"), Ok(Value::Bool(false)));
    assert_eq!(param("<boolean> 1\n</boolean>"), Ok(Value::Bool(true)));
    for bad in ["yes", "2", "", "True", "<b/>"] {
        assert!(
            param(&format!("<boolean>{bad}</boolean>")).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn ints_in_all_spellings() {
    assert_eq!(param("<int>42</int>"), Ok(Value::Int(42)));
    assert_eq!(param("<i4> +5 </i4>"), Ok(Value::Int(5)));
    assert_eq!(param("<i4>-2147483648</i4>"), Ok(Value::Int(-2147483648)));
    // R5: `<i8>` is an int, not the string supervisord makes of it.
    assert_eq!(param("<i8>1099511627776</i8>"), Ok(Value::Int(1 << 40)));
    for bad in ["abc", "", "1.5", "0x10", "99999999999999999999", "1 2"] {
        let e = param(&format!("<int>{bad}</int>")).map_err(|e| e.to_string());
        assert_eq!(e, Err(format!("invalid <int> value {bad:?}")));
    }
    assert!(param("<i8>x</i8>").is_err());
}

#[test]
fn strings_plain_typed_escaped_and_cdata() {
    assert_eq!(param("plain"), Ok(Value::from("plain")));
    assert_eq!(param(""), Ok(Value::from("")));
    assert_eq!(param("<string/>"), Ok(Value::from("")));
    assert_eq!(param("<string>  sp  </string>"), Ok(Value::from("  sp  ")));
    assert_eq!(
        param("<string>&lt;&gt;&amp;&quot;&apos;&#246;&#x00e4;&#x1F600;</string>"),
        Ok(Value::from("<>&\"'öä\u{1F600}"))
    );
    assert_eq!(
        param("<string>a<![CDATA[<x> & ]]>b<!-- c -->c</string>"),
        Ok(Value::from("a<x> & bc"))
    );
    assert_eq!(param("<![CDATA[raw]]>"), Ok(Value::from("raw")));
    assert_eq!(
        param("<string>test_öäü</string>"),
        Ok(Value::from("test_öäü"))
    );
}

#[test]
fn other_scalars() {
    assert_eq!(param("<nil/>"), Ok(Value::Nil));
    assert_eq!(param("<nil></nil>"), Ok(Value::Nil));
    assert_eq!(param("<double> -1.25 </double>"), Ok(Value::Double(-1.25)));
    assert_eq!(param("<double>1e+16</double>"), Ok(Value::Double(1e16)));
    assert_eq!(
        param("<base64>YWJj\nZA==</base64>"),
        Ok(Value::Base64(b"abcd".to_vec()))
    );
    assert_eq!(param("<base64></base64>"), Ok(Value::Base64(vec![])));
    assert_eq!(
        param("<dateTime.iso8601> 20261127T23:59:60 </dateTime.iso8601>"),
        Ok(Value::DateTime("20261127T23:59:60".into()))
    );
    for bad in [
        "<nil>x</nil>",
        "<double>one</double>",
        "<base64>***</base64>",
        "<base64>Y</base64>",
        "<dateTime.iso8601>2026-11-27T01:02:03</dateTime.iso8601>",
        "<dateTime.iso8601>20261327T01:02:03</dateTime.iso8601>",
        "<dateTime.iso8601>20261127T24:00:00</dateTime.iso8601>",
        "<dateTime.iso8601>2026112xT01:02:03</dateTime.iso8601>",
        "<dateTime.iso8601>20261127T01:02:03Z</dateTime.iso8601>",
    ] {
        assert!(param(bad).is_err(), "{bad}");
    }
}

#[test]
fn structs_keep_order_and_python_dict_semantics() {
    let doc = "<struct><member><name>b</name><value>1</value></member>\n\
               <member><name>a</name><value><int>2</int></value></member>\
               <member><name>b</name><value>3</value></member></struct>";
    assert_eq!(
        param(doc),
        Ok(Value::structure([
            ("b", Value::from("3")),
            ("a", Value::Int(2))
        ]))
    );
    assert_eq!(
        param("<struct><member><name>ü &amp; x</name><value/></member></struct>"),
        Ok(Value::structure([("ü & x", Value::from(""))]))
    );
}

#[test]
fn call_shapes() {
    assert_eq!(
        parse_call(b"<methodCall><methodName>system.listMethods</methodName></methodCall>"),
        Ok(("system.listMethods".into(), vec![]))
    );
    assert_eq!(
        parse_call(b"<?xml version='1.0'?>\n<methodCall>\n<methodName>\n  a.b  \n</methodName>\n<params/>\n</methodCall>\n"),
        Ok(("a.b".into(), vec![]))
    );
    // No name: decoded, so that the caller can answer 400 "no method name" like supervisord.
    assert_eq!(
        parse_call(b"<methodCall><params/></methodCall>"),
        Ok((String::new(), vec![]))
    );
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    for bad in [
        &b"<methodCall><methodName>x</meth"[..],
        b"<methodCall><methodName>x</methodName>",
        b"<methodCall><methodName>x</methodName><params><param><value><int>1</int></value></param>",
        b"<notACall/>",
        b"<methodResponse/>",
        b"\xff\xfe",
        b"",
        b"<methodCall>junk<methodName>m</methodName></methodCall>",
        b"<methodCall><methodName>m</methodName><methodName>n</methodName></methodCall>",
        b"<methodCall><methodName><b/></methodName></methodCall>",
        b"<methodCall><methodName>m</methodName><extra/></methodCall>",
        b"<methodCall><params><value>1</value></params></methodCall>",
        b"<methodCall><params><param></param></params></methodCall>",
        b"<methodCall><params><param><value>1</value><value>2</value></param></params></methodCall>",
        b"<methodCall><params><param><value><struct><member><name>a</name></member></struct></value></param></params></methodCall>",
        b"<methodCall><params><param><value><struct><member><value/><name>a</name></member></struct></value></param></params></methodCall>",
        b"<methodCall><params><param><value><struct><value/></struct></value></param></params></methodCall>",
        b"<methodCall><params><param><value><array><data><x/></data></array></value></param></params></methodCall>",
        b"<methodCall><params><param><value><array><value/></array></value></param></params></methodCall>",
        b"<methodCall><params><param><value><array><data/><data/></array></value></param></params></methodCall>",
        b"<methodCall><params><param><value><array><data>x</data></array></value></param></params></methodCall>",
        b"<methodCall><params><param><value><int>1</int><int>2</int></value></param></params></methodCall>",
        b"<methodCall><params><param><value>x<int>1</int></value></param></params></methodCall>",
        b"<methodCall><params><param><value><string><b/></string></value></param></params></methodCall>",
        b"<methodCall><params><param><value><ex:i8>1</ex:i8></value></param></params></methodCall>",
        b"<!DOCTYPE methodCall><methodCall/>",
    ] {
        call_err(bad);
    }
    assert_eq!(
        call_err(b"<methodCall><params><param><value><weird>1</weird></value></param></params></methodCall>"),
        "unknown value type <weird>"
    );
    assert_eq!(
        call_err(b"<methodResponse/>"),
        "root element is <methodResponse>, expected <methodCall>"
    );
    assert!(call_err(b"<methodCall>")
        .starts_with("not well-formed XML: element <methodCall> is not closed"));
    for bad in [
        "<methodResponse><params/></methodResponse>",
        "<methodResponse><params><param><value/></param><param><value/></param></params></methodResponse>",
        "<methodResponse></methodResponse>",
        "<methodResponse><params><param><value/></param></params><fault/></methodResponse>",
        "<methodCall/>",
    ] {
        assert!(parse_response(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn output_is_always_well_formed() {
    // R3: a log with control characters must not make the response unparsable.
    let v = Value::from("log\x01with\x1bcontrol\u{FFFE}\u{FFFF}\0");
    let text = encode_response(&v);
    assert!(!text.contains(['\x01', '\x1b', '\0', '\u{FFFE}']));
    assert_eq!(
        round_trip_response(&v),
        Value::from("log\u{FFFD}with\u{FFFD}control\u{FFFD}\u{FFFD}\u{FFFD}")
    );
    // R4: XML-RPC ints are 32-bit; larger values are clamped instead of failing the call.
    assert_eq!(
        round_trip_response(&Value::Int(1 << 40)),
        Value::Int(i64::from(i32::MAX))
    );
    assert_eq!(
        round_trip_response(&Value::Int(i64::MIN)),
        Value::Int(i64::from(i32::MIN))
    );
    let call = encode_call("a\x02b", &[]);
    assert_eq!(
        parse_call(call.as_bytes()).map(|c| c.0),
        Ok("a\u{FFFD}b".into())
    );
}

#[test]
fn log_bytes_decode_lossily() {
    // R3: a window that splits a UTF-8 sequence, or holds invalid bytes, still decodes.
    assert_eq!(text_from_log_bytes(b"ab\xc3"), "ab\u{FFFD}");
    assert_eq!(text_from_log_bytes(b"\xa4b"), "\u{FFFD}b");
    assert_eq!(text_from_log_bytes("öäü".as_bytes()), "öäü");
    assert_eq!(text_from_log_bytes(b""), "");
}

/// Regression (fuzzing, crash-534ba86b): a NUL in the method name was accepted, then
/// re-encoded as U+FFFD, so the call did not survive a round trip.
#[test]
fn fuzz_nul_in_method_name_is_rejected() {
    let doc = b"<methodCall><methodName>x\x00\x00</methodName><params><param><value>! <![CDATA[a]]>&amp;&#x41;</value></param></params></methodCall>";
    assert!(call_err(doc).contains("character U+0000 is not allowed"));
}

/// The shape supervisorctl decodes most: an array of process-info structs, with entities,
/// CDATA, a bare-text value and empty strings mixed in.
#[test]
fn nested_arrays_of_structs_decode_in_one_pass() {
    let doc = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n\
        <value><array><data>\n\
        <value><struct>\n<member>\n<name>name</name>\n<value><string>a &amp; b</string></value>\n</member>\n\
        <member><name>pid</name><value><int>7</int></value></member>\n\
        <member><name>desc</name><value>bare <![CDATA[<cdata>]]> text</value></member>\n\
        <member><name>err</name><value><string/></value></member>\n\
        <member><name>log</name><value></value></member>\n\
        <member><name>nested</name><value><array><data><value><struct>\
        <member><name>k</name><value><boolean>1</boolean></value></member>\
        </struct></value><value><array><data/></array></value></data></array></value></member>\n\
        </struct></value>\n\
        <value><struct></struct></value>\n\
        </data></array></value>\n</param>\n</params>\n</methodResponse>\n";
    let want = Value::Array(vec![
        Value::structure([
            ("name", Value::from("a & b")),
            ("pid", Value::Int(7)),
            ("desc", Value::from("bare <cdata> text")),
            ("err", Value::from("")),
            ("log", Value::from("")),
            (
                "nested",
                Value::Array(vec![
                    Value::structure([("k", Value::Bool(true))]),
                    Value::Array(vec![]),
                ]),
            ),
        ]),
        Value::Struct(vec![]),
    ]);
    assert_eq!(parse_response(doc.as_bytes()), Ok(Ok(want)));
}

#[test]
fn big_structs_keep_python_dict_semantics() {
    // Past the member count where repeated names are found by hashing instead of scanning.
    let mut doc = String::from("<struct>");
    for i in 0..100 {
        doc += &format!(
            "<member><name>k{}</name><value><int>{i}</int></value></member>",
            i % 60
        );
    }
    doc += "</struct>";
    let want: Vec<(Key, Value)> = (0..60)
        .map(|k| {
            (
                format!("k{k}").into(),
                Value::Int(if k < 40 { k + 60 } else { k }),
            )
        })
        .collect();
    assert_eq!(param(&doc), Ok(Value::Struct(want)));
}

/// The decoder reads the document once, front to back; a well-formedness error anywhere
/// still wins over a structural error found before it, as when the whole document was parsed
/// before being looked at.
#[test]
fn xml_errors_take_precedence_over_structure_errors() {
    let e = call_err(b"<methodCall><bogus/><methodName>m</methodName>\x01</methodCall>");
    assert!(e.contains("character U+0001"), "{e}");
    let e = call_err(b"<methodCall><bogus/><a></b></methodCall>");
    assert!(e.starts_with("not well-formed XML: end tag </b>"), "{e}");
    let e = call_err(b"<notACall><x></notACall>");
    assert!(e.starts_with("not well-formed XML"), "{e}");
    let e = call_err(
        b"<methodCall><params><param><value><weird/></value></param></params></methodCall>trailing",
    );
    assert!(e.contains("content after the root element"), "{e}");
    assert_eq!(
        call_err(b"<methodCall><bogus/></methodCall>"),
        "unexpected or repeated <bogus> in <methodCall>"
    );
}

#[test]
fn the_root_may_be_followed_by_misc_only() {
    assert_eq!(
        parse_call(b"<methodCall><methodName>m</methodName></methodCall>\n<!-- c --><?pi x?>\n"),
        Ok(("m".into(), vec![]))
    );
    let r = "<methodResponse><params><param><value>x</value></param></params></methodResponse>";
    assert_eq!(parse_response(r.as_bytes()), Ok(Ok(Value::from("x"))));
    for tail in ["<x/>", "text", "<!DOCTYPE x>"] {
        assert!(
            parse_response(format!("{r}{tail}").as_bytes()).is_err(),
            "{tail}"
        );
    }
}

#[test]
fn structure_errors_name_the_element() {
    let p = |inner: &str| param(inner).map_err(|e| e.to_string());
    assert_eq!(
        p("<array><data><value/></data>x</array>"),
        Err("<array> may not contain text".into())
    );
    assert_eq!(
        p("<array><data/><data/></array>"),
        Err("<array> must hold exactly one <data>".into())
    );
    assert_eq!(
        p("<struct><member><name>a</name><value/><value/></member></struct>"),
        Err("<member> must hold <name> then <value>".into())
    );
    assert_eq!(
        p("<int>1<b/></int>"),
        Err("<int> may not contain elements".into())
    );
    assert_eq!(
        p("<int>1</int> x"),
        Err("<value> must hold one type element, or text only".into())
    );
    assert_eq!(p("<nil> </nil>"), Err("<nil/> must be empty".into()));
}

#[test]
fn measured_lengths_are_what_escape_writes() {
    let samples: [&[u8]; 8] = [
        b"",
        b"plain text\n",
        b"a&b<c>d\re\x01f\tg",
        "é😀\u{FFFE}\u{FFFF}\u{7f}".as_bytes(),
        b"ab\xc3",
        b"\xa4\xff\xfe&",
        b"\xf0\x9f\x98 split emoji",
        b"\x00\x1b[31mred\x1b[0m",
    ];
    for b in samples {
        let text = text_from_log_bytes(b);
        let mut out = String::new();
        escape(&text, &mut out);
        assert_eq!(escaped_len(&text), out.len(), "{b:?}");
        assert_eq!(log_text_len(b), out.len(), "{b:?}");
    }
}

#[test]
fn escape_copies_plain_runs_and_replaces_what_xml_cannot_carry() {
    let mut out = String::new();
    escape("a&b<c>d\re\u{1}f\té\n\u{FFFE}😀 end", &mut out);
    assert_eq!(out, "a&amp;b&lt;c&gt;d&#13;e\u{FFFD}f\té\n\u{FFFD}😀 end");
    out.clear();
    escape("", &mut out);
    escape("plain", &mut out);
    escape("\u{7f}", &mut out);
    assert_eq!(out, "plain\u{7f}");
}

#[test]
fn known_member_names_are_borrowed_others_owned() {
    let doc = "<struct><member><name>statename</name><value><int>1</int></value></member>\
               <member><name>custom</name><value><int>2</int></value></member></struct>";
    let Ok(Value::Struct(m)) = param(doc) else {
        panic!("not a struct")
    };
    assert!(matches!(m[0].0, Key::Borrowed("statename")));
    assert!(matches!(&m[1].0, Key::Owned(k) if k == "custom"));
}

#[test]
fn ints_encode_like_python_and_clamp_to_i32() {
    for (n, text) in [
        (0, "0"),
        (7, "7"),
        (-7, "-7"),
        (1_234_567, "1234567"),
        (i64::from(i32::MIN), "-2147483648"),
        (i64::from(i32::MAX), "2147483647"),
        (i64::MAX, "2147483647"),
        (i64::MIN, "-2147483648"),
    ] {
        let out = encode_response(&Value::Int(n));
        assert!(
            out.contains(&format!("<value><int>{text}</int></value>")),
            "{n}: {out}"
        );
    }
}
