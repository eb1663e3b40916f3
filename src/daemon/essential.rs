//! Essential programs and `exit_on_fatal` (project extension, issue #20): a rule on process
//! state changes that shuts supervisord down, in the normal order, with an exit status that
//! tells a container orchestrator why. It only sets the mood and the exit status; the loop's
//! ordinary shutdown does the rest (SUPERVISOR_STATE_CHANGE_STOPPING, stop waves).

use super::supervisor::{Mood, Supervisor};
use crate::process::ProcessState;

/// supervisord's exit status when an essential process (or, with `exit_on_fatal`, any
/// process) went FATAL. 0, 1 and 2 already mean success, failure and usage error, 126/127
/// and 128+n are the shell's "cannot execute", "not found" and "killed by signal n"; 69 is
/// sysexits' EX_UNAVAILABLE ("a service is unavailable"), documented in supervisord(8).
pub const EXIT_FATAL: i32 = 69;

impl Supervisor {
    /// Called for every state change of process `id` (from `on_state_change`).
    pub(super) fn essential_rule(&mut self, id: usize, to: ProcessState) {
        if self.mood != Mood::Running || self.exit_status.is_some() {
            // Already stopping or restarting: a process that ends now is being stopped
            // (BACKOFF becomes FATAL at shutdown), not failing.
            return;
        }
        let Some(p) = self.process(id) else {
            return;
        };
        let essential = p.config.essential;
        let name = p.config.name.clone();
        let m = &p.machine;
        let (status, why) = match to {
            ProcessState::Fatal if essential || self.config.supervisord.exit_on_fatal => (
                EXIT_FATAL,
                if essential {
                    format!("essential process '{name}' entered FATAL state")
                } else {
                    format!("process '{name}' entered FATAL state and exit_on_fatal is set")
                },
            ),
            ProcessState::Exited if essential && !m.will_autorestart(&p.config) => {
                match m.last_signal {
                    Some(sig) => (
                        128 + sig,
                        format!(
                            "essential process '{name}' was terminated by {}",
                            crate::process::waitstatus::signal_name(sig)
                        ),
                    ),
                    None => (
                        m.exitstatus & 0xff,
                        format!(
                            "essential process '{name}' exited with status {} and will not be restarted",
                            m.exitstatus
                        ),
                    ),
                }
            }
            _ => return,
        };
        self.log.critical(&format!(
            "{why}: shutting down (supervisord exit status {status})"
        ));
        self.exit_status = Some(status);
        self.mood = Mood::Shutdown;
    }

    /// The exit status of a shutdown: set by `essential_rule`, 0 for any other shutdown.
    pub fn exit_status(&self) -> i32 {
        self.exit_status.unwrap_or(0)
    }
}
