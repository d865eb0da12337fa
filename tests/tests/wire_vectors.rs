//! Hand-checked bytes for the rules the schemas do not spell out. Each expected frame below
//! was written byte by byte from the protocol documentation, not produced by this crate.

use kafka_wire::{
    api_versions, describe_topic_partitions, fetch, heartbeat, metadata, ApiKey, ByteString, Bytes, DecodeErrorKind,
    ErrorCode, Message, RequestFrame, VersionedRequest, VersionedResponse,
};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

#[test]
fn a_request_of_a_removed_api_is_an_unknown_api_key() {
    // ControlledShutdown (key 7) was removed in Apache Kafka 4.0 (its schema file remains with
    // `validVersions: none`): no type is generated for it, and a broker reading its frame (here
    // v0, with request header v0) meets an unknown API key, as Kafka's own broker does.
    assert_eq!(ApiKey::from_code(7), None);
    let err =
        RequestFrame::<kafka_wire::AnyRequest>::decode(Bytes::from(unhex("0007 0000 01020304 00000005"))).unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::UnknownApiKey(7)), "{err}");
}

#[test]
fn request_header_v2_keeps_the_client_id_as_a_classic_string() {
    // Heartbeat v4 is flexible: header v2 = v1 + an (empty) tagged-field section, but the client
    // id keeps its int16 length (flexibleVersions "none" on that field).
    let req = heartbeat::v4::Request {
        group_id: "g".into(),
        generation_id: 1,
        member_id: "m".into(),
        group_instance_id: None,
        ..Default::default()
    };
    let frame = req.serialize(9, Some("ab")).unwrap();
    let expected = "00000017 000c 0004 00000009 0002 6162 00  02 67  00000001  02 6d  00  00";
    assert_eq!(frame.as_ref(), unhex(expected));
    let (null_client, _) = (heartbeat::v4::Request::default().serialize(9, None).unwrap(), ());
    assert_eq!(&null_client[12..14], &[0xff, 0xff]);
}

#[test]
fn api_versions_responses_always_use_response_header_v0() {
    let resp = api_versions::v3::Response {
        api_keys: vec![api_versions::v3::ApiVersion {
            api_key: 18,
            min_version: 0,
            max_version: 3,
            ..Default::default()
        }],
        ..Default::default()
    };
    // Header v0 (correlation id only, no tagged-field byte) although v3 is flexible.
    let frame = resp.serialize(7).unwrap();
    let expected = "00000013 00000007  0000  02 0012 0000 0003 00  00000000  00";
    assert_eq!(frame.as_ref(), unhex(expected));
    assert_eq!(<api_versions::v3::Response as kafka_wire::VersionedResponse>::HEADER_VERSION, 0);
    // Any other flexible response uses header v1: correlation id then an empty tagged section.
    let hb = heartbeat::v4::Response::default().serialize(7).unwrap();
    assert_eq!(hb.as_ref(), unhex("0000000c 00000007 00  00000000 0000 00"));
}

#[test]
fn api_versions_v0_downgrade_reply_to_a_v3_request_parses() {
    // The client asked for v3; the broker does not support it and answers in the v0 body format
    // with UNSUPPORTED_VERSION (35) and its own ranges (here: ApiVersions 0-2, Metadata 0-9).
    let reply = unhex("00000001  0023  00000002  0012 0000 0002  0003 0000 0009");
    let parse = api_versions::v3::Request::default().response_deserializer();
    let (header, resp) = parse(Bytes::from(reply)).unwrap();
    assert_eq!(header.correlation_id, 1);
    assert_eq!(resp.error_code, ErrorCode::UNSUPPORTED_VERSION);
    let ranges: Vec<_> = resp.api_keys.iter().map(|k| (k.api_key, k.min_version, k.max_version)).collect();
    assert_eq!(ranges, [(18, 0, 2), (3, 0, 9)]);
    assert_eq!(resp.throttle_time_ms, 0);
    let negotiated = api_versions::AnyResponse::V3(resp).negotiate();
    assert_eq!(negotiated.get(ApiKey::ApiVersions), Some(2));
    assert_eq!(negotiated.get(ApiKey::Metadata), Some(9));
}

