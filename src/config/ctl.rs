//! The `[supervisorctl]` section, read only by supervisorctl (config.md §1.2, §5.4): server
//! URL, credentials, prompt and history file. Includes and every other section are ignored,
//! as Supervisor's client does.

use super::expand::{expand, Names, Val};
use super::ini::Ini;
use super::pypath;
use super::ConfigError;
use std::path::Path;

/// The section's values, expanded and normalised; `None` where the key is absent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CtlSection {
    /// `unix://` paths are `~`-expanded and made absolute.
    pub serverurl: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: Option<String>,
    /// Absolute; an empty value means "no history" and is `None`.
    pub history_file: Option<String>,
    /// Names of `[ctlplugin:x]` sections: Python plugins, which cannot be loaded here.
    pub plugins: Vec<String>,
}

/// Reads `path`. Ok(None) when the file has no `[supervisorctl]` section (the caller decides
/// whether that is fatal, README T1).
pub fn read_ctl_config(path: &Path) -> Result<Option<CtlSection>, ConfigError> {
    let name = path.to_string_lossy().into_owned();
    if !path.exists() {
        return Err(ConfigError(format!("could not find config file {name}")));
    }
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            ConfigError(format!(
                "could not read config file {name}: the file is not valid UTF-8"
            ))
        })?,
        Err(_) => return Err(ConfigError(format!("could not read config file {name}"))),
    };
    ctl_config_from_text(&text, &name)
}

/// `read_ctl_config` of text already in memory, as the file `name` would hold it (the
/// fuzzer's way in, `crate::fuzz::config`).
pub fn ctl_config_from_text(text: &str, name: &str) -> Result<Option<CtlSection>, ConfigError> {
    let mut ini = Ini::new();
    ini.read_str(text, name)?;
    let here = pypath::dirname(&pypath::normalize_path(name));
    parse_section(&ini, &here, env_names())
}

/// `ENV_<NAME>` for every (UTF-8) variable of this process's environment.
fn env_names() -> Names {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .map(|(k, v)| (format!("ENV_{k}"), Val::Str(v)))
        .collect()
}

fn parse_section(ini: &Ini, here: &str, env: Names) -> Result<Option<CtlSection>, ConfigError> {
    const SECTION: &str = "supervisorctl";
    if !ini.has_section(SECTION) {
        return Ok(None);
    }
    let mut with_here = env.clone();
    with_here.insert("here".into(), Val::Str(here.to_string()));
    // Only serverurl and history_file know %(here)s; every key knows the ENV_ names.
    let get = |key: &str, names: &Names| -> Result<Option<String>, ConfigError> {
        match ini.get(SECTION, key) {
            None => Ok(None),
            Some(e) => expand(&e.value, names, &format!("{SECTION}.{key}"))
                .map(Some)
                .map_err(ConfigError),
        }
    };
    let serverurl = get("serverurl", &with_here)?.map(|url| match url.strip_prefix("unix://") {
        Some(path) => format!("unix://{}", pypath::normalize_path(path)),
        None => url,
    });
    let history_file = get("history_file", &with_here)?
        .filter(|h| !h.is_empty())
        .map(|h| pypath::normalize_path(&h));
    Ok(Some(CtlSection {
        serverurl,
        username: get("username", &env)?,
        password: get("password", &env)?,
        prompt: get("prompt", &env)?,
        history_file,
        plugins: ini
            .sections()
            .iter()
            .filter(|s| s.name.starts_with("ctlplugin:"))
            .map(|s| s.name.clone())
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<CtlSection>, ConfigError> {
        let mut ini = Ini::new();
        ini.read_str(text, "t.conf")?;
        let mut env = Names::new();
        env.insert("ENV_HOME".into(), Val::Str("/home/u".into()));
        parse_section(&ini, "/etc/x", env)
    }

    #[test]
    fn text_in_memory_reads_as_the_file_holding_it() {
        let t = crate::testutil::TempDir::new("ctlconf");
        let text = "[supervisorctl]\nserverurl=unix://%(here)s/s.sock\nprompt=%(ENV_HOME)s\n";
        let path = t.write("c.conf", text);
        let from_file = read_ctl_config(Path::new(&path));
        assert!(matches!(&from_file, Ok(Some(c)) if c.serverurl.is_some()));
        assert_eq!(ctl_config_from_text(text, &path), from_file);
    }

    #[test]
    fn missing_section_is_none() {
        assert_eq!(parse("[supervisord]\n").unwrap(), None);
    }

    #[test]
    fn keys_are_expanded_and_normalised() {
        let c = parse(
            "[supervisorctl]\nserverurl=unix://%(here)s/../s.sock\nusername=u\npassword=p%%\n\
             prompt=%(ENV_HOME)s\nhistory_file=%(here)s/h\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.serverurl.as_deref(), Some("unix:///etc/s.sock"));
        assert_eq!(c.username.as_deref(), Some("u"));
        assert_eq!(c.password.as_deref(), Some("p%"));
        assert_eq!(c.prompt.as_deref(), Some("/home/u"));
        assert_eq!(c.history_file.as_deref(), Some("/etc/x/h"));
    }

    #[test]
    fn defaults_apply_and_here_is_not_in_the_prompt() {
        let c = parse("[DEFAULT]\nprompt=p\n[supervisorctl]\nhistory_file=\n")
            .unwrap()
            .unwrap();
        assert_eq!((c.prompt.as_deref(), c.history_file), (Some("p"), None));
        let e = parse("[supervisorctl]\nprompt=%(here)s\n").unwrap_err();
        assert!(
            e.0.contains("'supervisorctl.prompt' contains names ('here')"),
            "{e}"
        );
        let c = parse("[supervisorctl]\nserverurl=http://h:1\n")
            .unwrap()
            .unwrap();
        assert_eq!(c.serverurl.as_deref(), Some("http://h:1"));
    }
}
