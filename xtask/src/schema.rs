//! A serde mirror of Kafka's message-schema JSON. It knows nothing of Rust: it only accepts
//! exactly the language Kafka's own generator accepts. An unknown key, type name or version
//! syntax is a hard error naming the file and the field's path.

use std::fmt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::de::{Deserialize, Deserializer, Error};

use crate::versions::Versions;

/// One schema file.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MessageSpec {
    pub api_key: Option<i16>,
    #[serde(rename = "type")]
    pub kind: MessageKind,
    pub listeners: Option<Vec<Listener>>,
    pub name: String,
    pub valid_versions: Versions,
    /// Required unless `validVersions` is `none` (an API removed from Kafka keeps its file, with
    /// no fields, so that its key stays reserved); see [`MessageSpec::flexible_versions`].
    #[serde(rename = "flexibleVersions")]
    pub flexible_versions_raw: Option<Versions>,
    pub deprecated_versions: Option<Versions>,
    pub latest_version_unstable: Option<Flag>,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    pub common_structs: Option<Vec<StructSpec>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MessageKind {
    Request,
    Response,
    Header,
    Data,
    Metadata,
    /// The key of a coordinator record (`__consumer_offsets`, `__transaction_state`,
    /// `__share_group_state`); its `apiKey` is the record type (Kafka 4.0 on).
    #[serde(rename = "coordinator-key")]
    CoordinatorKey,
    /// The value of a coordinator record; its `apiKey` is the record type.
    #[serde(rename = "coordinator-value")]
    CoordinatorValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Listener {
    ZkBroker,
    Broker,
    Controller,
}

impl Listener {
    pub fn as_str(self) -> &'static str {
        match self {
            Listener::ZkBroker => "zkBroker",
            Listener::Broker => "broker",
            Listener::Controller => "controller",
        }
    }
}

/// An entry of `commonStructs`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StructSpec {
    pub name: String,
    pub versions: Versions,
    pub fields: Vec<FieldSpec>,
}

impl MessageSpec {
    /// The flexible versions (`none` when the key is absent, which [`parse_str`] allows only
    /// for a spec without valid versions).
    pub fn flexible_versions(&self) -> Versions {
        self.flexible_versions_raw.unwrap_or(Versions::None)
    }
}

/// A field. `versions` may be left out when `taggedVersions` is given (it then defaults to the
/// tagged versions, as in Kafka's generator).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FieldSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    pub versions: Option<Versions>,
    pub nullable_versions: Option<Versions>,
    pub tagged_versions: Option<Versions>,
    pub flexible_versions: Option<Versions>,
    pub tag: Option<Tag>,
    pub default: Option<DefaultLiteral>,
    pub ignorable: Option<Flag>,
    pub entity_type: Option<String>,
    pub map_key: Option<Flag>,
    pub zero_copy: Option<Flag>,
    pub about: Option<String>,
    pub fields: Option<Vec<FieldSpec>>,
}

/// A field's type as written in the schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldType {
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
    /// A struct, by name (an inline definition or a common struct).
    Struct(String),
    Array(Box<FieldType>),
}

impl FieldType {
    pub fn parse(s: &str) -> Result<FieldType, String> {
        if let Some(inner) = s.strip_prefix("[]") {
            let inner = FieldType::parse(inner)?;
            if matches!(inner, FieldType::Array(_) | FieldType::Records) {
                return Err(format!("invalid array element type in {s:?}"));
            }
            return Ok(FieldType::Array(Box::new(inner)));
        }
        Ok(match s {
            "bool" => FieldType::Bool,
            "int8" => FieldType::Int8,
            "int16" => FieldType::Int16,
            "int32" => FieldType::Int32,
            "int64" => FieldType::Int64,
            "uint16" => FieldType::Uint16,
            "uint32" => FieldType::Uint32,
            "float64" => FieldType::Float64,
            "string" => FieldType::String,
            "bytes" => FieldType::Bytes,
            "records" => FieldType::Records,
            "uuid" => FieldType::Uuid,
            _ if s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric()) => {
                FieldType::Struct(s.to_owned())
            }
            _ => return Err(format!("unknown type name {s:?}")),
        })
    }

    /// The struct this type names, directly or as array elements.
    pub fn struct_name(&self) -> Option<&str> {
        match self {
            FieldType::Struct(n) => Some(n),
            FieldType::Array(inner) => inner.struct_name(),
            _ => None,
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            FieldType::Bool => "bool",
            FieldType::Int8 => "int8",
            FieldType::Int16 => "int16",
            FieldType::Int32 => "int32",
            FieldType::Int64 => "int64",
            FieldType::Uint16 => "uint16",
            FieldType::Uint32 => "uint32",
            FieldType::Float64 => "float64",
            FieldType::String => "string",
            FieldType::Bytes => "bytes",
            FieldType::Records => "records",
            FieldType::Uuid => "uuid",
            FieldType::Struct(n) => return f.write_str(n),
            FieldType::Array(inner) => return write!(f, "[]{inner}"),
        };
        f.write_str(s)
    }
}

