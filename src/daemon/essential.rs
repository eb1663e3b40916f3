//! Essential programs and `exit_on_fatal` (project extension, issue #20): a rule on process
//! state changes that shuts supervisord down, in the normal order, with an exit status that
//! tells a container orchestrator why. It only sets the mood, with the reason the exit status
//! comes from (`daemon::exit_status`); the loop's ordinary shutdown does the rest
//! (SUPERVISOR_STATE_CHANGE_STOPPING, stop waves).

use super::supervisor::{Mood, ShutdownReason, Supervisor};
use crate::process::ProcessState;

impl Supervisor {
    /// Called for every state change of process `id` (from `on_state_change`).
    pub(super) fn essential_rule(&mut self, id: usize, to: ProcessState) {
        if self.mood != Mood::Running {
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
        let (reason, why) = match to {
            ProcessState::Fatal if essential || self.config.supervisord.exit_on_fatal => (
                ShutdownReason::Fatal,
                if essential {
                    format!("essential process '{name}' entered FATAL state")
                } else {
                    format!("process '{name}' entered FATAL state and exit_on_fatal is set")
                },
            ),
            ProcessState::Exited if essential && !m.will_autorestart(&p.config) => {
                match m.last_signal {
                    Some(sig) => (
                        ShutdownReason::EssentialKilled(sig),
                        format!(
                            "essential process '{name}' was terminated by {}",
                            crate::process::waitstatus::signal_name(sig)
                        ),
                    ),
                    None => (
                        ShutdownReason::EssentialExited(m.exitstatus),
                        format!(
                            "essential process '{name}' exited with status {} and will not be restarted",
                            m.exitstatus
                        ),
                    ),
                }
            }
            _ => return,
        };
        let status = super::exit_status(reason);
        self.log.critical(&format!(
            "{why}: shutting down (supervisord exit status {status})"
        ));
        self.shut_down(reason);
    }
}
