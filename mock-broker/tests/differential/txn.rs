//! Transactions, the mock next to Kafka 4.4: a transactional producer that produces to a
//! partition outside its transaction (Produce v10 and v11), adds partitions (one unknown),
//! is refused with a wrong producer id and epoch, is fenced by a second InitProducerId (which
//! aborts its open transaction), and whose successor commits records and group offsets
//! (OffsetFetch with require_stable while they are pending); read_committed Fetch and
//! ListOffsets at each point; the admin views (DescribeTransactions, ListTransactions,
//! DescribeProducers); and the transaction version 2 forms (Produce v12 adding its partition,
//! EndTxn v5 bumping the epoch); and a transaction that times out.
//!
//! Kafka writes markers after it answers EndTxn (PrepareCommit / PrepareAbort meanwhile); the
//! mock writes them while answering. Steps right after an end are therefore sent until their
//! answer is not retriable (`send_settled`), on both systems alike.

use std::fmt::Debug;

use kafka_wire::{
    add_offsets_to_txn, add_partitions_to_txn, describe_producers, describe_transactions, end_txn, fetch,
    find_coordinator, init_producer_id, list_offsets, list_transactions, offset_fetch, produce, txn_offset_commit,
    Records, Uuid,
};
use kafka_wire_client::Target;

use kafka_wire::records::{BatchBuilder, NewRecord};

use super::{
    compare, fetch_request, kafka, list_offsets_request, mock, norm_fetch, summarise, Compression, Sys, Transcript,
};

const TOPIC: &str = "diff-txn";
const TXN: &str = "diff-txn-id";
const TXN2: &str = "diff-txn-id-2";
const GROUP: &str = "diff-txn-group";

fn init_request(id: &str, producer: (i64, i16)) -> init_producer_id::v5::Request {
    init_producer_id::v5::Request {
        transactional_id: Some(id.into()),
        transaction_timeout_ms: 60_000,
        producer_id: producer.0,
        producer_epoch: producer.1,
        ..Default::default()
    }
}

