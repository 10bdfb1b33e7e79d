//! Normalising a BBB server's API URL the way Scalelite expects it.

use thiserror::Error;
use url::Url;

/// The path every BBB API URL ends with.
pub const BBB_API_PATH: &str = "/bigbluebutton/api";

/// Why a BBB server URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ServerUrlError {
    #[error("BBB server URL {0:?} is not a valid absolute URL")]
    Invalid(String),
    #[error("BBB server URL {0:?} must use http or https")]
    Scheme(String),
    #[error("BBB server URL {0:?} has no host")]
    NoHost(String),
    #[error("BBB server URL {0:?} must not carry a query string, fragment or credentials")]
    Extras(String),
}

/// Normalises a BBB server URL for Scalelite's `addServer`: it must be http(s) with a host and no
/// query, fragment or credentials; a trailing slash is removed and `/bigbluebutton/api` is
/// appended when missing (`/bigbluebutton` becomes `/bigbluebutton/api`).
///
/// `https://bbb1.example.com/` -> `https://bbb1.example.com/bigbluebutton/api`
pub fn normalize_bbb_api_url(input: &str) -> Result<String, ServerUrlError> {
    let trimmed = input.trim();
    let url = Url::parse(trimmed).map_err(|_| ServerUrlError::Invalid(input.to_owned()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ServerUrlError::Scheme(input.to_owned()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ServerUrlError::NoHost(input.to_owned()));
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(ServerUrlError::Extras(input.to_owned()));
    }
    let path = url.path().trim_end_matches('/');
    let path = if path.ends_with(BBB_API_PATH) {
        path.to_owned()
    } else if path.ends_with("/bigbluebutton") {
        format!("{path}/api")
    } else {
        format!("{path}{BBB_API_PATH}")
    };
    let mut origin = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        origin.push_str(&format!(":{port}"));
    }
    Ok(format!("{origin}{path}"))
}

/// A URL as Scalelite holds it, spelled canonically without changing which endpoint Scalelite
/// calls: scheme and host lower case, no default port, no trailing slash. Unlike
/// `normalize_bbb_api_url` it never appends `/bigbluebutton/api`: Scalelite calls
/// `url + "/" + action` as stored, so a registration without the API path is another (broken)
/// endpoint. `None` when it does not parse as an http(s) URL with a host.
pub fn canonical_registered_url(stored: &str) -> Option<String> {
    let url = Url::parse(stored.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str().filter(|h| !h.is_empty())?;
    let mut out = format!("{}://{host}", url.scheme());
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(url.path().trim_end_matches('/'));
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    Some(out)
}

/// Whether the configured spelling `configured` names the URL Scalelite holds (`stored`): the
/// configuration normalised, to the stored URL spelled canonically.
pub fn names_registered_url(configured: &str, stored: &str) -> bool {
    match (
        normalize_bbb_api_url(configured),
        canonical_registered_url(stored),
    ) {
        (Ok(c), Some(s)) => c == s,
        _ => false,
    }
}

/// Whether two configured spellings name the same BBB server API: both normalise, to the
/// same URL. For a URL Scalelite holds, use `names_registered_url`.
///
/// Scalelite stores a URL as addServer got it and calls `url + "/" + action` after adding a
/// slash only when missing, connecting by host name; so a trailing slash and the case of
/// scheme and host do not make another server. The `/bigbluebutton/api` suffix is compared
/// as the docs and `bbb-hook` spell it: `https://bbb1.example.com` names that API.
pub fn same_bbb_api_url(a: &str, b: &str) -> bool {
    match (normalize_bbb_api_url(a), normalize_bbb_api_url(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        let ok = |i: &str| normalize_bbb_api_url(i).unwrap();
        assert_eq!(
            ok("https://bbb1.example.com"),
            "https://bbb1.example.com/bigbluebutton/api"
        );
        assert_eq!(
            ok("https://bbb1.example.com/"),
            "https://bbb1.example.com/bigbluebutton/api"
        );
        assert_eq!(
            ok("https://bbb1.example.com/bigbluebutton/api/"),
            "https://bbb1.example.com/bigbluebutton/api"
        );
        assert_eq!(
            ok("http://BBB1.example.com:8080/bigbluebutton"),
            "http://bbb1.example.com:8080/bigbluebutton/api"
        );
        assert_eq!(
            ok("https://h.example/prefix/"),
            "https://h.example/prefix/bigbluebutton/api"
        );
        assert_eq!(
            ok("https://h.example:443/"),
            "https://h.example/bigbluebutton/api"
        );
    }

    #[test]
    fn same_server_whatever_the_spelling() {
        let same = |a: &str, b: &str| same_bbb_api_url(a, b);
        assert!(same(
            "HTTPS://BBB1.Example.com/bigbluebutton/api/",
            "https://bbb1.example.com"
        ));
        assert!(same(
            "https://h.example:443/",
            "https://h.example/bigbluebutton/api"
        ));
        assert!(!same("http://h.example", "https://h.example"));
        assert!(!same("https://h.example/a", "https://h.example/A"));
        assert!(!same("https://h.example/x", "not a url"));
    }

    #[test]
    fn a_registered_url_is_not_given_the_api_path() {
        let stored = "HTTPS://BBB1.Example.com:443/bigbluebutton/api/";
        assert_eq!(
            canonical_registered_url(stored).as_deref(),
            Some("https://bbb1.example.com/bigbluebutton/api")
        );
        assert!(names_registered_url("https://bbb1.example.com", stored));
        assert!(!names_registered_url(
            "https://bbb1.example.com",
            "https://bbb1.example.com/"
        ));
        assert!(!names_registered_url(
            "https://bbb1.example.com",
            "https://bbb1.example.com/bigbluebutton"
        ));
    }

    #[test]
    fn refuses() {
        assert!(matches!(
            normalize_bbb_api_url("ftp://h/x"),
            Err(ServerUrlError::Scheme(_))
        ));
        assert!(matches!(
            normalize_bbb_api_url("bbb1.example.com"),
            Err(ServerUrlError::Invalid(_))
        ));
        assert!(matches!(
            normalize_bbb_api_url(""),
            Err(ServerUrlError::Invalid(_))
        ));
        assert!(matches!(
            normalize_bbb_api_url("https://h/bigbluebutton/api?x=1"),
            Err(ServerUrlError::Extras(_))
        ));
        assert!(matches!(
            normalize_bbb_api_url("https://u:p@h/"),
            Err(ServerUrlError::Extras(_))
        ));
    }
}
