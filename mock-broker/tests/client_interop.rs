//! This project's client (`kafka-wire-client`) against the mock broker, the scenario the
//! librdkafka test runs: an idempotent producer writes 10,000 records to a 3-partition topic
//! with each codec; a group of two members (JoinGroup v9, SyncGroup v5, Heartbeat v4,
//! LeaveGroup v5, OffsetCommit v9, OffsetFetch v9: the flexible versions librdkafka's own mock
//! misreads) reads them back with commits; one member leaves half-way and a new one resumes
//! from the commits. Nothing lost, nothing duplicated, order kept per partition.
//!
//! Nothing here waits on the clock: the test waits for the members to have seen enough
//! records (a watch channel), and each member leaves the group the moment it stops, as
//! `KafkaConsumer.close()` does. (A member that stopped consuming but stayed in the group
//! held up the next rebalance, when the restarted member joined, for the whole rebalance
//! timeout, was removed by the coordinator, and its late LeaveGroup failed with
//! UNKNOWN_MEMBER_ID: on a loaded machine the remaining member could read everything before
//! the restarted one joined. Kafka does the same; `group::tests` pins it.)
//!
//! The client is a transport: the producer and the group members here are written on top of it
//! with the generated request types.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use bytes::Bytes;
use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
use kafka_wire::{
    api_versions, fetch, find_coordinator, heartbeat, init_producer_id, join_group, leave_group, metadata,
    offset_commit, offset_fetch, produce, sync_group, ApiKey, ErrorCode, Records, Uuid,
};
use kafka_wire_client::{Client, Connection, ConnectionConfig, Target};
use kafka_wire_mock::{GroupEvent, MockCluster, MockConfig, RemovalReason};

const RECORDS: usize = 10_000;
const PARTITIONS: i32 = 3;
const TOPIC: &str = "interop";
const GROUP: &str = "interop-group";
/// Only a hang reaches this: the scenario takes well under a second alone and a few seconds
/// on a loaded 2-core machine.
const HANG_GUARD: Duration = Duration::from_secs(300);
/// The members' session and rebalance timeouts. The scenario never needs them to run out
/// (every member heartbeats each round, joins again when told, and leaves when it stops), so
/// they are long enough that a member starved of CPU for a while is not removed.
const SESSION_TIMEOUT_MS: i32 = 120_000;
const REBALANCE_TIMEOUT_MS: i32 = 120_000;

fn payload(i: usize) -> String {
    format!("record {i:05} {}", "abcdefgh".repeat(8))
}

fn index_of(payload: &[u8]) -> usize {
    std::str::from_utf8(&payload[7..12]).unwrap().parse().unwrap()
}

async fn client(cluster: &MockCluster) -> Client {
    Client::connect(cluster.bootstrap_servers().split(','), ConnectionConfig::default()).await.unwrap()
}

