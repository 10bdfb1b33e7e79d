//! The fleet's certificate document: parsing and checks, without I/O.
//!
//! The document (the SSM parameter `BBB_TLS_CERTIFICATE_PARAMETER`, usually a Secrets Manager
//! secret read through `/aws/reference/secretsmanager/<name>`) is either JSON
//! `{"fullchain": "<PEM certificates, leaf first>", "private_key": "<PEM key>"}` or the PEM
//! blocks concatenated (certificates leaf first, and one private key). Keys: PKCS#8
//! (`PRIVATE KEY`: RSA, ECDSA P-256/P-384, Ed25519), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
//! (`EC PRIVATE KEY`). No message of this module carries key material.

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use x509_parser::der_parser::der::parse_der_sequence;
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;
use x509_parser::prelude::{FromDer, X509Certificate};

/// What the hook tells about a certificate (no key material).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LeafInfo {
    /// DNS names (subjectAltName, else the subject's common name).
    pub names: Vec<String>,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// Hexadecimal serial number.
    pub serial: String,
    pub issuer: String,
}

/// A parsed document: the PEM nginx gets (certificates leaf first, then the key) and the leaf.
pub struct Bundle {
    pub pem: String,
    pub leaf: LeafInfo,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("leaf", &self.leaf)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDocument {
    fullchain: String,
    private_key: String,
}

fn pem_block(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Parses a document and checks that the key belongs to the leaf certificate. The error is
/// the reason, for a message that also names where the document came from.
pub fn parse(text: &str) -> Result<Bundle, String> {
    let trimmed = text.trim_start();
    let pem_text = if trimmed.starts_with('{') {
        let doc: JsonDocument = serde_json::from_str(trimmed).map_err(|e| {
            // serde_json's message names the field and position, never the value.
            format!("not a JSON document {{\"fullchain\": PEM, \"private_key\": PEM}}: {e}")
        })?;
        format!("{}\n{}", doc.fullchain, doc.private_key)
    } else {
        text.to_owned()
    };
    let mut certs: Vec<Vec<u8>> = Vec::new();
    let mut key: Option<(String, Vec<u8>)> = None;
    for block in Pem::iter_from_buffer(pem_text.as_bytes()) {
        let block = block.map_err(|e| format!("not PEM: {e}"))?;
        match block.label.as_str() {
            "CERTIFICATE" => certs.push(block.contents),
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
                if key.is_some() {
                    return Err("more than one private key".into());
                }
                key = Some((block.label, block.contents));
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err("the private key is encrypted (a passphrase nginx cannot give)".into())
            }
            "EC PARAMETERS" => {}
            other => return Err(format!("unexpected PEM block {other:?}")),
        }
    }
    let Some(leaf_der) = certs.first() else {
        return Err("no certificate (PEM block CERTIFICATE)".into());
    };
    let Some((key_label, key_der)) = key else {
        return Err("no private key (PEM block PRIVATE KEY)".into());
    };
    let (_, leaf) = X509Certificate::from_der(leaf_der)
        .map_err(|e| format!("the first certificate does not parse: {e}"))?;
    for (i, der) in certs.iter().enumerate().skip(1) {
        X509Certificate::from_der(der)
            .map_err(|e| format!("certificate {} of the chain does not parse: {e}", i + 1))?;
    }
    key_matches(
        &key_label,
        &key_der,
        leaf.public_key().subject_public_key.data.as_ref(),
    )?;
    let info = leaf_info(&leaf);
    let mut pem: String = certs.iter().map(|c| pem_block("CERTIFICATE", c)).collect();
    pem.push_str(&pem_block(&key_label, &key_der));
    Ok(Bundle { pem, leaf: info })
}

fn leaf_info(cert: &X509Certificate<'_>) -> LeafInfo {
    let mut names: Vec<String> = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(d) => Some(d.to_ascii_lowercase()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    if names.is_empty() {
        names = cert
            .subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok().map(str::to_ascii_lowercase))
            .collect();
    }
    LeafInfo {
        names,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        serial: cert.raw_serial_as_string().replace(':', ""),
        issuer: cert.issuer().to_string(),
    }
}

/// Whether the private key (`label`, DER) is the key of the certificate's public key
/// (`cert_key`: the subjectPublicKey bits).
fn key_matches(label: &str, der: &[u8], cert_key: &[u8]) -> Result<(), String> {
    let rng = SystemRandom::new();
    let ecdsa = [
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
    ];
    let public: Vec<u8> = match label {
        "PRIVATE KEY" => {
            let ec = ecdsa
                .iter()
                .find_map(|alg| EcdsaKeyPair::from_pkcs8(alg, der, &rng).ok())
                .map(|k| k.public_key().as_ref().to_vec());
            let rsa = || {
                RsaKeyPair::from_pkcs8(der)
                    .ok()
                    .map(|k| k.public_key().as_ref().to_vec())
            };
            let ed = || {
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                    .ok()
                    .map(|k| k.public_key().as_ref().to_vec())
            };
            ec.or_else(rsa).or_else(ed).ok_or_else(|| {
                "the private key is not a PKCS#8 RSA, ECDSA P-256/P-384 or Ed25519 key".to_owned()
            })?
        }
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(der)
            .map_err(|e| format!("the RSA private key does not parse: {e}"))?
            .public_key()
            .as_ref()
            .to_vec(),
        _ => {
            // SEC1 ECPrivateKey: SEQUENCE { version, privateKey OCTET STRING, ... }. ring
            // checks the scalar against the certificate's point itself.
            let (_, seq) = parse_der_sequence(der)
                .map_err(|_| "the EC private key does not parse".to_owned())?;
            let scalar = seq
                .as_sequence()
                .ok()
                .and_then(|items| items.get(1))
                .and_then(|o| o.as_slice().ok())
                .ok_or_else(|| "the EC private key does not parse".to_owned())?;
            let ok = ecdsa.iter().any(|alg| {
                EcdsaKeyPair::from_private_key_and_public_key(alg, scalar, cert_key, &rng).is_ok()
            });
            return if ok {
                Ok(())
            } else {
                Err("the private key does not belong to the certificate".into())
            };
        }
    };
    if public == cert_key {
        Ok(())
    } else {
        Err("the private key does not belong to the certificate".into())
    }
}

/// Whether certificate name `pattern` covers host `name` (RFC 6125: a wildcard stands for
/// exactly one leftmost label).
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => name
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == name,
    }
}

