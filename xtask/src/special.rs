//! The one table of special cases: everything about the wire that the schemas do not say, and
//! every rename. Emitters consult this table; nothing else in the generator names an API.

/// A request header version that differs from the rule "v2 if the request version is flexible,
/// else v1": (API, request version, header version).
pub const REQUEST_HEADER_EXCEPTIONS: &[(&str, i16, i16)] = &[
    // ControlledShutdown v0 predates the client id: its header is v0.
    ("ControlledShutdown", 0, 0),
];

/// APIs whose responses always use response header v0, whatever the version (rule otherwise:
/// v1 if the response version is flexible, else v0).
pub const RESPONSE_HEADER_V0_ALWAYS: &[&str] = &[
    // So a client can read the reply even when the broker rejected the version it asked for.
    "ApiVersions",
];

/// APIs whose response, when the broker did not support the requested version, comes back in
/// the v0 body format (with error UNSUPPORTED_VERSION). Their `decode_body_from` (what clients
/// read answers with, and what `AnyResponse::decode_body` dispatches to) falls back to v0 and
/// converts into the requested version's type; the rule itself is `kafka-wire/src/downgrade.rs`.
pub const RESPONSE_V0_FALLBACK: &[&str] = &["ApiVersions"];

/// Responses listing version ranges: (API, array field, [key, min, max] fields of its
/// elements). The any-version enum of that API, each version's response and the version-free
/// response get `api_ranges()` and `negotiate()`: negotiation starts from whichever a caller holds.
pub const VERSION_RANGE_LISTS: &[(&str, &str, [&str; 3])] =
    &[("ApiVersions", "ApiKeys", ["ApiKey", "MinVersion", "MaxVersion"])];

/// Behaviour that changes at a version without a field of its own (the schemas say it only in
/// comments): (API, name, first version, what). Each becomes a constant `<NAME>_VERSIONS` on
/// the API's version-free request, so that brokers and clients test it by name.
pub const BEHAVIOUR_VERSIONS: &[(&str, &str, i16, &str)] = &[
    (
        "JoinGroup",
        "RequireKnownMemberId",
        4,
        "A new member is first answered MEMBER_ID_REQUIRED with its member id, and joins again with it (KIP-394).",
    ),
    (
        "SaslHandshake",
        "SaslAuthenticate",
        1,
        "The SASL exchange continues in SaslAuthenticate requests; before, as bare size-prefixed tokens (KIP-152).",
    ),
    (
        "OffsetCommit",
        "GroupIdNotFound",
        9,
        "A commit to a group the coordinator does not know is answered GROUP_ID_NOT_FOUND; before, ILLEGAL_GENERATION (KIP-848; OffsetCommitResponse.json, Kafka's OffsetMetadataManager).",
    ),
    (
        "Produce",
        "TransactionAbortable",
        11,
        "The client knows the error TRANSACTION_ABORTABLE; an older client is answered an older error code in its place (KIP-890; ProduceRequest.json).",
    ),
    (
        "Produce",
        "AddsPartitionToTxn",
        12,
        "A transactional batch adds its partition to the transaction itself (transaction version 2); before, the partition must have been added with AddPartitionsToTxn (KIP-890 part 2; ProduceRequest.json).",
    ),
    (
        "TxnOffsetCommit",
        "TransactionAbortable",
        4,
        "The client knows the error TRANSACTION_ABORTABLE; an older client is answered an older error code in its place (KIP-890; TxnOffsetCommitRequest.json).",
    ),
    (
        "TxnOffsetCommit",
        "AddsOffsetsPartitionToTxn",
        5,
        "The commit adds the group's offsets partition to the transaction itself, as AddOffsetsToTxn would (transaction version 2, KIP-890 part 2; TxnOffsetCommitRequest.json).",
    ),
    (
        "ListOffsets",
        "MaxTimestamp",
        7,
        "The special timestamp -3 (the offset of the record with the largest timestamp) is understood; before, UNSUPPORTED_VERSION (KIP-734; ListOffsetsRequest.json).",
    ),
    (
        "ListOffsets",
        "EarliestLocalTimestamp",
        8,
        "The special timestamp -4 (the local log start offset) is understood; before, UNSUPPORTED_VERSION (KIP-405; ListOffsetsRequest.json).",
    ),
    (
        "ListOffsets",
        "LatestTieredTimestamp",
        9,
        "The special timestamp -5 (the last tiered offset) is understood; before, UNSUPPORTED_VERSION (KIP-1005; ListOffsetsRequest.json).",
    ),
    (
        "ListOffsets",
        "EarliestPendingUploadTimestamp",
        11,
        "The special timestamp -6 (the earliest offset pending upload to tiered storage) is understood; before, UNSUPPORTED_VERSION (KIP-1023; ListOffsetsRequest.json).",
    ),
];

/// Notes for the docs of a message's types, on what the schema does not say and a user must
/// know: (message, first version, note). Each version's type from the first version on gets the
/// note, and so does the version-free type.
pub const MESSAGE_DOC_NOTES: &[(&str, i16, &str)] = &[(
    "ApiVersionsRequest",
    3,
    "**Set `client_software_name` and `client_software_version`:** `Default` leaves them empty,\n\
     and a broker answers a v3+ request whose name or version does not match\n\
     `[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?` (an empty one included) with `INVALID_REQUEST`\n\
     (KIP-511; Kafka's `ApiVersionsRequest.isValid`).",
)];

