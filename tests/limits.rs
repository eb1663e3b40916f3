//! Requests that would make the daemon allocate without a bound get a fault instead (issue
//! #15, item 2): whole-log reads past the reply budget, multicalls of them, stdin sent to a
//! child that does not read it, many slow readers of large replies at once, and many large
//! request bodies being read at once.

mod common;

use common::rpc::{call, s, Value};
use common::*;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The reply budget (`api::budget::REPLY_BUDGET`).
const BUDGET: usize = 32 << 20;
/// What replies to log reads not yet read by their clients may hold (`http::limits::READS_HELD`).
const READS_HELD: usize = 64 << 20;
/// Large request bodies being read at once (`http::limits::BODIES_HELD`).
const BODIES_HELD: usize = 32 << 20;

/// A daemon with program `p` (not started) whose stdout log is `mb` MB of text lines.
fn with_big_log(tag: &str, mb: usize) -> Daemon {
    let d = Daemon::configure(tag, "");
    let line = format!("{}\n", "x".repeat(99));
    let mut f = fs::File::create(d.path("p.log")).unwrap();
    let block = line.repeat(10_000);
    for _ in 0..mb {
        f.write_all(block.as_bytes()).unwrap();
    }
    d.write_conf(&format!(
        "{RPC}[program:p]\ncommand=/bin/cat\nautostart=false\nstdout_logfile={{dir}}/p.log\n\
         stdout_logfile_maxbytes=0\n"
    ));
    d.spawn(&["-n"])
}

