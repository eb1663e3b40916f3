//! Event types and their hierarchy (events.md §8.1): subscribing to a type delivers it and
//! every type below it. `PROCESS_STATE_CHANGE_EXITED_UNEXPECTEDLY` is a project type of its own
//! (not under PROCESS_STATE), `SUPERVISOR_STATE_CHANGE_FATAL` one under SUPERVISOR_STATE_CHANGE,
//! and so are `PROCESS_HEALTH_HEALTHY` and `PROCESS_HEALTH_UNHEALTHY` (`daemon::probes`).

/// (name, parent) for every type, abstract ones included.
const TABLE: &[(&str, Option<&str>)] = &[
    ("EVENT", None),
    ("PROCESS_STATE", Some("EVENT")),
    ("PROCESS_STATE_STOPPED", Some("PROCESS_STATE")),
    ("PROCESS_STATE_EXITED", Some("PROCESS_STATE")),
    ("PROCESS_STATE_STARTING", Some("PROCESS_STATE")),
    ("PROCESS_STATE_STOPPING", Some("PROCESS_STATE")),
    ("PROCESS_STATE_BACKOFF", Some("PROCESS_STATE")),
    ("PROCESS_STATE_FATAL", Some("PROCESS_STATE")),
    ("PROCESS_STATE_RUNNING", Some("PROCESS_STATE")),
    ("PROCESS_STATE_UNKNOWN", Some("PROCESS_STATE")),
    ("PROCESS_COMMUNICATION", Some("EVENT")),
    (
        "PROCESS_COMMUNICATION_STDOUT",
        Some("PROCESS_COMMUNICATION"),
    ),
    (
        "PROCESS_COMMUNICATION_STDERR",
        Some("PROCESS_COMMUNICATION"),
    ),
    ("PROCESS_LOG", Some("EVENT")),
    ("PROCESS_LOG_STDOUT", Some("PROCESS_LOG")),
    ("PROCESS_LOG_STDERR", Some("PROCESS_LOG")),
    ("REMOTE_COMMUNICATION", Some("EVENT")),
    ("SUPERVISOR_STATE_CHANGE", Some("EVENT")),
    (
        "SUPERVISOR_STATE_CHANGE_RUNNING",
        Some("SUPERVISOR_STATE_CHANGE"),
    ),
    (
        "SUPERVISOR_STATE_CHANGE_STOPPING",
        Some("SUPERVISOR_STATE_CHANGE"),
    ),
    (
        "SUPERVISOR_STATE_CHANGE_FATAL",
        Some("SUPERVISOR_STATE_CHANGE"),
    ),
    ("TICK", Some("EVENT")),
    ("TICK_5", Some("TICK")),
    ("TICK_60", Some("TICK")),
    ("TICK_3600", Some("TICK")),
    ("PROCESS_GROUP", Some("EVENT")),
    ("PROCESS_GROUP_ADDED", Some("PROCESS_GROUP")),
    ("PROCESS_GROUP_REMOVED", Some("PROCESS_GROUP")),
    ("PROCESS_STATE_CHANGE_EXITED_UNEXPECTEDLY", Some("EVENT")),
    ("PROCESS_HEALTH_HEALTHY", Some("EVENT")),
    ("PROCESS_HEALTH_UNHEALTHY", Some("EVENT")),
];

/// Every name accepted in `events=`.
pub fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(n, _)| *n)
}

pub fn is_known(name: &str) -> bool {
    TABLE.iter().any(|(n, _)| *n == name)
}

fn parent(name: &str) -> Option<&'static str> {
    TABLE.iter().find(|(n, _)| *n == name).and_then(|(_, p)| *p)
}

/// Whether a subscription to `subscribed` covers events of type `concrete`.
pub fn covers(subscribed: &str, concrete: &str) -> bool {
    let mut t = Some(concrete);
    while let Some(name) = t {
        if name == subscribed {
            return true;
        }
        t = parent(name);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchy() {
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
