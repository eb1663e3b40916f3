//! A child's environment, built in Supervisor's order (process.md §8.4): supervisord's own
//! environment, the SUPERVISOR_* variables, `[supervisord] environment`, the program's own.

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

pub fn build(
    base: &[(String, String)],
    config: &Config,
    group: &str,
    process: &ProcessConfig,
) -> Vec<(String, String)> {
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
    for (k, v) in config
        .supervisord
        .environment
        .iter()
        .chain(process.environment.iter())
    {
        set(&mut env, k, v);
    }
    env
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
    use crate::testutil::{config, process_config};

    #[test]
    fn order_and_overrides() {
        let mut cfg = config();
        cfg.supervisord.environment = vec![("A".into(), "global".into()), ("B".into(), "g".into())];
        let mut p = process_config("web_01", "x");
        p.environment = vec![("B".into(), "prog".into())];
        let base = vec![
            ("HOME".to_string(), "/root".to_string()),
            ("A".to_string(), "base".to_string()),
        ];
        let env = build(&base, &cfg, "web", &p);
        let get = |k: &str| env.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
        assert_eq!(get("HOME"), Some("/root"));
        assert_eq!(get("A"), Some("global"));
        assert_eq!(get("B"), Some("prog"));
        assert_eq!(get("SUPERVISOR_ENABLED"), Some("1"));
        assert_eq!(get("SUPERVISOR_PROCESS_NAME"), Some("web_01"));
        assert_eq!(get("SUPERVISOR_GROUP_NAME"), Some("web"));
        assert_eq!(get("SUPERVISOR_SERVER_URL"), None);
    }
}
