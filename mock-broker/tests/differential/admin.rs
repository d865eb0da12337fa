//! The admin APIs against Apache Kafka 4.4: ListGroups, DescribeGroups, DeleteGroups and
//! OffsetDelete through a group's life; CreatePartitions; DeleteRecords, DescribeLogDirs,
//! DescribeCluster and ElectLeaders; IncrementalAlterConfigs and AlterConfigs; the SCRAM
//! credential APIs; the ACL APIs without an authorizer.

use std::fmt::Debug;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_wire::consumer_protocol_subscription::ConsumerProtocolSubscription;
use kafka_wire::records::Compression;
use kafka_wire::{
    alter_configs, alter_user_scram_credentials, create_acls, create_partitions, delete_acls, delete_groups,
    delete_records, describe_acls, describe_cluster, describe_configs, describe_groups, describe_log_dirs,
    describe_user_scram_credentials, elect_leaders, incremental_alter_configs, join_group, leave_group, list_groups,
    offset_commit, offset_delete, sync_group, ErrorCode, VersionFreeMessage,
};
use kafka_wire_client::Target;

use super::{
    batch, compare, fetch_request, kafka, list_offsets_request, metadata_request, mock, norm_fetch, norm_list_offsets,
    norm_metadata, produce_request, Members, Sys, Transcript,
};

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

// ---------------------------------------------------------------------------------------------
// DeleteRecords, DescribeLogDirs, DescribeCluster, ElectLeaders

