//! Schema-driven work common to every resource: validating a configuration against the
//! attributes' validators, and planning (defaults, write-only values, computed values that
//! become unknown, use-state-for-unknown, requires-replace).

use super::diagnostics::Diagnostics;
use super::path::AttrPath;
use super::schema::{Block, Nesting, PlanModifier};
use super::value::Value;

/// Runs every attribute's validators on the known values of `config`.
pub fn validate_config(block: &Block, config: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    for attr in &block.attributes {
        let value = config.get(&attr.name);
        if value.is_null() || !value.is_wholly_known() {
            continue;
        }
        let attr_path = path.join(&attr.name);
        for v in &attr.validators {
            v.validate(&attr_path, value, diags);
        }
    }
    for nested in &block.blocks {
        let value = config.get(&nested.type_name);
        let block_path = path.join(&nested.type_name);
        match (nested.nesting, value) {
            (Nesting::Single, Value::Map(_)) => {
                validate_config(&nested.block, value, &block_path, diags)
            }
            (Nesting::List, Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    validate_config(&nested.block, item, &block_path.index(i), diags);
                }
            }
            // Set elements have no stable index: diagnostics point at the block.
            (Nesting::Set, Value::List(items)) => {
                for item in items {
                    validate_config(&nested.block, item, &block_path, diags);
                }
            }
            _ => {}
        }
    }
}

/// Fills defaults for attributes the configuration leaves out and clears write-only values.
pub fn apply_defaults(block: &Block, config: &Value, planned: &mut Value) {
    if !matches!(planned, Value::Map(_)) {
        return;
    }
    for attr in &block.attributes {
        if attr.write_only {
            planned.set(&attr.name, Value::Null);
        } else if let Some(default) = &attr.default {
            if config.get(&attr.name).is_null() {
                planned.set(&attr.name, default.clone());
            }
        }
    }
    for nested in &block.blocks {
        for_each_instance(
            nested.nesting,
            config.get(&nested.type_name),
            planned,
            &nested.type_name,
            |c, p| apply_defaults(&nested.block, c, p),
        );
    }
}

/// On a create or a change, computed attributes the configuration leaves out become unknown
/// (their new values come from apply), unless marked use-state-for-unknown.
pub fn mark_computed_unknown(block: &Block, prior: &Value, config: &Value, planned: &mut Value) {
    if !matches!(planned, Value::Map(_)) {
        return;
    }
    for attr in &block.attributes {
        if !attr.computed || attr.default.is_some() || !config.get(&attr.name).is_null() {
            continue;
        }
        let prior_value = prior.get(&attr.name);
        let keep = attr.has(PlanModifier::UseStateForUnknown) && !prior_value.is_null();
        planned.set(
            &attr.name,
            if keep {
                prior_value.clone()
            } else {
                Value::Unknown
            },
        );
    }
    for nested in &block.blocks {
        let prior_nested = prior.get(&nested.type_name);
        let config_nested = config.get(&nested.type_name);
        if let (Nesting::Single, Value::Map(_)) = (nested.nesting, planned.get(&nested.type_name)) {
            let mut inner = planned.get(&nested.type_name).clone();
            mark_computed_unknown(&nested.block, prior_nested, config_nested, &mut inner);
            planned.set(&nested.type_name, inner);
        } else if let Value::List(items) = planned.get(&nested.type_name).clone() {
            let marked = items
                .into_iter()
                .enumerate()
                .map(|(i, mut item)| {
                    let p = prior_nested
                        .as_list()
                        .and_then(|l| l.get(i))
                        .unwrap_or(&Value::Null);
                    let c = config_nested
                        .as_list()
                        .and_then(|l| l.get(i))
                        .unwrap_or(&Value::Null);
                    mark_computed_unknown(&nested.block, p, c, &mut item);
                    item
                })
                .collect();
            planned.set(&nested.type_name, Value::List(marked));
        }
    }
}

