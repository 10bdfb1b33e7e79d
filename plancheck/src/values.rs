//! Terraform values in their msgpack form (cty's encoding), walked by schema: unset computed
//! attributes become unknown at plan; unknowns and unset computed attributes get type-shaped
//! placeholders at apply and read.
//!
//! Unknown is msgpack extension 0 (Terraform also sends extension 12 for refined unknowns);
//! a `dynamic` value is a two-element array of its type's JSON (as bytes) and the value.

use rmpv::Value as Mp;
use serde_json::Value as Json;

use crate::schema::{Block, Nesting};

const UNKNOWN_EXT: i8 = 0;
const REFINED_UNKNOWN_EXT: i8 = 12;

pub fn unknown() -> Mp {
    Mp::Ext(UNKNOWN_EXT, vec![0])
}

pub fn is_unknown(v: &Mp) -> bool {
    matches!(v, Mp::Ext(UNKNOWN_EXT | REFINED_UNKNOWN_EXT, _))
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

pub fn decode(bytes: &[u8]) -> Result<Mp, ValueError> {
    rmpv::decode::read_value(&mut &bytes[..]).map_err(|e| ValueError(format!("bad msgpack: {e}")))
}

pub fn encode(v: &Mp) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, v);
    out
}

/// The attribute `name` of an object value (nil when absent or not an object).
pub fn get<'a>(obj: &'a Mp, name: &str) -> &'a Mp {
    static NIL: Mp = Mp::Nil;
    match obj {
        Mp::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(name))
            .map_or(&NIL, |(_, v)| v),
        _ => &NIL,
    }
}

fn get_mut<'a>(obj: &'a mut Mp, name: &str) -> Option<&'a mut Mp> {
    match obj {
        Mp::Map(entries) => entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(name))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn set(obj: &mut Mp, name: &str, value: Mp) {
    if let Some(slot) = get_mut(obj, name) {
        *slot = value;
    } else if let Mp::Map(entries) = obj {
        entries.push((Mp::from(name), value));
    }
}

/// A value of type `ty` standing in for what the real provider would return: strings name
/// their attribute, numbers are 1, collections hold one element (so `x[0]` works), maps none.
pub fn placeholder(ty: &Json, name: &str) -> Mp {
    match ty {
        Json::String(s) => match s.as_str() {
            "string" if name.ends_with("json") || name.ends_with("policy") => Mp::from("{}"),
            "string" => Mp::from(format!("plancheck-{name}")),
            "number" => Mp::from(1),
            "bool" => Mp::Boolean(false),
            _ => Mp::Array(vec![
                Mp::Binary(b"\"string\"".to_vec()),
                Mp::from(format!("plancheck-{name}")),
            ]),
        },
        Json::Array(parts) => match (parts.first().and_then(Json::as_str), parts.get(1)) {
            (Some("list" | "set"), Some(el)) => Mp::Array(vec![placeholder(el, name)]),
            (Some("map"), Some(_)) => Mp::Map(Vec::new()),
            (Some("object"), Some(Json::Object(attrs))) => Mp::Map(
                attrs
                    .iter()
                    .map(|(k, t)| (Mp::from(k.as_str()), placeholder(t, k)))
                    .collect(),
            ),
            (Some("tuple"), Some(Json::Array(els))) => {
                Mp::Array(els.iter().map(|t| placeholder(t, name)).collect())
            }
            _ => Mp::Nil,
        },
        _ => Mp::Nil,
    }
}

/// Replaces every unknown inside `v` (of type `ty`) with a placeholder.
pub fn fill_unknowns(v: &mut Mp, ty: &Json, name: &str) {
    if is_unknown(v) {
        *v = placeholder(ty, name);
        return;
    }
    match (ty, &mut *v) {
        (Json::Array(parts), Mp::Array(items)) => {
            match (parts.first().and_then(Json::as_str), parts.get(1)) {
                (Some("list" | "set"), Some(el)) => {
                    items.iter_mut().for_each(|i| fill_unknowns(i, el, name))
                }
                (Some("tuple"), Some(Json::Array(els))) => {
                    for (i, t) in items.iter_mut().zip(els) {
                        fill_unknowns(i, t, name);
                    }
                }
                _ => {}
            }
        }
        (Json::Array(parts), Mp::Map(entries)) => {
            match (parts.first().and_then(Json::as_str), parts.get(1)) {
                (Some("map"), Some(el)) => entries
                    .iter_mut()
                    .for_each(|(_, i)| fill_unknowns(i, el, name)),
                (Some("object"), Some(Json::Object(attrs))) => {
                    for (k, i) in entries.iter_mut() {
                        if let Some(t) = k.as_str().and_then(|k| attrs.get(k)) {
                            let key = k.as_str().unwrap_or(name).to_string();
                            fill_unknowns(i, t, &key);
                        }
                    }
                }
                _ => {}
            }
        }
        (Json::String(s), Mp::Array(pair)) if s == "dynamic" && pair.len() == 2 => {
            let inner_ty = match &pair[0] {
                Mp::Binary(b) => serde_json::from_slice::<Json>(b).ok(),
                Mp::String(s) => s.as_str().and_then(|s| serde_json::from_str(s).ok()),
                _ => None,
            };
            if let Some(t) = inner_ty {
                fill_unknowns(&mut pair[1], &t, name);
            }
        }
        _ => {}
    }
}