/// Checks that the certificate serves `host` at unix time `now`.
pub fn check_usable(leaf: &LeafInfo, host: &str, now: i64) -> Result<(), String> {
    if !leaf.names.iter().any(|p| name_matches(p, host)) {
        return Err(format!(
            "the certificate does not cover {host} (it names {})",
            leaf.names.join(", ")
        ));
    }
    if leaf.not_after <= now {
        return Err(format!(
            "the certificate expired on {}",
            utc(leaf.not_after)
        ));
    }
    if leaf.not_before > now {
        return Err(format!(
            "the certificate is not valid before {}",
            utc(leaf.not_before)
        ));
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SSZ` of unix seconds.
pub fn utc(secs: i64) -> String {
    bbb_core::time::format_rfc3339(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_matches("*.bbb.example.org", "bbb-i-1.bbb.example.org"));
        assert!(name_matches(
            "*.BBB.example.org.",
            "bbb-i-1.bbb.example.org"
        ));
        assert!(!name_matches("*.bbb.example.org", "a.b.bbb.example.org"));
        assert!(!name_matches("*.bbb.example.org", "bbb.example.org"));
        assert!(name_matches("x.example.org", "X.example.org"));
        assert!(!name_matches("x.example.org", "y.example.org"));
    }

    #[test]
    fn utc_formats_unix_seconds() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_800_000_000), "2027-01-15T08:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
    }

    const RSA_CERT: &str = include_str!("testdata/rsa-cert.pem");
    const EC_CERT: &str = include_str!("testdata/ec-cert.pem");

    #[test]
    fn keys_in_every_format_are_matched_against_the_certificate() {
        // PKCS#1 RSA, PKCS#8 RSA and SEC1 EC keys (openssl's formats; rcgen covers PKCS#8 EC).
        for doc in [
            include_str!("testdata/rsa-pkcs1.pem").to_owned(),
            format!("{RSA_CERT}{}", include_str!("testdata/rsa-pkcs8-key.pem")),
            include_str!("testdata/ec-sec1.pem").to_owned(),
        ] {
            let b = parse(&doc).unwrap();
            assert_eq!(b.leaf.names, ["*.bbb.example.org"]);
            assert!(check_usable(&b.leaf, "bbb-i-1.bbb.example.org", 1_800_000_000).is_ok());
            // What nginx gets parses again to the same certificate.
            assert_eq!(parse(&b.pem).unwrap().leaf, b.leaf);
        }
        let other_ec = include_str!("testdata/ec-other-sec1-key.pem");
        let e = parse(&format!("{EC_CERT}{other_ec}")).unwrap_err();
        assert!(e.contains("does not belong"), "{e}");
        let e = parse(&format!("{RSA_CERT}{other_ec}")).unwrap_err();
        assert!(e.contains("does not belong"), "{e}");
        let rsa_key = include_str!("testdata/rsa-pkcs8-key.pem");
        let e = parse(&format!("{EC_CERT}{rsa_key}")).unwrap_err();
        assert!(e.contains("does not belong"), "{e}");
        // The reason never quotes the key.
        let body = other_ec.lines().nth(1).unwrap();
        assert!(!e.contains(body));
    }

    #[test]
    fn refuses_documents_without_key_or_certificate() {
        assert!(parse("").unwrap_err().contains("no certificate"));
        assert!(parse("{\"fullchain\": \"\"}")
            .unwrap_err()
            .contains("private_key"));
        let e = parse(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .unwrap_err();
        assert!(e.contains("encrypted"), "{e}");
    }
}
