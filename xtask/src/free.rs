//! The version-free model of a message: one struct per schema struct with the fields of every
//! version, each knowing the versions in which it is present, nullable and tagged — the shape of
//! Kafka's own generated Java classes, which decide per field at write time. The emitters turn
//! it into `fetch::Request` next to the per-version `fetch::v12::Request`.

use std::collections::HashMap;

use anyhow::{anyhow, Result};

use crate::model::{default_value, Type, Value};
use crate::schema::{FieldSpec, FieldType, MessageSpec};
use crate::special;
use crate::versions::Versions;

/// A message with the fields of all its versions.
#[derive(Debug, Clone)]
pub struct FreeMessage {
    /// The valid versions of the message.
    pub versions: Versions,
    /// The message's flexible versions (tagged-field sections, compact encodings).
    pub flexible: Versions,
    /// The top-level fields.
    pub fields: Vec<FreeField>,
    /// Nested structs, one per schema struct used in a valid version, in first-use order.
    pub structs: Vec<FreeStruct>,
}

/// A nested struct with the fields of all the versions that use it.
#[derive(Debug, Clone)]
pub struct FreeStruct {
    pub schema_name: String,
    /// The Rust name (the special-case renames apply, as for the per-version structs).
    pub rust_name: String,
    pub about: Option<String>,
    pub fields: Vec<FreeField>,
}

/// A field and the versions of each of its traits.
#[derive(Debug, Clone, PartialEq)]
pub struct FreeField {
    pub name: String,
    pub about: Option<String>,
    /// `Type::Struct` ids index [`FreeMessage::structs`].
    pub ty: Type,
    /// The versions in which the field is on the wire (within the message's valid versions).
    pub versions: Versions,
    /// The versions in which it may be null (within `versions`).
    pub nullable_versions: Versions,
    /// Its tag and the versions in which it is tagged (within `versions`).
    pub tag: Option<(u32, Versions)>,
    /// The versions in which a string or bytes field is compact, where the field overrides the
    /// message's flexible versions.
    pub flexible_override: Option<Versions>,
    /// The schema default, as the version-free field holds it (`Option` if nullable in any
    /// version).
    pub default: Value,
    pub ignorable: bool,
    pub entity_type: Option<String>,
    pub map_key: bool,
}

impl FreeField {
    /// Whether the Rust field is an `Option` (nullable in some version).
    pub fn nullable(&self) -> bool {
        !self.nullable_versions.is_empty()
    }
}

struct Builder<'a> {
    spec: &'a MessageSpec,
    struct_fields: HashMap<&'a str, &'a [FieldSpec]>,
    struct_about: HashMap<&'a str, Option<&'a str>>,
    ids: HashMap<String, usize>,
    structs: Vec<Option<FreeStruct>>,
}

/// The version-free model of `spec`, whose schema has been validated by `model::build`.
pub fn build(spec: &MessageSpec) -> Result<FreeMessage> {
    let mut b = Builder {
        spec,
        struct_fields: HashMap::new(),
        struct_about: HashMap::new(),
        ids: HashMap::new(),
        structs: Vec::new(),
    };
    for cs in spec.common_structs.iter().flatten() {
        b.struct_fields.insert(&cs.name, &cs.fields);
        b.struct_about.insert(&cs.name, None);
        b.collect_inline(&cs.fields);
    }
    b.collect_inline(&spec.fields);
    let fields = b.fields(&spec.fields, spec.valid_versions)?;
    let structs = b.structs.into_iter().map(|s| s.expect("struct built")).collect();
    Ok(FreeMessage { versions: spec.valid_versions, flexible: spec.flexible_versions(), fields, structs })
}

impl<'a> Builder<'a> {
    fn collect_inline(&mut self, fields: &'a [FieldSpec]) {
        for f in fields {
            if let (Some(sub), Some(name)) = (&f.fields, f.ty.struct_name()) {
                self.struct_fields.insert(name, sub);
                self.struct_about.insert(name, f.about.as_deref());
                self.collect_inline(sub);
            }
        }
    }

    /// The fields of a struct (or the message) that are on the wire in some of `within`.
    fn fields(&mut self, specs: &'a [FieldSpec], within: Versions) -> Result<Vec<FreeField>> {
        let mut out = Vec::new();
        for f in specs {
            let declared =
                f.versions.or(f.tagged_versions).ok_or_else(|| anyhow!("field {} has no versions", f.name))?;
            let versions = declared.intersect(within);
            if versions.is_empty() {
                continue;
            }
            let nullable_versions = f.nullable_versions.unwrap_or(Versions::None).intersect(versions);
            let tag = f.tag.map(|t| (t.0, f.tagged_versions.unwrap_or(Versions::None).intersect(versions)));
            let ty = self.ty(&f.ty)?;
            out.push(FreeField {
                name: f.name.clone(),
                about: f.about.clone(),
                ty,
                versions,
                nullable_versions,
                tag,
                flexible_override: f.flexible_versions,
                default: default_value(f, !nullable_versions.is_empty())?,
                ignorable: f.ignorable.is_some_and(|i| i.0),
                entity_type: f.entity_type.clone(),
                map_key: f.map_key.is_some_and(|m| m.0),
            });
        }
        Ok(out)
    }

    fn ty(&mut self, ty: &FieldType) -> Result<Type> {
        Ok(match ty {
            FieldType::Bool => Type::Bool,
            FieldType::Int8 => Type::Int8,
            FieldType::Int16 => Type::Int16,
            FieldType::Int32 => Type::Int32,
            FieldType::Int64 => Type::Int64,
            FieldType::Uint16 => Type::Uint16,
            FieldType::Uint32 => Type::Uint32,
            FieldType::Float64 => Type::Float64,
            FieldType::String => Type::String,
            FieldType::Bytes => Type::Bytes,
            FieldType::Records => Type::Records,
            FieldType::Uuid => Type::Uuid,
            FieldType::Array(inner) => Type::Array(Box::new(self.ty(inner)?)),
            FieldType::Struct(name) => {
                if let Some(&id) = self.ids.get(name) {
                    return Ok(Type::Struct(id));
                }
                let id = self.structs.len();
                self.ids.insert(name.clone(), id);
                self.structs.push(None);
                let specs = self.struct_fields[name.as_str()];
                // A struct's fields are those of every version that uses it; the message's
                // valid versions bound them (a struct may appear through several fields).
                let fields = self.fields(specs, self.spec.valid_versions)?;
                self.structs[id] = Some(FreeStruct {
                    schema_name: name.clone(),
                    rust_name: special::struct_rust_name(&self.spec.name, name),
                    about: self.struct_about.get(name.as_str()).copied().flatten().map(str::to_owned),
                    fields,
                });
                Type::Struct(id)
            }
        })
    }
}
