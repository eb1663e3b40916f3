//! The one table of API methods: name, signature, help, arity, gate and implementation.
//! `system.listMethods`, `methodSignature` and `methodHelp` are generated from it.

use super::faults::{self, Fault};
use super::{logs, procs, reload, system, twiddler, update, Ctx, Outcome};
use crate::rpc::value::Value;

pub type Handler = fn(&mut Ctx, &[Value]) -> Outcome;

pub struct MethodDef {
    pub name: &'static str,
    /// Return type then parameter types, as `system.methodSignature` reports them.
    pub sig: &'static [&'static str],
    /// What `system.methodHelp` returns: 4.3's docstring, byte for byte.
    pub help: &'static str,
    pub min: usize,
    pub max: usize,
    /// Faults SHUTDOWN_STATE while supervisord is stopping or restarting.
    pub gated: bool,
    pub run: Handler,
}

const fn m(
    name: &'static str,
    sig: &'static [&'static str],
    min: usize,
    gated: bool,
    run: Handler,
    help: &'static str,
) -> MethodDef {
    MethodDef {
        name,
        sig,
        help,
        min,
        max: sig.len() - 1,
        gated,
        run,
    }
}

fn done(v: Value) -> Outcome {
    Outcome::Done(Ok(v))
}

fn api_version(_: &mut Ctx, _: &[Value]) -> Outcome {
    done(Value::String("3.0".into()))
}

fn supervisor_version(_: &mut Ctx, _: &[Value]) -> Outcome {
    done(Value::String(crate::daemon::options::VERSION.into()))
}

fn identification(ctx: &mut Ctx, _: &[Value]) -> Outcome {
    done(Value::String(ctx.sup.config.supervisord.identifier.clone()))
}

fn get_state(ctx: &mut Ctx, _: &[Value]) -> Outcome {
    let (code, name) = ctx.sup.state_code();
    done(Value::Struct(vec![
        ("statecode".into(), Value::Int(code)),
        ("statename".into(), Value::String(name.into())),
    ]))
}

fn get_pid(_: &mut Ctx, _: &[Value]) -> Outcome {
    done(Value::Int(std::process::id() as i64))
}

fn shutdown(ctx: &mut Ctx, _: &[Value]) -> Outcome {
    ctx.sup.request_shutdown();
    done(Value::Bool(true))
}

fn restart(ctx: &mut Ctx, _: &[Value]) -> Outcome {
    ctx.sup.request_restart();
    done(Value::Bool(true))
}

