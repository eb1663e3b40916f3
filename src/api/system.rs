//! `system.*`: introspection generated from the method table, and multicall (calls run in
//! order; a deferred call holds back the ones after it; successes are bare values, R6).

use super::faults::{self, Fault};
use super::table::{self, METHODS};
use super::{params, CallResult, Ctx, Deferred, Outcome};
use crate::rpc::value::Value;

pub fn list_methods(_: &mut Ctx, _: &[Value]) -> Outcome {
    let names = METHODS
        .iter()
        .map(|d| Value::String(d.name.to_string()))
        .collect();
    Outcome::Done(Ok(Value::Array(names)))
}

fn known(p: &[Value]) -> Result<&'static table::MethodDef, Fault> {
    let name = params::string(p, 0)?;
    METHODS
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| Fault::plain(faults::SIGNATURE_UNSUPPORTED))
}

pub fn method_help(_: &mut Ctx, p: &[Value]) -> Outcome {
    Outcome::Done(known(p).map(|d| Value::String(d.help.to_string())))
}

pub fn method_signature(_: &mut Ctx, p: &[Value]) -> Outcome {
    Outcome::Done(
        known(p)
            .map(|d| Value::Array(d.sig.iter().map(|s| Value::String(s.to_string())).collect())),
    )
}

fn fault_value(f: &Fault) -> Value {
    Value::Struct(vec![
        ("faultCode".into(), Value::Int(f.code)),
        ("faultString".into(), Value::String(f.text.clone())),
    ])
}

struct Multi {
    calls: std::vec::IntoIter<Value>,
    results: Vec<Value>,
    current: Option<Box<dyn Deferred>>,
}

impl Multi {
    fn push(&mut self, r: CallResult) {
        self.results.push(match r {
            Ok(v) => v,
            Err(f) => fault_value(&f),
        });
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
            let outcome = match one(ctx, &call) {
                Ok(o) => o,
                Err(f) => Outcome::Done(Err(f)),
            };
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
        self.advance(ctx)
            .then(|| Ok(Value::Array(std::mem::take(&mut self.results))))
    }
}

pub fn multicall(ctx: &mut Ctx, p: &[Value]) -> Outcome {
    let Some(Value::Array(calls)) = p.first() else {
        return Outcome::Done(Err(Fault::plain(faults::INCORRECT_PARAMETERS)));
    };
    let multi = Multi {
        calls: calls.clone().into_iter(),
        results: Vec::new(),
        current: None,
    };
    super::settle(ctx, Outcome::Later(Box::new(multi)))
}
