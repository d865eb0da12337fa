//! The version-free types (`fetch::Request`): for every API, version and direction, a value of
//! the per-version type and its version-free form give the same bytes at that version, read
//! back to the same values, and convert both ways without loss; and writing at a version
//! follows Kafka's rules (ignorable fields dropped, other non-default fields, nulls and tagged
//! fields a version cannot carry refused), each pinned with bytes.

use arbitrary::Unstructured;
use kafka_wire::{
    fetch, join_group, list_offsets, metadata, request_header, AnyRequest, AnyResponse, ApiKey, ApiRequest,
    ApiResponse, Bytes, BytesMut, EncodeErrorKind, ErrorCode, RawTaggedField, RequestFrame, Uuid, VersionFreeMessage,
    VersionFreeRequest, VersionFreeResponse,
};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

/// xorshift64*: deterministic input bytes for `arbitrary`.
fn input(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

fn body_of_request(r: &AnyRequest) -> Bytes {
    let mut b = BytesMut::new();
    r.encode(&mut b).unwrap();
    b.freeze()
}

fn body_of_response(r: &AnyResponse) -> Bytes {
    let mut b = BytesMut::new();
    r.encode(&mut b).unwrap();
    b.freeze()
}

/// The properties for one per-version request and response of `api` at `version`.
fn check(api: ApiKey, version: i16, request: AnyRequest, response: AnyResponse) {
    let at = || format!("{api:?} v{version}");
    // Request: same bytes, same value back, lossless both ways.
    let bytes = body_of_request(&request);
    let free = ApiRequest::from(request.clone());
    let mut again = BytesMut::new();
    free.encode(version, &mut again).unwrap_or_else(|e| panic!("{}: {e}", at()));
    assert_eq!(again.freeze(), bytes, "{} request bytes", at());
    assert_eq!(free.encoded_len(version), bytes.len(), "{} request size", at());
    let read = ApiRequest::decode(api.code(), version, &mut bytes.clone()).unwrap_or_else(|e| panic!("{}: {e}", at()));
    assert_eq!(read, free, "{} request read back", at());
    assert_eq!(free.clone().into_version(version).unwrap(), request, "{} request converted back", at());
    // Whole frames: the header of that version, then the body.
    let frame = free.serialize(version, 3, Some("c")).unwrap();
    assert_eq!(frame, request.serialize(3, Some("c")).unwrap(), "{} request frame", at());
    let decoded = RequestFrame::<ApiRequest>::decode(frame.slice(4..)).unwrap();
    assert_eq!(decoded.request, free, "{} request frame read back", at());

    // Response, likewise.
    let bytes = body_of_response(&response);
    let free = ApiResponse::from(response.clone());
    let mut again = BytesMut::new();
    free.encode(version, &mut again).unwrap_or_else(|e| panic!("{}: {e}", at()));
    assert_eq!(again.freeze(), bytes, "{} response bytes", at());
    let read = ApiResponse::decode(api.code(), version, &mut bytes.clone()).unwrap_or_else(|e| panic!("{}: {e}", at()));
    assert_eq!(read, free, "{} response read back", at());
    assert_eq!(free.clone().into_version(version).unwrap(), response, "{} response converted back", at());
    assert_eq!(decoded.respond(&free).unwrap(), response.serialize(3).unwrap(), "{} response frame", at());
}

#[test]
fn every_api_version_and_direction_agrees_with_its_per_version_type() {
    let mut checked = 0;
    for &api in ApiKey::ALL {
        let range = api.versions();
        for version in range.min..=range.max {
            // The sample (every field non-default, unknown tags included), then arbitrary values.
            check(api, version, AnyRequest::sample(api, version).unwrap(), AnyResponse::sample(api, version).unwrap());
            for case in 0..4u64 {
                let data = input((api.code() as u64) << 32 | (version as u64) << 16 | case, 64 + 200 * case as usize);
                let mut u = Unstructured::new(&data);
                let request = AnyRequest::arbitrary_of(api, version, &mut u).unwrap().unwrap();
                let response = AnyResponse::arbitrary_of(api, version, &mut u).unwrap().unwrap();
                check(api, version, request, response);
            }
            checked += 1;
        }
    }
    // Every (API, version) of Apache Kafka 4.4.0 (both directions each).
    assert_eq!(checked, 309);
}

#[test]
fn headers_agree_with_their_per_version_types() {
    for version in request_header::RequestHeader::versions().min..=request_header::RequestHeader::versions().max {
        let sample = request_header::AnyVersion::sample(version).unwrap();
        let mut bytes = BytesMut::new();
        sample.encode(&mut bytes).unwrap();
        let free = request_header::RequestHeader::from(sample.clone());
        assert_eq!(free.to_bytes(version).unwrap(), bytes.freeze(), "v{version}");
        assert_eq!(free.into_version(version).unwrap(), sample);
    }
}

#[test]
fn an_ignorable_field_a_version_lacks_is_dropped() {
    // FetchTopic.Topic (versions 0-12, ignorable) and TopicId (13+, ignorable): both set, each
    // version writes the one it has.
    let request = fetch::Request {
        topics: vec![fetch::FetchTopic { topic: "t".into(), topic_id: Uuid::from_u128(1), ..Default::default() }],
        ..Default::default()
    };
    let v12: fetch::v12::Request = request.clone().try_into().unwrap();
    assert_eq!(&*v12.topics[0].topic, "t");
    let v13: fetch::v13::Request = request.clone().try_into().unwrap();
    assert_eq!(v13.topics[0].topic_id, Uuid::from_u128(1));
    assert_eq!(request.to_bytes(13).unwrap(), kafka_wire::Message::to_bytes(&v13).unwrap());
}

#[test]
fn a_non_ignorable_field_a_version_lacks_must_hold_its_default() {
    // ListOffsetsPartitionResponse.LeaderEpoch: versions 4+, default -1, not ignorable.
    let mut response = list_offsets::Response {
        topics: vec![list_offsets::ListOffsetsTopicResponse {
            name: "t".into(),
            partitions: vec![list_offsets::ListOffsetsPartitionResponse { leader_epoch: 5, ..Default::default() }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let e = response.to_bytes(3).unwrap_err();
    assert_eq!(e.kind(), &EncodeErrorKind::UnsupportedField { version: 3 });
    assert_eq!(e.field(), "ListOffsetsPartitionResponse.LeaderEpoch");
    assert_eq!(e.message(), Some(("ListOffsetsResponse", 3)));
    let e = list_offsets::v3::Response::try_from(response.clone()).unwrap_err();
    assert_eq!(
        (e.field(), e.message()),
        ("ListOffsetsPartitionResponse.LeaderEpoch", Some(("ListOffsetsResponse", 3)))
    );
    assert!(response.clone().to_bytes(4).is_ok());
    // At its default, nothing is lost: the version writes without it.
    response.topics[0].partitions[0].leader_epoch = -1;
    let v3 = response.to_bytes(3).unwrap();
    // throttle 0, 1 topic "t", 1 partition: index 0, error 0, timestamp -1, offset -1.
    assert_eq!(v3, unhex("00000000 00000001 0001 74 00000001 00000000 0000 ffffffffffffffff ffffffffffffffff"));
}

#[test]
fn null_is_refused_where_the_version_is_not_nullable() {
    // JoinGroupResponse.ProtocolName is nullable from v7 only.
    let response = join_group::Response { protocol_name: None, ..Default::default() };
    assert!(response.to_bytes(7).is_ok());
    let e = response.to_bytes(6).unwrap_err();
    assert_eq!(
        (e.kind(), e.field()),
        (&EncodeErrorKind::NullNotAllowed { version: 6 }, "JoinGroupResponse.ProtocolName")
    );
    // Read at a version where it is not nullable, a value is always present.
    let empty = join_group::Response { protocol_name: Some("".into()), ..Default::default() }.to_bytes(6).unwrap();
    let read = join_group::Response::from_bytes(6, empty).unwrap();
    assert_eq!(read.protocol_name.as_deref(), Some(""));
}

#[test]
fn unknown_tagged_fields_need_a_flexible_version() {
    let mut request = metadata::Request::default();
    request.unknown_tagged_fields.push_sorted(7, Bytes::from_static(b"\x01"));
    // v9 is flexible: the unknown field is written back.
    let bytes = request.to_bytes(9).unwrap();
    assert!(bytes.ends_with(&[1, 7, 1, 1]), "{bytes:?}");
    let e = request.to_bytes(8).unwrap_err();
    assert_eq!(e.kind(), &EncodeErrorKind::TaggedFieldsNotSupported { version: 8 });
    let read = metadata::Request::from_bytes(9, bytes).unwrap().unknown_tagged_fields;
    assert_eq!(read.iter().collect::<Vec<_>>(), [&RawTaggedField { tag: 7, data: Bytes::from_static(b"\x01") }]);
}

#[test]
fn a_version_this_build_does_not_have_is_refused_both_ways() {
    let request = metadata::Request::default();
    let e = request.to_bytes(99).unwrap_err();
    assert_eq!(e.kind(), &EncodeErrorKind::UnsupportedVersion { version: 99 });
    assert!(request.clone().into_version(99).is_err());
    let e = metadata::Request::from_bytes(99, Bytes::new()).unwrap_err();
    assert_eq!(e.kind(), &kafka_wire::DecodeErrorKind::UnsupportedMessageVersion { version: 99 });
    // Removed in Kafka 4.0 (KIP-896): Fetch v3.
    assert!(fetch::Request::default().to_bytes(3).is_err());
}

#[test]
fn a_server_answers_at_the_request_version() {
    // A Metadata v4 request frame; the version-free answer goes out as v4 (header v0).
    let request = metadata::v4::Request { allow_auto_topic_creation: true, ..Default::default() };
    let frame = kafka_wire::VersionedRequest::serialize(&request, 11, Some("c")).unwrap();
    let incoming = RequestFrame::<ApiRequest>::decode(frame.slice(4..)).unwrap();
    assert_eq!(incoming.version(), 4);
    let ApiRequest::Metadata(r) = &incoming.request else { panic!("{:?}", incoming.request) };
    assert!(r.allow_auto_topic_creation);
    let answer = metadata::Response { controller_id: 2, ..Default::default() };
    let out = incoming.respond(&answer.clone().into()).unwrap();
    let v4: metadata::v4::Response = answer.try_into().unwrap();
    assert_eq!(out, kafka_wire::VersionedResponse::serialize(&v4, 11).unwrap());
    // The error reply of an unserved request has the top-level error code where the version
    // has one.
    let reply = incoming.request.error_response(4, ErrorCode::UNSUPPORTED_VERSION);
    assert!(matches!(reply, ApiResponse::Metadata(ref m) if m.error_code == ErrorCode::NONE));
    let reply = incoming.request.error_response(13, ErrorCode::UNSUPPORTED_VERSION);
    assert!(matches!(reply, ApiResponse::Metadata(ref m) if m.error_code == ErrorCode::UNSUPPORTED_VERSION));
    // Field versions, for code whose meaning changes with them.
    assert_eq!(metadata::Response::ERROR_CODE_VERSIONS, kafka_wire::VersionRange::new(13, 13));
    assert!(!metadata::Request::TOPICS_NULLABLE_VERSIONS.contains(0));
}

#[test]
fn version_free_responses_decode_from_a_frame_at_the_version_sent() {
    let answer = fetch::Response { session_id: 9, ..Default::default() };
    for version in [7, 12, 18] {
        let frame = answer.serialize(version, 5).unwrap();
        let (header, back) = fetch::Response::decode_frame(version, frame.slice(4..)).unwrap();
        assert_eq!((header.correlation_id, back.session_id), (5, 9));
    }
    // SessionId exists from v7 and is not ignorable: before it, a session id cannot be sent.
    let e = answer.serialize(4, 5).unwrap_err();
    assert_eq!((e.kind(), e.field()), (&EncodeErrorKind::UnsupportedField { version: 4 }, "FetchResponse.SessionId"));
    assert_eq!(<fetch::Request as VersionFreeRequest>::API_KEY, ApiKey::Fetch);
}

/// An array count is checked against the least size of its element before anything is
/// reserved, in the version-free types as in the per-version ones. A version-free element's
/// least size is the least over every version: a Metadata broker takes at least 9 bytes in
/// any version (node id 4, host 1, port 4), so five brokers with nine bytes left are refused as
/// too large by both, not read until the bytes run out.
#[test]
fn an_array_count_the_remaining_bytes_cannot_hold_is_refused_before_reserving() {
    // throttle time 0, compact array count 5 (encoded 6), then 9 bytes.
    let body = Bytes::from(unhex("00000000 06 000000000000000000"));
    for result in [
        metadata::Response::decode(12, &mut body.clone()).map(|_| ()),
        <metadata::v12::Response as kafka_wire::Message>::decode(&mut body.clone()).map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert_eq!(*err.kind(), kafka_wire::DecodeErrorKind::CountTooLarge { count: 5, remaining: 9 }, "{err}");
    }
}
