//! The admin APIs against Apache Kafka 4.4: ListGroups, DescribeGroups, DeleteGroups and
//! OffsetDelete through a group's life, and CreatePartitions.

use std::fmt::Debug;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_wire::consumer_protocol_subscription::ConsumerProtocolSubscription;
use kafka_wire::{
    create_partitions, delete_groups, describe_groups, join_group, leave_group, list_groups, offset_commit,
    offset_delete, sync_group, ErrorCode, VersionFreeMessage,
};
use kafka_wire_client::Target;

use super::{compare, kafka, metadata_request, mock, norm_metadata, Members, Sys, Transcript};

const GROUP: &str = "diff-admin-group";
const INSTANCE: &str = "diff-admin-instance";

/// A consumer's subscription as JoinGroup carries it: the int16 version, then the body.
fn subscription(topics: &[&str]) -> Bytes {
    let s = ConsumerProtocolSubscription { topics: topics.iter().map(|&t| t.into()).collect(), ..Default::default() };
    let mut b = BytesMut::new();
    b.put_i16(1);
    s.encode(1, &mut b).unwrap();
    b.freeze()
}

fn list(states: &[&str], types: &[&str]) -> list_groups::v5::Request {
    list_groups::v5::Request {
        states_filter: states.iter().map(|&s| s.into()).collect(),
        types_filter: types.iter().map(|&s| s.into()).collect(),
        ..Default::default()
    }
}

/// ListGroups on every broker: the groups of this script (Kafka's cluster is shared with the
/// other tests), sorted.
async fn listed(s: &Sys, request: &list_groups::v5::Request) -> impl Debug {
    let mut out = Vec::new();
    for &id in &s.ids {
        let r = s.send(&Target::Broker(id), request).await;
        out.push(format!("error {}", r.error_code));
        let mut groups: Vec<_> = r.groups.into_iter().filter(|g| g.group_id.starts_with("diff-admin")).collect();
        groups.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        out.extend(groups.into_iter().map(|g| format!("{g:?}")));
    }
    out.sort();
    out.dedup();
    out
}

fn describe(groups: &[&str], operations: bool) -> describe_groups::v6::Request {
    describe_groups::v6::Request {
        groups: groups.iter().map(|&g| g.into()).collect(),
        include_authorized_operations: operations,
        ..Default::default()
    }
}

fn describe_v5(groups: &[&str]) -> describe_groups::v5::Request {
    describe_groups::v5::Request { groups: groups.iter().map(|&g| g.into()).collect(), ..Default::default() }
}

/// DescribeGroups: member ids become names; groups and members sorted.
fn norm_describe(m: &Members, mut r: describe_groups::v6::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r.groups.sort_by(|a, b| a.group_id.cmp(&b.group_id));
    for g in &mut r.groups {
        for member in &mut g.members {
            member.member_id = m.norm(&member.member_id).into();
        }
        g.members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    }
    r
}

fn delete(groups: &[&str]) -> delete_groups::v3::Request {
    delete_groups::v3::Request { groups_names: groups.iter().map(|&g| g.into()).collect(), ..Default::default() }
}

/// DeleteGroups: results sorted (Kafka answers them per coordinator shard).
fn norm_delete(mut r: delete_groups::v3::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r.results.sort_by(|a, b| a.group_id.cmp(&b.group_id));
    r
}

fn offset_delete(topics: &[(&str, &[i32])]) -> offset_delete::v0::Request {
    offset_delete::v0::Request {
        group_id: GROUP.into(),
        topics: topics
            .iter()
            .map(|(t, ps)| offset_delete::v0::OffsetDeleteRequestTopic {
                name: (*t).into(),
                partitions: ps
                    .iter()
                    .map(|&p| offset_delete::v0::OffsetDeleteRequestPartition { partition_index: p })
                    .collect(),
            })
            .collect(),
    }
}

/// OffsetDelete: topics and partitions sorted (Kafka answers them in hash order).
fn norm_offset_delete(mut r: offset_delete::v0::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r.topics.sort_by(|a, b| a.name.cmp(&b.name));
    for t in &mut r.topics {
        t.partitions.sort_by_key(|p| p.partition_index);
    }
    r
}

