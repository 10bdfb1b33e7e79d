//! The action RPCs: ValidateActionConfig, PlanAction and InvokeAction (a server stream of
//! progress events ending in one Completed event with the diagnostics).
//!
//! Terraform (`internal/plugin6/grpc_provider.go`) reads the stream until it ends; an error
//! status becomes a Completed event with that error. So the action's own failures travel in
//! the Completed event, and the stream then ends. When Terraform cancels the stream (its
//! context ends), the running action is dropped; on Ctrl-C it calls `StopProvider` first,
//! which ends the action's waits with an error saying what was left done.

use std::sync::Arc;

use tfplugin_proto::tfplugin6 as pb;
use tonic::codegen::BoxStream;
use tonic::{Response, Status};

use super::wire::{decode, validate};
use super::{Entry, ProviderServer};
use crate::action::{Action, Progress};
use crate::diagnostics::Diagnostics;
use crate::resource::Provider;

type Event = pb::invoke_action::Event;

fn progress_event(message: String) -> Event {
    Event {
        r#type: Some(pb::invoke_action::event::Type::Progress(
            pb::invoke_action::event::Progress { message },
        )),
    }
}

fn completed_event(diags: &Diagnostics) -> Event {
    Event {
        r#type: Some(pb::invoke_action::event::Type::Completed(
            pb::invoke_action::event::Completed {
                diagnostics: diags.to_proto(),
            },
        )),
    }
}

impl<P: Provider> ProviderServer<P> {
    pub(super) fn action(&self, type_name: &str) -> Result<&Entry<dyn Action<P::Data>>, Status> {
        self.actions
            .get(type_name)
            .ok_or_else(|| Status::not_found(format!("this provider has no action {type_name:?}")))
    }

    pub(super) fn validate_action(
        &self,
        req: pb::validate_action_config::Request,
    ) -> Result<pb::validate_action_config::Response, Status> {
        let entry = self.action(&req.type_name)?;
        let diags = validate(&entry.schema, &entry.ty, req.config.as_ref(), |c, d| {
            entry.imp.validate(c, d)
        });
        Ok(pb::validate_action_config::Response {
            diagnostics: diags.to_proto(),
        })
    }

    pub(super) async fn plan_action_rpc(
        &self,
        req: pb::plan_action::Request,
    ) -> Result<pb::plan_action::Response, Status> {
        let entry = self.action(&req.action_type)?;
        let mut diags = Diagnostics::new();
        match (decode(req.config.as_ref(), &entry.ty), self.configured()) {
            (Ok(config), Ok(data)) => entry.imp.plan(&data, &config, &mut diags).await,
            (Err(e), _) | (_, Err(e)) => diags.extend(e),
        }
        Ok(pb::plan_action::Response {
            diagnostics: diags.to_proto(),
            deferred: None,
        })
    }

    /// Starts the action on its own task and answers the stream of its events.
    pub(super) fn invoke_action_rpc(
        &self,
        req: pb::invoke_action::Request,
    ) -> Result<Response<BoxStream<Event>>, Status> {
        let entry = self.action(&req.action_type)?;
        let (events, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Event, Status>>();
        let stream = tokio_stream::wrappers::UnboundedReceiverStream::new(rx);
        let prepared = decode(req.config.as_ref(), &entry.ty)
            .and_then(|config| Ok((config, self.configured()?)));
        let (config, data) = match prepared {
            Ok(ready) => ready,
            Err(diags) => {
                let _ = events.send(Ok(completed_event(&diags)));
                return Ok(Response::new(Box::pin(stream)));
            }
        };
        let action: Arc<dyn Action<P::Data>> = entry.imp.clone();
        tokio::spawn(async move {
            let (progress, mut lines) = Progress::channel();
            let run = action.invoke(&data, config, &progress);
            tokio::pin!(run);
            let diags = loop {
                tokio::select! {
                    biased;
                    Some(line) = lines.recv() => {
                        let _ = events.send(Ok(progress_event(line)));
                    }
                    diags = &mut run => break diags,
                    () = events.closed() => {
                        tracing::warn!(action = action.type_name(), "Terraform cancelled the action's stream; the action was dropped");
                        return;
                    }
                }
            };
            // Lines sent just before the end come first.
            while let Ok(line) = lines.try_recv() {
                let _ = events.send(Ok(progress_event(line)));
            }
            let _ = events.send(Ok(completed_event(&diags)));
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