impl<'de> Deserialize<'de> for FieldType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FieldType::parse(&s).map_err(D::Error::custom)
    }
}

/// A tag number; the schemas write it as a JSON number or a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag(pub u32);

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u32),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(Tag(n)),
            Raw::S(s) => s.parse().map(Tag).map_err(|_| D::Error::custom(format!("invalid tag {s:?}"))),
        }
    }
}

/// A boolean key: a JSON boolean, or the string `"true"`/`"false"` (Kafka's generator reads
/// both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            B(bool),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::B(b) => Ok(Flag(b)),
            Raw::S(s) if s == "true" => Ok(Flag(true)),
            Raw::S(s) if s == "false" => Ok(Flag(false)),
            Raw::S(s) => Err(D::Error::custom(format!("expected true or false, found {s:?}"))),
        }
    }
}

/// A `default` as written: the schemas use strings, and occasionally JSON numbers or booleans
/// (Kafka's generator reads them all as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultLiteral(pub String);

impl<'de> Deserialize<'de> for DefaultLiteral {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            B(bool),
            I(i64),
            F(f64),
        }
        Ok(DefaultLiteral(match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::B(b) => b.to_string(),
            Raw::I(i) => i.to_string(),
            Raw::F(f) => f.to_string(),
        }))
    }
}

/// Removes `//` line comments (and the `/* */` block comments a few of Kafka's files use)
/// outside of strings, keeping line breaks so that JSON error positions still point at the
/// original lines.
pub fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '/' && chars.peek() == Some(&'/') {
            for n in chars.by_ref() {
                if n == '\n' {
                    out.push('\n');
                    break;
                }
            }
        } else if c == '/' && chars.peek() == Some(&'*') {
            chars.next();
            let mut prev = ' ';
            for n in chars.by_ref() {
                if n == '\n' {
                    out.push('\n');
                }
                if prev == '*' && n == '/' {
                    break;
                }
                prev = n;
            }
        } else {
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
    }
    out
}

/// Parses one schema text; `origin` names it in errors.
///
/// A key repeated in one object is accepted when both values are equal (Kafka's own files have
/// such a repeat, and Jackson keeps the last) and is an error when they differ.
pub fn parse_str(text: &str, origin: &str) -> Result<MessageSpec> {
    let json = strip_comments(text);
    let value: CheckedJson = serde_json::from_str(&json).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
    let spec: MessageSpec = serde_path_to_error::deserialize(value.0).map_err(|e| {
        let path = e.path().to_string();
        anyhow::anyhow!("{origin}: at `{path}`: {}", e.into_inner())
    })?;
    // Kafka's MessageSpec: "You must specify a value for flexibleVersions" unless the message
    // has no valid version.
    if spec.flexible_versions_raw.is_none() && !spec.valid_versions.is_empty() {
        bail!("{origin}: at `.`: missing field `flexibleVersions` (required when validVersions is not none)");
    }
    Ok(spec)
}

/// JSON parsed with a check that a repeated key has the same value each time.
struct CheckedJson(serde_json::Value);