/// The elements of a nested block's value paired with their configuration.
fn block_elements<'a>(
    v: &'a mut Mp,
    config: &'a Mp,
    nesting: Nesting,
) -> Vec<(&'a mut Mp, &'a Mp)> {
    static NIL: Mp = Mp::Nil;
    match (nesting, v) {
        (Nesting::Single | Nesting::Group, v @ Mp::Map(_)) => vec![(v, config)],
        (Nesting::List, Mp::Array(items)) => {
            let cfg: Vec<&Mp> = match config {
                Mp::Array(c) => c.iter().collect(),
                _ => Vec::new(),
            };
            items
                .iter_mut()
                .enumerate()
                .map(|(i, item)| (item, cfg.get(i).copied().unwrap_or(&NIL)))
                .collect()
        }
        // Set elements cannot be matched to their configuration; each is its own.
        (Nesting::Set, Mp::Array(items)) => items.iter_mut().map(|i| (i, &NIL)).collect(),
        (Nesting::Map, Mp::Map(entries)) => entries
            .iter_mut()
            .map(|(k, item)| {
                let c = k.as_str().map_or(&NIL, |k| get(config, k));
                (item, c)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Plan: a computed attribute the configuration leaves unset is unknown (create), write-only
/// attributes are null. In a set block the configuration cannot be matched, so an unset computed
/// attribute there is unknown whenever it is null.
pub fn plan_unknowns(block: &Block, planned: &mut Mp, config: &Mp) {
    if !matches!(planned, Mp::Map(_)) {
        return;
    }
    for a in &block.attrs {
        if a.write_only {
            set(planned, &a.name, Mp::Nil);
        } else if a.computed && get(planned, &a.name).is_nil() && get(config, &a.name).is_nil() {
            set(planned, &a.name, unknown());
        }
    }
    for b in &block.blocks {
        let cfg = get(config, &b.name).clone();
        if let Some(v) = get_mut(planned, &b.name) {
            for (el, c) in block_elements(v, &cfg, b.nesting) {
                plan_unknowns(&b.block, el, c);
            }
        }
    }
}

/// Read (data sources, ephemeral resources): unset computed attributes get placeholders.
pub fn fill_computed(block: &Block, v: &mut Mp) {
    if !matches!(v, Mp::Map(_)) {
        return;
    }
    for a in &block.attrs {
        let current = get(v, &a.name);
        if a.computed && (current.is_nil() || is_unknown(current)) {
            set(v, &a.name, placeholder(&a.ty, &a.name));
        }
    }
    for b in &block.blocks {
        if let Some(val) = get_mut(v, &b.name) {
            for (el, _) in block_elements(val, &Mp::Nil, b.nesting) {
                fill_computed(&b.block, el);
            }
        }
    }
}

/// Write-only attributes are never stored.
pub fn clear_write_only(block: &Block, v: &mut Mp) {
    for a in block.attrs.iter().filter(|a| a.write_only) {
        set(v, &a.name, Mp::Nil);
    }
}

/// A JSON state value (UpgradeResourceState) in msgpack, by type.
pub fn from_json(j: &Json, ty: &Json) -> Mp {
    match (ty, j) {
        (_, Json::Null) => Mp::Nil,
        (Json::String(t), _) if t == "dynamic" => Mp::Array(vec![
            Mp::Binary(b"\"string\"".to_vec()),
            Mp::from(j.to_string()),
        ]),
        (Json::String(_), Json::String(s)) => Mp::from(s.as_str()),
        (Json::String(_), Json::Bool(b)) => Mp::Boolean(*b),
        (Json::String(_), Json::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Mp::from(i),
            (None, Some(f)) => Mp::F64(f),
            _ => Mp::from(n.to_string()),
        },
        (Json::Array(parts), _) => match (parts.first().and_then(Json::as_str), parts.get(1), j) {
            (Some("list" | "set"), Some(el), Json::Array(items)) => {
                Mp::Array(items.iter().map(|i| from_json(i, el)).collect())
            }
            (Some("tuple"), Some(Json::Array(els)), Json::Array(items)) => Mp::Array(
                items
                    .iter()
                    .zip(els)
                    .map(|(i, t)| from_json(i, t))
                    .collect(),
            ),
            (Some("map"), Some(el), Json::Object(m)) => Mp::Map(
                m.iter()
                    .map(|(k, v)| (Mp::from(k.as_str()), from_json(v, el)))
                    .collect(),
            ),
            (Some("object"), Some(Json::Object(attrs)), Json::Object(m)) => Mp::Map(
                attrs
                    .iter()
                    .map(|(k, t)| {
                        (
                            Mp::from(k.as_str()),
                            from_json(m.get(k).unwrap_or(&Json::Null), t),
                        )
                    })
                    .collect(),
            ),
            _ => Mp::Nil,
        },
        _ => Mp::Nil,
    }
}

/// Block counts the configuration breaks (known lists and sets only), in Terraform's words.
pub fn block_count_problems(block: &Block, config: &Mp, out: &mut Vec<(String, String)>) {
    for b in &block.blocks {
        let v = get(config, &b.name);
        if let Mp::Array(items) = v {
            let n = items.len() as i64;
            if n < b.min_items {
                out.push((
                    format!("Insufficient {} blocks", b.name),
                    format!(
                        "At least {} \"{}\" blocks are required.",
                        b.min_items, b.name
                    ),
                ));
            } else if b.max_items > 0 && n > b.max_items {
                out.push((
                    format!("Too many {} blocks", b.name),
                    format!(
                        "No more than {} \"{}\" blocks are allowed.",
                        b.max_items, b.name
                    ),
                ));
            }
            for el in items {
                block_count_problems(&b.block, el, out);
            }
        } else if let Mp::Map(_) = v {
            block_count_problems(&b.block, v, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attr, NestedBlock};

    fn attr(name: &str, ty: &str, computed: bool, optional: bool) -> Attr {
        Attr {
            name: name.into(),
            ty: Json::from(ty),
            required: !computed && !optional,
            optional,
            computed,
            write_only: false,
            nested: None,
        }
    }

    fn obj(pairs: &[(&str, Mp)]) -> Mp {
        Mp::Map(
            pairs
                .iter()
                .map(|(k, v)| (Mp::from(*k), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn plan_marks_unset_computed_unknown_and_keeps_the_rest() {
        let block = Block {
            attrs: vec![
                attr("id", "string", true, false),
                attr("name", "string", false, false),
                attr("region", "string", true, true),
                attr("note", "string", false, true),
            ],
            blocks: vec![NestedBlock {
                name: "rule".into(),
                nesting: Nesting::List,
                block: Block {
                    attrs: vec![attr("arn", "string", true, false)],
                    blocks: vec![],
                },
                min_items: 0,
                max_items: 0,
            }],
        };
        let rule = Mp::Array(vec![obj(&[("arn", Mp::Nil)])]);
        let config = obj(&[
            ("id", Mp::Nil),
            ("name", Mp::from("a")),
            ("region", Mp::from("eu")),
            ("note", Mp::Nil),
            ("rule", rule.clone()),
        ]);
        let mut planned = config.clone();
        plan_unknowns(&block, &mut planned, &config);
        assert!(is_unknown(get(&planned, "id")));
        assert_eq!(get(&planned, "region"), &Mp::from("eu"));
        assert!(
            get(&planned, "note").is_nil(),
            "an optional, non-computed attribute stays null"
        );
        let Mp::Array(rules) = get(&planned, "rule") else {
            panic!("rule")
        };
        assert!(is_unknown(get(&rules[0], "arn")));

        fill_unknowns(&mut planned, &block.ty(), "x");
        assert_eq!(get(&planned, "id"), &Mp::from("plancheck-id"));
    }

    #[test]
    fn placeholders_follow_the_type() {
        let ty: Json = serde_json::from_str(
            r#"["object",{"ids":["list","string"],"tags":["map","string"],"n":"number"}]"#,
        )
        .expect("json");
        let p = placeholder(&ty, "x");
        assert_eq!(get(&p, "ids"), &Mp::Array(vec![Mp::from("plancheck-ids")]));
        assert_eq!(get(&p, "tags"), &Mp::Map(vec![]));
        assert_eq!(get(&p, "n"), &Mp::from(1));
    }

    #[test]
    fn block_counts_are_checked() {
        let block = Block {
            attrs: vec![],
            blocks: vec![NestedBlock {
                name: "vpc_config".into(),
                nesting: Nesting::List,
                block: Block::default(),
                min_items: 1,
                max_items: 1,
            }],
        };
        let mut out = Vec::new();
        block_count_problems(&block, &obj(&[("vpc_config", Mp::Array(vec![]))]), &mut out);
        block_count_problems(
            &block,
            &obj(&[("vpc_config", Mp::Array(vec![obj(&[]), obj(&[])]))]),
            &mut out,
        );
        let summaries: Vec<&str> = out.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "Insufficient vpc_config blocks",
                "Too many vpc_config blocks"
            ]
        );
    }
}
