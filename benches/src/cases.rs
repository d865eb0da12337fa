//! The benchmarks: each builds its input for both crates and returns the two bodies.

use bytes::{BufMut, Bytes, BytesMut};

use crate::data::{record_value, topic_id, topic_name, BASE_TIMESTAMP};

// kafka-wire
use kafka_wire::records::{BatchBuilder, Compression, NewRecord, RecordBatch};
use kafka_wire::{ByteString, ErrorCode, Message, Records, VersionFreeMessage, VersionedRequest as _};

// kafka-protocol
use kafka_protocol::messages as kp;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use kafka_protocol::records as kpr;

/// What one iteration processes, for Criterion's throughput figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throughput {
    /// Bytes of the message or batch on the wire.
    Bytes(u64),
    /// Records (or messages).
    Elements(u64),
}

/// One benchmark: the same work done by both crates.
pub struct Case {
    /// Criterion group name, e.g. `metadata-decode`.
    pub name: &'static str,
    /// A line for the table: what the input is.
    pub about: String,
    pub throughput: Throughput,
    /// kafka-wire. Returns a value derived from the result (so nothing is optimised away, and
    /// so that [`Case::check`] can compare the two sides).
    pub ours: Box<dyn FnMut() -> u64>,
    /// kafka-protocol.
    pub theirs: Box<dyn FnMut() -> u64>,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case").field("name", &self.name).field("about", &self.about).finish()
    }
}

impl Case {
    /// How many iterations make a stable instruction count under callgrind: two for the
    /// large messages (the second reuses the heap the first freed, as a loop does), many for
    /// the small ones.
    pub fn profile_iters(&self) -> u64 {
        match self.throughput {
            Throughput::Bytes(n) if n >= 100_000 => 2,
            Throughput::Elements(n) if n >= 1_000 => 2,
            _ => 1_000,
        }
    }

    /// Runs both bodies once and checks that they agree.
    pub fn check(&mut self) {
        let (a, b) = ((self.ours)(), (self.theirs)());
        assert_eq!(a, b, "{}: the two crates disagree", self.name);
    }
}

/// Builds one case.
pub type Builder = fn() -> Case;

/// Every case whose name contains `filter` (all with an empty filter).
pub fn all(filter: &str) -> Vec<Case> {
    builders().into_iter().filter(|(n, _)| n.contains(filter)).map(|(_, b)| b()).collect()
}

/// The name and builder of every case, in table order (building one takes up to a second:
/// encoding, compressing, checking that both crates write the same bytes).
pub fn builders() -> Vec<(&'static str, Builder)> {
    vec![
        ("metadata-decode", metadata_decode),
        ("metadata-encode", metadata_encode),
        ("fetch-decode", || fetch_decode(false)),
        ("fetch-decode-records", || fetch_decode(true)),
        ("fetch-encode", fetch_encode),
        ("fetch-encode-chunks", fetch_encode_chunks),
        ("produce-encode", produce_encode),
        ("produce-encode-chunks", produce_encode_chunks),
        ("produce-decode", produce_decode),
        ("api-versions-decode", api_versions_decode),
        ("api-versions-encode", api_versions_encode),
        ("heartbeat-request-decode", heartbeat_decode),
        ("heartbeat-request-encode", heartbeat_encode),
        ("metadata-decode-version-free", metadata_decode_version_free),
        ("metadata-encode-version-free", metadata_encode_version_free),
        ("fetch-decode-version-free", fetch_decode_version_free),
        ("produce-encode-version-free", produce_encode_version_free),
        ("batch-decode-none", || batch_decode(Compression::None)),
        ("batch-decode-owned", batch_decode_owned),
        ("batch-decode-gzip", || batch_decode(Compression::Gzip)),
        ("batch-decode-snappy", || batch_decode(Compression::Snappy)),
        ("batch-decode-lz4", || batch_decode(Compression::Lz4)),
        ("batch-decode-zstd", || batch_decode(Compression::Zstd)),
        ("batch-encode-none", || batch_encode(Compression::None)),
        ("batch-encode-gzip", || batch_encode(Compression::Gzip)),
        ("batch-encode-snappy", || batch_encode(Compression::Snappy)),
        ("batch-encode-lz4", || batch_encode(Compression::Lz4)),
        ("batch-encode-zstd", || batch_encode(Compression::Zstd)),
    ]
}

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_owned())
}

fn bs(s: &str) -> ByteString {
    ByteString::from(s)
}

/// Encodes into `buf` (cleared, then the exact size reserved) and returns the length.
fn ours_encode<M: Message>(m: &M, buf: &mut BytesMut) -> u64 {
    let n = m.encoded_len();
    buf.clear();
    buf.reserve(n);
    m.encode(buf).expect("encode");
    buf.len() as u64
}

fn theirs_encode<M: Encodable>(m: &M, version: i16, buf: &mut BytesMut) -> u64 {
    let n = m.compute_size(version).expect("compute_size");
    buf.clear();
    buf.reserve(n);
    m.encode(buf, version).expect("encode");
    buf.len() as u64
}

/// kafka-wire's encoding for a vectored write: record sets referenced, the rest copied.
/// [`ours_encode`] for a version-free message, written at `version`.
fn ours_encode_at<M: VersionFreeMessage>(m: &M, version: i16, buf: &mut BytesMut) -> u64 {
    let n = m.encoded_len(version);
    buf.clear();
    buf.reserve(n);
    m.encode(version, buf).expect("encode");
    buf.len() as u64
}

