//! Transactions on the mock, through this project's client with the generated request types:
//! a transactional copy (consume from `src`, produce to `dst`, commit the consumed offsets in
//! the transaction) with commits and an abort, read back read_committed and read_uncommitted;
//! fencing by a second producer with the same transactional id; a transaction that times out;
//! the KIP-890 forms (verification errors, Produce v12 and EndTxn v5); and the admin views.
//!
//! Nothing waits on the clock: the timed-out transaction is observed by a long-polling Fetch
//! that the abort marker wakes.

use std::time::Duration;

use kafka_wire::records::{Batch, BatchBuilder, Compression, ControlRecord, NewRecord, RecordBatch};
use kafka_wire::{
    add_offsets_to_txn, add_partitions_to_txn, describe_producers, describe_transactions, end_txn, fetch,
    init_producer_id, list_offsets, list_transactions, offset_fetch, produce, txn_offset_commit, ErrorCode, Records,
};
use kafka_wire_client::{Client, ConnectionConfig, Target};
use kafka_wire_mock::{MockCluster, MockConfig};

const SRC: &str = "src";
const DST: &str = "dst";
const GROUP: &str = "copier";
/// Only a hang reaches this.
const HANG_GUARD: Duration = Duration::from_secs(120);

async fn client(cluster: &MockCluster) -> Client {
    Client::connect(cluster.bootstrap_servers().split(','), ConnectionConfig::default()).await.unwrap()
}

/// A producer of one transactional id: its producer id, epoch and next sequence per partition.
struct TxnProducer {
    client: Client,
    id: String,
    pid: i64,
    epoch: i16,
    sequences: std::collections::BTreeMap<(String, i32), i32>,
}

