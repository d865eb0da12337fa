//! The admin APIs through this project's client: what an admin tool lists, describes, deletes,
//! grows and alters (groups, committed offsets, partitions, records, configs, the cluster, SCRAM
//! credentials).

use bytes::{BufMut, Bytes, BytesMut};
use kafka_wire::consumer_protocol_subscription::ConsumerProtocolSubscription;
use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
use kafka_wire::{
    alter_configs, alter_user_scram_credentials, create_acls, create_partitions, delete_acls, delete_groups,
    delete_records, describe_acls, describe_cluster, describe_configs, describe_groups, describe_log_dirs,
    describe_user_scram_credentials, elect_leaders, fetch, incremental_alter_configs, join_group, leave_group,
    list_groups, list_offsets, offset_commit, offset_delete, offset_fetch, produce, sync_group, ErrorCode, Records,
    VersionFreeMessage,
};
use kafka_wire_client::sasl::{SaslConfig as ClientSasl, SaslMechanism as ClientMechanism};
use kafka_wire_client::{Client, ConnectionConfig, Target};
use kafka_wire_mock::{MockCluster, MockConfig, SaslConfig, SaslMechanism, TopicSpec};

const GROUP: &str = "admin-group";

async fn setup(config: MockConfig) -> (MockCluster, Client) {
    let cluster = MockCluster::start(config).await.unwrap();
    let client = Client::connect(cluster.bootstrap_servers().split(','), ConnectionConfig::default()).await.unwrap();
    (cluster, client)
}

/// A consumer's subscription as JoinGroup carries it: the int16 version, then the body.
fn subscription(topics: &[&str]) -> Bytes {
    let s = ConsumerProtocolSubscription { topics: topics.iter().map(|&t| t.into()).collect(), ..Default::default() };
    let mut b = BytesMut::new();
    b.put_i16(1);
    s.encode(1, &mut b).unwrap();
    b.freeze()
}

