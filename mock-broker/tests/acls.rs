//! ACL enforcement (`MockConfig::authorizer`): each API denies what no ACL allows with its own
//! answer, as Kafka 4.4's `KafkaApis` does; super users are never denied.

use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
use kafka_wire::{
    create_acls, create_topics, describe_groups, fetch, init_producer_id, join_group, metadata, produce, ErrorCode,
    Records, Uuid,
};
use kafka_wire_client::sasl::{SaslConfig as ClientSasl, SaslMechanism as ClientMechanism};
use kafka_wire_client::{Client, ConnectionConfig, Target};
use kafka_wire_mock::{MockCluster, MockConfig, SaslConfig, SaslMechanism};

const ANY: Target = Target::AnyBroker;

async fn scram_client(cluster: &MockCluster, user: &str, password: &str) -> Client {
    let config = ConnectionConfig::default().sasl(ClientSasl::new(ClientMechanism::ScramSha256, user, password));
    Client::connect(cluster.bootstrap_servers().split(','), config).await.unwrap()
}

/// A literal ACL: 2 topic, 3 group, 4 cluster; operation 3 READ, 4 WRITE, 8 DESCRIBE; 3 ALLOW.
fn allow(resource_type: i8, name: &str, principal: &str, operation: i8) -> create_acls::AclCreation {
    create_acls::AclCreation {
        resource_type,
        resource_name: name.into(),
        resource_pattern_type: 3,
        principal: principal.into(),
        host: "*".into(),
        operation,
        permission_type: 3,
        ..Default::default()
    }
}

