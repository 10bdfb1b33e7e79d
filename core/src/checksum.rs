//! The checksum that authenticates BBB and Scalelite API calls.
//!
//! Both APIs sign a call as the lower-case hex digest of
//! `callName + queryStringWithoutChecksum + secret`. The receiver picks the digest algorithm by
//! the length of the checksum it was given. Scalelite accepts SHA-1/256/512 (40/64/128 hex) and
//! compares case-sensitively against its own lower-case digest, after re-encoding the query
//! parameters itself; BBB also accepts SHA-384 (96 hex), compares case-insensitively and signs the
//! raw query string with the `checksum` parameter cut out.

use crate::secret::Secret;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::fmt;

/// A checksum digest algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ChecksumAlgorithm {
    Sha1,
    /// Scalelite's default (`LOADBALANCER_CHECKSUM_ALGORITHM` unset).
    #[default]
    Sha256,
    /// Accepted by BBB only, never by Scalelite.
    Sha384,
    Sha512,
}

impl ChecksumAlgorithm {
    /// Every algorithm, weakest first.
    pub const ALL: [ChecksumAlgorithm; 4] = [Self::Sha1, Self::Sha256, Self::Sha384, Self::Sha512];

    /// Length of the hex digest.
    pub fn hex_len(self) -> usize {
        match self {
            Self::Sha1 => 40,
            Self::Sha256 => 64,
            Self::Sha384 => 96,
            Self::Sha512 => 128,
        }
    }

    /// The name BBB uses in `supportedChecksumAlgorithms` (`sha1`, `sha256`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Parses `sha1`, `SHA-256`, `sha384`, ... (case and dashes ignored).
    pub fn parse(name: &str) -> Option<Self> {
        let n: String = name
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect::<String>()
            .to_ascii_lowercase();
        Self::ALL.into_iter().find(|a| a.name() == n)
    }

    /// Lower-case hex digest of `data`.
    pub fn hex_digest(self, data: &[u8]) -> String {
        match self {
            Self::Sha1 => hex::encode(Sha1::digest(data)),
            Self::Sha256 => hex::encode(Sha256::digest(data)),
            Self::Sha384 => hex::encode(Sha384::digest(data)),
            Self::Sha512 => hex::encode(Sha512::digest(data)),
        }
    }
}

impl fmt::Display for ChecksumAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which server's verification rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Scalelite's `/scalelite/api` (and `/bigbluebutton/api`): SHA-1/256/512, case-sensitive.
    Scalelite,
    /// BigBlueButton's bbb-web: SHA-1/256/384/512, case-insensitive.
    Bbb,
}

impl Flavor {
    /// The algorithm the server infers from a checksum's length, if it accepts that length.
    pub fn algorithm_for_len(self, len: usize) -> Option<ChecksumAlgorithm> {
        let alg = ChecksumAlgorithm::ALL
            .into_iter()
            .find(|a| a.hex_len() == len)?;
        match (self, alg) {
            (Flavor::Scalelite, ChecksumAlgorithm::Sha384) => None,
            _ => Some(alg),
        }
    }
}

/// The checksum of a call: hex digest of `call_name + query + secret`.
pub fn checksum(alg: ChecksumAlgorithm, call_name: &str, query: &str, secret: &Secret) -> String {
    let mut data = String::with_capacity(call_name.len() + query.len() + secret.expose().len());
    data.push_str(call_name);
    data.push_str(query);
    data.push_str(secret.expose());
    alg.hex_digest(data.as_bytes())
}