fn join(member_id: &str, metadata: &Bytes) -> join_group::Request {
    join_group::Request {
        group_id: GROUP.into(),
        session_timeout_ms: 30_000,
        rebalance_timeout_ms: 30_000,
        member_id: member_id.into(),
        group_instance_id: Some("instance-1".into()),
        protocol_type: "consumer".into(),
        protocols: vec![join_group::JoinGroupRequestProtocol {
            name: "range".into(),
            metadata: metadata.clone(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// One member joins (a static one: it gets its member id at once) and syncs with `assignment`:
/// the group is stable. Returns the member id.
async fn stable_group(client: &Client, topics: &[&str], assignment: &'static [u8]) -> String {
    let coordinator = Target::group_coordinator(GROUP);
    let joined = client.send(&coordinator, &join("", &subscription(topics))).await.unwrap();
    assert_eq!(joined.error_code, ErrorCode::NONE);
    let member = joined.member_id.to_string();
    let sync = sync_group::Request {
        group_id: GROUP.into(),
        generation_id: joined.generation_id,
        member_id: member.as_str().into(),
        group_instance_id: Some("instance-1".into()),
        protocol_type: Some("consumer".into()),
        protocol_name: Some("range".into()),
        assignments: vec![sync_group::SyncGroupRequestAssignment {
            member_id: member.as_str().into(),
            assignment: Bytes::from_static(assignment),
            ..Default::default()
        }],
        ..Default::default()
    };
    assert_eq!(client.send(&coordinator, &sync).await.unwrap().error_code, ErrorCode::NONE);
    member
}

async fn leave(client: &Client, member: &str) {
    let leave = leave_group::Request {
        group_id: GROUP.into(),
        members: vec![leave_group::MemberIdentity {
            member_id: member.into(),
            group_instance_id: Some("instance-1".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = client.send(&Target::group_coordinator(GROUP), &leave).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE);
}

/// Every broker's ListGroups answer, together.
async fn list_everywhere(client: &Client, states: &[&str]) -> Vec<list_groups::ListedGroup> {
    let request =
        list_groups::Request { states_filter: states.iter().map(|&s| s.into()).collect(), ..Default::default() };
    let mut all = Vec::new();
    for id in client.view().brokers.keys() {
        let r = client.send(&Target::Broker(*id), &request).await.unwrap();
        assert_eq!(r.error_code, ErrorCode::NONE);
        all.extend(r.groups);
    }
    all
}

fn describe(groups: &[&str]) -> describe_groups::Request {
    describe_groups::Request {
        groups: groups.iter().map(|&g| g.into()).collect(),
        include_authorized_operations: true,
        ..Default::default()
    }
}

fn delete(groups: &[&str]) -> delete_groups::Request {
    delete_groups::Request { groups_names: groups.iter().map(|&g| g.into()).collect(), ..Default::default() }
}

/// An admin tool's view of a group's life: listed once (by its coordinator) with its state and
/// type, described with its member (client id, instance id, metadata, assignment), not
/// deletable while it has members, deleted once empty, and then gone from both answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_listed_described_and_deleted() {
    let (cluster, client) = setup(MockConfig::new().brokers(3).topic("t", 2)).await;
    assert!(list_everywhere(&client, &[]).await.is_empty());
    let member = stable_group(&client, &["t"], b"both partitions").await;

    let listed = list_everywhere(&client, &[]).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((&*listed[0].group_id, &*listed[0].protocol_type), (GROUP, "consumer"));
    assert_eq!((&*listed[0].group_state, &*listed[0].group_type), ("Stable", "classic"));
    // The states filter ignores case; a state the group is not in leaves it out.
    assert_eq!(list_everywhere(&client, &["sTaBlE"]).await.len(), 1);
    assert!(list_everywhere(&client, &["Empty"]).await.is_empty());

    let coordinator = Target::group_coordinator(GROUP);
    let r = client.send(&coordinator, &describe(&[GROUP])).await.unwrap();
    let g = &r.groups[0];
    assert_eq!(
        (g.error_code, &*g.group_state, &*g.protocol_type, &*g.protocol_data),
        (ErrorCode::NONE, "Stable", "consumer", "range")
    );
    assert_eq!(g.members.len(), 1);
    let m = &g.members[0];
    assert_eq!(&*m.member_id, member);
    assert_eq!(m.group_instance_id.as_deref(), Some("instance-1"));
    assert_eq!(&*m.client_id, "kafka-wire-client");
    assert_eq!(&*m.client_host, "/127.0.0.1");
    assert_eq!(m.member_metadata, subscription(&["t"]));
    assert_eq!(&m.member_assignment[..], b"both partitions");
    assert_eq!(g.authorized_operations, (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11));

    // A group with members stays.
    let r = client.send(&coordinator, &delete(&[GROUP])).await.unwrap();
    assert_eq!(r.results[0].error_code, ErrorCode::NON_EMPTY_GROUP);
    leave(&client, &member).await;
    assert_eq!(list_everywhere(&client, &["empty"]).await.len(), 1);
    let r = client.send(&coordinator, &delete(&[GROUP])).await.unwrap();
    assert_eq!(r.results[0].error_code, ErrorCode::NONE);
    assert!(list_everywhere(&client, &[]).await.is_empty());

    // Gone: v6 says GROUP_ID_NOT_FOUND, older versions a Dead group without error (KIP-1043).
    let connection = client.connection(&coordinator).await.unwrap();
    let r = connection.send_at(&describe(&[GROUP]), 6).await.unwrap();
    assert_eq!((r.groups[0].error_code, &*r.groups[0].group_state), (ErrorCode::GROUP_ID_NOT_FOUND, "Dead"));
    let r = connection.send_at(&describe(&[GROUP]), 5).await.unwrap();
    assert_eq!((r.groups[0].error_code, &*r.groups[0].group_state), (ErrorCode::NONE, "Dead"));
    let r = client.send(&coordinator, &delete(&[GROUP])).await.unwrap();
    assert_eq!(r.results[0].error_code, ErrorCode::GROUP_ID_NOT_FOUND);

    // A broker that does not coordinate the group says so.
    let coordinator_addr = client.connection(&coordinator).await.unwrap().addr().to_owned();
    let not_coordinator = *client.view().brokers.iter().find(|(_, b)| b.addr() != coordinator_addr).unwrap().0;
    let r = client.send(&Target::Broker(not_coordinator), &describe(&[GROUP])).await.unwrap();
    assert_eq!(r.groups[0].error_code, ErrorCode::NOT_COORDINATOR);
    cluster.shutdown().await;
}

fn commit(topic: &str, partitions: &[i32]) -> offset_commit::Request {
    offset_commit::Request {
        group_id: GROUP.into(),
        generation_id_or_member_epoch: -1,
        topics: vec![offset_commit::OffsetCommitRequestTopic {
            name: topic.into(),
            partitions: partitions
                .iter()
                .map(|&p| offset_commit::OffsetCommitRequestPartition {
                    partition_index: p,
                    committed_offset: 5,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn offset_delete(topics: &[(&str, &[i32])]) -> offset_delete::Request {
    offset_delete::Request {
        group_id: GROUP.into(),
        topics: topics
            .iter()
            .map(|(t, ps)| offset_delete::OffsetDeleteRequestTopic {
                name: (*t).into(),
                partitions: ps
                    .iter()
                    .map(|&p| offset_delete::OffsetDeleteRequestPartition { partition_index: p })
                    .collect(),
            })
            .collect(),
    }
}

async fn committed(client: &Client, topic: &str, partition: i32) -> i64 {
    let request = offset_fetch::Request {
        groups: vec![offset_fetch::OffsetFetchRequestGroup {
            group_id: GROUP.into(),
            topics: Some(vec![offset_fetch::OffsetFetchRequestTopics {
                name: topic.into(),
                partition_indexes: kafka_wire::smallvec![partition],
                ..Default::default()
            }]),
            ..Default::default()
        }],
        ..Default::default()
    };
    // v9: topics by name (v10 names them by id).
    let connection = client.connection(&Target::group_coordinator(GROUP)).await.unwrap();
    let r = connection.send_at(&request, 9).await.unwrap();
    r.groups[0].topics[0].partitions[0].committed_offset
}

/// OffsetDelete removes committed offsets of an empty group (a partition that does not exist
/// is UNKNOWN_TOPIC_OR_PARTITION); a group with members keeps those of the topics they subscribe to, and loses the
/// others; an unknown group is GROUP_ID_NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_are_deleted_unless_the_group_subscribes_to_them() {
    let (cluster, client) = setup(MockConfig::new().topic("t", 2).topic("u", 1)).await;
    let coordinator = Target::group_coordinator(GROUP);
    let r = client.send(&coordinator, &offset_delete(&[("t", &[0])])).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::GROUP_ID_NOT_FOUND);

    for (topic, partitions) in [("t", &[0, 1][..]), ("u", &[0][..])] {
        // v9: topics by name (v10 names them by id).
        let r = client.connection(&coordinator).await.unwrap().send_at(&commit(topic, partitions), 9).await.unwrap();
        assert!(r.topics[0].partitions.iter().all(|p| p.error_code == ErrorCode::NONE), "{r:?}");
    }
    let r = client.send(&coordinator, &offset_delete(&[("t", &[0, 7])])).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE);
    let codes: Vec<ErrorCode> = r.topics[0].partitions.iter().map(|p| p.error_code).collect();
    assert_eq!(codes, [ErrorCode::NONE, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION]);
    assert_eq!(committed(&client, "t", 0).await, -1);
    assert_eq!(committed(&client, "t", 1).await, 5);

    // A member subscribed to t: t's offsets stay, u's go.
    stable_group(&client, &["t"], b"").await;
    let r = client.send(&coordinator, &offset_delete(&[("t", &[1]), ("u", &[0])])).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE);
    assert_eq!(r.topics[0].partitions[0].error_code, ErrorCode::GROUP_SUBSCRIBED_TO_TOPIC);
    assert_eq!(r.topics[1].partitions[0].error_code, ErrorCode::NONE);
    assert_eq!(committed(&client, "t", 1).await, 5);
    assert_eq!(committed(&client, "u", 0).await, -1);
    cluster.shutdown().await;
}

/// A topic to grow: name, new partition count, the new partitions' replicas.
type Growth<'a> = (&'a str, i32, Option<Vec<Vec<i32>>>);

/// Produces one batch of `n` records to `topic`-`partition` (acks=1).
async fn produce(client: &Client, topic: &str, partition: i32, n: usize) {
    client.reload_metadata(&[topic]).await.unwrap();
    let mut b = BatchBuilder::new(Compression::None);
    for i in 0..n {
        b.push(&NewRecord::new(i as i64, format!("v{i}"))).unwrap();
    }
    let request = produce::Request {
        acks: 1,
        timeout_ms: 1000,
        topic_data: vec![produce::TopicProduceData {
            name: topic.into(),
            topic_id: client.view().topic_id(topic).unwrap(),
            partition_data: vec![produce::PartitionProduceData {
                index: partition,
                records: Some(Records::from(b.build().unwrap().to_bytes().unwrap())),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = client.send(&Target::leader(topic, partition), &request).await.unwrap();
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);
}

fn grow(topics: &[Growth<'_>], validate_only: bool) -> create_partitions::Request {
    create_partitions::Request {
        topics: topics
            .iter()
            .map(|(name, count, assignments)| create_partitions::CreatePartitionsTopic {
                name: (*name).into(),
                count: *count,
                assignments: assignments.as_ref().map(|a| {
                    a.iter()
                        .map(|ids| create_partitions::CreatePartitionsAssignment {
                            broker_ids: ids.iter().copied().collect(),
                            ..Default::default()
                        })
                        .collect()
                }),
                ..Default::default()
            })
            .collect(),
        timeout_ms: 10_000,
        validate_only,
        ..Default::default()
    }
}

async fn partition_count(client: &Client, topic: &str) -> usize {
    client.reload_metadata(&[topic]).await.unwrap();
    client.view().topics[topic].partitions.len()
}

/// CreatePartitions grows a topic (the new partitions take records at once, on the brokers an
/// assignment names), validates without changing anything with `validate_only`, and answers
/// Kafka's errors: not an increase, an unknown topic, a name given twice, a bad assignment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_are_added() {
    let (cluster, client) =
        setup(MockConfig::new().brokers(3).topic("t", 1).topic_spec(TopicSpec::new("u", 1).replication_factor(1)))
            .await;
    let answer = |r: create_partitions::Response| {
        let mut v: Vec<(String, ErrorCode, Option<String>)> = r
            .results
            .into_iter()
            .map(|x| (x.name.to_string(), x.error_code, x.error_message.map(|m| m.to_string())))
            .collect();
        v.sort();
        v
    };
    let r = client.send(&Target::AnyBroker, &grow(&[("t", 3, None)], true)).await.unwrap();
    assert_eq!(answer(r), [("t".to_owned(), ErrorCode::NONE, None)]);
    assert_eq!(partition_count(&client, "t").await, 1);

    let r =
        client.send(&Target::AnyBroker, &grow(&[("t", 3, None), ("u", 2, Some(vec![vec![2]]))], false)).await.unwrap();
    assert!(answer(r).iter().all(|(_, code, _)| *code == ErrorCode::NONE));
    assert_eq!(partition_count(&client, "t").await, 3);
    assert_eq!(partition_count(&client, "u").await, 2);
    assert_eq!(client.view().topics["u"].partitions[&1].replicas, [2]);

    // A new partition takes records.
    produce(&client, "t", 2, 1).await;

    let r = client
        .send(
            &Target::AnyBroker,
            &grow(&[("t", 3, None), ("u", 1, None), ("missing", 2, None), ("dup", 2, None), ("dup", 3, None)], false),
        )
        .await
        .unwrap();
    let s = |x: &str| Some(x.to_owned());
    assert_eq!(
        answer(r),
        [
            ("dup".to_owned(), ErrorCode::INVALID_REQUEST, s("Duplicate topic name.")),
            ("missing".to_owned(), ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, None),
            ("t".to_owned(), ErrorCode::INVALID_PARTITIONS, s("Topic already has 3 partition(s).")),
            (
                "u".to_owned(),
                ErrorCode::INVALID_PARTITIONS,
                s("The topic u currently has 2 partition(s); 1 would not be an increase.")
            ),
        ]
    );
    for (assignments, message) in [
        (vec![vec![0, 1, 2]], "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified."),
        (vec![vec![0, 1, 2], vec![]], "The manual partition assignment includes an empty replica list."),
        (
            vec![vec![0, 1, 2], vec![0, 1, 7]],
            "The manual partition assignment includes broker 7, but no such broker is registered.",
        ),
        (vec![vec![0, 1, 2], vec![1, 0, 1]], "The manual partition assignment includes the broker 1 more than once."),
        (
            vec![vec![0, 1, 2], vec![0]],
            "The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with \
             previous partitions, which have 3 replica(s).",
        ),
    ] {
        let r = client.send(&Target::AnyBroker, &grow(&[("t", 5, Some(assignments))], false)).await.unwrap();
        assert_eq!(answer(r), [("t".to_owned(), ErrorCode::INVALID_REPLICA_ASSIGNMENT, s(message))]);
    }
    assert_eq!(partition_count(&client, "t").await, 3);
    cluster.shutdown().await;
}

fn delete_records(topic: &str, partitions: &[(i32, i64)]) -> delete_records::Request {
    delete_records::Request {
        topics: vec![delete_records::DeleteRecordsTopic {
            name: topic.into(),
            partitions: partitions
                .iter()
                .map(|&(partition_index, offset)| delete_records::DeleteRecordsPartition {
                    partition_index,
                    offset,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        timeout_ms: 10_000,
        ..Default::default()
    }
}

/// DeleteRecords moves the log start offset: ListOffsets' earliest offset follows, a fetch
/// below it gets OFFSET_OUT_OF_RANGE, one at it still gets records; it never moves back, and
/// an offset beyond the high watermark is OFFSET_OUT_OF_RANGE. DescribeLogDirs shows the
/// partition's bytes on its replicas.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_deleted_up_to_an_offset() {
    let (cluster, client) =
        setup(MockConfig::new().brokers(2).topic_spec(TopicSpec::new("t", 1).replication_factor(1))).await;
    for _ in 0..2 {
        produce(&client, "t", 0, 5).await;
    }
    let leader = Target::leader("t", 0);
    let r = client.send(&leader, &delete_records("t", &[(0, 4)])).await.unwrap();
    let p = &r.topics[0].partitions[0];
    assert_eq!((p.error_code, p.low_watermark), (ErrorCode::NONE, 4));
    let earliest = list_offsets::Request {
        replica_id: -1,
        topics: vec![list_offsets::ListOffsetsTopic {
            name: "t".into(),
            partitions: vec![list_offsets::ListOffsetsPartition {
                partition_index: 0,
                timestamp: -2,
                current_leader_epoch: -1,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = client.send(&leader, &earliest).await.unwrap();
    assert_eq!(r.topics[0].partitions[0].offset, 4);
    let fetch = |offset: i64| fetch::Request {
        max_wait_ms: 0,
        min_bytes: 1,
        max_bytes: 1 << 20,
        session_epoch: -1,
        topics: vec![fetch::FetchTopic {
            topic: "t".into(),
            topic_id: client.view().topic_id("t").unwrap(),
            partitions: vec![fetch::FetchPartition {
                partition: 0,
                fetch_offset: offset,
                partition_max_bytes: 1 << 20,
                current_leader_epoch: -1,
                last_fetched_epoch: -1,
                log_start_offset: -1,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = client.send(&leader, &fetch(3)).await.unwrap();
    assert_eq!(r.responses[0].partitions[0].error_code, ErrorCode::OFFSET_OUT_OF_RANGE);
    let r = client.send(&leader, &fetch(4)).await.unwrap();
    let p = &r.responses[0].partitions[0];
    assert_eq!((p.error_code, p.log_start_offset), (ErrorCode::NONE, 4));
    assert!(p.records.as_ref().is_some_and(|r| !r.is_empty()));

    let r = client.send(&leader, &delete_records("t", &[(0, 2)])).await.unwrap();
    assert_eq!(r.topics[0].partitions[0].low_watermark, 4);
    let r = client.send(&leader, &delete_records("t", &[(0, 11), (3, 0)])).await.unwrap();
    let codes: Vec<_> = r.topics[0].partitions.iter().map(|p| (p.error_code, p.low_watermark)).collect();
    assert_eq!(codes, [(ErrorCode::OFFSET_OUT_OF_RANGE, -1), (ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, -1)]);
    let r = client.send(&leader, &delete_records("t", &[(0, -1)])).await.unwrap();
    assert_eq!(r.topics[0].partitions[0].low_watermark, 10);

    // The partition's replica is on its leader only; the other broker has none.
    let leader_id = client.view().topics["t"].partitions[&0].leader;
    let other = *client.view().brokers.keys().find(|&&id| id != leader_id).unwrap();
    let r = client.send(&Target::Broker(other), &delete_records("t", &[(0, -1)])).await.unwrap();
    assert_eq!(r.topics[0].partitions[0].error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    let dirs = describe_log_dirs::Request { topics: None, ..Default::default() };
    let r = client.send(&Target::Broker(leader_id), &dirs).await.unwrap();
    assert_eq!(r.results.len(), 1);
    let t = &r.results[0].topics;
    assert_eq!((t.len(), &*t[0].name, t[0].partitions[0].partition_index), (1, "t", 0));
    assert!(t[0].partitions[0].partition_size > 0);
    let r = client.send(&Target::Broker(other), &dirs).await.unwrap();
    assert!(r.results[0].topics.is_empty());
    cluster.shutdown().await;
}

/// DescribeCluster lists the live brokers (the fenced ones too when asked, marked so), the
/// cluster id and a live controller; ElectLeaders accepts and finds no election needed while
/// each partition's first replica leads, and the preferred leader unavailable while it is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_is_described_and_elections_accepted() {
    let (cluster, client) = setup(
        MockConfig::new()
            .brokers(3)
            .cluster_id("admin-cluster")
            .topic_spec(TopicSpec::new("t", 3).replication_factor(2)),
    )
    .await;
    let describe = |fenced: bool| describe_cluster::Request {
        include_cluster_authorized_operations: true,
        endpoint_type: 1,
        include_fenced_brokers: fenced,
        ..Default::default()
    };
    let r = client.send(&Target::AnyBroker, &describe(false)).await.unwrap();
    assert_eq!((r.error_code, &*r.cluster_id), (ErrorCode::NONE, "admin-cluster"));
    assert_eq!(r.brokers.iter().map(|b| b.broker_id).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(r.brokers.iter().any(|b| b.broker_id == r.controller_id));
    assert_ne!(r.cluster_authorized_operations, i32::MIN);

    let elect = |election_type: i8| elect_leaders::Request {
        election_type,
        topic_partitions: Some(vec![elect_leaders::TopicPartitions {
            topic: "t".into(),
            partitions: kafka_wire::smallvec![0, 1, 9],
            ..Default::default()
        }]),
        timeout_ms: 10_000,
        ..Default::default()
    };
    let codes = |r: elect_leaders::Response| -> Vec<ErrorCode> {
        r.replica_election_results[0].partition_result.iter().map(|p| p.error_code).collect()
    };
    let r = client.send(&Target::AnyBroker, &elect(0)).await.unwrap();
    assert_eq!(
        codes(r),
        [ErrorCode::ELECTION_NOT_NEEDED, ErrorCode::ELECTION_NOT_NEEDED, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION]
    );

    // Broker 0 is the first replica of partition 0 (replicas 0, 1).
    cluster.broker_down(0).unwrap();
    let view =
        Client::connect(cluster.bootstrap_servers().split(',').skip(1), ConnectionConfig::default()).await.unwrap();
    let r = view.send(&Target::AnyBroker, &describe(true)).await.unwrap();
    let fenced: Vec<_> = r.brokers.iter().map(|b| (b.broker_id, b.is_fenced)).collect();
    assert_eq!(fenced, [(0, true), (1, false), (2, false)]);
    let r = view.send(&Target::AnyBroker, &elect(0)).await.unwrap();
    assert_eq!(codes(r)[0], ErrorCode::PREFERRED_LEADER_NOT_AVAILABLE);
    let r = view.send(&Target::AnyBroker, &elect(1)).await.unwrap();
    assert_eq!(codes(r)[0], ErrorCode::ELECTION_NOT_NEEDED);
    cluster.shutdown().await;
}

/// IncrementalAlterConfigs operations.
const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;

fn alter(resource_type: i8, name: &str, configs: &[(&str, i8, Option<&str>)]) -> incremental_alter_configs::Request {
    incremental_alter_configs::Request {
        resources: vec![incremental_alter_configs::AlterConfigsResource {
            resource_type,
            resource_name: name.into(),
            configs: configs
                .iter()
                .map(|(n, op, v)| incremental_alter_configs::AlterableConfig {
                    name: (*n).into(),
                    config_operation: *op,
                    value: v.map(Into::into),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// (value, source) of config `key` of a resource, as DescribeConfigs shows it.
async fn described(client: &Client, target: &Target, resource_type: i8, name: &str, key: &str) -> (String, i8) {
    let request = describe_configs::Request {
        resources: vec![describe_configs::DescribeConfigsResource {
            resource_type,
            resource_name: name.into(),
            configuration_keys: Some(vec![key.into()]),
            ..Default::default()
        }],
        include_synonyms: true,
        ..Default::default()
    };
    let r = client.send(target, &request).await.unwrap();
    let c = &r.results[0].configs[0];
    (c.value.as_deref().unwrap_or("").to_owned(), c.config_source)
}

/// What IncrementalAlterConfigs and AlterConfigs set, DescribeConfigs shows: a topic's configs
/// (set, appended to, deleted, or all replaced), and a broker's dynamic configs (its own, and
/// the cluster-wide defaults below them, also as the topics' synonyms); static broker configs
/// and invalid values are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configs_are_altered_and_described() {
    let (cluster, client) = setup(MockConfig::new().brokers(2).topic("t", 1)).await;
    let leader = Target::leader("t", 0);
    let ok = |r: incremental_alter_configs::Response| {
        assert_eq!(r.responses[0].error_code, ErrorCode::NONE, "{:?}", r.responses[0].error_message)
    };
    ok(client
        .send(
            &Target::AnyBroker,
            &alter(2, "t", &[("retention.ms", SET, Some("1000")), ("cleanup.policy", APPEND, Some("compact"))]),
        )
        .await
        .unwrap());
    assert_eq!(described(&client, &leader, 2, "t", "retention.ms").await, ("1000".into(), 1));
    assert_eq!(described(&client, &leader, 2, "t", "cleanup.policy").await, ("delete,compact".into(), 1));
    let r = client.send(&Target::AnyBroker, &alter(2, "t", &[("retention.ms", SET, Some("soon"))])).await.unwrap();
    assert_eq!(r.responses[0].error_code, ErrorCode::INVALID_CONFIG);
    ok(client.send(&Target::AnyBroker, &alter(2, "t", &[("retention.ms", DELETE, None)])).await.unwrap());
    assert_eq!(described(&client, &leader, 2, "t", "retention.ms").await, ("604800000".into(), 5));

    // AlterConfigs replaces every config of the topic.
    let legacy = alter_configs::Request {
        resources: vec![alter_configs::AlterConfigsResource {
            resource_type: 2,
            resource_name: "t".into(),
            configs: vec![alter_configs::AlterableConfig {
                name: "max.message.bytes".into(),
                value: Some("2000".into()),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = client.send(&Target::AnyBroker, &legacy).await.unwrap();
    assert_eq!(r.responses[0].error_code, ErrorCode::NONE);
    assert_eq!(described(&client, &leader, 2, "t", "max.message.bytes").await, ("2000".into(), 1));
    assert_eq!(described(&client, &leader, 2, "t", "cleanup.policy").await, ("delete".into(), 5));

    // Brokers: the cluster-wide default, then broker 0's own value over it.
    let b0 = Target::Broker(0);
    ok(client.send(&b0, &alter(4, "", &[("message.max.bytes", SET, Some("3000"))])).await.unwrap());
    assert_eq!(described(&client, &b0, 4, "0", "message.max.bytes").await, ("3000".into(), 3));
    assert_eq!(described(&client, &b0, 4, "", "message.max.bytes").await, ("3000".into(), 3));
    ok(client.send(&b0, &alter(4, "0", &[("message.max.bytes", SET, Some("4000"))])).await.unwrap());
    assert_eq!(described(&client, &b0, 4, "0", "message.max.bytes").await, ("4000".into(), 2));
    assert_eq!(described(&client, &Target::Broker(1), 4, "1", "message.max.bytes").await, ("3000".into(), 3));
    ok(client.send(&b0, &alter(4, "0", &[("message.max.bytes", DELETE, None)])).await.unwrap());
    assert_eq!(described(&client, &b0, 4, "0", "message.max.bytes").await, ("3000".into(), 3));
    // A topic config's broker synonym set dynamically is the topic's value unless the topic
    // sets its own: the broker's own value over the cluster-wide one.
    ok(client.send(&b0, &alter(4, "", &[("log.retention.bytes", SET, Some("5000"))])).await.unwrap());
    assert_eq!(described(&client, &b0, 2, "t", "retention.bytes").await, ("5000".into(), 3));
    ok(client.send(&b0, &alter(4, "0", &[("log.retention.bytes", SET, Some("6000"))])).await.unwrap());
    assert_eq!(described(&client, &b0, 2, "t", "retention.bytes").await, ("6000".into(), 2));
    assert_eq!(described(&client, &Target::Broker(1), 2, "t", "retention.bytes").await, ("5000".into(), 3));
    ok(client.send(&Target::AnyBroker, &alter(2, "t", &[("retention.bytes", SET, Some("7000"))])).await.unwrap());
    assert_eq!(described(&client, &b0, 2, "t", "retention.bytes").await, ("7000".into(), 1));
    let r = client.send(&b0, &alter(4, "0", &[("num.partitions", SET, Some("3"))])).await.unwrap();
    assert_eq!(r.responses[0].error_code, ErrorCode::INVALID_REQUEST);
    let r = client.send(&b0, &alter(4, "1", &[("message.max.bytes", SET, Some("3"))])).await.unwrap();
    assert_eq!(r.responses[0].error_code, ErrorCode::INVALID_REQUEST);
    cluster.shutdown().await;
}

/// SCRAM's `Hi()`: PBKDF2 with HMAC-SHA-256, one block (RFC 5802), as a client computes the
/// salted password it sends in AlterUserScramCredentials.
fn salted_password(password: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let hmac = |data: &[u8]| {
        let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(password.as_bytes()).unwrap();
        m.update(data);
        m.finalize().into_bytes().to_vec()
    };
    let mut u = hmac(&[salt, &1u32.to_be_bytes()].concat());
    let mut out = u.clone();
    for _ in 1..iterations {
        u = hmac(&u);
        out.iter_mut().zip(&u).for_each(|(o, x)| *o ^= x);
    }
    out
}

fn upsert_scram(user: &str, password: &str) -> alter_user_scram_credentials::Request {
    let salt = b"some salt".to_vec();
    alter_user_scram_credentials::Request {
        upsertions: vec![alter_user_scram_credentials::ScramCredentialUpsertion {
            name: user.into(),
            mechanism: 1,
            iterations: 4096,
            salted_password: salted_password(password, &salt, 4096).into(),
            salt: salt.into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn describe_scram(users: Option<&[&str]>) -> describe_user_scram_credentials::Request {
    describe_user_scram_credentials::Request {
        users: users.map(|us| {
            us.iter()
                .map(|&u| describe_user_scram_credentials::UserName { name: u.into(), ..Default::default() })
                .collect()
        }),
        ..Default::default()
    }
}

fn scram_cluster() -> MockConfig {
    MockConfig::new().sasl(SaslConfig::new([SaslMechanism::ScramSha256], &[("admin", "admin-secret")]))
}

async fn scram_client(cluster: &MockCluster, user: &str, password: &str) -> kafka_wire_client::Result<Client> {
    let config = ConnectionConfig::default().sasl(ClientSasl::new(ClientMechanism::ScramSha256, user, password));
    Client::connect(cluster.bootstrap_servers().split(','), config).await
}

/// DescribeUserScramCredentials lists the configured SCRAM users and those
/// AlterUserScramCredentials made (mechanism and iterations, never keys); it refuses too few
/// iterations, an unknown mechanism, a user named twice, and deleting what does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_credentials_are_made_described_and_deleted() {
    let cluster = MockCluster::start(scram_cluster()).await.unwrap();
    let admin = scram_client(&cluster, "admin", "admin-secret").await.unwrap();
    let any = Target::AnyBroker;
    let r = admin.send(&any, &upsert_scram("dave", "dave-secret")).await.unwrap();
    assert_eq!((&*r.results[0].user, r.results[0].error_code), ("dave", ErrorCode::NONE));
    let r = admin.send(&any, &describe_scram(None)).await.unwrap();
    let listed: Vec<_> = r
        .results
        .iter()
        .map(|x| {
            (x.user.to_string(), x.credential_infos.iter().map(|c| (c.mechanism, c.iterations)).collect::<Vec<_>>())
        })
        .collect();
    assert_eq!(listed, [("admin".to_owned(), vec![(1, 4096)]), ("dave".to_owned(), vec![(1, 4096)])]);

    let mut bad = upsert_scram("erin", "x");
    bad.upsertions[0].iterations = 10;
    bad.upsertions.push(upsert_scram("frank", "x").upsertions.remove(0));
    bad.upsertions[1].mechanism = 7;
    bad.deletions.push(alter_user_scram_credentials::ScramCredentialDeletion {
        name: "nobody".into(),
        mechanism: 1,
        ..Default::default()
    });
    bad.deletions.push(alter_user_scram_credentials::ScramCredentialDeletion {
        name: "dave".into(),
        mechanism: 1,
        ..Default::default()
    });
    bad.upsertions.push(upsert_scram("dave", "y").upsertions.remove(0));
    let r = admin.send(&any, &bad).await.unwrap();
    let mut codes: Vec<_> = r.results.iter().map(|x| (x.user.to_string(), x.error_code)).collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            ("dave".to_owned(), ErrorCode::DUPLICATE_RESOURCE),
            ("erin".to_owned(), ErrorCode::UNACCEPTABLE_CREDENTIAL),
            ("frank".to_owned(), ErrorCode::UNSUPPORTED_SASL_MECHANISM),
            ("nobody".to_owned(), ErrorCode::RESOURCE_NOT_FOUND),
        ]
    );
    let r = admin.send(&any, &describe_scram(Some(&["dave", "dave", "erin"]))).await.unwrap();
    let codes: Vec<_> = r.results.iter().map(|x| (x.user.to_string(), x.error_code)).collect();
    assert_eq!(
        codes,
        [("dave".to_owned(), ErrorCode::DUPLICATE_RESOURCE), ("erin".to_owned(), ErrorCode::RESOURCE_NOT_FOUND)]
    );
    cluster.shutdown().await;
}

/// A credential made by AlterUserScramCredentials authenticates over SASL/SCRAM; a deleted one
/// no longer does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_credentials_made_by_an_admin_authenticate() {
    let cluster = MockCluster::start(scram_cluster()).await.unwrap();
    let admin = scram_client(&cluster, "admin", "admin-secret").await.unwrap();
    let r = admin.send(&Target::AnyBroker, &upsert_scram("dave", "dave-secret")).await.unwrap();
    assert_eq!(r.results[0].error_code, ErrorCode::NONE);
    assert!(scram_client(&cluster, "dave", "dave-secret").await.is_ok());
    assert!(scram_client(&cluster, "dave", "wrong").await.is_err());
    let delete = alter_user_scram_credentials::Request {
        deletions: vec![alter_user_scram_credentials::ScramCredentialDeletion {
            name: "admin".into(),
            mechanism: 1,
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = admin.send(&Target::AnyBroker, &delete).await.unwrap();
    assert_eq!(r.results[0].error_code, ErrorCode::NONE);
    assert!(scram_client(&cluster, "admin", "admin-secret").await.is_err());
    cluster.shutdown().await;
}

fn acl_creation(name: &str, pattern: i8, principal: &str, operation: i8, permission: i8) -> create_acls::AclCreation {
    create_acls::AclCreation {
        resource_type: 2,
        resource_name: name.into(),
        resource_pattern_type: pattern,
        principal: principal.into(),
        host: "*".into(),
        operation,
        permission_type: permission,
        ..Default::default()
    }
}

fn acl_filter(name: Option<&str>, pattern: i8) -> describe_acls::Request {
    describe_acls::Request {
        resource_type_filter: 1,
        resource_name_filter: name.map(Into::into),
        pattern_type_filter: pattern,
        principal_filter: None,
        host_filter: None,
        operation: 1,
        permission_type: 1,
        ..Default::default()
    }
}

/// With SASL users the mock has an authorizer: CreateAcls stores ACLs (refusing invalid ones),
/// DescribeAcls finds them by filter (MATCH: the ACLs that apply to a name), DeleteAcls removes
/// what its filter matches. Without users, every ACL request gets SECURITY_DISABLED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acls_are_created_described_and_deleted() {
    let cluster = MockCluster::start(scram_cluster()).await.unwrap();
    let admin = scram_client(&cluster, "admin", "admin-secret").await.unwrap();
    let any = Target::AnyBroker;
    let create = create_acls::Request {
        creations: vec![
            acl_creation("orders", 3, "User:alice", 3, 3),
            acl_creation("ord", 4, "User:bob", 4, 3),
            acl_creation("", 3, "User:bob", 4, 3),
            acl_creation("x", 3, "alice", 4, 3),
        ],
        ..Default::default()
    };
    let r = admin.send(&any, &create).await.unwrap();
    let codes: Vec<_> = r.results.iter().map(|x| x.error_code).collect();
    assert_eq!(codes, [ErrorCode::NONE, ErrorCode::NONE, ErrorCode::INVALID_REQUEST, ErrorCode::INVALID_REQUEST]);

    let r = admin.send(&any, &acl_filter(Some("orders"), 2)).await.unwrap();
    let mut found: Vec<_> = r
        .resources
        .iter()
        .map(|x| (x.resource_name.to_string(), x.pattern_type, x.acls[0].principal.to_string()))
        .collect();
    found.sort();
    assert_eq!(found, [("ord".into(), 4, "User:bob".into()), ("orders".into(), 3, "User:alice".into())]);
    let r = admin.send(&any, &acl_filter(Some("orders"), 3)).await.unwrap();
    assert_eq!(r.resources.len(), 1);

    let delete = delete_acls::Request {
        filters: vec![delete_acls::DeleteAclsFilter {
            resource_type_filter: 1,
            resource_name_filter: None,
            pattern_type_filter: 4,
            principal_filter: None,
            host_filter: None,
            operation: 1,
            permission_type: 1,
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = admin.send(&any, &delete).await.unwrap();
    let gone: Vec<_> = r.filter_results[0].matching_acls.iter().map(|a| a.resource_name.to_string()).collect();
    assert_eq!(gone, ["ord"]);
    let r = admin.send(&any, &acl_filter(None, 1)).await.unwrap();
    assert_eq!(r.resources.len(), 1);
    cluster.shutdown().await;

    let (cluster, client) = setup(MockConfig::new()).await;
    let r = client.send(&any, &acl_filter(None, 1)).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::SECURITY_DISABLED);
    let r = client.send(&any, &create).await.unwrap();
    assert!(r.results.iter().all(|x| x.error_code == ErrorCode::SECURITY_DISABLED));
    cluster.shutdown().await;
}
