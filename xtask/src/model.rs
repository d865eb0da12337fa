//! The version-resolved model: for every message and every version, exactly the fields of that
//! version with their wire form (nullable, compact, tagged) and default. Nested structs that are
//! identical across versions are one definition. This is the only input of the emitters; it
//! still knows nothing of Rust names except the struct renames of the special-case table.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{anyhow, bail, ensure, Context, Result};

use crate::schema::{FieldSpec, FieldType, MessageKind, MessageSpec};
use crate::special;
use crate::versions::Versions;

/// Everything the emitters need.
#[derive(Debug, Clone)]
pub struct Model {
    /// Request/response pairs, by API key.
    pub apis: Vec<Api>,
    /// Messages without an API: headers and data schemas, by name.
    pub standalone: Vec<Message>,
    /// Protocol error codes, by code.
    pub errors: Vec<ErrorDef>,
    /// APIs whose schema files remain with `validVersions: none` (removed from Kafka; their key
    /// stays reserved): no code is generated for them.
    pub removed_apis: Vec<RemovedApi>,
}

/// An API removed from Kafka (both its files say `validVersions: none`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedApi {
    /// `LeaderAndIsr`
    pub name: String,
    pub key: i16,
}

/// One API: its request and response schemas.
#[derive(Debug, Clone)]
pub struct Api {
    /// `Fetch`
    pub name: String,
    pub key: i16,
    pub listeners: Vec<String>,
    pub min_version: i16,
    pub max_version: i16,
    /// The first flexible version, if any.
    pub first_flexible: Option<i16>,
    /// Versions from this one on are unstable (`latestVersionUnstable`).
    pub unstable_from: Option<i16>,
    pub request: Message,
    pub response: Message,
}

impl Api {
    pub fn is_unstable(&self, version: i16) -> bool {
        self.unstable_from.is_some_and(|u| version >= u)
    }

    /// The highest stable version, if any version is stable.
    pub fn max_stable(&self) -> Option<i16> {
        match self.unstable_from {
            Some(u) if u <= self.min_version => None,
            Some(u) => Some(u - 1),
            None => Some(self.max_version),
        }
    }
}

/// One schema file, resolved for each of its versions.
#[derive(Debug, Clone)]
pub struct Message {
    /// `FetchRequest`
    pub name: String,
    pub kind: MessageKind,
    pub versions: Vec<MessageVersion>,
    /// Nested struct definitions (deduplicated across versions).
    pub structs: Vec<StructDef>,
    /// The same message with the fields of all versions (for the version-free types).
    pub free: crate::free::FreeMessage,
}

impl Message {
    pub fn version(&self, v: i16) -> &MessageVersion {
        self.versions.iter().find(|m| m.version == v).expect("version in range")
    }
}

#[derive(Debug, Clone)]
pub struct MessageVersion {
    pub version: i16,
    pub flexible: bool,
    pub deprecated: bool,
    pub unstable: bool,
    pub body: StructBody,
    /// Every nested struct this version uses, in name order.
    pub structs: Vec<StructId>,
}

/// Index into [`Message::structs`].
pub type StructId = usize;

#[derive(Debug, Clone)]
pub struct StructDef {
    /// The name in the schema.
    pub schema_name: String,
    /// The Rust name (after the special-case renames).
    pub rust_name: String,
    /// The first version using this definition: the Rust type is defined in its module and
    /// re-exported by the others.
    pub first_version: i16,
    pub versions: Vec<i16>,
    /// The `about` of the (first) field of this type.
    pub about: Option<String>,
    pub body: StructBody,
}

/// The fields of a struct in one version, and whether it carries a tagged-field section.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructBody {
    pub flexible: bool,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field {
    /// The name in the schema.
    pub name: String,
    pub about: Option<String>,
    pub ty: Type,
    pub nullable: bool,
    /// Compact (flexible) encoding of strings, bytes and arrays.
    pub compact: bool,
    /// Tagged in this version, with this tag.
    pub tag: Option<u32>,
    pub default: Value,
    pub ignorable: bool,
    pub entity_type: Option<String>,
    pub map_key: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint16,
    Uint32,
    Float64,
    String,
    Bytes,
    Records,
    Uuid,
    Struct(StructId),
    Array(Box<Type>),
}