fn kib(pid: i32, field: &str) -> usize {
    proc_status_field(pid, field)
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn read_call(offset: i64, length: i64) -> Value {
    Value::Struct(vec![
        ("methodName".into(), s("supervisor.readProcessStdoutLog")),
        (
            "params".into(),
            Value::Array(vec![s("p"), Value::Int(offset), Value::Int(length)]),
        ),
    ])
}

/// Supervisor answers a length-0 read with the whole file, however large: ours faults once
/// that is past the reply budget, and says what to do instead; bounded reads and tails of
/// the same log behave as before.
#[test]
fn a_whole_log_read_past_the_reply_budget_is_a_fault_that_says_why() {
    let d = with_big_log("budget-read", 40);
    let sock = d.path("sock");
    for (offset, length) in [(0, 0), (-40_000_000, 0), (0, 40_000_000)] {
        let err = call(
            &sock,
            "supervisor.readProcessStdoutLog",
            &[s("p"), Value::Int(offset), Value::Int(length)],
        )
        .unwrap_err();
        assert_eq!(err.0, 30, "{err:?}");
        assert!(err.1.starts_with("FAILED: reply too large"), "{err:?}");
        assert!(err.1.contains("tail methods"), "{err:?}");
    }
    let line = format!("{}\n", "x".repeat(99));
    assert_eq!(
        call(
            &sock,
            "supervisor.readProcessStdoutLog",
            &[s("p"), Value::Int(100), Value::Int(100)]
        ),
        Ok(s(&line))
    );
    // supervisorctl's `tail`: the last 1600 bytes, with the overflow flag.
    let tail = call(
        &sock,
        "supervisor.tailProcessStdoutLog",
        &[s("p"), Value::Int(0), Value::Int(1600)],
    )
    .unwrap();
    assert_eq!(
        tail,
        Value::Array(vec![
            s(&line.repeat(16)),
            Value::Int(40_000_000),
            Value::Bool(true)
        ])
    );
    let err = call(
        &sock,
        "supervisor.tailProcessStdoutLog",
        &[s("p"), Value::Int(0), Value::Int(1 << 30)],
    )
    .unwrap_err();
    assert!(err.1.contains("ask for a smaller length"), "{err:?}");
    assert!(call(&sock, "supervisor.getState", &[]).is_ok());
}

/// Twenty whole reads of a 30 MB log in one multicall made Supervisor build a 600 MB reply.
/// Ours keeps the first (it fits) and faults the others, and the daemon's memory peak stays
/// a small multiple of the budget.
#[test]
fn a_multicall_of_whole_log_reads_stays_within_one_reply_budget() {
    let d = with_big_log("budget-multi", 30);
    let sock = d.path("sock");
    let calls = Value::Array((0..20).map(|_| read_call(0, 0)).collect());
    let Ok(Value::Array(results)) = call(&sock, "system.multicall", &[calls]) else {
        panic!("multicall failed");
    };
    assert_eq!(results.len(), 20);
    assert!(matches!(&results[0], Value::String(t) if t.len() == 30_000_000));
    for r in &results[1..] {
        let Value::Struct(m) = r else {
            panic!("not a fault: {:?}", r);
        };
        assert_eq!(m[0], ("faultCode".into(), Value::Int(30)));
        assert!(
            matches!(&m[1].1, Value::String(t) if t.starts_with("FAILED: reply too large")),
            "{m:?}"
        );
    }
    // Small calls after a spent budget still answer.
    let mixed = Value::Array(vec![
        read_call(0, 0),
        read_call(0, 0),
        Value::Struct(vec![("methodName".into(), s("supervisor.getAPIVersion"))]),
    ]);
    let Ok(Value::Array(results)) = call(&sock, "system.multicall", &[mixed]) else {
        panic!("multicall failed");
    };
    assert_eq!(results[2], s("3.0"));
    let peak = kib(d.pid, "VmHWM") * 1024;
    println!("daemon peak RSS after the multicalls: {} MiB", peak >> 20);
    assert!(
        peak < 3 * BUDGET,
        "peak RSS {} MiB for a {} MiB budget",
        peak >> 20,
        BUDGET >> 20
    );
}

/// Supervisor queues whatever sendProcessStdin gets for a child that never reads its stdin.
/// Ours queues at most 1 MiB (the pipe's own buffer on top), then faults without sending
/// anything; once the child reads, sending works again.
#[test]
fn send_process_stdin_queues_at_most_a_mebibyte() {
    let d = Daemon::configure("stdin-bound", "");
    let fifo = d.path("go");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo only reads the path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // The child reads nothing until the test writes to the FIFO.
    d.write_conf(&format!(
        "{RPC}[program:deaf]\ncommand=/bin/sh -c 'read x < {{dir}}/go; exec cat > {{dir}}/got'\n\
         startsecs=0\n"
    ));
    let d = d.spawn(&["-n"]);
    let sock = d.path("sock");
    d.wait_log("success: deaf entered RUNNING", 10);
    let chunk = "y".repeat(512 * 1024);
    let send = |data: &str| call(&sock, "supervisor.sendProcessStdin", &[s("deaf"), s(data)]);
    let too_big = send(&"z".repeat((1 << 20) + 1)).unwrap_err();
    assert_eq!(too_big.0, 30, "{too_big:?}");
    let mut sent = 0;
    let err = loop {
        match send(&chunk) {
            Ok(_) => sent += chunk.len(),
            Err(e) => break e,
        }
        assert!(sent <= 4 << 20, "no bound: {sent} bytes queued");
    };
    assert_eq!(err.0, 30, "{err:?}");
    assert!(
        err.1.starts_with("FAILED: deaf: stdin queue full"),
        "{err:?}"
    );
    assert!(err.1.contains("limit of 1048576 bytes"), "{err:?}");
    assert!(sent <= (1 << 20) + 64 * 1024 + chunk.len(), "{sent}");
    // The child starts reading: the queue drains, and sending works again.
    fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .unwrap()
        .write_all(b"go\n")
        .unwrap();
    wait_until(20, "the queue drained", || send(&chunk).is_ok());
    sent += chunk.len();
    wait_until(20, "every accepted byte arrived", || {
        fs::metadata(d.path("got")).map_or(0, |m| m.len() as usize) == sent
    });
}

/// Sends a POST /RPC2 of `body` on a fresh connection to `sock` (with `extra` header lines)
/// and returns the connection without reading anything.
fn post(sock: &std::path::Path, extra: &str, body: &[u8]) -> UnixStream {
    let mut c = UnixStream::connect(sock).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n{extra}\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(body).unwrap();
    c
}

/// The start of a response: its head and at least `body` bytes after it (or all there is).
fn start_of_response(c: &mut UnixStream, body: usize) -> String {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let head_end = data.windows(4).position(|w| w == b"\r\n\r\n");
        if head_end.is_some_and(|h| data.len() >= h + 4 + body) {
            break;
        }
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "reading a response: {e}; got {:?}",
                String::from_utf8_lossy(&data)
            ),
        }
    }
    String::from_utf8_lossy(&data).into_owned()
}

