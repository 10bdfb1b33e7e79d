//! go-plugin's side services: the controller (graceful shutdown) and stdio streaming.

use std::pin::Pin;

use futures::Stream;
use tfplugin_proto::plugin::{
    self as pb, grpc_controller_server::GrpcController, grpc_stdio_server::GrpcStdio,
};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

/// `plugin.GRPCController`: Terraform calls Shutdown when it is done with the plugin.
pub struct Controller {
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _: Request<pb::Empty>) -> Result<Response<pb::Empty>, Status> {
        tracing::debug!("shutdown requested by Terraform");
        self.shutdown.cancel();
        Ok(Response::new(pb::Empty {}))
    }
}

/// `plugin.GRPCStdio`: the provider logs to stderr, which go-plugin already collects, so
/// the stream carries nothing and ends at shutdown.
pub struct Stdio {
    pub shutdown: CancellationToken,
}

type StdioStream = Pin<Box<dyn Stream<Item = Result<pb::StdioData, Status>> + Send>>;

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(
        &self,
        _: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let shutdown = self.shutdown.clone();
        let stream = futures::stream::once(async move { shutdown.cancelled_owned().await })
            .filter_map(|()| async { None::<Result<pb::StdioData, Status>> });
        Ok(Response::new(Box::pin(stream)))
    }
}

use futures::StreamExt as _;