#[test]
fn compact_null_and_empty_differ() {
    // Metadata v12 (flexible): topics null = compact length 0; empty = compact length 1.
    let null = metadata::v12::Request { topics: None, ..Default::default() };
    let empty = metadata::v12::Request { topics: Some(vec![]), ..Default::default() };
    // topics | allow_auto_topic_creation (default true) | include_topic_authorized_operations | tags
    assert_eq!(null.to_bytes().unwrap().as_ref(), unhex("00 01 00 00"));
    assert_eq!(empty.to_bytes().unwrap().as_ref(), unhex("01 01 00 00"));
    assert_eq!(metadata::v12::Request::from_bytes(Bytes::from(unhex("00 01 00 00"))).unwrap(), null);
    assert_eq!(metadata::v12::Request::from_bytes(Bytes::from(unhex("01 01 00 00"))).unwrap(), empty);
    // Metadata v1 (classic): null = int32 -1, empty = 0.
    let null = metadata::v1::Request { topics: None };
    assert_eq!(null.to_bytes().unwrap().as_ref(), unhex("ffffffff"));
    assert_eq!(metadata::v1::Request { topics: Some(vec![]) }.to_bytes().unwrap().as_ref(), unhex("00000000"));
    // The default of a nullable field without `"default": "null"` is the empty, non-null value.
    assert_eq!(metadata::v1::Request::default().topics, Some(vec![]));

    // Strings: Heartbeat v4 group_instance_id null = 00, empty = 01.
    let hb =
        |id: Option<&str>| heartbeat::v4::Request { group_instance_id: id.map(ByteString::from), ..Default::default() };
    assert_eq!(hb(None).to_bytes().unwrap().as_ref(), unhex("01 00000000 01 00 00"));
    assert_eq!(hb(Some("")).to_bytes().unwrap().as_ref(), unhex("01 00000000 01 01 00"));
    // A non-nullable string must not be null.
    let err = heartbeat::v4::Request::from_bytes(Bytes::from(unhex("00 00000000 01 00 00"))).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::UnexpectedNull);
    assert_eq!(err.field(), "HeartbeatRequest.GroupId");
    assert_eq!(err.message(), Some(("HeartbeatRequest", 4)));
}

#[test]
fn nullable_struct_has_a_marker_byte() {
    use describe_topic_partitions::v0::{Cursor, Request};
    // topics (compact, empty) | response_partition_limit (default 2000) | cursor | tags
    let none = Request::default();
    assert_eq!(none.cursor, None);
    assert_eq!(none.to_bytes().unwrap().as_ref(), unhex("01 000007d0 ff 00"));
    let some = Request {
        cursor: Some(Cursor { topic_name: "t".into(), partition_index: 3, ..Default::default() }),
        ..Default::default()
    };
    assert_eq!(some.to_bytes().unwrap().as_ref(), unhex("01 000007d0 01 02 74 00000003 00 00"));
    assert_eq!(Request::from_bytes(some.to_bytes().unwrap()).unwrap(), some);
    // Any negative marker reads as null, as in Kafka's reader.
    assert_eq!(Request::from_bytes(Bytes::from(unhex("01 000007d0 80 00"))).unwrap(), none);
}

#[test]
fn tagged_fields_are_written_only_when_not_default_and_unknown_ones_survive() {
    // Fetch v12: replica_id -1 | max_wait 0 | min_bytes 0 | max_bytes 0x7fffffff | isolation 0 |
    // session_id 0 | session_epoch -1 | topics [] | forgotten [] | rack_id "" | tagged fields.
    let body = "ffffffff 00000000 00000000 7fffffff 00 00000000 ffffffff 01 01 01";
    let default = fetch::v12::Request::default();
    assert_eq!(default.to_bytes().unwrap().as_ref(), unhex(&format!("{body} 00")));

    // ClusterId is tag 0: one tagged field, tag 0, size 2, compact string "c".
    let with_cluster = fetch::v12::Request { cluster_id: Some("c".into()), ..Default::default() };
    let bytes = with_cluster.to_bytes().unwrap();
    assert_eq!(bytes.as_ref(), unhex(&format!("{body} 01 00 02 02 63")));
    assert_eq!(fetch::v12::Request::from_bytes(bytes).unwrap(), with_cluster);

    // An unknown tag (5) after the known one is kept and written back in place.
    let input = Bytes::from(unhex(&format!("{body} 02 00 02 02 63 05 03 aabbcc")));
    let decoded = fetch::v12::Request::from_bytes(input.clone()).unwrap();
    assert_eq!(decoded.cluster_id.as_deref(), Some("c"));
    assert_eq!(decoded.unknown_tagged_fields.get(5).map(|b| b.as_ref()), Some(&[0xaa, 0xbb, 0xcc][..]));
    assert_eq!(decoded.to_bytes().unwrap(), input);

    // Tags out of order are read as Kafka reads them (tests/tests/java_oracle.rs has Kafka's
    // verdicts): written back in ascending order.
    let decoded = fetch::v12::Request::from_bytes(Bytes::from(unhex(&format!("{body} 02 05 00 00 02 0263")))).unwrap();
    assert_eq!(decoded.cluster_id.as_deref(), Some("c"));
    assert_eq!(decoded.to_bytes().unwrap(), Bytes::from(unhex(&format!("{body} 02 00 02 0263 05 00"))));
}

