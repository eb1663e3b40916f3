//! Supervisor's XML-RPC API (`supervisor.*`, `system.*`): the method table, parameter checks,
//! the SHUTDOWN_STATE gate, and deferred (`wait=True`) results. Methods act on the
//! [`Supervisor`] through its small public surface; wire encoding lives in `rpc`.

pub mod budget;
pub mod faults;
pub mod info;
pub mod logs;
pub mod params;
pub mod procs;
pub mod reload;
pub mod routes;
pub mod statusdoc;
pub mod system;
pub mod table;
pub mod twiddler;
pub mod update;

use crate::daemon::supervisor::Supervisor;
use crate::process::Now;
use crate::rpc::value::Value;
pub use faults::Fault;

/// What a method call is evaluated with.
pub struct Ctx<'a> {
    pub sup: &'a mut Supervisor,
    pub now: Now,
    /// Bytes of XML the result of the call may take: `budget::REPLY_BUDGET`, what is left of
    /// it for a call inside a multicall, or less while the server holds many large replies.
    pub budget: budget::Budget,
}

impl<'a> Ctx<'a> {
    pub fn new(sup: &'a mut Supervisor, now: Now) -> Ctx<'a> {
        Ctx {
            sup,
            now,
            budget: budget::Budget::now(),
        }
    }
}

pub type CallResult = Result<Value, Fault>;

/// A result that may only be known later (a start waiting for RUNNING).
pub trait Deferred {
    /// `Some` once the call is complete.
    fn poll(&mut self, ctx: &mut Ctx) -> Option<CallResult>;
}

pub enum Outcome {
    Done(CallResult),
    Later(Box<dyn Deferred>),
}

impl From<CallResult> for Outcome {
    fn from(r: CallResult) -> Outcome {
        Outcome::Done(r)
    }
}

/// Calls `method` with `params`: name checks, arity, the gate, then the method itself.
pub fn call(ctx: &mut Ctx, method: &str, params: &[Value]) -> Outcome {
    let route = twiddler::route(&ctx.sup.config.twiddlers, method);
    let name = match &route {
        twiddler::Route::Builtin => method,
        twiddler::Route::Twiddler { method, .. } => method.as_str(),
        twiddler::Route::Unserved => "",
    };
    let Some(def) = table::lookup(name) else {
        return Outcome::Done(Err(Fault::plain(faults::UNKNOWN_METHOD)));
    };
    if params.len() < def.min || params.len() > def.max {
        return Outcome::Done(Err(Fault::plain(faults::INCORRECT_PARAMETERS)));
    }
    if def.gated && !ctx.sup.is_running() {
        return Outcome::Done(Err(Fault::plain(faults::SHUTDOWN_STATE)));
    }
    if let twiddler::Route::Twiddler {
        short, whitelist, ..
    } = &route
    {
        if let Err(f) = twiddler::admit(ctx, short, whitelist) {
            return Outcome::Done(Err(f));
        }
    }
    (def.run)(ctx, params)
}

/// Runs a deferred call to completion if it is already done.
pub fn settle(ctx: &mut Ctx, outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Later(mut d) => match d.poll(ctx) {
            Some(r) => Outcome::Done(r),
            None => Outcome::Later(d),
        },
        done => done,
    }
}
