//! Which text makes up the configuration: the default search for the config file, reading it,
//! and following `[include] files` (globs relative to the main file, per-file `%(here)s`).

use std::path::{Path, PathBuf};

use super::expand::{Names, Val};
use super::glob::glob;
use super::ini::Ini;
use super::pypath;
use super::reader::located;
use super::ConfigError;

/// The six places searched without `-c`, for an executable at `exe`: `<X>/etc/supervisord.conf`
/// and `<X>/supervisord.conf` where `<X>` is the parent of the executable's directory, then the
/// current directory's `supervisord.conf` and `etc/supervisord.conf`, then `/etc`.
pub fn search_paths(exe: &str) -> Vec<String> {
    let x = pypath::dirname(&pypath::dirname(exe));
    vec![
        pypath::join(&pypath::join(&x, "etc"), "supervisord.conf"),
        pypath::join(&x, "supervisord.conf"),
        "supervisord.conf".to_string(),
        "etc/supervisord.conf".to_string(),
        "/etc/supervisord.conf".to_string(),
        "/etc/supervisor/supervisord.conf".to_string(),
    ]
}

/// The first existing search path. The executable's real location (`/proc/self/exe`) stands
/// for Python's full script path; `argv0` is the fallback when it cannot be read.
pub fn find_config_file(argv0: &str) -> Result<PathBuf, ConfigError> {
    let exe = std::fs::read_link("/proc/self/exe")
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| argv0.to_string());
    first_existing(&search_paths(&exe))
}

fn first_existing(paths: &[String]) -> Result<PathBuf, ConfigError> {
    // `exists` follows symlinks and accepts directories, as Python's os.path.exists does.
    match paths.iter().find(|p| Path::new(p).exists()) {
        Some(p) => Ok(PathBuf::from(p)),
        None => Err(ConfigError(format!(
            "No config file found at default paths ({}); use the -c option to specify a config \
             file at a different path",
            paths.join(", ")
        ))),
    }
}

/// The parsed files and what reading them had to say.
pub struct Sources {
    pub ini: Ini,
    /// Absolute directory of the main file.
    pub here: String,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

fn read_text(path: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "the file is not valid UTF-8".to_string())
}

/// Reads the main file and the files its `[include]` section names.
pub fn read_sources(path: &Path, env: &Names, host: &str) -> Result<Sources, ConfigError> {
    sources_from_text(&read_main(path)?, path, env, host)
}

/// The main file's text, with 4.3's messages for a missing or unreadable file.
fn read_main(path: &Path) -> Result<String, ConfigError> {
    let name = path.to_string_lossy();
    if !path.exists() {
        return Err(ConfigError(format!("could not find config file {name}")));
    }
    match read_text(&name) {
        Ok(t) => Ok(t),
        Err(why) if why.contains("UTF-8") => Err(ConfigError(format!(
            "could not read config file {name}: {why}"
        ))),
        Err(_) => Err(ConfigError(format!("could not read config file {name}"))),
    }
}

/// Parses `text` as the main file `path` (named as given, so messages show it as the user
/// wrote it) and reads the files its `[include]` section names. `env` holds the `ENV_*`
/// names. Separate from reading the file so that the fuzzer (`crate::fuzz`) runs it in memory.
pub fn sources_from_text(
    text: &str,
    path: &Path,
    env: &Names,
    host: &str,
) -> Result<Sources, ConfigError> {
    let name = path.to_string_lossy().into_owned();
    let mut ini = Ini::new();
    ini.read_str(text, &name)?;
    let here = pypath::abspath(&pypath::dirname(&name));
    let mut src = Sources {
        ini,
        here,
        warnings: Vec::new(),
        infos: Vec::new(),
    };
    if src.ini.has_section("include") {
        read_includes(&mut src, env, host)?;
    }
    Ok(src)
}

fn read_includes(src: &mut Sources, env: &Names, host: &str) -> Result<(), ConfigError> {
    src.ini.replace_here(&src.here);
    let mut names = env.clone();
    names.insert("here".into(), Val::Str(src.here.clone()));
    names.insert("host_node_name".into(), Val::Str(host.to_string()));
    let sec = super::reader::Sec::new(&src.ini, "include");
    let Some(files) = sec.get("files", &names)? else {
        let header = sec.header();
        return Err(located(
            ".ini file has [include] section, but no files setting",
            "include",
            &header,
            None,
        ));
    };
    for pattern in files
        .split(crate::pyrepr::is_space)
        .filter(|p| !p.is_empty())
    {
        let pattern = pypath::join(&src.here, pattern);
        let mut matches = glob(&pattern);
        if matches.is_empty() {
            src.warnings
                .push(format!("No file matches via include \"{pattern}\""));
            continue;
        }
        matches.sort();
        for file in matches {
            src.infos
                .push(format!("Included extra file \"{file}\" during parsing"));
            let text = match read_text(&file) {
                Ok(t) => t,
                // 4.3 skips unreadable matches (e.g. a directory) silently; say so at least.
                Err(why) => {
                    src.warnings
                        .push(format!("Could not read included file \"{file}\": {why}"));
                    continue;
                }
            };
            src.ini.read_str(&text, &file)?;
            src.ini
                .replace_here(&pypath::abspath(&pypath::dirname(&file)));
        }
    }
    Ok(())
}