/// Paths whose change forces replacement.
pub fn requires_replace(
    block: &Block,
    prior: &Value,
    planned: &Value,
    path: &AttrPath,
) -> Vec<AttrPath> {
    let mut out = Vec::new();
    if prior.is_null() {
        return out;
    }
    for attr in &block.attributes {
        let (before, after) = (prior.get(&attr.name), planned.get(&attr.name));
        if before != after && attr.replaces(before, after) {
            out.push(path.join(&attr.name));
        }
    }
    for nested in &block.blocks {
        if nested.requires_replace && prior.get(&nested.type_name) != planned.get(&nested.type_name)
        {
            out.push(path.join(&nested.type_name));
        }
    }
    out
}

fn for_each_instance(
    nesting: Nesting,
    config: &Value,
    planned: &mut Value,
    name: &str,
    mut f: impl FnMut(&Value, &mut Value),
) {
    let mut value = planned.get(name).clone();
    match (nesting, &mut value) {
        (Nesting::Single, Value::Map(_)) => f(config, &mut value),
        (Nesting::List | Nesting::Set, Value::List(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                let c = config
                    .as_list()
                    .and_then(|l| l.get(i))
                    .unwrap_or(&Value::Null);
                f(c, item);
            }
        }
        _ => return,
    }
    planned.set(name, value);
}

/// Replaces unknown values left in a state after apply with null and reports each one: a
/// provider must never leave a value unknown after apply.
pub fn reject_unknowns(state: &mut Value, path: &AttrPath, diags: &mut Diagnostics) {
    match state {
        Value::Unknown => {
            diags.error_at(
                path.clone(),
                "Provider left a value unknown after apply",
                format!("{path} is still unknown after apply. This is a bug in the provider."),
            );
            *state = Value::Null;
        }
        Value::Map(items) => {
            for (k, v) in items.iter_mut() {
                reject_unknowns(v, &path.join(k), diags);
            }
        }
        Value::List(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                reject_unknowns(v, &path.index(i), diags);
            }
        }
        _ => {}
    }
}

/// Sets every unknown value in `state` to null: for a partial state kept after a failed
/// create, where what was not learnt stays unset.
pub fn clear_unknowns(state: &mut Value) {
    match state {
        Value::Unknown => *state = Value::Null,
        Value::Map(items) => items.values_mut().for_each(clear_unknowns),
        Value::List(items) => items.iter_mut().for_each(clear_unknowns),
        _ => {}
    }
}

/// Refuses write-only attributes set in `config` (a null value is fine; an unknown one is
/// not), for a client that did not announce it can handle them: Terraform before 1.11 would
/// treat one as a normal attribute and fail later, on its planned null, with "Provider produced
/// invalid plan". Each diagnostic points at the attribute.
pub fn refuse_write_only(block: &Block, config: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    for attr in block.attributes.iter().filter(|a| a.write_only) {
        if config.get(&attr.name).is_null() {
            continue;
        }
        let attr_path = path.join(&attr.name);
        diags.error_at(
            attr_path.clone(),
            "Write-only attribute not supported by this Terraform",
            format!(
                "{attr_path} is write-only: write-only attributes need Terraform 1.11 or later / \
                 OpenTofu 1.11 or later, and this client did not announce support for them. \
                 Upgrade Terraform (or OpenTofu), or leave {attr_path} out."
            ),
        );
    }
    for nested in &block.blocks {
        let value = config.get(&nested.type_name);
        let block_path = path.join(&nested.type_name);
        match (nested.nesting, value) {
            (Nesting::Single, Value::Map(_)) => {
                refuse_write_only(&nested.block, value, &block_path, diags)
            }
            (Nesting::List, Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    refuse_write_only(&nested.block, item, &block_path.index(i), diags);
                }
            }
            (Nesting::Set, Value::List(items)) => {
                for item in items {
                    refuse_write_only(&nested.block, item, &block_path, diags);
                }
            }
            _ => {}
        }
    }
}

