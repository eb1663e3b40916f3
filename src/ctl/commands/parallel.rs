//! Several arguments of `start`, `stop` or `restart` at once (Supervisor #723, #1254): one job
//! per argument, each on its own connection, so the daemon works on them side by side as it
//! does for `group:*` and `all`; each job's lines are printed the moment its answer arrives.
//! A restart job restarts its processes as soon as they have stopped, not after every other
//! argument's processes have stopped too.

use crate::ctl::client::{CallError, Client};
use crate::ctl::controller::Controller;
use crate::ctl::interrupt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Jobs running at once (connections open at once). Beyond that, arguments wait for a free
/// worker: a long command line must not open hundreds of connections.
pub const MAX_JOBS: usize = 16;

/// What a job found out, applied to the controller in the order it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A line for stdout.
    Line(String),
    /// A result's fault code and the one the command ignores (`Controller::status_from_fault`).
    Fault(i64, Option<i64>),
    /// An exit status set outright (an unknown group).
    Exit(i32),
}

/// Applies reports: prints lines, updates the exit status.
pub fn apply(ctl: &mut Controller, reports: Vec<Report>) {
    for r in reports {
        match r {
            Report::Line(l) => ctl.say(&l),
            Report::Fault(code, ignored) => ctl.status_from_fault(code, ignored),
            Report::Exit(status) => ctl.exit = status,
        }
    }
}

/// A job: runs everything about one argument on `client`, handing each call's reports to
/// `report` as soon as the call returned.
pub type Job<'a> =
    dyn Fn(&mut Client, &str, &mut dyn FnMut(Vec<Report>)) -> Result<(), CallError> + Sync + 'a;

/// Runs `job` for every name: on the controller's own connection when there is one name,
/// else on up to [`MAX_JOBS`] connections at once. A job that fails (a lost connection,
/// Ctrl-C) ends only itself; the first such error is returned once all jobs are over.
pub fn run(ctl: &mut Controller, names: &[&str], job: &Job<'_>) -> Result<(), CallError> {
    if let [name] = names {
        // The kept-alive connection is lent to the job while the reports go to `ctl`.
        let placeholder = Client::new(ctl.client.server.clone());
        let mut client = std::mem::replace(&mut ctl.client, placeholder);
        let result = job(&mut client, name, &mut |r| apply(ctl, r));
        ctl.client = client;
        return result;
    }
    let server = ctl.client.server.clone();
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<Result<Vec<Report>, CallError>>();
    let mut first_error = None;
    std::thread::scope(|scope| {
        for _ in 0..names.len().min(MAX_JOBS) {
            let tx = tx.clone();
            let (next, server) = (&next, &server);
            scope.spawn(move || {
                let mut client = Client::new(server.clone());
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(name) = names.get(i) else { break };
                    if interrupt::pending() {
                        let _ = tx.send(Err(CallError::Interrupted));
                        break;
                    }
                    let sent = job(&mut client, name, &mut |r| {
                        let _ = tx.send(Ok(r));
                    });
                    if let Err(e) = sent {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        }
        // Only the workers hold senders now: the loop ends when the last one is done.
        drop(tx);
        for message in rx {
            match message {
                Ok(reports) => apply(ctl, reports),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    });
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
