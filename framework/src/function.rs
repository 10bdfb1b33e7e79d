//! Provider-defined functions (`provider::<name>::<function>(...)`, Terraform 1.8+, OpenTofu
//! 1.7+): what a function declares (typed parameters, its return type, docs) and implements
//! (a pure call). The server does GetFunctions and CallFunction.
//!
//! Functions are called without provider configuration (Terraform may call them before
//! ConfigureProvider, or without it in `terraform console`), so they take no provider data.
//!
//! Null and unknown arguments follow the protocol: a parameter that does not set
//! [`Parameter::allow_null`] never receives null (Terraform refuses it before the call; the
//! server checks again and answers an error naming the argument), and one that does not set
//! [`Parameter::allow_unknown`] never receives an unknown value: Terraform answers an unknown
//! result itself without calling the provider.

use tfplugin_proto::tfplugin6 as pb;

use crate::types::Type;
use crate::value::Value;

/// One parameter of a function.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub ty: Type,
    pub description: String,
    /// The function accepts a null argument here (the call handles it, e.g. as "default").
    pub allow_null: bool,
    /// The function is called with an unknown argument here (otherwise the result is unknown
    /// without a call).
    pub allow_unknown: bool,
}

impl Parameter {
    pub fn new(name: &str, ty: Type, description: &str) -> Self {
        Self {
            name: name.to_string(),
            ty,
            description: description.to_string(),
            allow_null: false,
            allow_unknown: false,
        }
    }

    /// Null is a valid argument (an "optional" parameter: Terraform functions have no
    /// optional parameters, so the caller passes `null` for the default).
    pub fn nullable(mut self) -> Self {
        self.allow_null = true;
        self
    }

    fn to_proto(&self) -> pb::function::Parameter {
        pb::function::Parameter {
            name: self.name.clone(),
            r#type: self.ty.to_json().to_string().into_bytes(),
            allow_null_value: self.allow_null,
            allow_unknown_values: self.allow_unknown,
            description: self.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
        }
    }
}

/// A function's signature and documentation.
#[derive(Debug, Clone)]
pub struct Signature {
    pub parameters: Vec<Parameter>,
    pub returns: Type,
    /// One line, shown by `terraform console` and in the docs' title.
    pub summary: String,
    /// Markdown.
    pub description: String,
}

impl Signature {
    pub fn to_proto(&self) -> pb::Function {
        pb::Function {
            parameters: self.parameters.iter().map(Parameter::to_proto).collect(),
            variadic_parameter: None,
            r#return: Some(pb::function::Return {
                r#type: self.returns.to_json().to_string().into_bytes(),
            }),
            summary: self.summary.clone(),
            description: self.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecation_message: String::new(),
        }
    }
}

/// A failed call: Terraform shows `text`, and points at the argument when `argument` is set
/// (its 0-based position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<usize>,
}

impl FunctionError {
    /// An error about the whole call.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            argument: None,
        }
    }

    /// An error about argument `index` (0-based).
    pub fn argument(index: usize, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            argument: Some(index),
        }
    }

    pub fn to_proto(&self) -> pb::FunctionError {
        pb::FunctionError {
            text: self.text.clone(),
            function_argument: self.argument.map(|i| i as i64),
        }
    }
}

/// A provider-defined function. Calls must be pure: the same arguments give the same result
/// (Terraform calls a function again at apply and fails when the result changed).
pub trait Function: Send + Sync {
    /// The name after `provider::<provider>::`, e.g. `servers_needed`.
    fn name(&self) -> &'static str;

    fn signature(&self) -> Signature;

    /// Runs the function. `args` has one value per parameter, decoded with its type, already
    /// checked against `allow_null`.
    fn call(&self, args: &[Value]) -> Result<Value, FunctionError>;
}

/// The arguments of one call, read by parameter name with errors that name the argument.
pub struct Args<'a> {
    params: &'a [Parameter],
    values: &'a [Value],
}

impl<'a> Args<'a> {
    pub fn new(params: &'a [Parameter], values: &'a [Value]) -> Self {
        Self { params, values }
    }

