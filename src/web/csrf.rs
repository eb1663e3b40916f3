//! CSRF protection in depth for the web UI's POST actions: an HMAC token tied to the status
//! page (issued with each rendering, valid for a day, keyed by a per-daemon random secret) and
//! a strict same-origin check of the Origin header, or else the Referer header, against Host.

use crate::http::server::HttpRequest;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// A token older than this is refused (a tab left open overnight still works).
pub const TOKEN_LIFETIME_SECS: u64 = 24 * 3600;
/// What the token is tied to: only forms rendered by the status page carry it.
const PAGE: &str = "index.html";

fn secret() -> &'static [u8; 32] {
    static SECRET: OnceLock<[u8; 32]> = OnceLock::new();
    SECRET.get_or_init(|| {
        let mut key = [0u8; 32];
        use std::io::Read;
        if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
            if f.read_exact(&mut key).is_ok() {
                return key;
            }
        }
        // No /dev/urandom (chroot): fall back to time and pid mixed through SHA-1.
        let seed = format!(
            "{:?}{}{:p}",
            SystemTime::now(),
            std::process::id(),
            &key as *const _
        );
        let d = sha1_smol::Sha1::from(seed).digest().bytes();
        key[..20].copy_from_slice(&d);
        key
    })
}

/// HMAC-SHA1 (RFC 2104) of `msg` under `key` (≤ 64 bytes).
fn hmac(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let mut k = [0u8; 64];
    k[..key.len()].copy_from_slice(key);
    let mut inner = sha1_smol::Sha1::new();
    inner.update(&k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = sha1_smol::Sha1::new();
    outer.update(&k.map(|b| b ^ 0x5c));
    outer.update(&inner.digest().bytes());
    outer.digest().bytes()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn mac(issued: u64) -> String {
    hex(&hmac(secret(), format!("{PAGE}:{issued}").as_bytes()))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A fresh token for a page rendered now: `<issued>.<hmac>`. The status page asks once per
/// rendering and puts it in every form.
pub fn token() -> String {
    let t = unix_now();
    format!("{t}.{}", mac(t))
}

/// Checks a token from a form: well formed, made by this daemon, not expired.
pub fn token_valid(token: &str) -> bool {
    let Some((t, m)) = token.split_once('.') else {
        return false;
    };
    let Ok(issued) = t.parse::<u64>() else {
        return false;
    };
    let now = unix_now();
    if issued > now + 60 || now - issued.min(now) > TOKEN_LIFETIME_SECS {
        return false;
    }
    let want = mac(issued);
    want.len() == m.len()
        && want
            .bytes()
            .zip(m.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The signature that lets the status page show `message`: only messages made by an action
/// are shown, so a crafted link cannot put text of its choosing into the page.
pub fn sign_message(message: &str) -> String {
    hex(&hmac(secret(), format!("message:{message}").as_bytes()))
}

pub fn message_valid(message: &str, sig: &str) -> bool {
    let want = sign_message(message);
    want.len() == sig.len()
        && want
            .bytes()
            .zip(sig.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// `host[:port]` of an absolute URL (`http://h:1/x` → `h:1`).
fn authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    // Drop userinfo.
    Some(auth.rsplit_once('@').map_or(auth, |(_, h)| h))
}

/// The same-origin rule: the Origin header if present, else the Referer, must name the host
/// the request was sent to. Neither present (a non-browser client) leaves the token as the
/// only check. `Err` says why the request is refused.
pub fn same_origin(req: &HttpRequest) -> Result<(), String> {
    let (what, value) = match (req.header("Origin"), req.header("Referer")) {
        (Some(o), _) => ("Origin", o),
        (None, Some(r)) => ("Referer", r),
        (None, None) => return Ok(()),
    };
    let Some(host) = req.host.as_deref() else {
        return Err(format!("{what} {value:?} but no Host header"));
    };
    match authority(value.trim()) {
        Some(a) if a.eq_ignore_ascii_case(host.trim()) => Ok(()),
        _ => Err(format!("{what} {value:?} is not this site ({host})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            url: "/index.html".into(),
            host: Some("127.0.0.1:9001".into()),
            headers: crate::testutil::owned(headers),
            body: Vec::new(),
            loopback_only: true,
            reply: crate::http::held::ReplyTo::channel().0,
        }
    }

    #[test]
    fn tokens_round_trip_and_reject_forgeries() {
        let t = token();
        assert!(token_valid(&t));
        assert!(!token_valid(""));
        assert!(!token_valid("123"));
        let (issued, m) = t.split_once('.').unwrap();
        assert!(!token_valid(&format!(
            "{}.{m}",
            issued.parse::<u64>().unwrap() + 1
        )));
        assert!(!token_valid(&format!("{issued}.{}", "0".repeat(40))));
        let old = unix_now() - TOKEN_LIFETIME_SECS - 5;
        assert!(!token_valid(&format!("{old}.{}", mac(old))));
    }

    #[test]
    fn messages_are_signed() {
        let sig = sign_message("Process a stopped");
        assert!(message_valid("Process a stopped", &sig));
        assert!(!message_valid("Process b stopped", &sig));
        assert!(!message_valid("Process a stopped", ""));
    }

    #[test]
    fn hmac_matches_rfc2202() {
        // RFC 2202 test case 2.
        assert_eq!(
            hex(&hmac(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn origin_then_referer() {
        assert!(same_origin(&req(&[])).is_ok());
        assert!(same_origin(&req(&[("Origin", "http://127.0.0.1:9001")])).is_ok());
        assert!(same_origin(&req(&[("Origin", "http://evil.example")])).is_err());
        assert!(same_origin(&req(&[("Origin", "null")])).is_err());
        assert!(same_origin(&req(&[("Origin", "http://127.0.0.1:9002")])).is_err());
        // Origin wins over a matching Referer.
        assert!(same_origin(&req(&[
            ("Origin", "http://evil.example"),
            ("Referer", "http://127.0.0.1:9001/")
        ]))
        .is_err());
        assert!(same_origin(&req(&[("Referer", "http://127.0.0.1:9001/index.html?x")])).is_ok());
        assert!(same_origin(&req(&[("Referer", "http://evil.example/127.0.0.1:9001")])).is_err());
        assert!(same_origin(&req(&[("Referer", "http://127.0.0.1:9001@evil.example/")])).is_err());
    }
}
