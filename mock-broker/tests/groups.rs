//! The classic group protocol over the wire, where `group::tests` (the state machine with the
//! clock in the test's hands) cannot reach: requests for a group the coordinator does not
//! know, and the group events a test waits on instead of sleeping.

use std::time::Duration;

use bytes::Bytes;
use kafka_wire::{
    consumer_group_describe, consumer_group_heartbeat, join_group, leave_group, offset_commit, sync_group, ErrorCode,
};
use kafka_wire_client::{Connection, ConnectionConfig};
use kafka_wire_mock::{GroupEvent, MockCluster, MockConfig, RemovalReason};

const GROUP: &str = "g";
/// Only a hang reaches this.
const HANG_GUARD: Duration = Duration::from_secs(120);

async fn connection(cluster: &MockCluster) -> Connection {
    Connection::connect(cluster.bootstrap_servers(), ConnectionConfig::default()).await.unwrap()
}

fn join(member_id: &str, rebalance_timeout_ms: i32) -> join_group::Request {
    join_group::Request {
        group_id: GROUP.into(),
        session_timeout_ms: 60_000,
        rebalance_timeout_ms,
        member_id: member_id.into(),
        protocol_type: "consumer".into(),
        protocols: vec![join_group::JoinGroupRequestProtocol {
            name: "range".into(),
            metadata: Bytes::from_static(b"subscription"),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// JoinGroup until the join phase answers (KIP-394: the first answer hands out the member id).
async fn join_group(connection: &Connection, rebalance_timeout_ms: i32) -> join_group::Response {
    let first = connection.send(&join("", rebalance_timeout_ms)).await.unwrap();
    assert_eq!(first.error_code, ErrorCode::MEMBER_ID_REQUIRED);
    connection.send(&join(&first.member_id, rebalance_timeout_ms)).await.unwrap()
}

/// OffsetCommit v9 for a group the coordinator does not know gets GROUP_ID_NOT_FOUND, older
/// versions ILLEGAL_GENERATION (Kafka's `OffsetMetadataManager.validateOffsetCommit`); a
/// JoinGroup with a member id gets UNKNOWN_MEMBER_ID and creates no group.
#[tokio::test]
async fn requests_for_a_group_the_coordinator_does_not_know() {
    let cluster = MockCluster::start(MockConfig::new().topic("t", 1)).await.unwrap();
    let connection = connection(&cluster).await;
    let commit = offset_commit::Request {
        group_id: GROUP.into(),
        generation_id_or_member_epoch: 1,
        member_id: "ghost".into(),
        topics: vec![offset_commit::OffsetCommitRequestTopic {
            name: "t".into(),
            partitions: vec![offset_commit::OffsetCommitRequestPartition {
                partition_index: 0,
                committed_offset: 1,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let from = offset_commit::Request::GROUP_ID_NOT_FOUND_VERSIONS.min;
    let r = connection.send_at(&commit, from).await.unwrap();
    assert_eq!(r.topics[0].partitions[0].error_code, ErrorCode::GROUP_ID_NOT_FOUND);
    let r = connection.send_at(&commit, from - 1).await.unwrap();
    assert_eq!(r.topics[0].partitions[0].error_code, ErrorCode::ILLEGAL_GENERATION);
    let r = connection.send(&join("ghost", 1000)).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(cluster.group_members(GROUP), None, "no group was created");
    cluster.shutdown().await;
}

/// The client interop test's failure, over the wire: a member that stopped without leaving
/// holds up the rebalance another member's join starts until the rebalance timeout, is then
/// removed, and its late LeaveGroup gets UNKNOWN_MEMBER_ID. The test waits on the group's
/// events; the rebalance timeout running out is the subject, so nothing depends on speed.
#[tokio::test]
async fn a_member_that_stops_without_leaving_is_removed_when_the_rebalance_times_out() {
    let cluster = MockCluster::start(MockConfig::new().topic("t", 1)).await.unwrap();
    let (stopped, joining) = (connection(&cluster).await, connection(&cluster).await);
    let first = join_group(&stopped, 300).await;
    assert_eq!((first.error_code, first.generation_id), (ErrorCode::NONE, 1));
    let r = stopped
        .send(&sync_group::Request {
            group_id: GROUP.into(),
            generation_id: 1,
            member_id: first.member_id.clone(),
            protocol_type: Some("consumer".into()),
            protocol_name: first.protocol_name.clone(),
            assignments: vec![sync_group::SyncGroupRequestAssignment {
                member_id: first.member_id.clone(),
                assignment: Bytes::from_static(b"all"),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((r.error_code, &*r.assignment), (ErrorCode::NONE, &b"all"[..]));
    // The group is stable; the member stops: no heartbeat, no LeaveGroup. A new member joins.
    let second = tokio::time::timeout(HANG_GUARD, join_group(&joining, 300)).await.unwrap();
    assert_eq!((second.error_code, second.generation_id), (ErrorCode::NONE, 2));
    assert_eq!(second.members.len(), 1, "{second:?}");
    let stopped_id = first.member_id.to_string();
    let reason = tokio::time::timeout(
        HANG_GUARD,
        cluster.wait_for_group_event(GROUP, |events| {
            events.iter().find_map(|e| match e {
                GroupEvent::MemberRemoved { member_id, reason } if *member_id == stopped_id => Some(*reason),
                _ => None,
            })
        }),
    )
    .await
    .unwrap();
    assert_eq!(reason, RemovalReason::RebalanceTimeout);
    let r = stopped
        .send(&leave_group::Request {
            group_id: GROUP.into(),
            members: vec![leave_group::MemberIdentity { member_id: first.member_id.clone(), ..Default::default() }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.members[0].error_code, ErrorCode::UNKNOWN_MEMBER_ID);
    cluster.shutdown().await;
}

/// A KIP-848 member over the wire: its join gets every partition with member epoch 2 (as
/// Kafka 4.4 answers), ConsumerGroupDescribe shows it, a JoinGroup of the classic protocol is
/// refused while it is there, and its leave (epoch -1) is an event a test can wait on.
#[tokio::test]
async fn a_consumer_group_member_joins_is_described_and_leaves() {
    let cluster = MockCluster::start(MockConfig::new().topic("t", 3)).await.unwrap();
    let connection = connection(&cluster).await;
    let heartbeat = |epoch: i32| consumer_group_heartbeat::Request {
        group_id: "cg".into(),
        member_id: "member-1".into(),
        member_epoch: epoch,
        rebalance_timeout_ms: if epoch == 0 { 30_000 } else { -1 },
        subscribed_topic_names: (epoch == 0).then(|| vec!["t".into()]),
        topic_partitions: (epoch == 0).then(Vec::new),
        ..Default::default()
    };
    let r = connection.send(&heartbeat(0)).await.unwrap();
    assert_eq!((r.error_code, r.member_epoch, r.heartbeat_interval_ms), (ErrorCode::NONE, 2, 5000));
    let assigned: Vec<i32> = r.assignment.unwrap().topic_partitions.iter().flat_map(|t| t.partitions.clone()).collect();
    assert_eq!(assigned, [0, 1, 2]);
    let d = connection
        .send(&consumer_group_describe::Request { group_ids: vec!["cg".into()], ..Default::default() })
        .await
        .unwrap();
    let g = &d.groups[0];
    assert_eq!((&*g.group_state, g.group_epoch, g.members.len()), ("Stable", 2, 1));
    let classic = join_group::Request { group_id: "cg".into(), ..join("", 1000) };
    assert_eq!(connection.send(&classic).await.unwrap().error_code, ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
    let r = connection.send(&heartbeat(-1)).await.unwrap();
    assert_eq!((r.error_code, r.member_epoch), (ErrorCode::NONE, -1));
    let reason = tokio::time::timeout(
        HANG_GUARD,
        cluster.wait_for_group_event("cg", |events| {
            events.iter().find_map(|e| match e {
                GroupEvent::MemberRemoved { member_id, reason } if member_id == "member-1" => Some(*reason),
                _ => None,
            })
        }),
    )
    .await
    .unwrap();
    assert_eq!(reason, RemovalReason::LeaveGroup);
    cluster.shutdown().await;
}