fn commit(member_id: &str, generation: i32, topic: &str, partitions: &[i32]) -> offset_commit::v9::Request {
    offset_commit::v9::Request {
        group_id: GROUP.into(),
        generation_id_or_member_epoch: generation,
        member_id: member_id.into(),
        group_instance_id: (!member_id.is_empty()).then(|| INSTANCE.into()),
        topics: vec![offset_commit::v9::OffsetCommitRequestTopic {
            name: topic.into(),
            partitions: partitions
                .iter()
                .map(|&p| offset_commit::v9::OffsetCommitRequestPartition {
                    partition_index: p,
                    committed_offset: 3,
                    committed_leader_epoch: -1,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

async fn groups_script(s: &Sys, t: &mut Transcript) {
    let (topic, other) = ("diff-admin-topic", "diff-admin-other");
    s.create_topic(topic, 2, 1, &[]).await;
    s.create_topic(other, 1, 1, &[]).await;
    s.coordinator_ready(GROUP).await;
    let coordinator = Target::group_coordinator(GROUP);
    // Kafka loads the group's partition of __consumer_offsets after FindCoordinator answers.
    s.send_settled(&coordinator, &super::offset_fetch_request(GROUP, None), |r| r.groups[0].error_code).await;
    let m = Members::default();

    t.step("ListGroups: none yet", listed(s, &list(&[], &[])).await);
    let r = s.send(&coordinator, &describe(&[GROUP], false)).await;
    t.step("DescribeGroups v6: an unknown group", norm_describe(&m, r));
    let r = s.send(&coordinator, &describe_v5(&[GROUP])).await;
    t.step("DescribeGroups v5: an unknown group", format!("{:?}", r.groups));
    let r = s.send(&coordinator, &delete(&[GROUP])).await;
    t.step("DeleteGroups: an unknown group", norm_delete(r));
    let r = s.send(&coordinator, &offset_delete(&[(topic, &[0])])).await;
    t.step("OffsetDelete: an unknown group", norm_offset_delete(r));

    // A static member joins (it gets its member id at once) and syncs.
    let join = join_group::v9::Request {
        group_id: GROUP.into(),
        session_timeout_ms: 30_000,
        rebalance_timeout_ms: 30_000,
        member_id: "".into(),
        group_instance_id: Some(INSTANCE.into()),
        protocol_type: "consumer".into(),
        protocols: vec![join_group::v9::JoinGroupRequestProtocol {
            name: "range".into(),
            metadata: subscription(&[topic]),
            ..Default::default()
        }],
        reason: None,
        ..Default::default()
    };
    let joined = s.send(&coordinator, &join).await;
    assert_eq!(joined.error_code, ErrorCode::NONE, "{}", s.name);
    let member = joined.member_id.to_string();
    let mut m = m;
    m.name("A", &member);
    let sync = sync_group::v5::Request {
        group_id: GROUP.into(),
        generation_id: joined.generation_id,
        member_id: member.as_str().into(),
        group_instance_id: Some(INSTANCE.into()),
        protocol_type: Some("consumer".into()),
        protocol_name: Some("range".into()),
        assignments: vec![sync_group::v5::SyncGroupRequestAssignment {
            member_id: member.as_str().into(),
            assignment: Bytes::from_static(b"A's partitions"),
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = s.send(&coordinator, &sync).await;
    assert_eq!(r.error_code, ErrorCode::NONE, "{}", s.name);

    t.step("ListGroups: a stable group", listed(s, &list(&[], &[])).await);
    t.step("ListGroups: states filter (any case)", listed(s, &list(&["STABLE", "empty"], &[])).await);
    t.step("ListGroups: a state it is not in", listed(s, &list(&["Empty"], &[])).await);
    t.step("ListGroups: type classic", listed(s, &list(&[], &["Classic"])).await);
    t.step("ListGroups: type consumer", listed(s, &list(&[], &["consumer"])).await);
    let r = s.send(&coordinator, &describe(&[GROUP, ""], true)).await;
    t.step("DescribeGroups: stable, with operations", norm_describe(&m, r));
    let elsewhere = {
        let addr = s.client.connection(&coordinator).await.unwrap().addr().to_owned();
        *s.ids.iter().find(|&&id| s.addr(id) != addr).unwrap()
    };
    let r = s.send(&Target::Broker(elsewhere), &describe(&[GROUP], false)).await;
    t.step("DescribeGroups: not the coordinator", norm_describe(&m, r));
    let r = s.send(&coordinator, &delete(&[GROUP, ""])).await;
    t.step("DeleteGroups: a group with a member", norm_delete(r));

    let r = s.send(&coordinator, &commit(&member, joined.generation_id, topic, &[0, 1])).await;
    assert!(r.topics[0].partitions.iter().all(|p| p.error_code == ErrorCode::NONE), "{}: {r:?}", s.name);
    let r = s.send(&coordinator, &commit(&member, joined.generation_id, other, &[0])).await;
    assert!(r.topics[0].partitions.iter().all(|p| p.error_code == ErrorCode::NONE), "{}: {r:?}", s.name);
    let r = s.send(&coordinator, &offset_delete(&[(topic, &[0]), (other, &[0, 5])])).await;
    t.step("OffsetDelete: a subscribed topic and another", norm_offset_delete(r));

    let leave = leave_group::v5::Request {
        group_id: GROUP.into(),
        members: vec![leave_group::v5::MemberIdentity {
            member_id: member.as_str().into(),
            group_instance_id: Some(INSTANCE.into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = s.send(&coordinator, &leave).await;
    assert_eq!(r.error_code, ErrorCode::NONE, "{}", s.name);
    t.step("ListGroups: empty", listed(s, &list(&["Empty"], &[])).await);
    let r = s.send(&coordinator, &describe(&[GROUP], false)).await;
    t.step("DescribeGroups: empty", norm_describe(&m, r));
    let r = s.send(&coordinator, &offset_delete(&[(topic, &[0, 1])])).await;
    t.step("OffsetDelete: an empty group", norm_offset_delete(r));
    let r = s.send(&coordinator, &delete(&[GROUP])).await;
    t.step("DeleteGroups: an empty group", norm_delete(r));
    t.step("ListGroups: deleted", listed(s, &list(&[], &[])).await);
    let r = s.send(&coordinator, &describe(&[GROUP], false)).await;
    t.step("DescribeGroups: deleted", norm_describe(&m, r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_groups() {
    differential!("admin_groups", groups_script);
}

/// A topic to grow: name, new partition count, the new partitions' replicas.
type Growth<'a> = (&'a str, i32, Option<Vec<Vec<i32>>>);

fn grow(topics: &[Growth<'_>], validate_only: bool) -> create_partitions::v3::Request {
    create_partitions::v3::Request {
        topics: topics
            .iter()
            .map(|(name, count, assignments)| create_partitions::v3::CreatePartitionsTopic {
                name: (*name).into(),
                count: *count,
                assignments: assignments.as_ref().map(|a| {
                    a.iter()
                        .map(|ids| create_partitions::v3::CreatePartitionsAssignment {
                            broker_ids: ids.iter().copied().collect(),
                            ..Default::default()
                        })
                        .collect()
                }),
                ..Default::default()
            })
            .collect(),
        timeout_ms: 30_000,
        validate_only,
        ..Default::default()
    }
}

/// CreatePartitions: results sorted by name (Kafka answers in the order of a hash set); a
/// broker id in a message becomes its rank.
fn norm_grow(s: &Sys, mut r: create_partitions::v3::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r.results.sort_by(|a, b| a.name.cmp(&b.name));
    for x in &mut r.results {
        if let Some(message) = &x.error_message {
            let mut m = message.to_string();
            for &id in &s.ids {
                m = m.replace(&format!("the broker {id} "), &format!("the broker #{} ", s.rank(id)));
            }
            x.error_message = Some(m.into());
        }
    }
    r
}

async fn partitions_script(s: &Sys, t: &mut Transcript) {
    let (topic, other) = ("diff-admin-grow", "diff-admin-grow-2");
    s.create_topic(topic, 1, 1, &[]).await;
    s.create_topic(other, 1, 2, &[]).await;
    let any = Target::AnyBroker;
    let r = s.send(&any, &grow(&[(topic, 3, None)], true)).await;
    t.step("validate only", norm_grow(s, r));
    let r = s.send(&any, &metadata_request(&[topic], false)).await;
    t.step("metadata after validating", norm_metadata(s, r));
    let r = s
        .send(&any, &grow(&[(topic, 3, None), (other, 2, Some(vec![vec![s.ids[s.ids.len() - 1], s.ids[0]]]))], false))
        .await;
    t.step("grow two topics", norm_grow(s, r));
    let r = s.send(&any, &grow(&[(topic, 3, None), (other, 1, None), ("diff-admin-missing", 2, None)], false)).await;
    t.step("not an increase; an unknown topic", norm_grow(s, r));
    let r = s.send(&any, &grow(&[(topic, 4, None), (topic, 5, None)], false)).await;
    t.step("a topic twice", norm_grow(s, r));
    let (a, b) = (s.ids[0], s.ids[1]);
    for (name, assignments) in [
        ("too few assignments", vec![vec![a, b]]),
        ("an empty replica list", vec![vec![a, b], vec![]]),
        ("an unknown broker", vec![vec![a, b], vec![a, 999]]),
        ("a broker twice", vec![vec![a, b], vec![b, b]]),
        ("another replication factor", vec![vec![a, b], vec![a]]),
    ] {
        let r = s.send(&any, &grow(&[(other, 4, Some(assignments))], false)).await;
        t.step(format!("assignment: {name}"), norm_grow(s, r));
    }
    // Every broker knows the new partitions.
    for p in 0..3 {
        s.send_settled(&Target::leader(topic, p), &super::list_offsets_request(topic, &[(p, -1)]), |r| {
            r.topics[0].partitions[0].error_code
        })
        .await;
    }
    let r = s.send(&any, &metadata_request(&[topic, other], false)).await;
    t.step("metadata after growing", norm_metadata(s, r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_partitions() {
    differential!("create_partitions", partitions_script);
}
