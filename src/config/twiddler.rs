//! What supervisor_twiddler's RPC interface needs from the configuration: its
//! `[rpcinterface:x]` sections (the factory, the `whitelist` option), and the processes of a
//! `[program:x]` section built at run time from an RPC struct instead of a file
//! (`twiddler.addProgramToGroup`), validated by the same code as the file's programs.

use super::expand::Val;
use super::ini::{Ini, Location};
use super::load_program::processes;
pub use super::model::TwiddlerConfig;
use super::model::{Config, ProcessConfig};
use super::reader::Ctx;
use super::types::{integer, list_of_strings};
use super::{known, ConfigError};

/// The factory a `[rpcinterface:x]` section names to get the twiddler interface.
pub const FACTORY: &str = "supervisor_twiddler.rpcinterface:make_twiddler_rpcinterface";

/// The twiddler section `name` (`rpcinterface:x`): `whitelist` is its only option, as the
/// factory takes no other argument (4.3 fails to start with a TypeError for another key).
pub fn section(ctx: &Ctx, name: &str) -> Result<TwiddlerConfig, ConfigError> {
    let sec = ctx.section(name);
    let names = ctx.names(&[]);
    let namespace = name.split_once(':').map_or("", |(_, n)| n).to_string();
    if namespace == "supervisor" || namespace == "system" {
        return Err(sec.err(
            None,
            format!("[{name}] cannot serve the twiddler interface: '{namespace}' is a built-in namespace"),
        ));
    }
    let mut whitelist = Vec::new();
    if let Some(section) = ctx.ini.section(name) {
        for (key, _) in section.entries() {
            match key {
                "supervisor.rpcinterface_factory" => {}
                "whitelist" => whitelist = list_of_strings(&sec.get_or(key, "", &names)?),
                other => {
                    return Err(sec.err(
                        Some(other),
                        format!("{FACTORY} takes no option '{other}' (only whitelist)"),
                    ))
                }
            }
        }
    }
    Ok(TwiddlerConfig {
        namespace,
        whitelist,
    })
}

/// Where errors about a run-time program say it came from.
pub const ORIGIN: &str = "twiddler.addProgramToGroup";

/// The most processes one run-time program may have: its `numprocs` comes from a client, and
/// each process is a record and two log files.
pub const MAX_PROCESSES: i64 = 1000;

/// The processes of `[program:<name>]` with `options` (key, value as text), for group
/// `group` of the running `config`: expanded with the names a file's section gets (`here` is
/// the configuration file's directory, `ENV_*` supervisord's environment and its
/// `[supervisord] environment`). Also the warnings a file's section would get (unknown keys).
pub fn program(
    config: &Config,
    group: &str,
    name: &str,
    options: &[(String, String)],
) -> Result<(Vec<std::sync::Arc<ProcessConfig>>, Vec<String>), ConfigError> {
    let section = format!("program:{name}");
    let mut ini = Ini::new();
    ini.add_section(
        &section,
        Location {
            file: ORIGIN.into(),
            line: 0,
        },
    );
    for (i, (key, value)) in options.iter().enumerate() {
        let loc = Location {
            file: ORIGIN.into(),
            line: i + 1,
        };
        ini.set(&section, key, value, loc);
    }
    let mut env = super::load::process_env_names();
    for (k, v) in &config.supervisord.environment {
        env.insert(format!("ENV_{k}"), Val::Str(v.clone()));
    }
    let here = config
        .path
        .parent()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut ctx = Ctx {
        ini: &ini,
        here,
        host: super::host_node_name(),
        env,
        warnings: known::check(&ini).warnings,
    };
    let sec = ctx.section(&section);
    let names = ctx.names(&[
        ("here", Val::Str(ctx.here.clone())),
        ("program_name", Val::Str(name.to_string())),
        ("host_node_name", Val::Str(ctx.host.clone())),
        ("group_name", Val::Str(group.to_string())),
    ]);
    let numprocs = sec.conv("numprocs", "1", &names, integer)?;
    if numprocs > MAX_PROCESSES {
        return Err(sec.err(
            Some("numprocs"),
            format!("numprocs={numprocs}: one program added at run time has at most {MAX_PROCESSES} processes"),
        ));
    }
    if sec.has("depends_on") {
        // Dependencies are checked as a whole graph (cycles) when a file is read; one
        // program added at run time cannot be.
        return Err(sec.err(
            Some("depends_on"),
            "depends_on is only read from the configuration file, not for a program added at run time",
        ));
    }
    let procs = processes(&mut ctx, &section, group)?;
    Ok((procs, ctx.warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{config, owned};

    #[test]
    fn dependencies_are_refused_at_run_time() {
        let e = program(
            &config(),
            "grp",
            "web",
            &owned(&[("command", "sleep 1"), ("depends_on", "db")]),
        )
        .unwrap_err();
        assert!(e
            .0
            .starts_with("depends_on is only read from the configuration file"));
        assert!(e.0.contains("key: 'depends_on'"), "{}", e.0);
    }

    #[test]
    fn a_program_from_options_is_checked_like_a_files() {
        let mut c = config();
        c.supervisord.environment = vec![("GREETING".into(), "hi".into())];
        let (procs, warnings) = program(
            &c,
            "grp",
            "web",
            &owned(&[
                (
                    "Command",
                    "echo %(ENV_GREETING)s %(group_name)s %(process_num)d",
                ),
                ("numprocs", "2"),
                ("process_name", "%(program_name)s_%(process_num)d"),
                ("autostart", "false"),
                ("bogus", "1"),
            ]),
        )
        .unwrap();
        let names: Vec<&str> = procs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["web_0", "web_1"]);
        assert_eq!(procs[1].command, "echo hi grp 1");
        assert!(!procs[0].autostart);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("bogus"), "{warnings:?}");

        let e = program(&c, "grp", "x", &owned(&[("autostart", "true")])).unwrap_err();
        assert!(
            e.0.starts_with("program section program:x does not specify a command"),
            "{e}"
        );
        let e = program(
            &c,
            "grp",
            "x",
            &owned(&[("command", "a"), ("startsecs", "soon")]),
        )
        .unwrap_err();
        assert!(e.0.contains(ORIGIN) && e.0.contains("'startsecs'"), "{e}");
        assert!(program(&c, "grp", "a:b", &owned(&[("command", "a")])).is_err());
        let many = owned(&[
            ("command", "a"),
            ("numprocs", "100000000"),
            ("process_name", "%(process_num)d"),
        ]);
        let e = program(&c, "grp", "x", &many).unwrap_err();
        assert!(e.0.starts_with("numprocs=100000000: one program"), "{e}");
    }
}
