//! `system.*`: introspection generated from the method table, and multicall (calls run in
//! order; a deferred call holds back the ones after it; successes are bare values, R6; all
//! results together within one reply budget, `budget`).

use super::budget::{self, Bound, Budget};
use super::faults::{self, Fault};
use super::table::{self, METHODS};
use super::{params, twiddler, CallResult, Ctx, Deferred, Outcome};
use crate::rpc::codec;
use crate::rpc::value::{Encoded, Value};

pub fn list_methods(ctx: &mut Ctx, _: &[Value]) -> Outcome {
    let twiddlers = &ctx.sup.config.twiddlers;
    let mut names: Vec<String> = METHODS
        .iter()
        .flat_map(|d| twiddler::listed(twiddlers, d.name))
        .map(|n| n.into_owned())
        .collect();
    // Sorted, as Supervisor lists them: a twiddler namespace can sort anywhere.
    names.sort();
    Outcome::Done(Ok(Value::Array(
        names.into_iter().map(Value::String).collect(),
    )))
}

fn known(ctx: &Ctx, p: &[Value]) -> Result<&'static table::MethodDef, Fault> {
    let name = params::string(p, 0)?;
    let name = match twiddler::route(&ctx.sup.config.twiddlers, &name) {
        twiddler::Route::Builtin => name,
        twiddler::Route::Twiddler { method, .. } => method,
        twiddler::Route::Unserved => String::new(),
    };
    METHODS
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| Fault::plain(faults::SIGNATURE_UNSUPPORTED))
}

pub fn method_help(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    Outcome::Done(known(ctx, p).map(|d| Value::String(d.help.to_string())))
}

pub fn method_signature(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    Outcome::Done(
        known(ctx, p)
            .map(|d| Value::Array(d.sig.iter().map(|s| Value::String(s.to_string())).collect())),
    )
}

fn fault_value(f: &Fault) -> Value {
    Value::Struct(vec![
        ("faultCode".into(), Value::Int(f.code)),
        ("faultString".into(), Value::String(f.text.clone())),
    ])
}

/// A slot whose result did not fit in what was left of the budget. One fixed text, so that
/// the room it takes can be set aside for every call before any runs.
fn spent() -> Fault {
    Fault::new(
        faults::FAILED,
        format!(
            "reply too large: this call was made, but its result did not fit in what was left \
             of the multicall's reply budget ({} bytes per reply); make it on its own",
            budget::REPLY_BUDGET
        ),
    )
}

/// The results, encoded as they come (each is measured that way, and a large one is then
/// dropped at once): the multicall's reply is ready when the last call is.
struct Multi {
    calls: std::vec::IntoIter<Value>,
    out: Encoded,
    /// Bytes of the reply budget not used yet.
    left: usize,
    /// The encoded `spent()` fault: kept free for each call not answered yet.
    slot: usize,
    /// What bounded the multicall's budget when it started (for its calls' faults).
    by: Bound,
    current: Option<Box<dyn Deferred>>,
}

impl Multi {
    /// What the next result may take: the rest of the budget, less a fault's room for each
    /// call after it.
    fn room(&self) -> usize {
        self.left - self.slot * self.calls.len()
    }

    fn push(&mut self, r: CallResult) {
        let room = self.room();
        let buf = self.out.out();
        let before = buf.len();
        // Room for a large result at once, and for what closes the reply after it: growing
        // by doubling copies, with the old buffer and the new one both resident.
        let large = match &r {
            Ok(Value::String(text)) => codec::escaped_len(text),
            Ok(Value::Encoded(e)) => e.xml().len(),
            _ => 0,
        };
        buf.reserve(large + 512);
        match r {
            Ok(v) => codec::encode_value(&v, buf),
            Err(f) => codec::encode_value(&fault_value(&f), buf),
        }
        if buf.len() - before > room {
            buf.truncate(before);
            codec::encode_value(&fault_value(&spent()), buf);
        }
        self.left -= buf.len() - before;
    }

    /// Runs calls until one has to wait; true when all are done.
    fn advance(&mut self, ctx: &mut Ctx) -> bool {
        if let Some(mut d) = self.current.take() {
            match d.poll(ctx) {
                Some(r) => self.push(r),
                None => {
                    self.current = Some(d);
                    return false;
                }
            }
        }
        while let Some(call) = self.calls.next() {
            let inner = Budget {
                left: self.room(),
                by: self.by,
            };
            let outer = std::mem::replace(&mut ctx.budget, inner);
            let outcome = match one(ctx, &call) {
                Ok(o) => o,
                Err(f) => Outcome::Done(Err(f)),
            };
            ctx.budget = outer;
            match outcome {
                Outcome::Done(r) => self.push(r),
                Outcome::Later(d) => {
                    self.current = Some(d);
                    return false;
                }
            }
        }
        true
    }
}

