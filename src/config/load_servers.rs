//! `[rpcinterface:x]` sections and the HTTP servers (`[inet_http_server*]` first, then
//! `[unix_http_server*]`), with the startup messages about their authentication.

use super::expand::{Names, Val};
use super::load_program::object_name;
use super::model::{Auth, InetServerConfig, LogLevel, UnixServerConfig};
use super::pypath;
use super::reader::{Ctx, Sec};
use super::twiddler::{self, TwiddlerConfig};
use super::types::{inet_address, octal};
use super::users::parse_owner;
use super::ConfigError;

const FACTORY_KEY: &str = "supervisor.rpcinterface_factory";
const MAIN_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";

/// The `x` of every `[rpcinterface:x]`, and those that serve supervisor_twiddler's interface.
/// Only Supervisor's standard factory and twiddler's can be provided. The standard section's
/// other keys are expanded (as 4.3 does for its factory arguments) but otherwise unused.
pub fn rpcinterfaces(ctx: &Ctx) -> Result<(Vec<String>, Vec<TwiddlerConfig>), ConfigError> {
    let names = ctx.names(&[]);
    let mut out = Vec::new();
    let mut twiddlers = Vec::new();
    for section in ctx
        .ini
        .sections()
        .iter()
        .filter(|s| s.name.starts_with("rpcinterface:"))
    {
        let s = section.name.as_str();
        let sec = ctx.section(s);
        let Some(factory) = sec.get(FACTORY_KEY, &names)? else {
            return Err(sec.err(
                None,
                format!("section [{s}] does not specify a {FACTORY_KEY}"),
            ));
        };
        if factory == twiddler::FACTORY {
            twiddlers.push(twiddler::section(ctx, s)?);
            out.push(object_name(s).to_string());
            continue;
        }
        if factory != MAIN_FACTORY {
            return Err(sec.err(
                Some(FACTORY_KEY),
                format!(
                    "{factory} cannot be resolved within [{s}]: only {MAIN_FACTORY} and {} \
                     are supported",
                    twiddler::FACTORY
                ),
            ));
        }
        // `[DEFAULT]` keys are not checked here: 4.3 would pass them to the factory too, so a
        // default meant for programs (`%(program_name)s`) would fail in this section.
        for (key, _) in section.entries() {
            if key != FACTORY_KEY {
                sec.get(key, &names)?;
            }
        }
        out.push(object_name(s).to_string());
    }
    Ok((out, twiddlers))
}

/// The configured HTTP servers and what to log about them once the main log is open.
pub struct Servers {
    pub inet: Vec<InetServerConfig>,
    pub unix: Vec<UnixServerConfig>,
    pub messages: Vec<(LogLevel, String)>,
}

/// `username`/`password`: both or neither. An empty username disables authentication, which
/// 4.3 does silently even when a password is set; we warn (README C17).
fn auth(
    sec: Sec,
    names: &Names,
    messages: &mut Vec<(LogLevel, String)>,
) -> Result<Option<Auth>, ConfigError> {
    let s = sec.name;
    let username = sec.get("username", names)?;
    let password = sec.get("password", names)?;
    let auth = match (username, password) {
        (None, None) => None,
        (Some(username), Some(password)) => {
            if username.is_empty() {
                messages.push((
                    LogLevel::Warn,
                    format!(
                        "Server '{s}' has an empty username: HTTP authentication is disabled \
                         although a password is set"
                    ),
                ));
                None
            } else {
                Some(Auth { username, password })
            }
        }
        _ => {
            return Err(sec.err_first(
                &["username", "password"],
                format!(
                    "Section [{s}] contains incomplete authentication: If a username or a \
                     password is specified, both the username and password must be specified"
                ),
            ))
        }
    };
    // No auth: the daemon logs "running without any HTTP authentication checking" once the
    // server is open, after its "RPC interface" line, as 4.3 does.
    Ok(auth)
}

/// Every section whose name starts with `inet_http_server` or `unix_http_server` (so
/// `[inet_http_server:two]` adds a server, as in 4.3).
pub fn servers(ctx: &Ctx) -> Result<Servers, ConfigError> {
    let mut out = Servers {
        inet: Vec::new(),
        unix: Vec::new(),
        messages: Vec::new(),
    };
    let names = ctx.names(&[]);
    let sections: Vec<&str> = ctx.ini.sections().iter().map(|s| s.name.as_str()).collect();
    for s in sections
        .iter()
        .copied()
        .filter(|s| s.starts_with("inet_http_server"))
    {
        let sec = ctx.section(s);
        let auth = auth(sec, &names, &mut out.messages)?;
        let Some(port) = sec.get("port", &names)? else {
            return Err(sec.err(None, format!("section [{s}] has no port value")));
        };
        let (host, port) = sec.check("port", inet_address(&port))?;
        out.inet.push(InetServerConfig {
            section: s.to_string(),
            host,
            port,
            auth,
        });
    }
    for s in sections
        .iter()
        .copied()
        .filter(|s| s.starts_with("unix_http_server"))
    {
        let sec = ctx.section(s);
        let mut file_names = names.clone();
        file_names.insert("here".into(), Val::Str(ctx.here.clone()));
        let Some(file) = sec.get("file", &file_names)? else {
            return Err(sec.err(None, format!("section [{s}] has no file value")));
        };
        let file = pypath::normalize_path(crate::pyrepr::strip(&file));
        // Collected aside so that a later error cannot leave half the messages.
        let mut msgs = Vec::new();
        let auth = auth(sec, &names, &mut msgs)?;
        let chown = sec.conv_opt("chown", &names, |v| {
            parse_owner(v).map_err(|_| format!("Invalid sockchown value {v}"))
        })?;
        let chmod = sec
            .conv_opt("chmod", &names, |v| {
                octal(v).map_err(|_| format!("Invalid chmod value {v}"))
            })?
            .unwrap_or(0o700);
        out.messages.extend(msgs);
        out.unix.push(UnixServerConfig {
            section: s.to_string(),
            file: file.into(),
            chmod,
            chown,
            auth,
        });
    }
    Ok(out)
}
