//! kafka-wire-client against Apache Kafka 4.4's own broker (kafka-wire-harness): every security
//! protocol, version negotiation and Metadata; 10,000 records in every codec through an
//! idempotent producer and back; a classic consumer group and a KIP-848 consumer group of two;
//! and a three-node cluster that loses a partition leader.
//!
//! One single-node cluster (plaintext, SASL and TLS listeners) serves every test but the
//! three-node one; each test uses topics and groups of its own. The client is a transport: the
//! producers and group members here are written with the generated request types.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_wire::records::{Batch, BatchBuilder, Compression, NewRecord};
use kafka_wire::{
    consumer_group_heartbeat, consumer_protocol_assignment as cpa, consumer_protocol_subscription as cps,
    create_topics, fetch, heartbeat, init_producer_id, join_group, leave_group, list_offsets, metadata, offset_commit,
    offset_fetch, produce, sync_group, ApiKey, ByteString, ErrorCode, Records, Uuid, VersionedRequest,
};
use kafka_wire_client::sasl::{SaslConfig, SaslMechanism};
use kafka_wire_client::tls::{rustls, TlsConfig};
use kafka_wire_client::{Client, ConnectionConfig, Error, Handle, Target};
use kafka_wire_harness::{KafkaCluster, KafkaConfig, Listener, TlsIdentity};

const USER: &str = "alice";
const PASSWORD: &str = "alice-secret";
/// The bound on waits for the cluster to catch up (leaders, rebalances): only a hang trips it.
const PATIENCE: Duration = Duration::from_secs(120);

/// The cluster most tests share, and the certificate its TLS listener presents.
struct Shared {
    cluster: KafkaCluster,
    certificate_der: Vec<u8>,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
        let tls = TlsIdentity::new(cert.cert.pem(), cert.key_pair.serialize_pem());
        let cluster = KafkaCluster::start(KafkaConfig::new().sasl_user(USER, PASSWORD).tls(tls)).unwrap();
        println!("1 node: JVM start to ApiVersions answered in {:?}", cluster.startup_time());
        Shared { cluster, certificate_der: cert.cert.der().to_vec() }
    })
}

/// Every connection here decodes strictly: a response with bytes after its body (fields this
/// codec would not know) fails the test instead of being read leniently.
fn strict() -> ConnectionConfig {
    let mut config = ConnectionConfig::default();
    config.reject_trailing_bytes = true;
    config
}

async fn plaintext_client(cluster: &KafkaCluster) -> Client {
    Client::connect(cluster.bootstrap_servers().split(','), strict()).await.unwrap()
}

/// A wait for the cluster to catch up: ask, and if the answer is not there yet, [`Patience::pause`]
/// (50 ms) and ask again; only a hang of [`PATIENCE`] fails the test.
struct Patience {
    what: &'static str,
    deadline: Instant,
    rounds: u32,
}

impl Patience {
    fn new(what: &'static str) -> Self {
        Patience { what, deadline: Instant::now() + PATIENCE, rounds: 0 }
    }