fn ours_encode_chunks<M: Message>(m: &M) -> u64 {
    m.encode_chunks().expect("encode").len() as u64
}

fn ours_bytes<M: Message>(m: &M) -> Bytes {
    m.to_bytes().expect("encode")
}

fn theirs_bytes<M: Encodable>(m: &M, version: i16) -> Bytes {
    let mut buf = BytesMut::new();
    theirs_encode(m, version, &mut buf);
    buf.freeze()
}

/// Both values must encode to the same bytes: the same logical message.
fn same_wire(name: &str, ours: &Bytes, theirs: &Bytes) {
    assert!(ours == theirs, "{name}: the two crates encode different bytes ({} vs {})", ours.len(), theirs.len());
}

// ---- Metadata response: 1,000 topics × 10 partitions, 3 replicas each ----------------------

const METADATA_VERSION: i16 = 12;
const BROKERS: i32 = 6;

pub fn metadata_ours() -> kafka_wire::metadata::v12::Response {
    use kafka_wire::metadata::v12::*;
    Response {
        throttle_time_ms: 0,
        brokers: (0..BROKERS)
            .map(|id| MetadataResponseBroker {
                node_id: id,
                host: bs(&format!("broker-{id}.kafka.internal.example.com")),
                port: 9092,
                rack: Some(bs(&format!("eu-west-1{}", ['a', 'b', 'c'][id as usize % 3]))),
                ..Default::default()
            })
            .collect(),
        cluster_id: Some(bs("Zm9vYmFyYmF6cXV4MTIzNA")),
        controller_id: 1,
        topics: (0..1000)
            .map(|t| MetadataResponseTopic {
                error_code: ErrorCode::NONE,
                name: Some(bs(&topic_name(t))),
                topic_id: kafka_wire::Uuid::from_bytes(topic_id(t as u64)),
                is_internal: false,
                partitions: (0..10)
                    .map(|p| {
                        let r: Vec<i32> = (0..3).map(|k| (t as i32 + p + k) % BROKERS).collect();
                        MetadataResponsePartition {
                            error_code: ErrorCode::NONE,
                            partition_index: p,
                            leader_id: r[0],
                            leader_epoch: 7,
                            replica_nodes: r.as_slice().into(),
                            isr_nodes: r.as_slice().into(),
                            offline_replicas: Default::default(),
                            ..Default::default()
                        }
                    })
                    .collect(),
                topic_authorized_operations: -2147483648,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

pub fn metadata_theirs() -> kp::MetadataResponse {
    use kp::metadata_response::*;
    let mut m = MetadataResponse::default();
    m.throttle_time_ms = 0;
    m.brokers = (0..BROKERS)
        .map(|id| {
            let mut b = MetadataResponseBroker::default();
            b.node_id = kp::BrokerId(id);
            b.host = sb(&format!("broker-{id}.kafka.internal.example.com"));
            b.port = 9092;
            b.rack = Some(sb(&format!("eu-west-1{}", ['a', 'b', 'c'][id as usize % 3])));
            b
        })
        .collect();
    m.cluster_id = Some(sb("Zm9vYmFyYmF6cXV4MTIzNA"));
    m.controller_id = kp::BrokerId(1);
    m.topics = (0..1000)
        .map(|t| {
            let mut topic = MetadataResponseTopic::default();
            topic.error_code = 0;
            topic.name = Some(kp::TopicName(sb(&topic_name(t))));
            topic.topic_id = uuid::Uuid::from_bytes(topic_id(t as u64));
            topic.is_internal = false;
            topic.partitions = (0..10)
                .map(|p| {
                    let r: Vec<kp::BrokerId> = (0..3).map(|k| kp::BrokerId((t as i32 + p + k) % BROKERS)).collect();
                    let mut part = MetadataResponsePartition::default();
                    part.error_code = 0;
                    part.partition_index = p;
                    part.leader_id = r[0];
                    part.leader_epoch = 7;
                    part.replica_nodes = r.clone();
                    part.isr_nodes = r;
                    part.offline_replicas = vec![];
                    part
                })
                .collect();
            topic.topic_authorized_operations = -2147483648;
            topic
        })
        .collect();
    m
}

/// The Metadata response on the wire, checked to be the same from both crates.
pub fn metadata_wire() -> Bytes {
    let ours = ours_bytes(&metadata_ours());
    same_wire("metadata", &ours, &theirs_bytes(&metadata_theirs(), METADATA_VERSION));
    ours
}

fn metadata_decode() -> Case {
    let wire = metadata_wire();
    let w2 = wire.clone();
    Case {
        name: "metadata-decode",
        about: format!("Metadata v12 response, 1,000 topics × 10 partitions × 3 replicas ({} bytes)", wire.len()),
        throughput: Throughput::Bytes(wire.len() as u64),
        ours: Box::new(move || {
            let m = kafka_wire::metadata::v12::Response::from_bytes(wire.clone()).expect("decode");
            m.topics.len() as u64 + m.topics[999].partitions[9].replica_nodes[2] as u64
        }),
        theirs: Box::new(move || {
            let m = kp::MetadataResponse::decode(&mut w2.clone(), METADATA_VERSION).expect("decode");
            m.topics.len() as u64 + m.topics[999].partitions[9].replica_nodes[2].0 as u64
        }),
    }
}

fn metadata_encode() -> Case {
    let (ours, theirs) = (metadata_ours(), metadata_theirs());
    let len = ours.encoded_len() as u64;
    let (mut b1, mut b2) = (BytesMut::new(), BytesMut::new());
    Case {
        name: "metadata-encode",
        about: format!("the same response, size computed then written ({len} bytes)"),
        throughput: Throughput::Bytes(len),
        ours: Box::new(move || ours_encode(&ours, &mut b1)),
        theirs: Box::new(move || theirs_encode(&theirs, METADATA_VERSION, &mut b2)),
    }
}

// ---- record sets -----------------------------------------------------------------------------

/// Record `i` of the benchmarks: a 100-byte value, no key, no headers, 1 ms apart.
fn new_record(i: u64, value_len: usize) -> NewRecord {
    NewRecord {
        timestamp: BASE_TIMESTAMP + i as i64,
        key: None,
        value: Some(record_value(i, value_len)),
        headers: vec![],
    }
}

fn their_record(i: u64, value_len: usize) -> kpr::Record {
    kpr::Record {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: -1,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: kpr::TimestampType::Creation,
        offset: i as i64,
        // kafka-protocol derives the batch's base sequence from the first record and splits
        // batches where `offset - sequence` changes: -1 for the first keeps "no sequence".
        sequence: i as i32 - 1,
        timestamp: BASE_TIMESTAMP + i as i64,
        key: None,
        value: Some(record_value(i, value_len)),
        headers: Default::default(),
    }
}

/// Uncompressed batches of at most `batch_bytes` each, `batches` of them, records numbered
/// from `first`: a record set as a broker stores it.
fn record_set(first: u64, batches: usize, batch_bytes: usize, value_len: usize) -> (Bytes, u64) {
    let mut out = BytesMut::new();
    let mut i = first;
    for b in 0..batches {
        let mut builder = BatchBuilder::new(Compression::None).base_offset((i - first) as i64);
        loop {
            let r = new_record(i, value_len);
            // A record takes its value plus about 10 bytes of framing.
            if builder.uncompressed_len() + value_len + 16 > batch_bytes && !builder.is_empty() {
                break;
            }
            builder.push(&r).expect("push");
            i += 1;
        }
        let _ = b;
        builder.build().expect("build").encode(&mut out).expect("encode");
    }
    (out.freeze(), i - first)
}

/// Visits a record the same way on both sides.
#[inline(always)]
fn touch(offset: i64, timestamp: i64, key: Option<&Bytes>, value: Option<&Bytes>) -> u64 {
    (offset as u64)
        .wrapping_add(timestamp as u64)
        .wrapping_add(key.map_or(0, |k| k.len() as u64))
        .wrapping_add(value.map_or(0, |v| v.len() as u64))
}

fn touch_slices(offset: i64, timestamp: i64, key: Option<&[u8]>, value: Option<&[u8]>) -> u64 {
    (offset as u64)
        .wrapping_add(timestamp as u64)
        .wrapping_add(key.map_or(0, |k| k.len() as u64))
        .wrapping_add(value.map_or(0, |v| v.len() as u64))
}

fn ours_visit_records(records: &Records) -> u64 {
    let mut sum = 0u64;
    for batch in records.batches() {
        let batch = batch.expect("batch");
        for r in batch.records().expect("records") {
            let r = r.expect("record");
            sum = sum.wrapping_add(touch(r.offset, r.timestamp, r.key.as_ref(), r.value.as_ref()));
        }
    }
    sum
}

fn theirs_visit_records(records: &mut Bytes) -> u64 {
    let mut sum = 0u64;
    for set in kpr::RecordBatchDecoder::decode_all(records).expect("records") {
        for r in &set.records {
            sum = sum.wrapping_add(touch(r.offset, r.timestamp, r.key.as_ref(), r.value.as_ref()));
        }
    }
    sum
}

// ---- Fetch response: 50 partitions of 256 KiB --------------------------------------------

const FETCH_VERSION: i16 = 16;
const FETCH_TOPICS: usize = 5;
const FETCH_PARTITIONS: usize = 10;
/// 16 batches of at most 16 KiB (the producer's default `batch.size`): 256 KiB per partition.
const FETCH_BATCHES: usize = 16;
const BATCH_BYTES: usize = 16 * 1024;
const VALUE_LEN: usize = 100;

struct FetchInput {
    ours: kafka_wire::fetch::v16::Response,
    theirs: kp::FetchResponse,
    records: u64,
}

fn fetch_input() -> FetchInput {
    let mut sets = Vec::new();
    let mut records = 0;
    for n in 0..FETCH_TOPICS * FETCH_PARTITIONS {
        let (set, count) = record_set(n as u64 * 1_000_000, FETCH_BATCHES, BATCH_BYTES, VALUE_LEN);
        records += count;
        sets.push(set);
    }
    let ours = {
        use kafka_wire::fetch::v16::*;
        Response {
            throttle_time_ms: 0,
            error_code: ErrorCode::NONE,
            session_id: 123_456,
            responses: (0..FETCH_TOPICS)
                .map(|t| FetchableTopicResponse {
                    topic_id: kafka_wire::Uuid::from_bytes(topic_id(t as u64)),
                    partitions: (0..FETCH_PARTITIONS)
                        .map(|p| {
                            let set = sets[t * FETCH_PARTITIONS + p].clone();
                            PartitionData {
                                partition_index: p as i32,
                                error_code: ErrorCode::NONE,
                                high_watermark: 1_000_000,
                                last_stable_offset: 1_000_000,
                                log_start_offset: 0,
                                aborted_transactions: None,
                                preferred_read_replica: -1,
                                records: Some(Records::from_bytes(set)),
                                ..Default::default()
                            }
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    };
    let theirs = {
        use kp::fetch_response::*;
        let mut r = FetchResponse::default();
        r.throttle_time_ms = 0;
        r.error_code = 0;
        r.session_id = 123_456;
        r.responses = (0..FETCH_TOPICS)
            .map(|t| {
                let mut topic = FetchableTopicResponse::default();
                topic.topic_id = uuid::Uuid::from_bytes(topic_id(t as u64));
                topic.partitions = (0..FETCH_PARTITIONS)
                    .map(|p| {
                        let mut part = PartitionData::default();
                        part.partition_index = p as i32;
                        part.error_code = 0;
                        part.high_watermark = 1_000_000;
                        part.last_stable_offset = 1_000_000;
                        part.log_start_offset = 0;
                        part.aborted_transactions = None;
                        part.preferred_read_replica = kp::BrokerId(-1);
                        part.records = Some(sets[t * FETCH_PARTITIONS + p].clone());
                        part
                    })
                    .collect();
                topic
            })
            .collect();
        r
    };
    FetchInput { ours, theirs, records }
}

fn fetch_decode(records: bool) -> Case {
    let input = fetch_input();
    let wire = ours_bytes(&input.ours);
    same_wire("fetch", &wire, &theirs_bytes(&input.theirs, FETCH_VERSION));
    let w2 = wire.clone();
    let about = if records {
        format!("the same, then every record visited ({} records of {VALUE_LEN} bytes)", input.records)
    } else {
        format!(
            "Fetch v16 response, {} partitions × 16 batches of ≤16 KiB ({} bytes), records left as bytes",
            FETCH_TOPICS * FETCH_PARTITIONS,
            wire.len()
        )
    };
    Case {
        name: if records { "fetch-decode-records" } else { "fetch-decode" },
        about,
        throughput: Throughput::Bytes(wire.len() as u64),
        ours: Box::new(move || {
            let r = kafka_wire::fetch::v16::Response::from_bytes(wire.clone()).expect("decode");
            let mut sum = 0u64;
            for t in &r.responses {
                for p in &t.partitions {
                    let set = p.records.as_ref().expect("records");
                    sum = sum.wrapping_add(if records { ours_visit_records(set) } else { set.len() as u64 });
                }
            }
            sum
        }),
        theirs: Box::new(move || {
            let r = kp::FetchResponse::decode(&mut w2.clone(), FETCH_VERSION).expect("decode");
            let mut sum = 0u64;
            for t in r.responses {
                for p in t.partitions {
                    let mut set = p.records.expect("records");
                    sum = sum.wrapping_add(if records { theirs_visit_records(&mut set) } else { set.len() as u64 });
                }
            }
            sum
        }),
    }
}

fn fetch_encode() -> Case {
    let FetchInput { ours, theirs, .. } = fetch_input();
    let len = ours.encoded_len() as u64;
    let (mut b1, mut b2) = (BytesMut::new(), BytesMut::new());
    Case {
        name: "fetch-encode",
        about: format!("the same response, size computed then written ({len} bytes)"),
        throughput: Throughput::Bytes(len),
        ours: Box::new(move || ours_encode(&ours, &mut b1)),
        theirs: Box::new(move || theirs_encode(&theirs, FETCH_VERSION, &mut b2)),
    }
}

fn fetch_encode_chunks() -> Case {
    let FetchInput { ours, theirs, .. } = fetch_input();
    let len = ours.encoded_len() as u64;
    same_wire(
        "fetch (chunks)",
        &ours.encode_chunks().expect("encode").to_bytes(),
        &theirs_bytes(&theirs, FETCH_VERSION),
    );
    let mut b2 = BytesMut::new();
    Case {
        name: "fetch-encode-chunks",
        about: format!(
            "the same response for a vectored write: ours `encode_chunks` (record sets not copied), theirs `encode` ({len} bytes)"
        ),
        throughput: Throughput::Bytes(len),
        ours: Box::new(move || ours_encode_chunks(&ours)),
        theirs: Box::new(move || theirs_encode(&theirs, FETCH_VERSION, &mut b2)),
    }
}

// ---- Produce request: 100 partitions of 16 KiB -------------------------------------------

const PRODUCE_VERSION: i16 = 11;
const PRODUCE_TOPICS: usize = 10;
const PRODUCE_PARTITIONS: usize = 10;

fn produce_input() -> (kafka_wire::produce::v11::Request, kp::ProduceRequest) {
    let sets: Vec<Bytes> = (0..PRODUCE_TOPICS * PRODUCE_PARTITIONS)
        .map(|n| record_set(n as u64 * 1_000_000, 1, BATCH_BYTES, VALUE_LEN).0)
        .collect();
    let ours = {
        use kafka_wire::produce::v11::*;
        Request {
            transactional_id: None,
            acks: -1,
            timeout_ms: 30_000,
            topic_data: (0..PRODUCE_TOPICS)
                .map(|t| TopicProduceData {
                    name: bs(&topic_name(t)),
                    partition_data: (0..PRODUCE_PARTITIONS)
                        .map(|p| PartitionProduceData {
                            index: p as i32,
                            records: Some(Records::from_bytes(sets[t * PRODUCE_PARTITIONS + p].clone())),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    };
    let theirs = {
        use kp::produce_request::*;
        let mut r = ProduceRequest::default();
        r.transactional_id = None;
        r.acks = -1;
        r.timeout_ms = 30_000;
        r.topic_data = (0..PRODUCE_TOPICS)
            .map(|t| {
                let mut topic = TopicProduceData::default();
                topic.name = kp::TopicName(sb(&topic_name(t)));
                topic.partition_data = (0..PRODUCE_PARTITIONS)
                    .map(|p| {
                        let mut part = PartitionProduceData::default();
                        part.index = p as i32;
                        part.records = Some(sets[t * PRODUCE_PARTITIONS + p].clone());
                        part
                    })
                    .collect();
                topic
            })
            .collect();
        r
    };
    (ours, theirs)
}

fn produce_encode() -> Case {
    let (ours, theirs) = produce_input();
    let len = ours.encoded_len() as u64;
    same_wire("produce", &ours_bytes(&ours), &theirs_bytes(&theirs, PRODUCE_VERSION));
    let (mut b1, mut b2) = (BytesMut::new(), BytesMut::new());
    Case {
        name: "produce-encode",
        about: format!(
            "Produce v11 request, {} partitions × one batch of ≤16 KiB ({len} bytes), size computed then written",
            PRODUCE_TOPICS * PRODUCE_PARTITIONS
        ),
        throughput: Throughput::Bytes(len),
        ours: Box::new(move || ours_encode(&ours, &mut b1)),
        theirs: Box::new(move || theirs_encode(&theirs, PRODUCE_VERSION, &mut b2)),
    }
}

fn produce_encode_chunks() -> Case {
    let (ours, theirs) = produce_input();
    let len = ours.encoded_len() as u64;
    same_wire(
        "produce (chunks)",
        &ours.encode_chunks().expect("encode").to_bytes(),
        &theirs_bytes(&theirs, PRODUCE_VERSION),
    );
    let mut b2 = BytesMut::new();
    Case {
        name: "produce-encode-chunks",
        about: format!(
            "the same request for a vectored write: ours `encode_chunks` (record sets not copied), theirs `encode` ({len} bytes)"
        ),
        throughput: Throughput::Bytes(len),
        ours: Box::new(move || ours_encode_chunks(&ours)),
        theirs: Box::new(move || theirs_encode(&theirs, PRODUCE_VERSION, &mut b2)),
    }
}

fn produce_decode() -> Case {
    let (ours, theirs) = produce_input();
    let wire = ours_bytes(&ours);
    same_wire("produce", &wire, &theirs_bytes(&theirs, PRODUCE_VERSION));
    let w2 = wire.clone();
    Case {
        name: "produce-decode",
        about: format!("the same request ({} bytes), records left as bytes", wire.len()),
        throughput: Throughput::Bytes(wire.len() as u64),
        ours: Box::new(move || {
            let r = kafka_wire::produce::v11::Request::from_bytes(wire.clone()).expect("decode");
            r.topic_data
                .iter()
                .flat_map(|t| &t.partition_data)
                .map(|p| p.records.as_ref().map_or(0, |r| r.len()))
                .sum::<usize>() as u64
        }),
        theirs: Box::new(move || {
            let r = kp::ProduceRequest::decode(&mut w2.clone(), PRODUCE_VERSION).expect("decode");
            r.topic_data
                .iter()
                .flat_map(|t| &t.partition_data)
                .map(|p| p.records.as_ref().map_or(0, |r| r.len()))
                .sum::<usize>() as u64
        }),
    }
}

// ---- the same messages through the version-free types (the default build's) ----------------

fn metadata_decode_version_free() -> Case {
    let wire = metadata_wire();
    let w2 = wire.clone();
    Case {
        name: "metadata-decode-version-free",
        about: format!(
            "metadata-decode's bytes read into the version-free `metadata::Response` at v12 ({} bytes)",
            wire.len()
        ),
        throughput: Throughput::Bytes(wire.len() as u64),
        ours: Box::new(move || {
            let m = kafka_wire::metadata::Response::from_bytes(METADATA_VERSION, wire.clone()).expect("decode");
            m.topics.len() as u64 + m.topics[999].partitions[9].replica_nodes[2] as u64
        }),
        theirs: Box::new(move || {
            let m = kp::MetadataResponse::decode(&mut w2.clone(), METADATA_VERSION).expect("decode");
            m.topics.len() as u64 + m.topics[999].partitions[9].replica_nodes[2].0 as u64
        }),
    }
}

fn metadata_encode_version_free() -> Case {
    let (ours, theirs) = (kafka_wire::metadata::Response::from(metadata_ours()), metadata_theirs());
    let wire = ours.to_bytes(METADATA_VERSION).expect("encode");
    same_wire("metadata (version-free)", &wire, &theirs_bytes(&theirs, METADATA_VERSION));
    let (mut b1, mut b2) = (BytesMut::new(), BytesMut::new());
    Case {
        name: "metadata-encode-version-free",
        about: format!("the same response from the version-free type at v12 ({} bytes)", wire.len()),
        throughput: Throughput::Bytes(wire.len() as u64),
        ours: Box::new(move || ours_encode_at(&ours, METADATA_VERSION, &mut b1)),
        theirs: Box::new(move || theirs_encode(&theirs, METADATA_VERSION, &mut b2)),
    }
}

fn fetch_decode_version_free() -> Case {
    let input = fetch_input();
    let wire = ours_bytes(&input.ours);
    same_wire("fetch", &wire, &theirs_bytes(&input.theirs, FETCH_VERSION));
    let w2 = wire.clone();
    Case {
        name: "fetch-decode-version-free",
        about: format!(
            "fetch-decode's bytes read into the version-free `fetch::Response` at v16 ({} bytes)",
            wire.len()
        ),
        throughput: Throughput::Bytes(wire.len() as u64),
        ours: Box::new(move || {
            let r = kafka_wire::fetch::Response::from_bytes(FETCH_VERSION, wire.clone()).expect("decode");
            r.responses
                .iter()
                .flat_map(|t| &t.partitions)
                .map(|p| p.records.as_ref().expect("records").len() as u64)
                .sum()
        }),
        theirs: Box::new(move || {
            let r = kp::FetchResponse::decode(&mut w2.clone(), FETCH_VERSION).expect("decode");
            r.responses
                .iter()
                .flat_map(|t| &t.partitions)
                .map(|p| p.records.as_ref().expect("records").len() as u64)
                .sum()
        }),
    }
}

fn produce_encode_version_free() -> Case {
    let (ours, theirs) = produce_input();
    let ours = kafka_wire::produce::Request::from(ours);
    let wire = ours.to_bytes(PRODUCE_VERSION).expect("encode");
    same_wire("produce (version-free)", &wire, &theirs_bytes(&theirs, PRODUCE_VERSION));
    let (mut b1, mut b2) = (BytesMut::new(), BytesMut::new());
    Case {
        name: "produce-encode-version-free",
        about: format!("produce-encode's request from the version-free type at v11 ({} bytes)", wire.len()),
        throughput: Throughput::Bytes(wire.len() as u64),
        ours: Box::new(move || ours_encode_at(&ours, PRODUCE_VERSION, &mut b1)),
        theirs: Box::new(move || theirs_encode(&theirs, PRODUCE_VERSION, &mut b2)),
    }
}

// ---- ApiVersions response ----------------------------------------------------------------

const API_VERSIONS_VERSION: i16 = 3;

fn api_versions_input() -> (kafka_wire::api_versions::v3::Response, kp::ApiVersionsResponse) {
    let keys: Vec<(i16, i16, i16)> =
        kafka_wire::ApiKey::ALL.iter().map(|k| (k.code(), k.schema_versions().min, k.schema_versions().max)).collect();
    let features = [("metadata.version", 1i16, 25i16), ("kraft.version", 0, 1), ("transaction.version", 0, 2)];
    let ours = {
        use kafka_wire::api_versions::v3::*;
        Response {
            error_code: ErrorCode::NONE,
            api_keys: keys
                .iter()
                .map(|&(api_key, min_version, max_version)| ApiVersion {
                    api_key,
                    min_version,
                    max_version,
                    ..Default::default()
                })
                .collect(),
            throttle_time_ms: 0,
            supported_features: features
                .iter()
                .map(|&(n, min, max)| SupportedFeatureKey {
                    name: bs(n),
                    min_version: min,
                    max_version: max,
                    ..Default::default()
                })
                .collect(),
            finalized_features_epoch: 4242,
            finalized_features: features
                .iter()
                .map(|&(n, _, max)| FinalizedFeatureKey {
                    name: bs(n),
                    max_version_level: max,
                    min_version_level: max,
                    ..Default::default()
                })
                .collect(),
            zk_migration_ready: false,
            ..Default::default()
        }
    };
    let theirs = {
        use kp::api_versions_response::*;
        let mut r = ApiVersionsResponse::default();
        r.error_code = 0;
        r.api_keys = keys
            .iter()
            .map(|&(api_key, min_version, max_version)| {
                let mut v = ApiVersion::default();
                v.api_key = api_key;
                v.min_version = min_version;
                v.max_version = max_version;
                v
            })
            .collect();
        r.throttle_time_ms = 0;
        r.supported_features = features
            .iter()
            .map(|&(n, min, max)| {
                let mut f = SupportedFeatureKey::default();
                f.name = sb(n);
                f.min_version = min;
                f.max_version = max;
                f
            })
            .collect();
        r.finalized_features_epoch = 4242;
        r.finalized_features = features
            .iter()
            .map(|&(n, _, max)| {
                let mut f = FinalizedFeatureKey::default();
                f.name = sb(n);
                f.max_version_level = max;
                f.min_version_level = max;
                f
            })
            .collect();
        r.zk_migration_ready = false;
        r
    };
    (ours, theirs)
}

fn api_versions_decode() -> Case {
    let (ours, theirs) = api_versions_input();
    let wire = ours_bytes(&ours);
    same_wire("api-versions", &wire, &theirs_bytes(&theirs, API_VERSIONS_VERSION));
    let w2 = wire.clone();
    Case {
        name: "api-versions-decode",
        about: format!(
            "ApiVersions v3 response, {} APIs, 3 features, tagged fields ({} bytes)",
            ours.api_keys.len(),
            wire.len()
        ),
        throughput: Throughput::Bytes(wire.len() as u64),
        ours: Box::new(move || {
            let r = kafka_wire::api_versions::v3::Response::from_bytes(wire.clone()).expect("decode");
            r.api_keys.len() as u64 + r.finalized_features_epoch as u64
        }),
        theirs: Box::new(move || {
            let r = kp::ApiVersionsResponse::decode(&mut w2.clone(), API_VERSIONS_VERSION).expect("decode");
            r.api_keys.len() as u64 + r.finalized_features_epoch as u64
        }),
    }
}

fn api_versions_encode() -> Case {
    let (ours, theirs) = api_versions_input();
    let len = ours.encoded_len() as u64;
    let (mut b1, mut b2) = (BytesMut::new(), BytesMut::new());
    Case {
        name: "api-versions-encode",
        about: format!("the same response, size computed then written ({len} bytes)"),
        throughput: Throughput::Bytes(len),
        ours: Box::new(move || ours_encode(&ours, &mut b1)),
        theirs: Box::new(move || theirs_encode(&theirs, API_VERSIONS_VERSION, &mut b2)),
    }
}

// ---- a small request: header v2 + Heartbeat v4 ------------------------------------------

const HEARTBEAT_VERSION: i16 = 4;
const CLIENT_ID: &str = "orders-service-7";
const CORRELATION_ID: i32 = 1234;

fn heartbeat_input() -> (kafka_wire::heartbeat::v4::Request, kp::RequestHeader, kp::HeartbeatRequest) {
    let group = "orders-service.consumers";
    let member = "orders-service-7-2f9c6a52-8f3e-4d55-a2c1-0b6f1d9e7c31";
    let ours = kafka_wire::heartbeat::v4::Request {
        group_id: bs(group),
        generation_id: 17,
        member_id: bs(member),
        group_instance_id: None,
        ..Default::default()
    };
    let mut header = kp::RequestHeader::default();
    header.request_api_key = kp::ApiKey::Heartbeat as i16;
    header.request_api_version = HEARTBEAT_VERSION;
    header.correlation_id = CORRELATION_ID;
    header.client_id = Some(sb(CLIENT_ID));
    let mut theirs = kp::HeartbeatRequest::default();
    theirs.group_id = kp::GroupId(sb(group));
    theirs.generation_id = 17;
    theirs.member_id = sb(member);
    theirs.group_instance_id = None;
    (ours, header, theirs)
}

/// kafka-protocol's way to a whole request frame: sizes, one buffer, size prefix, header, body.
fn theirs_frame(header: &kp::RequestHeader, request: &kp::HeartbeatRequest) -> Bytes {
    let hv = kp::HeartbeatRequest::header_version(HEARTBEAT_VERSION);
    let len = header.compute_size(hv).expect("size") + request.compute_size(HEARTBEAT_VERSION).expect("size");
    let mut buf = BytesMut::with_capacity(4 + len);
    buf.put_i32(len as i32);
    header.encode(&mut buf, hv).expect("encode");
    request.encode(&mut buf, HEARTBEAT_VERSION).expect("encode");
    buf.freeze()
}

fn heartbeat_encode() -> Case {
    let (ours, header, theirs) = heartbeat_input();
    let frame = ours.serialize(CORRELATION_ID, Some(CLIENT_ID)).expect("serialize");
    same_wire("heartbeat", &frame, &theirs_frame(&header, &theirs));
    Case {
        name: "heartbeat-request-encode",
        about: format!("request header v2 + Heartbeat v4, a whole frame in a new buffer ({} bytes)", frame.len()),
        throughput: Throughput::Elements(1),
        ours: Box::new(move || ours.serialize(CORRELATION_ID, Some(CLIENT_ID)).expect("serialize").len() as u64),
        theirs: Box::new(move || theirs_frame(&header, &theirs).len() as u64),
    }
}

fn heartbeat_decode() -> Case {
    let (ours, _, _) = heartbeat_input();
    // The frame after its size prefix, as read off a connection.
    let frame = ours.serialize(CORRELATION_ID, Some(CLIENT_ID)).expect("serialize").slice(4..);
    let f2 = frame.clone();
    Case {
        name: "heartbeat-request-decode",
        about: format!("the same frame: header (its version from the API key) then body ({} bytes)", frame.len()),
        throughput: Throughput::Elements(1),
        ours: Box::new(move || {
            let mut f = frame.clone();
            let (header, _) = kafka_wire::decode_request_header(&mut f).expect("header");
            let r = kafka_wire::heartbeat::v4::Request::from_bytes(f).expect("decode");
            header.correlation_id as u64 + r.generation_id as u64 + r.member_id.len() as u64
        }),
        theirs: Box::new(move || {
            let mut f = f2.clone();
            let header = kafka_protocol::protocol::decode_request_header_from_buffer(&mut f).expect("header");
            let r = kp::HeartbeatRequest::decode(&mut f, header.request_api_version).expect("decode");
            header.correlation_id as u64 + r.generation_id as u64 + r.member_id.len() as u64
        }),
    }
}

// ---- record batches: 10,000 records of 100 bytes --------------------------------------------

const BATCH_RECORDS: u64 = 10_000;

fn codec_name(c: Compression) -> &'static str {
    c.name()
}

fn their_compression(c: Compression) -> kpr::Compression {
    match c {
        Compression::None => kpr::Compression::None,
        Compression::Gzip => kpr::Compression::Gzip,
        Compression::Snappy => kpr::Compression::Snappy,
        Compression::Lz4 => kpr::Compression::Lz4,
        Compression::Zstd => kpr::Compression::Zstd,
    }
}

fn our_batch(c: Compression, records: &[NewRecord]) -> RecordBatch {
    let mut b = BatchBuilder::new(c);
    for r in records {
        b.push(r).expect("push");
    }
    b.build().expect("build")
}

fn batch_decode(c: Compression) -> Case {
    let records: Vec<NewRecord> = (0..BATCH_RECORDS).map(|i| new_record(i, VALUE_LEN)).collect();
    // One set of bytes for both: written by kafka-wire (kafka-protocol's encoder makes the same
    // uncompressed batch, see `batch-encode-none`; compressed bytes differ by codec library).
    let wire = our_batch(c, &records).to_bytes().expect("encode");
    let w2 = wire.clone();
    let name: &'static str = match c {
        Compression::None => "batch-decode-none",
        Compression::Gzip => "batch-decode-gzip",
        Compression::Snappy => "batch-decode-snappy",
        Compression::Lz4 => "batch-decode-lz4",
        Compression::Zstd => "batch-decode-zstd",
    };
    Case {
        name,
        about: format!(
            "one batch of {BATCH_RECORDS} records of {VALUE_LEN} bytes, {} ({} bytes), every record visited",
            codec_name(c),
            wire.len()
        ),
        throughput: Throughput::Elements(BATCH_RECORDS),
        // Records borrowed from the batch's buffer: how a consumer that only reads each record
        // visits them (kafka-protocol has one way: a `Vec` of owned records).
        ours: Box::new(move || {
            let batch = RecordBatch::decode(&mut wire.clone()).expect("batch");
            let mut sum = 0u64;
            for r in batch.records().expect("records").borrowed() {
                let r = r.expect("record");
                sum = sum.wrapping_add(touch_slices(r.offset, r.timestamp, r.key, r.value));
            }
            sum
        }),
        theirs: Box::new(move || {
            let set = kpr::RecordBatchDecoder::decode(&mut w2.clone()).expect("batch");
            let mut sum = 0u64;
            for r in &set.records {
                sum = sum.wrapping_add(touch(r.offset, r.timestamp, r.key.as_ref(), r.value.as_ref()));
            }
            sum
        }),
    }
}

/// `batch-decode-none` with owned records (`Bytes` keys and values, a reference count each).
fn batch_decode_owned() -> Case {
    let mut case = batch_decode(Compression::None);
    let wire = batch_wire(Compression::None);
    case.name = "batch-decode-owned";
    case.about = format!("{}, as owned records", case.about);
    case.ours = Box::new(move || {
        let batch = RecordBatch::decode(&mut wire.clone()).expect("batch");
        let mut sum = 0u64;
        for r in batch.records().expect("records") {
            let r = r.expect("record");
            sum = sum.wrapping_add(touch(r.offset, r.timestamp, r.key.as_ref(), r.value.as_ref()));
        }
        sum
    });
    case
}

fn batch_encode(c: Compression) -> Case {
    let ours: Vec<NewRecord> = (0..BATCH_RECORDS).map(|i| new_record(i, VALUE_LEN)).collect();
    let theirs: Vec<kpr::Record> = (0..BATCH_RECORDS).map(|i| their_record(i, VALUE_LEN)).collect();
    let options = kpr::RecordEncodeOptions { version: 2, compression: their_compression(c) };
    let ours_wire = our_batch(c, &ours).to_bytes().expect("encode");
    if c == Compression::None {
        let mut b = BytesMut::new();
        kpr::RecordBatchEncoder::encode(&mut b, &theirs, &options).expect("encode");
        same_wire("batch", &ours_wire, &b.freeze());
    }
    let name: &'static str = match c {
        Compression::None => "batch-encode-none",
        Compression::Gzip => "batch-encode-gzip",
        Compression::Snappy => "batch-encode-snappy",
        Compression::Lz4 => "batch-encode-lz4",
        Compression::Zstd => "batch-encode-zstd",
    };
    let (mut b1, mut b2) = (BytesMut::new(), BytesMut::new());
    Case {
        name,
        about: format!(
            "the same {BATCH_RECORDS} records into one batch, {} ({} bytes from kafka-wire)",
            codec_name(c),
            ours_wire.len()
        ),
        throughput: Throughput::Elements(BATCH_RECORDS),
        // The checksum is the record count: compressed sizes differ between codec libraries.
        ours: Box::new(move || {
            let batch = our_batch(c, &ours);
            b1.clear();
            batch.encode(&mut b1).expect("encode");
            batch.record_count() as u64
        }),
        theirs: Box::new(move || {
            b2.clear();
            kpr::RecordBatchEncoder::encode(&mut b2, &theirs, &options).expect("encode");
            i32::from_be_bytes(b2[57..61].try_into().expect("4 bytes")) as u64
        }),
    }
}

// ---- the decode inputs, for the allocation test ----------------------------------------------

/// The Fetch response of `fetch-decode` on the wire.
pub fn fetch_wire() -> Bytes {
    ours_bytes(&fetch_input().ours)
}

/// The Produce request of `produce-decode` on the wire.
pub fn produce_wire() -> Bytes {
    ours_bytes(&produce_input().0)
}

/// The ApiVersions response of `api-versions-decode` on the wire.
pub fn api_versions_wire() -> Bytes {
    ours_bytes(&api_versions_input().0)
}

/// The frame of `heartbeat-request-decode`: header and body, after the size prefix.
pub fn heartbeat_frame() -> Bytes {
    heartbeat_input().0.serialize(CORRELATION_ID, Some(CLIENT_ID)).expect("serialize").slice(4..)
}

/// The batch of `batch-decode-*`: 10,000 records of 100 bytes, compressed with `c`.
pub fn batch_wire(c: Compression) -> Bytes {
    let records: Vec<NewRecord> = (0..BATCH_RECORDS).map(|i| new_record(i, VALUE_LEN)).collect();
    our_batch(c, &records).to_bytes().expect("encode")
}
