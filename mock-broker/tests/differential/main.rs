//! The mock broker against Apache Kafka 4.4 (differential): each test sends the same scripted
//! request sequence to a three-broker `MockCluster` and to a real three-node Kafka cluster
//! (kafka-wire-harness), and compares the answers field by field.
//!
//! Before comparing, each answer goes through the normalisation of its message family (the
//! `norm_*` functions below), which removes only what must differ between two clusters: node
//! ids (mapped to their rank, or to their role: the partition's leader), hosts and ports,
//! cluster, topic, producer and member ids, throttle times. Everything else must be equal; the
//! differences that remain on purpose are listed in `KNOWN` with their reason, and in
//! `mock-broker/README.md` ("Differences from Apache Kafka").
//!
//! The mock is configured as the harness configures Kafka (Kafka's defaults for replication
//! factor 1, group session timeouts from 6 s, no initial rebalance delay).

use std::collections::BTreeMap;
use std::fmt::{Debug, Write as _};
use std::io::{Read, Write as _};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kafka_wire::records::{Batch, BatchBuilder, Compression, NewRecord};
use kafka_wire::{
    api_versions, create_topics, describe_configs, fetch, find_coordinator, heartbeat, init_producer_id, join_group,
    leave_group, list_offsets, metadata, offset_commit, offset_fetch, produce, sync_group, ApiKey, ErrorCode, Records,
    Uuid, VersionedRequest,
};
use kafka_wire_client::{Client, ConnectionConfig, Target};
use kafka_wire_harness::{KafkaCluster, KafkaConfig};
use kafka_wire_mock::{MockCluster, MockConfig};

/// Differences kept on purpose: (test, step, reason). Each is in mock-broker/README.md
/// ("Differences from Apache Kafka").
const KNOWN: &[(&str, &str, &str)] = &[
    ("describe_configs", "a topic: with documentation", "the mock has no documentation text"),
    (
        "admin_records_and_cluster",
        "DescribeLogDirs: disk sizes",
        "the mock's log directories are in memory: their total and usable bytes are unknown (-1)",
    ),
    ("versions", "ApiVersions v3: the other APIs", "the mock serves a subset of Kafka's APIs"),
    ("versions", "ApiVersions v3: features", "the mock implements none of the features Kafka advertises"),
];

/// Differences that come and go with Kafka's timing: (test, step, reason), not required to
/// show. Each is in mock-broker/README.md too.
const SOMETIMES: &[(&str, &str, &str)] = &[(
    "versions",
    "ApiVersions v3: InitProducerId",
    "Kafka 4.4 advertises InitProducerId up to v5 or up to v6, varying between runs (seen: v6 in idle runs, v5 \
     in loaded ones and in every run of the every-API test); the mock serves the codec's v0-6",
)];

/// The bound on waits for a cluster to catch up: only a hang trips it.
const PATIENCE: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------
// The two systems

fn kafka() -> &'static KafkaCluster {
    static KAFKA: OnceLock<KafkaCluster> = OnceLock::new();
    KAFKA.get_or_init(|| {
        let cluster = KafkaCluster::start(KafkaConfig::new().nodes(3)).unwrap();
        println!("3 nodes: JVM start to ApiVersions answered in {:?}", cluster.startup_time());
        cluster
    })
}

/// The mock, configured as the harness configures Kafka.
async fn mock() -> MockCluster {
    let mut config = MockConfig::new().brokers(3);
    config.default_replication_factor = Some(1);
    config.group_min_session_timeout = Duration::from_secs(6);
    MockCluster::start(config).await.unwrap()
}

/// Connections that decode strictly: an answer with bytes after its body fails the test.
fn strict() -> ConnectionConfig {
    let mut config = ConnectionConfig::default();
    config.reject_trailing_bytes = true;
    config
}

/// One cluster under test, as the script sees it.
struct Sys {
    name: &'static str,
    client: Client,
    /// Broker ids, ascending: the normalisations replace an id by its rank here.
    ids: Vec<i32>,
}

impl Sys {
    async fn connect(name: &'static str, bootstrap: &str) -> Sys {
        let client = Client::connect(bootstrap.split(','), strict()).await.unwrap();
        let ids = client.view().brokers.keys().copied().collect();
        Sys { name, client, ids }
    }

    /// A broker id as its rank (-1 stays -1; an unknown id becomes 100 + id).
    fn rank(&self, id: i32) -> i32 {
        if id < 0 {
            return id;
        }
        self.ids.iter().position(|&i| i == id).map_or(100 + id, |r| r as i32)
    }

    fn addr(&self, id: i32) -> String {
        self.client.view().brokers[&id].addr()
    }

    async fn send<R: VersionedRequest>(&self, target: &Target, request: &R) -> R::Response {
        self.client
            .send_versioned(target, request)
            .await
            .unwrap_or_else(|e| panic!("{}: {:?} to {target:?}: {e}", self.name, R::API_KEY))
    }

