//! Interoperability with librdkafka (through the `rdkafka` crate), against its mock cluster:
//! - batches librdkafka produces with each codec are fetched raw (generated Fetch types over a
//!   plain TCP socket) and decoded;
//! - batches we build are produced raw (generated Produce types) and consumed by librdkafka,
//!   which checks their CRCs and must see the same keys, values, headers and timestamps;
//! - librdkafka's transactional batches decode, and it skips the commit marker we write.
//!
//! All in one test binary: librdkafka is expensive to build and start.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use kafka_wire::records::{Batch, BatchBuilder, Compression, ControlRecord, Header, NewRecord, Record};
use kafka_wire::{fetch, produce, Bytes, ErrorCode, Records, VersionedRequest};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header as RdHeader, Headers, Message as _, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, Timestamp, TopicPartitionList};

const T0: i64 = 1_700_000_000_000;
/// Only a hang reaches this (socket reads, librdkafka's flush, the consume loop, which waits
/// for records, not for time): each test takes a second or two alone.
const TIMEOUT: Duration = Duration::from_secs(300);

/// A blocking connection speaking the generated request types.
struct Conn {
    stream: TcpStream,
    correlation_id: i32,
}

impl Conn {
    fn connect(bootstrap: &str) -> Conn {
        let addr = bootstrap.split(',').next().unwrap().to_socket_addrs().unwrap().next().unwrap();
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        Conn { stream, correlation_id: 0 }
    }

