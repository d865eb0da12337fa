//! ACL enforcement against Apache Kafka 4.4 with its `StandardAuthorizer` (`super.users`
//! `User:admin`, nothing allowed without an ACL): a SCRAM user with ACLs on one topic and one
//! group sends each API a request naming what it may and may not use; the answers (entry by
//! entry for the batched APIs) are compared. A one-node Kafka of its own, and a one-broker mock.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kafka_wire::records::Compression;
use kafka_wire::{
    create_acls, create_partitions, delete_groups, delete_records, delete_topics, describe_acls, describe_configs,
    describe_groups, find_coordinator, incremental_alter_configs, init_producer_id, join_group, list_groups, metadata,
    offset_commit, offset_fetch, ErrorCode,
};
use kafka_wire_client::sasl::{SaslConfig as ClientSasl, SaslMechanism as ClientMechanism};
use kafka_wire_client::{Client, Target};
use kafka_wire_harness::{KafkaCluster, KafkaConfig, Listener};
use kafka_wire_mock::{MockCluster, MockConfig, SaslConfig, SaslMechanism};

use super::{
    batch, compare, creatable, create, fetch_request, list_offsets_request, mark_uuid, metadata_request,
    norm_create_topics, norm_describe_configs, norm_fetch, norm_find_coordinator, norm_init_producer_id,
    norm_list_offsets, norm_metadata, norm_produce, produce_request, strict, Sys, Transcript, PATIENCE,
};

const USERS: [(&str, &str); 2] = [("admin", "admin-secret"), ("alice", "alice-secret")];
const OPEN: &str = "acl-open";
const CLOSED: &str = "acl-closed";
const GROUP: &str = "acl-group";
const OTHER_GROUP: &str = "acl-other-group";

fn sasl_kafka() -> &'static KafkaCluster {
    static KAFKA: OnceLock<KafkaCluster> = OnceLock::new();
    KAFKA.get_or_init(|| {
        let mut config = KafkaConfig::new().authorizer(["User:admin"]);
        for (user, password) in USERS {
            config = config.sasl_user(user, password);
        }
        KafkaCluster::start(config).unwrap()
    })
}

async fn sasl_mock() -> MockCluster {
    let sasl = SaslConfig::new([SaslMechanism::ScramSha256], &USERS);
    let mut config = MockConfig::new().sasl(sasl).authorizer(true).super_user("User:admin");
    config.default_replication_factor = Some(1);
    config.group_min_session_timeout = Duration::from_secs(6);
    MockCluster::start(config).await.unwrap()
}

async fn connect(name: &'static str, bootstrap: &str, user: &str, password: &str) -> Sys {
    let config = strict().sasl(ClientSasl::new(ClientMechanism::ScramSha256, user, password));
    let client = Client::connect(bootstrap.split(','), config).await.unwrap();
    let ids = client.view().brokers.keys().copied().collect();
    Sys { name, client, ids }
}

/// A literal ALLOW for any host: resource type 2 topic, 3 group; operation 3 READ, 4 WRITE,
/// 8 DESCRIBE.
fn allow(resource_type: i8, name: &str, operation: i8) -> create_acls::v3::AclCreation {
    create_acls::v3::AclCreation {
        resource_type,
        resource_name: name.into(),
        resource_pattern_type: 3,
        principal: "User:alice".into(),
        host: "*".into(),
        operation,
        permission_type: 3,
        ..Default::default()
    }
}

fn both_topics<T: Clone>(one: impl Fn(&str) -> Vec<T>) -> Vec<T> {
    let mut v = one(OPEN);
    v.extend(one(CLOSED));
    v
}

/// Kafka's `ClusterAuthorizationException` text without the description of the request (and
/// its connection) that starts it: `<request> needs ALTER permission.`
fn needs(message: &str) -> kafka_wire::ByteString {
    match message.rsplit_once(" needs ") {
        Some((_, tail)) => format!("<request> needs {tail}").into(),
        None => message.into(),
    }
}

/// Sorts a list of entries by a name, so that the order a broker merges them in does not count.
fn by_name<T, K: Ord>(mut v: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    v.sort_by_key(key);
    v
}

fn join_request(group: &str) -> join_group::v9::Request {
    join_group::v9::Request {
        group_id: group.into(),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 10_000,
        member_id: "".into(),
        protocol_type: "consumer".into(),
        protocols: vec![join_group::v9::JoinGroupRequestProtocol { name: "range".into(), ..Default::default() }],
        ..Default::default()
    }
}