fn add_request(id: &str, producer: (i64, i16), partitions: &[(&str, i32)]) -> add_partitions_to_txn::v3::Request {
    add_partitions_to_txn::v3::Request {
        v3_and_below_transactional_id: id.into(),
        v3_and_below_producer_id: producer.0,
        v3_and_below_producer_epoch: producer.1,
        v3_and_below_topics: partitions
            .iter()
            .map(|&(topic, p)| add_partitions_to_txn::v3::AddPartitionsToTxnTopic {
                name: topic.into(),
                partitions: [p].into_iter().collect(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// A transactional batch of 3 records `value-<base + i>`, as Produce v11. The timestamps are
/// the clock's (Kafka rolls a segment when a batch is a `segment.ms` older than the marker
/// after it, and a fetch reads one segment), masked when compared.
fn txn_produce(id: &str, producer: (i64, i16), sequence: i32, base: i32) -> produce::v11::Request {
    let mut r = super::produce_request(TOPIC, 0, None, -1);
    r.transactional_id = Some(id.into());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let mut builder =
        BatchBuilder::new(Compression::None).producer(producer.0, producer.1, sequence).transactional(true);
    for i in base..base + 3 {
        builder.push(&NewRecord::new(now, format!("value-{i}")).with_key(format!("key-{i}"))).unwrap();
    }
    let records = builder.build().unwrap().to_bytes().unwrap();
    r.topic_data[0].partition_data[0].records = Some(Records::from(records));
    r
}

fn end_request(id: &str, producer: (i64, i16), commit: bool) -> end_txn::v4::Request {
    end_txn::v4::Request {
        transactional_id: id.into(),
        producer_id: producer.0,
        producer_epoch: producer.1,
        committed: commit,
        ..Default::default()
    }
}

fn committed_fetch(topic_id: Uuid, offset: i64) -> fetch::v17::Request {
    let mut r = fetch_request(topic_id, &[(0, offset, 1 << 20)], 1 << 20, 0, 0);
    r.isolation_level = 1;
    r
}

fn committed_latest() -> list_offsets::v10::Request {
    let mut r = list_offsets_request(TOPIC, &[(0, -1)]);
    r.isolation_level = 1;
    r
}

fn offset_fetch_stable() -> offset_fetch::v7::Request {
    offset_fetch::v7::Request {
        group_id: GROUP.into(),
        topics: Some(vec![offset_fetch::v7::OffsetFetchRequestTopic {
            name: TOPIC.into(),
            partition_indexes: [0].into_iter().collect(),
            ..Default::default()
        }]),
        require_stable: true,
        ..Default::default()
    }
}

/// Producer ids become "set" (0) or stay negative; timestamps of markers go (they are the
/// broker's clock).
fn pid(id: i64) -> i64 {
    id.min(0)
}

fn norm<T: Debug>(r: T) -> String {
    format!("{r:#?}")
}

/// A Fetch answer with the producer ids of its aborted transactions and the timestamps of its
/// control batches masked.
fn norm_committed_fetch(s: &Sys, leader: i32, mut r: fetch::v17::Response) -> String {
    for t in &mut r.responses {
        for p in &mut t.partitions {
            for a in p.aborted_transactions.iter_mut().flatten() {
                a.producer_id = pid(a.producer_id);
            }
            if let Some(records) = p.records.take() {
                let mut summary = summarise(&records);
                for b in &mut summary.batches {
                    (b.base_timestamp, b.max_timestamp) = (0, 0);
                    b.records.iter_mut().for_each(|r| r.1 = 0);
                }
                return format!("{:#?}\n{summary:#?}", norm_fetch(s, leader, r.clone()));
            }
        }
    }
    format!("{:#?}", norm_fetch(s, leader, r))
}

async fn txn_script(s: &Sys, t: &mut Transcript) {
    let topic_id = s.create_topic(TOPIC, 1, 1, &[]).await;
    let leader = s.leader(TOPIC, 0).await;
    let coordinator = Target::transaction_coordinator(TXN);
    // Warm up: the transaction state topic is created on the first lookup.
    let lookup =
        find_coordinator::v6::Request { key_type: 1, coordinator_keys: vec![TXN.into()], ..Default::default() };
    s.send_settled(&Target::AnyBroker, &lookup, |r| r.coordinators[0].error_code).await;
    let first = s.send_settled(&coordinator, &init_request(TXN, (-1, -1)), |r| r.error_code).await;
    t.step("InitProducerId: a new transactional id", (first.error_code, pid(first.producer_id), first.producer_epoch));
    let p = (first.producer_id, first.producer_epoch);

    // Produce to a partition outside the transaction.
    let r = s.send(&Target::leader(TOPIC, 0), &txn_produce(TXN, p, 0, 0)).await;
    t.step("Produce v11: partition not in the transaction", norm(&r.responses[0].partition_responses));
    let mut v10 = produce::v10::Request {
        transactional_id: Some(TXN.into()),
        acks: -1,
        timeout_ms: 30_000,
        ..Default::default()
    };
    let v11 = txn_produce(TXN, p, 0, 0);
    v10.topic_data = vec![produce::v10::TopicProduceData {
        name: TOPIC.into(),
        partition_data: vec![produce::v10::PartitionProduceData {
            index: 0,
            records: v11.topic_data[0].partition_data[0].records.clone(),
            ..Default::default()
        }],
        ..Default::default()
    }];
    let r = s.send(&Target::leader(TOPIC, 0), &v10).await;
    t.step("Produce v10: partition not in the transaction", norm(&r.responses[0].partition_responses));

    // AddPartitionsToTxn.
    let r = s.send(&coordinator, &add_request(TXN, p, &[(TOPIC, 0), ("diff-txn-unknown", 0)])).await;
    t.step("AddPartitionsToTxn v3: with an unknown topic", norm(&r.results_by_topic_v3_and_below));
    let r = s.send(&coordinator, &add_request(TXN, (p.0, p.1 + 1), &[(TOPIC, 0)])).await;
    t.step("AddPartitionsToTxn v3: a newer epoch", norm(&r.results_by_topic_v3_and_below));
    let r = s.send(&coordinator, &add_request(TXN, (p.0 + 1, p.1), &[(TOPIC, 0)])).await;
    t.step("AddPartitionsToTxn v3: another producer id", norm(&r.results_by_topic_v3_and_below));
    let r = s.send(&coordinator, &add_request(TXN, p, &[(TOPIC, 0)])).await;
    t.step("AddPartitionsToTxn v3", norm(&r.results_by_topic_v3_and_below));
    let r = s.send(&Target::leader(TOPIC, 0), &txn_produce(TXN, p, 0, 0)).await;
    t.step("Produce v11: in the transaction", norm(&r.responses[0].partition_responses));
    let r = s.send(&Target::leader(TOPIC, 0), &committed_fetch(topic_id, 0)).await;
    t.step("Fetch read_committed: open transaction", norm_committed_fetch(s, leader, r));
    let mut r = s.send(&Target::leader(TOPIC, 0), &committed_latest()).await;
    r.throttle_time_ms = 0;
    t.step("ListOffsets read_committed: open transaction", norm(&r.topics));

    // EndTxn with a wrong epoch or producer id.
    let r = s.send(&coordinator, &end_request(TXN, (p.0, p.1 + 1), true)).await;
    t.step("EndTxn v4: a newer epoch", r.error_code);
    let r = s.send(&coordinator, &end_request(TXN, (p.0 + 1, p.1), true)).await;
    t.step("EndTxn v4: another producer id", r.error_code);

    // A second producer fences the first and aborts its transaction.
    let r = s.send(&coordinator, &init_request(TXN, (-1, -1))).await;
    t.step("InitProducerId: while a transaction is open", (r.error_code, pid(r.producer_id), r.producer_epoch));
    let second = s.send_settled(&coordinator, &init_request(TXN, (-1, -1)), |r| r.error_code).await;
    t.step("InitProducerId: the retry", (second.error_code, second.producer_id == p.0, second.producer_epoch - p.1));
    let q = (second.producer_id, second.producer_epoch);
    let r = s.send(&Target::leader(TOPIC, 0), &committed_fetch(topic_id, 0)).await;
    t.step("Fetch read_committed: after the fencing abort", norm_committed_fetch(s, leader, r));
    let r = s.send(&Target::leader(TOPIC, 0), &txn_produce(TXN, p, 3, 3)).await;
    t.step("Produce v11: the fenced producer", norm(&r.responses[0].partition_responses));
    let r = s.send(&coordinator, &end_request(TXN, p, false)).await;
    t.step("EndTxn v4: the fenced producer", r.error_code);
    let r = s.send(&coordinator, &init_request(TXN, p)).await;
    t.step("InitProducerId: the fenced producer's id and epoch", (r.error_code, r.producer_epoch));

    // The successor commits records and offsets.
    let r = s.send(&coordinator, &add_request(TXN, q, &[(TOPIC, 0)])).await;
    t.step("AddPartitionsToTxn v3: the successor", norm(&r.results_by_topic_v3_and_below));
    let r = s.send(&Target::leader(TOPIC, 0), &txn_produce(TXN, q, 0, 10)).await;
    t.step("Produce v11: the successor", norm(&r.responses[0].partition_responses));
    let add_offsets = add_offsets_to_txn::v3::Request {
        transactional_id: TXN.into(),
        producer_id: q.0,
        producer_epoch: q.1,
        group_id: GROUP.into(),
        ..Default::default()
    };
    s.send_settled(&Target::group_coordinator(GROUP), &offset_fetch_stable(), |r| r.error_code).await;
    let r = s.send(&coordinator, &add_offsets).await;
    t.step("AddOffsetsToTxn v3", r.error_code);
    let commit = txn_offset_commit::v3::Request {
        transactional_id: TXN.into(),
        group_id: GROUP.into(),
        producer_id: q.0,
        producer_epoch: q.1,
        generation_id_or_member_epoch: -1,
        topics: vec![txn_offset_commit::v3::TxnOffsetCommitRequestTopic {
            name: TOPIC.into(),
            partitions: vec![txn_offset_commit::v3::TxnOffsetCommitRequestPartition {
                partition_index: 0,
                committed_offset: 42,
                committed_leader_epoch: -1,
                committed_metadata: Some("m".into()),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut r = s.send(&Target::group_coordinator(GROUP), &commit).await;
    r.throttle_time_ms = 0;
    t.step("TxnOffsetCommit v3", norm(&r));
    let mut stranger = commit.clone();
    stranger.generation_id_or_member_epoch = 5;
    stranger.member_id = "someone".into();
    let mut r = s.send(&Target::group_coordinator(GROUP), &stranger).await;
    r.throttle_time_ms = 0;
    t.step("TxnOffsetCommit v3: a member of no group", norm(&r));

    // The verify-only form brokers send (KIP-890 part 1), batched.
    let verify = |id: &str, producer: (i64, i16), partitions: &[i32]| add_partitions_to_txn::v5::Request {
        transactions: vec![add_partitions_to_txn::v5::AddPartitionsToTxnTransaction {
            transactional_id: id.into(),
            producer_id: producer.0,
            producer_epoch: producer.1,
            verify_only: true,
            topics: vec![add_partitions_to_txn::v5::AddPartitionsToTxnTopic {
                name: TOPIC.into(),
                partitions: partitions.iter().copied().collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut r = s.send(&coordinator, &verify(TXN, q, &[0])).await;
    r.throttle_time_ms = 0;
    t.step("AddPartitionsToTxn v5 verify-only: in the transaction", norm(&r));
    let mut r = s.send(&coordinator, &verify(TXN, (q.0, q.1 - 1), &[0])).await;
    r.throttle_time_ms = 0;
    t.step("AddPartitionsToTxn v5 verify-only: an old epoch", norm(&r));
    let mut r = s.send(&Target::group_coordinator(GROUP), &offset_fetch_stable()).await;
    r.throttle_time_ms = 0;
    t.step("OffsetFetch v7 require_stable: pending", norm(&r));
    // An unknown transactional id of the same coordinator (Kafka's harness has one
    // __transaction_state partition, the mock spreads 50 over its brokers).
    let mut nobody = String::new();
    for k in 0.. {
        nobody = format!("diff-txn-nobody-{k}");
        let lookup = find_coordinator::v6::Request {
            key_type: 1,
            coordinator_keys: vec![TXN.into(), nobody.as_str().into()],
            ..Default::default()
        };
        let r = s.send(&Target::AnyBroker, &lookup).await;
        if r.coordinators[0].node_id == r.coordinators[1].node_id {
            break;
        }
    }
    let mut describe = s
        .send(
            &coordinator,
            &describe_transactions::v0::Request {
                transactional_ids: vec![TXN.into(), nobody.as_str().into()],
                ..Default::default()
            },
        )
        .await;
    describe.throttle_time_ms = 0;
    for d in &mut describe.transaction_states {
        d.producer_id = pid(d.producer_id);
        d.transaction_start_time_ms = d.transaction_start_time_ms.min(0);
        d.transactional_id = d.transactional_id.split("-nobody").next().unwrap_or("").into();
        // The partition of __consumer_offsets depends on its partition count (config).
        for topic in d.topics.iter_mut().filter(|t| &*t.topic == "__consumer_offsets") {
            topic.partitions.iter_mut().for_each(|p| *p = 0);
        }
    }
    t.step("DescribeTransactions v0: ongoing", norm(&describe));
    let mut r = s
        .send(
            &coordinator,
            &list_transactions::v1::Request {
                state_filters: vec!["Ongoing".into(), "Unknown".into()],
                duration_filter: -1,
                ..Default::default()
            },
        )
        .await;
    r.throttle_time_ms = 0;
    // Only this script's: the other scripts share the Kafka cluster.
    r.transaction_states.retain(|t| [TXN, TXN2].contains(&&*t.transactional_id));
    r.transaction_states.iter_mut().for_each(|t| t.producer_id = pid(t.producer_id));
    t.step("ListTransactions v1: ongoing", norm(&r));
    let mut r = s
        .send(
            &coordinator,
            &list_transactions::v2::Request {
                duration_filter: -1,
                transactional_id_pattern: Some("diff-txn-i.".into()),
                ..Default::default()
            },
        )
        .await;
    r.throttle_time_ms = 0;
    r.transaction_states.iter_mut().for_each(|t| t.producer_id = pid(t.producer_id));
    t.step("ListTransactions v2: a pattern", norm(&r));
    let mut r = s
        .send(
            &Target::leader(TOPIC, 0),
            &describe_producers::v0::Request {
                topics: vec![describe_producers::v0::TopicRequest {
                    name: TOPIC.into(),
                    partition_indexes: [0, 7].into_iter().collect(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
        .await;
    r.throttle_time_ms = 0;
    for p in r.topics.iter_mut().flat_map(|t| t.partitions.iter_mut()) {
        for a in &mut p.active_producers {
            a.producer_id = pid(a.producer_id);
            a.last_timestamp = a.last_timestamp.min(0);
        }
    }
    t.step("DescribeProducers v0", norm(&r));
    let r = s.send(&coordinator, &end_request(TXN, q, true)).await;
    t.step("EndTxn v4: commit", r.error_code);
    let stable = |r: &offset_fetch::v7::Response| r.topics[0].partitions[0].error_code;
    let mut r = s.send_settled(&Target::group_coordinator(GROUP), &offset_fetch_stable(), stable).await;
    r.throttle_time_ms = 0;
    t.step("OffsetFetch v7 require_stable: committed", norm(&r));
    let r = s.send_settled(&coordinator, &end_request(TXN, q, true), |r| r.error_code).await;
    t.step("EndTxn v4: commit again", r.error_code);
    let r = s.send(&coordinator, &end_request(TXN, q, false)).await;
    t.step("EndTxn v4: abort after commit", r.error_code);
    let r = s.send(&Target::leader(TOPIC, 0), &committed_fetch(topic_id, 0)).await;
    t.step("Fetch read_committed: after the commit", norm_committed_fetch(s, leader, r));
    let mut r = s.send(&Target::leader(TOPIC, 0), &committed_latest()).await;
    r.throttle_time_ms = 0;
    t.step("ListOffsets read_committed: after the commit", norm(&r.topics));

    // Transaction version 2: Produce v12 adds the partition, EndTxn v5 bumps the epoch.
    let coordinator2 = Target::transaction_coordinator(TXN2);
    let third = s.send_settled(&coordinator2, &init_request(TXN2, (-1, -1)), |r| r.error_code).await;
    let v = (third.producer_id, third.producer_epoch);
    let v11 = txn_produce(TXN2, v, 0, 20);
    let v12 = produce::v12::Request {
        transactional_id: Some(TXN2.into()),
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![produce::v12::TopicProduceData {
            name: TOPIC.into(),
            partition_data: vec![produce::v12::PartitionProduceData {
                index: 0,
                records: v11.topic_data[0].partition_data[0].records.clone(),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = s.send(&Target::leader(TOPIC, 0), &v12).await;
    t.step("Produce v12: adds the partition", norm(&r.responses[0].partition_responses));
    let end = end_txn::v5::Request {
        transactional_id: TXN2.into(),
        producer_id: v.0,
        producer_epoch: v.1,
        committed: true,
        ..Default::default()
    };
    let r = s.send(&coordinator2, &end).await;
    t.step("EndTxn v5: commit", (r.error_code, r.producer_id == v.0, r.producer_epoch - v.1));
    let r = s.send_settled(&coordinator2, &end, |r| r.error_code).await;
    t.step("EndTxn v5: the same again", (r.error_code, r.producer_id == v.0, r.producer_epoch - v.1));

    // A transaction of transaction version 2 left open, then fenced by a new producer.
    let w = (r.producer_id, r.producer_epoch);
    let mut again = v12.clone();
    let records = txn_produce(TXN2, w, 0, 30).topic_data[0].partition_data[0].records.clone();
    again.topic_data[0].partition_data[0].records = records;
    let r = s.send(&Target::leader(TOPIC, 0), &again).await;
    t.step("Produce v12: the next transaction", r.responses[0].partition_responses[0].error_code);
    let r = s.send(&coordinator2, &init_request(TXN2, (-1, -1))).await;
    t.step("InitProducerId: fences a transaction of version 2", r.error_code);
    let r = s.send_settled(&coordinator2, &init_request(TXN2, (-1, -1)), |r| r.error_code).await;
    t.step("InitProducerId: the retry after a version 2 abort", (r.error_code, r.producer_epoch - w.1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions() {
    differential!("transactions", txn_script);
}

const TIMED_OUT: &str = "diff-txn-timeout";

/// A transaction left open past its `transaction.timeout.ms` (1 s): the coordinator aborts it
/// (Kafka checks every 10 s, the mock every 10 ms; the script waits until DescribeTransactions
/// no longer says Ongoing), and the producer is fenced.
async fn timeout_script(s: &Sys, t: &mut Transcript) {
    let topic_id = s.create_topic(TIMED_OUT, 1, 1, &[]).await;
    let leader = s.leader(TIMED_OUT, 0).await;
    let coordinator = Target::transaction_coordinator(TIMED_OUT);
    let lookup =
        find_coordinator::v6::Request { key_type: 1, coordinator_keys: vec![TIMED_OUT.into()], ..Default::default() };
    s.send_settled(&Target::AnyBroker, &lookup, |r| r.coordinators[0].error_code).await;
    let mut init = init_request(TIMED_OUT, (-1, -1));
    init.transaction_timeout_ms = 1000;
    let r = s.send_settled(&coordinator, &init, |r| r.error_code).await;
    let p = (r.producer_id, r.producer_epoch);
    let r = s.send(&coordinator, &add_request(TIMED_OUT, p, &[(TIMED_OUT, 0)])).await;
    t.step("AddPartitionsToTxn v3", norm(&r.results_by_topic_v3_and_below));
    let mut produce = txn_produce(TIMED_OUT, p, 0, 0);
    produce.topic_data[0].name = TIMED_OUT.into();
    let r = s.send(&Target::leader(TIMED_OUT, 0), &produce).await;
    t.step("Produce v11", r.responses[0].partition_responses[0].error_code);
    let describe =
        describe_transactions::v0::Request { transactional_ids: vec![TIMED_OUT.into()], ..Default::default() };
    let deadline = std::time::Instant::now() + super::PATIENCE;
    let state = loop {
        let r = s.send(&coordinator, &describe).await;
        let d = &r.transaction_states[0];
        if &*d.transaction_state != "Ongoing" && &*d.transaction_state != "PrepareAbort" {
            break (d.error_code, d.transaction_state.to_string(), d.producer_epoch - p.1, d.topics.len());
        }
        assert!(std::time::Instant::now() < deadline, "{}: the transaction never timed out", s.name);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    t.step("DescribeTransactions v0: after the timeout", state);
    let r = s.send(&Target::leader(TIMED_OUT, 0), &committed_fetch(topic_id, 0)).await;
    t.step("Fetch read_committed: after the timeout", norm_committed_fetch(s, leader, r));
    let r = s.send(&coordinator, &end_request(TIMED_OUT, p, true)).await;
    t.step("EndTxn v4: the timed-out producer", r.error_code);
    let r = s.send(&coordinator, &add_request(TIMED_OUT, p, &[(TIMED_OUT, 0)])).await;
    t.step("AddPartitionsToTxn v3: the timed-out producer", norm(&r.results_by_topic_v3_and_below));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_timeout() {
    differential!("transaction_timeout", timeout_script);
}
