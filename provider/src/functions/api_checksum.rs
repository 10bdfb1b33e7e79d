//! `api_checksum(call_name, query, secret, algorithm)`: the checksum that signs a BBB or
//! Scalelite API call, the hex digest of `call_name + query + secret` (`bbb_core::checksum`).
//! The secret is never logged nor put in an error.

use bbb_core::checksum::{checksum, query_param, ChecksumAlgorithm};
use bbb_core::Secret;
use tfplugin_framework::{Args, Function, FunctionError, Parameter, Signature, Type, Value};

use super::check;

pub struct ApiChecksum;

const ALGORITHMS: &str = "sha1, sha256, sha384 or sha512";

impl Function for ApiChecksum {
    fn name(&self) -> &'static str {
        "api_checksum"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new("call_name", Type::String, "The API call, e.g. `join` or `getMeetings`."),
                Parameter::new("query", Type::String, "The query string exactly as sent, without the leading `?` and without `checksum`, e.g. `meetingID=abc&fullName=Alice`; empty for a call without parameters."),
                Parameter::new("secret", Type::String, "The shared secret (BBB's `securitySalt`, or Scalelite's `LOADBALANCER_SECRET`). Pass a sensitive or ephemeral value: the result is then sensitive too."),
                Parameter::new("algorithm", Type::String, "`sha1`, `sha256`, `sha384` (BBB only) or `sha512`; `null` for `sha256`, Scalelite's default.").nullable(),
            ],
            returns: Type::String,
            summary: "Checksum of a BBB or Scalelite API call".into(),
            description: "The lower-case hex digest of `call_name + query + secret`, BBB's API checksum rule (Scalelite's too), to append as `&checksum=...`, e.g. to build a signed `join` URL. Terraform marks the result sensitive when the `secret` argument is sensitive or ephemeral (a sensitive variable, `ephemeral.bbb_scalelite_secret...value`): pass it so, and the checksum never shows in plan output. The provider never logs the secret nor puts it in an error.".into(),
        }
    }

    fn call(&self, values: &[Value]) -> Result<Value, FunctionError> {
        let sig = self.signature();
        let args = Args::new(&sig.parameters, values);
        check(
            &args,
            "call_name",
            tfplugin_framework::validators::matches(
                r"^[A-Za-z][A-Za-z0-9]*$",
                "an API call name such as join or getMeetings",
            ),
        )?;
        let call_name = args.string("call_name")?;
        let query = args.string("query")?;
        if query.starts_with('?') {
            return Err(args.error(
                "query",
                "leave out the leading \"?\": the checksum signs the query string alone",
            ));
        }
        if query_param(query, "checksum").is_some() {
            return Err(args.error(
                "query",
                "the query must not contain checksum: the checksum signs the query without it",
            ));
        }
        let secret = Secret::new(args.string("secret")?);
        if secret.is_empty() {
            return Err(args.error("secret", "the secret must not be empty"));
        }
        let algorithm = match args.opt_string("algorithm") {
            None => ChecksumAlgorithm::default(),
            Some(name) => ChecksumAlgorithm::parse(name).ok_or_else(|| {
                args.error("algorithm", format!("algorithm must be {ALGORITHMS}"))
            })?,
        };
        Ok(Value::string(checksum(
            algorithm, call_name, query, &secret,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(alg: Value) -> Result<Value, FunctionError> {
        ApiChecksum.call(&[
            Value::string("getMeetings"),
            Value::string(""),
            Value::string("s3cr3t"),
            alg,
        ])
    }

    #[test]
    fn signs_as_the_core_checksum_and_refuses_bad_arguments() {
        // sha256("getMeetingss3cr3t"), computed outside this code.
        let want = "117c57d3d86545491255f4df3585a9b80af6328b439899beecf24a372e071df5";
        assert_eq!(call(Value::Null), Ok(Value::string(want)));
        let sha1 = call(Value::string("sha1")).expect("sha1");
        assert_eq!(sha1.as_str().map(str::len), Some(40));
        let err = call(Value::string("md5")).expect_err("md5");
        assert_eq!(err.argument, Some(3));
        assert!(!err.text.contains("s3cr3t"));
        let err = ApiChecksum
            .call(&[
                Value::string("join"),
                Value::string("?a=b"),
                Value::string("s3cr3t"),
                Value::Null,
            ])
            .expect_err("leading ?");
        assert_eq!(err.argument, Some(1));
    }
}
