//! Share groups (KIP-932) over the wire, through `kafka-wire-client`: members and their
//! assignment, share sessions, records acquired, acknowledged and redelivered. Lock expiry is
//! waited for with a ShareFetch that long-polls until the lock runs out (the mock's tick wakes
//! it), never with a sleep.

use std::time::Duration;

use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
use kafka_wire::{
    produce, share_acknowledge, share_fetch, share_group_describe, share_group_heartbeat, ErrorCode, Records, Uuid,
};
use kafka_wire_client::{Connection, ConnectionConfig};
use kafka_wire_mock::{MockCluster, MockConfig};

const GROUP: &str = "sg";
/// Only a hang reaches this.
const HANG_GUARD: Duration = Duration::from_secs(120);

async fn connection(cluster: &MockCluster) -> Connection {
    Connection::connect(cluster.bootstrap_servers(), ConnectionConfig::default()).await.unwrap()
}

fn heartbeat(member: &str, epoch: i32) -> share_group_heartbeat::Request {
    share_group_heartbeat::Request {
        group_id: GROUP.into(),
        member_id: member.into(),
        member_epoch: epoch,
        subscribed_topic_names: (epoch == 0).then(|| vec!["t".into()]),
        ..Default::default()
    }
}

fn assigned(r: &share_group_heartbeat::Response) -> Vec<i32> {
    r.assignment
        .as_ref()
        .map(|a| a.topic_partitions.iter().flat_map(|t| t.partitions.clone()).collect())
        .unwrap_or_default()
}

