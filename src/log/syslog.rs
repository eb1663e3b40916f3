//! syslog(3) output for the main log (`logfile=syslog`) and for `*_syslog=true` child output.

use crate::config::LogLevel;
use std::ffi::CString;
use std::sync::Once;

static OPEN: Once = Once::new();

/// Opens the connection with ident `supervisord` and facility LOG_USER, like Python's defaults.
pub fn open() {
    OPEN.call_once(|| {
        // openlog keeps the pointer, so the ident must live forever.
        static IDENT: &[u8] = b"supervisord\0";
        // SAFETY: IDENT is a static NUL-terminated string.
        unsafe { libc::openlog(IDENT.as_ptr().cast(), 0, libc::LOG_USER) };
    });
}

fn priority(level: LogLevel) -> libc::c_int {
    match level {
        LogLevel::Critical => libc::LOG_CRIT,
        LogLevel::Error => libc::LOG_ERR,
        LogLevel::Warn => libc::LOG_WARNING,
        LogLevel::Info => libc::LOG_INFO,
        _ => libc::LOG_DEBUG,
    }
}

pub fn send(level: LogLevel, text: &str) {
    open();
    let Ok(msg) = CString::new(text.replace('\0', "\\0")) else {
        return;
    };
    // SAFETY: a constant "%s" format with one valid C string argument.
    unsafe { libc::syslog(priority(level), c"%s".as_ptr(), msg.as_ptr()) };
}

/// Child output: each line of the chunk as `<process name> <line>` at LOG_INFO.
pub fn send_child_output(process: &str, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.trim_end_matches('\n').split('\n') {
        send(LogLevel::Info, &format!("{process} {line}"));
    }
}
