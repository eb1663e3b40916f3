//! HTTP Basic authentication against a server's username/password, with `{SHA}` hashes.
//! Improvements over Supervisor (README R12): constant-time comparison, upper- or lower-case
//! hex digests, and a credential without `:` is a plain 401 rather than a 500.

use crate::config::Auth;
use crate::rpc::base64;

/// Compares without an early exit, so the time taken does not reveal the common prefix.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | (a.len() != b.len()) as u8;
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(!x);
    }
    diff == 0
}

fn password_matches(configured: &str, given: &str) -> bool {
    match configured.strip_prefix("{SHA}") {
        Some(digest) => {
            let hex = sha1_smol::Sha1::from(given.as_bytes()).digest().to_string();
            ct_eq(digest.to_ascii_lowercase().as_bytes(), hex.as_bytes())
        }
        None => ct_eq(configured.as_bytes(), given.as_bytes()),
    }
}

/// Checks an `Authorization` header value against `auth`. No auth configured: always true.
pub fn check(auth: Option<&Auth>, header: Option<&str>) -> bool {
    let Some(auth) = auth else {
        return true;
    };
    let Some(header) = header else {
        return false;
    };
    let mut parts = header.trim().splitn(2, ' ');
    let scheme = parts.next().unwrap_or("");
    let cred = parts.next().unwrap_or("");
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Some(decoded) = base64::decode(cred.trim()) else {
        return false;
    };
    let decoded = String::from_utf8_lossy(&decoded);
    let Some((user, pass)) = decoded.split_once(':') else {
        return false;
    };
    // Evaluate both so a wrong user costs the same as a wrong password.
    let user_ok = ct_eq(user.as_bytes(), auth.username.as_bytes());
    let pass_ok = password_matches(&auth.password, pass);
    user_ok & pass_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(u: &str, p: &str) -> Auth {
        Auth {
            username: u.into(),
            password: p.into(),
        }
    }

    #[test]
    fn plain_and_sha() {
        let hdr = "Basic dXNlcjp0aGVwYXNzd29yZA=="; // user:thepassword
        assert!(check(Some(&auth("user", "thepassword")), Some(hdr)));
        assert!(check(
            Some(&auth(
                "user",
                "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d"
            )),
            Some(hdr)
        ));
        assert!(check(
            Some(&auth(
                "user",
                "{SHA}82AB876D1387BFAFE46CC1C8A2EF074EAE50CB1D"
            )),
            Some(hdr)
        ));
        assert!(!check(Some(&auth("user", "other")), Some(hdr)));
        assert!(!check(Some(&auth("root", "thepassword")), Some(hdr)));
        assert!(!check(Some(&auth("user", "thepassword")), None));
        assert!(!check(
            Some(&auth("user", "thepassword")),
            Some("Digest xyz")
        ));
        // No colon in the credential: a clean refusal.
        assert!(!check(Some(&auth("user", "x")), Some("Basic dXNlcg==")));
        assert!(check(None, None));
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(!ct_eq(b"", b"a"));
        assert!(ct_eq(b"", b""));
    }
}
