//! Fuzz target `xmlrpc_parse`: runs `supervisor::fuzz::xmlrpc_parse` (its invariants are documented there;
//! tests/fuzz_seeds.rs replays fuzz/seeds/xmlrpc_parse/ through the same function on stable Rust).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| supervisor::fuzz::xmlrpc_parse(data));
