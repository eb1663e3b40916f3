//! One event: its concrete type and payload text, and the payload builders of events.md §8.

use super::types::EventKind;
use crate::process::ProcessState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub payload: String,
}

impl Event {
    pub fn new(kind: EventKind, payload: impl Into<String>) -> Event {
        Event {
            kind,
            payload: payload.into(),
        }
    }

    /// The output `next` would append to this PROCESS_LOG event: when it continues the same
    /// process, pid and channel, both are text, and the result stays within `max` bytes.
    pub fn mergeable<'a>(&self, next: &'a Event, max: usize) -> Option<&'a str> {
        let log = matches!(
            self.kind,
            EventKind::ProcessLogStdout | EventKind::ProcessLogStderr
        );
        if self.kind != next.kind || !log {
            return None;
        }
        let (head, body) = self.payload.split_once('\n')?;
        let (next_head, next_body) = next.payload.split_once('\n')?;
        let binary = |b: &str| {
            b.strip_prefix(UNDECODABLE)
                .is_some_and(|r| r.starts_with("b'") || r.starts_with("b\""))
        };
        if head != next_head
            || binary(body)
            || binary(next_body)
            || self.payload.len() + next_body.len() > max
        {
            return None;
        }
        Some(next_body)
    }

    /// The notification header + payload a listener receives. `len` counts characters, as
    /// Supervisor does (README E1): Python listeners read stdin in text mode.
    #[cfg(test)]
    pub fn notification(
        &self,
        identifier: &str,
        serial: u64,
        pool: &str,
        poolserial: u64,
    ) -> String {
        let mut out = Vec::new();
        self.write_notification(&mut out, identifier, serial, pool, poolserial);
        String::from_utf8(out).unwrap_or_default()
    }

    /// `notification`, appended to `out` (a buffer the caller reuses).
    pub fn write_notification(
        &self,
        out: &mut Vec<u8>,
        identifier: &str,
        serial: u64,
        pool: &str,
        poolserial: u64,
    ) {
        // Appended piece by piece: core::fmt was a quarter of the daemon's instructions per
        // delivered event.
        out.reserve(96 + identifier.len() + pool.len() + self.payload.len());
        out.extend_from_slice(b"ver:3.0 server:");
        out.extend_from_slice(identifier.as_bytes());
        out.extend_from_slice(b" serial:");
        push_decimal(out, serial);
        out.extend_from_slice(b" pool:");
        out.extend_from_slice(pool.as_bytes());
        out.extend_from_slice(b" poolserial:");
        push_decimal(out, poolserial);
        out.extend_from_slice(b" eventname:");
        out.extend_from_slice(self.kind.name().as_bytes());
        out.extend_from_slice(b" len:");
        push_decimal(out, self.payload.chars().count() as u64);
        out.push(b'\n');
        out.extend_from_slice(self.payload.as_bytes());
    }
}

pub fn state_event_kind(s: ProcessState) -> EventKind {
    match s {
        ProcessState::Stopped => EventKind::ProcessStateStopped,
        ProcessState::Starting => EventKind::ProcessStateStarting,
        ProcessState::Running => EventKind::ProcessStateRunning,
        ProcessState::Backoff => EventKind::ProcessStateBackoff,
        ProcessState::Stopping => EventKind::ProcessStateStopping,
        ProcessState::Exited => EventKind::ProcessStateExited,
        ProcessState::Fatal => EventKind::ProcessStateFatal,
        ProcessState::Unknown => EventKind::ProcessStateUnknown,
    }
}

/// What a PROCESS_STATE_* payload needs to know about the process.
pub struct StateInfo<'a> {
    pub name: &'a str,
    pub group: &'a str,
    pub from: ProcessState,
    pub to: ProcessState,
    pub tries: i64,
    pub pid: i32,
    pub expected: bool,
}

pub fn process_state(i: &StateInfo) -> Event {
    let base = format!(
        "processname:{} groupname:{} from_state:{}",
        i.name,
        i.group,
        i.from.name()
    );
    let payload = match i.to {
        ProcessState::Starting | ProcessState::Backoff => format!("{base} tries:{}", i.tries),
        ProcessState::Running | ProcessState::Stopping | ProcessState::Stopped => {
            format!("{base} pid:{}", i.pid)
        }
        ProcessState::Exited => format!("{base} expected:{} pid:{}", i.expected as u8, i.pid),
        ProcessState::Fatal | ProcessState::Unknown => base,
    };
    Event::new(state_event_kind(i.to), payload)
}

