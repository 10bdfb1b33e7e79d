//! The AWS SDK clients over HTTPS: the HTTP client `AwsClients::new` gives the SDK (rustls on
//! ring, the one crypto provider the hook links) completes a TLS handshake, checks the server's
//! certificate against the system's roots and carries real calls. moto speaks plain HTTP, so a
//! TLS front on 127.0.0.1 terminates TLS and passes the bytes through to it; the front's
//! certificate is issued by a test CA that `SSL_CERT_FILE` adds to the roots (rustls-native-certs
//! reads it, as OpenSSL does).
//!
//! One test function: the roots are loaded once per process, after `SSL_CERT_FILE` is set.

use std::sync::Arc;
use std::time::Duration;

use bbb_core::aws::{AwsClients, AwsConfig, AwsError};
use bbb_core::testing::{put_parameter, shared, unique, REGION};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use url::Url;

/// What the TLS front saw of one connection.
#[derive(Debug)]
enum Seen {
    /// Handshake done; the connection was passed through to moto.
    Proxied,
    /// The handshake failed (the client refused the certificate, for one).
    HandshakeFailed(String),
}

struct Front {
    url: Url,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl Front {
    fn drain(&mut self) -> Vec<Seen> {
        let mut out = Vec::new();
        while let Ok(s) = self.seen.try_recv() {
            out.push(s);
        }
        out
    }
}

/// A TLS front for moto at `upstream`, serving `cert` (for 127.0.0.1) with `key`.
async fn tls_front(upstream: &Url, cert: CertificateDer<'static>, key: KeyPair) -> Front {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .expect("server certificate");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let upstream = format!(
        "{}:{}",
        upstream.host_str().expect("moto host"),
        upstream.port().expect("moto port")
    );
    let (tx, seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, upstream, tx) = (acceptor.clone(), upstream.clone(), tx.clone());
            tokio::spawn(async move {
                match acceptor.accept(tcp).await {
                    Ok(mut tls) => {
                        let _ = tx.send(Seen::Proxied);
                        let mut moto = TcpStream::connect(&upstream).await.expect("moto");
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut moto).await;
                    }
                    Err(e) => {
                        let _ = tx.send(Seen::HandshakeFailed(e.to_string()));
                    }
                }
            });
        }
    });
    Front {
        url: Url::parse(&format!("https://127.0.0.1:{port}")).expect("url"),
        seen,
    }
}

fn config_for(front: &Front) -> AwsConfig {
    AwsConfig {
        timeout: Duration::from_secs(20),
        max_retries: 0,
        ..AwsConfig::emulator(&front.url, REGION)
    }
}

#[tokio::test]
async fn sdk_calls_go_over_tls_and_check_the_certificate() {
    let moto = shared();

    // A test CA, trusted through SSL_CERT_FILE, and a server certificate for 127.0.0.1 it issues.
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "bbb-core test CA");
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let ca = Issuer::new(ca_params, ca_key);
    let roots = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(roots.path(), ca_cert.pem()).expect("write CA");
    std::env::set_var("SSL_CERT_FILE", roots.path());

    let leaf_key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&leaf_key, &ca)
        .expect("certificate");
    let mut trusted = tls_front(moto.url(), leaf.der().clone(), leaf_key).await;

    let clients = AwsClients::new(&config_for(&trusted))
        .await
        .expect("clients");
    let name = format!("/bbb/{}/over-tls", unique("fleet"));
    put_parameter(&clients, &name, "s3cr3t-over-tls", true).await;
    let secret = clients.get_secure_parameter(&name).await.expect("get");
    assert_eq!(secret.expose(), "s3cr3t-over-tls");
    // Auto Scaling (Query protocol) through the same client.
    clients
        .autoscaling_sdk()
        .describe_auto_scaling_groups()
        .send()
        .await
        .expect("DescribeAutoScalingGroups over TLS");
    let seen = trusted.drain();
    assert!(
        seen.iter().any(|s| matches!(s, Seen::Proxied)),
        "no TLS connection reached the front: {seen:?}"
    );
    assert!(
        !seen.iter().any(|s| matches!(s, Seen::HandshakeFailed(_))),
        "{seen:?}"
    );

    // A certificate no trusted CA issued: the client refuses it, nothing reaches moto.
    let rogue_key = KeyPair::generate().expect("key");
    let rogue = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .self_signed(&rogue_key)
        .expect("certificate");
    let mut untrusted = tls_front(moto.url(), rogue.der().clone(), rogue_key).await;
    let clients = AwsClients::new(&config_for(&untrusted))
        .await
        .expect("clients");
    let err = clients
        .get_secure_parameter(&name)
        .await
        .expect_err("an untrusted certificate must fail the call");
    assert!(matches!(err, AwsError::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    // The front learns of the refusal from the client's alert, maybe just after the call ends.
    let first = tokio::time::timeout(Duration::from_secs(5), untrusted.seen.recv())
        .await
        .expect("the front saw no connection");
    let mut seen: Vec<Seen> = first.into_iter().collect();
    seen.extend(untrusted.drain());
    assert!(
        seen.iter()
            .any(|s| matches!(s, Seen::HandshakeFailed(e) if e.contains("UnknownCA"))),
        "the front saw no handshake refused for its certificate: {seen:?}"
    );
    assert!(!seen.iter().any(|s| matches!(s, Seen::Proxied)), "{seen:?}");
}