/// Verifies `provided` as the server of `flavor` does: the algorithm is picked by the length of
/// `provided` (and must be in `allowed`), any of `secrets` may match. `signed_query` is the query
/// string as the server reconstructs it (see [`scalelite_signed_query`] and
/// [`bbb_signed_query`]).
pub fn verify(
    flavor: Flavor,
    allowed: &[ChecksumAlgorithm],
    call_name: &str,
    signed_query: &str,
    provided: &str,
    secrets: &[Secret],
) -> bool {
    let Some(alg) = flavor.algorithm_for_len(provided.len()) else {
        return false;
    };
    if !allowed.contains(&alg) {
        return false;
    }
    secrets.iter().any(|secret| {
        let ours = checksum(alg, call_name, signed_query, secret);
        match flavor {
            Flavor::Scalelite => constant_time_eq(ours.as_bytes(), provided.as_bytes()),
            Flavor::Bbb => {
                constant_time_eq(ours.as_bytes(), provided.to_ascii_lowercase().as_bytes())
            }
        }
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Percent-encodes one query component the way Ruby's `CGI.escape` does (the encoding Scalelite
/// re-applies before checking a checksum): `A-Z a-z 0-9 _ . - ~` stay, space becomes `+`,
/// every other byte becomes `%XX` (upper-case hex).
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Builds a query string (`k=v&k2=v2`, in the given order) with [`encode_component`].
pub fn encode_query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                encode_component(k.as_ref()),
                encode_component(v.as_ref())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Decoded query parameters in the way Rack collapses them: a repeated key keeps its first
/// position and its last value.
pub fn parse_query(raw_query: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(raw_query.as_bytes()) {
        if k.is_empty() {
            continue;
        }
        match out.iter_mut().find(|(ek, _)| *ek == k) {
            Some(entry) => entry.1 = v.into_owned(),
            None => out.push((k.into_owned(), v.into_owned())),
        }
    }
    out
}

/// The value of one query parameter, as Rack reads it (last occurrence wins).
pub fn query_param(raw_query: &str, name: &str) -> Option<String> {
    parse_query(raw_query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The query string Scalelite signs: the request's query parameters without `checksum`,
/// decoded and re-encoded with `CGI.escape`, joined by `&`.
pub fn scalelite_signed_query(raw_query: &str) -> String {
    let pairs: Vec<(String, String)> = parse_query(raw_query)
        .into_iter()
        .filter(|(k, _)| k != "checksum")
        .collect();
    encode_query(&pairs)
}

/// The query string BBB signs: the raw query string with `checksum=<provided>` cut out
/// literally (as bbb-web's `GetChecksum` does).
pub fn bbb_signed_query(raw_query: &str, provided: &str) -> String {
    raw_query
        .replace(&format!("&checksum={provided}"), "")
        .replace(&format!("checksum={provided}&"), "")
        .replace(&format!("checksum={provided}"), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        // Values from Scalelite's own request specs (`addServer` with an empty query).
        let s1 = Secret::new("sha1-secret");
        assert_eq!(
            checksum(ChecksumAlgorithm::Sha1, "addServer", "", &s1),
            ChecksumAlgorithm::Sha1.hex_digest(b"addServersha1-secret")
        );
        // Classic BBB API docs example (SHA-1).
        let salt = Secret::new("639259d4-9dd8-4b25-bf01-95f9567eaf4b");
        let q = "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444";
        assert_eq!(
            checksum(ChecksumAlgorithm::Sha1, "create", q, &salt),
            "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17"
        );
    }

    #[test]
    fn lengths_and_flavors() {
        for alg in ChecksumAlgorithm::ALL {
            assert_eq!(alg.hex_digest(b"x").len(), alg.hex_len());
            assert_eq!(Flavor::Bbb.algorithm_for_len(alg.hex_len()), Some(alg));
        }
        assert_eq!(Flavor::Scalelite.algorithm_for_len(96), None);
        assert_eq!(Flavor::Scalelite.algorithm_for_len(63), None);
        assert_eq!(
            ChecksumAlgorithm::parse("SHA-384"),
            Some(ChecksumAlgorithm::Sha384)
        );
        assert_eq!(ChecksumAlgorithm::default(), ChecksumAlgorithm::Sha256);
    }

    #[test]
    fn verify_rules() {
        let secret = Secret::new("s3cr3t");
        let all = ChecksumAlgorithm::ALL;
        let q = "id=abc";
        let secrets = std::slice::from_ref(&secret);
        for alg in ChecksumAlgorithm::ALL {
            let c = checksum(alg, "getServerInfo", q, &secret);
            let sl = verify(Flavor::Scalelite, &all, "getServerInfo", q, &c, secrets);
            assert_eq!(sl, alg != ChecksumAlgorithm::Sha384, "{alg}");
            assert!(verify(Flavor::Bbb, &all, "getServerInfo", q, &c, secrets));
            let upper = c.to_ascii_uppercase();
            assert!(!verify(
                Flavor::Scalelite,
                &all,
                "getServerInfo",
                q,
                &upper,
                secrets
            ));
            assert!(verify(
                Flavor::Bbb,
                &all,
                "getServerInfo",
                q,
                &upper,
                secrets
            ));
        }
        let c = checksum(ChecksumAlgorithm::Sha256, "getServers", "", &secret);
        let other = Secret::new("other");
        assert!(verify(
            Flavor::Scalelite,
            &all,
            "getServers",
            "",
            &c,
            &[other.clone(), secret]
        ));
        assert!(!verify(
            Flavor::Scalelite,
            &all,
            "getServers",
            "",
            &c,
            &[other]
        ));
    }

    #[test]
    fn query_reconstruction() {
        assert_eq!(encode_component("a b/c~d.e_f-g*"), "a+b%2Fc~d.e_f-g%2A");
        assert_eq!(
            scalelite_signed_query("id=a%20b&checksum=xyz&tag=%7Etest"),
            "id=a+b&tag=~test"
        );
        assert_eq!(scalelite_signed_query("checksum=xyz"), "");
        assert_eq!(bbb_signed_query("checksum=abc", "abc"), "");
        assert_eq!(bbb_signed_query("a=1&checksum=abc&b=2", "abc"), "a=1&b=2");
        assert_eq!(bbb_signed_query("checksum=abc&b=2", "abc"), "b=2");
        assert_eq!(query_param("a=1&a=2", "a").as_deref(), Some("2"));
    }
}