fn produce(topics: &[&str]) -> produce::Request {
    let mut b = BatchBuilder::new(Compression::None);
    b.push(&NewRecord::new(1, "x".to_owned())).unwrap();
    let records = Records::from(b.build().unwrap().to_bytes().unwrap());
    produce::Request {
        acks: -1,
        timeout_ms: 1000,
        topic_data: topics
            .iter()
            .map(|t| produce::TopicProduceData {
                name: (*t).into(),
                partition_data: vec![produce::PartitionProduceData {
                    index: 0,
                    records: Some(records.clone()),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// Produce v12: topics by name (v13 names them by id).
async fn send_produce(client: &Client, topics: &[&str]) -> produce::Response {
    client.connection(&ANY).await.unwrap().send_at(&produce(topics), 12).await.unwrap()
}

fn topic_errors<'a>(entries: impl IntoIterator<Item = (&'a str, ErrorCode)>) -> Vec<(String, ErrorCode)> {
    let mut v: Vec<_> = entries.into_iter().map(|(n, e)| (n.to_owned(), e)).collect();
    v.sort();
    v
}

/// A SCRAM user with ACLs on some topics and groups: the topics and groups it may use are
/// served, the others denied entry by entry; cluster and transactional-id APIs as a whole.
/// The super user is never denied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_api_denies_what_no_acl_allows() {
    let sasl = SaslConfig::new([SaslMechanism::ScramSha256], &[("admin", "admin-secret"), ("alice", "alice-secret")]);
    let config =
        MockConfig::new().sasl(sasl).authorizer(true).super_user("User:admin").topic("open", 1).topic("closed", 1);
    let cluster = MockCluster::start(config).await.unwrap();
    let admin = scram_client(&cluster, "admin", "admin-secret").await;
    let alice = scram_client(&cluster, "alice", "alice-secret").await;

    let acls = create_acls::Request {
        creations: vec![
            allow(2, "open", "User:alice", 4),
            allow(2, "open", "User:alice", 3),
            allow(3, "g", "User:alice", 3),
        ],
        ..Default::default()
    };
    let r = alice.send(&ANY, &acls).await.unwrap();
    assert!(r.results.iter().all(|x| x.error_code == ErrorCode::CLUSTER_AUTHORIZATION_FAILED), "{r:?}");
    let r = admin.send(&ANY, &acls).await.unwrap();
    assert!(r.results.iter().all(|x| x.error_code == ErrorCode::NONE), "{r:?}");

    // Produce: the allowed topic is written, the other one is not.
    let r = send_produce(&alice, &["open", "closed"]).await;
    let errors = r.responses.iter().map(|t| (&*t.name, t.partition_responses[0].error_code));
    let expected = [("closed", ErrorCode::TOPIC_AUTHORIZATION_FAILED), ("open", ErrorCode::NONE)];
    assert_eq!(topic_errors(errors), topic_errors(expected));
    assert_eq!((cluster.end_offset("open", 0), cluster.end_offset("closed", 0)), (Some(1), Some(0)));
    let r = send_produce(&admin, &["closed"]).await;
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);

    // Metadata: every topic means those it may describe; a named one it may not is marked.
    let r = alice.send(&ANY, &metadata::Request { topics: None, ..Default::default() }).await.unwrap();
    let names: Vec<_> = r.topics.iter().filter_map(|t| t.name.as_deref()).collect();
    assert_eq!(names, ["open"]);
    let named = |n: &str| metadata::MetadataRequestTopic { name: Some(n.into()), ..Default::default() };
    let request = metadata::Request { topics: Some(vec![named("closed"), named("open")]), ..Default::default() };
    let r = alice.send(&ANY, &request).await.unwrap();
    let closed = r.topics.iter().find(|t| t.name.as_deref() == Some("closed")).unwrap();
    assert_eq!(
        (closed.error_code, closed.topic_id, closed.partitions.len()),
        (ErrorCode::TOPIC_AUTHORIZATION_FAILED, Uuid::ZERO, 0)
    );
    let open = r.topics.iter().find(|t| t.name.as_deref() == Some("open")).unwrap();
    assert_eq!((open.error_code, open.partitions.len()), (ErrorCode::NONE, 1));

    // Fetch: the denied topic's partitions say so, the allowed one is read.
    let fetch_topic = |t: &str| fetch::FetchTopic {
        topic: t.into(),
        partitions: vec![fetch::FetchPartition { partition: 0, partition_max_bytes: 1 << 20, ..Default::default() }],
        ..Default::default()
    };
    let request = fetch::Request {
        max_wait_ms: 0,
        max_bytes: 1 << 20,
        topics: vec![fetch_topic("open"), fetch_topic("closed")],
        ..Default::default()
    };
    let connection = alice.connection(&ANY).await.unwrap();
    let r = connection.send_at(&request, 12).await.unwrap();
    let errors = r.responses.iter().map(|t| (&*t.topic, t.partitions[0].error_code));
    let expected = [("closed", ErrorCode::TOPIC_AUTHORIZATION_FAILED), ("open", ErrorCode::NONE)];
    assert_eq!(topic_errors(errors), topic_errors(expected));
    let open = r.responses.iter().find(|t| &*t.topic == "open").unwrap();
    assert_eq!(open.partitions[0].high_watermark, 1);

    // CreateTopics needs CREATE: nothing is created.
    let create = create_topics::Request {
        topics: vec![create_topics::CreatableTopic {
            name: "new".into(),
            num_partitions: 1,
            replication_factor: 1,
            ..Default::default()
        }],
        timeout_ms: 1000,
        ..Default::default()
    };
    let r = alice.send(&ANY, &create).await.unwrap();
    assert_eq!(r.topics[0].error_code, ErrorCode::TOPIC_AUTHORIZATION_FAILED);
    assert!(!cluster.topics().contains_key("new"));

    // Groups: READ on `g` allows joining it (and describing it), nothing else.
    let join = |g: &str| join_group::Request {
        group_id: g.into(),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 10_000,
        protocol_type: "consumer".into(),
        protocols: vec![join_group::JoinGroupRequestProtocol { name: "range".into(), ..Default::default() }],
        ..Default::default()
    };
    // (FindCoordinator is denied too: the one broker coordinates every group.)
    let r = alice.send(&ANY, &join("other")).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::GROUP_AUTHORIZATION_FAILED);
    let describe = describe_groups::Request { groups: vec!["g".into(), "other".into()], ..Default::default() };
    let r = alice.send(&ANY, &describe).await.unwrap();
    let errors: Vec<_> = r.groups.iter().map(|g| (&*g.group_id, g.error_code)).collect();
    // (`g` has no members yet: described as not found, not denied. The denied come first, as
    // in Kafka's answer.)
    assert_eq!(errors, [("other", ErrorCode::GROUP_AUTHORIZATION_FAILED), ("g", ErrorCode::GROUP_ID_NOT_FOUND)]);

    // Transactional ids need WRITE on them.
    let init = init_producer_id::Request {
        transactional_id: Some("tx".into()),
        transaction_timeout_ms: 10_000,
        producer_id: -1,
        producer_epoch: -1,
        ..Default::default()
    };
    let r = alice.send(&ANY, &init).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    cluster.shutdown().await;
}

/// Without SASL the principal is `User:ANONYMOUS`: denied without ACLs, never as a super user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_without_sasl() {
    let cluster = MockCluster::start(MockConfig::new().authorizer(true).topic("t", 1)).await.unwrap();
    let client = Client::connect(cluster.bootstrap_servers().split(','), ConnectionConfig::default()).await.unwrap();
    let r = send_produce(&client, &["t"]).await;
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::TOPIC_AUTHORIZATION_FAILED);
    cluster.shutdown().await;

    let config = MockConfig::new().authorizer(true).super_user("User:ANONYMOUS").topic("t", 1);
    let cluster = MockCluster::start(config).await.unwrap();
    let client = Client::connect(cluster.bootstrap_servers().split(','), ConnectionConfig::default()).await.unwrap();
    let r = send_produce(&client, &["t"]).await;
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);
    cluster.shutdown().await;
}
