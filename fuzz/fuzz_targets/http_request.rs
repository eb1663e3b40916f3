//! Fuzz target `http_request`: runs `supervisor::fuzz::http_request` (its invariants are documented there;
//! tests/fuzz_seeds.rs replays fuzz/seeds/http_request/ through the same function on stable Rust).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| supervisor::fuzz::http_request(data));
