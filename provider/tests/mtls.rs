//! The plugin process enforces mutual TLS: started as Terraform starts it, it accepts a TLS
//! client only when that client presents exactly the certificate announced in
//! `PLUGIN_CLIENT_CERT`, and it negotiates HTTP/2.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use base64::Engine;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

struct ClientIdentity {
    pem: String,
    der: Vec<u8>,
    key: Vec<u8>,
}

fn client_identity() -> ClientIdentity {
    // Terraform uses P-521; ring (which rcgen uses here) can sign P-384, which exercises the
    // same aws-lc-rs verification path.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).expect("cert");
    ClientIdentity {
        pem: cert.pem(),
        der: cert.der().to_vec(),
        key: key.serialize_der(),
    }
}

struct Plugin {
    child: Child,
    addr: String,
    server_cert: Vec<u8>,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_plugin(client_pem: &str) -> Plugin {
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-bbb"))
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", client_pem)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start provider");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("handshake line");
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(&fields[..3], &["1", "6", "tcp"], "handshake line: {line}");
    assert_eq!(fields[4], "grpc");
    assert!(
        fields[3].starts_with("127.0.0.1:"),
        "listens on loopback only: {line}"
    );
    let server_cert = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .expect("certificate in base64, no padding");
    Plugin {
        child,
        addr: fields[3].to_string(),
        server_cert,
    }
}

#[derive(Debug)]
struct PinnedServer {
    der: Vec<u8>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::client::danger::ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        assert_eq!(server_name.to_str(), "localhost");
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "not the announced server certificate".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Connects, sends the HTTP/2 preface, and reports whether the server answered with frames.
async fn h2_answers(plugin: &Plugin, identity: Option<&ClientIdentity>) -> bool {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // Like Terraform, trust exactly the certificate from the handshake line.
    let pinned = PinnedServer {
        der: plugin.server_cert.clone(),
        algorithms: provider.signature_verification_algorithms,
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(pinned));
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(id.der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key.clone())),
            )
            .expect("client auth"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(&plugin.addr)
        .await
        .expect("connect");
    let Ok(mut tls) = connector
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
    else {
        return false;
    };
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";
    if tls.write_all(preface).await.is_err() {
        return false;
    }
    let mut buf = [0u8; 9];
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(5), tls.read_exact(&mut buf)).await;
    if !matches!(read, Ok(Ok(_))) {
        eprintln!("no HTTP/2 answer: {read:?}");
    }
    // The server's first frame is SETTINGS (type 4).
    matches!(read, Ok(Ok(_))) && buf[3] == 4
}

#[tokio::test]
async fn accepts_only_the_announced_client_certificate() {
    let announced = client_identity();
    let plugin = start_plugin(&announced.pem);

    assert!(
        h2_answers(&plugin, Some(&announced)).await,
        "the announced client is served"
    );
    assert!(
        !h2_answers(&plugin, None).await,
        "a client without certificate is refused"
    );
    let stranger = client_identity();
    assert!(
        !h2_answers(&plugin, Some(&stranger)).await,
        "another certificate is refused"
    );
}