/// A default value, resolved for the field's type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// null (only for nullable fields)
    Null,
    Bool(bool),
    Int(i64),
    /// The bits of an f64.
    Float(u64),
    Str(String),
    Uuid([u8; 16]),
    /// Empty bytes, an empty array, or a struct of defaults.
    Empty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDef {
    pub code: i16,
    pub name: String,
    pub retriable: bool,
}

/// Builds the model from parsed schema files (`(file name, spec)`) and the text of `errors.tsv`.
pub fn build(specs: &[(String, MessageSpec)], errors_tsv: &str) -> Result<Model> {
    let mut requests = BTreeMap::new();
    let mut responses = BTreeMap::new();
    let mut standalone = Vec::new();
    for (file, spec) in specs {
        let ctx = || format!("{file} ({})", spec.name);
        match spec.kind {
            MessageKind::Request | MessageKind::Response => {
                let key = spec.api_key.ok_or_else(|| anyhow!("{}: a {:?} needs an apiKey", ctx(), spec.kind))?;
                let map = if spec.kind == MessageKind::Request { &mut requests } else { &mut responses };
                let suffix = if spec.kind == MessageKind::Request { "Request" } else { "Response" };
                ensure!(spec.name.ends_with(suffix), "{}: a {:?} must be named *{suffix}", ctx(), spec.kind);
                if map.insert(key, (file.clone(), spec)).is_some() {
                    bail!("{}: API key {key} is used twice", ctx());
                }
            }
            MessageKind::Header
            | MessageKind::Data
            | MessageKind::Metadata
            | MessageKind::CoordinatorKey
            | MessageKind::CoordinatorValue => {
                standalone.push(resolve_message(spec, None).with_context(ctx)?);
            }
        }
    }
    let mut apis = Vec::new();
    let mut removed_apis = Vec::new();
    for (key, (file, req)) in &requests {
        let (rfile, resp) =
            responses.remove(key).ok_or_else(|| anyhow!("{file}: no response schema for API key {key}"))?;
        let name = crate::naming::api_name(&req.name).to_owned();
        ensure!(
            crate::naming::api_name(&resp.name) == name,
            "{rfile}: response {} does not match request {}",
            resp.name,
            req.name
        );
        ensure!(
            req.valid_versions == resp.valid_versions,
            "{file}/{rfile}: request and response validVersions differ ({} vs {})",
            req.valid_versions,
            resp.valid_versions
        );
        let (min_version, max_version) = match req.valid_versions {
            Versions::Range { min, max } => (min, max),
            Versions::None => {
                ensure!(
                    req.fields.is_empty() && resp.fields.is_empty(),
                    "{file}: validVersions is none but the schema has fields"
                );
                removed_apis.push(RemovedApi { name, key: *key });
                continue;
            }
        };
        let unstable_from = req.latest_version_unstable.is_some_and(|f| f.0).then_some(max_version);
        ensure!(
            resp.latest_version_unstable.is_none_or(|u| !u.0),
            "{rfile}: latestVersionUnstable belongs on the request"
        );
        let deprecated = req.deprecated_versions.unwrap_or(Versions::None);
        let request = resolve_message(req, Some((unstable_from, deprecated))).with_context(|| file.clone())?;
        let response = resolve_message(resp, Some((unstable_from, deprecated))).with_context(|| rfile.clone())?;
        check_collisions(&request, &response)?;
        let first_flexible = req.flexible_versions().intersect(req.valid_versions).min();
        apis.push(Api {
            name,
            key: *key,
            listeners: req.listeners.iter().flatten().map(|l| l.as_str().to_owned()).collect(),
            min_version,
            max_version,
            first_flexible,
            unstable_from,
            request,
            response,
        });
    }
    if let Some((key, (file, _))) = responses.into_iter().next() {
        bail!("{file}: no request schema for API key {key}");
    }
    standalone.sort_by(|a, b| a.name.cmp(&b.name));
    let errors = parse_errors(errors_tsv)?;
    Ok(Model { apis, standalone, errors, removed_apis })
}

