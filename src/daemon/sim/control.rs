//! The control plane's calls that reach a child: `signal_process` and `send_stdin`.

use super::{program, Rig};
use crate::daemon::control::{StdinError, STDIN_QUEUE_MAX};
use crate::process::{Input, ProcessState};

#[test]
fn a_signal_goes_to_the_main_pid_only_a_stop_to_the_group() {
    let mut pc = program("web");
    pc.killasgroup = true;
    pc.stopasgroup = true;
    let mut rig = Rig::programs(vec![pc]);
    let id = rig.id("web");
    // Not running: there is nobody to signal, and no kill is made.
    assert_eq!(rig.sup.signal_process(id, libc::SIGHUP), Ok(()));
    assert!(rig.kills().is_empty());
    let pid = rig.running("web");
    assert_eq!(rig.sup.signal_process(id, libc::SIGHUP), Ok(()));
    assert_eq!(rig.kills(), vec![(pid, libc::SIGHUP)]);
    assert_eq!(rig.state("web"), ProcessState::Running);
    rig.logged(&format!("DEBG sending web (pid {pid}) sig SIGHUP"));
    // stopasgroup: the stop signals the whole process group.
    rig.apply("web", Input::Stop);
    assert_eq!(rig.kills().last(), Some(&(-pid, libc::SIGTERM)));
}

#[test]
fn a_refused_signal_is_a_fault_unless_the_pid_is_just_gone() {
    let mut rig = Rig::programs(vec![program("web")]);
    let pid = rig.running("web");
    let id = rig.id("web");
    rig.kills_fail(Some(libc::ESRCH));
    assert_eq!(rig.sup.signal_process(id, libc::SIGUSR1), Ok(()));
    assert_eq!(rig.state("web"), ProcessState::Running);
    assert_eq!(rig.sup.state_code(), (1, "RUNNING"));
    rig.logged(&format!(
        "DEBG unable to signal web (pid {pid}), it probably just now exited on its own"
    ));
    // Any other error: the fault's detail, the process UNKNOWN, supervisord FATAL.
    rig.kills_fail(Some(libc::EPERM));
    let message = "EPERM (Operation not permitted (os error 1))";
    assert_eq!(
        rig.sup.signal_process(id, libc::SIGUSR1),
        Err(message.to_string())
    );
    assert_eq!(rig.state("web"), ProcessState::Unknown);
    assert_eq!(rig.sup.state_code(), (2, "FATAL"));
    assert_eq!(
        rig.sup.fatal_cause(),
        Some(format!("kill({pid}, SIGUSR1) of 'web' failed: {message}").as_str())
    );
    rig.logged(&format!(
        "CRIT unknown problem sending sig web ({pid}):{message}"
    ));
}

#[test]
fn stdin_is_written_through_queued_when_full_and_bounded() {
    let mut rig = Rig::programs(vec![program("cat")]);
    let id = rig.id("cat");
    // Before a spawn there is no stdin to write to.
    assert_eq!(rig.sup.send_stdin(id, b"x"), Err(StdinError::Closed));
    rig.running("cat");
    assert_eq!(rig.sup.send_stdin(id, b"hello\n"), Ok(()));
    assert_eq!(rig.os.borrow().written, b"hello\n");
    // A full pipe: the bytes wait, up to the bound.
    rig.os.borrow_mut().write_errno = Some(libc::EAGAIN);
    let half = vec![b'a'; STDIN_QUEUE_MAX / 2];
    assert_eq!(rig.sup.send_stdin(id, &half), Ok(()));
    assert_eq!(rig.sup.send_stdin(id, &half), Ok(()));
    assert_eq!(
        rig.sup.send_stdin(id, b"!"),
        Err(StdinError::Full {
            queued: STDIN_QUEUE_MAX
        })
    );
    // The pipe takes them once writable again; nothing refused was kept.
    rig.os.borrow_mut().write_errno = None;
    rig.sup.flush_stdin(id);
    assert_eq!(rig.os.borrow().written.len(), 6 + STDIN_QUEUE_MAX);
    assert!(rig.sup.process(id).unwrap().stdin_buf.is_empty());
    // The child closed its stdin: the pipe is dropped, later sends fail at once.
    rig.os.borrow_mut().write_errno = Some(libc::EPIPE);
    assert_eq!(rig.sup.send_stdin(id, b"more"), Err(StdinError::Closed));
    assert!(rig.sup.process(id).unwrap().stdin.is_none());
    rig.os.borrow_mut().write_errno = None;
    assert_eq!(rig.sup.send_stdin(id, b"more"), Err(StdinError::Closed));
    assert_eq!(rig.os.borrow().written.len(), 6 + STDIN_QUEUE_MAX);
}
