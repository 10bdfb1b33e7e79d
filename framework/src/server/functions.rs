//! GetFunctions and CallFunction: the provider's functions by name, their signatures, and a
//! call's arguments decoded with each parameter's type.

use std::collections::HashMap;

use tfplugin_proto::tfplugin6 as pb;

use super::wire::{decode, encode};
use super::ProviderServer;
use crate::function::{check_arguments, FunctionError};
use crate::resource::Provider;
use crate::value::Value;

impl<P: Provider> ProviderServer<P> {
    /// Every function's signature by name (GetFunctions and GetProviderSchema's `functions`).
    pub(super) fn function_signatures(&self) -> HashMap<String, pb::Function> {
        self.functions
            .iter()
            .map(|(name, f)| (name.to_string(), f.signature.to_proto()))
            .collect()
    }

    pub(super) fn get_functions_response(&self) -> pb::get_functions::Response {
        pb::get_functions::Response {
            functions: self.function_signatures(),
            diagnostics: Vec::new(),
        }
    }

    /// Calls function `name`. Every failure is a FunctionError (never a gRPC error): Terraform
    /// shows its text, pointing at the argument when `function_argument` is set.
    pub(super) fn call_function_response(
        &self,
        req: pb::call_function::Request,
    ) -> pb::call_function::Response {
        let answer = match self.call(&req.name, &req.arguments) {
            Ok(result) => return result,
            Err(e) => e,
        };
        pb::call_function::Response {
            result: None,
            error: Some(answer.to_proto()),
        }
    }

    fn call(
        &self,
        name: &str,
        arguments: &[pb::DynamicValue],
    ) -> Result<pb::call_function::Response, FunctionError> {
        let entry = self
            .functions
            .get(name)
            .ok_or_else(|| FunctionError::new(format!("this provider has no function {name:?}")))?;
        let params = &entry.signature.parameters;
        if arguments.len() != params.len() {
            return Err(FunctionError::new(format!(
                "{name} takes {} arguments, got {}",
                params.len(),
                arguments.len()
            )));
        }
        let args = params
            .iter()
            .zip(arguments)
            .enumerate()
            .map(|(i, (p, dv))| {
                decode(Some(dv), &p.ty).map_err(|d| {
                    let why = d.iter().map(|d| d.detail.clone()).collect::<Vec<_>>();
                    FunctionError::argument(
                        i,
                        format!(
                            "{} is not a {}: {}",
                            p.name,
                            p.ty.friendly_name(),
                            why.join("; ")
                        ),
                    )
                })
            })
            .collect::<Result<Vec<Value>, _>>()?;
        check_arguments(params, &args)?;
        let result = entry.imp.call(&args)?;
        Ok(pb::call_function::Response {
            result: encode(&result, &entry.signature.returns),
            error: None,
        })
    }
}