/// Clears write-only attributes from a state: their values never reach Terraform's state.
pub fn clear_write_only(block: &Block, state: &mut Value) {
    if !matches!(state, Value::Map(_)) {
        return;
    }
    for attr in block.attributes.iter().filter(|a| a.write_only) {
        state.set(&attr.name, Value::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};
    use crate::validators;

    fn block() -> Block {
        Block::new()
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(Attribute::string("name").required().requires_replace())
            .attribute(Attribute::number("size").default(1.0))
            .attribute(Attribute::number("revision").computed())
            .attribute(Attribute::string("secret_wo").optional().write_only())
            .block(NestedBlock::new(
                "rule",
                Nesting::List,
                Block::new().attribute(
                    Attribute::number("port")
                        .required()
                        .validate(validators::at_least(1.0)),
                ),
            ))
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut v = Value::Null;
        for (k, val) in pairs {
            v.set(k, val.clone());
        }
        v
    }

    #[test]
    fn create_plans_defaults_and_unknown_computed() {
        let config = obj(&[("name", "a".into()), ("secret_wo", "s".into())]);
        let mut planned = config.clone();
        apply_defaults(&block(), &config, &mut planned);
        mark_computed_unknown(&block(), &Value::Null, &config, &mut planned);
        assert_eq!(planned.get("size"), &Value::Number(1.0));
        assert!(planned.get("id").is_unknown());
        assert!(planned.get("revision").is_unknown());
        assert!(
            planned.get("secret_wo").is_null(),
            "write-only never planned"
        );
    }

    #[test]
    fn update_keeps_state_for_unknown_and_flags_replacement() {
        let prior = obj(&[
            ("id", "x1".into()),
            ("name", "a".into()),
            ("size", 1.0.into()),
            ("revision", 3.0.into()),
        ]);
        let config = obj(&[("name", "b".into())]);
        let mut planned = prior.clone();
        planned.set("name", "b".into());
        apply_defaults(&block(), &config, &mut planned);
        mark_computed_unknown(&block(), &prior, &config, &mut planned);
        assert_eq!(planned.get("id"), &Value::from("x1"));
        assert!(planned.get("revision").is_unknown());
        assert_eq!(
            requires_replace(&block(), &prior, &planned, &AttrPath::root()),
            vec![AttrPath::attr("name")]
        );
    }

    #[test]
    fn replace_if_lets_a_new_spelling_of_the_same_value_update_in_place() {
        let differs_ignoring_case = |a: &Value, b: &Value| match (a.as_str(), b.as_str()) {
            (Some(a), Some(b)) => !a.eq_ignore_ascii_case(b),
            _ => true,
        };
        let block = Block::new().attribute(
            Attribute::string("host")
                .required()
                .requires_replace_if(differs_ignoring_case),
        );
        let prior = obj(&[("host", "H.example".into())]);
        let respelled = obj(&[("host", "h.example".into())]);
        let moved = obj(&[("host", "other.example".into())]);
        let unknown = obj(&[("host", Value::Unknown)]);
        let root = AttrPath::root();
        assert!(requires_replace(&block, &prior, &respelled, &root).is_empty());
        assert_eq!(
            requires_replace(&block, &prior, &moved, &root),
            vec![AttrPath::attr("host")]
        );
        assert_eq!(
            requires_replace(&block, &prior, &unknown, &root),
            vec![AttrPath::attr("host")],
            "an unknown value may be another one"
        );
    }

    #[test]
    fn validators_in_nested_blocks_get_indexed_paths() {
        let config = obj(&[(
            "rule",
            Value::List(vec![
                obj(&[("port", 443.0.into())]),
                obj(&[("port", 0.0.into())]),
            ]),
        )]);
        let mut diags = Diagnostics::new();
        validate_config(&block(), &config, &AttrPath::root(), &mut diags);
        let paths: Vec<_> = diags
            .iter()
            .filter_map(|d| d.path.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(paths, vec!["rule[1].port"]);
    }

    #[test]
    fn unknown_after_apply_is_reported() {
        let mut state = obj(&[("id", Value::Unknown)]);
        let mut diags = Diagnostics::new();
        reject_unknowns(&mut state, &AttrPath::root(), &mut diags);
        assert!(diags.has_errors());
        assert!(state.get("id").is_null());
    }
}
