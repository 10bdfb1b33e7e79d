//! The fleet's record naming scheme: which Route53 names and Scalelite URLs belong to it.

use super::PLACEHOLDER;

/// The fleet's record naming scheme: `<prefix><instance id><suffix>.<domain>`.
pub(crate) struct Naming {
    prefix: String,
    suffix: String,
    pub(super) domain: String,
    pattern: regex::Regex,
}

impl Naming {
    pub(crate) fn new(template: &str, domain: &str) -> Option<Self> {
        let (prefix, suffix) = template.split_once(PLACEHOLDER)?;
        let (prefix, suffix, domain) = (
            prefix.to_ascii_lowercase(),
            suffix.to_ascii_lowercase(),
            domain.trim_end_matches('.').to_ascii_lowercase(),
        );
        let pattern = format!(
            "^{}(i-[0-9a-f]{{8,17}}){}\\.{}$",
            regex::escape(&prefix),
            regex::escape(&suffix),
            regex::escape(&domain)
        );
        Some(Self {
            prefix,
            suffix,
            domain,
            pattern: regex::Regex::new(&pattern).ok()?,
        })
    }

    pub(crate) fn record_name(&self, instance_id: &str) -> String {
        format!(
            "{}{}{}.{}",
            self.prefix,
            instance_id.to_ascii_lowercase(),
            self.suffix,
            self.domain
        )
    }

    /// The instance id in `name` when the name follows the scheme.
    pub(crate) fn instance_of(&self, name: &str) -> Option<String> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.pattern
            .captures(&name)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
    }

    pub(super) fn server_url(&self, instance_id: &str) -> String {
        format!(
            "https://{}/bigbluebutton/api",
            self.record_name(instance_id)
        )
    }

    /// The instance id of a Scalelite server URL whose host follows the scheme.
    pub(super) fn instance_of_url(&self, url: &str) -> Option<String> {
        let host = url::Url::parse(url).ok()?.host_str()?.to_string();
        self.instance_of(&host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_matches_only_the_fleets_scheme() {
        let n = Naming::new("bbb-{instance_id}", "bbb.example.org").expect("naming");
        assert_eq!(
            n.record_name("i-0123456789abcdef0"),
            "bbb-i-0123456789abcdef0.bbb.example.org"
        );
        assert_eq!(
            n.instance_of("bbb-i-0123456789abcdef0.bbb.example.org.")
                .as_deref(),
            Some("i-0123456789abcdef0")
        );
        assert_eq!(
            n.instance_of("other-i-0123456789abcdef0.bbb.example.org"),
            None
        );
        assert_eq!(
            n.instance_of("bbb-i-0123456789abcdef0.other.example.org"),
            None
        );
        assert_eq!(
            n.instance_of("bbb-i-0123456789abcdef0.x.bbb.example.org"),
            None
        );
        assert_eq!(
            n.instance_of_url("https://bbb-i-0123456789abcdef0.bbb.example.org/bigbluebutton/api")
                .as_deref(),
            Some("i-0123456789abcdef0")
        );
        assert_eq!(
            n.instance_of_url("https://scalelite.bbb.example.org/bigbluebutton/api"),
            None
        );
    }
}
