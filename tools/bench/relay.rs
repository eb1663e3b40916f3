//! The machine's floor for delivering child output as events (bench.py's "raw" event relay):
//! the least any supervisor must do per line, with nothing else. It runs an emitter and a
//! listener, sleeps in poll(2) on the emitter's stdout, and for each read: appends the bytes to
//! a log file, reads the listener's earlier answer without waiting (as our daemon does while
//! the pool is idle), and writes a PROCESS_LOG_STDOUT notification to the listener. No
//! protocol checks, no buffering, no allocation per event.
//!
//! Usage: relay LOGFILE EMITTER... -- LISTENER...   (runs until killed)
//! Built by `make bench` with plain rustc: std only, plus two libc calls.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

extern "C" {
    fn poll(fds: *mut PollFd, nfds: u64, timeout: i32) -> i32;
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
}

const POLLIN: i16 = 1;
const F_SETFL: i32 = 4;
const O_NONBLOCK: i32 = 0o4000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sep = args
        .iter()
        .position(|a| a == "--")
        .expect("usage: relay LOG EMITTER... -- LISTENER...");
    let (log, emitter, listener) = (&args[0], &args[1..sep], &args[sep + 1..]);
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    let mut lst = Command::new(&listener[0])
        .args(&listener[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("listener");
    let mut em = Command::new(&emitter[0])
        .args(&emitter[1..])
        .stdout(Stdio::piped())
        .spawn()
        .expect("emitter");
    let mut to_listener = lst.stdin.take().expect("listener stdin");
    let mut from_listener = lst.stdout.take().expect("listener stdout");
    let mut out = em.stdout.take().expect("emitter stdout");
    // SAFETY: fcntl on a descriptor we own.
    unsafe { fcntl(from_listener.as_raw_fd(), F_SETFL, O_NONBLOCK) };
    let head = format!(
        "processname:emit groupname:emit pid:{} channel:stdout\n",
        em.id()
    );
    let mut buf = vec![0u8; 128 * 1024];
    let mut reply = [0u8; 4096];
    let mut note = Vec::with_capacity(256 * 1024);
    let mut serial = 0u64;
    let mut pfd = PollFd {
        fd: out.as_raw_fd(),
        events: POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd.
        if unsafe { poll(&mut pfd, 1, -1) } < 0 {
            continue;
        }
        let n = match out.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        log.write_all(&buf[..n]).expect("log write");
        let _ = from_listener.read(&mut reply);
        let text = std::str::from_utf8(&buf[..n]).unwrap_or("");
        note.clear();
        let _ = write!(
            note,
            "ver:3.0 server:supervisor serial:{serial} pool:lat poolserial:{serial} \
             eventname:PROCESS_LOG_STDOUT len:{}\n{head}{text}",
            head.len() + text.chars().count()
        );
        serial += 1;
        to_listener.write_all(&note).expect("listener write");
    }
}
