//! Schemas: attributes and nested blocks, declared once with their validation and plan
//! behaviour, and turned into the protocol's schema message.

use std::collections::BTreeMap;
use std::sync::Arc;

use tfplugin_proto::tfplugin6 as pb;

use super::types::Type;
use super::validators::Validator;
use super::value::Value;

/// What planning does with an attribute beyond Terraform's own rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanModifier {
    /// A change of this attribute destroys and re-creates the resource.
    RequiresReplace,
    /// A computed attribute keeps its prior value instead of becoming unknown on update.
    UseStateForUnknown,
}

/// Decides, from an attribute's prior and planned values (known and different), whether the
/// change still replaces the resource: `false` when both name the same thing.
pub type ReplaceIf = Arc<dyn Fn(&Value, &Value) -> bool + Send + Sync>;

#[derive(Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    pub deprecated: bool,
    pub default: Option<Value>,
    pub validators: Vec<Arc<dyn Validator>>,
    pub modifiers: Vec<PlanModifier>,
    /// Narrows `RequiresReplace` to the changes this predicate confirms.
    pub replace_if: Option<ReplaceIf>,
}

impl std::fmt::Debug for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .finish_non_exhaustive()
    }
}

impl Attribute {
    pub fn new(name: &str, ty: Type) -> Self {
        Self {
            name: name.to_string(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
            default: None,
            validators: Vec::new(),
            modifiers: Vec::new(),
            replace_if: None,
        }
    }

    pub fn string(name: &str) -> Self {
        Self::new(name, Type::String)
    }

    pub fn number(name: &str) -> Self {
        Self::new(name, Type::Number)
    }

    pub fn bool(name: &str) -> Self {
        Self::new(name, Type::Bool)
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Write-only: sent to the provider in configuration, never stored in plan or state.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    pub fn description(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    /// The value planned when the configuration leaves the attribute out. Makes the
    /// attribute optional and computed, as Terraform requires for provider defaults.
    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self.optional = true;
        self.computed = true;
        self
    }

    pub fn validate(mut self, validator: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(validator));
        self
    }

    pub fn requires_replace(mut self) -> Self {
        self.modifiers.push(PlanModifier::RequiresReplace);
        self
    }

    /// Requires replacement only for a change `replaces(prior, planned)` confirms: for
    /// values with more than one spelling (semantic equality), a new spelling of the same
    /// thing is an in-place update. Unknown planned values still replace.
    pub fn requires_replace_if(
        mut self,
        replaces: impl Fn(&Value, &Value) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.replace_if = Some(Arc::new(replaces));
        self.requires_replace()
    }

    /// Whether a change from `prior` to `planned` (which differ) replaces the resource.
    pub fn replaces(&self, prior: &Value, planned: &Value) -> bool {
        if !self.has(PlanModifier::RequiresReplace) {
            return false;
        }
        match &self.replace_if {
            Some(replaces) if planned.is_wholly_known() && !prior.is_null() => {
                replaces(prior, planned)
            }
            _ => true,
        }
    }

    pub fn use_state_for_unknown(mut self) -> Self {
        self.modifiers.push(PlanModifier::UseStateForUnknown);
        self
    }

    pub fn has(&self, modifier: PlanModifier) -> bool {
        self.modifiers.contains(&modifier)
    }

    /// The description, with the default value spelled out (schemas have no field for it).
    fn full_description(&self) -> String {
        match &self.default {
            Some(d) => {
                let shown = d.to_json().to_string();
                let sep = if self.description.is_empty() { "" } else { " " };
                format!("{}{sep}Defaults to `{shown}`.", self.description)
            }
            None => self.description.clone(),
        }
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type: self.ty.to_json().to_string().into_bytes(),
            nested_type: None,
            description: self.full_description(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
            write_only: self.write_only,
        }
    }
}

/// How a nested block repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block; null when absent.
    Single,
    /// Ordered blocks.
    List,
    /// Unordered blocks.
    Set,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub type_name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
    /// A change inside the block destroys and re-creates the resource.
    pub requires_replace: bool,
}