/// A request and its response share one module per version: their nested struct names must
/// not collide (see `special::STRUCT_RENAMES`).
fn check_collisions(req: &Message, resp: &Message) -> Result<()> {
    for rv in &req.versions {
        let names: BTreeSet<&str> =
            rv.structs.iter().map(|&i| req.structs[i].rust_name.as_str()).chain(["Request", "Response"]).collect();
        let sv = resp.version(rv.version);
        for &i in &sv.structs {
            let s = &resp.structs[i];
            if names.contains(s.rust_name.as_str()) {
                bail!(
                    "{} v{}: struct {} of {} collides with a struct of {}; add a rename to special::STRUCT_RENAMES",
                    crate::naming::api_name(&req.name),
                    rv.version,
                    s.rust_name,
                    resp.name,
                    req.name
                );
            }
        }
    }
    Ok(())
}

struct Resolver<'a> {
    spec: &'a MessageSpec,
    /// Struct name → its fields (inline definitions and common structs).
    struct_fields: HashMap<&'a str, &'a [FieldSpec]>,
    /// Struct name → the `about` of the first field using it.
    struct_about: HashMap<&'a str, Option<&'a str>>,
    structs: Vec<StructDef>,
    index: HashMap<(String, StructBody), StructId>,
}

fn resolve_message(spec: &MessageSpec, api: Option<(Option<i16>, Versions)>) -> Result<Message> {
    let (min, max) = match spec.valid_versions {
        Versions::Range { min, max } => (min, max),
        Versions::None => bail!("validVersions is none"),
    };
    ensure!(max < i16::MAX, "validVersions must be bounded");
    let mut r = Resolver {
        spec,
        struct_fields: HashMap::new(),
        struct_about: HashMap::new(),
        structs: Vec::new(),
        index: HashMap::new(),
    };
    for cs in spec.common_structs.iter().flatten() {
        ensure!(
            r.struct_fields.insert(&cs.name, &cs.fields).is_none(),
            "commonStructs: struct {} is defined twice",
            cs.name
        );
        r.struct_about.insert(&cs.name, None);
    }
    r.collect_inline(&spec.fields)?;
    for cs in spec.common_structs.iter().flatten() {
        r.collect_inline(&cs.fields)?;
    }
    for cs in spec.common_structs.iter().flatten() {
        r.validate_fields(&cs.fields, &cs.name)?;
    }
    r.validate_fields(&spec.fields, &spec.name)?;
    let (unstable_from, deprecated) = match api {
        Some((u, d)) => (u, d),
        None => (
            spec.latest_version_unstable.is_some_and(|f| f.0).then_some(max),
            spec.deprecated_versions.unwrap_or(Versions::None),
        ),
    };
    let mut versions = Vec::new();
    for v in min..=max {
        let body = r.resolve_body(&spec.fields, v, &spec.name)?;
        let mut used = BTreeSet::new();
        r.collect_used(&body, &mut used);
        let mut structs: Vec<StructId> = used.into_iter().collect();
        structs.sort_by(|&a, &b| r.structs[a].rust_name.cmp(&r.structs[b].rust_name));
        versions.push(MessageVersion {
            version: v,
            flexible: spec.flexible_versions().contains(v),
            deprecated: deprecated.contains(v),
            unstable: unstable_from.is_some_and(|u| v >= u),
            body,
            structs,
        });
    }
    let free = crate::free::build(spec)?;
    Ok(Message { name: spec.name.clone(), kind: spec.kind, versions, structs: r.structs, free })
}

impl<'a> Resolver<'a> {
    /// Registers inline struct definitions (fields with `fields`).
    fn collect_inline(&mut self, fields: &'a [FieldSpec]) -> Result<()> {
        for f in fields {
            if let Some(sub) = &f.fields {
                let name = f
                    .ty
                    .struct_name()
                    .ok_or_else(|| anyhow!("field {}: has `fields` but its type {} is not a struct", f.name, f.ty))?;
                ensure!(
                    self.struct_fields.insert(name, sub).is_none(),
                    "field {}: struct {name} is defined twice",
                    f.name
                );
                self.struct_about.insert(name, f.about.as_deref());
                self.collect_inline(sub)?;
            }
        }
        Ok(())
    }