/// An idempotent producer: one producer id, a sequence per partition, 500 records per batch.
async fn produce_all(client: &Client, codec: Compression) {
    let r = client
        .send_versioned(
            &Target::AnyBroker,
            &init_producer_id::v5::Request {
                transactional_id: None,
                producer_id: -1,
                producer_epoch: -1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE);
    let (pid, epoch) = (r.producer_id, r.producer_epoch);
    for p in 0..PARTITIONS {
        let leader = client.handle(Target::leader(TOPIC, p));
        let indexes: Vec<usize> = (0..RECORDS).filter(|i| *i as i32 % PARTITIONS == p).collect();
        let mut sequence = 0i32;
        let mut expected_offset = 0i64;
        for chunk in indexes.chunks(500) {
            let mut b = BatchBuilder::new(codec).producer(pid, epoch, sequence);
            for &i in chunk {
                b.push(&NewRecord::new(1_700_000_000_000 + i as i64, payload(i)).with_key(format!("key-{i}"))).unwrap();
            }
            let batch = Records::from(b.build().unwrap().to_bytes().unwrap());
            let request = produce::v11::Request {
                acks: -1,
                timeout_ms: 5000,
                topic_data: vec![produce::v11::TopicProduceData {
                    name: TOPIC.into(),
                    partition_data: vec![produce::v11::PartitionProduceData {
                        index: p,
                        records: Some(batch),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            let r = leader.send_versioned(&request).await.unwrap();
            let pr = &r.responses[0].partition_responses[0];
            assert_eq!((pr.error_code.code(), pr.base_offset), (0, expected_offset), "{codec:?} partition {p}");
            // A retry of the same batch is recognised and not appended twice.
            if sequence == 0 {
                let r = leader.send_versioned(&request).await.unwrap();
                let pr = &r.responses[0].partition_responses[0];
                assert_eq!((pr.error_code.code(), pr.base_offset), (0, 0), "duplicate of the first batch");
            }
            sequence += chunk.len() as i32;
            expected_offset += chunk.len() as i64;
        }
    }
}

/// What the members consumed: (offset, record index) per partition, in the order consumed,
/// and the number of records, watched by the test.
#[derive(Default)]
struct Consumed {
    records: Mutex<BTreeMap<i32, Vec<(i64, usize)>>>,
    count: watch::Sender<usize>,
}

type Seen = Arc<Consumed>;

/// Waits until the members consumed `n` records.
async fn wait_for(seen: &Seen, n: usize) {
    let mut count = seen.count.subscribe();
    let waited = tokio::time::timeout(HANG_GUARD, count.wait_for(|c| *c >= n)).await;
    assert!(waited.is_ok(), "hang: consumed {} of {n} records", *seen.count.borrow());
}

/// A group member: its own client (a JoinGroup blocks its connection until the rebalance
/// completes, as on a real broker).
struct Member {
    client: Client,
    name: String,
    member_id: String,
    generation: i32,
    topic_id: Uuid,
}

const PROTOCOL_TYPE: &str = "consumer";

impl Member {
    async fn new(cluster: &MockCluster, name: &str) -> Member {
        let client = client(cluster).await;
        let r = client
            .send_versioned(
                &Target::AnyBroker,
                &metadata::v12::Request {
                    topics: Some(vec![metadata::v12::MetadataRequestTopic {
                        name: Some(TOPIC.into()),
                        ..Default::default()
                    }]),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let topic_id = r.topics[0].topic_id;
        // FindCoordinator v6 (batched keys) names the coordinator with a host.
        let r = client
            .send_versioned(
                &Target::AnyBroker,
                &find_coordinator::v6::Request {
                    key_type: 0,
                    coordinator_keys: vec![GROUP.into()],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let c = &r.coordinators[0];
        assert_eq!(c.error_code, ErrorCode::NONE);
        assert!(!c.host.is_empty() && c.port > 0, "{c:?}");
        Member { client, name: name.into(), member_id: String::new(), generation: -1, topic_id }
    }

    fn coordinator(&self) -> kafka_wire_client::Handle {
        self.client.handle(Target::group_coordinator(GROUP))
    }

    /// Joins (twice when asked for a member id) and syncs; the leader assigns partitions
    /// round-robin. Returns the partitions assigned to this member.
    async fn join(&mut self) -> Vec<i32> {
        loop {
            let r = self
                .coordinator()
                .send_versioned(&join_group::v9::Request {
                    group_id: GROUP.into(),
                    session_timeout_ms: SESSION_TIMEOUT_MS,
                    rebalance_timeout_ms: REBALANCE_TIMEOUT_MS,
                    member_id: self.member_id.as_str().into(),
                    protocol_type: PROTOCOL_TYPE.into(),
                    protocols: vec![join_group::v9::JoinGroupRequestProtocol {
                        name: "roundrobin".into(),
                        metadata: Bytes::from_static(b"subscription"),
                        ..Default::default()
                    }],
                    reason: Some(format!("{} joins", self.name).into()),
                    ..Default::default()
                })
                .await
                .unwrap();
            self.member_id = r.member_id.to_string();
            match r.error_code {
                ErrorCode::MEMBER_ID_REQUIRED => continue,
                ErrorCode::NONE => {}
                e => panic!("{}: JoinGroup: {e}", self.name),
            }
            self.generation = r.generation_id;
            let assignments = if *r.leader == *r.member_id {
                let ids: Vec<String> = r.members.iter().map(|m| m.member_id.to_string()).collect();
                ids.iter()
                    .enumerate()
                    .map(|(n, id)| {
                        let mine: Vec<u8> =
                            (0..PARTITIONS).filter(|p| *p as usize % ids.len() == n).map(|p| p as u8).collect();
                        sync_group::v5::SyncGroupRequestAssignment {
                            member_id: id.as_str().into(),
                            assignment: Bytes::from(mine),
                            ..Default::default()
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let r2 = self
                .coordinator()
                .send_versioned(&sync_group::v5::Request {
                    group_id: GROUP.into(),
                    generation_id: self.generation,
                    member_id: self.member_id.as_str().into(),
                    protocol_type: Some(PROTOCOL_TYPE.into()),
                    protocol_name: r.protocol_name.clone(),
                    assignments,
                    ..Default::default()
                })
                .await
                .unwrap();
            match r2.error_code {
                ErrorCode::NONE => return r2.assignment.iter().map(|p| i32::from(*p)).collect(),
                ErrorCode::REBALANCE_IN_PROGRESS => continue,
                e => panic!("{}: SyncGroup: {e}", self.name),
            }
        }
    }

    /// The committed offsets of `partitions` (0 where none).
    async fn committed(&self, partitions: &[i32]) -> BTreeMap<i32, i64> {
        let r = self
            .coordinator()
            .send_versioned(&offset_fetch::v9::Request {
                groups: vec![offset_fetch::v9::OffsetFetchRequestGroup {
                    group_id: GROUP.into(),
                    member_id: Some(self.member_id.as_str().into()),
                    member_epoch: -1,
                    topics: Some(vec![offset_fetch::v9::OffsetFetchRequestTopics {
                        name: TOPIC.into(),
                        partition_indexes: partitions.into(),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        let g = &r.groups[0];
        assert_eq!(g.error_code, ErrorCode::NONE);
        g.topics
            .iter()
            .flat_map(|t| t.partitions.iter())
            .map(|p| {
                assert_eq!(p.error_code, ErrorCode::NONE);
                (p.partition_index, p.committed_offset.max(0))
            })
            .collect()
    }

    async fn commit(&self, positions: &BTreeMap<i32, i64>) {
        if positions.is_empty() {
            return;
        }
        let r = self
            .coordinator()
            .send_versioned(&offset_commit::v9::Request {
                group_id: GROUP.into(),
                generation_id_or_member_epoch: self.generation,
                member_id: self.member_id.as_str().into(),
                topics: vec![offset_commit::v9::OffsetCommitRequestTopic {
                    name: TOPIC.into(),
                    partitions: positions
                        .iter()
                        .map(|(&p, &offset)| offset_commit::v9::OffsetCommitRequestPartition {
                            partition_index: p,
                            committed_offset: offset,
                            committed_leader_epoch: -1,
                            committed_metadata: Some(self.name.as_str().into()),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        for p in r.topics.iter().flat_map(|t| t.partitions.iter()) {
            assert_eq!(p.error_code, ErrorCode::NONE, "{}: commit of partition {}", self.name, p.partition_index);
        }
    }

    /// `true` when the group is rebalancing (this member must join again).
    async fn heartbeat(&self) -> bool {
        let r = self
            .coordinator()
            .send_versioned(&heartbeat::v4::Request {
                group_id: GROUP.into(),
                generation_id: self.generation,
                member_id: self.member_id.as_str().into(),
                ..Default::default()
            })
            .await
            .unwrap();
        match r.error_code {
            ErrorCode::NONE => false,
            ErrorCode::REBALANCE_IN_PROGRESS => true,
            e => panic!("{}: Heartbeat: {e}", self.name),
        }
    }

    async fn leave(&self) {
        let r = self
            .coordinator()
            .send_versioned(&leave_group::v5::Request {
                group_id: GROUP.into(),
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
        assert_eq!((&*r.members[0].member_id, r.members[0].error_code.code()), (self.member_id.as_str(), 0));
    }

    /// One Fetch v17 per assigned partition from its leader; records go to `seen`.
    async fn fetch_round(&self, positions: &mut BTreeMap<i32, i64>, seen: &Seen) {
        for (&p, position) in positions.iter_mut() {
            let r = self
                .client
                .handle(Target::leader(TOPIC, p))
                .send_versioned(&fetch::v17::Request {
                    max_wait_ms: 20,
                    min_bytes: 1,
                    max_bytes: 64 * 1024,
                    session_epoch: -1,
                    topics: vec![fetch::v17::FetchTopic {
                        topic_id: self.topic_id,
                        partitions: vec![fetch::v17::FetchPartition {
                            partition: p,
                            current_leader_epoch: -1,
                            fetch_offset: *position,
                            last_fetched_epoch: -1,
                            log_start_offset: -1,
                            partition_max_bytes: 16 * 1024,
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
            assert_eq!(data.error_code, ErrorCode::NONE, "fetch of partition {p}");
            let Some(records) = &data.records else { continue };
            // The last batch may be cut at the byte limit, as a real broker does: read up to it.
            let mut consumed = seen.records.lock().unwrap();
            for batch in records.batches() {
                let Ok(batch) = batch else { break };
                for record in batch.records().unwrap() {
                    let record = record.unwrap();
                    if record.offset < *position {
                        continue;
                    }
                    assert_eq!(record.offset, *position);
                    consumed.entry(p).or_default().push((record.offset, index_of(record.value.as_ref().unwrap())));
                    *position += 1;
                }
            }
            let total = consumed.values().map(Vec::len).sum();
            drop(consumed);
            seen.count.send_replace(total);
        }
    }

    /// Consumes until `stop` is set: join, fetch the committed offsets, fetch and commit in
    /// rounds, join again when the group rebalances. When stopped it commits its position and
    /// leaves the group at once, as `KafkaConsumer.close()` does: a member that stays in the
    /// group without heartbeating holds up the next rebalance until the coordinator removes it.
    async fn run(&mut self, seen: Seen, stop: Arc<AtomicBool>) {
        'member: loop {
            let assigned = self.join().await;
            let mut positions = self.committed(&assigned).await;
            loop {
                if stop.load(Ordering::SeqCst) {
                    self.commit(&positions).await;
                    self.leave().await;
                    break 'member;
                }
                self.fetch_round(&mut positions, &seen).await;
                self.commit(&positions).await;
                if self.heartbeat().await {
                    continue 'member;
                }
                if positions.is_empty() {
                    // A member without partitions only heartbeats: this is its heartbeat
                    // interval, not a wait for anything.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

async fn scenario(codec: Compression) {
    let started = Instant::now();
    let cluster = MockCluster::start(MockConfig::new().brokers(3).topic(TOPIC, PARTITIONS)).await.unwrap();
    let producer = client(&cluster).await;
    produce_all(&producer, codec).await;
    let produced = started.elapsed();

    let seen: Seen = Arc::default();
    let stop_a = Arc::new(AtomicBool::new(false));
    let stop_b = Arc::new(AtomicBool::new(false));
    let mut a = Member::new(&cluster, "member-a").await;
    let mut b = Member::new(&cluster, "member-b").await;
    let task_a = tokio::spawn({
        let (seen, stop) = (seen.clone(), stop_a.clone());
        async move { a.run(seen, stop).await }
    });
    let task_b = tokio::spawn({
        let (seen, stop) = (seen.clone(), stop_b.clone());
        async move { b.run(seen, stop).await }
    });
    wait_for(&seen, RECORDS / 2).await;
    // Member a commits, leaves; a new member takes its place and resumes from the commits.
    stop_a.store(true, Ordering::SeqCst);
    task_a.await.unwrap();
    let stop_c = Arc::new(AtomicBool::new(false));
    let mut c = Member::new(&cluster, "member-a-restarted").await;
    let task_c = tokio::spawn({
        let (seen, stop) = (seen.clone(), stop_c.clone());
        async move { c.run(seen, stop).await }
    });
    wait_for(&seen, RECORDS).await;
    stop_b.store(true, Ordering::SeqCst);
    stop_c.store(true, Ordering::SeqCst);
    task_b.await.unwrap();
    task_c.await.unwrap();

    let seen = seen.records.lock().unwrap().clone();
    for p in 0..PARTITIONS {
        let end = cluster.end_offset(TOPIC, p).unwrap();
        let want: Vec<(i64, usize)> = (0..end).map(|o| (o, p as usize + 3 * o as usize)).collect();
        assert_eq!(seen[&p].len(), want.len(), "partition {p}: records consumed");
        assert!(seen[&p] == want, "partition {p}: records lost, duplicated or out of order");
        assert_eq!(cluster.committed_offset(GROUP, TOPIC, p), Some(end), "partition {p}: committed offset");
    }
    // Every member left by itself: none was removed by a session or rebalance timeout.
    let events = cluster.group_events(GROUP);
    for e in &events {
        if let GroupEvent::MemberRemoved { reason, .. } = e {
            assert_eq!(*reason, RemovalReason::LeaveGroup, "{events:#?}");
        }
    }
    let (generation, members) = cluster.group_members(GROUP).unwrap();
    assert!(members.is_empty() && generation >= 3, "{generation} {members:?}");
    println!(
        "kafka-wire-client × {codec:?}: produced {RECORDS} in {produced:?}, total {:?}, group generations {generation}",
        started.elapsed()
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_none() {
    scenario(Compression::None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_gzip() {
    scenario(Compression::Gzip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_snappy() {
    scenario(Compression::Snappy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_lz4() {
    scenario(Compression::Lz4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_zstd() {
    scenario(Compression::Zstd).await;
}

/// The versions librdkafka's MockCluster mishandled, checked against this broker: the newest
/// ApiVersions negotiates (no fallback to an older version), the newest versions of the group
/// and data APIs are served, and Produce with acks=0 gets no answer.
#[tokio::test]
async fn versions_librdkafka_mock_mishandled() {
    let cluster = MockCluster::start(MockConfig::new().topic(TOPIC, 1)).await.unwrap();
    let addr = cluster.bootstrap_servers();
    let connection = Connection::connect(addr.clone(), ConnectionConfig::default()).await.unwrap();
    let versions = connection.versions().await.unwrap();
    for api in [
        ApiKey::ApiVersions,
        ApiKey::JoinGroup,
        ApiKey::SyncGroup,
        ApiKey::LeaveGroup,
        ApiKey::FindCoordinator,
        ApiKey::Produce,
        ApiKey::Fetch,
    ] {
        assert_eq!(versions.get(api), Some(api.versions().max), "{api:?}");
    }
    let r = connection
        .send_versioned(&api_versions::v3::Request {
            client_software_name: "kafka-wire-tests".into(),
            client_software_version: "0.1.0".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE);
    assert_eq!(connection.connections_opened(), 1, "no fallback reconnect");

    // acks=0: written, no response; the next request's answer is its own.
    let mut b = BatchBuilder::new(Compression::Lz4);
    b.push(&NewRecord::new(1, "fire and forget")).unwrap();
    let request = produce::v11::Request {
        acks: 0,
        timeout_ms: 1000,
        topic_data: vec![produce::v11::TopicProduceData {
            name: TOPIC.into(),
            partition_data: vec![produce::v11::PartitionProduceData {
                index: 0,
                records: Some(Records::from(b.build().unwrap().to_bytes().unwrap())),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    connection.send_versioned(&request).await.unwrap();
    let r = connection
        .send_versioned(&api_versions::v4::Request {
            client_software_name: "kafka-wire-tests".into(),
            client_software_version: "0.1.0".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE);
    assert_eq!(cluster.end_offset(TOPIC, 0), Some(1));
    assert_eq!(connection.connections_opened(), 1);
    cluster.shutdown().await;
}
