//! The admin APIs and transactional commits with a KIP-848 consumer group, next to Kafka 4.4
//! (issue 15): ListGroups (type and state of a consumer group), the classic DescribeGroups
//! of a consumer group, DeleteGroups and OffsetDelete while it has a member and once it is
//! empty, and TxnOffsetCommit with the member's id and epoch (right, greater, smaller,
//! unknown member, none).
//!
//! Member ids are the script's own (ConsumerGroupHeartbeat v1: the consumer makes them).

use kafka_wire::{
    add_offsets_to_txn, consumer_group_describe, consumer_group_heartbeat, delete_groups, describe_groups, end_txn,
    list_groups, offset_delete, txn_offset_commit,
};

use super::*;

const GROUP: &str = "diff-cga-group";
const TOPIC: &str = "cga-topic";
const OTHER: &str = "cga-other";
const TXN: &str = "diff-cga-txn";
const A: &str = "member-cga-a-0000000000";

fn coordinator() -> Target {
    Target::group_coordinator(GROUP)
}

/// A ConsumerGroupHeartbeat v1 of member A subscribed to [`TOPIC`]: a join with epoch 0.
fn heartbeat(epoch: i32, owned: &[(Uuid, Vec<i32>)]) -> consumer_group_heartbeat::v1::Request {
    consumer_group_heartbeat::v1::Request {
        group_id: GROUP.into(),
        member_id: A.into(),
        member_epoch: epoch,
        rebalance_timeout_ms: if epoch == 0 { 30_000 } else { -1 },
        subscribed_topic_names: (epoch == 0).then(|| vec![TOPIC.into()]),
        topic_partitions: (epoch >= 0).then(|| {
            owned
                .iter()
                .map(|(id, ps)| consumer_group_heartbeat::v1::TopicPartitions {
                    topic_id: *id,
                    partitions: ps.iter().copied().collect(),
                    ..Default::default()
                })
                .collect()
        }),
        ..Default::default()
    }
}

fn list(states: &[&str], types: &[&str]) -> list_groups::v5::Request {
    list_groups::v5::Request {
        states_filter: states.iter().map(|&s| s.into()).collect(),
        types_filter: types.iter().map(|&s| s.into()).collect(),
        ..Default::default()
    }
}

/// ListGroups on every broker: this script's groups (Kafka's cluster is shared), sorted.
async fn listed(s: &Sys, request: &list_groups::v5::Request) -> impl Debug {
    let mut out = Vec::new();
    for &id in &s.ids {
        let r = s.send(&Target::Broker(id), request).await;
        out.push(format!("error {}", r.error_code));
        out.extend(r.groups.into_iter().filter(|g| g.group_id.starts_with("diff-cga")).map(|g| format!("{g:?}")));
    }
    out.sort();
    out.dedup();
    out
}

