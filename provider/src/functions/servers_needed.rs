//! `servers_needed(participants, participants_per_server)`: the servers `bbb_schedule` sets as
//! capacity for `expected_participants` at `participants_per_server`.

use tfplugin_framework::validators::greater_than;
use tfplugin_framework::{Args, Function, FunctionError, Parameter, Signature, Type, Value};

use super::check;
use crate::resources::schedule::{capacity_number, servers_needed};

pub struct ServersNeeded;

impl Function for ServersNeeded {
    fn name(&self) -> &'static str {
        "servers_needed"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new("participants", Type::Number, "Participants expected: a whole number, 0 or more (`bbb_schedule`'s `expected_participants`)."),
                Parameter::new("participants_per_server", Type::Number, "Participants one server takes, more than 0 (`bbb_schedule`'s `participants_per_server`)."),
            ],
            returns: Type::Number,
            summary: "Servers needed for a number of participants".into(),
            description: "The number of BBB servers for `participants` at `participants_per_server` each: `ceil(participants / participants_per_server)`, the rule `bbb_schedule` uses to turn `expected_participants` into its capacity. The schedule adds no headroom, so neither does this function: size `participants_per_server` for the load you accept on one server.".into(),
        }
    }

    fn call(&self, values: &[Value]) -> Result<Value, FunctionError> {
        let sig = self.signature();
        let args = Args::new(&sig.parameters, values);
        check(&args, "participants", capacity_number())?;
        check(&args, "participants_per_server", greater_than(0.0))?;
        let participants = args.number("participants")?;
        let per_server = args.number("participants_per_server")?;
        servers_needed(participants, per_server)
            .map(Value::Number)
            .ok_or_else(|| args.error("participants_per_server", "must be more than 0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_schedule_rule_and_names_bad_arguments() {
        let f = ServersNeeded;
        let call = |p: f64, s: f64| f.call(&[Value::Number(p), Value::Number(s)]);
        assert_eq!(call(250.0, 100.0), Ok(Value::Number(3.0)));
        assert_eq!(call(200.0, 100.0), Ok(Value::Number(2.0)));
        assert_eq!(call(0.0, 100.0), Ok(Value::Number(0.0)));
        assert_eq!(call(10.0, 0.0).expect_err("zero").argument, Some(1));
        assert_eq!(call(-1.0, 10.0).expect_err("negative").argument, Some(0));
        assert_eq!(call(1.5, 10.0).expect_err("fraction").argument, Some(0));
    }
}
