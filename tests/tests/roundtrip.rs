//! Every API, every version, both directions: a sample with every field set to a non-default
//! value (tagged fields included, plus an unknown tag in flexible versions) encodes to exactly
//! its computed size, decodes back equal, re-encodes byte-identical, and every strict prefix of
//! its encoding is a decoding error. The encodings are kept as golden hex snapshots so that any
//! change of bytes on the wire shows in review.

use std::fmt::Write;

use kafka_wire::{
    aborted_txn, consumer_protocol_assignment, consumer_protocol_subscription, control_record_type_schema,
    default_principal_data, end_txn_marker, kraft_version_record, leader_change_message, request_header,
    response_header, snapshot_footer_record, snapshot_header_record, voters_record, AnyRequest, AnyResponse, ApiKey,
    Bytes, BytesMut, DecodeError, EncodeError,
};

/// Encodes with `encode` into a buffer of exactly `len` bytes, checking nothing reallocated.
fn encode_exact(len: usize, encode: impl FnOnce(&mut BytesMut) -> Result<(), EncodeError>) -> Bytes {
    let mut buf = BytesMut::with_capacity(len);
    let cap = buf.capacity();
    encode(&mut buf).unwrap();
    assert_eq!(buf.len(), len, "encoded size differs from encoded_len");
    assert_eq!(buf.capacity(), cap, "buffer grew while encoding");
    buf.freeze()
}

/// The round-trip properties for one value; returns its encoding.
fn check<T: PartialEq + std::fmt::Debug>(
    what: &str,
    value: &T,
    len: usize,
    encode: impl Fn(&T, &mut BytesMut) -> Result<(), EncodeError>,
    decode: impl Fn(&mut Bytes) -> Result<T, DecodeError>,
) -> Bytes {
    let bytes = encode_exact(len, |b| encode(value, b));
    let mut input = bytes.clone();
    let back = decode(&mut input).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(input.is_empty(), "{what}: {} bytes left after decoding", input.len());
    assert_eq!(&back, value, "{what}: decoded value differs");
    let again = encode_exact(len, |b| encode(&back, b));
    assert_eq!(again, bytes, "{what}: re-encoding differs");
    for n in 0..bytes.len() {
        let mut prefix = bytes.slice(..n);
        assert!(decode(&mut prefix).is_err(), "{what}: the {n}-byte prefix decoded");
    }
    bytes
}

fn hex_block(out: &mut String, title: &str, bytes: &[u8]) {
    writeln!(out, "{title} ({} bytes)", bytes.len()).unwrap();
    for chunk in bytes.chunks(32) {
        writeln!(out, "  {}", hex::encode(chunk)).unwrap();
    }
}

#[test]
fn every_api_version_and_direction_round_trips() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/golden");
    settings.set_prepend_module_to_snapshot(false);
    let mut messages = 0;
    for &api in ApiKey::ALL {
        let mut golden = String::new();
        let range = api.schema_versions();
        for v in range.min..=range.max {
            let req = AnyRequest::sample(api, v).unwrap_or_else(|| panic!("no sample of {api} v{v}"));
            assert_eq!((req.api_key(), req.version()), (api, v));
            let bytes = check(
                &format!("{api} v{v} request"),
                &req,
                req.encoded_len(),
                |m, b| m.encode(b),
                |b| AnyRequest::decode(api.code(), v, b),
            );
            hex_block(&mut golden, &format!("v{v} request"), &bytes);

            let resp = AnyResponse::sample(api, v).unwrap_or_else(|| panic!("no sample of {api} v{v}"));
            assert_eq!((resp.api_key(), resp.version()), (api, v));
            let bytes = check(
                &format!("{api} v{v} response"),
                &resp,
                resp.encoded_len(),
                |m, b| m.encode(b),
                |b| AnyResponse::decode(api.code(), v, b),
            );
            hex_block(&mut golden, &format!("v{v} response"), &bytes);
            messages += 2;
        }
        settings.bind(|| insta::assert_snapshot!(api.name(), golden));
    }
    // Apache Kafka 4.4.0.
    assert_eq!(ApiKey::ALL.len(), 91);
    assert_eq!(messages, 618);
}

