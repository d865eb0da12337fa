//! Every Rust name the generator emits comes from here. Schema names are Kafka's
//! (`FetchRequest`, `ReplicaId`, `myInt16`); Rust names follow Rust conventions, with raw
//! identifiers (or a trailing underscore where Rust allows no raw form) for keywords.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Rust keywords (2021 edition, strict and reserved, plus `gen` reserved in 2024).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod",
    "move", "mut", "override", "priv", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
    "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super"];

/// An identifier for `name`, raw if it is a keyword, with `_` appended where no raw form exists.
pub fn ident(name: &str) -> Ident {
    if NOT_RAW.contains(&name) {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else if KEYWORDS.contains(&name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// The text of an identifier as it appears in source (`r#type`).
pub fn ident_str(name: &str) -> String {
    ident(name).to_string()
}

/// Kafka's mixed-case words that are one word in Rust names (`KRaft` → `kraft`, not `k_raft`).
const WORDS: &[(&str, &str)] = &[("KRaft", "Kraft")];

fn words(name: &str) -> String {
    WORDS.iter().fold(name.to_owned(), |n, (from, to)| n.replace(from, to))
}

/// A struct field: `ReplicaId` → `replica_id`, `Type` → `r#type`.
pub fn field_name(schema_name: &str) -> String {
    words(schema_name).to_snake_case()
}

pub fn field_ident(schema_name: &str) -> Ident {
    ident(&field_name(schema_name))
}

/// The constant naming the versions in which a version-free field may be null:
/// `TOPICS_NULLABLE_VERSIONS`.
pub fn field_nullable_versions_const(schema_name: &str) -> Ident {
    ident(&format!("{}_NULLABLE_VERSIONS", words(schema_name).to_shouty_snake_case()))
}

/// The constant naming a version-free field's versions: `CoordinatorKeys` →
/// `COORDINATOR_KEYS_VERSIONS`.
pub fn field_versions_const(schema_name: &str) -> Ident {
    ident(&format!("{}_VERSIONS", words(schema_name).to_shouty_snake_case()))
}

/// A struct type: schema struct names are already UpperCamelCase; normalise anyway.
pub fn type_name(schema_name: &str) -> String {
    schema_name.to_upper_camel_case()
}

pub fn type_ident(schema_name: &str) -> Ident {
    ident(&type_name(schema_name))
}

/// The API a request or response message belongs to: `FetchRequest` → `Fetch`.
pub fn api_name(message_name: &str) -> &str {
    message_name.strip_suffix("Request").or_else(|| message_name.strip_suffix("Response")).unwrap_or(message_name)
}

/// The module of an API, header or data schema: `Fetch` → `fetch`,
/// `ConsumerProtocolSubscription` → `consumer_protocol_subscription`.
pub fn module_name(name: &str) -> String {
    words(name).to_snake_case()
}

pub fn module_ident(name: &str) -> Ident {
    ident(&module_name(name))
}

/// The cargo feature that compiles an API's module: the module's name.
pub fn feature_name(api: &str) -> String {
    module_name(api)
}

/// A variant of `ApiKey` or of the `Any*` enums: `Fetch`.
pub fn variant_ident(api: &str) -> Ident {
    ident(&api.to_upper_camel_case())
}

/// The module of one version: `v12`.
pub fn version_ident(version: i16) -> Ident {
    ident(&format!("v{version}"))
}

/// A variant of a per-API version enum: `V12`.
pub fn version_variant(version: i16) -> Ident {
    ident(&format!("V{version}"))
}

/// The name of the field that keeps unknown tagged fields.
pub const UNKNOWN_TAGGED_FIELDS: &str = "unknown_tagged_fields";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_snake_case_with_raw_keywords() {
        assert_eq!(field_ident("ReplicaId").to_string(), "replica_id");
        assert_eq!(field_ident("myInt16").to_string(), "my_int16");
        assert_eq!(field_ident("Type").to_string(), "r#type");
        assert_eq!(field_ident("Match").to_string(), "r#match");
        assert_eq!(field_ident("Self").to_string(), "self_");
        assert_eq!(field_ident("IsrInt32").to_string(), "isr_int32");
        assert_eq!(field_ident("ThrottleTimeMs").to_string(), "throttle_time_ms");
        assert_eq!(field_ident("IsKRaftController").to_string(), "is_kraft_controller");
        assert_eq!(module_name("KRaftVersionRecord"), "kraft_version_record");
        assert_eq!(field_versions_const("CoordinatorKeys").to_string(), "COORDINATOR_KEYS_VERSIONS");
        assert_eq!(field_versions_const("IsKRaftController").to_string(), "IS_KRAFT_CONTROLLER_VERSIONS");
    }

    #[test]
    fn modules_features_and_variants() {
        assert_eq!(api_name("FetchRequest"), "Fetch");
        assert_eq!(api_name("ApiVersionsResponse"), "ApiVersions");
        assert_eq!(api_name("RequestHeader"), "RequestHeader");
        assert_eq!(module_ident("ApiVersions").to_string(), "api_versions");
        assert_eq!(module_ident("DescribeQuorum").to_string(), "describe_quorum");
        assert_eq!(feature_name("OffsetForLeaderEpoch"), "offset_for_leader_epoch");
        assert_eq!(variant_ident("Fetch").to_string(), "Fetch");
        assert_eq!(version_ident(12).to_string(), "v12");
        assert_eq!(version_variant(3).to_string(), "V3");
        assert_eq!(type_ident("MetadataResponseBroker").to_string(), "MetadataResponseBroker");
    }
}
