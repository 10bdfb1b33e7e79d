//! A provider schema in the shape of `terraform providers schema -json` (what
//! scripts/provider_schemas.py generates), read into blocks the service walks and turned into
//! the protocol's schema messages.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use tfplugin_proto::tfplugin6 as pb;

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0} is not JSON: {1}")]
    Json(String, serde_json::Error),
    #[error("{0}: {1}")]
    Shape(String, String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    Group,
    List,
    Set,
    Map,
}

impl Nesting {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "single" => Nesting::Single,
            "group" => Nesting::Group,
            "list" => Nesting::List,
            "set" => Nesting::Set,
            "map" => Nesting::Map,
            _ => return None,
        })
    }

    /// The collection type around one element's object type.
    fn wrap(self, obj: Json) -> Json {
        match self {
            Nesting::Single | Nesting::Group => obj,
            Nesting::List => Json::from(vec![Json::from("list"), obj]),
            Nesting::Set => Json::from(vec![Json::from("set"), obj]),
            Nesting::Map => Json::from(vec![Json::from("map"), obj]),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Attr {
    pub name: String,
    /// The cty type in its JSON form; for a nested attribute, the type of its whole value.
    pub ty: Json,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub write_only: bool,
    pub nested: Option<(Nesting, Block)>,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub attrs: Vec<Attr>,
    pub blocks: Vec<NestedBlock>,
}

impl Block {
    /// The object type of one instance of the block.
    pub fn ty(&self) -> Json {
        let mut m = serde_json::Map::new();
        for a in &self.attrs {
            m.insert(a.name.clone(), a.ty.clone());
        }
        for b in &self.blocks {
            m.insert(b.name.clone(), b.nesting.wrap(b.block.ty()));
        }
        Json::from(vec![Json::from("object"), Json::Object(m)])
    }

    fn parse(j: &Json, at: &str) -> Result<Self, SchemaError> {
        let mut block = Block::default();
        if let Some(attrs) = j.get("attributes").and_then(Json::as_object) {
            for (name, a) in attrs {
                block
                    .attrs
                    .push(Attr::parse(name, a, &format!("{at}.{name}"))?);
            }
        }
        if let Some(bts) = j.get("block_types").and_then(Json::as_object) {
            for (name, b) in bts {
                let nesting = b
                    .get("nesting_mode")
                    .and_then(Json::as_str)
                    .and_then(Nesting::parse)
                    .ok_or_else(|| shape(at, format!("block {name} has no known nesting_mode")))?;
                let inner = b.get("block").unwrap_or(&Json::Null);
                block.blocks.push(NestedBlock {
                    name: name.clone(),
                    nesting,
                    block: Block::parse(inner, &format!("{at}.{name}"))?,
                    min_items: b.get("min_items").and_then(Json::as_i64).unwrap_or(0),
                    max_items: b.get("max_items").and_then(Json::as_i64).unwrap_or(0),
                });
            }
        }
        Ok(block)
    }

    fn to_proto(&self, version: i64) -> pb::schema::Block {
        pb::schema::Block {
            version,
            attributes: self.attrs.iter().map(Attr::to_proto).collect(),
            block_types: self
                .blocks
                .iter()
                .map(|b| {
                    use pb::schema::nested_block::NestingMode as M;
                    pb::schema::NestedBlock {
                        type_name: b.name.clone(),
                        block: Some(b.block.to_proto(0)),
                        nesting: match b.nesting {
                            Nesting::Single => M::Single,
                            Nesting::Group => M::Group,
                            Nesting::List => M::List,
                            Nesting::Set => M::Set,
                            Nesting::Map => M::Map,
                        } as i32,
                        min_items: b.min_items,
                        max_items: b.max_items,
                    }
                })
                .collect(),
            description: String::new(),
            description_kind: pb::StringKind::Plain as i32,
            deprecated: false,
        }
    }
}

fn shape(at: &str, msg: String) -> SchemaError {
    SchemaError::Shape(at.to_string(), msg)
}

fn flag(j: &Json, k: &str) -> bool {
    j.get(k).and_then(Json::as_bool).unwrap_or(false)
}

impl Attr {
    fn parse(name: &str, j: &Json, at: &str) -> Result<Self, SchemaError> {
        let (ty, nested) = match (j.get("type"), j.get("nested_type")) {
            (Some(t), _) => (t.clone(), None),
            (None, Some(n)) => {
                let nesting = n
                    .get("nesting_mode")
                    .and_then(Json::as_str)
                    .and_then(Nesting::parse)
                    .ok_or_else(|| shape(at, "nested_type without a known nesting_mode".into()))?;
                let block = Block::parse(n, at)?;
                (nesting.wrap(block.ty()), Some((nesting, block)))
            }
            (None, None) => {
                return Err(shape(
                    at,
                    "attribute with neither type nor nested_type".into(),
                ))
            }
        };
        Ok(Attr {
            name: name.to_string(),
            ty,
            required: flag(j, "required"),
            optional: flag(j, "optional"),
            computed: flag(j, "computed"),
            write_only: flag(j, "write_only"),
            nested,
        })
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        let nested_type = self.nested.as_ref().map(|(nesting, block)| {
            use pb::schema::object::NestingMode as M;
            pb::schema::Object {
                attributes: block.attrs.iter().map(Attr::to_proto).collect(),
                nesting: match nesting {
                    Nesting::Single | Nesting::Group => M::Single,
                    Nesting::List => M::List,
                    Nesting::Set => M::Set,
                    Nesting::Map => M::Map,
                } as i32,
                ..Default::default()
            }
        });
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type: if nested_type.is_some() {
                Vec::new()
            } else {
                self.ty.to_string().into_bytes()
            },
            nested_type,
            description: String::new(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: false,
            description_kind: pb::StringKind::Plain as i32,
            deprecated: false,
            write_only: self.write_only,
        }
    }
}

/// One schema: a provider's, a resource type's, a data source's or an ephemeral resource's.
#[derive(Clone, Debug)]
pub struct TypeSchema {
    pub version: i64,
    pub block: Block,
    pub ty: Json,
}

impl TypeSchema {
    fn parse(j: &Json, at: &str) -> Result<Self, SchemaError> {
        let block = Block::parse(j.get("block").unwrap_or(&Json::Null), at)?;
        let ty = block.ty();
        Ok(Self {
            version: j.get("version").and_then(Json::as_i64).unwrap_or(0),
            block,
            ty,
        })
    }

    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto(self.version)),
        }
    }
}