macro_rules! standalone {
    ($golden:ident, $count:ident, $($m:ident),* $(,)?) => {$({
        let mut out = String::new();
        for v in $m::AnyVersion::MIN_VERSION..=$m::AnyVersion::MAX_VERSION {
            let value = $m::AnyVersion::sample(v).unwrap();
            let bytes = check(
                &format!("{} v{v}", $m::AnyVersion::NAME),
                &value,
                value.encoded_len(),
                |m, b| m.encode(b),
                |b| $m::AnyVersion::decode(v, b),
            );
            hex_block(&mut out, &format!("v{v}"), &bytes);
            // The version-prefixed form used inside other messages and records.
            let versioned = value.to_versioned_bytes().unwrap();
            assert_eq!(&versioned[2..], &bytes[..]);
            assert_eq!($m::AnyVersion::decode_versioned(versioned).unwrap(), value);
            $count += 1;
        }
        $golden.bind(|| insta::assert_snapshot!($m::AnyVersion::NAME, out));
    })*};
}

#[test]
fn headers_and_data_schemas_round_trip() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/golden");
    settings.set_prepend_module_to_snapshot(false);
    let mut count = 0;
    standalone!(
        settings,
        count,
        request_header,
        response_header,
        aborted_txn,
        control_record_type_schema,
        end_txn_marker,
        consumer_protocol_assignment,
        consumer_protocol_subscription,
        default_principal_data,
        kraft_version_record,
        leader_change_message,
        snapshot_footer_record,
        snapshot_header_record,
        voters_record,
    );
    // RequestHeader v1-2, ResponseHeader v0-1 and the data schemas.
    assert_eq!(count, 2 + 2 + 1 + 1 + 1 + 4 + 4 + 1 + 1 + 2 + 1 + 1 + 1);
}

#[test]
fn frames_round_trip_through_the_request_and_response_traits() {
    // Client side: serialize every sample request into a frame; server side: decode it back,
    // answer with the sample response, and parse that with the request's deserializer.
    for &api in ApiKey::ALL {
        let range = api.schema_versions();
        for v in range.min..=range.max {
            let req = AnyRequest::sample(api, v).unwrap();
            let frame = req.serialize(v as i32 * 1000 + 7, Some("tester")).unwrap();
            let chunks = req.serialize_chunks(v as i32 * 1000 + 7, Some("tester")).unwrap();
            assert_eq!(chunks.to_bytes(), frame, "{api:?} v{v}: chunks differ from the frame");
            let size = i32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
            assert_eq!(size, frame.len() - 4);
            let decoded = kafka_wire::RequestFrame::<AnyRequest>::decode(frame.slice(4..)).unwrap();
            assert_eq!(decoded.request, req);
            assert_eq!(decoded.header.correlation_id, v as i32 * 1000 + 7);
            assert_eq!(decoded.header_version, api.request_header_version(v));
            let expected_client = (decoded.header_version >= 1).then(|| "tester".into());
            assert_eq!(decoded.header.client_id, expected_client);

            let resp = AnyResponse::sample(api, v).unwrap();
            let answer = decoded.respond(&resp).unwrap();
            let chunks = resp.serialize_chunks(v as i32 * 1000 + 7).unwrap();
            assert_eq!(chunks.to_bytes(), answer, "{api:?} v{v}: response chunks differ from the frame");
            let parse = req.response_deserializer();
            let (header, back) = parse(answer.slice(4..)).unwrap();
            assert_eq!(header.correlation_id, v as i32 * 1000 + 7);
            assert_eq!(back, resp);
        }
    }
}

#[test]
fn corrupted_encodings_never_panic() {
    // Every single-byte corruption of every sample encoding decodes to a value or an error.
    let mut decodes = 0;
    for &api in ApiKey::ALL {
        let range = api.schema_versions();
        for v in range.min..=range.max {
            let req = AnyRequest::sample(api, v).unwrap();
            let resp = AnyResponse::sample(api, v).unwrap();
            let encodings = [
                encode_exact(req.encoded_len(), |b| req.encode(b)),
                encode_exact(resp.encoded_len(), |b| resp.encode(b)),
            ];
            for (i, bytes) in encodings.iter().enumerate() {
                for pos in 0..bytes.len() {
                    for flip in [0xff, 0x80] {
                        let mut corrupt = bytes.to_vec();
                        corrupt[pos] ^= flip;
                        let mut input = Bytes::from(corrupt);
                        if i == 0 {
                            let _ = AnyRequest::decode(api.code(), v, &mut input);
                        } else {
                            let _ = AnyResponse::decode(api.code(), v, &mut input);
                        }
                        decodes += 1;
                    }
                }
            }
        }
    }
    assert!(decodes > 100_000, "{decodes}");
}
