//! Fuzz target: HTTP Basic credential checking (base64 decoding, the `user:password` split,
//! `{SHA}` digests) must never panic on an arbitrary `Authorization` header value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = supervisor::rpc::base64::decode(&String::from_utf8_lossy(data));
    let _ = supervisor::http::auth::check(
        Some(&supervisor::config::Auth {
            username: "u".into(),
            password: "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d".into(),
        }),
        std::str::from_utf8(data).ok(),
    );
});
