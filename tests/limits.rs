//! Requests that would make the daemon allocate without a bound get a fault instead (issue
//! #15, item 2): whole-log reads past the reply budget, multicalls of them, and stdin sent
//! to a child that does not read it.

mod common;

use common::rpc::{call, s, Value};
use common::*;
use std::fs;
use std::io::Write;

/// The reply budget (`api::budget::REPLY_BUDGET`).
const BUDGET: usize = 32 << 20;

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