fn remote_comm_event(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    // Supervisor formats both with %s, so any value goes (bytes decoded as UTF-8).
    let text = |v: &Value| match v {
        Value::Base64(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.py_str(),
    };
    let (Some(kind), Some(data)) = (p.first(), p.get(1)) else {
        return Outcome::Done(Err(Fault::plain(faults::INCORRECT_PARAMETERS)));
    };
    ctx.sup.remote_comm_event(&text(kind), &text(data));
    done(Value::Bool(true))
}

/// `name` as another name of `of`: 4.3 makes these aliases by assignment
/// (`readProcessLog = readProcessStdoutLog`), so they share its implementation, signature and
/// docstring.
const fn alias(name: &'static str, of: MethodDef) -> MethodDef {
    MethodDef { name, ..of }
}

// The help texts are Supervisor 4.3's docstrings as written (leading space, indentation and
// `@param` columns kept): `system.methodHelp` returns them verbatim, as 4.3 does.
//
// The methods 4.3 gives an alias, defined once for both rows of the table.
#[rustfmt::skip]
const GET_API_VERSION: MethodDef = m("supervisor.getAPIVersion", &["string"], 0, true, api_version,
      " Return the version of the RPC API used by supervisord

        @return string version id
        ");
#[rustfmt::skip]
const READ_LOG: MethodDef = m("supervisor.readLog", &["string", "int", "int"], 2, true, logs::read_main,
      " Read length bytes from the main log starting at offset

        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        ");
#[rustfmt::skip]
const READ_PROCESS_STDOUT_LOG: MethodDef = m("supervisor.readProcessStdoutLog", &["string", "string", "int", "int"], 3, true, logs::read_stdout,
      " Read length bytes from name's stdout log starting at offset

        @param string name        the name of the process (or 'group:name')
        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        ");
#[rustfmt::skip]
const TAIL_PROCESS_STDOUT_LOG: MethodDef = m("supervisor.tailProcessStdoutLog", &["array", "string", "int", "int"], 3, true, logs::tail_stdout,
      "
        Provides a more efficient way to tail the (stdout) log than
        readProcessStdoutLog().  Use readProcessStdoutLog() to read
        chunks and tailProcessStdoutLog() to tail.

        Requests (length) bytes from the (name)'s log, starting at
        (offset).  If the total log size is greater than (offset +
        length), the overflow flag is set and the (offset) is
        automatically increased to position the buffer at the end of
        the log.  If less than (length) bytes are available, the
        maximum number of available bytes will be returned.  (offset)
        returned is always the last offset in the log +1.

        @param string name         the name of the process (or 'group:name')
        @param int offset          offset to start reading from
        @param int length          maximum number of bytes to return
        @return array result       [string bytes, int offset, bool overflow]
        ");
#[rustfmt::skip]
const CLEAR_PROCESS_LOG: MethodDef = m("supervisor.clearProcessLog", &["boolean", "string"], 1, true, logs::clear_process,
      " Clear the stdout and stderr logs for the named process and
        reopen them.

        @param string name   The name of the process (or 'group:name')
        @return boolean result      Always True unless error
        ");

#[rustfmt::skip]
pub static METHODS: &[MethodDef] = &[
    m("supervisor.addProcessGroup", &["boolean", "string"], 1, true, reload::add_group,
      " Update the config for a running process from config file.

        @param string name         name of process group to add
        @return boolean result     true if successful
        "),
    m("supervisor.clearAllProcessLogs", &["array"], 0, true, logs::clear_all,
      " Clear all process log files

        @return array result   An array of process status info structs
        "),
    m("supervisor.clearLog", &["boolean"], 0, true, logs::clear_main,
      " Clear the main log.

        @return boolean result always returns True unless error
        "),
    CLEAR_PROCESS_LOG,
    alias("supervisor.clearProcessLogs", CLEAR_PROCESS_LOG),
    GET_API_VERSION,
    m("supervisor.getAllConfigInfo", &["array"], 0, true, reload::all_config_info,
      " Get info about all available process configurations. Each struct
        represents a single process (i.e. groups get flattened).

        @return array result  An array of process config info structs
        "),
    m("supervisor.getAllProcessHealth", &["array"], 0, true, procs::get_all_process_health,
      " Get the health of every process that has a health check (project
        extension; getProcessInfo is unchanged)

        @return array result  An array of structs: name, group, health
                              ('unknown', 'healthy' or 'unhealthy'), failures
                              (consecutive failed checks)
        "),
    m("supervisor.getAllProcessInfo", &["array"], 0, true, procs::get_all_process_info,
      " Get info about all processes

        @return array result  An array of process status results
        "),
    m("supervisor.getIdentification", &["string"], 0, true, identification,
      " Return identifying string of supervisord

        @return string identifier identifying string
        "),
    m("supervisor.getPID", &["int"], 0, true, get_pid,
      " Return the PID of supervisord

        @return int PID
        "),
    m("supervisor.getProcessInfo", &["struct", "string"], 1, true, procs::get_process_info,
      " Get info about a process named name

        @param string name The name of the process (or 'group:name')
        @return struct result     A structure containing data about the process
        "),
    m("supervisor.getStartPlan", &["array", "string"], 1, true, procs::get_start_plan,
      " The stopped dependencies (depends_on) a start of name would start
        first, in start order (an extension: not in Supervisor 4.3). Read
        only: nothing is started.

        @param string name   Process name (or ``group:name``, or ``group:*``)
        @return array result An array of namespecs
        "),
    m("supervisor.getState", &["struct"], 0, true, get_state,
      " Return current state of supervisord as a struct

        @return struct A struct with keys int statecode, string statename
        "),
    m("supervisor.getSupervisorVersion", &["string"], 0, true, supervisor_version,
      " Return the version of the supervisor package in use by supervisord

        @return string version id
        "),
    alias("supervisor.getVersion", GET_API_VERSION),
    READ_LOG,
    alias("supervisor.readMainLog", READ_LOG),
    alias("supervisor.readProcessLog", READ_PROCESS_STDOUT_LOG),
    m("supervisor.readProcessStderrLog", &["string", "string", "int", "int"], 3, true, logs::read_stderr,
      " Read length bytes from name's stderr log starting at offset

        @param string name        the name of the process (or 'group:name')
        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        "),
    READ_PROCESS_STDOUT_LOG,
    m("supervisor.reloadConfig", &["array"], 0, true, reload::reload_config,
      "
        Reload the configuration.

        The result contains three arrays containing names of process
        groups:

        * `added` gives the process groups that have been added
        * `changed` gives the process groups whose contents have
          changed
        * `removed` gives the process groups that are no longer
          in the configuration

        @return array result  [[added, changed, removed]]

        "),
    m("supervisor.reloadConfigPlan", &["array"], 0, true, update::reload_config_plan,
      " Reload the configuration, as reloadConfig does, and return what
        updateProcessGroup would do (an extension: not in Supervisor 4.3).

        One struct per change: string group, string name (empty for the
        group itself), string action ('in place', 'restart', 'add',
        'remove', 'priority', 'add group', 'remove group', 'replace
        group') and array changes (the settings that changed).

        @return array result  An array of change structs
        "),
    m("supervisor.removeProcessGroup", &["boolean", "string"], 1, true, reload::remove_group,
      " Remove a stopped process from the active configuration.

        @param string name         name of process group to remove
        @return boolean result     Indicates whether the removal was successful
        "),
    m("supervisor.restart", &["boolean"], 0, true, restart,
      " Restart the supervisor process

        @return boolean result  always return True unless error
        "),
    // restart* and rotate*: extensions, not in Supervisor 4.3.
    m("supervisor.restartAllProcesses", &["array", "boolean"], 0, true, procs::restart_all,
      " Restart every process: stop those running, then start each as soon
        as it has stopped; start those not running (an extension: not in
        Supervisor 4.3).

        @param boolean wait    Wait for each process to be running again
        @return array result   An array of process status info structs
        "),
    m("supervisor.restartProcess", &["boolean", "string", "boolean"], 1, true, procs::restart_process,
      " Restart a process: stop it, and start it as soon as it has stopped;
        start it if it is not running (an extension: not in Supervisor 4.3).
        With wait=False the call returns at once and the start follows the
        stop by itself.

        @param string name Process name (or ``group:name``, or ``group:*``)
        @param boolean wait Wait for the process to be running again
        @return boolean result     Always true unless error
        "),
    m("supervisor.restartProcessGroup", &["array", "string", "boolean"], 1, true, procs::restart_group,
      " Restart all processes in the group named 'name' (an extension: not
        in Supervisor 4.3), as restartProcess does for each.

        @param string name     The group name
        @param boolean wait    Wait for each process to be running again
        @return array result   An array of process status info structs
        "),
    m("supervisor.rotateAllProcessLogs", &["array"], 0, true, logs::rotate_all,
      " Rotate every process's log files now (an extension: not in Supervisor 4.3).

        @return array result   One struct per log file: string group, string name,
                               string channel, string logfile, boolean rotated,
                               int status, string description
        "),
    m("supervisor.rotateLog", &["array"], 0, true, logs::rotate_main,
      " Rotate the main log now (an extension: not in Supervisor 4.3).

        @return array result   One struct, as rotateProcessLogs returns them
        "),
    m("supervisor.rotateProcessLogs", &["array", "string"], 1, true, logs::rotate_process,
      " Rotate the stdout and stderr logs of the named process now, as size
        rotation does, whatever logfile_maxbytes says (an extension: not in
        Supervisor 4.3). An empty file, a file with backups=0 and a console
        stream are left as they are; a file moved by someone else is reopened.

        @param string name   The name of the process (or 'group:name', or 'group:*')
        @return array result   One struct per log file: string group, string name,
                               string channel, string logfile, boolean rotated,
                               int status, string description
        "),
    m("supervisor.sendProcessStdin", &["boolean", "string", "string"], 2, true, procs::send_stdin,
      " Send a string of chars to the stdin of the process name.
        If non-7-bit data is sent (unicode), it is encoded to utf-8
        before being sent to the process' stdin.  If chars is not a
        string or is not unicode, raise INCORRECT_PARAMETERS.  If the
        process is not running, raise NOT_RUNNING.  If the process'
        stdin cannot accept input (e.g. it was closed by the child
        process), raise NO_FILE.

        @param string name        The process name to send to (or 'group:name')
        @param string chars       The character data to send to the process
        @return boolean result    Always return True unless error
        "),
    m("supervisor.sendRemoteCommEvent", &["boolean", "string", "string"], 2, false, remote_comm_event,
      " Send an event that will be received by event listener
        subprocesses subscribing to the RemoteCommunicationEvent.

        @param  string  type  String for the \"type\" key in the event header
        @param  string  data  Data for the event body
        @return boolean       Always return True unless error
        "),
    m("supervisor.shutdown", &["boolean"], 0, true, shutdown,
      " Shut down the supervisor process

        @return boolean result always returns True unless error
        "),
    m("supervisor.signalAllProcesses", &["array", "string"], 1, false, procs::signal_all,
      " Send a signal to all processes in the process list

        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return array         An array of process status info structs
        "),
    m("supervisor.signalProcess", &["boolean", "string", "string"], 2, true, procs::signal_process,
      " Send an arbitrary UNIX signal to the process named by name

        @param string name    Name of the process to signal (or 'group:name')
        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return boolean
        "),
    m("supervisor.signalProcessGroup", &["array", "string", "string"], 2, false, procs::signal_group,
      " Send a signal to all processes in the group named 'name'

        @param string name    The group name
        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return array
        "),
    m("supervisor.startAllProcesses", &["array", "boolean"], 0, true, procs::start_all,
      " Start all processes listed in the configuration file

        @param boolean wait    Wait for each process to be fully started
        @return array result   An array of process status info structs
        "),
    m("supervisor.startProcess", &["boolean", "string", "boolean"], 1, true, procs::start_process,
      " Start a process

        @param string name Process name (or ``group:name``, or ``group:*``)
        @param boolean wait Wait for process to be fully started
        @return boolean result     Always true unless error

        "),
    m("supervisor.startProcessGroup", &["array", "string", "boolean"], 1, true, procs::start_group,
      " Start all processes in the group named 'name'

        @param string name     The group name
        @param boolean wait    Wait for each process to be fully started
        @return array result   An array of process status info structs
        "),
    m("supervisor.stopAllProcesses", &["array", "boolean"], 0, true, procs::stop_all,
      " Stop all processes in the process list

        @param  boolean wait   Wait for each process to be fully stopped
        @return array result   An array of process status info structs
        "),
    m("supervisor.stopProcess", &["boolean", "string", "boolean"], 1, true, procs::stop_process,
      " Stop a process named by name

        @param string name  The name of the process to stop (or 'group:name')
        @param boolean wait        Wait for the process to be fully stopped
        @return boolean result     Always return True unless error
        "),
    m("supervisor.stopProcessGroup", &["array", "string", "boolean"], 1, true, procs::stop_group,
      " Stop all processes in the process group named 'name'

        @param string name     The group name
        @param boolean wait    Wait for each process to be fully stopped
        @return array result   An array of process status info structs
        "),
    alias("supervisor.tailProcessLog", TAIL_PROCESS_STDOUT_LOG),
    m("supervisor.tailProcessStderrLog", &["array", "string", "int", "int"], 3, true, logs::tail_stderr,
      "
        Provides a more efficient way to tail the (stderr) log than
        readProcessStderrLog().  Use readProcessStderrLog() to read
        chunks and tailProcessStderrLog() to tail.

        Requests (length) bytes from the (name)'s log, starting at
        (offset).  If the total log size is greater than (offset +
        length), the overflow flag is set and the (offset) is
        automatically increased to position the buffer at the end of
        the log.  If less than (length) bytes are available, the
        maximum number of available bytes will be returned.  (offset)
        returned is always the last offset in the log +1.

        @param string name         the name of the process (or 'group:name')
        @param int offset          offset to start reading from
        @param int length          maximum number of bytes to return
        @return array result       [string bytes, int offset, bool overflow]
        "),
    TAIL_PROCESS_STDOUT_LOG,
    m("supervisor.updateProcessGroup", &["array", "string"], 1, true, update::update_group,
      " Bring an active process group in line with the configuration read
        last, changing only what changed (an extension: not in Supervisor
        4.3): settings that do not change how a child is spawned are applied
        to the running process, changed processes are stopped and started
        again, removed ones stopped and removed, new ones added. Returns
        when the processes it stops have stopped.

        @param string name     name of an active process group
        @return array result   What was done, as reloadConfigPlan lists it
        "),
    m("system.listMethods", &["array"], 0, false, system::list_methods,
      " Return an array listing the available method names

        @return array result  An array of method names available (strings).
        "),
    m("system.methodHelp", &["string", "string"], 1, false, system::method_help,
      " Return a string showing the method's documentation

        @param string name   The name of the method.
        @return string result The documentation for the method name.
        "),
    m("system.methodSignature", &["array", "string"], 1, false, system::method_signature,
      " Return an array describing the method signature in the
        form [rtype, ptype, ptype...] where rtype is the return data type
        of the method, and ptypes are the parameter data types that the
        method accepts in method argument order.

        @param string name  The name of the method.
        @return array result  The result.
        "),
    m("system.multicall", &["array", "array"], 1, false, system::multicall,
      "Process an array of calls, and return an array of
        results. Calls should be structs of the form {'methodName':
        string, 'params': array}. Each result will either be a
        single-item array containing the result value, or a struct of
        the form {'faultCode': int, 'faultString': string}. This is
        useful when you need to make lots of small calls without lots
        of round trips.

        @param array calls  An array of call requests
        @return array result  An array of results
        "),
    // supervisor_twiddler's interface: listed and callable only under the namespaces of
    // its `[rpcinterface:x]` sections (`twiddler::route`).
    m("twiddler.addGroup", &["boolean", "string", "int"], 2, false, twiddler::add_group,
      "Add a new process group without processes (an addition: supervisor_twiddler\nhad it before 0.2).\n\n@param string  name      Name of the new group\n@param int     priority  Group priority, as in supervisord.conf\n@return boolean          Always True unless error"),
    m("twiddler.addProgramToGroup", &["boolean", "string", "string", "struct"], 3, false, twiddler::add_program_to_group,
      "Add a program to a running process group: one process, or one per\nnumprocs, each STOPPED (started at once when autostart is true).\n\n@param string  group_name       Name of an existing process group\n@param string  program_name     The x of a [program:x] section\n@param struct  program_options  That section's options, as in supervisord.conf\n@return boolean                 Always True unless error"),
    m("twiddler.getAPIVersion", &["string"], 0, false, twiddler::get_api_version,
      "Return the version of the twiddler RPC API\n\n@return string version id"),
    m("twiddler.getGroupNames", &["array"], 0, false, twiddler::get_group_names,
      "Return the names of the process groups\n\n@return array Group names"),
    m("twiddler.log", &["boolean", "string", "string|int"], 1, false, twiddler::log,
      "Write a message to the main supervisord log\n\n@param  string      message  Message to write\n@param  string|int  level    Level name (INFO) or number (20); INFO if absent\n@return boolean              Always True unless error"),
    m("twiddler.removeProcessFromGroup", &["boolean", "string", "string"], 2, false, twiddler::remove_process_from_group,
      "Remove a stopped process from a process group (a process, not a\nprogram: one of the processes addProgramToGroup made).\n\n@param string group_name    Name of an existing process group\n@param string process_name  Name of the process to remove\n@return boolean             Always True unless error"),
];

pub fn lookup(name: &str) -> Option<&'static MethodDef> {
    // `ns.method` exactly, and never a private name (CVE-2017-11610 hardening).
    let (_, method) = name.split_once('.')?;
    if method.contains('.') || method.starts_with('_') {
        return None;
    }
    METHODS.iter().find(|d| d.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forty_one_methods_and_twiddlers_sorted_and_unique() {
        // Supervisor 4.3's 41, supervisor_twiddler's 5 plus addGroup, 3 restart, 3 rotate and
        // 2 update methods, getAllProcessHealth, getStartPlan.
        assert_eq!(METHODS.len(), 57);
        for w in METHODS.windows(2) {
            assert!(w[0].name < w[1].name, "{} !< {}", w[0].name, w[1].name);
        }
    }

    #[test]
    fn help_is_supervisors_docstring_as_written() {
        let help = |name| METHODS.iter().find(|d| d.name == name).map(|d| d.help);
        assert_eq!(
            help("supervisor.startProcess"),
            Some(" Start a process\n\n        @param string name Process name (or ``group:name``, or ``group:*``)\n        @param boolean wait Wait for process to be fully started\n        @return boolean result     Always true unless error\n\n        ")
        );
        assert_eq!(help("supervisor.readLog"), help("supervisor.readMainLog"));
    }

    #[test]
    fn lookup_rules() {
        assert!(lookup("supervisor.getState").is_some());
        assert!(lookup("getState").is_none());
        assert!(lookup("supervisor._private").is_none());
        assert!(lookup("supervisor.getState.x").is_none());
        assert!(lookup("nope.getState").is_none());
        assert_eq!(
            lookup("supervisor.startProcess").map(|d| (d.min, d.max)),
            Some((1, 2))
        );
    }
}