/// Produces `n` records in one batch to partition `partition` of `t`.
async fn produce(connection: &Connection, topic_id: Uuid, partition: i32, n: usize) {
    let mut b = BatchBuilder::new(Compression::None);
    for i in 0..n {
        b.push(&NewRecord::new(i as i64, format!("v{i}"))).unwrap();
    }
    let request = produce::Request {
        acks: 1,
        timeout_ms: 1000,
        topic_data: vec![produce::TopicProduceData {
            name: "t".into(),
            topic_id,
            partition_data: vec![produce::PartitionProduceData {
                index: partition,
                records: Some(Records::from(b.build().unwrap().to_bytes().unwrap())),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = connection.send(&request).await.unwrap();
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);
}

/// An acknowledgement batch of one type.
fn ack(first: i64, last: i64, kind: i8) -> share_fetch::AcknowledgementBatch {
    share_fetch::AcknowledgementBatch {
        first_offset: first,
        last_offset: last,
        acknowledge_types: [kind].into_iter().collect(),
        ..Default::default()
    }
}

/// A ShareFetch of partition 0 of `topic` with `acks` piggy-backed.
fn fetch(
    member: &str,
    epoch: i32,
    topic: Uuid,
    acks: Vec<share_fetch::AcknowledgementBatch>,
    max_wait_ms: i32,
) -> share_fetch::Request {
    share_fetch::Request {
        group_id: Some(GROUP.into()),
        member_id: Some(member.into()),
        share_session_epoch: epoch,
        max_wait_ms,
        min_bytes: 1,
        max_bytes: 1 << 20,
        max_records: 500,
        batch_size: 500,
        topics: vec![share_fetch::FetchTopic {
            topic_id: topic,
            partitions: vec![share_fetch::FetchPartition {
                partition_index: 0,
                acknowledgement_batches: acks,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// (first offset, last offset, delivery count) of each acquired range of the only partition.
fn acquired(r: &share_fetch::Response) -> Vec<(i64, i64, i16)> {
    assert_eq!(r.error_code, ErrorCode::NONE, "{r:?}");
    r.responses
        .iter()
        .flat_map(|t| &t.partitions)
        .flat_map(|p| &p.acquired_records)
        .map(|a| (a.first_offset, a.last_offset, a.delivery_count))
        .collect()
}

fn ack_error(r: &share_fetch::Response) -> ErrorCode {
    r.responses[0].partitions[0].acknowledge_error_code
}

/// A member joins a topic of three partitions and gets all of them from the `simple`
/// assignor; stale epochs are fenced, unknown members refused; a second member that joins
/// within the assignment interval (KIP-1263) bumps the group epoch but waits in the previous
/// assignment epoch, as in Kafka 4.4; ShareGroupDescribe shows both; leaves (epoch -1) empty
/// the group.
#[tokio::test]
async fn members_join_get_partitions_and_leave() {
    let cluster = MockCluster::start(MockConfig::new().topic("t", 3)).await.unwrap();
    let c = connection(&cluster).await;
    let a = c.send(&heartbeat("a", 0)).await.unwrap();
    assert_eq!((a.error_code, a.member_epoch, a.heartbeat_interval_ms), (ErrorCode::NONE, 1, 5000));
    assert_eq!(assigned(&a), [0, 1, 2]);
    let a = c.send(&heartbeat("a", 1)).await.unwrap();
    assert_eq!((a.member_epoch, a.assignment), (1, None), "no change, no assignment");
    assert_eq!(c.send(&heartbeat("a", 6)).await.unwrap().error_code, ErrorCode::FENCED_MEMBER_EPOCH);
    assert_eq!(c.send(&heartbeat("ghost", 1)).await.unwrap().error_code, ErrorCode::UNKNOWN_MEMBER_ID);
    let first = share_group_heartbeat::Request { subscribed_topic_names: None, ..heartbeat("c", 0) };
    assert_eq!(c.send(&first).await.unwrap().error_code, ErrorCode::INVALID_REQUEST);
    let b = c.send(&heartbeat("b", 0)).await.unwrap();
    assert_eq!((b.error_code, b.member_epoch, assigned(&b)), (ErrorCode::NONE, 1, vec![]));
    let describe = share_group_describe::Request { group_ids: vec![GROUP.into(), "none".into()], ..Default::default() };
    let d = c.send(&describe).await.unwrap();
    let g = &d.groups[0];
    assert_eq!((&*g.group_state, g.group_epoch, g.assignment_epoch), ("Stable", 2, 1));
    assert_eq!((&*g.assignor_name, g.members.len()), ("simple", 2));
    assert_eq!(&*g.members[0].assignment.topic_partitions[0].topic_name, "t");
    assert_eq!(d.groups[1].error_code, ErrorCode::GROUP_ID_NOT_FOUND);
    for (member, epoch) in [("b", 1), ("a", 1)] {
        let left = c.send(&heartbeat(member, -1)).await.unwrap();
        assert_eq!((left.error_code, left.member_epoch), (ErrorCode::NONE, -1));
        assert_eq!(c.send(&heartbeat(member, epoch)).await.unwrap().error_code, ErrorCode::UNKNOWN_MEMBER_ID);
    }
    let d = c.send(&describe).await.unwrap();
    assert_eq!((&*d.groups[0].group_state, d.groups[0].members.len()), ("Empty", 0));
    cluster.shutdown().await;
}

/// A share session from epoch 0: records produced after the partition was first fetched are
/// acquired with delivery count 1; a piggy-backed release makes one available again and the
/// same fetch re-acquires it with count 2; ShareAcknowledge accepts and rejects; a record
/// another member acquired cannot be acknowledged; wrong session epochs and sessions that do not exist are
/// refused as Kafka refuses them; a closed session releases what it held.
#[tokio::test]
async fn records_are_acquired_acknowledged_and_released() {
    let cluster = MockCluster::start(MockConfig::new().topic("t", 1)).await.unwrap();
    let c = connection(&cluster).await;
    let joined = c.send(&heartbeat("a", 0)).await.unwrap();
    let topic = joined.assignment.unwrap().topic_partitions[0].topic_id;
    // The share partition starts at the log end (share.auto.offset.reset=latest).
    assert_eq!(acquired(&c.send(&fetch("a", 0, topic, vec![], 0)).await.unwrap()), []);
    produce(&c, topic, 0, 3).await;
    let r = c.send(&fetch("a", 1, topic, vec![], 5000)).await.unwrap();
    assert_eq!(r.acquisition_lock_timeout_ms, 30_000);
    assert_eq!(acquired(&r), [(0, 2, 1)]);
    assert!(!r.responses[0].partitions[0].records.is_empty());
    let r = c.send(&fetch("a", 2, topic, vec![ack(0, 0, 1), ack(1, 1, 2)], 0)).await.unwrap();
    assert_eq!(ack_error(&r), ErrorCode::NONE);
    assert_eq!(acquired(&r), [(1, 1, 2)]);
    // Another member has its own session; it cannot acknowledge a's records.
    assert_eq!(acquired(&c.send(&fetch("b", 0, topic, vec![], 0)).await.unwrap()), []);
    let r = c.send(&fetch("b", 1, topic, vec![ack(2, 2, 1)], 0)).await.unwrap();
    assert_eq!(ack_error(&r), ErrorCode::INVALID_RECORD_STATE);
    let acknowledge = |epoch: i32, batches: Vec<(i64, i64, i8)>| share_acknowledge::Request {
        group_id: Some(GROUP.into()),
        member_id: Some("a".into()),
        share_session_epoch: epoch,
        topics: vec![share_acknowledge::AcknowledgeTopic {
            topic_id: topic,
            partitions: vec![share_acknowledge::AcknowledgePartition {
                partition_index: 0,
                acknowledgement_batches: batches
                    .into_iter()
                    .map(|(first_offset, last_offset, kind)| share_acknowledge::AcknowledgementBatch {
                        first_offset,
                        last_offset,
                        acknowledge_types: [kind].into_iter().collect(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = c.send(&acknowledge(3, vec![(1, 1, 3), (2, 2, 1)])).await.unwrap();
    assert_eq!((r.error_code, r.responses[0].partitions[0].error_code), (ErrorCode::NONE, ErrorCode::NONE));
    // Offsets below the share-partition start offset are done: ignored, as Kafka 4.4 does.
    let r = c.send(&acknowledge(4, vec![(2, 2, 1)])).await.unwrap();
    assert_eq!(r.responses[0].partitions[0].error_code, ErrorCode::NONE);
    // Overlapping batches and unknown types are invalid requests for that partition.
    let r = c.send(&acknowledge(5, vec![(2, 3, 1), (3, 3, 1)])).await.unwrap();
    assert_eq!(r.responses[0].partitions[0].error_code, ErrorCode::INVALID_REQUEST);
    // Session epochs.
    assert_eq!(c.send(&acknowledge(9, vec![])).await.unwrap().error_code, ErrorCode::INVALID_SHARE_SESSION_EPOCH);
    assert_eq!(c.send(&acknowledge(0, vec![])).await.unwrap().error_code, ErrorCode::INVALID_SHARE_SESSION_EPOCH);
    let r = c.send(&fetch("a", 9, topic, vec![], 0)).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::INVALID_SHARE_SESSION_EPOCH);
    let r = c.send(&fetch("a", 0, topic, vec![ack(0, 0, 1)], 0)).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::INVALID_REQUEST, "acknowledgements in a new session");
    let r = c.send(&fetch("nobody", 1, topic, vec![], 0)).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::SHARE_SESSION_NOT_FOUND);
    // b's session holds nothing; a new session of a re-acquires nothing (offsets 0-2 are done).
    produce(&c, topic, 0, 2).await;
    let r = c.send(&fetch("a", 0, topic, vec![], 5000)).await.unwrap();
    assert_eq!(acquired(&r), [(3, 4, 1)]);
    // Closing the session (epoch -1, acknowledgements only) releases what it held.
    let close = share_fetch::Request { topics: vec![], ..fetch("a", -1, topic, vec![], 0) };
    assert_eq!(c.send(&close).await.unwrap().error_code, ErrorCode::NONE);
    let r = c.send(&fetch("b", 2, topic, vec![], 5000)).await.unwrap();
    assert_eq!(acquired(&r), [(3, 4, 2)]);
    cluster.shutdown().await;
}

/// A lock that runs out makes the record available again: a long-polling ShareFetch of
/// another member gets it with delivery count 2 when the mock's tick releases it. With a
/// delivery count limit of 2, releasing it then archives it: nothing is delivered again.
#[tokio::test]
async fn expired_locks_redeliver_until_the_delivery_count_limit() {
    let cluster = MockCluster::start(MockConfig::new().topic("t", 1)).await.unwrap();
    cluster.set_share_record_lock_duration(Duration::from_millis(200));
    cluster.set_share_delivery_count_limit(2);
    let c = connection(&cluster).await;
    let joined = c.send(&heartbeat("a", 0)).await.unwrap();
    let topic = joined.assignment.unwrap().topic_partitions[0].topic_id;
    assert_eq!(acquired(&c.send(&fetch("a", 0, topic, vec![], 0)).await.unwrap()), []);
    produce(&c, topic, 0, 1).await;
    let r = c.send(&fetch("a", 1, topic, vec![], 5000)).await.unwrap();
    assert_eq!((r.acquisition_lock_timeout_ms, acquired(&r)), (200, vec![(0, 0, 1)]));
    // b waits (the lock of a runs out meanwhile, no sleep here).
    assert_eq!(acquired(&c.send(&fetch("b", 0, topic, vec![], 0)).await.unwrap()), []);
    let waited = tokio::time::timeout(HANG_GUARD, c.send(&fetch("b", 1, topic, vec![], 60_000))).await.unwrap();
    assert_eq!(acquired(&waited.unwrap()), [(0, 0, 2)]);
    // a's lock is gone: its acknowledgement is refused.
    let r = c.send(&fetch("a", 2, topic, vec![ack(0, 0, 1)], 0)).await.unwrap();
    assert_eq!(ack_error(&r), ErrorCode::INVALID_RECORD_STATE);
    // b releases: the second delivery was the last one, the record is archived.
    let r = c.send(&fetch("b", 2, topic, vec![ack(0, 0, 2)], 0)).await.unwrap();
    assert_eq!((ack_error(&r), acquired(&r)), (ErrorCode::NONE, vec![]));
    produce(&c, topic, 0, 1).await;
    let r = c.send(&fetch("b", 3, topic, vec![], 5000)).await.unwrap();
    assert_eq!(acquired(&r), [(1, 1, 1)]);
    cluster.shutdown().await;
}
