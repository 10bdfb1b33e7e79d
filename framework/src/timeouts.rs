//! `timeouts { create, update, delete }` blocks, after terraform-plugin-framework-timeouts: each
//! a duration string such as `"30m"` or `"2h"`. A resource declares the operations that wait
//! ([`block`]) and keeps the block in its model ([`Timeouts`]); the operation reads its bound
//! from the state it acts on (for a destroy, the state of the last apply, as with any
//! Terraform timeout).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::schema::{Attribute, Block, NestedBlock, Nesting};
use super::validators::Validator;

/// An operation a timeout bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// The block's values, for a resource's serde model (`timeouts: Option<Timeouts>`). Operations
/// the resource did not declare stay `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeouts {
    pub create: Option<String>,
    pub update: Option<String>,
    pub delete: Option<String>,
}

impl Timeouts {
    /// The configured bound of `op`, if any. The validator already rejected bad text.
    pub fn get(timeouts: Option<&Timeouts>, op: Op) -> Option<Duration> {
        let t = timeouts?;
        let text = match op {
            Op::Create => t.create.as_deref(),
            Op::Update => t.update.as_deref(),
            Op::Delete => t.delete.as_deref(),
        }?;
        humantime::parse_duration(text).ok()
    }
}

/// The `timeouts` block with one optional attribute per operation in `ops`: (operation, what
/// the default is, in words for the documentation).
pub fn block(ops: &[(Op, &str)]) -> NestedBlock {
    let mut block = Block::new().description(
        "How long operations that wait may take, as durations such as `30m` or `2h`. A destroy uses the value of the last apply.",
    );
    for (op, default) in ops {
        block = block.attribute(
            Attribute::string(op.name())
                .optional()
                .validate(positive_duration())
                .description(&format!(
                    "Longest time the {} may take. Default: {default}.",
                    op.name()
                )),
        );
    }
    NestedBlock::new("timeouts", Nesting::Single, block)
}

/// A duration longer than zero, such as `"4h"` or `"90m"`.
pub fn positive_duration() -> impl Validator {
    super::validators::duration().positive()
}

/// Formats a wait bound for messages, e.g. `1h 5m`.
pub fn show(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AttrPath, Diagnostics, Value};

    #[test]
    fn declared_operations_only_and_durations_read_back() {
        let b = block(&[(Op::Delete, "4h")]);
        assert_eq!(b.type_name, "timeouts");
        let names: Vec<&str> = b.block.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["delete"]);
        let t = Timeouts {
            delete: Some("90m".into()),
            ..Default::default()
        };
        assert_eq!(
            Timeouts::get(Some(&t), Op::Delete),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(Timeouts::get(Some(&t), Op::Create), None);
        assert_eq!(Timeouts::get(None, Op::Delete), None);
    }

    #[test]
    fn zero_and_garbage_are_rejected() {
        let check = |s: &str| {
            let mut d = Diagnostics::new();
            positive_duration().validate(&AttrPath::attr("delete"), &Value::from(s), &mut d);
            d.has_errors()
        };
        assert!(!check("30s"));
        assert!(check("0s"));
        assert!(check("soon"));
    }
}