    /// The rules of Kafka's generator that do not depend on the version.
    fn validate_fields(&self, fields: &'a [FieldSpec], owner: &str) -> Result<()> {
        let mut names = BTreeSet::new();
        for f in fields {
            let at = || format!("{owner}.{}", f.name);
            ensure!(
                names.insert(crate::naming::field_name(&f.name)),
                "{}: two fields of {owner} have the same name",
                at()
            );
            ensure!(
                crate::naming::field_name(&f.name) != crate::naming::UNKNOWN_TAGGED_FIELDS,
                "{}: this name is reserved for unknown tagged fields",
                at()
            );
            if let Some(name) = f.ty.struct_name() {
                ensure!(self.struct_fields.contains_key(name), "{}: unknown struct type {name}", at());
            }
            let versions = field_versions(f).with_context(at)?;
            let tagged = f.tagged_versions.unwrap_or(Versions::None);
            match (f.tag, tagged.is_empty()) {
                (Some(_), true) => bail!("{}: a tag needs taggedVersions", at()),
                (None, false) => bail!("{}: taggedVersions needs a tag", at()),
                _ => {}
            }
            if !tagged.is_empty() {
                ensure!(tagged.is_open(), "{}: taggedVersions must be open-ended (N+), not {tagged}", at());
                ensure!(versions.contains_all(tagged), "{}: taggedVersions {tagged} outside versions {versions}", at());
                ensure!(
                    self.spec.flexible_versions().contains_all(tagged),
                    "{}: taggedVersions {tagged} are not all flexible",
                    at()
                );
            }
            let nullable = f.nullable_versions.unwrap_or(Versions::None);
            if !nullable.is_empty() {
                let ok = matches!(
                    f.ty,
                    FieldType::String
                        | FieldType::Bytes
                        | FieldType::Records
                        | FieldType::Array(_)
                        | FieldType::Struct(_)
                );
                ensure!(ok, "{}: type {} cannot be nullable", at(), f.ty);
            }
            if let Some(flex) = f.flexible_versions {
                ensure!(
                    matches!(f.ty, FieldType::String | FieldType::Bytes),
                    "{}: a flexibleVersions override is only allowed on string and bytes fields",
                    at()
                );
                ensure!(
                    self.spec.flexible_versions().contains_all(flex),
                    "{}: flexibleVersions {flex} is not within the message's flexibleVersions",
                    at()
                );
                ensure!(
                    tagged.intersect(versions).is_empty() || flex.contains_all(tagged),
                    "{}: tagged but not flexible",
                    at()
                );
            }
            if let Some(d) = &f.default {
                if d.0 == "null" {
                    ensure!(
                        nullable.contains_all(versions),
                        "{}: null cannot be the default because the field is not nullable in all its versions",
                        at()
                    );
                }
            }
            // Parse the default once for its errors.
            default_value(f, true).with_context(at)?;
            if let Some(sub) = &f.fields {
                self.validate_fields(sub, f.ty.struct_name().unwrap())?;
            }
        }
        // Tags are unique within a struct.
        let mut tags = BTreeMap::new();
        for f in fields {
            if let Some(t) = f.tag {
                if let Some(other) = tags.insert(t.0, &f.name) {
                    bail!("{owner}: fields {other} and {} both use tag {}", f.name, t.0);
                }
            }
        }
        Ok(())
    }

