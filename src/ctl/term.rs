//! The terminal side: whether stdin/stdout are terminals, reading lines from stdin without a
//! line editor (piped input, confirmations, `fg` and `debug` input) through one shared buffer
//! so no typed-ahead line is lost between readers, and reading a password without echo.

use super::interrupt::{self, Wait};
use std::io;
use std::sync::Mutex;
use std::time::Duration;

pub fn stdin_is_tty() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(libc::STDIN_FILENO) == 1 }
}

pub fn stdout_is_tty() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(libc::STDOUT_FILENO) == 1 }
}

/// What reading a line ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A line without its newline (the last line of the input may lack one).
    Text(String),
    Eof,
    Interrupted,
    TimedOut,
}

/// Bytes read from stdin but not yet returned as lines.
struct Pending {
    buf: Vec<u8>,
    eof: bool,
}

static STDIN: Mutex<Pending> = Mutex::new(Pending {
    buf: Vec::new(),
    eof: false,
});

/// Reads one line from stdin, waiting at most `timeout` for more input.
pub fn read_line(timeout: Option<Duration>) -> io::Result<Line> {
    let mut p = STDIN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(i) = p.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = p.buf.drain(..=i).collect();
            return Ok(Line::Text(String::from_utf8_lossy(&line[..i]).into_owned()));
        }
        if p.eof {
            if p.buf.is_empty() {
                // A terminal's Ctrl-D ends one read, not the input: the shell may read again.
                if stdin_is_tty() {
                    p.eof = false;
                }
                return Ok(Line::Eof);
            }
            let line = std::mem::take(&mut p.buf);
            return Ok(Line::Text(String::from_utf8_lossy(&line).into_owned()));
        }
        match interrupt::wait_readable(libc::STDIN_FILENO, timeout)? {
            Wait::Interrupted => return Ok(Line::Interrupted),
            Wait::TimedOut => return Ok(Line::TimedOut),
            Wait::Ready => {}
        }
        let mut chunk = [0u8; 4096];
        // SAFETY: reading into a local buffer of the given length.
        let n = unsafe { libc::read(libc::STDIN_FILENO, chunk.as_mut_ptr().cast(), chunk.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => continue,
                _ => return Err(e),
            }
        }
        if n == 0 {
            p.eof = true;
        } else {
            p.buf.extend_from_slice(&chunk[..n as usize]);
        }
    }
}

/// Prints `prompt` on stdout and reads a line.
pub fn prompt_line(prompt: &str) -> io::Result<Line> {
    use std::io::Write;
    let mut out = io::stdout().lock();
    let _ = out.write_all(prompt.as_bytes());
    let _ = out.flush();
    drop(out);
    read_line(None)
}

/// Reads a line with terminal echo off (when stdin is a terminal).
pub fn prompt_secret(prompt: &str) -> io::Result<Line> {
    // SAFETY: termios is plain data; tcgetattr fills it or fails.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a termios struct.
    let have_tty = unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut saved) } == 0;
    if have_tty {
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: valid pointer to a termios struct.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSAFLUSH, &quiet) };
    }
    let line = prompt_line(prompt);
    if have_tty {
        // SAFETY: restoring the attributes read above.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSAFLUSH, &saved) };
        println!();
    }
    line
}
