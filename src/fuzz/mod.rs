//! Fuzz entry points: one function per target, taking the raw input and panicking when an
//! invariant breaks. The cargo-fuzz targets in fuzz/ call exactly these, and
//! tests/fuzz_seeds.rs replays the committed seeds (fuzz/seeds/<target>/) through them on
//! stable Rust, so an input that once broke an invariant stays a test (docs/hardening.md).

mod http;

use std::path::Path;

use crate::config::ini::Ini;
use crate::config::{self, Auth, Overrides};
use crate::events::listener::{ListenerState, Message, Protocol};
use crate::http::auth;
use crate::rpc::{base64, codec, Value};

pub use http::http_request;

/// A target's entry point.
pub type Target = fn(&[u8]);

/// Every target by name, as fuzz/fuzz_targets/<name>.rs and fuzz/seeds/<name>/ call it.
pub const TARGETS: &[(&str, Target)] = &[
    ("xmlrpc_parse", xmlrpc_parse),
    ("http_auth", http_auth),
    ("http_request", http_request),
    ("config", config),
    ("listener_reply", listener_reply),
];

/// The XML-RPC decoders never panic, and whatever they accept re-encodes into a document they
/// accept again; from then on encoding is a fixed point (the first pass may normalise: trim
/// the method name, clamp ints to 32 bits).
pub fn xmlrpc_parse(data: &[u8]) {
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
    // The lossy log helper takes any bytes; what it makes always encodes well-formed.
    let text = codec::text_from_log_bytes(data);
    let resp = codec::encode_response(&Value::String(text));
    assert!(codec::parse_response(resp.as_bytes()).is_ok());
}

/// sha1("thepassword"), the password both credential checks below are configured with.
const SHA_OF_PASSWORD: &str = "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d";

/// Base64 round-trips, and HTTP Basic checking of an arbitrary `Authorization` value never
/// panics and accepts exactly the configured credentials, plain or `{SHA}`.
pub fn http_auth(data: &[u8]) {
    assert_eq!(base64::decode(&base64::encode(data)).as_deref(), Some(data));
    if let Some(bytes) = base64::decode(&String::from_utf8_lossy(data)) {
        assert_eq!(base64::decode(&base64::encode(&bytes)), Some(bytes));
    }
    let plain = Auth {
        username: "user".into(),
        password: "thepassword".into(),
    };
    let sha = Auth {
        password: SHA_OF_PASSWORD.into(),
        ..plain.clone()
    };
    let header = std::str::from_utf8(data).ok();
    let verdict = auth::check(Some(&plain), header);
    assert_eq!(verdict, auth::check(Some(&sha), header), "{header:?}");
    assert!(auth::check(None, header));
    // The input as the password of a well-formed header: accepted iff it is the right one.
    if let Some(pass) = header {
        let hdr = format!(
            "Basic {}",
            base64::encode(format!("user:{pass}").as_bytes())
        );
        assert_eq!(auth::check(Some(&sha), Some(&hdr)), pass == "thepassword");
        assert_eq!(auth::check(Some(&plain), Some(&hdr)), pass == "thepassword");
    }
}

/// Where the config text claims to be: nothing exists there, so `%(here)s` paths name nothing.
const CONFIG_PATH: &str = "/nonexistent/fuzz/supervisord.conf";

