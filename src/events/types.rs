//! Event types and their hierarchy (events.md §8.1): subscribing to a type delivers it and
//! every type below it. `PROCESS_STATE_CHANGE_EXITED_UNEXPECTEDLY` is a project type of its own
//! (not under PROCESS_STATE), `SUPERVISOR_STATE_CHANGE_FATAL` one under SUPERVISOR_STATE_CHANGE,
//! and so are `PROCESS_HEALTH_HEALTHY` and `PROCESS_HEALTH_UNHEALTHY` (`daemon::probes`).

/// An event type. Its wire name (the `eventname:` of a notification, the name in `events=`)
/// and its parent are in `TABLE`, one row per variant in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Event,
    ProcessState,
    ProcessStateStopped,
    ProcessStateExited,
    ProcessStateStarting,
    ProcessStateStopping,
    ProcessStateBackoff,
    ProcessStateFatal,
    ProcessStateRunning,
    ProcessStateUnknown,
    ProcessCommunication,
    ProcessCommunicationStdout,
    ProcessCommunicationStderr,
    ProcessLog,
    ProcessLogStdout,
    ProcessLogStderr,
    RemoteCommunication,
    SupervisorStateChange,
    SupervisorStateChangeRunning,
    SupervisorStateChangeStopping,
    SupervisorStateChangeFatal,
    Tick,
    Tick5,
    Tick60,
    Tick3600,
    ProcessGroup,
    ProcessGroupAdded,
    ProcessGroupRemoved,
    ProcessStateChangeExitedUnexpectedly,
    ProcessHealthHealthy,
    ProcessHealthUnhealthy,
}

use EventKind::*;

/// (kind, wire name, parent) for every type, abstract ones included, in `EventKind` order.
#[rustfmt::skip]
const TABLE: &[(EventKind, &str, Option<EventKind>)] = &[
    (Event, "EVENT", None),
    (ProcessState, "PROCESS_STATE", Some(Event)),
    (ProcessStateStopped, "PROCESS_STATE_STOPPED", Some(ProcessState)),
    (ProcessStateExited, "PROCESS_STATE_EXITED", Some(ProcessState)),
    (ProcessStateStarting, "PROCESS_STATE_STARTING", Some(ProcessState)),
    (ProcessStateStopping, "PROCESS_STATE_STOPPING", Some(ProcessState)),
    (ProcessStateBackoff, "PROCESS_STATE_BACKOFF", Some(ProcessState)),
    (ProcessStateFatal, "PROCESS_STATE_FATAL", Some(ProcessState)),
    (ProcessStateRunning, "PROCESS_STATE_RUNNING", Some(ProcessState)),
    (ProcessStateUnknown, "PROCESS_STATE_UNKNOWN", Some(ProcessState)),
    (ProcessCommunication, "PROCESS_COMMUNICATION", Some(Event)),
    (ProcessCommunicationStdout, "PROCESS_COMMUNICATION_STDOUT", Some(ProcessCommunication)),
    (ProcessCommunicationStderr, "PROCESS_COMMUNICATION_STDERR", Some(ProcessCommunication)),
    (ProcessLog, "PROCESS_LOG", Some(Event)),
    (ProcessLogStdout, "PROCESS_LOG_STDOUT", Some(ProcessLog)),
    (ProcessLogStderr, "PROCESS_LOG_STDERR", Some(ProcessLog)),
    (RemoteCommunication, "REMOTE_COMMUNICATION", Some(Event)),
    (SupervisorStateChange, "SUPERVISOR_STATE_CHANGE", Some(Event)),
    (SupervisorStateChangeRunning, "SUPERVISOR_STATE_CHANGE_RUNNING", Some(SupervisorStateChange)),
    (SupervisorStateChangeStopping, "SUPERVISOR_STATE_CHANGE_STOPPING", Some(SupervisorStateChange)),
    (SupervisorStateChangeFatal, "SUPERVISOR_STATE_CHANGE_FATAL", Some(SupervisorStateChange)),
    (Tick, "TICK", Some(Event)),
    (Tick5, "TICK_5", Some(Tick)),
    (Tick60, "TICK_60", Some(Tick)),
    (Tick3600, "TICK_3600", Some(Tick)),
    (ProcessGroup, "PROCESS_GROUP", Some(Event)),
    (ProcessGroupAdded, "PROCESS_GROUP_ADDED", Some(ProcessGroup)),
    (ProcessGroupRemoved, "PROCESS_GROUP_REMOVED", Some(ProcessGroup)),
    (ProcessStateChangeExitedUnexpectedly, "PROCESS_STATE_CHANGE_EXITED_UNEXPECTEDLY", Some(Event)),
    (ProcessHealthHealthy, "PROCESS_HEALTH_HEALTHY", Some(Event)),
    (ProcessHealthUnhealthy, "PROCESS_HEALTH_UNHEALTHY", Some(Event)),
];

impl EventKind {
    /// The wire name, e.g. `PROCESS_STATE_RUNNING`.
    pub fn name(self) -> &'static str {
        TABLE[self as usize].1
    }

    /// The type named `name` in `events=` (config validation has already refused others).
    pub fn parse(name: &str) -> Option<EventKind> {
        TABLE
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(k, _, _)| *k)
    }

    fn parent(self) -> Option<EventKind> {
        TABLE[self as usize].2
    }

    /// Whether a subscription to `self` covers events of type `concrete`.
    pub fn covers(self, concrete: EventKind) -> bool {
        let mut t = Some(concrete);
        while let Some(kind) = t {
            if kind == self {
                return true;
            }
            t = kind.parent();
        }
        false
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every name accepted in `events=`.
pub fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(_, n, _)| *n)
}

pub fn is_known(name: &str) -> bool {
    EventKind::parse(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_are_in_enum_order() {
        for (i, (kind, name, _)) in TABLE.iter().enumerate() {
            assert_eq!(*kind as usize, i, "{name}");
            assert_eq!(EventKind::parse(name), Some(*kind));
        }
        assert_eq!(EventKind::parse("PROCESS_STATE_NOPE"), None);
    }

    #[test]
    fn hierarchy() {
        let covers = |a: &str, b: &str| {
            let kind = |n| EventKind::parse(n).unwrap_or_else(|| panic!("{n}"));
            kind(a).covers(kind(b))
        };
        assert!(covers("EVENT", "TICK_5"));
        assert!(covers("PROCESS_STATE", "PROCESS_STATE_EXITED"));
        assert!(covers("PROCESS_STATE_EXITED", "PROCESS_STATE_EXITED"));
        assert!(!covers(
            "PROCESS_STATE",
            "PROCESS_STATE_CHANGE_EXITED_UNEXPECTEDLY"
        ));
        assert!(covers("EVENT", "PROCESS_STATE_CHANGE_EXITED_UNEXPECTEDLY"));
        assert!(covers(
            "SUPERVISOR_STATE_CHANGE",
            "SUPERVISOR_STATE_CHANGE_FATAL"
        ));
        assert!(!covers("TICK_5", "TICK_60"));
        assert!(covers("EVENT", "PROCESS_HEALTH_UNHEALTHY"));
        assert!(!covers("PROCESS_STATE", "PROCESS_HEALTH_HEALTHY"));
        assert_eq!(names().count(), 31);
    }
}