/// Many clients that ask for a whole 8 MB log and do not read the answer: each held its reply
/// for up to 5 s + 8 MB at 64 KiB/s (two minutes), so 24 of them held 192 MB (128 connections
/// of 32 MiB reads: 4 GiB). Now the replies held stay within READS_HELD, the clients past it
/// get a fault that says why, an admin's `supervisorctl status` works meanwhile, and a client
/// that goes away gives its share back.
#[test]
fn slow_readers_of_large_logs_hold_at_most_the_replies_budget() {
    const CLIENTS: usize = 24;
    const LOG: usize = 8_000_000;
    let d = with_big_log("held-replies", LOG / 1_000_000);
    let sock = d.path("sock");
    let request = supervisor::rpc::codec::encode_call(
        "supervisor.readProcessStdoutLog",
        &[s("p"), Value::Int(0), Value::Int(0)],
    );
    let mut clients: Vec<UnixStream> = (0..CLIENTS)
        .map(|_| post(&sock, "Connection: close\r\n", request.as_bytes()))
        .collect();
    let (mut held, mut busy) = (0, 0);
    for c in &mut clients {
        let text = start_of_response(c, 1000);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        if text.contains("<fault>") {
            assert!(
                text.contains("FAILED: server busy: the result would take 8000000 bytes"),
                "{text}"
            );
            assert!(
                text.contains("retry later, or read the log in pieces"),
                "{text}"
            );
            busy += 1;
        } else {
            assert!(text.contains("<string>xxxx"), "{text}");
            held += 1;
        }
    }
    let peak = kib(d.pid, "VmHWM") * 1024;
    println!(
        "{held} replies held, {busy} clients told the server is busy; daemon peak RSS {} MiB",
        peak >> 20
    );
    assert_eq!(held, READS_HELD / LOG, "replies held at once");
    assert_eq!(busy, CLIENTS - held);
    // The admin's status, while all those replies wait for their readers.
    let out = Command::new(bin("supervisorctl"))
        .arg("-s")
        .arg(format!("unix://{}", sock.display()))
        .arg("status")
        .stdin(Stdio::null())
        .output()
        .expect("run supervisorctl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("p ") && stdout.contains("STOPPED"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        peak < READS_HELD + 2 * BUDGET,
        "peak RSS {} MiB; {} MiB of replies may be held",
        peak >> 20,
        READS_HELD >> 20
    );
    // Clients that go away without reading give their share back.
    drop(clients);
    wait_until(30, "a whole read answered again", || {
        let mut c = post(&sock, "Connection: close\r\n", request.as_bytes());
        let mut all = Vec::new();
        c.read_to_end(&mut all).is_ok()
            && all.len() > LOG
            && !all.windows(7).any(|w| w == b"<fault>")
    });
}

/// Large request bodies are allocated at their Content-Length before they arrive: clients
/// that promise 4 MiB and send nothing more held 4 MiB each (128 connections: 512 MiB per
/// listener). Now bodies being read stay within BODIES_HELD; a large one past it gets 503 at
/// once, without a `100 Continue`, while small requests still work; a client that goes away
/// gives its share back.
#[test]
fn large_bodies_being_read_at_once_stay_within_their_budget() {
    const BODY: usize = 4 << 20;
    let d = Daemon::configure("held-bodies", RPC).spawn(&["-n"]);
    let sock = d.path("sock");
    let promise = |c: &mut UnixStream| {
        let head = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n\
             Expect: 100-continue\r\nContent-Length: {BODY}\r\n\r\n"
        );
        c.write_all(head.as_bytes()).unwrap();
        start_of_response(c, 0)
    };
    let connect = || {
        let c = UnixStream::connect(&sock).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        c
    };
    // The server says `100 Continue` once it has counted the body.
    let mut stalled = Vec::new();
    for _ in 0..BODIES_HELD / BODY {
        let mut c = connect();
        let answer = promise(&mut c);
        assert!(answer.starts_with("HTTP/1.1 100 Continue"), "{answer}");
        stalled.push(c);
    }
    let mut late = connect();
    let answer = promise(&mut late);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("Retry-After: 1"), "{answer}");
    assert!(call(&sock, "supervisor.getState", &[]).is_ok());
    drop(stalled);
    wait_until(20, "a large body taken again", || {
        let mut c = connect();
        promise(&mut c).starts_with("HTTP/1.1 100 Continue")
    });
}
