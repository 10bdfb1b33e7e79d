//! `list "bbb_scalelite_server"`: the servers of Scalelite's pool, to adopt an existing pool
//! with `terraform query -generate-config-out`. One `getServers` call per list (the provider's
//! shared answer, `scalelite_pool.rs`).

use async_trait::async_trait;
use bbb_core::scalelite::Server;
use regex::Regex;

use crate::provider::ProviderData;
use crate::resources::scalelite_server::{ScaleliteServer, STATES};
use tfplugin_framework::validators::{not_blank, one_of};
use tfplugin_framework::{
    AttrPath, Attribute, Block, Diagnostics, ListRequest, ListResource, ListResult, Schema, Value,
};

pub struct ScaleliteServerList;

/// The `config {}` filters; every one set must match.
#[derive(Debug, Default)]
struct Filter {
    tag: Option<String>,
    state: Option<String>,
    url_pattern: Option<Regex>,
}

impl Filter {
    fn from_config(config: &Value) -> Result<Self, Diagnostics> {
        let text = |name: &str| config.get(name).as_str().map(str::to_string);
        Ok(Self {
            tag: text("tag"),
            state: text("state"),
            url_pattern: text("url_pattern").map(|p| url_pattern(&p)).transpose()?,
        })
    }

    fn matches(&self, server: &Server) -> bool {
        self.tag
            .as_ref()
            .is_none_or(|t| server.tag.as_ref() == Some(t))
            && self
                .state
                .as_deref()
                .is_none_or(|s| server.state.as_str() == s)
            && self
                .url_pattern
                .as_ref()
                .is_none_or(|p| p.is_match(&server.url))
    }
}

fn url_pattern(pattern: &str) -> Result<Regex, Diagnostics> {
    Regex::new(pattern).map_err(|e| {
        Diagnostics::from_error_at(
            AttrPath::attr("url_pattern"),
            "Invalid url_pattern",
            format!("url_pattern must be a regular expression (Rust regex syntax); {pattern:?} is not: {e}"),
        )
    })
}

/// What `terraform query` prints next to the identity: the URL, its state and tag.
fn display_name(s: &Server) -> String {
    match &s.tag {
        Some(tag) => format!("{} ({}, tag {tag})", s.url, s.state.as_str()),
        None => format!("{} ({})", s.url, s.state.as_str()),
    }
}

#[async_trait]
impl ListResource<ProviderData> for ScaleliteServerList {
    fn type_name(&self) -> &'static str {
        "bbb_scalelite_server"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description("Finds the servers registered in Scalelite's pool, to import them (`terraform query`). Every filter set must match; with none, every server is listed. Results come in the order of their URLs.")
                .attribute(Attribute::string("tag").optional().validate(not_blank()).description("Only servers with this Scalelite tag."))
                .attribute(Attribute::string("state").optional().validate(one_of(STATES)).description("Only servers in this state as Scalelite reports it: `enabled`, `cordoned` or `disabled`."))
                .attribute(Attribute::string("url_pattern").optional().validate(not_blank()).description("Only servers whose URL, as Scalelite holds it (e.g. `https://bbb1.example.com/bigbluebutton/api`), contains a match of this regular expression (Rust `regex` syntax; anchor it with `^` and `$` to match the whole URL), e.g. `url_pattern = \"^https://bbb[0-9]+\\\\.example\\\\.com/\"` (in HCL, a regex's `\\` is written `\\\\`). An invalid expression is refused when the query is validated, naming `url_pattern`.")),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(p) = config.get("url_pattern").as_str() {
            if let Err(e) = url_pattern(p) {
                diags.extend(e);
            }
        }
    }

    async fn list(
        &self,
        data: &ProviderData,
        req: &ListRequest,
    ) -> Result<Vec<ListResult>, Diagnostics> {
        let filter = Filter::from_config(&req.config)?;
        let pool = data.scalelite().await?;
        let mut servers: Vec<&Server> = Vec::new();
        let all = pool.servers().await?;
        servers.extend(all.iter().filter(|s| filter.matches(s)));
        servers.sort_by(|a, b| a.url.cmp(&b.url).then_with(|| a.id.cmp(&b.id)));
        servers
            .into_iter()
            .take(req.limit)
            .map(|s| {
                Ok(ListResult {
                    display_name: display_name(s),
                    state: ScaleliteServer::adopted(s)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bbb_core::scalelite::ServerState;
    use bbb_core::Secret;

    fn server(url: &str, tag: Option<&str>, state: ServerState) -> Server {
        Server {
            id: "id".into(),
            url: url.into(),
            secret: Secret::new("s"),
            tag: tag.map(str::to_string),
            bbb_version: None,
            state,
            load: None,
            load_multiplier: 1.0,
            online: true,
        }
    }

    fn config(pairs: &[(&str, &str)]) -> Value {
        let mut v = Value::Null;
        for (k, val) in pairs {
            v.set(k, Value::string(*val));
        }
        v
    }

    #[test]
    fn every_filter_set_must_match() {
        let a = server(
            "https://bbb1.example.com/bigbluebutton/api",
            Some("exam"),
            ServerState::Enabled,
        );
        let b = server(
            "https://bbb2.example.org/bigbluebutton/api",
            None,
            ServerState::Cordoned,
        );
        let f = Filter::from_config(&Value::Null).expect("no filter");
        assert!(f.matches(&a) && f.matches(&b));
        let f = Filter::from_config(&config(&[("tag", "exam")])).expect("tag");
        assert!(f.matches(&a) && !f.matches(&b));
        let f = Filter::from_config(&config(&[("state", "cordoned")])).expect("state");
        assert!(!f.matches(&a) && f.matches(&b));
        let f = Filter::from_config(&config(&[("url_pattern", r"\.example\.com/")])).expect("re");
        assert!(f.matches(&a) && !f.matches(&b));
        let f = Filter::from_config(&config(&[("url_pattern", r"\.org/"), ("state", "enabled")]))
            .expect("both");
        assert!(!f.matches(&a) && !f.matches(&b));
    }

    #[test]
    fn an_invalid_pattern_names_the_attribute() {
        let mut diags = Diagnostics::new();
        ScaleliteServerList.validate(&config(&[("url_pattern", "bbb[0-9")]), &mut diags);
        let text = format!("{:?}", diags.to_proto());
        assert!(
            text.contains("Invalid url_pattern")
                && text.contains("url_pattern must be a regular expression"),
            "{text}"
        );
        assert!(
            text.contains("\"url_pattern\""),
            "the diagnostic points at the attribute: {text}"
        );
    }
}