/// The notes of `message` for its type of `version`, or for its version-free type (`None`).
pub fn message_doc_notes(message: &str, version: Option<i16>) -> impl Iterator<Item = &'static str> + '_ {
    MESSAGE_DOC_NOTES
        .iter()
        .filter(move |(m, first, _)| *m == message && version.is_none_or(|v| v >= *first))
        .map(|(_, _, note)| *note)
}

/// Requests that get no response when the given int field is zero (Produce with acks=0).
pub const NO_RESPONSE_WHEN_ZERO: &[(&str, &str)] = &[("Produce", "Acks")];

/// Nested struct renames: (message, schema struct name, Rust name). Needed where a request and
/// its response define structs of the same name, which would collide in one version module.
/// The generator fails on any collision not resolved here.
pub const STRUCT_RENAMES: &[(&str, &str, &str)] = &[
    ("AlterClientQuotasResponse", "EntityData", "EntityDataResponse"),
    ("AlterClientQuotasResponse", "EntryData", "EntryDataResponse"),
    ("AlterPartitionResponse", "PartitionData", "PartitionDataResponse"),
    ("AlterPartitionResponse", "TopicData", "TopicDataResponse"),
    ("AssignReplicasToDirsResponse", "DirectoryData", "DirectoryDataResponse"),
    ("AssignReplicasToDirsResponse", "PartitionData", "PartitionDataResponse"),
    ("AssignReplicasToDirsResponse", "TopicData", "TopicDataResponse"),
    ("BeginQuorumEpochResponse", "PartitionData", "PartitionDataResponse"),
    ("BeginQuorumEpochResponse", "TopicData", "TopicDataResponse"),
    ("ConsumerGroupHeartbeatResponse", "TopicPartitions", "TopicPartitionsResponse"),
    ("DescribeQuorumResponse", "PartitionData", "PartitionDataResponse"),
    ("DescribeQuorumResponse", "TopicData", "TopicDataResponse"),
    ("DescribeTopicPartitionsResponse", "Cursor", "CursorResponse"),
    ("EndQuorumEpochResponse", "PartitionData", "PartitionDataResponse"),
    ("EndQuorumEpochResponse", "TopicData", "TopicDataResponse"),
    ("FetchSnapshotResponse", "PartitionSnapshot", "PartitionSnapshotResponse"),
    ("FetchSnapshotResponse", "SnapshotId", "SnapshotIdResponse"),
    ("FetchSnapshotResponse", "TopicSnapshot", "TopicSnapshotResponse"),
    ("StreamsGroupHeartbeatResponse", "Endpoint", "EndpointResponse"),
    ("StreamsGroupHeartbeatResponse", "TaskIds", "TaskIdsResponse"),
    ("VoteResponse", "PartitionData", "PartitionDataResponse"),
    ("VoteResponse", "TopicData", "TopicDataResponse"),
];

/// `int16` fields that hold a protocol error code get the `ErrorCode` type (which prints the
/// error's name): those named `ErrorCode` or ending in it (`PartitionErrorCode`,
/// `AcknowledgeErrorCode`, ...).
pub const ERROR_CODE_FIELD_SUFFIX: &str = "ErrorCode";

/// Whether an `int16` field named `name` is an error code.
pub fn is_error_code_field(name: &str) -> bool {
    name.ends_with(ERROR_CODE_FIELD_SUFFIX)
}

/// The Rust name of a nested struct of `message`.
pub fn struct_rust_name(message: &str, schema_name: &str) -> String {
    STRUCT_RENAMES
        .iter()
        .find(|(m, s, _)| *m == message && *s == schema_name)
        .map(|(_, _, r)| (*r).to_owned())
        .unwrap_or_else(|| crate::naming::type_name(schema_name))
}

/// Request header version for `api` at `version`; `flexible` is whether that version is.
pub fn request_header_version(api: &str, version: i16, flexible: bool) -> i16 {
    REQUEST_HEADER_EXCEPTIONS
        .iter()
        .find(|(a, v, _)| *a == api && *v == version)
        .map(|(_, _, h)| *h)
        .unwrap_or(if flexible { 2 } else { 1 })
}

/// Response header version for `api` at `version`.
pub fn response_header_version(api: &str, flexible: bool) -> i16 {
    if RESPONSE_HEADER_V0_ALWAYS.contains(&api) {
        0
    } else if flexible {
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rules_and_exceptions() {
        assert_eq!(request_header_version("Fetch", 11, false), 1);
        assert_eq!(request_header_version("Fetch", 12, true), 2);
        assert_eq!(request_header_version("ControlledShutdown", 0, false), 0);
        assert_eq!(request_header_version("ControlledShutdown", 1, false), 1);
        assert_eq!(response_header_version("Fetch", true), 1);
        assert_eq!(response_header_version("ApiVersions", true), 0);
    }

    #[test]
    fn doc_notes_apply_from_their_first_version_and_to_the_version_free_type() {
        assert_eq!(message_doc_notes("ApiVersionsRequest", Some(2)).count(), 0);
        assert_eq!(message_doc_notes("ApiVersionsRequest", Some(3)).count(), 1);
        assert_eq!(message_doc_notes("ApiVersionsRequest", None).count(), 1);
        assert_eq!(message_doc_notes("ApiVersionsResponse", None).count(), 0);
    }
}