    fn index(&self, name: &str) -> usize {
        self.params
            .iter()
            .position(|p| p.name == name)
            .unwrap_or(usize::MAX)
    }

    /// The argument named `name` (null when there is no such parameter).
    pub fn get(&self, name: &str) -> &'a Value {
        self.values.get(self.index(name)).unwrap_or(&Value::Null)
    }

    /// An error pointing at the argument named `name`.
    pub fn error(&self, name: &str, text: impl Into<String>) -> FunctionError {
        let i = self.index(name);
        FunctionError {
            text: text.into(),
            argument: (i != usize::MAX).then_some(i),
        }
    }

    /// A string argument, or an error naming it.
    pub fn string(&self, name: &str) -> Result<&'a str, FunctionError> {
        self.get(name)
            .as_str()
            .ok_or_else(|| self.error(name, format!("{name} must be a string")))
    }

    /// A string argument that may be null.
    pub fn opt_string(&self, name: &str) -> Option<&'a str> {
        self.get(name).as_str()
    }

    /// A number argument, or an error naming it.
    pub fn number(&self, name: &str) -> Result<f64, FunctionError> {
        self.get(name)
            .as_f64()
            .ok_or_else(|| self.error(name, format!("{name} must be a number")))
    }
}

/// Checks `args` against the parameters before a call: the count, and null where null is not
/// allowed (Terraform refuses both itself; a client that did not is answered with an error
/// naming the argument, never a crash).
pub fn check_arguments(params: &[Parameter], args: &[Value]) -> Result<(), FunctionError> {
    if args.len() != params.len() {
        return Err(FunctionError::new(format!(
            "expected {} arguments, got {}",
            params.len(),
            args.len()
        )));
    }
    for (i, (p, v)) in params.iter().zip(args).enumerate() {
        if v.is_null() && !p.allow_null {
            return Err(FunctionError::argument(
                i,
                format!("argument {:?} must not be null", p.name),
            ));
        }
        if !v.is_wholly_known() && !p.allow_unknown {
            return Err(FunctionError::argument(
                i,
                format!("argument {:?} must be known", p.name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<Parameter> {
        vec![
            Parameter::new("a", Type::String, "A."),
            Parameter::new("b", Type::Number, "B.").nullable(),
        ]
    }

    #[test]
    fn arguments_are_checked_per_parameter() {
        let p = params();
        assert_eq!(
            check_arguments(&p, &[Value::string("x"), Value::Null]),
            Ok(())
        );
        let err = check_arguments(&p, &[Value::Null, Value::Null]).expect_err("null a");
        assert_eq!(err.argument, Some(0));
        let err = check_arguments(&p, &[Value::string("x"), Value::Unknown]).expect_err("unknown");
        assert_eq!(err.argument, Some(1));
        let err = check_arguments(&p, &[Value::string("x")]).expect_err("count");
        assert_eq!(err.argument, None);
    }

    #[test]
    fn args_name_the_bad_argument() {
        let p = params();
        let v = [Value::string("x"), Value::Null];
        let args = Args::new(&p, &v);
        assert_eq!(args.string("a"), Ok("x"));
        assert_eq!(args.number("b").expect_err("null").argument, Some(1));
        assert_eq!(args.opt_string("b"), None);
        let proto = args.error("b", "bad").to_proto();
        assert_eq!(proto.function_argument, Some(1));
    }

    #[test]
    fn signature_declares_null_and_unknown_handling() {
        let sig = Signature {
            parameters: params(),
            returns: Type::Number,
            summary: "S".into(),
            description: "D".into(),
        };
        let proto = sig.to_proto();
        assert!(!proto.parameters[0].allow_null_value);
        assert!(proto.parameters[1].allow_null_value);
        assert!(!proto.parameters[1].allow_unknown_values);
        assert_eq!(proto.parameters[0].r#type, b"\"string\"");
        assert_eq!(
            proto.r#return.map(|r| r.r#type).unwrap_or_default(),
            b"\"number\""
        );
    }
}
