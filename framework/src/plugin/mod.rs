//! Serving a provider as a go-plugin process: handshake, AutoMTLS, the gRPC services,
//! graceful stop.

pub mod handshake;
pub mod services;
pub mod tls;

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use tfplugin_proto::plugin::grpc_controller_server::GrpcControllerServer;
use tfplugin_proto::plugin::grpc_stdio_server::GrpcStdioServer;
use tfplugin_proto::tfplugin6::provider_server::{
    Provider as ProviderRpc, ProviderServer as ProviderRpcServer,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;

use crate::{Provider, ProviderServer};

/// How long in-flight RPCs may run after Shutdown before the process exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Handshake(#[from] handshake::HandshakeError),
    #[error("TLS set-up failed: {0}")]
    Tls(#[from] tls::TlsError),
    #[error("could not listen on 127.0.0.1: {0}")]
    Listen(std::io::Error),
    #[error("could not write the handshake line to stdout: {0}")]
    Stdout(std::io::Error),
    #[error("gRPC server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
}

impl ServeError {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(1)
    }
}

/// A connection after TLS (or plain, when Terraform asked for no TLS).
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl tokio::io::AsyncRead for Conn {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Conn {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Runs the plugin until Terraform shuts it down. Call from `main`.
pub async fn serve<P: Provider>(provider: P) -> Result<(), ServeError> {
    serve_rpc(ProviderServer::new(provider)).await
}

/// Serves any `tfplugin6.Provider` implementation as a go-plugin process (the plan check's
/// schema provider implements the service itself; see plancheck/).
pub async fn serve_rpc<S: ProviderRpc>(service: S) -> Result<(), ServeError> {
    handshake::check_environment(|k| std::env::var(k).ok())?;
    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !pem.trim().is_empty() => Some(tls::server_tls(&pem)?),
        _ => None,
    };
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(ServeError::Listen)?;
    let addr = listener.local_addr().map_err(ServeError::Listen)?;

    let shutdown = CancellationToken::new();
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Conn>>(16);
    let acceptor = tls
        .as_ref()
        .map(|t| tokio_rustls::TlsAcceptor::from(t.config.clone()));
    tokio::spawn(accept_loop(listener, acceptor, tx, shutdown.clone()));

    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "{}",
        handshake::handshake_line(addr, tls.as_ref().map(|t| t.cert_der.as_slice()))
    )
    .and_then(|()| stdout.flush())
    .map_err(ServeError::Stdout)?;
    drop(stdout);
    tracing::debug!(%addr, tls = tls.is_some(), "plugin serving");

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let server = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(ProviderRpcServer::new(service))
        .add_service(GrpcControllerServer::new(services::Controller {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcStdioServer::new(services::Stdio {
            shutdown: shutdown.clone(),
        }))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::ReceiverStream::new(rx),
            stop_signal(shutdown.clone()),
        );

    // Graceful stop: in-flight RPCs finish; past the grace period the process exits anyway.
    let deadline = async {
        shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result?,
        () = deadline => tracing::warn!("in-flight requests did not finish within {SHUTDOWN_GRACE:?} of shutdown"),
    }
    Ok(())
}

/// Resolves when Terraform asks for shutdown or the process gets SIGTERM. Interrupts
/// (Ctrl-C reaches the whole process group) are left to Terraform, which stops the
/// provider itself when it is done, as go-plugin plugins do.
async fn stop_signal(shutdown: CancellationToken) {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let interrupts = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        {
            while s.recv().await.is_some() {
                tracing::debug!("interrupt received; waiting for Terraform to stop the provider");
            }
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        () = shutdown.cancelled() => {},
        () = term => shutdown.cancel(),
        () = interrupts => {},
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    tx: tokio::sync::mpsc::Sender<std::io::Result<Conn>>,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        // Without TCP_NODELAY every sequential RPC stalls ~40 ms (Nagle + delayed ACK).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let tx = tx.clone();
        let acceptor = acceptor.clone();
        // Handshakes run concurrently, so one slow client never blocks the next.
        tokio::spawn(async move {
            let conn = match acceptor {
                None => Ok(Conn::Plain(stream)),
                Some(acceptor) => acceptor
                    .accept(stream)
                    .await
                    .map(|s| Conn::Tls(Box::new(s))),
            };
            match conn {
                Ok(conn) => {
                    let _ = tx.send(Ok(conn)).await;
                }
                Err(e) => tracing::warn!(%peer, error = %e, "TLS handshake with Terraform failed"),
            }
        });
    }
}

/// Process entry for a provider binary: logging, runtime, serve, exit code.
pub fn run<P: Provider>(provider: P) -> ExitCode {
    run_rpc(move || ProviderServer::new(provider))
}

/// [`run`] for a `tfplugin6.Provider` implementation built by `make` once the process is set up.
pub fn run_rpc<S: ProviderRpc>(make: impl FnOnce() -> S) -> ExitCode {
    if let Err(e) = handshake::check_environment(|k| std::env::var(k).ok()) {
        eprintln!("{e}");
        return ExitCode::from(1);
    }
    init_logging();
    // Both ring and aws-lc-rs are compiled in (aws-lc-rs only verifies Terraform's P-521
    // certificate): rustls needs one chosen as the process default.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-bbb: could not start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(serve_rpc(make())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("terraform-provider-bbb: {e}");
            e.exit_code()
        }
    }
}

/// Logs to stderr, one line per event, which go-plugin forwards into Terraform's log.
/// The level follows `TF_LOG_PROVIDER_BBB`, then `TF_LOG_PROVIDER`, then `TF_LOG`.
fn init_logging() {
    let level = ["TF_LOG_PROVIDER_BBB", "TF_LOG_PROVIDER", "TF_LOG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map(|v| match v.to_ascii_lowercase().as_str() {
            "trace" | "json" => "trace",
            "debug" => "debug",
            "info" => "info",
            "warn" => "warn",
            "error" | "off" => "error",
            _ => "warn",
        })
        .unwrap_or("warn");
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .without_time()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .try_init();
}