fn delete_records(topic: &str, partitions: &[(i32, i64)]) -> delete_records::v2::Request {
    delete_records::v2::Request {
        topics: vec![delete_records::v2::DeleteRecordsTopic {
            name: topic.into(),
            partitions: partitions
                .iter()
                .map(|&(partition_index, offset)| delete_records::v2::DeleteRecordsPartition {
                    partition_index,
                    offset,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        timeout_ms: 30_000,
        ..Default::default()
    }
}

fn norm_delete_records(mut r: delete_records::v2::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r
}

/// DescribeLogDirs: the directory's path and the disk's sizes go (the step "disk sizes" shows
/// whether they are known); only this script's topic is kept (Kafka's cluster is shared),
/// sorted.
fn norm_log_dirs(mut r: describe_log_dirs::v4::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    for d in &mut r.results {
        d.log_dir = "<dir>".into();
        d.total_bytes = 0;
        d.usable_bytes = 0;
        d.topics.retain(|t| t.name.starts_with("diff-admin-records"));
        d.topics.sort_by(|a, b| a.name.cmp(&b.name));
        for t in &mut d.topics {
            t.partitions.sort_by_key(|p| p.partition_index);
        }
    }
    r
}

/// DescribeCluster: cluster id, hosts and ports go; broker ids become ranks; the controller id
/// "a broker" (0: a KRaft broker names a random live broker).
fn norm_cluster(s: &Sys, mut r: describe_cluster::v2::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r.cluster_id = if r.cluster_id.is_empty() { "".into() } else { "<cluster id>".into() };
    r.controller_id = if s.ids.contains(&r.controller_id) { 0 } else { r.controller_id };
    for b in &mut r.brokers {
        b.broker_id = s.rank(b.broker_id);
        b.host = "<host>".into();
        b.port = 0;
    }
    r.brokers.sort_by_key(|b| b.broker_id);
    r
}

fn elect(election_type: i8, topics: Option<&[(&str, &[i32])]>) -> elect_leaders::v2::Request {
    elect_leaders::v2::Request {
        election_type,
        topic_partitions: topics.map(|ts| {
            ts.iter()
                .map(|(t, ps)| elect_leaders::v2::TopicPartitions {
                    topic: (*t).into(),
                    partitions: (*ps).into(),
                    ..Default::default()
                })
                .collect()
        }),
        timeout_ms: 30_000,
        ..Default::default()
    }
}

/// ElectLeaders: only this script's topics are kept (Kafka's cluster is shared), sorted.
fn norm_elect(mut r: elect_leaders::v2::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r.replica_election_results.retain(|t| ["diff-admin-records", "diff-admin-no-such-topic"].contains(&&*t.topic));
    r.replica_election_results.sort_by(|a, b| a.topic.cmp(&b.topic));
    r
}

async fn records_script(s: &Sys, t: &mut Transcript) {
    let topic = "diff-admin-records";
    let topic_id = s.create_topic(topic, 1, 1, &[]).await;
    let leader_id = s.leader(topic, 0).await;
    let leader = Target::Broker(leader_id);
    for base in [0, 5] {
        let r = s.send(&leader, &produce_request(topic, 0, Some(batch(Compression::None, None, base, 5)), 1)).await;
        assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE, "{}", s.name);
    }
    let r = s.send(&leader, &delete_records(topic, &[(0, 3)])).await;
    t.step("DeleteRecords: up to 3", norm_delete_records(r));
    let r = s.send(&leader, &list_offsets_request(topic, &[(0, -2)])).await;
    t.step("ListOffsets: earliest", norm_list_offsets(r));
    let r = s.send(&leader, &fetch_request(topic_id, &[(0, 1, 1 << 20)], 1 << 20, 0, 1)).await;
    t.step("Fetch below the log start", norm_fetch(s, leader_id, r));
    let r = s.send(&leader, &fetch_request(topic_id, &[(0, 3, 1 << 20)], 1 << 20, 0, 1)).await;
    t.step("Fetch at the log start", norm_fetch(s, leader_id, r));
    let r = s.send(&leader, &delete_records(topic, &[(0, 2)])).await;
    t.step("DeleteRecords: below the log start", norm_delete_records(r));
    let r = s.send(&leader, &delete_records(topic, &[(0, 99), (7, 1)])).await;
    t.step("DeleteRecords: beyond the end; an unknown partition", norm_delete_records(r));
    let r = s.send(&leader, &delete_records(topic, &[(0, -1)])).await;
    t.step("DeleteRecords: up to the high watermark", norm_delete_records(r));
    let outsider = s.outsider(topic, 0).await;
    let r = s.send(&Target::Broker(outsider), &delete_records(topic, &[(0, -1)])).await;
    t.step("DeleteRecords: not the leader", norm_delete_records(r));
    let r = s.send(&leader, &list_offsets_request(topic, &[(0, -2)])).await;
    t.step("ListOffsets: earliest after", norm_list_offsets(r));
    let r = s.send(&leader, &list_offsets_request(topic, &[(0, -1)])).await;
    t.step("ListOffsets: latest after", norm_list_offsets(r));

    let log_dirs = |topics: Option<Vec<(&str, Vec<i32>)>>| describe_log_dirs::v4::Request {
        topics: topics.map(|ts| {
            ts.into_iter()
                .map(|(t, ps)| describe_log_dirs::v4::DescribableLogDirTopic {
                    topic: t.into(),
                    partitions: ps.as_slice().into(),
                    ..Default::default()
                })
                .collect()
        }),
        ..Default::default()
    };
    let r = s.send(&leader, &log_dirs(None)).await;
    let known = |bytes: i64| if bytes >= 0 { "known" } else { "unknown" };
    let sizes: Vec<_> = r.results.iter().map(|d| (known(d.total_bytes), known(d.usable_bytes))).collect();
    t.step("DescribeLogDirs: disk sizes", sizes);
    t.step("DescribeLogDirs: all", norm_log_dirs(r));
    let r = s.send(&leader, &log_dirs(Some(vec![(topic, vec![0, 3])]))).await;
    t.step("DescribeLogDirs: some", norm_log_dirs(r));
    let r = s.send(&Target::Broker(outsider), &log_dirs(Some(vec![(topic, vec![0])]))).await;
    t.step("DescribeLogDirs: a broker without the partition", norm_log_dirs(r));

    let cluster = |operations: bool, endpoint_type: i8| describe_cluster::v2::Request {
        include_cluster_authorized_operations: operations,
        endpoint_type,
        include_fenced_brokers: true,
        ..Default::default()
    };
    let r = s.send(&leader, &cluster(false, 1)).await;
    t.step("DescribeCluster", norm_cluster(s, r));
    let r = s.send(&leader, &cluster(true, 1)).await;
    t.step("DescribeCluster: with operations", norm_cluster(s, r));
    let r = s.send(&leader, &cluster(false, 2)).await;
    t.step("DescribeCluster: the controllers' endpoint", norm_cluster(s, r));

    let any = Target::AnyBroker;
    let asked: &[(&str, &[i32])] = &[(topic, &[0, 4]), ("diff-admin-no-such-topic", &[0])];
    let r = s.send(&any, &elect(0, Some(asked))).await;
    t.step("ElectLeaders: preferred", norm_elect(r));
    let r = s.send(&any, &elect(1, Some(asked))).await;
    t.step("ElectLeaders: unclean", norm_elect(r));
    let r = s.send(&any, &elect(0, None)).await;
    t.step("ElectLeaders: every partition", norm_elect(r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_records_and_cluster() {
    differential!("admin_records_and_cluster", records_script);
}

// ---------------------------------------------------------------------------------------------
// IncrementalAlterConfigs and AlterConfigs (broker changes only validated: the Kafka cluster is
// shared with the describe_configs test)

/// IncrementalAlterConfigs operations.
const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

/// One resource of an IncrementalAlterConfigs: type, name, (config, operation, value).
type Alteration<'a> = (i8, &'a str, &'a [(&'a str, i8, Option<&'a str>)]);

fn incremental(resources: &[Alteration<'_>], validate_only: bool) -> incremental_alter_configs::v1::Request {
    incremental_alter_configs::v1::Request {
        resources: resources
            .iter()
            .map(|(resource_type, name, configs)| incremental_alter_configs::v1::AlterConfigsResource {
                resource_type: *resource_type,
                resource_name: (*name).into(),
                configs: configs
                    .iter()
                    .map(|(n, op, v)| incremental_alter_configs::v1::AlterableConfig {
                        name: (*n).into(),
                        config_operation: *op,
                        value: v.map(Into::into),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        validate_only,
        ..Default::default()
    }
}

/// IncrementalAlterConfigs: a broker id (as resource name, and in a message) becomes its rank;
/// answers sorted.
fn norm_incremental(s: &Sys, mut r: incremental_alter_configs::v1::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    for x in &mut r.responses {
        for &id in &s.ids {
            if *x.resource_name == *id.to_string() {
                x.resource_name = format!("<broker {}>", s.rank(id)).into();
            }
            if let Some(m) = &x.error_message {
                let m = m.replace(&format!("received {id}"), &format!("received <broker {}>", s.rank(id)));
                x.error_message =
                    Some(m.replace(&format!("expected {id},"), &format!("expected <broker {}>,", s.rank(id))).into());
            }
        }
    }
    r.responses.sort_by(|a, b| (a.resource_type, &a.resource_name).cmp(&(b.resource_type, &b.resource_name)));
    r
}

fn legacy(topic: &str, configs: &[(&str, Option<&str>)]) -> alter_configs::v2::Request {
    alter_configs::v2::Request {
        resources: vec![alter_configs::v2::AlterConfigsResource {
            resource_type: 2,
            resource_name: topic.into(),
            configs: configs
                .iter()
                .map(|(n, v)| alter_configs::v2::AlterableConfig {
                    name: (*n).into(),
                    value: v.map(Into::into),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        validate_only: false,
        ..Default::default()
    }
}

fn norm_legacy(mut r: alter_configs::v2::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r
}

async fn alter_configs_script(s: &Sys, t: &mut Transcript) {
    let topic = "diff-admin-configs";
    s.create_topic(topic, 1, 1, &[]).await;
    let any = Target::AnyBroker;
    let keys: &[&str] = &["cleanup.policy", "retention.ms", "max.message.bytes", "segment.ms"];
    let describe = |keys: &[&str]| describe_configs::v4::Request {
        resources: vec![describe_configs::v4::DescribeConfigsResource {
            resource_type: 2,
            resource_name: topic.into(),
            configuration_keys: Some(keys.iter().map(|&k| k.into()).collect()),
            ..Default::default()
        }],
        include_synonyms: true,
        ..Default::default()
    };
    let steps: Vec<(&str, Vec<Alteration<'_>>, bool)> = vec![
        (
            "set and append",
            vec![(2, topic, &[("retention.ms", SET, Some("1000")), ("cleanup.policy", APPEND, Some("compact"))])],
            false,
        ),
        ("validate only", vec![(2, topic, &[("segment.ms", SET, Some("5000"))])], true),
        ("append to a number", vec![(2, topic, &[("retention.ms", APPEND, Some("1"))])], false),
        ("an unknown config", vec![(2, topic, &[("no.such.config", SET, Some("1"))])], false),
        ("an invalid value", vec![(2, topic, &[("retention.ms", SET, Some("soon"))])], false),
        ("a null value", vec![(2, topic, &[("retention.ms", SET, None)])], false),
        (
            "a config twice",
            vec![(2, topic, &[("retention.ms", SET, Some("1")), ("retention.ms", DELETE, None)])],
            false,
        ),
        ("a resource twice", vec![(2, topic, &[]), (2, topic, &[])], false),
        ("an unknown topic", vec![(2, "diff-admin-no-such-topic", &[("retention.ms", SET, Some("1"))])], false),
        ("the default topic", vec![(2, "", &[("retention.ms", SET, Some("1"))])], false),
        ("an unknown resource type", vec![(99, "x", &[])], false),
    ];
    for (name, resources, validate_only) in steps {
        let r = s.send(&any, &incremental(&resources, validate_only)).await;
        t.step(format!("IncrementalAlterConfigs: {name}"), norm_incremental(s, r));
    }
    // A Kafka broker learns of a change from the metadata log, a moment after the controller
    // answered: wait for it to show the config changed.
    let settled = |name: &'static str, value: &'static str| {
        let request = describe(keys);
        async move {
            let deadline = std::time::Instant::now() + super::PATIENCE;
            loop {
                let r = s.send(&Target::leader(topic, 0), &request).await;
                let shown = r.results[0].configs.iter().any(|c| *c.name == *name && c.value.as_deref() == Some(value));
                if shown {
                    return r;
                }
                assert!(std::time::Instant::now() < deadline, "{}: {name} never shows {value}", s.name);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    let r = settled("retention.ms", "1000").await;
    t.step("DescribeConfigs after setting", super::norm_describe_configs(s, r));
    let r = s
        .send(
            &any,
            &incremental(
                &[(2, topic, &[("retention.ms", DELETE, None), ("cleanup.policy", SUBTRACT, Some("delete"))])],
                false,
            ),
        )
        .await;
    t.step("IncrementalAlterConfigs: delete and subtract", norm_incremental(s, r));
    let r = settled("retention.ms", "604800000").await;
    t.step("DescribeConfigs after deleting", super::norm_describe_configs(s, r));
    let r = s.send(&any, &legacy(topic, &[("max.message.bytes", Some("2000"))])).await;
    t.step("AlterConfigs: replaces every config", norm_legacy(r));
    let r = settled("max.message.bytes", "2000").await;
    t.step("DescribeConfigs after AlterConfigs", super::norm_describe_configs(s, r));
    let r = s.send(&any, &legacy(topic, &[("max.message.bytes", Some("big"))])).await;
    t.step("AlterConfigs: an invalid value", norm_legacy(r));

    // Brokers: validated only.
    let (first, second) = (s.ids[0], s.ids[1]);
    let first_name = first.to_string();
    let second_name = second.to_string();
    let broker_steps: Vec<(&str, Vec<Alteration<'_>>)> = vec![
        ("a dynamic config of this broker", vec![(4, &first_name, &[("log.cleaner.threads", SET, Some("2"))])]),
        ("a dynamic cluster default", vec![(4, "", &[("log.cleaner.threads", SET, Some("2"))])]),
        ("a static config", vec![(4, &first_name, &[("num.partitions", SET, Some("3"))])]),
        ("another broker", vec![(4, &second_name, &[("log.cleaner.threads", SET, Some("2"))])]),
        ("not a broker id", vec![(4, "one", &[("log.cleaner.threads", SET, Some("2"))])]),
    ];
    for (name, resources) in broker_steps {
        let r = s.send(&Target::Broker(first), &incremental(&resources, true)).await;
        t.step(format!("IncrementalAlterConfigs of brokers: {name}"), norm_incremental(s, r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_alter_configs() {
    differential!("admin_alter_configs", alter_configs_script);
}

// ---------------------------------------------------------------------------------------------
// DescribeUserScramCredentials and AlterUserScramCredentials

/// An upsertion: user, mechanism type, iterations.
fn upsert(user: &str, mechanism: i8, iterations: i32) -> alter_user_scram_credentials::v0::ScramCredentialUpsertion {
    alter_user_scram_credentials::v0::ScramCredentialUpsertion {
        name: user.into(),
        mechanism,
        iterations,
        salt: Bytes::from_static(b"diff-admin-salt"),
        salted_password: Bytes::from(vec![7u8; if mechanism == 2 { 64 } else { 32 }]),
        ..Default::default()
    }
}

fn remove(user: &str, mechanism: i8) -> alter_user_scram_credentials::v0::ScramCredentialDeletion {
    alter_user_scram_credentials::v0::ScramCredentialDeletion { name: user.into(), mechanism, ..Default::default() }
}

/// AlterUserScramCredentials: results sorted by user (Kafka answers in hash order).
fn norm_alter_scram(mut r: alter_user_scram_credentials::v0::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r.results.sort_by(|a, b| a.user.cmp(&b.user));
    r
}

/// DescribeUserScramCredentials: results sorted by user, credentials by mechanism.
fn norm_describe_scram(mut r: describe_user_scram_credentials::v0::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r.results.retain(|x| x.user.starts_with("diff-admin"));
    r.results.sort_by(|a, b| a.user.cmp(&b.user));
    for x in &mut r.results {
        x.credential_infos.sort_by_key(|c| c.mechanism);
    }
    r
}

fn describe_scram(users: Option<&[&str]>) -> describe_user_scram_credentials::v0::Request {
    describe_user_scram_credentials::v0::Request {
        users: users.map(|us| {
            us.iter()
                .map(|&u| describe_user_scram_credentials::v0::UserName { name: u.into(), ..Default::default() })
                .collect()
        }),
        ..Default::default()
    }
}

async fn scram_script(s: &Sys, t: &mut Transcript) {
    let any = Target::AnyBroker;
    let alter = |deletions: Vec<alter_user_scram_credentials::v0::ScramCredentialDeletion>,
                 upsertions: Vec<alter_user_scram_credentials::v0::ScramCredentialUpsertion>| {
        alter_user_scram_credentials::v0::Request { deletions, upsertions, ..Default::default() }
    };
    let (alice, bob) = ("diff-admin-alice", "diff-admin-bob");
    let r = s
        .send(
            &any,
            &alter(
                vec![remove("diff-admin-nobody", 1), remove("diff-admin-twice", 1)],
                vec![
                    upsert(alice, 1, 4096),
                    upsert(bob, 2, 8192),
                    upsert("diff-admin-few", 1, 100),
                    upsert("diff-admin-many", 1, 20000),
                    upsert("", 1, 4096),
                    upsert("diff-admin-odd", 9, 4096),
                    upsert("diff-admin-twice", 1, 4096),
                ],
            ),
        )
        .await;
    t.step("AlterUserScramCredentials: upsertions and errors", norm_alter_scram(r));
    // Kafka's brokers learn of the credentials from the metadata log: wait for both.
    let deadline = std::time::Instant::now() + super::PATIENCE;
    loop {
        let r = s.send(&any, &describe_scram(Some(&[alice, bob]))).await;
        if r.results.iter().all(|x| x.error_code == ErrorCode::NONE) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}: the credentials never show", s.name);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let r = s.send(&any, &describe_scram(None)).await;
    t.step("DescribeUserScramCredentials: every user", norm_describe_scram(r));
    let r = s.send(&any, &describe_scram(Some(&[alice, alice, "diff-admin-zed"]))).await;
    t.step("DescribeUserScramCredentials: a user twice; an unknown user", norm_describe_scram(r));
    let r = s.send(&any, &alter(vec![remove(alice, 1), remove(bob, 1)], vec![upsert(bob, 1, 4096)])).await;
    t.step("AlterUserScramCredentials: deletions", norm_alter_scram(r));
    let r = s.send(&any, &alter(vec![remove(alice, 1)], vec![upsert(bob, 1, 4096)])).await;
    t.step("AlterUserScramCredentials: a deletion and another mechanism", norm_alter_scram(r));
    let deadline = std::time::Instant::now() + super::PATIENCE;
    let r = loop {
        let r = s.send(&any, &describe_scram(Some(&[alice, bob]))).await;
        let settled = r.results.iter().any(|x| x.user == *alice && x.error_code.is_err())
            && r.results.iter().any(|x| x.user == *bob && x.credential_infos.len() == 2);
        if settled {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "{}: the changes never show", s.name);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    t.step("DescribeUserScramCredentials: after", norm_describe_scram(r));
    // Leave Kafka's shared cluster as it was.
    s.send(&any, &alter(vec![remove(bob, 1)], vec![])).await;
    s.send(&any, &alter(vec![remove(bob, 2)], vec![])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_scram_credentials() {
    differential!("admin_scram_credentials", scram_script);
}

// ---------------------------------------------------------------------------------------------
// ACLs on a cluster without an authorizer (the shared Kafka cluster has none, nor has a mock
// without SASL users)

async fn acls_script(s: &Sys, t: &mut Transcript) {
    let any = Target::AnyBroker;
    let create = create_acls::v3::Request {
        creations: vec![create_acls::v3::AclCreation {
            resource_type: 2,
            resource_name: "diff-admin-acl".into(),
            resource_pattern_type: 3,
            principal: "User:alice".into(),
            host: "*".into(),
            operation: 3,
            permission_type: 3,
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut r = s.send(&any, &create).await;
    r.throttle_time_ms = 0;
    t.step("CreateAcls", r);
    let describe = describe_acls::v3::Request {
        resource_type_filter: 1,
        resource_name_filter: None,
        pattern_type_filter: 1,
        principal_filter: None,
        host_filter: None,
        operation: 1,
        permission_type: 1,
        ..Default::default()
    };
    let mut r = s.send(&any, &describe).await;
    r.throttle_time_ms = 0;
    t.step("DescribeAcls", r);
    let delete = delete_acls::v3::Request {
        filters: vec![delete_acls::v3::DeleteAclsFilter {
            resource_type_filter: 1,
            resource_name_filter: None,
            pattern_type_filter: 1,
            principal_filter: None,
            host_filter: None,
            operation: 1,
            permission_type: 1,
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut r = s.send(&any, &delete).await;
    r.throttle_time_ms = 0;
    t.step("DeleteAcls", r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_acls_without_authorizer() {
    differential!("admin_acls_without_authorizer", acls_script);
}
