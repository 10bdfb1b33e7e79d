//! Attribute paths: where in a configuration a diagnostic points.

use std::fmt;

use tfplugin_proto::tfplugin6 as pb;

/// One step of an attribute path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Attribute(String),
    Key(String),
    Index(i64),
}

/// A path from the root of a resource, data source or provider configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttrPath(Vec<PathStep>);

impl AttrPath {
    pub fn root() -> Self {
        Self::default()
    }

    /// The path of a top-level attribute.
    pub fn attr(name: &str) -> Self {
        Self::root().join(name)
    }

    pub fn join(&self, name: &str) -> Self {
        self.with(PathStep::Attribute(name.to_string()))
    }

    pub fn index(&self, index: usize) -> Self {
        self.with(PathStep::Index(i64::try_from(index).unwrap_or(i64::MAX)))
    }

    pub fn key(&self, key: &str) -> Self {
        self.with(PathStep::Key(key.to_string()))
    }

    fn with(&self, step: PathStep) -> Self {
        let mut steps = self.0.clone();
        steps.push(step);
        Self(steps)
    }

    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    pub fn to_proto(&self) -> pb::AttributePath {
        use pb::attribute_path::step::Selector;
        pb::AttributePath {
            steps: self
                .0
                .iter()
                .map(|s| pb::attribute_path::Step {
                    selector: Some(match s {
                        PathStep::Attribute(n) => Selector::AttributeName(n.clone()),
                        PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                        PathStep::Index(i) => Selector::ElementKeyInt(*i),
                    }),
                })
                .collect(),
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attribute(n) if i == 0 => write!(f, "{n}")?,
                PathStep::Attribute(n) => write!(f, ".{n}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_like_hcl() {
        let p = AttrPath::attr("rule").index(2).join("port");
        assert_eq!(p.to_string(), "rule[2].port");
        assert_eq!(
            AttrPath::attr("tags").key("env").to_string(),
            "tags[\"env\"]"
        );
        assert_eq!(p.to_proto().steps.len(), 3);
    }
}
