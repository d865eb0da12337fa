//! Encoding into chunks for a vectored write: the same bytes as the contiguous encoding, with
//! record sets and large byte fields referenced instead of copied.

use std::io::{IoSlice, Write};

use kafka_wire::codec::SHARE_MIN_LEN;
use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
use kafka_wire::{
    fetch, produce, sasl_authenticate, Buf, Bytes, Chunks, Message, Records, VersionedRequest, VersionedResponse,
};

/// A record set of about `size` bytes: records of 100-byte values.
fn records(size: usize, seed: u8) -> Records {
    let mut b = BatchBuilder::new(Compression::None);
    let mut i = 0usize;
    while b.uncompressed_len() < size {
        let value: Vec<u8> = (0..100).map(|j| seed.wrapping_add((i + j) as u8)).collect();
        b.push(&NewRecord::new(1_700_000_000_000 + i as i64, value)).unwrap();
        i += 1;
    }
    Records::from_batches(&[b.build().unwrap().into()]).unwrap()
}

fn produce_request(sizes: &[usize]) -> produce::v11::Request {
    produce::v11::Request {
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![produce::v11::TopicProduceData {
            name: "orders".into(),
            partition_data: sizes
                .iter()
                .enumerate()
                .map(|(i, &size)| produce::v11::PartitionProduceData {
                    index: i as i32,
                    records: (size > 0).then(|| records(size, i as u8)),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Writes `chunks` with vectored writes, as a socket writer would, and returns what arrived.
fn write_vectored(mut chunks: Chunks) -> Vec<u8> {
    let mut out = Vec::new();
    while chunks.has_remaining() {
        let mut slices = [IoSlice::new(&[]); 4];
        let n = chunks.chunks_vectored(&mut slices);
        let written = out.write_vectored(&slices[..n]).unwrap();
        chunks.advance(written);
    }
    out
}

#[test]
fn a_produce_request_shares_its_record_sets() {
    let req = produce_request(&[16 * 1024, 200, 0, 64 * 1024]);
    let frame = req.serialize(42, Some("chunks")).unwrap();
    let chunks = req.serialize_chunks(42, Some("chunks")).unwrap();
    assert_eq!(chunks.len(), frame.len());
    assert_eq!(chunks.to_bytes(), frame);

    // The two large record sets are chunks of their own, the very bytes of the request; the
    // small one (under SHARE_MIN_LEN) and everything else is copied around them.
    let shared: Vec<&Bytes> = req.topic_data[0]
        .partition_data
        .iter()
        .filter_map(|p| p.records.as_ref())
        .map(|r| r.as_bytes())
        .filter(|b| b.len() >= SHARE_MIN_LEN)
        .collect();
    assert_eq!(shared.len(), 2);
    let parts: Vec<&Bytes> = chunks.iter().collect();
    assert_eq!(parts.len(), 5, "header+first prefix, records, middle, records, tail");
    for s in shared {
        assert!(parts.iter().any(|p| p.as_ptr() == s.as_ptr() && p.len() == s.len()), "a record set was copied");
    }

    assert_eq!(write_vectored(chunks), frame.to_vec());
}

#[test]
fn a_fetch_response_shares_its_record_sets_and_decodes_back() {
    let resp = fetch::v16::Response {
        responses: vec![fetch::v16::FetchableTopicResponse {
            topic_id: kafka_wire::Uuid::from_u128(7),
            partitions: (0..3)
                .map(|i| fetch::v16::PartitionData {
                    partition_index: i,
                    high_watermark: 100,
                    records: Some(records(4096 * (i as usize + 1), i as u8)),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let body = resp.encode_chunks().unwrap();
    assert_eq!(body.iter().count(), 7, "three shared record sets between four copied parts");
    assert_eq!(body.to_bytes(), resp.to_bytes().unwrap());
    assert_eq!(fetch::v16::Response::from_bytes(body.to_bytes()).unwrap(), resp);

    let frame = resp.serialize_chunks(9).unwrap();
    assert_eq!(frame.to_bytes(), resp.serialize(9).unwrap());
}

#[test]
fn large_byte_fields_are_shared_too() {
    let token = Bytes::from(vec![0x5a; 4096]);
    let req = sasl_authenticate::v2::Request { auth_bytes: token.clone(), ..Default::default() };
    let chunks = req.serialize_chunks(1, None).unwrap();
    assert!(chunks.iter().any(|c| c.as_ptr() == token.as_ptr()));
    assert_eq!(chunks.to_bytes(), req.serialize(1, None).unwrap());
}

#[test]
fn small_messages_are_one_chunk() {
    let req = produce_request(&[100, 100]);
    let chunks = req.serialize_chunks(3, None).unwrap();
    assert_eq!(chunks.iter().count(), 1);
    assert_eq!(chunks.to_bytes(), req.serialize(3, None).unwrap());
}