#[test]
fn produce_with_acks_zero_expects_no_response() {
    use kafka_wire::produce::v9::Request as Produce;
    assert!(Produce { acks: -1, ..Default::default() }.expects_response());
    assert!(Produce { acks: 1, ..Default::default() }.expects_response());
    assert!(!Produce { acks: 0, ..Default::default() }.expects_response());
}

#[test]
fn error_codes_keep_unknown_values() {
    assert_eq!(ErrorCode(6), ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert_eq!(ErrorCode(6).to_string(), "NOT_LEADER_OR_FOLLOWER (6)");
    assert!(ErrorCode::NOT_LEADER_OR_FOLLOWER.is_retriable());
    assert!(!ErrorCode::TOPIC_AUTHORIZATION_FAILED.is_retriable());
    assert_eq!(ErrorCode(-1).name(), Some("UNKNOWN_SERVER_ERROR"));
    let unknown = ErrorCode(12345);
    assert_eq!(unknown.name(), None);
    assert_eq!(unknown.to_string(), "unknown error code 12345");
    assert_eq!(i16::from(unknown), 12345);
    assert_eq!(ErrorCode::NONE.ok(), Ok(()));
    // Apache Kafka 4.4.0's Errors enum.
    assert_eq!(ErrorCode::ALL.len(), 138);
    assert_eq!(ErrorCode(136).name(), Some("CONTROLLER_ID_NOT_REGISTERED"));
    assert!(ErrorCode::SHARE_SESSION_LIMIT_REACHED.is_retriable());
}

#[test]
fn api_keys_know_their_versions_and_header_rules() {
    assert_eq!(ApiKey::ALL.len(), 91);
    assert_eq!(ApiKey::from_code(1), Some(ApiKey::Fetch));
    assert_eq!(ApiKey::Fetch.name(), "Fetch");
    assert_eq!(ApiKey::Fetch.first_flexible_version(), Some(12));
    assert_eq!(ApiKey::SaslHandshake.first_flexible_version(), None);
    assert_eq!((ApiKey::Fetch.request_header_version(11), ApiKey::Fetch.request_header_version(12)), (1, 2));
    assert_eq!((ApiKey::Fetch.response_header_version(11), ApiKey::Fetch.response_header_version(12)), (0, 1));
    assert_eq!(ApiKey::ApiVersions.response_header_version(3), 0);
    // An unknown (newer) ApiVersions version still has a header version, so a broker can read
    // the header and answer with the v0 downgrade reply.
    assert_eq!(ApiKey::ApiVersions.request_header_version(99), 2);
    // Unstable versions are in the schema range; this test build enables them.
    // (InitProducerId v6, KIP-939's two-phase commit, is the unstable version of Kafka 4.4.0.)
    assert_eq!(ApiKey::InitProducerId.first_unstable_version(), Some(6));
    assert_eq!(ApiKey::InitProducerId.versions().max, 6);
    assert_eq!(ApiKey::EndTxn.first_unstable_version(), None);
    assert_eq!(ApiKey::from_code(999), None);
}

#[test]
fn versioned_data_ignores_bytes_after_the_value_as_kafka_does() {
    use kafka_wire::consumer_protocol_assignment::AnyVersion;
    // ConsumerProtocolAssignment v0, no partitions, null user data, then two more bytes:
    // Kafka's ConsumerProtocol.deserializeAssignment reads what it knows and ignores the rest.
    let bytes = Bytes::from(unhex("0000 00000000 ffffffff abcd"));
    let value = AnyVersion::decode_versioned(bytes).unwrap();
    assert_eq!(value.version(), 0);
    assert_eq!(value.to_versioned_bytes().unwrap(), Bytes::from(unhex("0000 00000000 ffffffff")));
}
