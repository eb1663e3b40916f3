//! Fuzz target: the XML-RPC decoders must never panic on arbitrary bytes, and whatever they
//! accept must re-encode into a document they accept again; from then on encoding is a fixed
//! point (the first pass may normalise: trim the method name, clamp ints to 32 bits).
#![no_main]

use libfuzzer_sys::fuzz_target;
use supervisor::rpc::codec;

fuzz_target!(|data: &[u8]| {
    if let Ok((name, params)) = codec::parse_call(data) {
        let once = codec::encode_call(&name, &params);
        let (name2, params2) = codec::parse_call(once.as_bytes()).expect("re-encoded call parses");
        assert_eq!(name, name2);
        assert_eq!(params.len(), params2.len());
        assert_eq!(once, codec::encode_call(&name2, &params2));
    }
    match codec::parse_response(data) {
        Ok(Ok(v)) => {
            let once = codec::encode_response(&v);
            let again = codec::parse_response(once.as_bytes()).expect("re-encoded response parses");
            let v2 = again.expect("a value, not a fault");
            assert_eq!(once, codec::encode_response(&v2));
        }
        Ok(Err((code, text))) => {
            let once = codec::encode_fault(code, &text);
            let again = codec::parse_response(once.as_bytes()).expect("re-encoded fault parses");
            let (code2, text2) = again.expect_err("a fault, not a value");
            assert_eq!(text, text2);
            assert_eq!(once, codec::encode_fault(code2, &text2));
        }
        Err(_) => {}
    }
    // The lossy log helper must take any bytes; its output must always encode well-formed.
    let text = codec::text_from_log_bytes(data);
    let resp = codec::encode_response(&supervisor::rpc::Value::String(text));
    assert!(codec::parse_response(resp.as_bytes()).is_ok());
});
