//! Commands about supervisord itself and the session: `version`, `reload`, `shutdown`, `open`,
//! and `quit`/`exit`/EOF (ctl.md §4).

use super::status::{show, status};
use crate::api::faults;
use crate::ctl::client::CallError;
use crate::ctl::controller::{exit, Controller};
use crate::ctl::url::open_scheme_ok;

pub fn version(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !arg.is_empty() {
        ctl.usage_error(
            "Error: version accepts no arguments",
            "version",
            exit::GENERIC,
        );
        return Ok(());
    }
    if !ctl.upcheck()? {
        return Ok(());
    }
    let v = ctl.call("supervisor.getSupervisorVersion", &[])?;
    ctl.say(&show(&v));
    Ok(())
}

pub fn reload(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !arg.is_empty() {
        ctl.usage_error(
            "Error: reload accepts no arguments",
            "reload",
            exit::GENERIC,
        );
        return Ok(());
    }
    if !ctl.confirm("Really restart the remote supervisord process y/N? ") {
        return Ok(());
    }
    match ctl.call("supervisor.restart", &[]) {
        Ok(_) => ctl.say("Restarted supervisord"),
        Err(CallError::Fault { code, .. }) if code == faults::SHUTDOWN_STATE => {
            ctl.say("ERROR: already shutting down");
            ctl.exit = exit::GENERIC;
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

pub fn shutdown(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    if !arg.is_empty() {
        ctl.usage_error(
            "Error: shutdown accepts no arguments",
            "shutdown",
            exit::GENERIC,
        );
        return Ok(());
    }
    if !ctl.confirm("Really shut the remote supervisord process down y/N? ") {
        return Ok(());
    }
    match ctl.call("supervisor.shutdown", &[]) {
        Ok(_) => ctl.say("Shut down"),
        // Already on its way down: not an error for the exit status (T5).
        Err(CallError::Fault { code, .. }) if code == faults::SHUTDOWN_STATE => {
            ctl.say("ERROR: already shutting down");
        }
        Err(CallError::Refused(url)) => {
            ctl.say(&format!(
                "ERROR: {url} refused connection (already shut down?)"
            ));
            ctl.exit = exit::GENERIC;
        }
        Err(CallError::NoSuchFile(url)) => {
            ctl.say(&format!("ERROR: {url} no such file (already shut down?)"));
            ctl.exit = exit::GENERIC;
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Switches the session to another server, then shows its status (keeping the exit status).
pub fn open(ctl: &mut Controller, arg: &str) -> Result<(), CallError> {
    let url = arg.trim();
    if !open_scheme_ok(url) {
        ctl.say("ERROR: url must be http:// or unix://");
        ctl.exit = exit::GENERIC;
        return Ok(());
    }
    let mut server = ctl.client.server.clone();
    server.url = url.to_string();
    ctl.client.set_server(server);
    let before = ctl.exit;
    let result = status(ctl, "");
    ctl.exit = before;
    result
}

pub fn quit(ctl: &mut Controller, _arg: &str) -> Result<(), CallError> {
    ctl.say("");
    ctl.done = true;
    Ok(())
}
