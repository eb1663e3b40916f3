//! Fuzz target `http_auth`: runs `supervisor::fuzz::http_auth` (its invariants are documented there;
//! tests/fuzz_seeds.rs replays fuzz/seeds/http_auth/ through the same function on stable Rust).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| supervisor::fuzz::http_auth(data));
