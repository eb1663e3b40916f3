//! A child's environment, built in Supervisor's order (process.md §8.4): supervisord's own
//! environment, the SUPERVISOR_* variables, `[supervisord] environment`, the program's own;
//! with the `environment_file=` files (read here, at every spawn) before each `environment=`.

use crate::config::envfile;
use crate::config::{Config, ProcessConfig};

/// The URL children find in SUPERVISOR_SERVER_URL when their `serverurl` is AUTO.
pub fn default_server_url(config: &Config) -> Option<String> {
    if let Some(u) = config.unix_servers.first() {
        return Some(format!("unix://{}", u.file.display()));
    }
    config.inet_servers.first().map(|i| {
        let host = if i.host.is_empty() || i.host == "*" {
            "localhost"
        } else {
            &i.host
        };
        format!("http://{host}:{}", i.port)
    })
}

fn set(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    match env.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value.to_string(),
        None => env.push((key.to_string(), value.to_string())),
    }
}

/// The environment of `process`'s next child. The error (an environment file that cannot be
/// read or parsed) names the file and is the spawn error; it never quotes the file's text.
pub fn build(
    base: &[(String, String)],
    config: &Config,
    group: &str,
    process: &ProcessConfig,
) -> Result<Vec<(String, String)>, String> {
    let mut env = base.to_vec();
    set(&mut env, "SUPERVISOR_ENABLED", "1");
    let url = process
        .serverurl
        .clone()
        .or_else(|| default_server_url(config));
    if let Some(url) = url {
        set(&mut env, "SUPERVISOR_SERVER_URL", &url);
    }
    set(&mut env, "SUPERVISOR_PROCESS_NAME", &process.name);
    set(&mut env, "SUPERVISOR_GROUP_NAME", group);
    envfile::read_into(&config.supervisord.environment_files, &mut env)?;
    for (k, v) in &config.supervisord.environment {
        set(&mut env, k, v);
    }
    envfile::read_into(&process.environment_files, &mut env)?;
    for (k, v) in &process.environment {
        set(&mut env, k, v);
    }
    Ok(env)
}

/// supervisord's own environment, captured once at startup (kept across restarts).
pub fn current() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{config, owned, process_config};

    /// The value of `key` in a built environment.
    fn value<'a>(env: &'a [(String, String)], key: &str) -> Option<&'a str> {
        env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn order_and_overrides() {
        let mut cfg = config();
        cfg.supervisord.environment = owned(&[("A", "global"), ("B", "g")]);
        let mut p = process_config("web_01", "x");
        p.environment = owned(&[("B", "prog")]);
        let base = owned(&[("HOME", "/root"), ("A", "base")]);
        let env = build(&base, &cfg, "web", &p).unwrap();
        let get = |k: &str| value(&env, k);
        assert_eq!(get("HOME"), Some("/root"));
        assert_eq!(get("A"), Some("global"));
        assert_eq!(get("B"), Some("prog"));
        assert_eq!(get("SUPERVISOR_ENABLED"), Some("1"));
        assert_eq!(get("SUPERVISOR_PROCESS_NAME"), Some("web_01"));
        assert_eq!(get("SUPERVISOR_GROUP_NAME"), Some("web"));
        assert_eq!(get("SUPERVISOR_SERVER_URL"), None);
    }

    #[test]
    fn environment_files_precedence() {
        use crate::config::envfile::EnvFile;
        let dir = crate::testutil::TempDir::new("envprec");
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            EnvFile {
                path,
                optional: false,
            }
        };
        let mut cfg = config();
        cfg.supervisord.environment_files =
            vec![file("g.env", "A=gfile\nB=gfile\nC=gfile\nD=gfile\n")];
        cfg.supervisord.environment = owned(&[("B", "genv"), ("C", "genv")]);
        let mut p = process_config("web", "x");
        p.environment_files = vec![file("p.env", "C=pfile\nD=pfile\nSUPERVISOR_ENABLED=file\n")];
        p.environment = owned(&[("D", "penv")]);
        let base = owned(&[("A", "base"), ("Z", "base")]);
        let env = build(&base, &cfg, "web", &p).unwrap();
        let get = |k: &str| value(&env, k);
        assert_eq!(get("Z"), Some("base"));
        assert_eq!(get("A"), Some("gfile"));
        assert_eq!(get("B"), Some("genv"));
        assert_eq!(get("C"), Some("pfile"));
        assert_eq!(get("D"), Some("penv"));
        assert_eq!(get("SUPERVISOR_ENABLED"), Some("file"));

        p.environment_files.push(EnvFile {
            path: dir.path().join("gone.env"),
            optional: false,
        });
        let e = build(&base, &cfg, "web", &p).unwrap_err();
        assert!(e.contains("gone.env"), "{e}");
    }
}