    fn call<R: VersionedRequest>(&mut self, request: &R) -> R::Response {
        self.correlation_id += 1;
        let frame = request.serialize(self.correlation_id, Some("kafka-wire-tests")).unwrap();
        self.stream.write_all(&frame).unwrap();
        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size).unwrap();
        let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
        self.stream.read_exact(&mut body).unwrap();
        let (header, response) = (request.response_deserializer())(Bytes::from(body)).unwrap();
        assert_eq!(header.correlation_id, self.correlation_id);
        response
    }

    /// Every batch of partition 0 of `topic`, fetched raw (the mock returns one produced set per
    /// fetch).
    fn fetch_all(&mut self, topic: &str) -> Vec<Batch> {
        let mut batches = Vec::new();
        let mut offset = 0;
        loop {
            let request = fetch::v12::Request {
                max_wait_ms: 0,
                min_bytes: 0,
                topics: vec![fetch::v12::FetchTopic {
                    topic: topic.into(),
                    partitions: vec![fetch::v12::FetchPartition {
                        partition: 0,
                        fetch_offset: offset,
                        partition_max_bytes: 16 << 20,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            let response = self.call(&request);
            assert_eq!(response.error_code, ErrorCode::NONE);
            let partition = &response.responses[0].partitions[0];
            assert_eq!(partition.error_code, ErrorCode::NONE, "fetch {topic} at {offset}");
            if offset >= partition.high_watermark {
                return batches;
            }
            let records = partition.records.as_ref().expect("records below the high watermark");
            let mut set = records.batches();
            let before = batches.len();
            for b in &mut set {
                batches.push(b.unwrap_or_else(|e| panic!("{topic}: {e}")));
            }
            assert_eq!(set.truncated_len(), 0);
            assert!(batches.len() > before, "no progress at offset {offset}");
            offset = batches.last().unwrap().last_offset() + 1;
        }
    }

    fn produce(&mut self, topic: &str, records: Records) {
        let request = produce::v9::Request {
            acks: -1,
            timeout_ms: 10_000,
            topic_data: vec![produce::v9::TopicProduceData {
                name: topic.into(),
                partition_data: vec![produce::v9::PartitionProduceData {
                    index: 0,
                    records: Some(records),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let response = self.call(&request);
        let p = &response.responses[0].partition_responses[0];
        assert_eq!(p.error_code, ErrorCode::NONE, "produce to {topic}: {:?}", p.error_message);
    }
}

fn rd_codec(codec: Compression) -> &'static str {
    codec.name()
}

/// What we send and expect back: keys, values (compressible), headers with a repeated key and
/// a null value, distinct timestamps. Record 3 has no key, record 5 a null value.
fn sample(n: usize) -> Vec<NewRecord> {
    (0..n)
        .map(|i| NewRecord {
            timestamp: T0 + (i as i64) * 3,
            key: (i != 3).then(|| Bytes::from(format!("key-{i}"))),
            value: (i != 5).then(|| Bytes::from(format!("value {i}: {}", "all work and no play ".repeat(10)))),
            headers: match i % 3 {
                0 => Vec::new(),
                1 => vec![Header::new("h", Some(Bytes::from(format!("{i}"))))],
                _ => vec![
                    Header::new("dup", Some(Bytes::from_static(b"one"))),
                    Header::new("nil", None),
                    Header::new("dup", Some(Bytes::from_static(b"two"))),
                ],
            },
        })
        .collect()
}

fn assert_records_match(got: &[Record], want: &[NewRecord], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.offset, i as i64, "{what}: offset");
        assert_eq!(
            (g.timestamp, &g.key, &g.value, &g.headers),
            (w.timestamp, &w.key, &w.value, &w.headers),
            "{what}: record {i}"
        );
    }
}

fn records_of(batches: &[Batch]) -> Vec<Record> {
    batches.iter().flat_map(|b| b.records().unwrap().map(Result::unwrap)).collect()
}

fn producer(cluster: &MockCluster<'_, impl rdkafka::ClientContext>, extra: &[(&str, &str)]) -> BaseProducer {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", cluster.bootstrap_servers()).set("linger.ms", "50");
    for (k, v) in extra {
        config.set(*k, *v);
    }
    config.create().unwrap()
}

#[test]
fn batches_written_by_librdkafka_decode() {
    let cluster = MockCluster::new(1).unwrap();
    let mut conn = Conn::connect(&cluster.bootstrap_servers());
    let want = sample(40);
    for codec in Compression::ALL {
        let topic = format!("from-librdkafka-{codec}");
        cluster.create_topic(&topic, 1, 1).unwrap();
        let producer = producer(&cluster, &[("compression.codec", rd_codec(codec))]);
        for r in &want {
            let mut headers = OwnedHeaders::new();
            for h in &r.headers {
                headers = headers.insert(RdHeader { key: h.key.as_ref(), value: h.value.as_deref() });
            }
            let mut record = BaseRecord::<[u8], [u8]>::to(&topic).partition(0).timestamp(r.timestamp).headers(headers);
            if let Some(k) = &r.key {
                record = record.key(k.as_ref());
            }
            if let Some(v) = &r.value {
                record = record.payload(v.as_ref());
            }
            producer.send(record).map_err(|(e, _)| e).unwrap();
        }
        producer.flush(TIMEOUT).unwrap();

        let batches = conn.fetch_all(&topic);
        assert!(!batches.is_empty());
        for b in &batches {
            let Batch::V2(v2) = b else { panic!("librdkafka wrote magic {}", b.magic()) };
            assert_eq!(v2.compression(), codec, "{topic}");
            assert!(!v2.is_transactional() && !v2.is_control());
        }
        assert_records_match(&records_of(&batches), &want, &topic);
    }
}

#[test]
fn batches_we_build_are_consumed_by_librdkafka() {
    let cluster = MockCluster::new(1).unwrap();
    let mut conn = Conn::connect(&cluster.bootstrap_servers());
    let want = sample(40);
    for codec in Compression::ALL {
        let topic = format!("to-librdkafka-{codec}");
        cluster.create_topic(&topic, 1, 1).unwrap();
        // A transactional batch, a commit marker, a plain batch: one batch per produce request,
        // as Kafka requires. The control batch takes an offset but is not delivered.
        let mut first = BatchBuilder::new(codec).producer(1234, 0, 0).transactional(true);
        for r in &want[..25] {
            first.push(r).unwrap();
        }
        let mut marker = BatchBuilder::new(Compression::None).producer(1234, 0, -1).transactional(true).control(true);
        marker.push(&ControlRecord::Commit { coordinator_epoch: 0 }.to_record(T0)).unwrap();
        let mut second = BatchBuilder::new(codec);
        for r in &want[25..] {
            second.push(r).unwrap();
        }
        for b in [first, marker, second] {
            conn.produce(&topic, Records::from_batches(&[b.build().unwrap().into()]).unwrap());
        }

        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", cluster.bootstrap_servers())
            .set("group.id", "kafka-wire-tests")
            .set("enable.auto.commit", "false")
            .set("check.crcs", "true")
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, 0, Offset::Beginning).unwrap();
        consumer.assign(&tpl).unwrap();
        let deadline = Instant::now() + TIMEOUT;
        let mut got = Vec::new();
        while got.len() < want.len() {
            assert!(Instant::now() < deadline, "{topic}: {} of {} records consumed", got.len(), want.len());
            let Some(m) = consumer.poll(Duration::from_millis(500)) else {
                continue;
            };
            let m = m.unwrap_or_else(|e| panic!("{topic}: {e}"));
            let headers = m
                .headers()
                .map(|h| h.iter().map(|h| Header::new(h.key, h.value.map(Bytes::copy_from_slice))).collect())
                .unwrap_or_default();
            let Timestamp::CreateTime(timestamp) = m.timestamp() else { panic!("{topic}: {:?}", m.timestamp()) };
            let offset = m.offset();
            got.push((
                offset,
                NewRecord {
                    timestamp,
                    key: m.key().map(Bytes::copy_from_slice),
                    value: m.payload().map(Bytes::copy_from_slice),
                    headers,
                },
            ));
        }
        let offsets: Vec<i64> = got.iter().map(|(o, _)| *o).collect();
        let expected: Vec<i64> = (0..25).chain(26..41).collect();
        assert_eq!(offsets, expected, "{topic}: the marker takes offset 25");
        let got: Vec<NewRecord> = got.into_iter().map(|(_, r)| r).collect();
        assert_eq!(got, want, "{topic}");
    }
}

#[test]
fn transactional_batches_of_librdkafka_decode() {
    // librdkafka's mock cluster runs the transaction protocol but writes no markers into the
    // log, so this checks the data batches; control batches are checked the other way round
    // (librdkafka skips the commit marker we write, above).
    let cluster = MockCluster::new(1).unwrap();
    let topic = "transactions";
    cluster.create_topic(topic, 1, 1).unwrap();
    let producer = producer(&cluster, &[("transactional.id", "kafka-wire-txn"), ("compression.codec", "lz4")]);
    producer.init_transactions(TIMEOUT).unwrap();
    for commit in [true, false] {
        producer.begin_transaction().unwrap();
        for i in 0..3 {
            let value = format!("{commit} {i}|{}", "padding that compresses well ".repeat(8));
            producer
                .send(BaseRecord::<[u8], str>::to(topic).partition(0).timestamp(T0).payload(&value))
                .map_err(|(e, _)| e)
                .unwrap();
        }
        producer.flush(TIMEOUT).unwrap();
        if commit {
            producer.commit_transaction(TIMEOUT).unwrap();
        } else {
            producer.abort_transaction(TIMEOUT).unwrap();
        }
    }
    let mut conn = Conn::connect(&cluster.bootstrap_servers());
    let batches = conn.fetch_all(topic);
    let mut seen = Vec::new();
    let mut next_sequence = 0;
    for b in &batches {
        let Batch::V2(v2) = b else { panic!() };
        assert!(v2.is_transactional() && !v2.is_control());
        assert!(v2.producer_id >= 0 && v2.producer_epoch >= 0);
        assert_eq!(v2.base_sequence, next_sequence);
        assert_eq!(v2.compression(), Compression::Lz4);
        next_sequence += v2.record_count();
        for r in v2.records().unwrap() {
            let value = String::from_utf8(r.unwrap().value.unwrap().to_vec()).unwrap();
            seen.push(value.split('|').next().unwrap().to_string());
        }
    }
    assert_eq!(seen, ["true 0", "true 1", "true 2", "false 0", "false 1", "false 2"]);
}