    fn resolve_type(&mut self, ty: &FieldType, v: i16) -> Result<Type> {
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
            FieldType::Array(inner) => Type::Array(Box::new(self.resolve_type(inner, v)?)),
            FieldType::Struct(name) => {
                let fields = self.struct_fields[name.as_str()];
                let body = self.resolve_body(fields, v, name)?;
                let key = (name.clone(), body);
                if let Some(&id) = self.index.get(&key) {
                    if self.structs[id].versions.last() != Some(&v) {
                        self.structs[id].versions.push(v);
                    }
                    Type::Struct(id)
                } else {
                    let id = self.structs.len();
                    self.structs.push(StructDef {
                        schema_name: name.clone(),
                        rust_name: special::struct_rust_name(&self.spec.name, name),
                        first_version: v,
                        versions: vec![v],
                        about: self.struct_about.get(name.as_str()).copied().flatten().map(str::to_owned),
                        body: key.1.clone(),
                    });
                    self.index.insert(key, id);
                    Type::Struct(id)
                }
            }
        })
    }

    fn resolve_body(&mut self, fields: &'a [FieldSpec], v: i16, owner: &str) -> Result<StructBody> {
        let flexible = self.spec.flexible_versions().contains(v);
        let mut out = Vec::new();
        for f in fields {
            let versions = field_versions(f)?;
            if !versions.contains(v) {
                continue;
            }
            let nullable = f.nullable_versions.unwrap_or(Versions::None).contains(v);
            let tag = f.tagged_versions.unwrap_or(Versions::None).contains(v).then(|| f.tag.unwrap().0);
            let ty = self.resolve_type(&f.ty, v).with_context(|| format!("{owner}.{}", f.name))?;
            let compact = match &f.ty {
                FieldType::String | FieldType::Bytes => {
                    f.flexible_versions.unwrap_or(self.spec.flexible_versions()).contains(v)
                }
                FieldType::Records | FieldType::Array(_) => flexible,
                _ => false,
            };
            out.push(Field {
                name: f.name.clone(),
                about: f.about.clone(),
                ty,
                nullable,
                compact,
                tag,
                default: default_value(f, nullable)?,
                ignorable: f.ignorable.is_some_and(|f| f.0),
                entity_type: f.entity_type.clone(),
                map_key: f.map_key.is_some_and(|f| f.0),
            });
        }
        Ok(StructBody { flexible, fields: out })
    }

    fn collect_used(&self, body: &StructBody, out: &mut BTreeSet<StructId>) {
        for f in &body.fields {
            if let Some(id) = f.ty.struct_id() {
                if out.insert(id) {
                    self.collect_used(&self.structs[id].body, out);
                }
            }
        }
    }
}

/// The default of `f`, for a version where it is `nullable` or not.
pub(crate) fn default_value(f: &FieldSpec, nullable: bool) -> Result<Value> {
    let text = f.default.as_ref().map(|d| d.0.as_str()).unwrap_or("");
    if text == "null" {
        ensure!(
            matches!(
                f.ty,
                FieldType::String | FieldType::Bytes | FieldType::Records | FieldType::Array(_) | FieldType::Struct(_)
            ),
            "type {} cannot default to null",
            f.ty
        );
        return Ok(if nullable { Value::Null } else { bail!("null default on a non-nullable version") });
    }
    let int = |min: i64, max: i64| -> Result<Value> {
        if text.is_empty() {
            return Ok(Value::Int(0));
        }
        let v = parse_int(text).ok_or_else(|| anyhow!("invalid integer default {text:?}"))?;
        ensure!(min <= v && v <= max, "default {text} out of range for {}", f.ty);
        Ok(Value::Int(v))
    };
    Ok(match &f.ty {
        FieldType::Bool => match text {
            "" | "false" => Value::Bool(false),
            "true" => Value::Bool(true),
            _ => bail!("invalid bool default {text:?}"),
        },
        FieldType::Int8 => int(i8::MIN.into(), i8::MAX.into())?,
        FieldType::Int16 => int(i16::MIN.into(), i16::MAX.into())?,
        FieldType::Int32 => int(i32::MIN.into(), i32::MAX.into())?,
        FieldType::Int64 => int(i64::MIN, i64::MAX)?,
        FieldType::Uint16 => int(0, u16::MAX.into())?,
        FieldType::Uint32 => int(0, u32::MAX.into())?,
        FieldType::Float64 => {
            let v: f64 = if text.is_empty() {
                0.0
            } else {
                text.parse().map_err(|_| anyhow!("invalid float64 default {text:?}"))?
            };
            ensure!(v.is_finite(), "float64 default must be finite");
            Value::Float(v.to_bits())
        }
        FieldType::String => Value::Str(text.to_owned()),
        FieldType::Uuid => {
            if text.is_empty() {
                Value::Uuid([0; 16])
            } else {
                Value::Uuid(parse_kafka_uuid(text).ok_or_else(|| anyhow!("invalid uuid default {text:?}"))?)
            }
        }
        FieldType::Bytes | FieldType::Records | FieldType::Array(_) | FieldType::Struct(_) => {
            ensure!(text.is_empty(), "type {} only allows \"null\" or no default, not {text:?}", f.ty);
            Value::Empty
        }
    })
}

impl Type {
    /// The struct this type holds, directly or as array elements.
    pub fn struct_id(&self) -> Option<StructId> {
        match self {
            Type::Struct(id) => Some(*id),
            Type::Array(inner) => inner.struct_id(),
            _ => None,
        }
    }
}