/// The project's PROCESS_STATE_CHANGE_EXITED_UNEXPECTEDLY: exit status, or the killing signal.
pub fn exited_unexpectedly(
    name: &str,
    group: &str,
    pid: i32,
    status: Result<i32, String>,
) -> Event {
    let how = match status {
        Ok(code) => format!("exitstatus:{code}"),
        Err(sig) => format!("signal:{sig}"),
    };
    Event::new(
        EventKind::ProcessStateChangeExitedUnexpectedly,
        format!("processname:{name} groupname:{group} from_state:RUNNING pid:{pid} {how}"),
    )
}

/// How `output_text` marks bytes that are not UTF-8.
const UNDECODABLE: &str = "Undecodable: ";

/// Child output as listeners and the main log see it: UTF-8, or Supervisor's
/// `Undecodable: b'...'` (the Python repr of the bytes).
pub fn output_text(data: &[u8]) -> String {
    let mut s = String::new();
    push_output_text(&mut s, data);
    s
}

/// `output_text`, appended to `s`.
fn push_output_text(s: &mut String, data: &[u8]) {
    match std::str::from_utf8(data) {
        Ok(text) => s.push_str(text),
        Err(_) => {
            s.push_str(UNDECODABLE);
            s.push_str(&crate::pyrepr::bytes_repr(data));
        }
    }
}

pub fn process_log(name: &str, group: &str, pid: i32, stream: &str, data: &[u8]) -> Event {
    let kind = if stream == "stdout" {
        EventKind::ProcessLogStdout
    } else {
        EventKind::ProcessLogStderr
    };
    let mut payload = String::with_capacity(64 + name.len() + group.len() + data.len());
    payload.push_str("processname:");
    payload.push_str(name);
    payload.push_str(" groupname:");
    payload.push_str(group);
    payload.push_str(" pid:");
    if pid < 0 {
        payload.push('-');
    }
    payload.push_str(crate::text::decimal(
        pid.unsigned_abs().into(),
        &mut [0; 20],
    ));
    payload.push_str(" channel:");
    payload.push_str(stream);
    payload.push('\n');
    push_output_text(&mut payload, data);
    Event::new(kind, payload)
}

fn push_decimal(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(crate::text::decimal(n, &mut [0; 20]).as_bytes());
}

pub fn process_comm(name: &str, group: &str, pid: i32, stream: &str, data: &[u8]) -> Event {
    let kind = if stream == "stdout" {
        EventKind::ProcessCommunicationStdout
    } else {
        EventKind::ProcessCommunicationStderr
    };
    Event::new(
        kind,
        format!(
            "processname:{name} groupname:{group} pid:{pid}\n{}",
            output_text(data)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_match_supervisor() {
        let i = StateInfo {
            name: "quick",
            group: "quick",
            from: ProcessState::Starting,
            to: ProcessState::Backoff,
            tries: 1,
            pid: 0,
            expected: false,
        };
        let e = process_state(&i);
        assert_eq!(e.kind, EventKind::ProcessStateBackoff);
        assert_eq!(
            e.payload,
            "processname:quick groupname:quick from_state:STARTING tries:1"
        );
        assert_eq!(
            e.notification("sdtest", 17, "lst", 17),
            "ver:3.0 server:sdtest serial:17 pool:lst poolserial:17 eventname:PROCESS_STATE_BACKOFF len:61\nprocessname:quick groupname:quick from_state:STARTING tries:1"
        );
        let exited = StateInfo {
            to: ProcessState::Exited,
            from: ProcessState::Running,
            pid: 5656,
            name: "exiter",
            group: "exiter",
            ..i
        };
        assert_eq!(
            process_state(&exited).payload,
            "processname:exiter groupname:exiter from_state:RUNNING expected:0 pid:5656"
        );
    }

    #[test]
    fn process_log_payload_numbers() {
        assert_eq!(
            process_log("web", "grp", 4242, "stderr", b"a\n").payload,
            "processname:web groupname:grp pid:4242 channel:stderr\na\n"
        );
        assert!(process_log("w", "g", -1, "stdout", b"")
            .payload
            .contains(" pid:-1 "));
    }

    #[test]
    fn len_counts_characters() {
        let e = Event::new(EventKind::RemoteCommunication, "héllo wörld\n");
        assert!(e.notification("s", 0, "p", 0).contains(" len:12\n"));
    }

    #[test]
    fn undecodable_output() {
        assert_eq!(
            output_text(b"\xff\xfe bad\n"),
            "Undecodable: b'\\xff\\xfe bad\\n'"
        );
        assert_eq!(output_text(b"it's \x88"), "Undecodable: b\"it's \\x88\"");
        assert_eq!(
            exited_unexpectedly("p", "g", 9, Err("SIGKILL".into())).payload,
            "processname:p groupname:g from_state:RUNNING pid:9 signal:SIGKILL"
        );
    }
}