impl NestedBlock {
    pub fn new(type_name: &str, nesting: Nesting, block: Block) -> Self {
        Self {
            type_name: type_name.to_string(),
            nesting,
            block,
            min_items: 0,
            max_items: 0,
            requires_replace: false,
        }
    }

    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
        self
    }

    pub fn min_items(mut self, n: i64) -> Self {
        self.min_items = n;
        self
    }

    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    pub fn ty(&self) -> Type {
        let obj = self.block.ty();
        match self.nesting {
            Nesting::Single => obj,
            Nesting::List => Type::list(obj),
            Nesting::Set => Type::set(obj),
        }
    }

    fn to_proto(&self) -> pb::schema::NestedBlock {
        use pb::schema::nested_block::NestingMode;
        // Terraform requires min = max for a single block: 1/1 when required, else 0/0.
        let (min_items, max_items) = match self.nesting {
            Nesting::Single if self.min_items > 0 => (1, 1),
            Nesting::Single => (0, 0),
            _ => (self.min_items, self.max_items),
        };
        pb::schema::NestedBlock {
            type_name: self.type_name.clone(),
            block: Some(self.block.to_proto(0)),
            nesting: match self.nesting {
                Nesting::Single => NestingMode::Single,
                Nesting::List => NestingMode::List,
                Nesting::Set => NestingMode::Set,
            } as i32,
            min_items,
            max_items,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub description: String,
    pub deprecated: bool,
}

impl Block {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    pub fn description(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    /// The object type of one instance of this block.
    pub fn ty(&self) -> Type {
        let mut attrs = BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.clone(), a.ty.clone());
        }
        for b in &self.blocks {
            attrs.insert(b.type_name.clone(), b.ty());
        }
        Type::Object(attrs)
    }

    pub fn find(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    fn to_proto(&self, version: i64) -> pb::schema::Block {
        pb::schema::Block {
            version,
            attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
            block_types: self.blocks.iter().map(NestedBlock::to_proto).collect(),
            description: self.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
        }
    }
}

/// The schema of a provider, resource or data source.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// Bumped when the stored state's shape changes; see `Resource::upgrade_state`.
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(block: Block) -> Self {
        Self { version: 0, block }
    }

    pub fn version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    pub fn ty(&self) -> Type {
        self.block.ty()
    }

    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto(self.version)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_blocks_get_matching_min_and_max() {
        let optional = NestedBlock::new("b", Nesting::Single, Block::new()).max_items(1);
        let p = optional.to_proto();
        assert_eq!((p.min_items, p.max_items), (0, 0));
        let required = NestedBlock::new("b", Nesting::Single, Block::new()).min_items(1);
        let p = required.to_proto();
        assert_eq!((p.min_items, p.max_items), (1, 1));
        let list = NestedBlock::new("b", Nesting::List, Block::new()).max_items(3);
        assert_eq!(list.to_proto().max_items, 3);
    }

    #[test]
    fn schema_carries_types_and_flags() {
        let schema = Schema::new(
            Block::new()
                .attribute(
                    Attribute::string("secret_wo")
                        .optional()
                        .sensitive()
                        .write_only(),
                )
                .attribute(Attribute::number("size").default(1.0)),
        )
        .version(2);
        let p = schema.to_proto();
        assert_eq!(p.version, 2);
        let block = p.block.expect("block");
        assert_eq!(block.version, 2);
        let wo = &block.attributes[0];
        assert!(wo.write_only && wo.sensitive && wo.optional);
        assert_eq!(wo.r#type, b"\"string\"".to_vec());
        let size = &block.attributes[1];
        assert!(
            size.optional && size.computed,
            "a default makes the attribute optional and computed"
        );
    }
}
