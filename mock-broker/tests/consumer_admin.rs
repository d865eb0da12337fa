//! The admin APIs and transactional commits with a KIP-848 consumer group, as Kafka 4.4
//! answers them (the differential test `consumer_group_admin` compares them with Kafka):
//! ListGroups gives its type and state, the classic DescribeGroups does not know it, it is
//! not deleted while it has members, OffsetDelete keeps the offsets of subscribed topics, and
//! a TxnOffsetCommit with a member's id passes the member-epoch check.

use kafka_wire::{
    add_offsets_to_txn, consumer_group_heartbeat, delete_groups, describe_groups, end_txn, init_producer_id,
    list_groups, offset_commit, offset_delete, txn_offset_commit, ErrorCode,
};
use kafka_wire_client::{Connection, ConnectionConfig};
use kafka_wire_mock::{MockCluster, MockConfig};

const GROUP: &str = "cg";
const MEMBER: &str = "member-1";

async fn start() -> (MockCluster, Connection) {
    let cluster = MockCluster::start(MockConfig::new().topic("t", 2).topic("other", 1)).await.unwrap();
    let connection = Connection::connect(cluster.bootstrap_servers(), ConnectionConfig::default()).await.unwrap();
    (cluster, connection)
}

/// A ConsumerGroupHeartbeat of [`MEMBER`], subscribed to `t`: a join with epoch 0, a leave
/// with -1. Returns the member epoch.
async fn heartbeat(connection: &Connection, epoch: i32) -> i32 {
    let r = connection
        .send(&consumer_group_heartbeat::Request {
            group_id: GROUP.into(),
            member_id: MEMBER.into(),
            member_epoch: epoch,
            rebalance_timeout_ms: if epoch == 0 { 30_000 } else { -1 },
            subscribed_topic_names: (epoch == 0).then(|| vec!["t".into()]),
            topic_partitions: (epoch == 0).then(Vec::new),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE, "{:?}", r.error_message);
    r.member_epoch
}

/// ListGroups with filters: (group id, protocol type, state, type) of each group.
async fn listed(connection: &Connection, states: &[&str], types: &[&str]) -> Vec<(String, String, String, String)> {
    let r = connection
        .send(&list_groups::Request {
            states_filter: states.iter().map(|&s| s.into()).collect(),
            types_filter: types.iter().map(|&s| s.into()).collect(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE);
    r.groups
        .iter()
        .map(|g| {
            (g.group_id.to_string(), g.protocol_type.to_string(), g.group_state.to_string(), g.group_type.to_string())
        })
        .collect()
}

async fn delete_group(connection: &Connection) -> ErrorCode {
    let r = connection
        .send(&delete_groups::Request { groups_names: vec![GROUP.into()], ..Default::default() })
        .await
        .unwrap();
    r.results[0].error_code
}

fn row(state: &str) -> Vec<(String, String, String, String)> {
    vec![(GROUP.into(), "consumer".into(), state.into(), "consumer".into())]
}

/// ListGroups names a consumer group's type and state (and filters on them in any case);
/// the classic DescribeGroups answers that it is not a classic group; DeleteGroups refuses it
/// while it has a member; `group_members` shows its epoch and member.
#[tokio::test]
async fn a_consumer_group_is_listed_and_deleted_once_empty() {
    let (cluster, connection) = start().await;
    let epoch = heartbeat(&connection, 0).await;
    assert_eq!(listed(&connection, &[], &[]).await, row("Stable"));
    assert_eq!(listed(&connection, &["STABLE"], &["Consumer"]).await, row("Stable"));
    assert_eq!(listed(&connection, &["Empty"], &[]).await, vec![]);
    assert_eq!(listed(&connection, &[], &["classic"]).await, vec![]);
    assert_eq!(cluster.group_members(GROUP), Some((epoch, vec![MEMBER.to_owned()])));

    let d = connection.send(&describe_groups::Request { groups: vec![GROUP.into()], ..Default::default() }).await;
    let g = &d.unwrap().groups[0];
    assert_eq!((g.error_code, &*g.group_state, g.members.len()), (ErrorCode::GROUP_ID_NOT_FOUND, "Dead", 0));
    assert_eq!(g.error_message.as_deref(), Some("Group cg is not a classic group."));
    let v5 = describe_groups::v5::Request {
        groups: vec![GROUP.into()],
        include_authorized_operations: true,
        ..Default::default()
    };
    let g = &connection.send_versioned(&v5).await.unwrap().groups[0];
    assert_eq!((g.error_code, &*g.group_state, g.authorized_operations), (ErrorCode::NONE, "Dead", 3400));

    assert_eq!(delete_group(&connection).await, ErrorCode::NON_EMPTY_GROUP);
    heartbeat(&connection, -1).await;
    assert_eq!(listed(&connection, &["empty"], &["consumer"]).await, row("Empty"));
    assert_eq!(cluster.group_members(GROUP).map(|(_, members)| members), Some(vec![]));
    assert_eq!(delete_group(&connection).await, ErrorCode::NONE);
    assert_eq!(listed(&connection, &[], &[]).await, vec![]);
    cluster.shutdown().await;
}

async fn offset_delete(connection: &Connection) -> Vec<(String, ErrorCode)> {
    let r = connection
        .send(&offset_delete::Request {
            group_id: GROUP.into(),
            topics: ["t", "other"]
                .iter()
                .map(|&t| offset_delete::OffsetDeleteRequestTopic {
                    name: t.into(),
                    partitions: vec![offset_delete::OffsetDeleteRequestPartition { partition_index: 0 }],
                })
                .collect(),
        })
        .await
        .unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE);
    r.topics.iter().map(|t| (t.name.to_string(), t.partitions[0].error_code)).collect()
}

/// OffsetDelete keeps the offsets of a topic a member subscribes to
/// (GROUP_SUBSCRIBED_TO_TOPIC) and deletes the others; once the group is empty, all.
#[tokio::test]
async fn offset_delete_keeps_the_offsets_of_subscribed_topics() {
    let (cluster, connection) = start().await;
    let epoch = heartbeat(&connection, 0).await;
    // v9: the last version with topic names.
    let commit = offset_commit::v9::Request {
        group_id: GROUP.into(),
        generation_id_or_member_epoch: epoch,
        member_id: MEMBER.into(),
        topics: ["t", "other"]
            .iter()
            .map(|&t| offset_commit::v9::OffsetCommitRequestTopic {
                name: t.into(),
                partitions: vec![offset_commit::v9::OffsetCommitRequestPartition {
                    partition_index: 0,
                    committed_offset: 4,
                    committed_leader_epoch: -1,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let r = connection.send_versioned(&commit).await.unwrap();
    assert!(r.topics.iter().all(|t| t.partitions[0].error_code == ErrorCode::NONE), "{r:?}");
    assert_eq!(
        offset_delete(&connection).await,
        [("t".into(), ErrorCode::GROUP_SUBSCRIBED_TO_TOPIC), ("other".into(), ErrorCode::NONE)]
    );
    assert_eq!(cluster.committed_offset(GROUP, "t", 0), Some(4));
    assert_eq!(cluster.committed_offset(GROUP, "other", 0), None);
    heartbeat(&connection, -1).await;
    assert_eq!(offset_delete(&connection).await, [("t".into(), ErrorCode::NONE), ("other".into(), ErrorCode::NONE)]);
    assert_eq!(cluster.committed_offset(GROUP, "t", 0), None);
    cluster.shutdown().await;
}

/// A TxnOffsetCommit with a consumer-group member's id and epoch is taken (and its offset
/// committed with the transaction); another epoch is ILLEGAL_GENERATION, an unknown member
/// UNKNOWN_MEMBER_ID; one without member id and epoch passes; as from Kafka 4.4.
#[tokio::test]
async fn txn_offset_commit_checks_the_member_epoch() {
    let (cluster, connection) = start().await;
    let epoch = heartbeat(&connection, 0).await;
    let init = connection
        .send_versioned(&init_producer_id::v4::Request {
            transactional_id: Some("tx".into()),
            transaction_timeout_ms: 60_000,
            producer_id: -1,
            producer_epoch: -1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(init.error_code, ErrorCode::NONE);
    let (pid, pepoch) = (init.producer_id, init.producer_epoch);
    let add = add_offsets_to_txn::v3::Request {
        transactional_id: "tx".into(),
        producer_id: pid,
        producer_epoch: pepoch,
        group_id: GROUP.into(),
        ..Default::default()
    };
    assert_eq!(connection.send_versioned(&add).await.unwrap().error_code, ErrorCode::NONE);
    let commit = |member_id: &str, member_epoch: i32| txn_offset_commit::v3::Request {
        transactional_id: "tx".into(),
        group_id: GROUP.into(),
        producer_id: pid,
        producer_epoch: pepoch,
        generation_id_or_member_epoch: member_epoch,
        member_id: member_id.into(),
        topics: vec![txn_offset_commit::v3::TxnOffsetCommitRequestTopic {
            name: "t".into(),
            partitions: vec![txn_offset_commit::v3::TxnOffsetCommitRequestPartition {
                partition_index: 1,
                committed_offset: 9,
                committed_leader_epoch: -1,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    for (member_id, member_epoch, expected) in [
        (MEMBER, epoch + 1, ErrorCode::ILLEGAL_GENERATION),
        (MEMBER, epoch - 1, ErrorCode::ILLEGAL_GENERATION),
        ("nobody", epoch, ErrorCode::UNKNOWN_MEMBER_ID),
        (MEMBER, -1, ErrorCode::ILLEGAL_GENERATION),
        ("", epoch, ErrorCode::UNKNOWN_MEMBER_ID),
        // A producer that gives only the group id commits while the group has members.
        ("", -1, ErrorCode::NONE),
        (MEMBER, epoch, ErrorCode::NONE),
    ] {
        let r = connection.send_versioned(&commit(member_id, member_epoch)).await.unwrap();
        assert_eq!(r.topics[0].partitions[0].error_code, expected, "{member_id} at epoch {member_epoch}");
    }
    let end = end_txn::v3::Request {
        transactional_id: "tx".into(),
        producer_id: pid,
        producer_epoch: pepoch,
        committed: true,
        ..Default::default()
    };
    assert_eq!(connection.send_versioned(&end).await.unwrap().error_code, ErrorCode::NONE);
    assert_eq!(cluster.committed_offset(GROUP, "t", 1), Some(9));
    cluster.shutdown().await;
}