/// A whole provider's schema.
#[derive(Clone, Debug)]
pub struct ProviderSchema {
    pub source: String,
    pub provider: TypeSchema,
    pub resources: BTreeMap<String, TypeSchema>,
    pub data_sources: BTreeMap<String, TypeSchema>,
    pub ephemeral: BTreeMap<String, TypeSchema>,
}

impl ProviderSchema {
    pub fn load(path: &std::path::Path) -> Result<Self, SchemaError> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| SchemaError::Read(shown.clone(), e))?;
        let j: Json =
            serde_json::from_str(&text).map_err(|e| SchemaError::Json(shown.clone(), e))?;
        Self::from_json(&j, &shown)
    }

    /// From `terraform providers schema -json` output holding exactly one provider.
    pub fn from_json(j: &Json, at: &str) -> Result<Self, SchemaError> {
        let schemas = j
            .get("provider_schemas")
            .and_then(Json::as_object)
            .filter(|m| m.len() == 1)
            .ok_or_else(|| shape(at, "provider_schemas must hold exactly one provider".into()))?;
        let Some((source, s)) = schemas.iter().next() else {
            return Err(shape(at, "no provider".into()));
        };
        let map = |k: &str| -> Result<BTreeMap<String, TypeSchema>, SchemaError> {
            let mut out = BTreeMap::new();
            if let Some(m) = s.get(k).and_then(Json::as_object) {
                for (name, v) in m {
                    out.insert(name.clone(), TypeSchema::parse(v, name)?);
                }
            }
            Ok(out)
        };
        Ok(Self {
            source: source.clone(),
            provider: TypeSchema::parse(s.get("provider").unwrap_or(&Json::Null), "provider")?,
            resources: map("resource_schemas")?,
            data_sources: map("data_source_schemas")?,
            ephemeral: map("ephemeral_resource_schemas")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_blocks_nested_attributes_and_types() {
        let j: Json = serde_json::from_str(
            r#"{"provider_schemas":{"registry.terraform.io/hashicorp/x":{
              "provider":{"version":0,"block":{"attributes":{"k":{"nested_type":{"nesting_mode":"single","attributes":{"host":{"type":"string","optional":true}}},"optional":true}}}},
              "resource_schemas":{"x_thing":{"version":1,"block":{
                "attributes":{"id":{"type":"string","computed":true},"name":{"type":"string","required":true}},
                "block_types":{"rule":{"nesting_mode":"list","min_items":1,"max_items":2,"block":{"attributes":{"port":{"type":"number","optional":true}}}}}}}}}}}"#,
        )
        .expect("json");
        let s = ProviderSchema::from_json(&j, "t").expect("schema");
        assert_eq!(s.source, "registry.terraform.io/hashicorp/x");
        let r = &s.resources["x_thing"];
        assert_eq!(r.version, 1);
        assert_eq!(
            r.ty.to_string(),
            r#"["object",{"id":"string","name":"string","rule":["list",["object",{"port":"number"}]]}]"#
        );
        let p = r.to_proto();
        let b = p.block.expect("block");
        assert_eq!(
            (b.block_types[0].min_items, b.block_types[0].max_items),
            (1, 2)
        );
        let k = &s.provider.to_proto().block.expect("block").attributes[0];
        assert!(k.nested_type.is_some() && k.r#type.is_empty());
    }
}
