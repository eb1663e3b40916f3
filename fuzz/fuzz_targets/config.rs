//! Fuzz target `config`: runs `supervisor::fuzz::config` (its invariants are documented there;
//! tests/fuzz_seeds.rs replays fuzz/seeds/config/ through the same function on stable Rust).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| supervisor::fuzz::config(data));