fn one(ctx: &mut Ctx, call: &Value) -> Result<Outcome, Fault> {
    let Value::Struct(members) = call else {
        return Err(Fault::new(faults::INCORRECT_PARAMETERS, "No methodName"));
    };
    let get = |k: &str| members.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    let Some(Value::String(name)) = get("methodName") else {
        return Err(Fault::new(faults::INCORRECT_PARAMETERS, "No methodName"));
    };
    if name == "system.multicall" {
        return Err(Fault::new(
            faults::INCORRECT_PARAMETERS,
            "Recursive system.multicall forbidden",
        ));
    }
    let params: &[Value] = match get("params") {
        Some(Value::Array(a)) => a,
        None => &[],
        Some(_) => return Err(Fault::plain(faults::INCORRECT_PARAMETERS)),
    };
    Ok(super::call(ctx, name, params))
}

impl Deferred for Multi {
    fn poll(&mut self, ctx: &mut Ctx) -> Option<CallResult> {
        if !self.advance(ctx) {
            return None;
        }
        let mut out = std::mem::replace(&mut self.out, codec::encoded_value(String::new()));
        out.out().push_str(codec::ARRAY_CLOSE);
        Some(Ok(Value::Encoded(out)))
    }
}

pub fn multicall(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let Some(Value::Array(calls)) = p.first() else {
        return Outcome::Done(Err(Fault::plain(faults::INCORRECT_PARAMETERS)));
    };
    let mut slot = String::new();
    codec::encode_value(&fault_value(&spent()), &mut slot);
    let frame = codec::ARRAY_OPEN.len() + codec::ARRAY_CLOSE.len();
    let most = ctx.budget.left.saturating_sub(frame) / slot.len();
    if calls.len() > most {
        return Outcome::Done(Err(Fault::new(
            faults::FAILED,
            format!(
                "too many calls: {} in one multicall, at most {most} fit in the reply budget{}",
                calls.len(),
                match ctx.budget.by {
                    Bound::Held =>
                        " now (the server is busy with other large replies; \
                                    retry later)",
                    Bound::Reply => "",
                }
            ),
        )));
    }
    let mut out = codec::encoded_value(String::new());
    out.out().push_str(codec::ARRAY_OPEN);
    let multi = Multi {
        calls: calls.clone().into_iter(),
        out,
        left: ctx.budget.left - frame,
        slot: slot.len(),
        by: ctx.budget.by,
        current: None,
    };
    super::settle(ctx, Outcome::Later(Box::new(multi)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::Now;
    use crate::testutil::supervisor;

    fn calls(names: &[&str]) -> Value {
        Value::Array(
            names
                .iter()
                .map(|n| Value::Struct(vec![("methodName".into(), Value::from(*n))]))
                .collect(),
        )
    }

    /// The multicall's reply as `codec::encode_response` would write it, and its length.
    fn run(budget: usize, names: &[&str]) -> Result<String, Fault> {
        run_within(Budget::reply(budget), names)
    }

    fn run_within(budget: Budget, names: &[&str]) -> Result<String, Fault> {
        let mut sup = supervisor(Vec::new());
        let mut ctx = Ctx::new(&mut sup, Now::current());
        ctx.budget = budget;
        match multicall(&mut ctx, &[calls(names)]) {
            Outcome::Done(r) => r.map(codec::encode_response_owned),
            Outcome::Later(_) => panic!("nothing here waits"),
        }
    }

    #[test]
    fn results_share_one_budget_and_a_large_one_becomes_a_fault() {
        let all = run(1 << 20, &["system.listMethods", "supervisor.getAPIVersion"]).unwrap();
        assert!(all.contains("supervisor.tailProcessLog") && all.contains("3.0"));
        // Room for the fault of each call, not for the method list.
        let budget = 2000;
        let small = run(budget, &["system.listMethods", "supervisor.getAPIVersion"]).unwrap();
        assert!(small.contains("this call was made, but its result did not fit"));
        assert!(small.contains("<string>3.0</string>"));
        assert!(!small.contains("supervisor.tailProcessLog"));
        let value = small.split("<param>\n").nth(1).unwrap_or_default();
        assert!(value.len() <= budget, "{} bytes", value.len());
    }

    #[test]
    fn more_calls_than_the_budget_has_room_for_faults_up_front() {
        let f = run(2000, &["supervisor.getAPIVersion"; 10]).unwrap_err();
        assert_eq!(f.code, faults::FAILED);
        assert!(
            f.text
                .starts_with("FAILED: too many calls: 10 in one multicall, at most"),
            "{}",
            f.text
        );
        assert!(!f.text.contains("busy"), "{}", f.text);
        // Cut short by a busy server: says so.
        let f = run_within(Budget::within(2000), &["supervisor.getAPIVersion"; 10]).unwrap_err();
        assert!(
            f.text.ends_with(
                "fit in the reply budget now (the server is busy with other large replies; \
                 retry later)"
            ),
            "{}",
            f.text
        );
    }
}