    async fn pause(&mut self) {
        assert!(Instant::now() < self.deadline, "{}: not within {PATIENCE:?}", self.what);
        self.rounds += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends `request` to `target` until neither the connection nor the answer's error code (read by
/// `code`) is retriable, as Kafka's clients do while a coordinator loads, a producer id block
/// is fetched from the controller or a new partition's leader is being set up.
async fn send_retrying<R: VersionedRequest>(
    client: &Client,
    target: &Target,
    request: &R,
    code: impl Fn(&R::Response) -> ErrorCode,
) -> R::Response {
    let handle = client.handle(target.clone());
    let mut patience = Patience::new("an answer without a retriable error");
    loop {
        match handle.send_versioned(request).await {
            Ok(r) => {
                let c = code(&r);
                handle.observe(c);
                if !c.is_retriable() {
                    return r;
                }
            }
            Err(e) if e.is_retriable() => {}
            Err(e) => panic!("{:?} to {target:?}: {e}", R::API_KEY),
        }
        patience.pause().await;
    }
}

/// CreateTopics v7; waits until the broker the client asks knows a leader for every partition.
/// Returns the topic id.
async fn create_topic(client: &Client, name: &str, partitions: i32, replication: i16) -> Uuid {
    let r = client
        .send_versioned(
            &Target::Controller,
            &create_topics::v7::Request {
                topics: vec![create_topics::v7::CreatableTopic {
                    name: name.into(),
                    num_partitions: partitions,
                    replication_factor: replication,
                    ..Default::default()
                }],
                timeout_ms: 30_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let t = &r.topics[0];
    assert_eq!((t.error_code, t.error_message.as_deref()), (ErrorCode::NONE, None), "CreateTopics {name}");
    assert_eq!((t.num_partitions, t.replication_factor), (partitions, replication));
    let topic_id = t.topic_id;
    assert!(!topic_id.is_zero());
    let mut patience = Patience::new("leaders of the new topic");
    loop {
        if client.reload_metadata(&[name]).await.is_ok() {
            let view = client.view();
            let ready = view.topics.get(name).is_some_and(|t| {
                t.partitions.len() == partitions as usize && t.partitions.values().all(|p| p.leader >= 0)
            });
            if ready {
                break;
            }
        }
        patience.pause().await;
    }
    topic_id
}

async fn init_producer(client: &Client) -> (i64, i16) {
    let request = init_producer_id::v5::Request {
        transactional_id: None,
        transaction_timeout_ms: 60_000,
        producer_id: -1,
        producer_epoch: -1,
        ..Default::default()
    };
    // The first producer id waits for a block of ids from the controller.
    let r = send_retrying(client, &Target::AnyBroker, &request, |r| r.error_code).await;
    assert_eq!(r.error_code, ErrorCode::NONE, "InitProducerId");
    assert!(r.producer_id >= 0 && r.producer_epoch >= 0);
    (r.producer_id, r.producer_epoch)
}

// ---------------------------------------------------------------------------------------------
// Security protocols, negotiation, Metadata

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_security_protocol_negotiates_and_reads_metadata() {
    let shared = shared();
    let cluster = &shared.cluster;
    let _logs = cluster.log_guard();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(shared.certificate_der.clone())).unwrap();
    let tls = TlsConfig::with_roots(roots).unwrap();
    let sasl = |mechanism| strict().sasl(SaslConfig::new(mechanism, USER, PASSWORD));
    let cases = [
        ("PLAINTEXT", Listener::Plaintext, strict()),
        ("SASL SCRAM-SHA-256", Listener::SaslPlaintext, sasl(SaslMechanism::ScramSha256)),
        ("SASL SCRAM-SHA-512", Listener::SaslPlaintext, sasl(SaslMechanism::ScramSha512)),
        ("SASL PLAIN", Listener::SaslPlaintext, sasl(SaslMechanism::Plain)),
        ("TLS", Listener::Ssl, strict().tls(tls)),
    ];
    for (name, listener, config) in cases {
        let addr = cluster.addr(1, listener).unwrap();
        let client = Client::connect([addr.clone()], config).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        // The bootstrap Metadata: this cluster, one broker, advertised on the listener used.
        let view = client.view();
        assert_eq!(view.cluster_id.as_deref(), Some(cluster.cluster_id()), "{name}");
        assert_eq!(view.controller_id, Some(1), "{name}");
        let brokers: Vec<String> = view.brokers.values().map(|b| b.addr()).collect();
        assert_eq!(brokers, std::slice::from_ref(&addr), "{name}");

        // Negotiation: for every API both sides know, the highest version both support.
        let connection = client.connection(&Target::Broker(1)).await.unwrap();
        let negotiated = connection.versions().await.unwrap();
        let mut common = 0;
        for api in ApiKey::ALL {
            let theirs = connection.broker_versions(*api).await.unwrap();
            let ours = api.versions();
            let both = theirs.intersect(ours);
            let want = (!both.is_empty()).then_some(both.max);
            assert_eq!(negotiated.get(*api), want, "{name}: {api:?} (broker {theirs}, ours {ours})");
            common += usize::from(want.is_some());
        }
        assert!(common >= 60, "{name}: only {common} APIs in common");
        for api in [ApiKey::Produce, ApiKey::Fetch, ApiKey::Metadata, ApiKey::ConsumerGroupHeartbeat] {
            assert!(negotiated.get(api).is_some(), "{name}: {api:?}");
        }

        // Metadata v12 asked directly: every topic, topic ids, the listener's own address.
        let r = connection
            .send_versioned(&metadata::v12::Request {
                topics: None,
                allow_auto_topic_creation: false,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(r.cluster_id.as_deref(), Some(cluster.cluster_id()));
        assert_eq!(r.brokers.len(), 1);
        assert_eq!(format!("{}:{}", r.brokers[0].host, r.brokers[0].port), addr);
        assert!(
            r.topics.iter().all(|t| t.error_code == ErrorCode::NONE && !t.topic_id.is_zero()),
            "{name}: {:?}",
            r.topics
        );
        println!("{name}: {common} APIs negotiated; Metadata lists {} topics", r.topics.len());
    }

    // Wrong credentials fail as an authentication error, with Kafka's error code.
    for mechanism in [SaslMechanism::ScramSha256, SaslMechanism::Plain] {
        let config = strict().sasl(SaslConfig::new(mechanism, USER, "wrong"));
        let err = Client::connect([cluster.addr(1, Listener::SaslPlaintext).unwrap()], config).await.unwrap_err();
        assert!(matches!(err, Error::Authentication { .. }), "{mechanism:?}: {err:?}");
        assert_eq!(err.code(), Some(ErrorCode::SASL_AUTHENTICATION_FAILED), "{mechanism:?}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Produce and fetch in every codec, idempotent

const RECORDS: usize = 10_000;
const BATCH: usize = 500;
const PARTITIONS: i32 = 3;

/// Record `i`: its key (none for every 7th), value and headers (none for every 5th; a null
/// header value for every 3rd).
fn record(i: usize) -> NewRecord {
    let mut r = NewRecord::new(1_700_000_000_000 + i as i64, format!("value {i:05} {}", "abcdefgh".repeat(i % 16)));
    if !i.is_multiple_of(7) {
        r = r.with_key(format!("key-{i}"));
    }
    if !i.is_multiple_of(5) {
        r = r.with_header("index", Some(Bytes::from(i.to_string())));
        r = r.with_header("null", if i.is_multiple_of(3) { None } else { Some(Bytes::from_static(b"")) });
    }
    r
}

/// Produce v13 (topic ids), acks=-1, one batch per request.
fn produce_request(topic_id: Uuid, partition: i32, batch: Records, acks: i16) -> produce::v13::Request {
    produce::v13::Request {
        acks,
        timeout_ms: 30_000,
        topic_data: vec![produce::v13::TopicProduceData {
            topic_id,
            partition_data: vec![produce::v13::PartitionProduceData {
                index: partition,
                records: Some(batch),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// (error code, base offset, log start offset) of the one partition in a Produce answer.
fn produced(r: &produce::v13::Response) -> (ErrorCode, i64, i64) {
    let p = &r.responses[0].partition_responses[0];
    (p.error_code, p.base_offset, p.log_start_offset)
}

async fn produce_and_fetch(codec: Compression) {
    let cluster = &shared().cluster;
    let _logs = cluster.log_guard();
    let started = Instant::now();
    let client = plaintext_client(cluster).await;
    let topic = format!("codec-{}", format!("{codec:?}").to_lowercase());
    let topic_id = create_topic(&client, &topic, PARTITIONS, 1).await;
    let (pid, epoch) = init_producer(&client).await;

    // Produce: record i goes to partition i % 3, 500 records per batch.
    let mut sent: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for p in 0..PARTITIONS {
        let leader = client.handle(Target::leader(&topic, p));
        let indexes: Vec<usize> = (0..RECORDS).filter(|i| *i as i32 % PARTITIONS == p).collect();
        let mut sequence = 0i32;
        let mut first_request = None;
        for chunk in indexes.chunks(BATCH) {
            let mut b = BatchBuilder::new(codec).producer(pid, epoch, sequence);
            for &i in chunk {
                b.push(&record(i)).unwrap();
            }
            let batch = Records::from(b.build().unwrap().to_bytes().unwrap());
            let request = produce_request(topic_id, p, batch, -1);
            // Right after CreateTopics the leader may not have set the partition up yet.
            let r = send_retrying(&client, leader.target(), &request, |r| produced(r).0).await;
            assert_eq!(
                produced(&r),
                (ErrorCode::NONE, i64::from(sequence), 0),
                "{codec:?} partition {p} sequence {sequence}"
            );
            first_request.get_or_insert(request);
            sequence += chunk.len() as i32;
        }
        // A retry of a batch among the last five is recognised: acknowledged with its first
        // offset, not appended (here the third batch of seven).
        let mut b = BatchBuilder::new(codec).producer(pid, epoch, 2 * BATCH as i32);
        for &i in &indexes[2 * BATCH..3 * BATCH] {
            b.push(&record(i)).unwrap();
        }
        let retry = produce_request(topic_id, p, Records::from(b.build().unwrap().to_bytes().unwrap()), -1);
        let r = leader.send_versioned(&retry).await.unwrap();
        assert_eq!(
            produced(&r),
            (ErrorCode::NONE, 2 * BATCH as i64, 0),
            "{codec:?} partition {p}: duplicate of batch 3"
        );
        // The first batch is too old for the duplicate window: an out-of-order sequence.
        let r = leader.send_versioned(&first_request.unwrap()).await.unwrap();
        assert_eq!(
            produced(&r).0,
            ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
            "{codec:?} partition {p}: retry of the first batch"
        );
        sent.insert(p, indexes);
    }
    let produced_in = started.elapsed();

    // Every partition's end offset is its record count: no duplicate was appended.
    let r = client
        .send_versioned(
            &Target::leader(&topic, 0),
            &list_offsets::v9::Request {
                replica_id: -1,
                isolation_level: 0,
                topics: vec![list_offsets::v9::ListOffsetsTopic {
                    name: topic.as_str().into(),
                    partitions: (0..PARTITIONS)
                        .map(|p| list_offsets::v9::ListOffsetsPartition {
                            partition_index: p,
                            current_leader_epoch: -1,
                            timestamp: -1,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for p in &r.topics[0].partitions {
        assert_eq!(p.error_code, ErrorCode::NONE);
        assert_eq!(p.offset, sent[&p.partition_index].len() as i64, "end offset of partition {}", p.partition_index);
    }

    // Fetch v18 (topic ids) from offset 0 to the end, checking every record and batch.
    for p in 0..PARTITIONS {
        let leader = client.handle(Target::leader(&topic, p));
        let want = &sent[&p];
        let mut position = 0i64;
        let mut batches = 0;
        while position < want.len() as i64 {
            let r = leader
                .send_versioned(&fetch::v18::Request {
                    max_wait_ms: 500,
                    min_bytes: 1,
                    max_bytes: 1 << 20,
                    isolation_level: 0,
                    session_id: 0,
                    session_epoch: -1,
                    topics: vec![fetch::v18::FetchTopic {
                        topic_id,
                        partitions: vec![fetch::v18::FetchPartition {
                            partition: p,
                            current_leader_epoch: -1,
                            fetch_offset: position,
                            last_fetched_epoch: -1,
                            log_start_offset: -1,
                            partition_max_bytes: 256 * 1024,
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(r.error_code, ErrorCode::NONE);
            let data = &r.responses[0].partitions[0];
            assert_eq!(r.responses[0].topic_id, topic_id);
            assert_eq!(data.error_code, ErrorCode::NONE, "fetch of partition {p} at {position}");
            assert_eq!(data.high_watermark, want.len() as i64);
            let records = data.records.as_ref().expect("records up to the high watermark");
            for batch in records.batches() {
                // The last batch may be cut at the byte limit: read up to it.
                let Ok(Batch::V2(batch)) = batch else { break };
                batches += 1;
                assert_eq!(batch.compression(), codec, "partition {p}: batch at {}", batch.base_offset);
                assert_eq!((batch.producer_id, batch.producer_epoch), (pid, epoch));
                assert_eq!(i64::from(batch.base_sequence), batch.base_offset, "one producer, one sequence per offset");
                for r in batch.records().unwrap() {
                    let r = r.unwrap();
                    if r.offset < position {
                        continue;
                    }
                    assert_eq!(r.offset, position);
                    let i = want[position as usize];
                    let expected = record(i);
                    assert_eq!(r.timestamp, expected.timestamp, "offset {position}");
                    assert_eq!(r.key, expected.key, "offset {position}");
                    assert_eq!(r.value, expected.value, "offset {position}");
                    let headers: Vec<(String, Option<Bytes>)> =
                        r.headers.iter().map(|h| (h.key.to_string(), h.value.clone())).collect();
                    let expected: Vec<(String, Option<Bytes>)> =
                        expected.headers.iter().map(|h| (h.key.to_string(), h.value.clone())).collect();
                    assert_eq!(headers, expected, "offset {position}");
                    position += 1;
                }
            }
        }
        assert_eq!(batches, want.len().div_ceil(BATCH), "partition {p}: batches as produced");
    }
    println!(
        "{codec:?}: {RECORDS} records produced in {produced_in:?}, all fetched back and checked in {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codec_none() {
    produce_and_fetch(Compression::None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codec_gzip() {
    produce_and_fetch(Compression::Gzip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codec_snappy() {
    produce_and_fetch(Compression::Snappy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codec_lz4() {
    produce_and_fetch(Compression::Lz4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codec_zstd() {
    produce_and_fetch(Compression::Zstd).await;
}

// ---------------------------------------------------------------------------------------------
// The classic group protocol

const PROTOCOL_TYPE: &str = "consumer";

/// A classic group member with a client of its own (a JoinGroup holds its connection until the
/// rebalance completes).
struct Member {
    client: Client,
    group: String,
    topic: String,
    member_id: String,
    generation: i32,
}

impl Member {
    async fn new(cluster: &KafkaCluster, group: &str, topic: &str) -> Member {
        Member {
            client: plaintext_client(cluster).await,
            group: group.into(),
            topic: topic.into(),
            member_id: String::new(),
            generation: -1,
        }
    }

    fn coordinator(&self) -> Handle {
        self.client.handle(Target::group_coordinator(&self.group))
    }

    /// JoinGroup v9 (again when Kafka asks for a member id first, KIP-394) and SyncGroup v5;
    /// the leader assigns partitions round-robin. Returns (generation, assigned partitions,
    /// members the leader saw).
    async fn join(&mut self, partitions: i32) -> (i32, Vec<i32>, usize) {
        let subscription = cps::AnyVersion::from(cps::v3::ConsumerProtocolSubscription {
            topics: vec![self.topic.as_str().into()],
            ..Default::default()
        })
        .to_versioned_bytes()
        .unwrap();
        let mut patience = Patience::new("JoinGroup without a retriable error");
        loop {
            let request = join_group::v9::Request {
                group_id: self.group.as_str().into(),
                session_timeout_ms: 30_000,
                rebalance_timeout_ms: 60_000,
                member_id: self.member_id.as_str().into(),
                protocol_type: PROTOCOL_TYPE.into(),
                protocols: vec![join_group::v9::JoinGroupRequestProtocol {
                    name: "roundrobin".into(),
                    metadata: subscription.clone(),
                    ..Default::default()
                }],
                reason: Some("test".into()),
                ..Default::default()
            };
            // The first use of a group may find its coordinator still loading.
            let r = match self.coordinator().send_versioned_within(&request, PATIENCE).await {
                Ok(r) => r,
                Err(e) if e.is_retriable() => {
                    patience.pause().await;
                    continue;
                }
                Err(e) => panic!("JoinGroup: {e}"),
            };
            match r.error_code {
                ErrorCode::MEMBER_ID_REQUIRED => {
                    self.member_id = r.member_id.to_string();
                    continue;
                }
                ErrorCode::NONE => self.member_id = r.member_id.to_string(),
                e if e.is_retriable() => {
                    self.coordinator().observe(e);
                    patience.pause().await;
                    continue;
                }
                e => panic!("JoinGroup: {e}"),
            }
            assert_eq!(r.protocol_type.as_deref(), Some(PROTOCOL_TYPE));
            assert_eq!(r.protocol_name.as_deref(), Some("roundrobin"));
            self.generation = r.generation_id;
            let leader = *r.leader == *r.member_id;
            let seen = r.members.len();
            let assignments = if leader {
                for m in &r.members {
                    let sub = cps::AnyVersion::decode_versioned(m.metadata.clone()).unwrap();
                    assert_eq!(sub, cps::AnyVersion::decode_versioned(subscription.clone()).unwrap());
                }
                let ids: Vec<&ByteString> = r.members.iter().map(|m| &m.member_id).collect();
                ids.iter()
                    .enumerate()
                    .map(|(n, id)| {
                        let mine: Vec<i32> = (0..partitions).filter(|p| *p as usize % ids.len() == n).collect();
                        let assignment = cpa::AnyVersion::from(cpa::v3::ConsumerProtocolAssignment {
                            assigned_partitions: vec![cpa::v3::TopicPartition {
                                topic: self.topic.as_str().into(),
                                partitions: mine.as_slice().into(),
                            }],
                            ..Default::default()
                        });
                        sync_group::v5::SyncGroupRequestAssignment {
                            member_id: (*id).clone(),
                            assignment: assignment.to_versioned_bytes().unwrap(),
                            ..Default::default()
                        }
                    })
                    .collect()
            } else {
                assert!(r.members.is_empty(), "only the leader sees the members");
                Vec::new()
            };
            let s = self
                .coordinator()
                .send_versioned_within(
                    &sync_group::v5::Request {
                        group_id: self.group.as_str().into(),
                        generation_id: self.generation,
                        member_id: self.member_id.as_str().into(),
                        protocol_type: Some(PROTOCOL_TYPE.into()),
                        protocol_name: r.protocol_name.clone(),
                        assignments,
                        ..Default::default()
                    },
                    PATIENCE,
                )
                .await
                .unwrap();
            match s.error_code {
                ErrorCode::NONE => {}
                ErrorCode::REBALANCE_IN_PROGRESS => continue,
                e => panic!("SyncGroup: {e}"),
            }
            let cpa::AnyVersion::V3(assignment) = cpa::AnyVersion::decode_versioned(s.assignment.clone()).unwrap()
            else {
                panic!("assignment version")
            };
            let mine = assignment.assigned_partitions.iter().flat_map(|t| t.partitions.iter().copied()).collect();
            return (self.generation, mine, seen);
        }
    }

    /// Heartbeat v4: `Ok(())`, or the error code.
    async fn heartbeat(&self) -> ErrorCode {
        let r = self
            .coordinator()
            .send_versioned(&heartbeat::v4::Request {
                group_id: self.group.as_str().into(),
                generation_id: self.generation,
                member_id: self.member_id.as_str().into(),
                ..Default::default()
            })
            .await
            .unwrap();
        r.error_code
    }

    async fn commit(&self, offsets: &[(i32, i64)]) -> Vec<(i32, ErrorCode)> {
        let r = self
            .coordinator()
            .send_versioned(&offset_commit::v9::Request {
                group_id: self.group.as_str().into(),
                generation_id_or_member_epoch: self.generation,
                member_id: self.member_id.as_str().into(),
                topics: vec![offset_commit::v9::OffsetCommitRequestTopic {
                    name: self.topic.as_str().into(),
                    partitions: offsets
                        .iter()
                        .map(|&(p, offset)| offset_commit::v9::OffsetCommitRequestPartition {
                            partition_index: p,
                            committed_offset: offset,
                            committed_leader_epoch: -1,
                            committed_metadata: Some(format!("{} at {offset}", self.member_id).into()),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        r.topics.iter().flat_map(|t| t.partitions.iter()).map(|p| (p.partition_index, p.error_code)).collect()
    }

    async fn leave(&self) {
        let r = self
            .coordinator()
            .send_versioned(&leave_group::v5::Request {
                group_id: self.group.as_str().into(),
                members: vec![leave_group::v5::MemberIdentity {
                    member_id: self.member_id.as_str().into(),
                    reason: Some("done".into()),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(r.error_code, ErrorCode::NONE);
        assert_eq!(r.members.len(), 1);
        assert_eq!((&*r.members[0].member_id, r.members[0].error_code), (self.member_id.as_str(), ErrorCode::NONE));
    }
}

/// OffsetFetch v9 of every partition of `topic` in `group`: partition → (offset, metadata).
async fn committed(client: &Client, group: &str, topic: &str, partitions: i32) -> BTreeMap<i32, (i64, String)> {
    let r = client
        .send_versioned(
            &Target::group_coordinator(group),
            &offset_fetch::v9::Request {
                groups: vec![offset_fetch::v9::OffsetFetchRequestGroup {
                    group_id: group.into(),
                    member_id: None,
                    member_epoch: -1,
                    topics: Some(vec![offset_fetch::v9::OffsetFetchRequestTopics {
                        name: topic.into(),
                        partition_indexes: (0..partitions).collect::<Vec<_>>().as_slice().into(),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }],
                require_stable: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let g = &r.groups[0];
    assert_eq!(g.error_code, ErrorCode::NONE);
    g.topics
        .iter()
        .flat_map(|t| t.partitions.iter())
        .map(|p| {
            assert_eq!(p.error_code, ErrorCode::NONE);
            (p.partition_index, (p.committed_offset, p.metadata.as_deref().unwrap_or("").to_owned()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_group_of_two() {
    let cluster = &shared().cluster;
    let _logs = cluster.log_guard();
    let (group, topic, partitions) = ("classic-group", "classic-topic", 4);
    let admin = plaintext_client(cluster).await;
    create_topic(&admin, topic, partitions, 1).await;

    // A joins alone: generation 1, every partition.
    let mut a = Member::new(cluster, group, topic).await;
    let (gen_a, mine_a, seen) = a.join(partitions).await;
    assert_eq!((mine_a.len(), seen), (4, 1));
    assert_eq!(a.heartbeat().await, ErrorCode::NONE);

    // B joins: the group rebalances; A learns it from its heartbeat and joins again.
    let mut b = Member::new(cluster, group, topic).await;
    let b_task = tokio::spawn(async move {
        let joined = b.join(partitions).await;
        (b, joined)
    });
    let mut patience = Patience::new("A's heartbeat announces the rebalance");
    let code = loop {
        let code = a.heartbeat().await;
        if code != ErrorCode::NONE {
            break code;
        }
        patience.pause().await;
    };
    assert_eq!(code, ErrorCode::REBALANCE_IN_PROGRESS);
    let (gen2_a, mine_a, seen_a) = a.join(partitions).await;
    let (b, (gen2_b, mine_b, seen_b)) = b_task.await.unwrap();
    assert_eq!(gen2_a, gen2_b);
    assert!(gen2_a > gen_a, "{gen_a} -> {gen2_a}");
    assert_eq!(seen_a.max(seen_b), 2, "the leader saw both members");
    let all: BTreeSet<i32> = mine_a.iter().chain(&mine_b).copied().collect();
    assert_eq!(all, (0..partitions).collect(), "{mine_a:?} {mine_b:?}");
    assert_eq!(mine_a.len(), 2);
    assert_eq!(a.heartbeat().await, ErrorCode::NONE);
    assert_eq!(b.heartbeat().await, ErrorCode::NONE);

    // Commits with metadata, by each member for its partitions; a stale generation is fenced.
    let offsets_a: Vec<(i32, i64)> = mine_a.iter().map(|&p| (p, 10 + i64::from(p))).collect();
    let offsets_b: Vec<(i32, i64)> = mine_b.iter().map(|&p| (p, 20 + i64::from(p))).collect();
    assert!(a.commit(&offsets_a).await.iter().all(|&(_, e)| e == ErrorCode::NONE));
    assert!(b.commit(&offsets_b).await.iter().all(|&(_, e)| e == ErrorCode::NONE));
    let stale = Member { generation: gen_a, ..Member::new(cluster, group, topic).await };
    let stale = Member { member_id: a.member_id.clone(), ..stale };
    assert!(stale.commit(&offsets_a).await.iter().all(|&(_, e)| e == ErrorCode::ILLEGAL_GENERATION));
    let offsets = committed(&admin, group, topic, partitions).await;
    for (p, offset) in offsets_a.iter().chain(&offsets_b) {
        let owner = if mine_a.contains(p) { &a.member_id } else { &b.member_id };
        assert_eq!(offsets[p], (*offset, format!("{owner} at {offset}")), "partition {p}");
    }

    // B leaves: A's heartbeat announces the rebalance, A rejoins alone and gets everything.
    b.leave().await;
    assert_eq!(a.heartbeat().await, ErrorCode::REBALANCE_IN_PROGRESS);
    let (gen3, mine, seen) = a.join(partitions).await;
    assert!(gen3 > gen2_a);
    assert_eq!((mine.len(), seen), (4, 1));
    a.leave().await;
    // The commits outlive the members.
    assert_eq!(committed(&admin, group, topic, partitions).await, offsets);
}

// ---------------------------------------------------------------------------------------------
// KIP-848: the consumer group protocol

/// A member of a KIP-848 consumer group: ConsumerGroupHeartbeat v1 with a member id of its own
/// (KIP-1082), acknowledging each assignment in its next heartbeat.
struct ConsumerMember {
    client: Client,
    group: String,
    topic: String,
    member_id: String,
    epoch: i32,
    owned: BTreeSet<i32>,
}

impl ConsumerMember {
    async fn new(cluster: &KafkaCluster, group: &str, topic: &str, member_id: Uuid) -> Self {
        ConsumerMember {
            client: plaintext_client(cluster).await,
            group: group.into(),
            topic: topic.into(),
            member_id: member_id.to_string(),
            epoch: 0,
            owned: BTreeSet::new(),
        }
    }

    /// One full heartbeat (joins with epoch 0, leaves with -1); adopts the assignment it gets.
    async fn heartbeat(&mut self, topic_id: Uuid) -> consumer_group_heartbeat::v1::Response {
        let leaving = self.epoch == -1;
        let request = consumer_group_heartbeat::v1::Request {
            group_id: self.group.as_str().into(),
            member_id: self.member_id.as_str().into(),
            member_epoch: self.epoch,
            instance_id: None,
            rack_id: None,
            rebalance_timeout_ms: 60_000,
            subscribed_topic_names: Some(vec![self.topic.as_str().into()]),
            subscribed_topic_regex: None,
            server_assignor: Some("uniform".into()),
            // What it owns now (Kafka wants none listed when joining).
            topic_partitions: Some(if self.owned.is_empty() {
                Vec::new()
            } else {
                vec![consumer_group_heartbeat::v1::TopicPartitions {
                    topic_id,
                    partitions: self.owned.iter().copied().collect::<Vec<_>>().as_slice().into(),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        };
        let coordinator = Target::group_coordinator(&self.group);
        let r = send_retrying(&self.client, &coordinator, &request, |r| r.error_code).await;
        assert_eq!((r.error_code, r.error_message.as_deref()), (ErrorCode::NONE, None), "{}", self.member_id);
        if leaving {
            return r;
        }
        assert_eq!(r.member_id.as_deref(), Some(self.member_id.as_str()));
        assert!(r.member_epoch >= self.epoch, "epochs only grow: {} -> {}", self.epoch, r.member_epoch);
        assert!(r.heartbeat_interval_ms > 0);
        self.epoch = r.member_epoch;
        if let Some(assignment) = &r.assignment {
            self.owned = assignment
                .topic_partitions
                .iter()
                .inspect(|t| assert_eq!(t.topic_id, topic_id))
                .flat_map(|t| t.partitions.iter().copied())
                .collect();
        }
        r
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_group_protocol_of_two() {
    let cluster = &shared().cluster;
    let _logs = cluster.log_guard();
    let (group, topic, partitions) = ("kip848-group", "kip848-topic", 4);
    let admin = plaintext_client(cluster).await;
    let topic_id = create_topic(&admin, topic, partitions, 1).await;
    let all: BTreeSet<i32> = (0..partitions).collect();

    // A joins: epoch 0 -> the group's epoch, and every partition.
    let mut a =
        ConsumerMember::new(cluster, group, topic, Uuid::from_u128(0xa1a1_0000_0000_4000_8000_0000_0000_0001)).await;
    a.heartbeat(topic_id).await;
    assert!(a.epoch > 0);
    let joined_epoch = a.epoch;
    let mut patience = Patience::new("A owns every partition");
    while a.owned != all {
        patience.pause().await;
        a.heartbeat(topic_id).await;
    }

    // B joins: A gives up half (revokes first), then B gets them; epochs move forward.
    let mut b =
        ConsumerMember::new(cluster, group, topic, Uuid::from_u128(0xb2b2_0000_0000_4000_8000_0000_0000_0002)).await;
    b.heartbeat(topic_id).await;
    assert!(b.epoch > 0 && b.owned.is_empty(), "B joins with nothing until A has revoked");
    let mut patience = Patience::new("A and B split the partitions");
    loop {
        a.heartbeat(topic_id).await;
        b.heartbeat(topic_id).await;
        assert!(a.owned.is_disjoint(&b.owned), "a partition is never owned twice: {:?} {:?}", a.owned, b.owned);
        let both: BTreeSet<i32> = a.owned.union(&b.owned).copied().collect();
        if both == all && a.owned.len() == 2 && a.epoch == b.epoch {
            break;
        }
        patience.pause().await;
    }
    assert!(a.epoch > joined_epoch);
    println!("KIP-848: two members reconciled at epoch {} after {} pauses", a.epoch, patience.rounds);

    // A leaves (epoch -1): B ends up with every partition at a higher epoch.
    let split_epoch = b.epoch;
    a.epoch = -1;
    let r = a.heartbeat(topic_id).await;
    assert_eq!(r.member_epoch, -1);
    let mut patience = Patience::new("B owns every partition");
    while b.owned != all {
        patience.pause().await;
        b.heartbeat(topic_id).await;
    }
    assert!(b.epoch > split_epoch);
    b.epoch = -1;
    assert_eq!(b.heartbeat(topic_id).await.member_epoch, -1);
}

// ---------------------------------------------------------------------------------------------
// Three nodes: the partition leader's process dies

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_follow_the_new_leader() {
    // Brokers heartbeat every second and are fenced after 6 s without one (Kafka: 2 s, 9 s).
    let config = KafkaConfig::new()
        .nodes(3)
        .broker_property("broker.heartbeat.interval.ms", "1000")
        .broker_property("broker.session.timeout.ms", "6000");
    let cluster = tokio::task::spawn_blocking(move || KafkaCluster::start(config)).await.unwrap().unwrap();
    println!("3 nodes: JVM start to ApiVersions answered in {:?}", cluster.startup_time());
    // Owned by the test: its Drop prints the end of each log if the test fails.
    let cluster = Arc::new(cluster);
    let client = plaintext_client(&cluster).await;
    assert_eq!(client.view().brokers.len(), 3);
    let topic = "replicated";
    let topic_id = create_topic(&client, topic, 1, 3).await;
    let (pid, epoch) = init_producer(&client).await;
    let leader = client.handle(Target::leader(topic, 0));

    // Idempotent batches of 100; a batch whose answer was lost is sent again as it was.
    let mut sequence = 0i32;
    let mut produce_batch = |n: i32| {
        let mut b = BatchBuilder::new(Compression::Lz4).producer(pid, epoch, sequence);
        for i in sequence..sequence + n {
            b.push(&NewRecord::new(1_700_000_000_000 + i64::from(i), format!("record {i}"))).unwrap();
        }
        let base = sequence;
        sequence += n;
        (base, produce_request(topic_id, 0, Records::from(b.build().unwrap().to_bytes().unwrap()), -1))
    };
    // Returns how many attempts it took.
    let send = |leader: Handle, base: i32, request: produce::v13::Request| async move {
        let mut patience = Patience::new("a produce the leader accepts");
        loop {
            match leader.send_versioned(&request).await {
                Ok(r) => {
                    let (code, offset, _) = produced(&r);
                    if !leader.observe(code) && !code.is_retriable() {
                        assert_eq!((code, offset), (ErrorCode::NONE, i64::from(base)));
                        return patience.rounds + 1;
                    }
                }
                Err(e) if e.is_retriable() => {}
                Err(e) => panic!("produce: {e}"),
            }
            patience.pause().await;
        }
    };
    for _ in 0..5 {
        let (base, request) = produce_batch(100);
        send(leader.clone(), base, request).await;
    }
    let view = client.view();
    let old_leader = view.topics[topic].partitions[&0].leader;
    assert_eq!(view.topics[topic].partitions[&0].isr.len(), 3);

    // The leader's JVM is killed; the next batches go to whoever leads now.
    let killed = Instant::now();
    cluster.kill_node(old_leader).unwrap();
    let mut retries = 0;
    for _ in 0..5 {
        let (base, request) = produce_batch(100);
        retries += send(leader.clone(), base, request).await - 1;
    }
    let new_leader = client.view().topics[topic].partitions[&0].leader;
    assert_ne!(new_leader, old_leader);
    println!(
        "leader {old_leader} killed; producing resumed on leader {new_leader} after {:?} ({retries} retries)",
        killed.elapsed()
    );

    // Everything is there once, in order, on the new leader.
    let mut position = 0i64;
    while position < i64::from(sequence) {
        let r = leader
            .send_versioned(&fetch::v18::Request {
                max_wait_ms: 500,
                min_bytes: 1,
                max_bytes: 1 << 20,
                session_epoch: -1,
                topics: vec![fetch::v18::FetchTopic {
                    topic_id,
                    partitions: vec![fetch::v18::FetchPartition {
                        partition: 0,
                        current_leader_epoch: -1,
                        fetch_offset: position,
                        last_fetched_epoch: -1,
                        log_start_offset: -1,
                        partition_max_bytes: 1 << 20,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        let data = &r.responses[0].partitions[0];
        assert_eq!(data.error_code, ErrorCode::NONE);
        for batch in data.records.as_ref().unwrap().batches() {
            let Ok(Batch::V2(batch)) = batch else { break };
            for record in batch.records().unwrap() {
                let record = record.unwrap();
                assert_eq!(record.offset, position);
                assert_eq!(record.value.as_deref(), Some(format!("record {position}").as_bytes()));
                position += 1;
            }
        }
    }
    assert_eq!(position, i64::from(sequence));

    // The killed node comes back and catches up: in sync again.
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.restart_node(old_leader)).await.unwrap().unwrap();
    let mut patience = Patience::new("the restarted node back in the ISR");
    loop {
        client.reload_metadata(&[topic]).await.unwrap();
        if client.view().topics[topic].partitions[&0].isr.len() == 3 {
            break;
        }
        patience.pause().await;
    }
}

// ---------------------------------------------------------------------------------------------
// The codec against Kafka's bytes

/// APIs without side effects, whose generated sample requests can go to the shared cluster.
const READ_ONLY: &[ApiKey] = &[
    ApiKey::Metadata,
    ApiKey::FindCoordinator,
    ApiKey::ListOffsets,
    ApiKey::Fetch,
    ApiKey::OffsetFetch,
    ApiKey::DescribeGroups,
    ApiKey::ListGroups,
    ApiKey::OffsetForLeaderEpoch,
    ApiKey::DescribeAcls,
    ApiKey::DescribeConfigs,
    ApiKey::DescribeLogDirs,
    ApiKey::DescribeDelegationToken,
    ApiKey::ListPartitionReassignments,
    ApiKey::DescribeClientQuotas,
    ApiKey::DescribeUserScramCredentials,
    ApiKey::DescribeQuorum,
    ApiKey::DescribeCluster,
    ApiKey::DescribeProducers,
    ApiKey::DescribeTransactions,
    ApiKey::ListTransactions,
    ApiKey::ConsumerGroupDescribe,
    ApiKey::ListConfigResources,
    ApiKey::DescribeTopicPartitions,
    ApiKey::ShareGroupDescribe,
    ApiKey::StreamsGroupDescribe,
    ApiKey::DescribeShareGroupOffsets,
];

/// Sends one frame on a connection of its own; `None` if Kafka closes it without an answer.
fn exchange(addr: &str, frame: &[u8]) -> Option<Bytes> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(frame).unwrap();
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).ok()?;
    let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
    stream.read_exact(&mut body).unwrap();
    Some(Bytes::from(body))
}

/// For every version of every read-only API that Kafka and this codec share: the generated
/// sample request goes to Kafka as raw bytes; Kafka's answer decodes strictly, and re-encodes to
/// exactly the bytes Kafka sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_re_encode_to_kafkas_bytes() {
    let cluster = &shared().cluster;
    let _logs = cluster.log_guard();
    let addr = cluster.addr(1, Listener::Plaintext).unwrap();
    let connection = kafka_wire_client::Connection::connect(addr.clone(), strict()).await.unwrap();
    let (mut identical, mut closed) = (0, Vec::new());
    for &api in READ_ONLY {
        let both = connection.broker_versions(api).await.unwrap().intersect(api.versions());
        for version in (!both.is_empty()).then_some(both.min..=both.max).into_iter().flatten() {
            let request = kafka_wire::AnyRequest::sample(api, version).expect("a sample of every version");
            let frame = request.serialize(version.into(), Some("kafka-wire-tests")).unwrap();
            let answer = tokio::task::spawn_blocking({
                let addr = addr.clone();
                move || exchange(&addr, &frame)
            })
            .await
            .unwrap();
            let Some(answer) = answer else {
                closed.push(format!("{api:?} v{version}"));
                continue;
            };
            let (header, response) = request.response_deserializer()(answer.clone())
                .unwrap_or_else(|e| panic!("{api:?} v{version}: Kafka's answer does not decode: {e}\n{answer:02x?}"));
            assert_eq!(header.correlation_id, i32::from(version));
            let again = response.serialize(header.correlation_id).unwrap();
            assert!(
                again[4..] == answer[..],
                "{api:?} v{version}: re-encoded differently\nKafka: {answer:02x?}\nours:  {:02x?}",
                &again[4..]
            );
            identical += 1;
        }
    }
    println!("{identical} answers re-encoded byte for byte; Kafka closed the connection on {closed:?}");
    assert!(identical >= 100, "only {identical} answers compared");
}
