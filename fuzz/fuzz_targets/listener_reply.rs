//! Fuzz target `listener_reply`: runs `supervisor::fuzz::listener_reply` (its invariants are documented there;
//! tests/fuzz_seeds.rs replays fuzz/seeds/listener_reply/ through the same function on stable Rust).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| supervisor::fuzz::listener_reply(data));