/// A field's versions: `versions`, or its tagged versions when `versions` is left out.
fn field_versions(f: &FieldSpec) -> Result<Versions> {
    f.versions.or(f.tagged_versions).ok_or_else(|| anyhow!("field {} has no versions", f.name))
}

/// Decimal or `0x` hexadecimal, optionally negative.
fn parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let v = if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        i128::from_str_radix(hex, 16).ok()?
    } else {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<i128>().ok()?
    };
    i64::try_from(if neg { -v } else { v }).ok()
}

/// Kafka's text form of a UUID: 22 characters of URL-safe base64 without padding.
fn parse_kafka_uuid(s: &str) -> Option<[u8; 16]> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if s.len() != 22 {
        return None;
    }
    let mut v: u128 = 0;
    for (i, c) in s.bytes().enumerate() {
        let d = ALPHABET.iter().position(|&a| a == c)? as u128;
        if i < 21 {
            v = (v << 6) | d;
        } else {
            if d & 0xf != 0 {
                return None;
            }
            v = (v << 2) | (d >> 4);
        }
    }
    Some(v.to_be_bytes())
}

/// The text form of a UUID: URL-safe base64 without padding.
pub fn kafka_uuid_text(bytes: &[u8; 16]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let v = u128::from_be_bytes(*bytes);
    let mut out: String = (0..21).map(|i| ALPHABET[((v >> (122 - 6 * i)) & 0x3f) as usize] as char).collect();
    out.push(ALPHABET[((v & 0x3) << 4) as usize] as char);
    out
}

/// `errors.tsv`: a header line `code name retriable`, then one error per line.
pub fn parse_errors(tsv: &str) -> Result<Vec<ErrorDef>> {
    let mut lines = tsv.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| anyhow!("errors.tsv is empty"))?;
    ensure!(
        header.split('\t').collect::<Vec<_>>() == ["code", "name", "retriable"],
        "errors.tsv: expected the header `code<TAB>name<TAB>retriable`, found {header:?}"
    );
    let mut out: Vec<ErrorDef> = Vec::new();
    for (n, line) in lines {
        let cols: Vec<&str> = line.split('\t').collect();
        let at = || format!("errors.tsv line {}", n + 1);
        ensure!(cols.len() == 3, "{}: expected 3 tab-separated columns", at());
        let code: i16 = cols[0].parse().with_context(|| format!("{}: invalid code {:?}", at(), cols[0]))?;
        let name = cols[1].to_owned();
        ensure!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "{}: invalid error name {name:?}",
            at()
        );
        let retriable = match cols[2] {
            "true" => true,
            "false" => false,
            other => bail!("{}: retriable must be true or false, not {other:?}", at()),
        };
        ensure!(!out.iter().any(|e| e.code == code || e.name == name), "{}: duplicate code or name", at());
        out.push(ErrorDef { code, name, retriable });
    }
    out.sort_by_key(|e| e.code);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_uuids() {
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int("0x7fffffff"), Some(0x7fff_ffff));
        assert_eq!(parse_int("0xcafcacafcacafca"), Some(0xcafcacafcacafca));
        assert_eq!(parse_int("-2147483648"), Some(-2147483648));
        assert_eq!(parse_int("1e3"), None);
        assert_eq!(parse_kafka_uuid("AAAAAAAAAAAAAAAAAAAAAA"), Some([0; 16]));
        assert_eq!(parse_kafka_uuid("H3KKO4NTRPaCWtEmm3vW7A").unwrap()[..3], [0x1f, 0x72, 0x8a]);
        assert_eq!(kafka_uuid_text(&parse_kafka_uuid("H3KKO4NTRPaCWtEmm3vW7A").unwrap()), "H3KKO4NTRPaCWtEmm3vW7A");
    }

    #[test]
    fn error_table() {
        let e =
            parse_errors("code\tname\tretriable\n-1\tUNKNOWN_SERVER_ERROR\tfalse\n6\tNOT_LEADER_OR_FOLLOWER\ttrue\n")
                .unwrap();
        assert_eq!(e.len(), 2);
        assert!(e[1].retriable);
        assert!(parse_errors("code\tname\tretriable\n1\tX\tmaybe\n").is_err());
        assert!(parse_errors("code\tname\tretriable\n1\tX\tfalse\n1\tY\tfalse\n").is_err());
    }
}