/// DescribeGroups v6 (v5 when `v5`), with the authorized operations: client hosts masked.
async fn described(s: &Sys, v5: bool) -> impl Debug {
    let groups = vec![GROUP.into()];
    let mut r = if v5 {
        let request =
            describe_groups::v5::Request { groups, include_authorized_operations: true, ..Default::default() };
        let r = s.send(&coordinator(), &request).await;
        describe_groups::v6::Response {
            groups: r
                .groups
                .into_iter()
                .map(|g| describe_groups::v6::DescribedGroup {
                    error_code: g.error_code,
                    group_id: g.group_id,
                    group_state: g.group_state,
                    protocol_type: g.protocol_type,
                    protocol_data: g.protocol_data,
                    members: g
                        .members
                        .into_iter()
                        .map(|m| describe_groups::v6::DescribedGroupMember {
                            member_id: m.member_id,
                            group_instance_id: m.group_instance_id,
                            client_id: m.client_id,
                            client_host: m.client_host,
                            member_metadata: m.member_metadata,
                            member_assignment: m.member_assignment,
                            ..Default::default()
                        })
                        .collect(),
                    authorized_operations: g.authorized_operations,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    } else {
        let request =
            describe_groups::v6::Request { groups, include_authorized_operations: true, ..Default::default() };
        s.send(&coordinator(), &request).await
    };
    r.throttle_time_ms = 0;
    for g in &mut r.groups {
        for m in &mut g.members {
            m.client_host = "<host>".into();
        }
    }
    r
}

async fn deleted(s: &Sys) -> impl Debug {
    let request = delete_groups::v2::Request { groups_names: vec![GROUP.into()], ..Default::default() };
    let mut r = s.send(&coordinator(), &request).await;
    r.throttle_time_ms = 0;
    r
}

/// OffsetDelete of partition 0 of [`TOPIC`] and [`OTHER`]: topics sorted.
async fn offsets_deleted(s: &Sys) -> impl Debug {
    let request = offset_delete::v0::Request {
        group_id: GROUP.into(),
        topics: [TOPIC, OTHER]
            .iter()
            .map(|t| offset_delete::v0::OffsetDeleteRequestTopic {
                name: (*t).into(),
                partitions: vec![offset_delete::v0::OffsetDeleteRequestPartition { partition_index: 0 }],
            })
            .collect(),
    };
    let mut r = s.send(&coordinator(), &request).await;
    r.throttle_time_ms = 0;
    r.topics.sort_by(|a, b| a.name.cmp(&b.name));
    r
}

fn commit(epoch: i32) -> offset_commit::v9::Request {
    offset_commit::v9::Request {
        group_id: GROUP.into(),
        generation_id_or_member_epoch: epoch,
        member_id: A.into(),
        topics: [TOPIC, OTHER]
            .iter()
            .map(|t| offset_commit::v9::OffsetCommitRequestTopic {
                name: (*t).into(),
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
    }
}

fn txn_commit(producer: (i64, i16), member_id: &str, epoch: i32) -> txn_offset_commit::v3::Request {
    txn_offset_commit::v3::Request {
        transactional_id: TXN.into(),
        group_id: GROUP.into(),
        producer_id: producer.0,
        producer_epoch: producer.1,
        generation_id_or_member_epoch: epoch,
        member_id: member_id.into(),
        topics: vec![txn_offset_commit::v3::TxnOffsetCommitRequestTopic {
            name: TOPIC.into(),
            partitions: vec![txn_offset_commit::v3::TxnOffsetCommitRequestPartition {
                partition_index: 1,
                committed_offset: 9,
                committed_leader_epoch: -1,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

async fn txn_committed(s: &Sys, producer: (i64, i16), member_id: &str, epoch: i32) -> impl Debug {
    let mut r = s.send(&coordinator(), &txn_commit(producer, member_id, epoch)).await;
    r.throttle_time_ms = 0;
    r
}

async fn consumer_admin_script(s: &Sys, t: &mut Transcript) {
    let topic_id = s.create_topic(TOPIC, 2, 1, &[]).await;
    s.create_topic(OTHER, 1, 1, &[]).await;
    s.coordinator_ready(GROUP).await;
    s.send_settled(&coordinator(), &offset_fetch_request(GROUP, None), |r| r.groups[0].error_code).await;

    // A joins and heartbeats (not compared) until the group is stable.
    let r = s.send(&coordinator(), &heartbeat(0, &[])).await;
    assert_eq!(r.error_code, ErrorCode::NONE, "{}: {:?}", s.name, r.error_message);
    let assigned = |a: &consumer_group_heartbeat::v1::Assignment| -> Vec<(Uuid, Vec<i32>)> {
        a.topic_partitions.iter().map(|t| (t.topic_id, t.partitions.iter().copied().collect())).collect()
    };
    let (mut epoch, mut owned) = (r.member_epoch, r.assignment.as_ref().map(assigned).unwrap_or_default());
    let deadline = Instant::now() + PATIENCE;
    loop {
        let describe = consumer_group_describe::v1::Request { group_ids: vec![GROUP.into()], ..Default::default() };
        let d = s.send(&coordinator(), &describe).await;
        let g = &d.groups[0];
        if g.assignment_epoch == g.group_epoch && &*g.group_state == "Stable" && !owned.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "{}: the group never settled", s.name);
        let r = s.send(&coordinator(), &heartbeat(epoch, &owned)).await;
        assert_eq!(r.error_code, ErrorCode::NONE, "{}: {:?}", s.name, r.error_message);
        epoch = r.member_epoch;
        if let Some(a) = &r.assignment {
            owned = assigned(a);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    t.step("A's epoch and topics", (epoch, owned.iter().map(|(id, _)| *id == topic_id).collect::<Vec<_>>()));
    let mut r = s.send(&coordinator(), &commit(epoch)).await;
    r.throttle_time_ms = 0;
    t.step("A commits both topics", r);

    // The admin views while A is a member.
    t.step("ListGroups: all", listed(s, &list(&[], &[])).await);
    t.step("ListGroups: state STABLE", listed(s, &list(&["STABLE"], &[])).await);
    t.step("ListGroups: state Empty", listed(s, &list(&["Empty"], &[])).await);
    t.step("ListGroups: type Consumer", listed(s, &list(&[], &["Consumer"])).await);
    t.step("ListGroups: type classic", listed(s, &list(&[], &["classic"])).await);
    t.step("DescribeGroups v5", described(s, true).await);
    t.step("DescribeGroups v6", described(s, false).await);
    t.step("DeleteGroups: a member", deleted(s).await);
    t.step("OffsetDelete: subscribed and not", offsets_deleted(s).await);
    let r = s.send(&coordinator(), &offset_fetch_request(GROUP, Some(&[(TOPIC, &[0]), (OTHER, &[0])]))).await;
    t.step("the offsets left", norm_offset_fetch(r));

    // Transactional commits with A's identity.
    let lookup =
        find_coordinator::v6::Request { key_type: 1, coordinator_keys: vec![TXN.into()], ..Default::default() };
    s.send_settled(&Target::AnyBroker, &lookup, |r| r.coordinators[0].error_code).await;
    let txn = Target::transaction_coordinator(TXN);
    let init = init_producer_id::v5::Request {
        transactional_id: Some(TXN.into()),
        transaction_timeout_ms: 60_000,
        producer_id: -1,
        producer_epoch: -1,
        ..Default::default()
    };
    let r = s.send_settled(&txn, &init, |r| r.error_code).await;
    let p = (r.producer_id, r.producer_epoch);
    let add = add_offsets_to_txn::v3::Request {
        transactional_id: TXN.into(),
        producer_id: p.0,
        producer_epoch: p.1,
        group_id: GROUP.into(),
        ..Default::default()
    };
    t.step("AddOffsetsToTxn", s.send(&txn, &add).await.error_code);
    t.step("TxnOffsetCommit: A in its epoch", txn_committed(s, p, A, epoch).await);
    t.step("TxnOffsetCommit: A with a greater epoch", txn_committed(s, p, A, epoch + 1).await);
    t.step("TxnOffsetCommit: A with a smaller epoch", txn_committed(s, p, A, epoch - 1).await);
    t.step("TxnOffsetCommit: an unknown member", txn_committed(s, p, "nobody", epoch).await);
    t.step("TxnOffsetCommit: no member", txn_committed(s, p, "", -1).await);
    t.step("TxnOffsetCommit: A with epoch -1", txn_committed(s, p, A, -1).await);
    t.step("TxnOffsetCommit: no member id, A's epoch", txn_committed(s, p, "", epoch).await);
    let end = end_txn::v4::Request {
        transactional_id: TXN.into(),
        producer_id: p.0,
        producer_epoch: p.1,
        committed: true,
        ..Default::default()
    };
    t.step("EndTxn: commit", s.send(&txn, &end).await.error_code);
    let fetch = offset_fetch_request(GROUP, Some(&[(TOPIC, &[1])]));
    let r = s.send_settled(&coordinator(), &fetch, |r| r.groups[0].topics[0].partitions[0].error_code).await;
    t.step("the transaction's offset", norm_offset_fetch(r));

    // A leaves: the group is empty.
    let r = s.send(&coordinator(), &heartbeat(-1, &[])).await;
    t.step("A leaves", (r.error_code, r.member_epoch));
    t.step("ListGroups: empty", listed(s, &list(&["empty"], &["consumer"])).await);
    t.step("DescribeGroups v6: empty", described(s, false).await);
    t.step("OffsetDelete: an empty group", offsets_deleted(s).await);
    t.step("DeleteGroups: empty", deleted(s).await);
    t.step("ListGroups: deleted", listed(s, &list(&[], &[])).await);
    t.step("DescribeGroups v6: deleted", described(s, false).await);
    if std::env::var_os("DIFFERENTIAL_DUMP").is_some() {
        for (step, answer) in &t.steps {
            println!("=== {} / {step}\n{answer}", s.name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_group_admin() {
    differential!("consumer_group_admin", consumer_admin_script);
}