impl TxnProducer {
    /// InitProducerId v4 (retried on CONCURRENT_TRANSACTIONS, as producers do).
    async fn init(client: &Client, id: &str, timeout_ms: i32) -> (TxnProducer, u32) {
        let mut retries = 0;
        loop {
            let r = client
                .send_versioned(
                    &Target::transaction_coordinator(id),
                    &init_producer_id::v4::Request {
                        transactional_id: Some(id.into()),
                        transaction_timeout_ms: timeout_ms,
                        producer_id: -1,
                        producer_epoch: -1,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            if r.error_code == ErrorCode::CONCURRENT_TRANSACTIONS {
                retries += 1;
                continue;
            }
            assert_eq!(r.error_code, ErrorCode::NONE);
            let producer = TxnProducer {
                client: client.clone(),
                id: id.into(),
                pid: r.producer_id,
                epoch: r.producer_epoch,
                sequences: Default::default(),
            };
            return (producer, retries);
        }
    }

    async fn add_partitions(&self, topic: &str, partitions: &[i32]) -> Vec<ErrorCode> {
        let r = self
            .client
            .send_versioned(
                &Target::transaction_coordinator(self.id.as_str()),
                &add_partitions_to_txn::v3::Request {
                    v3_and_below_transactional_id: self.id.as_str().into(),
                    v3_and_below_producer_id: self.pid,
                    v3_and_below_producer_epoch: self.epoch,
                    v3_and_below_topics: vec![add_partitions_to_txn::v3::AddPartitionsToTxnTopic {
                        name: topic.into(),
                        partitions: partitions.iter().copied().collect(),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        r.results_by_topic_v3_and_below
            .iter()
            .flat_map(|t| t.results_by_partition.iter().map(|p| p.partition_error_code))
            .collect()
    }

    /// A transactional batch of `values` to a partition with Produce v11: (error, base offset).
    async fn produce(&mut self, topic: &str, partition: i32, values: &[String]) -> (ErrorCode, i64) {
        let sequence = *self.sequences.get(&(topic.to_owned(), partition)).unwrap_or(&0);
        let records = transactional_batch(self.pid, self.epoch, sequence, values);
        let r = self
            .client
            .send_versioned(
                &Target::leader(topic, partition),
                &produce::v11::Request {
                    transactional_id: Some(self.id.as_str().into()),
                    acks: -1,
                    timeout_ms: 5000,
                    topic_data: vec![produce::v11::TopicProduceData {
                        name: topic.into(),
                        partition_data: vec![produce::v11::PartitionProduceData {
                            index: partition,
                            records: Some(records),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let p = &r.responses[0].partition_responses[0];
        if p.error_code == ErrorCode::NONE {
            self.sequences.insert((topic.to_owned(), partition), sequence + values.len() as i32);
        }
        (p.error_code, p.base_offset)
    }

    async fn add_offsets(&self, group: &str) -> ErrorCode {
        let r = self
            .client
            .send_versioned(
                &Target::transaction_coordinator(self.id.as_str()),
                &add_offsets_to_txn::v3::Request {
                    transactional_id: self.id.as_str().into(),
                    producer_id: self.pid,
                    producer_epoch: self.epoch,
                    group_id: group.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        r.error_code
    }

    async fn commit_offsets(&self, group: &str, topic: &str, offsets: &[(i32, i64)]) -> Vec<ErrorCode> {
        let r = self
            .client
            .send_versioned(
                &Target::group_coordinator(group),
                &txn_offset_commit::v3::Request {
                    transactional_id: self.id.as_str().into(),
                    group_id: group.into(),
                    producer_id: self.pid,
                    producer_epoch: self.epoch,
                    generation_id_or_member_epoch: -1,
                    topics: vec![txn_offset_commit::v3::TxnOffsetCommitRequestTopic {
                        name: topic.into(),
                        partitions: offsets
                            .iter()
                            .map(|&(p, o)| txn_offset_commit::v3::TxnOffsetCommitRequestPartition {
                                partition_index: p,
                                committed_offset: o,
                                committed_leader_epoch: -1,
                                committed_metadata: Some("".into()),
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
        r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code)).collect()
    }

    /// EndTxn v3 (transaction version 1: the epoch stays).
    async fn end(&self, commit: bool) -> ErrorCode {
        let r = self
            .client
            .send_versioned(
                &Target::transaction_coordinator(self.id.as_str()),
                &end_txn::v3::Request {
                    transactional_id: self.id.as_str().into(),
                    producer_id: self.pid,
                    producer_epoch: self.epoch,
                    committed: commit,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        r.error_code
    }
}

fn transactional_batch(pid: i64, epoch: i16, sequence: i32, values: &[String]) -> Records {
    let mut b = BatchBuilder::new(Compression::None).producer(pid, epoch, sequence).transactional(true);
    for v in values {
        b.push(&NewRecord::new(1_700_000_000_000, v.clone())).unwrap();
    }
    Records::from(b.build().unwrap().to_bytes().unwrap())
}

/// One Fetch v12 of a partition from `offset`: the batches, the aborted transactions (producer
/// id, first offset), the high watermark and the last stable offset.
struct Fetched {
    batches: Vec<RecordBatch>,
    aborted: Option<Vec<(i64, i64)>>,
    high_watermark: i64,
    last_stable_offset: i64,
}

async fn fetch(client: &Client, topic: &str, partition: i32, offset: i64, committed: bool, wait_ms: i32) -> Fetched {
    let r = client
        .send_versioned(
            &Target::leader(topic, partition),
            &fetch::v12::Request {
                replica_id: -1,
                max_wait_ms: wait_ms,
                min_bytes: 1,
                max_bytes: 1 << 20,
                isolation_level: i8::from(committed),
                session_epoch: -1,
                topics: vec![fetch::v12::FetchTopic {
                    topic: topic.into(),
                    partitions: vec![fetch::v12::FetchPartition {
                        partition,
                        current_leader_epoch: -1,
                        fetch_offset: offset,
                        last_fetched_epoch: -1,
                        log_start_offset: -1,
                        partition_max_bytes: 1 << 20,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let p = &r.responses[0].partitions[0];
    assert_eq!(p.error_code, ErrorCode::NONE);
    let batches = p
        .records
        .as_ref()
        .map(|r| {
            r.batches()
                .map(|b| match b.unwrap() {
                    Batch::V2(b) => b,
                    Batch::Legacy(_) => panic!("legacy batch"),
                })
                .collect()
        })
        .unwrap_or_default();
    Fetched {
        batches,
        aborted: p.aborted_transactions.as_ref().map(|a| a.iter().map(|a| (a.producer_id, a.first_offset)).collect()),
        high_watermark: p.high_watermark,
        last_stable_offset: p.last_stable_offset,
    }
}

/// What a read_committed consumer delivers from fetched batches (Kafka's `CompletedFetch`):
/// control batches dropped, and the batches of aborted transactions, from their first offset
/// until their ABORT marker.
fn committed_values(f: &Fetched) -> Vec<String> {
    let mut aborted: Vec<(i64, i64)> = f.aborted.clone().unwrap_or_default();
    let mut open_aborted: std::collections::BTreeSet<i64> = Default::default();
    let mut out = Vec::new();
    for b in &f.batches {
        aborted.retain(|&(pid, first)| {
            if first <= b.base_offset {
                open_aborted.insert(pid);
                false
            } else {
                true
            }
        });
        if b.is_control() {
            let record = b.records().unwrap().next().unwrap().unwrap();
            if matches!(ControlRecord::parse(&record).unwrap(), ControlRecord::Abort { .. }) {
                open_aborted.remove(&b.producer_id);
            }
            continue;
        }
        if b.is_transactional() && open_aborted.contains(&b.producer_id) {
            continue;
        }
        for r in b.records().unwrap() {
            out.push(String::from_utf8(r.unwrap().value.unwrap().to_vec()).unwrap());
        }
    }
    out
}

fn all_values(f: &Fetched) -> Vec<String> {
    f.batches
        .iter()
        .filter(|b| !b.is_control())
        .flat_map(|b| b.records().unwrap().map(|r| String::from_utf8(r.unwrap().value.unwrap().to_vec()).unwrap()))
        .collect()
}

fn markers(f: &Fetched) -> Vec<(i64, bool)> {
    f.batches
        .iter()
        .filter(|b| b.is_control())
        .map(|b| {
            let record = b.records().unwrap().next().unwrap().unwrap();
            (b.base_offset, matches!(ControlRecord::parse(&record).unwrap(), ControlRecord::Commit { .. }))
        })
        .collect()
}

async fn list_latest(client: &Client, topic: &str, partition: i32, committed: bool) -> i64 {
    let r = client
        .send_versioned(
            &Target::leader(topic, partition),
            &list_offsets::v7::Request {
                replica_id: -1,
                isolation_level: i8::from(committed),
                topics: vec![list_offsets::v7::ListOffsetsTopic {
                    name: topic.into(),
                    partitions: vec![list_offsets::v7::ListOffsetsPartition {
                        partition_index: partition,
                        current_leader_epoch: -1,
                        timestamp: -1,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    r.topics[0].partitions[0].offset
}

/// OffsetFetch v7 of one partition: (error, offset).
async fn committed_offset(client: &Client, topic: &str, partition: i32, require_stable: bool) -> (ErrorCode, i64) {
    let r = client
        .send_versioned(
            &Target::group_coordinator(GROUP),
            &offset_fetch::v7::Request {
                group_id: GROUP.into(),
                topics: Some(vec![offset_fetch::v7::OffsetFetchRequestTopic {
                    name: topic.into(),
                    partition_indexes: [partition].into_iter().collect(),
                    ..Default::default()
                }]),
                require_stable,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let p = &r.topics[0].partitions[0];
    (p.error_code, p.committed_offset)
}

fn values(round: usize) -> Vec<String> {
    (0..5).map(|i| format!("round {round} record {i}")).collect()
}

/// Three transactions copy `src` to `dst`, the second aborted; each commits the consumed
/// offset in the transaction. read_committed sees rounds 0 and 2 and the offset of round 2;
/// read_uncommitted sees everything, with a marker after each transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactional_copy_with_commits_and_an_abort() {
    let cluster = MockCluster::start(MockConfig::new().brokers(3).topic(SRC, 1).topic(DST, 1)).await.unwrap();
    let client = client(&cluster).await;
    let (mut producer, retries) = TxnProducer::init(&client, "copy-1", 60_000).await;
    assert_eq!((producer.epoch, retries), (0, 0));
    let mut expected_committed = Vec::new();
    for round in 0..3 {
        let commit = round != 1;
        assert_eq!(producer.add_partitions(DST, &[0]).await, [ErrorCode::NONE]);
        let (code, _) = producer.produce(DST, 0, &values(round)).await;
        assert_eq!(code, ErrorCode::NONE);
        // While the transaction is open: the last stable offset stays at its first batch.
        let open = fetch(&client, DST, 0, 0, true, 0).await;
        assert!(open.last_stable_offset < open.high_watermark, "round {round}");
        assert_eq!(list_latest(&client, DST, 0, true).await, open.last_stable_offset);
        assert_eq!(list_latest(&client, DST, 0, false).await, open.high_watermark);
        assert_eq!(producer.add_offsets(GROUP).await, ErrorCode::NONE);
        let consumed = 10 * (round as i64 + 1);
        assert_eq!(producer.commit_offsets(GROUP, SRC, &[(0, consumed)]).await, [ErrorCode::NONE]);
        // The offset is pending: unstable for require_stable, the old one otherwise.
        assert_eq!(committed_offset(&client, SRC, 0, true).await, (ErrorCode::UNSTABLE_OFFSET_COMMIT, -1));
        let before = committed_offset(&client, SRC, 0, false).await;
        assert_eq!(before.0, ErrorCode::NONE);
        assert_eq!(producer.end(commit).await, ErrorCode::NONE);
        if commit {
            expected_committed.extend(values(round));
            assert_eq!(committed_offset(&client, SRC, 0, true).await, (ErrorCode::NONE, consumed));
        } else {
            assert_eq!(committed_offset(&client, SRC, 0, true).await, before);
        }
    }
    // Ending again: a retry of the completed end is answered NONE (transaction version 1).
    assert_eq!(producer.end(true).await, ErrorCode::NONE);
    assert_eq!(producer.end(false).await, ErrorCode::INVALID_TXN_STATE);

    let committed = fetch(&client, DST, 0, 0, true, 0).await;
    assert_eq!(committed.high_watermark, 18);
    assert_eq!(committed.last_stable_offset, 18);
    assert_eq!(committed.aborted, Some(vec![(producer.pid, 6)]));
    assert_eq!(committed_values(&committed), expected_committed);
    assert_eq!(markers(&committed), [(5, true), (11, false), (17, true)]);
    let uncommitted = fetch(&client, DST, 0, 0, false, 0).await;
    assert_eq!(uncommitted.aborted, None);
    assert_eq!(all_values(&uncommitted), [values(0), values(1), values(2)].concat());
    // The marker batches as Kafka writes them.
    let marker = &committed.batches[1];
    assert!(marker.is_control() && marker.is_transactional());
    assert_eq!((marker.producer_id, marker.producer_epoch, marker.base_sequence), (producer.pid, 0, -1));
    assert_eq!(cluster.committed_offset(GROUP, SRC, 0), Some(30));
    cluster.shutdown().await;
}

/// A second producer with the same transactional id fences the first: its open transaction is
/// aborted (CONCURRENT_TRANSACTIONS, then the retry gets the epoch), and the old epoch is
/// refused everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_producer_fences_the_old_one_and_aborts_its_transaction() {
    let cluster = MockCluster::start(MockConfig::new().brokers(3).topic(DST, 2)).await.unwrap();
    let client = client(&cluster).await;
    let (mut old, _) = TxnProducer::init(&client, "fenced", 60_000).await;
    assert_eq!(old.add_partitions(DST, &[0, 1]).await, [ErrorCode::NONE; 2]);
    assert_eq!(old.produce(DST, 0, &values(0)).await, (ErrorCode::NONE, 0));
    assert_eq!(fetch(&client, DST, 0, 0, true, 0).await.last_stable_offset, 0);

    let (new, retries) = TxnProducer::init(&client, "fenced", 60_000).await;
    assert_eq!(new.pid, old.pid);
    assert_eq!(retries, 1, "the open transaction was aborted first");
    // Fenced (+1), then this producer's epoch (+1): the abort keeps the fenced epoch (as
    // Kafka 4.4 does, for transactions of version 1 and 2).
    assert_eq!(new.epoch, old.epoch + 2);
    let aborted = fetch(&client, DST, 0, 0, true, 0).await;
    assert_eq!((aborted.last_stable_offset, aborted.aborted.clone()), (6, Some(vec![(old.pid, 0)])));
    assert!(committed_values(&aborted).is_empty());
    // Both partitions got the abort marker.
    assert_eq!(markers(&fetch(&client, DST, 1, 0, false, 0).await), [(0, false)]);

    assert_eq!(old.add_partitions(DST, &[0]).await, [ErrorCode::PRODUCER_FENCED]);
    assert_eq!(old.end(true).await, ErrorCode::PRODUCER_FENCED);
    assert_eq!(old.produce(DST, 0, &values(1)).await.0, ErrorCode::INVALID_PRODUCER_EPOCH);
    // The old producer's InitProducerId with its own epoch is fenced too (KIP-360).
    let r = client
        .send_versioned(
            &Target::transaction_coordinator("fenced"),
            &init_producer_id::v4::Request {
                transactional_id: Some("fenced".into()),
                transaction_timeout_ms: 60_000,
                producer_id: old.pid,
                producer_epoch: old.epoch,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(r.error_code, ErrorCode::PRODUCER_FENCED);
    cluster.shutdown().await;
}

/// A transaction open longer than its `transaction.timeout.ms` is aborted by the coordinator;
/// the producer is fenced. The test waits for the abort marker with a long-polling Fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_that_times_out_is_aborted() {
    let cluster = MockCluster::start(MockConfig::new().topic(DST, 1)).await.unwrap();
    let client = client(&cluster).await;
    let (mut producer, _) = TxnProducer::init(&client, "slow", 50).await;
    // Produce v12 adds the partition and starts the transaction with the append (an
    // AddPartitionsToTxn first could see the transaction time out before the batch came).
    let v12 = produce::v12::Request {
        transactional_id: Some("slow".into()),
        acks: -1,
        timeout_ms: 5000,
        topic_data: vec![produce::v12::TopicProduceData {
            name: DST.into(),
            partition_data: vec![produce::v12::PartitionProduceData {
                index: 0,
                records: Some(transactional_batch(producer.pid, producer.epoch, 0, &values(0))),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = client.send_versioned(&Target::leader(DST, 0), &v12).await.unwrap();
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);
    producer.sequences.insert((DST.to_owned(), 0), 5);
    let marker = tokio::time::timeout(HANG_GUARD, async {
        loop {
            let f = fetch(&client, DST, 0, 5, false, 10_000).await;
            if let Some(m) = markers(&f).first() {
                return *m;
            }
        }
    })
    .await
    .expect("hang: no abort marker");
    assert_eq!(marker, (5, false));
    let f = fetch(&client, DST, 0, 0, true, 0).await;
    assert_eq!((f.last_stable_offset, f.aborted), (6, Some(vec![(producer.pid, 0)])));
    assert_eq!(producer.end(true).await, ErrorCode::PRODUCER_FENCED);
    assert_eq!(producer.produce(DST, 0, &values(1)).await.0, ErrorCode::INVALID_PRODUCER_EPOCH);
    cluster.shutdown().await;
}

/// KIP-890: a transactional batch for a partition that is not in the transaction is refused
/// (TRANSACTION_ABORTABLE from Produce v11, INVALID_TXN_STATE before); Produce v12 adds the
/// partition itself; EndTxn v5 bumps the epoch and answers it; the verify-only batched
/// AddPartitionsToTxn v4 checks partitions without adding them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_version_2_forms() {
    let cluster = MockCluster::start(MockConfig::new().topic(DST, 3)).await.unwrap();
    let client = client(&cluster).await;
    let (mut producer, _) = TxnProducer::init(&client, "tv2", 60_000).await;
    assert_eq!(producer.produce(DST, 0, &values(0)).await.0, ErrorCode::TRANSACTION_ABORTABLE);
    let v10 = |partition: i32, pid: i64, epoch: i16| produce::v10::Request {
        transactional_id: Some("tv2".into()),
        acks: -1,
        timeout_ms: 5000,
        topic_data: vec![produce::v10::TopicProduceData {
            name: DST.into(),
            partition_data: vec![produce::v10::PartitionProduceData {
                index: partition,
                records: Some(transactional_batch(pid, epoch, 0, &values(0))),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = client.send_versioned(&Target::leader(DST, 0), &v10(0, producer.pid, producer.epoch)).await.unwrap();
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::INVALID_TXN_STATE);
    let v12 = produce::v12::Request {
        transactional_id: Some("tv2".into()),
        acks: -1,
        timeout_ms: 5000,
        topic_data: vec![produce::v12::TopicProduceData {
            name: DST.into(),
            partition_data: vec![produce::v12::PartitionProduceData {
                index: 1,
                records: Some(transactional_batch(producer.pid, producer.epoch, 0, &values(0))),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = client.send_versioned(&Target::leader(DST, 1), &v12).await.unwrap();
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);

    let verify = add_partitions_to_txn::v4::Request {
        transactions: vec![add_partitions_to_txn::v4::AddPartitionsToTxnTransaction {
            transactional_id: "tv2".into(),
            producer_id: producer.pid,
            producer_epoch: producer.epoch,
            verify_only: true,
            topics: vec![add_partitions_to_txn::v4::AddPartitionsToTxnTopic {
                name: DST.into(),
                partitions: [1, 2].into_iter().collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = client.send_versioned(&Target::transaction_coordinator("tv2"), &verify).await.unwrap();
    let codes: Vec<ErrorCode> = r.results_by_transaction[0].topic_results[0]
        .results_by_partition
        .iter()
        .map(|p| p.partition_error_code)
        .collect();
    assert_eq!(codes, [ErrorCode::NONE, ErrorCode::TRANSACTION_ABORTABLE]);

    // The admin views of the open transaction.
    let r = client
        .send_versioned(
            &Target::transaction_coordinator("tv2"),
            &describe_transactions::v0::Request {
                transactional_ids: vec!["tv2".into(), "nobody".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let t = &r.transaction_states[0];
    assert_eq!((t.error_code, &*t.transaction_state, t.producer_id), (ErrorCode::NONE, "Ongoing", producer.pid));
    assert_eq!(t.topics.len(), 1);
    assert_eq!((&*t.topics[0].topic, t.topics[0].partitions.to_vec()), (DST, vec![1]));
    assert_eq!(r.transaction_states[1].error_code, ErrorCode::TRANSACTIONAL_ID_NOT_FOUND);
    let r = client
        .send_versioned(
            &Target::transaction_coordinator("tv2"),
            &list_transactions::v1::Request {
                state_filters: vec!["Ongoing".into(), "Nonsense".into()],
                duration_filter: -1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(r.unknown_state_filters, ["Nonsense"]);
    assert_eq!(r.transaction_states.iter().map(|t| t.transactional_id.to_string()).collect::<Vec<_>>(), ["tv2"]);
    let r = client
        .send_versioned(
            &Target::leader(DST, 1),
            &describe_producers::v0::Request {
                topics: vec![describe_producers::v0::TopicRequest {
                    name: DST.into(),
                    partition_indexes: [1].into_iter().collect(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let p = &r.topics[0].partitions[0].active_producers;
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].producer_id, p[0].last_sequence, p[0].current_txn_start_offset), (producer.pid, 4, 0));

    let r = client
        .send_versioned(
            &Target::transaction_coordinator("tv2"),
            &end_txn::v5::Request {
                transactional_id: "tv2".into(),
                producer_id: producer.pid,
                producer_epoch: producer.epoch,
                committed: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((r.error_code, r.producer_id, r.producer_epoch), (ErrorCode::NONE, producer.pid, producer.epoch + 1));
    let f = fetch(&client, DST, 1, 0, true, 0).await;
    assert_eq!(committed_values(&f), values(0));
    assert_eq!(f.batches[1].producer_epoch, producer.epoch + 1, "the marker carries the bumped epoch");
    cluster.shutdown().await;
}