/// The config readers on arbitrary text: the INI parser's invariants, supervisorctl's reader,
/// and supervisord's whole `load` (in memory; skipped for text with an `[include]`, which would
/// read whatever files the input names). A file the INI parser refuses fails both loaders
/// with the parser's message.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut ini = Ini::new();
    let parsed = ini.read_str(text, CONFIG_PATH);
    check_ini(&ini, text);
    let ctl = config::ctl::ctl_config_from_text(text, CONFIG_PATH);
    if let Err(e) = &parsed {
        assert_eq!(ctl.as_ref().err(), Some(e));
    }
    if parsed.is_ok() && ini.has_section("include") {
        return;
    }
    let loaded = config::load_text(text, Path::new(CONFIG_PATH), &Overrides::default());
    match (&parsed, loaded) {
        (Err(e), loaded) => assert_eq!(loaded.err().as_ref(), Some(e)),
        (Ok(()), Ok(c)) => {
            // Start order: groups by (priority, name), each group's name once.
            let keys: Vec<_> = c.groups.iter().map(|g| (g.priority, &g.name)).collect();
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
            // Group names go into URLs and listener headers: 4.3 refuses these characters
            // in them (an empty name, as `[program:]` gives, it accepts). Process names are
            // checked as templates only, so `%(process_num)3d` may still pad them with spaces.
            for g in &c.groups {
                assert!(!g.name.contains([' ', ':', '/']), "group {:?}", g.name);
            }
        }
        (Ok(()), Err(_)) => {}
    }
}

fn check_ini(ini: &Ini, text: &str) {
    let lines = text.split_inclusive(['\n', '\r']).count().max(1);
    let sections = ini.sections().iter().map(|s| s.entries());
    for (key, entry) in sections.flatten().chain(ini.defaults()) {
        assert!(!key.is_empty() && !key.contains(['=', ':']), "key {key:?}");
        assert_eq!(key, key.to_lowercase(), "keys are lower-cased");
        assert_eq!(
            entry.value.trim_end_matches(crate::pyrepr::is_space),
            entry.value
        );
        assert!(
            (1..=lines).contains(&entry.loc.line),
            "line {}",
            entry.loc.line
        );
    }
}

/// Separates the listener's writes in a listener_reply input: between two, supervisord sends
/// an event if the listener is READY.
const WRITE_END: u8 = 0xff;

/// A listener's stdout, write by write (split at `WRITE_END`), parsed twice: each write at
/// once, and byte by byte as a slow pipe would deliver it. Both must give the same messages
/// (up to the garbage text) and states, and every message must be legal in the state the
/// listener was in.
pub fn listener_reply(data: &[u8]) {
    let mut whole = Protocol::new();
    let mut bytes = Protocol::new();
    let (mut got_whole, mut got_bytes) = (Vec::new(), Vec::new());
    for write in data.split(|&b| b == WRITE_END) {
        let (from_whole, from_bytes) = (got_whole.len(), got_bytes.len());
        let before = whole.state();
        whole.feed_into(write, &mut got_whole);
        for b in write {
            bytes.feed_into(std::slice::from_ref(b), &mut got_bytes);
        }
        let after = check_messages(before, &got_whole[from_whole..]);
        assert_eq!(after, whole.state());
        assert_eq!(after, bytes.state(), "byte by byte: {got_bytes:?}");
        let kinds = |m: &[Message]| m.iter().map(kind).collect::<Vec<_>>();
        assert_eq!(
            kinds(&got_whole[from_whole..]),
            kinds(&got_bytes[from_bytes..])
        );
        if whole.state() == ListenerState::Ready {
            whole.sent();
            bytes.sent();
        }
    }
    let body_bytes: usize = got_whole
        .iter()
        .map(|m| match m {
            Message::Result(body) => body.len(),
            _ => 0,
        })
        .sum();
    assert!(
        body_bytes <= data.len(),
        "result bodies longer than the input"
    );
}

/// The message with any garbage text left out (it quotes what was buffered when it was seen).
fn kind(m: &Message) -> Message {
    match m {
        Message::Garbage(_) => Message::Garbage(String::new()),
        other => other.clone(),
    }
}

/// The state `msgs` lead to from `state`, panicking at a message not allowed there.
fn check_messages(mut state: ListenerState, msgs: &[Message]) -> ListenerState {
    for m in msgs {
        state = match (state, m) {
            (ListenerState::Acknowledged, Message::Ready) => ListenerState::Ready,
            (ListenerState::Busy, Message::Result(_)) => ListenerState::Acknowledged,
            (s, Message::Garbage(_)) if s != ListenerState::Unknown => ListenerState::Unknown,
            (s, m) => panic!("{m:?} in {}", s.name()),
        };
    }
    state
}
