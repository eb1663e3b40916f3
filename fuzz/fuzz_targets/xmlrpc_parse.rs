//! Fuzz target: the XML-RPC decoders must never panic, and what they accept must re-encode
//! into something they accept again with the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use supervisor::rpc::codec;

fuzz_target!(|data: &[u8]| {
    if let Ok((name, params)) = codec::parse_call(data) {
        let again = codec::encode_call(&name, &params);
        let (name2, params2) = codec::parse_call(again.as_bytes()).expect("re-encoded call parses");
        assert_eq!(name.trim(), name2.trim());
        assert_eq!(params.len(), params2.len());
    }
    if let Ok(Ok(v)) = codec::parse_response(data) {
        let again = codec::encode_response(&v);
        assert!(codec::parse_response(again.as_bytes()).is_ok());
    }
    let _ = supervisor::http::auth::check(
        Some(&supervisor::config::Auth {
            username: "u".into(),
            password: "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d".into(),
        }),
        std::str::from_utf8(data).ok(),
    );
});