    /// Sends until the answer's error code (read by `code`) is not retriable: for warming up
    /// (a coordinator loading, a producer id block being fetched), never for a compared step.
    async fn send_settled<R: VersionedRequest>(
        &self,
        target: &Target,
        request: &R,
        code: impl Fn(&R::Response) -> ErrorCode,
    ) -> R::Response {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.client.send_versioned(target, request).await {
                Ok(r) if !code(&r).is_retriable() => return r,
                Ok(r) => {
                    self.client.invalidate(target);
                    assert!(
                        Instant::now() < deadline,
                        "{}: {:?} keeps failing with {}",
                        self.name,
                        R::API_KEY,
                        code(&r)
                    );
                }
                Err(e) if e.is_retriable() => {
                    assert!(Instant::now() < deadline, "{}: {:?}: {e}", self.name, R::API_KEY);
                }
                Err(e) => panic!("{}: {:?} to {target:?}: {e}", self.name, R::API_KEY),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The leader of `topic`-`partition` (reloading metadata).
    async fn leader(&self, topic: &str, partition: i32) -> i32 {
        self.client.reload_metadata(&[topic]).await.unwrap();
        self.client.view().topics[topic].partitions[&partition].leader
    }

    /// A broker that is not a replica of `topic`-`partition`.
    async fn outsider(&self, topic: &str, partition: i32) -> i32 {
        self.client.reload_metadata(&[topic]).await.unwrap();
        let replicas = self.client.view().topics[topic].partitions[&partition].replicas.clone();
        *self.ids.iter().find(|id| !replicas.contains(id)).expect("a broker outside the replicas")
    }

    /// A follower of `topic`-`partition` (a replica that does not lead it).
    async fn follower(&self, topic: &str, partition: i32) -> i32 {
        self.client.reload_metadata(&[topic]).await.unwrap();
        let p = &self.client.view().topics[topic].partitions[&partition];
        *p.replicas.iter().find(|&&r| r != p.leader).expect("a follower")
    }

    /// CreateTopics v7 (not compared), then waits until every partition has a leader that
    /// knows it is one. Returns the topic id.
    async fn create_topic(&self, name: &str, partitions: i32, replication: i16, configs: &[(&str, &str)]) -> Uuid {
        let r = self
            .send(&Target::AnyBroker, &create(vec![creatable(name, partitions, replication, configs)], false))
            .await;
        assert_eq!(
            r.topics[0].error_code,
            ErrorCode::NONE,
            "{}: creating {name}: {:?}",
            self.name,
            r.topics[0].error_message
        );
        let id = r.topics[0].topic_id;
        // Every leader answers ListOffsets for its partition once it has set it up.
        for p in 0..partitions {
            let request = list_offsets_request(name, &[(p, -1)]);
            let target = Target::leader(name, p);
            self.send_settled(&target, &request, |r| r.topics[0].partitions[0].error_code).await;
        }
        id
    }

    /// InitProducerId v5 for an idempotent producer (waits out the first id block's fetch).
    async fn producer_id(&self) -> (i64, i16) {
        let r = self.send_settled(&Target::AnyBroker, &init_producer_id_request(-1, -1), |r| r.error_code).await;
        assert_eq!(r.error_code, ErrorCode::NONE);
        (r.producer_id, r.producer_epoch)
    }

    /// Waits until the group's coordinator answers FindCoordinator without error.
    async fn coordinator_ready(&self, group: &str) -> find_coordinator::v6::Response {
        self.send_settled(&Target::AnyBroker, &find_coordinator_request(group), |r| r.coordinators[0].error_code).await
    }
}

// ---------------------------------------------------------------------------------------------
// Transcripts and their comparison

/// The normalised answers of one system to one script, in order.
#[derive(Default)]
struct Transcript {
    steps: Vec<(String, String)>,
}

impl Transcript {
    /// Records an answer as its pretty `Debug` text, without the empty unknown tagged fields
    /// every struct carries.
    fn step(&mut self, name: impl Into<String>, answer: impl Debug) {
        let text = format!("{answer:#?}");
        let lines: Vec<&str> = text.lines().collect();
        let mut kept = Vec::with_capacity(lines.len());
        let mut i = 0;
        while i < lines.len() {
            let empty_tags = lines[i].trim() == "unknown_tagged_fields: UnknownTaggedFields("
                && lines.get(i + 1).is_some_and(|l| l.trim() == "None,")
                && lines.get(i + 2).is_some_and(|l| l.trim() == "),");
            if empty_tags {
                i += 3;
            } else {
                kept.push(lines[i]);
                i += 1;
            }
        }
        self.steps.push((name.into(), kept.join("\n")));
    }
}

/// Runs the script `$script(&Sys, &mut Transcript)` against a fresh mock and against the
/// shared Kafka cluster at once, and compares the transcripts.
macro_rules! differential {
    ($test:literal, $script:ident) => {{
        let cluster = kafka();
        let _logs = cluster.log_guard();
        let mock_cluster = mock().await;
        let mock = Sys::connect("mock", &mock_cluster.bootstrap_servers()).await;
        let kafka = Sys::connect("kafka", &cluster.bootstrap_servers()).await;
        let (mut on_mock, mut on_kafka) = (Transcript::default(), Transcript::default());
        tokio::join!($script(&mock, &mut on_mock), $script(&kafka, &mut on_kafka));
        compare($test, &on_mock, &on_kafka);
        mock_cluster.shutdown().await;
    }};
}

/// Compares two transcripts step by step; fails on a difference not listed in [`KNOWN`].
fn compare(test: &str, mock: &Transcript, kafka: &Transcript) {
    let names = |t: &Transcript| t.steps.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(mock), names(kafka), "{test}: both scripts take the same steps");
    let mut unexpected = Vec::new();
    let mut known = 0;
    for ((step, m), (_, k)) in mock.steps.iter().zip(&kafka.steps) {
        if m == k {
            continue;
        }
        let diff = line_diff(m, k);
        match KNOWN.iter().chain(SOMETIMES).find(|(t, s, _)| *t == test && s == step) {
            Some((_, _, reason)) => {
                known += 1;
                println!("{test} / {step}: known difference ({reason}):\n{diff}");
            }
            None => unexpected.push(format!("--- {test} / {step}\n{diff}")),
        }
    }
    // A listed difference that is gone must leave the list (and the README).
    for (_, step, reason) in KNOWN.iter().filter(|(t, ..)| *t == test) {
        let same = mock.steps.iter().zip(&kafka.steps).any(|((s, m), (_, k))| s == step && m == k);
        if same {
            unexpected.push(format!("--- {test} / {step}: listed in KNOWN ({reason}) but the answers agree"));
        }
    }
    println!("{test}: {} steps compared, {known} known differences", mock.steps.len());
    assert!(
        unexpected.is_empty(),
        "{test}: the mock answers {} step(s) differently from Apache Kafka (- mock, + kafka):\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}

/// The lines only in `a` (`- `) and only in `b` (`+ `), in order, with two lines of context.
fn line_diff(a: &str, b: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    // Longest common subsequence, then a walk that emits the differing lines.
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    let mut out = String::new();
    let mut last_shown = None;
    for (n, (op, line)) in ops.iter().enumerate() {
        let near = ops[n.saturating_sub(2)..(n + 3).min(ops.len())].iter().any(|(o, _)| *o != ' ');
        if !near {
            continue;
        }
        if last_shown.is_some_and(|l| l + 1 != n) {
            out.push_str("  ...\n");
        }
        let _ = writeln!(out, "{op} {line}");
        last_shown = Some(n);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Requests

fn creatable(
    name: &str,
    partitions: i32,
    replication: i16,
    configs: &[(&str, &str)],
) -> create_topics::v7::CreatableTopic {
    create_topics::v7::CreatableTopic {
        name: name.into(),
        num_partitions: partitions,
        replication_factor: replication,
        configs: configs
            .iter()
            .map(|(k, v)| create_topics::v7::CreatableTopicConfig {
                name: (*k).into(),
                value: Some((*v).into()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn create(topics: Vec<create_topics::v7::CreatableTopic>, validate_only: bool) -> create_topics::v7::Request {
    create_topics::v7::Request { topics, timeout_ms: 30_000, validate_only, ..Default::default() }
}

fn metadata_request(topics: &[&str], auto_create: bool) -> metadata::v12::Request {
    metadata::v12::Request {
        topics: Some(
            topics
                .iter()
                .map(|t| metadata::v12::MetadataRequestTopic { name: Some((*t).into()), ..Default::default() })
                .collect(),
        ),
        allow_auto_topic_creation: auto_create,
        ..Default::default()
    }
}

fn list_offsets_request(topic: &str, partitions: &[(i32, i64)]) -> list_offsets::v10::Request {
    list_offsets::v10::Request {
        replica_id: -1,
        isolation_level: 0,
        topics: vec![list_offsets::v10::ListOffsetsTopic {
            name: topic.into(),
            partitions: partitions
                .iter()
                .map(|&(p, timestamp)| list_offsets::v10::ListOffsetsPartition {
                    partition_index: p,
                    current_leader_epoch: -1,
                    timestamp,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        timeout_ms: 30_000,
        ..Default::default()
    }
}

fn init_producer_id_request(producer_id: i64, producer_epoch: i16) -> init_producer_id::v5::Request {
    init_producer_id::v5::Request {
        transactional_id: None,
        transaction_timeout_ms: 60_000,
        producer_id,
        producer_epoch,
        ..Default::default()
    }
}

fn find_coordinator_request(group: &str) -> find_coordinator::v6::Request {
    find_coordinator::v6::Request { key_type: 0, coordinator_keys: vec![group.into()], ..Default::default() }
}

/// A batch of `n` records with values `value-<base + i>` at timestamps `1000 + 10 * (base + i)`.
fn batch(codec: Compression, producer: Option<(i64, i16, i32)>, base: i32, n: i32) -> Bytes {
    let mut b = BatchBuilder::new(codec);
    if let Some((pid, epoch, sequence)) = producer {
        b = b.producer(pid, epoch, sequence);
    }
    for i in base..base + n {
        let record = NewRecord::new(1000 + 10 * i64::from(i), format!("value-{i}"))
            .with_key(format!("key-{i}"))
            .with_header("h", Some(Bytes::from(i.to_string())));
        b.push(&record).unwrap();
    }
    b.build().unwrap().to_bytes().unwrap()
}

fn produce_request(topic: &str, partition: i32, records: Option<Bytes>, acks: i16) -> produce::v11::Request {
    produce::v11::Request {
        acks,
        timeout_ms: 30_000,
        topic_data: vec![produce::v11::TopicProduceData {
            name: topic.into(),
            partition_data: vec![produce::v11::PartitionProduceData {
                index: partition,
                records: records.map(Records::from),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Fetch v17 of (partition, offset, partition max bytes) of one topic.
fn fetch_request(
    topic_id: Uuid,
    partitions: &[(i32, i64, i32)],
    max_bytes: i32,
    max_wait_ms: i32,
    min_bytes: i32,
) -> fetch::v17::Request {
    fetch::v17::Request {
        max_wait_ms,
        min_bytes,
        max_bytes,
        isolation_level: 0,
        session_id: 0,
        session_epoch: -1,
        topics: vec![fetch::v17::FetchTopic {
            topic_id,
            partitions: partitions
                .iter()
                .map(|&(partition, fetch_offset, partition_max_bytes)| fetch::v17::FetchPartition {
                    partition,
                    current_leader_epoch: -1,
                    fetch_offset,
                    last_fetched_epoch: -1,
                    log_start_offset: -1,
                    partition_max_bytes,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Normalisations: one per message family. Each removes only what must differ between two
// clusters and keeps every other field as answered.

/// Metadata: cluster id, hosts and ports go; broker ids become ranks; the controller id "a
/// broker" (0: a KRaft broker names a random live broker); topic ids become "set" (zero stays
/// zero); a partition's replica, ISR and offline lists become their lengths (placement is the
/// cluster's choice), its leader "a replica" (0) or "none" (-1).
fn norm_metadata(sys: &Sys, mut r: metadata::v12::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r.cluster_id = r.cluster_id.map(|_| "<cluster id>".into());
    r.controller_id = if sys.ids.contains(&r.controller_id) { 0 } else { r.controller_id };
    for b in &mut r.brokers {
        b.node_id = sys.rank(b.node_id);
        b.host = "<host>".into();
        b.port = 0;
    }
    r.brokers.sort_by_key(|b| b.node_id);
    r.topics.sort_by(|a, b| a.name.cmp(&b.name));
    for t in &mut r.topics {
        t.topic_id = mark_uuid(t.topic_id);
        t.partitions.sort_by_key(|p| p.partition_index);
        for p in &mut t.partitions {
            p.leader_id = if p.replica_nodes.contains(&p.leader_id) { 0 } else { p.leader_id.min(-1) };
            let len = |v: &[i32]| (0..v.len() as i32).collect::<Vec<_>>().as_slice().into();
            p.replica_nodes = len(&p.replica_nodes);
            p.isr_nodes = len(&p.isr_nodes);
            p.offline_replicas = len(&p.offline_replicas);
        }
    }
    r
}

/// CreateTopics: topic ids become "set"; configs one line each, sorted by name.
fn norm_create_topics(mut r: create_topics::v7::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    let mut configs = Vec::new();
    for t in &mut r.topics {
        t.topic_id = mark_uuid(t.topic_id);
        let lines = t.configs.take().map(|c| {
            let mut lines: Vec<String> = c
                .iter()
                .map(|c| {
                    let flags =
                        format!("source {}, read-only {}, sensitive {}", c.config_source, c.read_only, c.is_sensitive);
                    format!("{} = {:?} ({flags})", c.name, c.value.as_deref())
                })
                .collect();
            lines.sort();
            lines
        });
        configs.push((t.name.to_string(), lines));
    }
    (r, configs)
}

/// Produce: the current leader and the node endpoints of KIP-951 become roles (`leader` is the
/// partition's leader as Metadata names it); hosts and ports go.
fn norm_produce(sys: &Sys, leader: i32, mut r: produce::v11::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    let role = |id: i32| if id == leader { 1000 } else { sys.rank(id) };
    for t in &mut r.responses {
        for p in &mut t.partition_responses {
            p.current_leader.leader_id = role(p.current_leader.leader_id);
        }
    }
    for n in &mut r.node_endpoints {
        n.node_id = role(n.node_id);
        n.host = "<host>".into();
        n.port = 0;
    }
    r
}

/// A record set, decoded: each batch's header fields (the producer id as "set"), its records,
/// and the bytes after the last whole batch (a batch cut at a byte limit).
#[derive(Debug)]
#[allow(dead_code)] // read through Debug
struct RecordsSummary {
    bytes: usize,
    batches: Vec<BatchSummary>,
    partial_bytes: usize,
}

#[derive(Debug)]
#[allow(dead_code)]
struct BatchSummary {
    base_offset: i64,
    partition_leader_epoch: i32,
    attributes: i16,
    last_offset_delta: i32,
    base_timestamp: i64,
    max_timestamp: i64,
    producer_id_set: bool,
    producer_epoch: i16,
    base_sequence: i32,
    records: Vec<RecordSummary>,
}

/// (offset, timestamp, key, value, headers) of a record.
type RecordSummary = (i64, i64, Option<Bytes>, Option<Bytes>, Vec<(String, Option<Bytes>)>);

fn summarise(records: &Records) -> RecordsSummary {
    let mut batches = Vec::new();
    let mut iter = records.batches();
    for batch in iter.by_ref() {
        match batch {
            Ok(Batch::V2(b)) => batches.push(BatchSummary {
                base_offset: b.base_offset,
                partition_leader_epoch: b.partition_leader_epoch,
                attributes: b.attributes(),
                last_offset_delta: b.last_offset_delta,
                base_timestamp: b.base_timestamp,
                max_timestamp: b.max_timestamp,
                producer_id_set: b.producer_id >= 0,
                producer_epoch: b.producer_epoch,
                base_sequence: b.base_sequence,
                records: b
                    .records()
                    .unwrap()
                    .map(|r| {
                        let r = r.unwrap();
                        let headers = r.headers.iter().map(|h| (h.key.to_string(), h.value.clone())).collect();
                        (r.offset, r.timestamp, r.key, r.value, headers)
                    })
                    .collect(),
            }),
            Ok(Batch::Legacy(_)) => panic!("a legacy message set"),
            Err(e) => panic!("an undecodable batch: {e}"),
        }
    }
    RecordsSummary { bytes: records.len(), batches, partial_bytes: iter.truncated_len() }
}

/// Fetch: topic ids become "set"; records decoded ([`RecordsSummary`]); the current leader and
/// node endpoints become roles; hosts and ports go.
fn norm_fetch(sys: &Sys, leader: i32, mut r: fetch::v17::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    let role = |id: i32| if id == leader { 1000 } else { sys.rank(id) };
    let mut records = Vec::new();
    for t in &mut r.responses {
        t.topic_id = mark_uuid(t.topic_id);
        for p in &mut t.partitions {
            p.current_leader.leader_id = role(p.current_leader.leader_id);
            p.preferred_read_replica = role(p.preferred_read_replica);
            records.push((p.partition_index, p.records.take().map(|r| summarise(&r))));
        }
    }
    for n in &mut r.node_endpoints {
        n.node_id = role(n.node_id);
        n.host = "<host>".into();
        n.port = 0;
    }
    (r, records)
}

/// ListOffsets: nothing to remove but the throttle time.
fn norm_list_offsets(mut r: list_offsets::v10::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r
}

/// InitProducerId: the producer id becomes "set" (>= 0) or stays negative.
fn norm_init_producer_id(mut r: init_producer_id::v5::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r.producer_id = r.producer_id.min(0);
    r
}

/// FindCoordinator: the coordinator's id, host and port go (any broker may coordinate).
fn norm_find_coordinator(mut r: find_coordinator::v6::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    for c in &mut r.coordinators {
        c.node_id = c.node_id.min(0);
        c.host = if c.host.is_empty() { "".into() } else { "<host>".into() };
        c.port = c.port.min(0);
    }
    r
}

/// Group member ids: the members' own names (`A`, `B`, ...) for ids the script knows; a new id
/// Kafka's way (`<client id>-<UUID>`) becomes `<new member id>`.
#[derive(Default)]
struct Members {
    names: BTreeMap<String, String>,
}

impl Members {
    fn name(&mut self, label: &str, id: &str) {
        self.names.insert(id.to_owned(), label.to_owned());
    }

    fn norm(&self, id: &str) -> String {
        if let Some(name) = self.names.get(id) {
            return name.clone();
        }
        let kafka_style = id.strip_prefix("kafka-wire-client-").is_some_and(|uuid| {
            uuid.len() == 36
                && uuid.chars().enumerate().all(|(i, c)| {
                    if [8, 13, 18, 23].contains(&i) {
                        c == '-'
                    } else {
                        c.is_ascii_hexdigit()
                    }
                })
        });
        if kafka_style {
            "<new member id>".into()
        } else {
            id.to_owned()
        }
    }
}

/// The classic group family (JoinGroup, SyncGroup, Heartbeat, LeaveGroup): member ids become
/// names ([`Members`]); the leader's member list is sorted by name (Kafka keeps members in a
/// hash map: its order is not defined).
/// Any version's answer, read as the version-free response (fields the version lacks keep their
/// defaults on both sides).
fn norm_join(m: &Members, r: impl Into<join_group::Response>) -> impl Debug {
    let mut r: join_group::Response = r.into();
    r.throttle_time_ms = 0;
    r.leader = m.norm(&r.leader).into();
    r.member_id = m.norm(&r.member_id).into();
    for member in &mut r.members {
        member.member_id = m.norm(&member.member_id).into();
    }
    r.members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    r
}

fn norm_leave(m: &Members, mut r: leave_group::v5::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    for member in &mut r.members {
        member.member_id = m.norm(&member.member_id).into();
    }
    r
}

/// Offsets (OffsetCommit, OffsetFetch): throttle times; topics and partitions sorted.
fn norm_offset_fetch(mut r: offset_fetch::v9::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    for g in &mut r.groups {
        g.topics.sort_by(|a, b| a.name.cmp(&b.name));
        for t in &mut g.topics {
            t.partitions.sort_by_key(|p| p.partition_index);
        }
    }
    r
}

/// DescribeConfigs: a broker's id (as resource name, and in an error message) becomes its
/// rank; configs one line each (with their synonyms), sorted by name.
fn norm_describe_configs(sys: &Sys, mut r: describe_configs::v4::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    let mut configs = Vec::new();
    for result in &mut r.results {
        if let Some(id) =
            result.resource_name.parse().ok().filter(|id| result.resource_type == 4 && sys.ids.contains(id))
        {
            result.resource_name = sys.rank(id).to_string().into();
        }
        if let Some(message) = &result.error_message {
            let mut text = message.to_string();
            for &id in &sys.ids {
                text = text.replace(&format!("expected {id} or"), &format!("expected <broker {}> or", sys.rank(id)));
            }
            result.error_message = Some(text.into());
        }
        let mut lines: Vec<String> = std::mem::take(&mut result.configs)
            .iter()
            .map(|c| {
                let synonyms: Vec<String> =
                    c.synonyms.iter().map(|s| format!("{}={:?}@{}", s.name, s.value.as_deref(), s.source)).collect();
                format!(
                    "{} = {:?} (source {}, type {}, read-only {}, sensitive {}, doc {}) synonyms {synonyms:?}",
                    c.name,
                    c.value.as_deref(),
                    c.config_source,
                    c.config_type,
                    c.read_only,
                    c.is_sensitive,
                    c.documentation.as_ref().map_or("null", |d| if d.is_empty() { "empty" } else { "set" }),
                )
            })
            .collect();
        lines.sort();
        configs.push(lines);
    }
    (r, configs)
}

/// ApiVersions, in parts compared apart: the advertised range of each API the mock serves
/// (`None`: not advertised), the other APIs advertised (keys only), the features (KIP-584), and
/// the rest of the answer.
#[allow(clippy::type_complexity)]
fn norm_api_versions(
    mut r: api_versions::v3::Response,
) -> (Vec<(ApiKey, Option<(i16, i16)>)>, Vec<i16>, impl Debug, impl Debug) {
    r.throttle_time_ms = 0;
    let served: Vec<ApiKey> = kafka_wire_mock::served_versions().map(|(api, ..)| api).collect();
    let ranges = served
        .iter()
        .map(|&api| {
            let range = r.api_keys.iter().find(|k| k.api_key == api.code()).map(|k| (k.min_version, k.max_version));
            (api, range)
        })
        .collect();
    let mut others: Vec<i16> =
        r.api_keys.iter().map(|k| k.api_key).filter(|&k| !served.iter().any(|a| a.code() == k)).collect();
    others.sort();
    r.api_keys.clear();
    let features = (
        std::mem::take(&mut r.supported_features),
        r.finalized_features_epoch,
        std::mem::take(&mut r.finalized_features),
    );
    r.finalized_features_epoch = -1;
    (ranges, others, features, r)
}

fn mark_uuid(id: Uuid) -> Uuid {
    if id.is_zero() {
        id
    } else {
        Uuid::from_u128(1)
    }
}

// ---------------------------------------------------------------------------------------------
// CreateTopics and Metadata, unknown topics

async fn topics_script(s: &Sys, t: &mut Transcript) {
    let one = |name: &str, partitions, replication, configs: &[(&str, &str)]| {
        create(vec![creatable(name, partitions, replication, configs)], false)
    };
    let any = Target::AnyBroker;
    // Topics created, with their partition counts.
    let mut created: Vec<(String, i32)> = Vec::new();
    let mut create_step = async |name: &str, request: &create_topics::v7::Request| {
        let r = s.send(&Target::AnyBroker, request).await;
        for topic in r.topics.iter().filter(|t| t.error_code == ErrorCode::NONE && !request.validate_only) {
            created.push((topic.name.to_string(), topic.num_partitions));
        }
        t.step(name, norm_create_topics(r));
    };
    create_step("create: 3 partitions, replication 1", &one("topics-a", 3, 1, &[])).await;
    create_step("create: an existing topic", &one("topics-a", 3, 1, &[])).await;
    create_step("create: default partitions and replication", &one("topics-b", -1, -1, &[])).await;
    create_step("create: replication 3", &one("topics-c", 2, 3, &[])).await;
    create_step(
        "create: with configs",
        &one("topics-d", 1, 1, &[("retention.ms", "1000"), ("cleanup.policy", "compact")]),
    )
    .await;
    create_step("create: validate only", &create(vec![creatable("topics-e", 2, 1, &[])], true)).await;
    let long = "x".repeat(250);
    let invalid = ["", ".", "..", "bad/name", long.as_str(), "has space"];
    create_step("create: invalid names", &create(invalid.iter().map(|n| creatable(n, 1, 1, &[])).collect(), false))
        .await;
    create_step("create: zero partitions", &one("topics-f", 0, 1, &[])).await;
    create_step("create: replication factor 0", &one("topics-g", 1, 0, &[])).await;
    create_step("create: replication factor above the broker count", &one("topics-h", 1, 4, &[])).await;
    create_step("create: unknown config", &one("topics-i", 1, 1, &[("no.such.config", "1")])).await;
    create_step("create: invalid config value", &one("topics-j", 1, 1, &[("cleanup.policy", "bogus")])).await;
    create_step(
        "create: invalid config value (one of a set)",
        &one("topics-j", 1, 1, &[("compression.type", "bogus")]),
    )
    .await;
    create_step("create: invalid config value (a number)", &one("topics-j", 1, 1, &[("max.message.bytes", "abc")]))
        .await;
    create_step("create: invalid config value (a boolean)", &one("topics-j", 1, 1, &[("preallocate", "maybe")])).await;
    create_step(
        "create: the same topic twice in one request",
        &create(vec![creatable("topics-k", 1, 1, &[]), creatable("topics-k", 1, 1, &[])], false),
    )
    .await;
    let assign = |name: &str, brokers: &[&[i32]]| {
        let mut c = creatable(name, -1, -1, &[]);
        c.assignments = brokers
            .iter()
            .enumerate()
            .map(|(p, ids)| create_topics::v7::CreatableReplicaAssignment {
                partition_index: p as i32,
                broker_ids: (*ids).into(),
                ..Default::default()
            })
            .collect();
        create(vec![c], false)
    };
    create_step("create: manual assignment", &assign("topics-n", &[&[s.ids[0], s.ids[1]], &[s.ids[1], s.ids[2]]]))
        .await;
    let unequal = assign("topics-l", &[&[s.ids[0]], &[s.ids[1], s.ids[2]]]);
    create_step("create: manual assignment with unequal replica counts", &unequal).await;
    create_step("create: assignment to an unknown broker", &assign("topics-m", &[&[999]])).await;

    // Metadata once every leader has set its partitions up.
    for (topic, partitions) in created {
        for p in 0..partitions {
            let target = Target::leader(&topic, p);
            s.send_settled(&target, &list_offsets_request(&topic, &[(p, -1)]), |r| {
                r.topics[0].partitions[0].error_code
            })
            .await;
        }
    }
    let topics = ["topics-a", "topics-b", "topics-c", "topics-d", "topics-e", "topics-l", "topics-n"];
    let r = s.send(&any, &metadata_request(&topics, false)).await;
    t.step("metadata: the created topics (and one only validated)", norm_metadata(s, r));
    let r = s.send(&any, &metadata_request(&["topics-unknown"], false)).await;
    t.step("metadata: an unknown topic", norm_metadata(s, r));
    let r = s.send(&any, &metadata_request(&["topics-auto"], true)).await;
    t.step("metadata: auto-creation", norm_metadata(s, r));
    let target = Target::leader("topics-auto", 0);
    s.send_settled(&target, &list_offsets_request("topics-auto", &[(0, -1)]), |r| r.topics[0].partitions[0].error_code)
        .await;
    let r = s.send(&any, &metadata_request(&["topics-auto"], true)).await;
    t.step("metadata: the auto-created topic", norm_metadata(s, r));
    let r = s.send(&any, &metadata_request(&["bad/name"], true)).await;
    t.step("metadata: auto-creation of an invalid name", norm_metadata(s, r));
    let mut r = s.send(&any, &metadata::v12::Request { topics: None, ..Default::default() }).await;
    r.topics.retain(|t| t.name.as_deref().is_some_and(|n| n.starts_with("topics-")));
    t.step("metadata: every topic", norm_metadata(s, r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_topics_and_metadata() {
    differential!("create_topics_and_metadata", topics_script);
}

// ---------------------------------------------------------------------------------------------
// Produce: every codec, idempotence, invalid batches, acks

const CODECS: [Compression; 5] =
    [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd];

async fn produce_script(s: &Sys, t: &mut Transcript) {
    let topic = "produce";
    s.create_topic(topic, CODECS.len() as i32, 1, &[]).await;
    s.create_topic("produce-small", 1, 1, &[("max.message.bytes", "2048")]).await;
    let (pid, epoch) = s.producer_id().await;
    let r = s.send(&Target::AnyBroker, &init_producer_id_request(-1, -1)).await;
    t.step("InitProducerId: an idempotent producer", norm_init_producer_id(r));

    for (p, codec) in CODECS.into_iter().enumerate() {
        let p = p as i32;
        let leader = s.leader(topic, p).await;
        let target = Target::leader(topic, p);
        let mut send = async |name: &str, records: Bytes| {
            let r = s.send(&target, &produce_request(topic, p, Some(records), -1)).await;
            t.step(format!("{codec:?}: {name}"), norm_produce(s, leader, r));
        };
        send("first batch", batch(codec, Some((pid, epoch, 0)), 0, 10)).await;
        send("the same batch again (duplicate)", batch(codec, Some((pid, epoch, 0)), 0, 10)).await;
        send("a sequence gap", batch(codec, Some((pid, epoch, 20)), 20, 10)).await;
        send("second batch", batch(codec, Some((pid, epoch, 10)), 10, 10)).await;
        send("the first batch again (older duplicate)", batch(codec, Some((pid, epoch, 0)), 0, 10)).await;
        send("a batch overlapping the last one", batch(codec, Some((pid, epoch, 15)), 15, 10)).await;
        send("a batch without producer id", batch(codec, None, 100, 3)).await;
    }

    let leader = s.leader(topic, 0).await;
    let target = Target::leader(topic, 0);
    let mut bad_crc = BytesMut::from(&batch(Compression::None, None, 200, 2)[..]);
    bad_crc[17] ^= 0xff;
    let mut two = BytesMut::from(&batch(Compression::None, None, 300, 2)[..]);
    two.extend_from_slice(&batch(Compression::None, None, 302, 2));
    let control = {
        let mut b = BatchBuilder::new(Compression::None).control(true);
        b.push(&NewRecord::new(1000, "not a control record")).unwrap();
        b.build().unwrap().to_bytes().unwrap()
    };
    let legacy = kafka_wire::records::LegacyMessage::new(1, 0, 1000, None, Some(Bytes::from_static(b"magic 1")))
        .to_bytes()
        .unwrap();
    let cases: Vec<(&str, Option<Bytes>)> = vec![
        ("a bad CRC", Some(bad_crc.freeze())),
        ("two batches in one partition", Some(two.freeze())),
        ("a control batch", Some(control)),
        ("a magic 1 message set", Some(legacy)),
        // Not sent: Produce v11 with null records makes Kafka 4.4 fail with a NullPointerException
        // (ProduceRequest.partitionSizes, while logging the error) and never answer.
        ("empty records", Some(Bytes::new())),
    ];
    for (name, records) in cases {
        let r = s.send(&target, &produce_request(topic, 0, records, -1)).await;
        t.step(name, norm_produce(s, leader, r));
    }
    let r = s.send(&target, &produce_request(topic, 0, Some(batch(Compression::None, None, 400, 1)), 2)).await;
    t.step("acks=2", norm_produce(s, leader, r));
    let big = {
        let mut b = BatchBuilder::new(Compression::None);
        b.push(&NewRecord::new(1000, "y".repeat(4000))).unwrap();
        b.build().unwrap().to_bytes().unwrap()
    };
    let small_leader = s.leader("produce-small", 0).await;
    let r = s.send(&Target::leader("produce-small", 0), &produce_request("produce-small", 0, Some(big), -1)).await;
    t.step("a batch above max.message.bytes", norm_produce(s, small_leader, r));
    let first = Target::Broker(s.ids[0]);
    let r =
        s.send(&first, &produce_request("produce-unknown", 0, Some(batch(Compression::None, None, 0, 1)), -1)).await;
    t.step("an unknown topic", norm_produce(s, -1, r));
    let r = s.send(&first, &produce_request(topic, 99, Some(batch(Compression::None, None, 0, 1)), -1)).await;
    t.step("an unknown partition", norm_produce(s, -1, r));

    // acks=0: no answer; the record is there all the same.
    let r = s.send(&target, &produce_request(topic, 0, Some(batch(Compression::None, None, 500, 1)), 0)).await;
    t.step("acks=0 (no answer)", norm_produce(s, leader, r));

    // InitProducerId again with the producer's id and epoch (KIP-360).
    let r = s.send(&Target::AnyBroker, &init_producer_id_request(pid, epoch)).await;
    t.step("InitProducerId again with the producer's id and epoch", norm_init_producer_id(r.clone()));
    let (new_pid, new_epoch) = (r.producer_id, r.producer_epoch);
    t.step("InitProducerId again: the same producer id", new_pid == pid);
    let target1 = Target::leader(topic, 1);
    let leader1 = s.leader(topic, 1).await;
    let mut send1 = async |name: &str, producer: (i64, i16, i32), value: i32| {
        let records = batch(Compression::None, Some(producer), value, 1);
        let r = s.send(&target1, &produce_request(topic, 1, Some(records), -1)).await;
        t.step(name, norm_produce(s, leader1, r));
    };
    send1("the answered producer id and epoch, not from sequence 0", (new_pid, new_epoch, 5), 20).await;
    send1("the answered producer id and epoch from sequence 0", (new_pid, new_epoch, 0), 21).await;
    send1("the first producer id goes on", (pid, epoch, 20), 22).await;
    send1("the first producer id with a higher epoch, from sequence 0", (pid, epoch + 1, 0), 23).await;
    send1("the first producer id with a higher epoch, not from sequence 0", (pid, epoch + 2, 7), 24).await;
    send1("the first producer id with its old epoch", (pid, epoch, 21), 25).await;

    // What the log holds now: end offsets, and every batch.
    let partitions: Vec<i32> = (0..CODECS.len() as i32).collect();
    for &p in &partitions {
        let r = s.send(&Target::leader(topic, p), &list_offsets_request(topic, &[(p, -1)])).await;
        t.step(format!("partition {p}: end offset"), norm_list_offsets(r));
    }
    let topic_id = s.send(&Target::AnyBroker, &metadata_request(&[topic], false)).await.topics[0].topic_id;
    for &p in &partitions {
        let leader = s.leader(topic, p).await;
        let r = s.send(&Target::leader(topic, p), &fetch_request(topic_id, &[(p, 0, 1 << 20)], 1 << 20, 0, 1)).await;
        t.step(format!("partition {p}: the log"), norm_fetch(s, leader, r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce() {
    differential!("produce", produce_script);
}

// ---------------------------------------------------------------------------------------------
// Fetch: byte limits, long polls, errors

async fn fetch_script(s: &Sys, t: &mut Transcript) {
    let topic = "fetch";
    let topic_id = s.create_topic(topic, 2, 1, &[]).await;
    let a = batch(Compression::None, None, 0, 5);
    let b = batch(Compression::Lz4, None, 5, 5);
    let c = batch(Compression::None, None, 10, 2);
    let a_len = a.len() as i32;
    for records in [a, b, c] {
        let r = s.send(&Target::leader(topic, 0), &produce_request(topic, 0, Some(records), -1)).await;
        assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE, "{}", s.name);
    }
    let r = s
        .send(&Target::leader(topic, 1), &produce_request(topic, 1, Some(batch(Compression::Gzip, None, 0, 3)), -1))
        .await;
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);
    let (l0, l1) = (s.leader(topic, 0).await, s.leader(topic, 1).await);
    // Both partitions on one broker for the multi-partition steps, where the leaders agree.
    let both = l0 == l1;

    let mut step = async |name: &str, partition: i32, request: fetch::v17::Request| {
        let leader = if partition == 0 { l0 } else { l1 };
        let r = s.send(&Target::leader(topic, partition), &request).await;
        t.step(name, norm_fetch(s, leader, r));
    };
    const MIB: i32 = 1 << 20;
    step("everything", 0, fetch_request(topic_id, &[(0, 0, MIB)], MIB, 0, 1)).await;
    step("a partition limit below the first batch", 0, fetch_request(topic_id, &[(0, 0, 10)], MIB, 0, 1)).await;
    step("a partition limit inside the second batch", 0, fetch_request(topic_id, &[(0, 0, a_len + 10)], MIB, 0, 1))
        .await;
    step("a response limit below the first batch", 0, fetch_request(topic_id, &[(0, 0, MIB)], 10, 0, 1)).await;
    step("from the middle of a batch", 0, fetch_request(topic_id, &[(0, 7, MIB)], MIB, 0, 1)).await;
    step("at the end: empty after the wait", 0, fetch_request(topic_id, &[(0, 12, MIB)], MIB, 100, 1)).await;
    step("past the end", 0, fetch_request(topic_id, &[(0, 20, MIB)], MIB, 0, 1)).await;
    step("a negative offset", 0, fetch_request(topic_id, &[(0, -5, MIB)], MIB, 0, 1)).await;
    step("an unknown partition", 0, fetch_request(topic_id, &[(7, 0, MIB)], MIB, 0, 1)).await;
    step("an unknown topic id", 0, fetch_request(Uuid::from_u128(42), &[(0, 0, MIB)], MIB, 0, 1)).await;
    step(
        "min bytes not reached: what there is after the wait",
        1,
        fetch_request(topic_id, &[(1, 0, MIB)], MIB, 200, MIB),
    )
    .await;
    let mut committed = fetch_request(topic_id, &[(0, 0, MIB)], MIB, 0, 1);
    committed.isolation_level = 1;
    step("read committed", 0, committed).await;
    let mut ahead = fetch_request(topic_id, &[(0, 0, MIB)], MIB, 0, 1);
    ahead.topics[0].partitions[0].current_leader_epoch = 5;
    step("a leader epoch ahead of the leader's", 0, ahead).await;
    let mut current = fetch_request(topic_id, &[(0, 0, MIB)], MIB, 0, 1);
    current.topics[0].partitions[0].current_leader_epoch = 0;
    step("the current leader epoch", 0, current).await;
    if both {
        step(
            "two partitions, a response limit inside the first",
            0,
            fetch_request(topic_id, &[(0, 0, MIB), (1, 0, MIB)], a_len + 10, 0, 1),
        )
        .await;
    } else {
        // Keep the transcripts aligned: the step is recorded only where both clusters can take it.
        t.step("two partitions, a response limit inside the first", "partitions on different leaders: skipped");
    }

    // A long poll at the end is answered as soon as a record comes (from another connection).
    let producer = Client::connect(s.client.view().brokers.values().map(|b| b.addr()), strict()).await.unwrap();
    let started = Instant::now();
    let (target, request) = (Target::leader(topic, 1), fetch_request(topic_id, &[(1, 3, MIB)], MIB, 20_000, 1));
    let poll = s.send(&target, &request);
    let produce = async {
        // The poll is parked first when its request is sent before this one; if not, the
        // answer is the same (the record is there when the fetch arrives).
        tokio::task::yield_now().await;
        producer
            .send_versioned(
                &Target::leader(topic, 1),
                &produce_request(topic, 1, Some(batch(Compression::None, None, 3, 1)), -1),
            )
            .await
            .unwrap()
    };
    let (r, _) = tokio::join!(poll, produce);
    assert!(started.elapsed() < Duration::from_secs(20), "{}: the long poll waited its whole max wait", s.name);
    t.step("a long poll answered by a produce", norm_fetch(s, l1, r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch() {
    differential!("fetch", fetch_script);
}

// ---------------------------------------------------------------------------------------------
// ListOffsets by time

async fn list_offsets_script(s: &Sys, t: &mut Transcript) {
    let topic = "offsets";
    s.create_topic(topic, 1, 1, &[]).await;
    let target = Target::leader(topic, 0);
    // Timestamps 1000, 1010, ... 1090; then one record at 1020 again.
    for records in [
        batch(Compression::None, None, 0, 5),
        batch(Compression::Zstd, None, 5, 5),
        batch(Compression::None, None, 2, 1),
    ] {
        let r = s.send(&target, &produce_request(topic, 0, Some(records), -1)).await;
        assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);
    }
    for (name, timestamp) in [
        ("earliest (-2)", -2),
        ("latest (-1)", -1),
        ("max timestamp (-3)", -3),
        ("earliest local (-4)", -4),
        ("latest tiered (-5)", -5),
        ("the first record's timestamp", 1000),
        ("between two records", 1005),
        ("a timestamp two records have", 1020),
        ("the last batch's timestamp", 1090),
        ("after every record", 1095),
        ("earliest pending upload (-6, a v11 value)", -6),
        ("an unknown special value (-7)", -7),
    ] {
        let r = s.send(&target, &list_offsets_request(topic, &[(0, timestamp)])).await;
        t.step(name, norm_list_offsets(r));
    }
    // Special values at versions that predate them (max timestamp needs v7, earliest pending
    // upload v11) and at the newest version.
    let conn = s.client.connection(&target).await.unwrap();
    for version in [1, 6, 11] {
        for timestamp in [-3, -6, -7] {
            let request = list_offsets::Request::from(list_offsets_request(topic, &[(0, timestamp)]));
            let mut r = conn.send_at(&request, version).await.unwrap();
            r.throttle_time_ms = 0;
            t.step(format!("v{version}: timestamp {timestamp}"), r);
        }
    }
    let r = s.send(&target, &list_offsets_request(topic, &[(0, -1), (5, -1)])).await;
    t.step("an unknown partition next to a known one", norm_list_offsets(r));
    let mut ahead = list_offsets_request(topic, &[(0, -1)]);
    ahead.topics[0].partitions[0].current_leader_epoch = 3;
    let r = s.send(&target, &ahead).await;
    t.step("a leader epoch ahead of the leader's", norm_list_offsets(r));
    let r = s.send(&Target::Broker(s.ids[0]), &list_offsets_request("offsets-unknown", &[(0, -1)])).await;
    t.step("an unknown topic", norm_list_offsets(r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_offsets_by_time() {
    differential!("list_offsets_by_time", list_offsets_script);
}

// ---------------------------------------------------------------------------------------------
// A wrong leader

async fn wrong_leader_script(s: &Sys, t: &mut Transcript) {
    let id1 = s.create_topic("leader-1", 1, 1, &[]).await;
    let id3 = s.create_topic("leader-3", 1, 3, &[]).await;
    for (topic, id, other) in
        [("leader-1", id1, s.outsider("leader-1", 0).await), ("leader-3", id3, s.follower("leader-3", 0).await)]
    {
        let leader = s.leader(topic, 0).await;
        let who = if topic == "leader-1" { "a broker without a replica" } else { "a follower" };
        let to = Target::Broker(other);
        let r = s.send(&to, &produce_request(topic, 0, Some(batch(Compression::None, None, 0, 1)), -1)).await;
        t.step(format!("produce to {who}"), norm_produce(s, leader, r));
        let r = s.send(&to, &fetch_request(id, &[(0, 0, 1 << 20)], 1 << 20, 0, 1)).await;
        t.step(format!("fetch v17 from {who}"), norm_fetch(s, leader, r));
        let r = s.send(&to, &list_offsets_request(topic, &[(0, -1)])).await;
        t.step(format!("list offsets at {who}"), norm_list_offsets(r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_leader() {
    differential!("wrong_leader", wrong_leader_script);
}

// ---------------------------------------------------------------------------------------------
// The classic group protocol: two members, a rebalance, offset commits with metadata

const GROUP: &str = "diff-group";

fn join_request(member_id: &str, protocol_type: &str, session_timeout_ms: i32) -> join_group::v9::Request {
    join_group::v9::Request {
        group_id: GROUP.into(),
        session_timeout_ms,
        rebalance_timeout_ms: 60_000,
        member_id: member_id.into(),
        protocol_type: protocol_type.into(),
        protocols: vec![join_group::v9::JoinGroupRequestProtocol {
            name: "range".into(),
            metadata: Bytes::from_static(b"\x00\x01subscription"),
            ..Default::default()
        }],
        reason: Some("differential test".into()),
        ..Default::default()
    }
}

fn sync_request(member_id: &str, generation: i32, assignments: &[(&str, &'static [u8])]) -> sync_group::v5::Request {
    sync_group::v5::Request {
        group_id: GROUP.into(),
        generation_id: generation,
        member_id: member_id.into(),
        protocol_type: Some("consumer".into()),
        protocol_name: Some("range".into()),
        assignments: assignments
            .iter()
            .map(|(id, a)| sync_group::v5::SyncGroupRequestAssignment {
                member_id: (*id).into(),
                assignment: Bytes::from_static(a),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn heartbeat_request(member_id: &str, generation: i32) -> heartbeat::v4::Request {
    heartbeat::v4::Request {
        group_id: GROUP.into(),
        generation_id: generation,
        member_id: member_id.into(),
        ..Default::default()
    }
}

fn commit_request(
    member_id: &str,
    generation: i32,
    topic: &str,
    offsets: &[(i32, i64, &str)],
) -> offset_commit::v9::Request {
    offset_commit::v9::Request {
        group_id: GROUP.into(),
        generation_id_or_member_epoch: generation,
        member_id: member_id.into(),
        topics: vec![offset_commit::v9::OffsetCommitRequestTopic {
            name: topic.into(),
            partitions: offsets
                .iter()
                .map(|&(p, offset, metadata)| offset_commit::v9::OffsetCommitRequestPartition {
                    partition_index: p,
                    committed_offset: offset,
                    committed_leader_epoch: -1,
                    committed_metadata: Some(metadata.into()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn offset_fetch_request(group: &str, topics: Option<&[(&str, &[i32])]>) -> offset_fetch::v9::Request {
    offset_fetch::v9::Request {
        groups: vec![offset_fetch::v9::OffsetFetchRequestGroup {
            group_id: group.into(),
            member_id: None,
            member_epoch: -1,
            topics: topics.map(|topics| {
                topics
                    .iter()
                    .map(|(name, partitions)| offset_fetch::v9::OffsetFetchRequestTopics {
                        name: (*name).into(),
                        partition_indexes: (*partitions).into(),
                        ..Default::default()
                    })
                    .collect()
            }),
            ..Default::default()
        }],
        require_stable: true,
        ..Default::default()
    }
}

fn leave_request(member_ids: &[&str]) -> leave_group::v5::Request {
    leave_group::v5::Request {
        group_id: GROUP.into(),
        members: member_ids
            .iter()
            .map(|id| leave_group::v5::MemberIdentity {
                member_id: (*id).into(),
                reason: Some("bye".into()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

async fn group_script(s: &Sys, t: &mut Transcript) {
    let topic = "group-topic";
    s.create_topic(topic, 2, 1, &[]).await;
    // Kafka creates __consumer_offsets on the first FindCoordinator, then loads the group's
    // partition of it: wait for both.
    let r = s.coordinator_ready(GROUP).await;
    t.step("FindCoordinator", norm_find_coordinator(r));
    let coordinator = Target::group_coordinator(GROUP);
    s.send_settled(&coordinator, &offset_fetch_request(GROUP, None), |r| r.groups[0].error_code).await;
    // Each member has a connection of its own (a JoinGroup holds its connection).
    let b_client = Client::connect(s.client.view().brokers.values().map(|b| b.addr()), strict()).await.unwrap();
    let mut m = Members::default();

    // A joins alone.
    let r = s.send(&coordinator, &join_request("", "consumer", 10_000)).await;
    let a = r.member_id.to_string();
    t.step("A joins without a member id", norm_join(&m, r));
    m.name("A", &a);
    let r = s.send(&coordinator, &join_request(&a, "consumer", 10_000)).await;
    let generation = r.generation_id;
    t.step("A joins with its member id", norm_join(&m, r));
    let r = s.send(&coordinator, &sync_request(&a, generation, &[(&a, b"A: 0 and 1")])).await;
    t.step("A syncs", r);
    let r = s.send(&coordinator, &heartbeat_request(&a, generation)).await;
    t.step("A heartbeats", r);
    let r = s.send(&coordinator, &commit_request(&a, generation, topic, &[(0, 5, "a at 5"), (1, 7, "")])).await;
    t.step("A commits with metadata", r);
    let r = s.send(&coordinator, &offset_fetch_request(GROUP, Some(&[(topic, &[0, 1, 9])]))).await;
    t.step("the committed offsets (and an unknown partition)", norm_offset_fetch(r));

    // B joins: a rebalance.
    let r = b_client.send_versioned(&coordinator, &join_request("", "consumer", 10_000)).await.unwrap();
    let b = r.member_id.to_string();
    t.step("B joins without a member id", norm_join(&m, r));
    m.name("B", &b);
    let b_join = tokio::spawn({
        let (client, b) = (b_client.clone(), b.clone());
        async move {
            client
                .send_versioned(&Target::group_coordinator(GROUP), &join_request(&b, "consumer", 10_000))
                .await
                .unwrap()
        }
    });
    // B's JoinGroup waits for A; A hears of the rebalance from its heartbeat.
    let deadline = Instant::now() + PATIENCE;
    let r = loop {
        let r = s.send(&coordinator, &heartbeat_request(&a, generation)).await;
        if r.error_code != ErrorCode::NONE {
            break r;
        }
        assert!(Instant::now() < deadline, "{}: no rebalance", s.name);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    t.step("A heartbeats during the rebalance", r);
    let r = s.send(&coordinator, &commit_request(&a, generation, topic, &[(0, 6, "a at 6")])).await;
    t.step("A commits during the rebalance", r);
    let r = s.send(&coordinator, &join_request(&a, "consumer", 10_000)).await;
    let generation2 = r.generation_id;
    t.step("A joins again: the leader of generation 2", norm_join(&m, r));
    let r = b_join.await.unwrap();
    t.step("B's join completes", norm_join(&m, r));
    let b_sync = tokio::spawn({
        let (client, b) = (b_client.clone(), b.clone());
        async move {
            client.send_versioned(&Target::group_coordinator(GROUP), &sync_request(&b, generation2, &[])).await.unwrap()
        }
    });
    let r = s.send(&coordinator, &sync_request(&a, generation2, &[(&a, b"A: 0"), (&b, b"B: 1")])).await;
    t.step("A syncs generation 2", r);
    t.step("B syncs generation 2", b_sync.await.unwrap());
    let r = s.send(&coordinator, &heartbeat_request(&b, generation2)).await;
    t.step("B heartbeats", r);

    // Fenced and unknown members.
    let r = s.send(&coordinator, &commit_request(&a, generation, topic, &[(0, 8, "stale")])).await;
    t.step("a commit from the previous generation", r);
    let r = s.send(&coordinator, &commit_request("nobody", generation2, topic, &[(0, 8, "")])).await;
    t.step("a commit from an unknown member", r);
    let r = s.send(&coordinator, &heartbeat_request("nobody", generation2)).await;
    t.step("a heartbeat from an unknown member", r);
    let r = s.send(&coordinator, &heartbeat_request(&a, generation2 + 5)).await;
    t.step("a heartbeat of a future generation", r);
    let r = s.send(&coordinator, &sync_request(&b, generation, &[])).await;
    t.step("a sync of the previous generation", r);
    let r = s.send(&coordinator, &join_request("", "connect", 10_000)).await;
    t.step("a join with another protocol type", norm_join(&m, r));
    let r = s.send(&coordinator, &join_request("", "consumer", 1_000)).await;
    t.step("a join with a session timeout below the minimum", norm_join(&m, r));
    let r = s.send(&coordinator, &commit_request(&a, generation2, "group-unknown-topic", &[(0, 1, "")])).await;
    t.step("a commit of an unknown topic", r);

    // B leaves; A rejoins alone; A leaves; the offsets stay.
    let r = s.send(&coordinator, &leave_request(&[&b, "nobody"])).await;
    t.step("B and an unknown member leave", norm_leave(&m, r));
    let r = s.send(&coordinator, &heartbeat_request(&a, generation2)).await;
    t.step("A heartbeats after B left", r);
    let r = s.send(&coordinator, &join_request(&a, "consumer", 10_000)).await;
    let generation3 = r.generation_id;
    t.step("A joins generation 3 alone", norm_join(&m, r));
    let r = s.send(&coordinator, &sync_request(&a, generation3, &[(&a, b"A: 0 and 1")])).await;
    t.step("A syncs generation 3", r);
    let r = s.send(&coordinator, &commit_request(&a, generation3, topic, &[(1, 9, "a at 9")])).await;
    t.step("A commits in generation 3", r);
    let r = s.send(&coordinator, &leave_request(&[&a])).await;
    t.step("A leaves", norm_leave(&m, r));
    let r = s.send(&coordinator, &offset_fetch_request(GROUP, Some(&[(topic, &[0, 1])]))).await;
    t.step("the offsets after everyone left", norm_offset_fetch(r));
    let r = s.send(&coordinator, &offset_fetch_request(GROUP, None)).await;
    t.step("every offset of the group", norm_offset_fetch(r));
    let r = s.send(&coordinator, &commit_request("", -1, topic, &[(0, 11, "standalone")])).await;
    t.step("a standalone commit to the empty group", r);
    let other = Target::group_coordinator("diff-no-such-group");
    let r = s.send(&other, &offset_fetch_request("diff-no-such-group", Some(&[(topic, &[0])]))).await;
    t.step("the offsets of an unknown group", norm_offset_fetch(r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_group() {
    differential!("classic_group", group_script);
}

// ---------------------------------------------------------------------------------------------
// DescribeConfigs

async fn configs_script(s: &Sys, t: &mut Transcript) {
    let topic = "configs";
    s.create_topic(topic, 1, 1, &[("retention.ms", "1000"), ("cleanup.policy", "compact")]).await;
    let describe = |resource_type: i8, name: &str, keys: Option<&[&str]>, synonyms: bool, documentation: bool| {
        describe_configs::v4::Request {
            resources: vec![describe_configs::v4::DescribeConfigsResource {
                resource_type,
                resource_name: name.into(),
                configuration_keys: keys.map(|k| k.iter().map(|k| (*k).into()).collect()),
                ..Default::default()
            }],
            include_synonyms: synonyms,
            include_documentation: documentation,
            ..Default::default()
        }
    };
    let keys: &[&str] = &["cleanup.policy", "retention.ms", "max.message.bytes", "no.such.config"];
    let leader = Target::leader(topic, 0);
    let r = s.send(&leader, &describe(2, topic, None, true, false)).await;
    t.step("a topic: every config", norm_describe_configs(s, r));
    let r = s.send(&leader, &describe(2, topic, Some(keys), true, false)).await;
    t.step("a topic: some keys, with synonyms", norm_describe_configs(s, r));
    let r = s.send(&leader, &describe(2, topic, Some(keys), false, false)).await;
    t.step("a topic: some keys, without synonyms", norm_describe_configs(s, r));
    let r = s.send(&leader, &describe(2, topic, Some(&["retention.ms"]), false, true)).await;
    t.step("a topic: with documentation", norm_describe_configs(s, r));
    let r = s.send(&leader, &describe(2, "configs-unknown", None, false, false)).await;
    t.step("an unknown topic", norm_describe_configs(s, r));
    let first = s.ids[0];
    let broker_keys: &[&str] =
        &["log.retention.hours", "message.max.bytes", "num.partitions", "default.replication.factor"];
    let r = s.send(&Target::Broker(first), &describe(4, &first.to_string(), Some(broker_keys), true, false)).await;
    t.step("a broker: some keys", norm_describe_configs(s, r));
    let r = s.send(&Target::Broker(first), &describe(4, "", Some(broker_keys), true, false)).await;
    t.step("the cluster-wide broker defaults: some keys", norm_describe_configs(s, r));
    let r = s.send(&Target::Broker(first), &describe(4, "999", Some(broker_keys), false, false)).await;
    t.step("an unknown broker", norm_describe_configs(s, r));
    let r = s.send(&Target::Broker(first), &describe(99, "x", None, false, false)).await;
    t.step("an unknown resource type", norm_describe_configs(s, r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_configs() {
    differential!("describe_configs", configs_script);
}

// ---------------------------------------------------------------------------------------------
// Versions: ApiVersions, versions a broker does not serve, unknown APIs (raw frames)

/// What a broker does with one raw request frame: answers (the answer's frame, without its size
/// prefix) or closes the connection.
#[derive(Debug)]
enum Outcome {
    Answered(Bytes),
    Closed,
}

async fn raw(addr: &str, frame: &[u8]) -> Outcome {
    let addr = addr.to_owned();
    let frame = frame.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.write_all(&frame).unwrap();
        let mut size = [0u8; 4];
        if stream.read_exact(&mut size).is_err() {
            return Outcome::Closed;
        }
        let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
        stream.read_exact(&mut body).unwrap();
        Outcome::Answered(Bytes::from(body))
    })
    .await
    .unwrap()
}

/// A request frame with header v1 (api key, version, correlation id 7, client id) and `body`.
fn raw_frame(api_key: i16, version: i16, body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&api_key.to_be_bytes());
    frame.extend_from_slice(&version.to_be_bytes());
    frame.extend_from_slice(&7i32.to_be_bytes());
    frame.extend_from_slice(&4i16.to_be_bytes());
    frame.extend_from_slice(b"diff");
    frame.extend_from_slice(body);
    let mut out = (frame.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&frame);
    out
}

async fn versions_script(s: &Sys, t: &mut Transcript) {
    let request = api_versions::v3::Request {
        client_software_name: "diff".into(),
        client_software_version: "1".into(),
        ..Default::default()
    };
    let r = s.send(&Target::Broker(s.ids[0]), &request).await;
    let (ranges, others, features, rest) = norm_api_versions(r);
    for (api, range) in ranges {
        t.step(format!("ApiVersions v3: {api:?}"), range);
    }
    t.step("ApiVersions v3: the other APIs", others);
    t.step("ApiVersions v3: features", features);
    t.step("ApiVersions v3: the rest", rest);
    let addr = s.addr(s.ids[0]);
    // ApiVersions of a version the broker does not know: the v0 answer with UNSUPPORTED_VERSION.
    let outcome = raw(&addr, &raw_frame(ApiKey::ApiVersions.code(), 127, &[])).await;
    let answer = match outcome {
        Outcome::Answered(mut bytes) => {
            let correlation_id = i32::from_be_bytes(bytes[..4].try_into().unwrap());
            let body = bytes.split_off(4);
            let r = <api_versions::v0::Response as kafka_wire::Message>::from_bytes(body).unwrap();
            let own = r.api_keys.iter().find(|k| k.api_key == ApiKey::ApiVersions.code()).cloned();
            format!("correlation id {correlation_id}, error {}, ApiVersions {own:?}", r.error_code)
        }
        Outcome::Closed => "closed".into(),
    };
    t.step("ApiVersions v127", answer);
    // Versions outside every range: a Metadata version from the future, a Produce version
    // KIP-896 removed; an API key that does not exist.
    let kind = |o: Outcome| match o {
        Outcome::Answered(b) => format!("answered ({} bytes)", b.len()),
        Outcome::Closed => "closed".into(),
    };
    t.step("Metadata v99", kind(raw(&addr, &raw_frame(ApiKey::Metadata.code(), 99, &[0, 0, 0, 0])).await));
    let produce_v2 = raw_frame(ApiKey::Produce.code(), 2, &[0, 1, 0, 0, 0x75, 0x30, 0, 0, 0, 0]);
    t.step("Produce v2 (removed in Kafka 4.0)", kind(raw(&addr, &produce_v2).await));
    t.step("API key 999", kind(raw(&addr, &raw_frame(999, 0, &[])).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions() {
    differential!("versions", versions_script);
}

mod connections;
mod txn;
// After the `differential!` macro: the scenarios in modules of their own use it.
mod acls;
mod admin;
mod consumer_admin;
mod consumer_group;
mod groups;
mod share_group;