impl<'de> Deserialize<'de> for CheckedJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = CheckedJson;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, v: bool) -> Result<CheckedJson, E> {
                Ok(CheckedJson(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<CheckedJson, E> {
                Ok(CheckedJson(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<CheckedJson, E> {
                Ok(CheckedJson(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<CheckedJson, E> {
                Ok(CheckedJson(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<CheckedJson, E> {
                Ok(CheckedJson(v.into()))
            }
            fn visit_unit<E>(self) -> Result<CheckedJson, E> {
                Ok(CheckedJson(serde_json::Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<CheckedJson, A::Error> {
                let mut out = Vec::new();
                while let Some(CheckedJson(v)) = seq.next_element()? {
                    out.push(v);
                }
                Ok(CheckedJson(serde_json::Value::Array(out)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<CheckedJson, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some((k, CheckedJson(v))) = map.next_entry::<String, CheckedJson>()? {
                    if let Some(prev) = out.get(&k) {
                        if prev != &v {
                            return Err(A::Error::custom(format!("key `{k}` repeated with different values")));
                        }
                    }
                    out.insert(k, v);
                }
                Ok(CheckedJson(serde_json::Value::Object(out)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses one schema file.
pub fn parse_file(path: &Path) -> Result<MessageSpec> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_str(&text, &path.display().to_string())
}

/// Parses every `*.json` file of a folder, sorted by file name.
pub fn parse_dir(dir: &Path) -> Result<Vec<(String, MessageSpec)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    if files.is_empty() {
        bail!("no *.json schema files in {}", dir.display());
    }
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            Ok((name, parse_file(&p)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_stripped_outside_strings_only() {
        let s = "// head\n{ \"about\": \"see http://x // y\", // tail\n \"n\": 1 }";
        assert_eq!(strip_comments(s), "\n{ \"about\": \"see http://x // y\", \n \"n\": 1 }");
        assert_eq!(strip_comments(r#""a\"//b""#), r#""a\"//b""#);
        assert_eq!(strip_comments("[1, /* x\n ** y */ 2]"), "[1, \n 2]");
    }

    #[test]
    fn unknown_keys_types_and_versions_are_errors_with_a_path() {
        let base = |field: &str| {
            format!(
                r#"{{ "type": "data", "name": "X", "validVersions": "0", "flexibleVersions": "none",
                     "fields": [ {field} ] }}"#
            )
        };
        let e = parse_str(&base(r#"{ "name": "A", "type": "int32", "versions": "0+", "colour": 1 }"#), "x.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.json") && e.contains("fields[0]") && e.contains("colour"), "{e}");
        let e = parse_str(&base(r#"{ "name": "A", "type": "int33", "versions": "0+" }"#), "x.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("fields[0].type") && e.contains("int33"), "{e}");
        let e = parse_str(&base(r#"{ "name": "A", "type": "int32", "versions": "0-" }"#), "x.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("fields[0].versions") && e.contains("0-"), "{e}");
    }

    #[test]
    fn tags_and_defaults_accept_json_numbers_and_booleans() {
        let m = parse_str(
            r#"{ "type": "data", "name": "X", "validVersions": "0", "flexibleVersions": "0+",
                 "fields": [ { "name": "A", "type": "bool", "versions": "0+", "default": false,
                               "tag": "1", "taggedVersions": "0+" },
                             { "name": "B", "type": "int8", "versions": "0+", "default": 1, "tag": 2,
                               "taggedVersions": "0+" } ] }"#,
            "x",
        )
        .unwrap();
        assert_eq!(m.fields[0].default, Some(DefaultLiteral("false".into())));
        assert_eq!(m.fields[0].tag, Some(Tag(1)));
        assert_eq!(m.fields[1].default, Some(DefaultLiteral("1".into())));
        assert_eq!(m.fields[1].tag, Some(Tag(2)));
    }

    #[test]
    fn repeated_keys_must_agree() {
        let spec = |a: &str, b: &str| {
            format!(
                r#"{{ "type": "data", "name": "X", "validVersions": "0", "flexibleVersions": "none",
                     "fields": [ {{ "name": "A", "type": "int32", "versions": "{a}", "versions": "{b}" }} ] }}"#
            )
        };
        assert!(parse_str(&spec("0+", "0+"), "x").is_ok());
        let e = parse_str(&spec("0+", "1+"), "x").unwrap_err().to_string();
        assert!(e.contains("repeated") && e.contains("line"), "{e}");
    }

    #[test]
    fn types_parse() {
        assert_eq!(FieldType::parse("[]int32").unwrap(), FieldType::Array(Box::new(FieldType::Int32)));
        assert_eq!(FieldType::parse("[]Topic").unwrap().struct_name(), Some("Topic"));
        assert!(FieldType::parse("[][]int32").is_err());
        assert!(FieldType::parse("[]records").is_err());
        assert!(FieldType::parse("topic").is_err());
    }
}