fn commit_request(group: &str) -> offset_commit::v9::Request {
    offset_commit::v9::Request {
        group_id: group.into(),
        generation_id_or_member_epoch: -1,
        topics: both_topics(|t| {
            vec![offset_commit::v9::OffsetCommitRequestTopic {
                name: t.into(),
                partitions: vec![offset_commit::v9::OffsetCommitRequestPartition {
                    partition_index: 0,
                    committed_offset: 1,
                    committed_leader_epoch: -1,
                    ..Default::default()
                }],
                ..Default::default()
            }]
        }),
        ..Default::default()
    }
}

fn offset_fetch_request(group: &str) -> offset_fetch::v9::Request {
    offset_fetch::v9::Request {
        groups: vec![offset_fetch::v9::OffsetFetchRequestGroup {
            group_id: group.into(),
            member_epoch: -1,
            topics: Some(both_topics(|t| {
                vec![offset_fetch::v9::OffsetFetchRequestTopics {
                    name: t.into(),
                    partition_indexes: vec![0].into(),
                    ..Default::default()
                }]
            })),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The script: `admin` (a super user) sets up, `alice` is checked.
async fn acl_script(admin: &Sys, alice: &Sys, t: &mut Transcript) {
    let any = Target::AnyBroker;
    let open_id = admin.create_topic(OPEN, 1, 1, &[]).await;
    let closed_id = admin.create_topic(CLOSED, 1, 1, &[]).await;
    let leader = admin.ids[0];

    let acls = create_acls::v3::Request {
        creations: vec![allow(2, OPEN, 4), allow(2, OPEN, 3), allow(3, GROUP, 3), allow(2, "acl-describable", 8)],
        ..Default::default()
    };
    let mut r = alice.send(&any, &acls).await;
    r.throttle_time_ms = 0;
    r.results.iter_mut().for_each(|x| x.error_message = x.error_message.as_deref().map(needs));
    t.step("CreateAcls by alice", r);
    let mut r = admin.send(&any, &acls).await;
    r.throttle_time_ms = 0;
    t.step("CreateAcls by the super user", r);
    // Kafka's brokers learn the ACLs from the metadata log: wait until alice may see the topic.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let r = alice.send(&any, &metadata_request(&[OPEN], false)).await;
        if r.topics[0].error_code == ErrorCode::NONE {
            break;
        }
        assert!(Instant::now() < deadline, "{}: the ACLs never reached the broker", alice.name);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut request = produce_request(OPEN, 0, Some(batch(Compression::None, None, 0, 1)), -1);
    request.topic_data.extend(produce_request(CLOSED, 0, Some(batch(Compression::None, None, 0, 1)), -1).topic_data);
    let mut r = alice.send(&any, &request).await;
    r.responses = by_name(r.responses, |x| x.name.clone());
    t.step("Produce: an allowed and a denied topic", norm_produce(alice, leader, r));

    let r = alice.send(&any, &metadata::v12::Request { topics: None, ..Default::default() }).await;
    t.step("Metadata: every topic", norm_metadata(alice, r));
    let r = alice.send(&any, &metadata_request(&[OPEN, CLOSED, "acl-missing"], true)).await;
    t.step("Metadata: allowed, denied and missing topics", norm_metadata(alice, r));
    let r = alice.send(&any, &metadata_request(&["acl-describable"], true)).await;
    t.step("Metadata: a missing topic it may describe but not create", norm_metadata(alice, r));
    let r = admin.send(&any, &metadata_request(&["acl-describable"], false)).await;
    t.step("Metadata: ... not created", norm_metadata(admin, r));

    let mut request = fetch_request(open_id, &[(0, 0, 1 << 20)], 1 << 20, 0, 0);
    request.topics.extend(fetch_request(closed_id, &[(0, 0, 1 << 20)], 1 << 20, 0, 0).topics);
    let mut r = alice.send(&any, &request).await;
    r.responses = by_name(r.responses, |x| x.topic_id == closed_id);
    t.step("Fetch: an allowed and a denied topic", norm_fetch(alice, leader, r));

    let mut request = list_offsets_request(OPEN, &[(0, -1)]);
    request.topics.extend(list_offsets_request(CLOSED, &[(0, -1)]).topics);
    let mut r = alice.send(&any, &request).await;
    r.topics = by_name(r.topics, |x| x.name.clone());
    t.step("ListOffsets: an allowed and a denied topic", norm_list_offsets(r));

    let r = alice.send(&any, &create(vec![creatable("acl-new", 1, 1, &[])], false)).await;
    t.step("CreateTopics without CREATE", norm_create_topics(r));
    let request = delete_topics::v6::Request {
        topics: vec![delete_topics::v6::DeleteTopicState { name: Some(CLOSED.into()), ..Default::default() }],
        timeout_ms: 30_000,
        ..Default::default()
    };
    let mut r = alice.send(&any, &request).await;
    r.throttle_time_ms = 0;
    for x in &mut r.responses {
        x.topic_id = mark_uuid(x.topic_id);
    }
    t.step("DeleteTopics without DELETE", r);

    let resource = |resource_type: i8, name: &str| describe_configs::v4::DescribeConfigsResource {
        resource_type,
        resource_name: name.into(),
        configuration_keys: Some(vec!["cleanup.policy".into()]),
        ..Default::default()
    };
    let request = describe_configs::v4::Request {
        resources: vec![resource(2, CLOSED), resource(4, &leader.to_string())],
        ..Default::default()
    };
    let r = alice.send(&any, &request).await;
    t.step("DescribeConfigs: a denied topic and broker", norm_describe_configs(alice, r));

    let request = create_partitions::v3::Request {
        topics: vec![create_partitions::v3::CreatePartitionsTopic {
            name: CLOSED.into(),
            count: 2,
            assignments: None,
            ..Default::default()
        }],
        timeout_ms: 30_000,
        ..Default::default()
    };
    let mut r = alice.send(&any, &request).await;
    r.throttle_time_ms = 0;
    t.step("CreatePartitions without ALTER", r);
    let request = delete_records::v2::Request {
        topics: vec![delete_records::v2::DeleteRecordsTopic {
            name: CLOSED.into(),
            partitions: vec![delete_records::v2::DeleteRecordsPartition {
                partition_index: 0,
                offset: 0,
                ..Default::default()
            }],
            ..Default::default()
        }],
        timeout_ms: 30_000,
        ..Default::default()
    };
    let mut r = alice.send(&any, &request).await;
    r.throttle_time_ms = 0;
    t.step("DeleteRecords without DELETE", r);
    let alter = |resource_type: i8, name: &str, config: &str, value: &str| {
        incremental_alter_configs::v1::AlterConfigsResource {
            resource_type,
            resource_name: name.into(),
            configs: vec![incremental_alter_configs::v1::AlterableConfig {
                name: config.into(),
                config_operation: 0,
                value: Some(value.into()),
                ..Default::default()
            }],
            ..Default::default()
        }
    };
    let request = incremental_alter_configs::v1::Request {
        resources: vec![alter(2, CLOSED, "retention.ms", "1000"), alter(4, "", "log.cleaner.threads", "2")],
        validate_only: true,
        ..Default::default()
    };
    let mut r = alice.send(&any, &request).await;
    r.throttle_time_ms = 0;
    r.responses = by_name(r.responses, |x| x.resource_type);
    t.step("IncrementalAlterConfigs: a denied topic and cluster", r);
    let request =
        find_coordinator::v6::Request { key_type: 0, coordinator_keys: vec![OTHER_GROUP.into()], ..Default::default() };
    let r = alice.send(&any, &request).await;
    t.step("FindCoordinator: a denied group", norm_find_coordinator(r));
    let request = find_coordinator::v6::Request {
        key_type: 0,
        coordinator_keys: vec![OTHER_GROUP.into(), GROUP.into()],
        ..Default::default()
    };
    let mut r = alice
        .send_settled(&any, &request, |r| {
            r.coordinators.iter().map(|c| c.error_code).max_by_key(|c| c.is_retriable()).unwrap_or(ErrorCode::NONE)
        })
        .await;
    r.coordinators = by_name(r.coordinators, |c| c.key.clone());
    t.step("FindCoordinator: an allowed and a denied group", norm_find_coordinator(r));
    let mut r = alice.send(&any, &join_request(OTHER_GROUP)).await;
    r.throttle_time_ms = 0;
    t.step("JoinGroup: a denied group", r);
    let mut r = alice.send(&any, &commit_request(OTHER_GROUP)).await;
    r.throttle_time_ms = 0;
    r.topics = by_name(r.topics, |x| x.name.clone());
    t.step("OffsetCommit: a denied group", r);
    let mut r = alice.send(&any, &offset_fetch_request(OTHER_GROUP)).await;
    r.throttle_time_ms = 0;
    t.step("OffsetFetch: a denied group", r);
    // A group it may use: the topics are checked one by one.
    alice.coordinator_ready(GROUP).await;
    let open_code = |r: &offset_commit::v9::Response| {
        r.topics.iter().find(|t| &*t.name == OPEN).map_or(ErrorCode::NONE, |t| t.partitions[0].error_code)
    };
    let mut r = alice.send_settled(&any, &commit_request(GROUP), open_code).await;
    r.throttle_time_ms = 0;
    r.topics = by_name(r.topics, |x| x.name.clone());
    t.step("OffsetCommit: an allowed group, an allowed and a denied topic", r);
    let mut r = alice.send(&any, &offset_fetch_request(GROUP)).await;
    r.throttle_time_ms = 0;
    r.groups.iter_mut().for_each(|g| g.topics.sort_by(|a, b| a.name.cmp(&b.name)));
    t.step("OffsetFetch: an allowed group, an allowed and a denied topic", r);
    let mut all = offset_fetch_request(GROUP);
    all.groups[0].topics = None;
    let mut r = alice.send(&any, &all).await;
    r.throttle_time_ms = 0;
    t.step("OffsetFetch: an allowed group, every topic", r);
    let mut two = offset_fetch_request(GROUP);
    two.groups.extend(offset_fetch_request(OTHER_GROUP).groups);
    let mut r = alice.send(&any, &two).await;
    r.throttle_time_ms = 0;
    r.groups = by_name(r.groups, |g| g.group_id.clone());
    r.groups.iter_mut().for_each(|g| g.topics.sort_by(|a, b| a.name.cmp(&b.name)));
    t.step("OffsetFetch: an allowed and a denied group", r);
    let request = describe_groups::v6::Request {
        groups: vec![GROUP.into(), OTHER_GROUP.into()],
        include_authorized_operations: false,
        ..Default::default()
    };
    let mut r = alice.send(&any, &request).await;
    r.throttle_time_ms = 0;
    t.step("DescribeGroups: an allowed and a denied group", r);
    let request = delete_groups::v2::Request { groups_names: vec![OTHER_GROUP.into()], ..Default::default() };
    let mut r = alice.send(&any, &request).await;
    r.throttle_time_ms = 0;
    t.step("DeleteGroups: a denied group", r);
    let mut r = alice.send(&any, &list_groups::v5::Request::default()).await;
    r.throttle_time_ms = 0;
    t.step("ListGroups", r);

    let request = init_producer_id::v5::Request {
        transactional_id: Some("acl-tx".into()),
        transaction_timeout_ms: 60_000,
        producer_id: -1,
        producer_epoch: -1,
        ..Default::default()
    };
    let r = alice.send(&any, &request).await;
    t.step("InitProducerId: a denied transactional id", norm_init_producer_id(r));
    // An idempotent producer: WRITE on any topic is enough.
    let request = init_producer_id::v5::Request { transactional_id: None, ..request };
    let r = alice.send_settled(&any, &request, |r| r.error_code).await;
    t.step("InitProducerId: idempotent, with WRITE on a topic", norm_init_producer_id(r));

    let filter = describe_acls::v3::Request {
        resource_type_filter: 1,
        resource_name_filter: None,
        pattern_type_filter: 1,
        principal_filter: None,
        host_filter: None,
        operation: 1,
        permission_type: 1,
        ..Default::default()
    };
    let mut r = alice.send(&any, &filter).await;
    r.throttle_time_ms = 0;
    r.error_message = r.error_message.as_deref().map(needs);
    t.step("DescribeAcls by alice", r);
    let mut r = admin.send(&any, &filter).await;
    r.throttle_time_ms = 0;
    r.resources = by_name(r.resources, |x| (x.resource_type, x.resource_name.clone()));
    r.resources.iter_mut().for_each(|x| x.acls.sort_by_key(|a| a.operation));
    t.step("DescribeAcls by the super user", r);
}

/// The script against a fresh mock and the shared SASL Kafka with an authorizer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acls_enforced() {
    let cluster = sasl_kafka();
    let _logs = cluster.log_guard();
    let mock_cluster = sasl_mock().await;
    let (m, k) = (mock_cluster.bootstrap_servers(), cluster.bootstrap_servers_of(Listener::SaslPlaintext));
    let (mock_admin, mock_alice) =
        (connect("mock", &m, USERS[0].0, USERS[0].1).await, connect("mock", &m, USERS[1].0, USERS[1].1).await);
    let (kafka_admin, kafka_alice) =
        (connect("kafka", &k, USERS[0].0, USERS[0].1).await, connect("kafka", &k, USERS[1].0, USERS[1].1).await);
    let (mut on_mock, mut on_kafka) = (Transcript::default(), Transcript::default());
    tokio::join!(
        acl_script(&mock_admin, &mock_alice, &mut on_mock),
        acl_script(&kafka_admin, &kafka_alice, &mut on_kafka)
    );
    compare("acls_enforced", &on_mock, &on_kafka);
    mock_cluster.shutdown().await;
}