/// `platform.node()`: the uname node name.
pub fn host_node_name() -> String {
    // SAFETY: utsname is plain old data; uname fills it with NUL-terminated strings.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: u is a valid, writable utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return String::new();
    }
    // SAFETY: on success nodename is NUL-terminated within the array.
    let node = unsafe { std::ffi::CStr::from_ptr(u.nodename.as_ptr()) };
    node.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn search_order() {
        assert_eq!(
            search_paths("/usr/bin/supervisord"),
            vec![
                "/usr/etc/supervisord.conf",
                "/usr/supervisord.conf",
                "supervisord.conf",
                "etc/supervisord.conf",
                "/etc/supervisord.conf",
                "/etc/supervisor/supervisord.conf",
            ]
        );
        assert_eq!(search_paths("supervisord")[0], "etc/supervisord.conf");
        assert_eq!(search_paths("supervisord")[1], "supervisord.conf");
    }

    #[test]
    fn not_found_message() {
        let paths: Vec<String> = vec!["/nonexistent/a".into(), "/nonexistent/b".into()];
        assert_eq!(
            first_existing(&paths).unwrap_err().0,
            "No config file found at default paths (/nonexistent/a, /nonexistent/b); use the \
             -c option to specify a config file at a different path"
        );
        let t = TempDir::new("config");
        let f = t.write("x.conf", "");
        let paths = vec!["/nonexistent/a".to_string(), f.clone()];
        assert_eq!(first_existing(&paths).unwrap(), PathBuf::from(f));
    }

    #[test]
    fn missing_and_unreadable_main_file() {
        let t = TempDir::new("config");
        let p = t.path().join("nope.conf");
        let e = read_sources(&p, &Names::new(), "h").err().unwrap();
        assert_eq!(e.0, format!("could not find config file {}", p.display()));
        let e = read_sources(t.path(), &Names::new(), "h").err().unwrap();
        assert_eq!(
            e.0,
            format!("could not read config file {}", t.path().display())
        );
    }

    #[test]
    fn includes_are_globbed_sorted_and_reported() {
        let t = TempDir::new("config");
        let main = t.write(
            "main.conf",
            "[supervisord]\n[include]\nfiles = conf.d/*.conf nomatch/*.ini %(here)s/abs.conf\n\
             [program:m]\ndir=%(here)s\n",
        );
        t.write("conf.d/b.conf", "[program:b]\ndir=%(here)s\n");
        t.write(
            "conf.d/a.conf",
            "[program:a]\ndir=%(here)s\n[include]\nfiles=x\n",
        );
        t.write("abs.conf", "[program:c]\ncommand=c\n");
        let src = read_sources(Path::new(&main), &Names::new(), "h").unwrap();
        let root = t.path_str();
        assert_eq!(
            src.infos,
            vec![
                format!("Included extra file \"{root}/conf.d/a.conf\" during parsing"),
                format!("Included extra file \"{root}/conf.d/b.conf\" during parsing"),
                format!("Included extra file \"{root}/abs.conf\" during parsing"),
            ]
        );
        assert_eq!(
            src.warnings,
            vec![format!(
                "No file matches via include \"{root}/nomatch/*.ini\""
            )]
        );
        let names: Vec<&str> = src.ini.sections().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "supervisord",
                "include",
                "program:m",
                "program:a",
                "program:b",
                "program:c"
            ]
        );
        assert_eq!(src.ini.get("program:m", "dir").unwrap().value, root);
        assert_eq!(
            src.ini.get("program:a", "dir").unwrap().value,
            format!("{root}/conf.d")
        );
        assert_eq!(
            src.ini.get("program:b", "dir").unwrap().value,
            format!("{root}/conf.d")
        );
        let a = src.ini.section("program:a").unwrap();
        assert_eq!(&*a.loc.file, format!("{root}/conf.d/a.conf"));
        // An included [include] only changes the value; it is never followed.
        assert_eq!(src.ini.get("include", "files").unwrap().value, "x");
    }

    #[test]
    fn include_without_files_is_an_error() {
        let t = TempDir::new("config");
        let main = t.write("main.conf", "[supervisord]\n\n[include]\n");
        let e = read_sources(Path::new(&main), &Names::new(), "h")
            .err()
            .unwrap();
        assert_eq!(
            e.0,
            format!(
                ".ini file has [include] section, but no files setting in section 'include' \
                 (file: '{main}', line: 3)"
            )
        );
    }

    #[test]
    fn parse_errors_in_included_files_name_that_file() {
        let t = TempDir::new("config");
        let main = t.write("main.conf", "[include]\nfiles=inc.conf\n");
        let inc = t.write("inc.conf", "[x]\nbad line\n");
        let e = read_sources(Path::new(&main), &Names::new(), "h")
            .err()
            .unwrap();
        assert_eq!(
            e.0,
            format!("Source contains parsing errors: '{inc}'\n\t[line  2]: 'bad line\\n'")
        );
    }

    #[test]
    fn host_name_is_not_empty() {
        assert!(!host_node_name().is_empty());
    }
}
