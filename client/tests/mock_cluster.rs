//! The client against a broker written by others: librdkafka's in-process mock cluster on
//! 127.0.0.1 (through `rdkafka::mocking`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
use kafka_wire::{
    api_versions, fetch, find_coordinator, heartbeat, join_group, leave_group, list_offsets, metadata, offset_commit,
    offset_fetch, produce, sync_group, ApiKey, ErrorCode, Records,
};
use kafka_wire_client::{Client, Connection, ConnectionConfig, Error, Target};
use rdkafka::mocking::{MockCluster, MockCoordinator};
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use tokio::task::JoinSet;

type Mock = MockCluster<'static, DefaultProducerContext>;

fn mock(brokers: i32) -> Mock {
    MockCluster::new(brokers).expect("mock cluster")
}

/// The address of the first broker of the mock.
fn first_broker(mock: &Mock) -> String {
    mock.bootstrap_servers().split(',').next().unwrap().to_owned()
}

/// Timeouts no test here reaches unless something hangs: a loaded machine must not fail a
/// request by being slow.
fn config() -> ConnectionConfig {
    ConnectionConfig::default().request_timeout(Duration::from_secs(60)).connect_timeout(Duration::from_secs(60))
}

async fn client(mock: &Mock) -> Client {
    Client::connect(mock.bootstrap_servers().split(','), config()).await.expect("bootstrap")
}

/// A batch of `values` (keyed, with a header), compressed with `codec`.
fn record_batch(codec: Compression, values: &[&str], timestamp: i64) -> Bytes {
    let mut builder = BatchBuilder::new(codec);
    for (i, value) in values.iter().enumerate() {
        let record = NewRecord::new(timestamp + i as i64, value.to_string())
            .with_key(format!("key-{i}"))
            .with_header("codec", Some(Bytes::from(format!("{codec:?}"))));
        builder.push(&record).unwrap();
    }
    builder.build().unwrap().to_bytes().unwrap()
}

/// (offset, key, value, header value) of every record in a record set.
fn decode_records(records: &Records) -> Vec<(i64, Bytes, Bytes, Bytes)> {
    let mut out = Vec::new();
    for batch in records.batches() {
        for r in batch.unwrap().records().unwrap() {
            let r = r.unwrap();
            let header = r.headers[0].value.clone().unwrap();
            out.push((r.offset, r.key.unwrap(), r.value.unwrap(), header));
        }
    }
    out
}

fn produce_request(topic: &str, partition: i32, acks: i16, batch: Bytes) -> produce::v9::Request {
    produce::v9::Request {
        acks,
        timeout_ms: 5000,
        topic_data: vec![produce::v9::TopicProduceData {
            name: topic.into(),
            partition_data: vec![produce::v9::PartitionProduceData {
                index: partition,
                records: Some(Records::from(batch)),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn fetch_request(topic: &str, partition: i32, offset: i64) -> fetch::v12::Request {
    fetch::v12::Request {
        replica_id: -1,
        max_wait_ms: 100,
        min_bytes: 1,
        max_bytes: 1 << 20,
        session_epoch: -1,
        topics: vec![fetch::v12::FetchTopic {
            topic: topic.into(),
            partitions: vec![fetch::v12::FetchPartition {
                partition,
                current_leader_epoch: -1,
                fetch_offset: offset,
                last_fetched_epoch: -1,
                log_start_offset: -1,
                partition_max_bytes: 1 << 20,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn list_offsets_request(topic: &str, partition: i32, timestamp: i64) -> list_offsets::v7::Request {
    list_offsets::v7::Request {
        replica_id: -1,
        topics: vec![list_offsets::v7::ListOffsetsTopic {
            name: topic.into(),
            partitions: vec![list_offsets::v7::ListOffsetsPartition {
                partition_index: partition,
                current_leader_epoch: -1,
                timestamp,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn metadata_request(topics: &[&str]) -> metadata::v12::Request {
    metadata::v12::Request {
        topics: Some(
            topics
                .iter()
                .map(|t| metadata::v12::MetadataRequestTopic { name: Some((*t).into()), ..Default::default() })
                .collect(),
        ),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------------

/// The mock supports ApiVersions up to v2 only. It answers the newer request this build starts
/// with by UNSUPPORTED_VERSION in a body that is neither that version nor v0 (a 1-byte array count):
/// a malformed frame that breaks that connection; the client asks again on a new connection
/// with v0, and later connections start with the version that worked.
#[tokio::test]
async fn api_versions_negotiation_falls_back_to_the_brokers_version() {
    let mock = mock(1);
    let connection = Connection::connect(first_broker(&mock), config()).await.unwrap();
    assert!(ApiKey::ApiVersions.versions().max > 2);
    let range = connection.broker_versions(ApiKey::ApiVersions).await.unwrap();
    assert_eq!(range.max, 2);
    let versions = connection.versions().await.unwrap();
    assert_eq!(versions.get(ApiKey::ApiVersions), Some(2));
    assert_eq!(versions.get(ApiKey::Metadata), Some(12));
    assert_eq!(versions.get(ApiKey::Produce), Some(10));

    // A version the broker does not support is refused before it is sent.
    let err = connection.send_versioned(&api_versions::v4::Request::default()).await.unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { api: ApiKey::ApiVersions, version: 4, .. }), "{err:?}");
    // The supported one works, on the same connection.
    let r = connection.send_versioned(&api_versions::v2::Request::default()).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE);
    assert!(r.api_keys.iter().any(|k| k.api_key == ApiKey::Produce.code()));
    assert_eq!(connection.connections_opened(), 1);
    // A reconnect starts with v0 right away.
    connection.close();
    connection.send_versioned(&metadata_request(&[])).await.unwrap();
    assert_eq!(connection.connections_opened(), 2);
}

#[tokio::test]
async fn cluster_view_from_metadata() {
    let mock = mock(3);
    mock.create_topic("orders", 4, 3).unwrap();
    mock.partition_leader("orders", 2, Some(3)).unwrap();
    let client = client(&mock).await;
    assert_eq!(client.view().brokers.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
    assert!(client.view().topics.is_empty());

    // The leader of a partition the view does not know yet: loaded lazily.
    let leader = client.connection(&Target::leader("orders", 2)).await.unwrap();
    let view = client.view();
    assert_eq!(view.topics["orders"].partitions.len(), 4);
    assert_eq!(view.topics["orders"].partitions[&2].leader, 3);
    assert_eq!(leader.addr(), view.brokers[&3].addr());

    // Brokers by id, and the transaction coordinator (FindCoordinator with key type 1).
    assert_eq!(client.connection(&Target::Broker(2)).await.unwrap().addr(), view.brokers[&2].addr());
    assert!(matches!(client.connection(&Target::Broker(7)).await, Err(Error::UnknownBroker(7))));
    mock.coordinator(MockCoordinator::Transaction("tx-1".into()), 3).unwrap();
    let coordinator = client.connection(&Target::transaction_coordinator("tx-1")).await.unwrap();
    assert_eq!(coordinator.addr(), view.brokers[&3].addr());
    assert_eq!(client.view().transaction_coordinators["tx-1"], 3);

    // Unknown topic, unknown partition: typed errors.
    let err = client.connection(&Target::leader("nope", 0)).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION), "{err:?}");
    let err = client.connection(&Target::leader("orders", 9)).await.unwrap_err();
    assert!(matches!(err, Error::UnknownPartition { partition: 9, .. }), "{err:?}");

    // The leader moves; an error that says so makes the handle reload before the next request.
    let handle = client.handle(Target::leader("orders", 2));
    mock.partition_leader("orders", 2, Some(1)).unwrap();
    assert!(handle.observe(ErrorCode::NOT_LEADER_OR_FOLLOWER));
    assert_eq!(handle.connection().await.unwrap().addr(), client.view().brokers[&1].addr());
    assert!(!handle.observe(ErrorCode::NONE));
}

/// Produce a batch in every codec (built with the records builder) to the partition leader,
/// read each back with Fetch and decode it, find the offsets with ListOffsets. (Produce with
/// acks=0 is tested against the scripted broker: librdkafka's mock answers it, which Kafka
/// never does, and the client takes the stray answer for the protocol error it is.)
#[tokio::test]
async fn produce_fetch_and_list_offsets_in_every_codec() {
    let mock = mock(3);
    mock.create_topic("events", 2, 1).unwrap();
    let client = client(&mock).await;
    let leader = client.handle(Target::leader("events", 1));

    let values = ["one", "two", "three"];
    let mut next_offset = 0;
    for (n, codec) in Compression::ALL.into_iter().enumerate() {
        let batch = record_batch(codec, &values, 1_700_000_000_000 + n as i64);
        let r = leader.send_versioned(&produce_request("events", 1, -1, batch)).await.unwrap();
        let p = &r.responses[0].partition_responses[0];
        assert_eq!((p.index, p.error_code.code(), p.base_offset), (1, 0, next_offset), "{codec:?}");

        let r = leader.send_versioned(&fetch_request("events", 1, next_offset)).await.unwrap();
        let p = &r.responses[0].partitions[0];
        assert_eq!(p.error_code, ErrorCode::NONE);
        let fetched = decode_records(p.records.as_ref().unwrap());
        let expected: Vec<_> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let offset = next_offset + i as i64;
                (offset, Bytes::from(format!("key-{i}")), Bytes::from(*v), Bytes::from(format!("{codec:?}")))
            })
            .collect();
        // The fetch may return later batches too; this one comes first.
        assert_eq!(&fetched[..3], &expected[..], "{codec:?}");
        next_offset += values.len() as i64;
    }

    let r = leader.send_versioned(&list_offsets_request("events", 1, -1)).await.unwrap();
    let p = &r.topics[0].partitions[0];
    assert_eq!((p.error_code.code(), p.offset), (0, next_offset));
    let r = leader.send_versioned(&list_offsets_request("events", 1, -2)).await.unwrap();
    assert_eq!(r.topics[0].partitions[0].offset, 0);
}

/// A produce request with a 200 KiB record set leaves as chunks (the record set written from
/// its own buffer, past the connection's 64 KiB write buffer) and arrives intact.
#[tokio::test]
async fn a_large_record_set_is_written_from_its_own_buffer() {
    let mock = mock(1);
    mock.create_topic("big", 1, 1).unwrap();
    let client = client(&mock).await;
    let leader = client.handle(Target::leader("big", 0));

    let values: Vec<String> = (0..2_000).map(|i| format!("{i:0>100}")).collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let batch = record_batch(Compression::None, &refs, 1_700_000_000_000);
    assert!(batch.len() > 200 * 1024);
    let request = produce_request("big", 0, -1, batch);
    let chunks = kafka_wire::VersionedRequest::serialize_chunks(&request, 0, None).unwrap();
    assert!(chunks.iter().any(|c| c.len() > 200 * 1024), "the record set is a chunk of its own");

    let r = leader.send_versioned(&request).await.unwrap();
    let p = &r.responses[0].partition_responses[0];
    assert_eq!((p.error_code.code(), p.base_offset), (0, 0));

    let r = leader.send_versioned(&fetch_request("big", 0, 0)).await.unwrap();
    let fetched = decode_records(r.responses[0].partitions[0].records.as_ref().unwrap());
    assert_eq!(fetched.len(), values.len());
    for (i, (offset, _, value, _)) in fetched.iter().enumerate() {
        assert_eq!((*offset, value.as_ref()), (i as i64, values[i].as_bytes()));
    }
}

/// A consumer group's life: coordinator, join (twice if the broker asks for a member id,
/// KIP-394), sync, heartbeat, commit, fetch offsets, leave.
///
/// The group APIs use their last non-flexible versions: librdkafka's mock reads the flexible
/// ones wrongly (JoinGroup v6 and SyncGroup v4 take their array counts as int32, LeaveGroup v3+
/// reads no member array), and closes the connection.
#[tokio::test]
async fn consumer_group_protocol() {
    let mock = mock(3);
    mock.create_topic("jobs", 1, 1).unwrap();
    mock.coordinator(MockCoordinator::Group("workers".into()), 2).unwrap();
    let client = client(&mock).await;
    let coordinator = client.handle(Target::group_coordinator("workers"));
    assert_eq!(coordinator.connection().await.unwrap().addr(), client.view().brokers[&2].addr());

    // The FindCoordinator request itself, typed.
    let r = client
        .send_versioned(
            &Target::AnyBroker,
            &find_coordinator::v3::Request { key: "workers".into(), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!((r.error_code.code(), r.node_id), (0, 2));

    // Nothing here waits for a session to run out: long enough that no pause of a loaded
    // machine between JoinGroup and the Heartbeat expires the member.
    let join = |member_id: &str| join_group::v5::Request {
        group_id: "workers".into(),
        session_timeout_ms: 120_000,
        rebalance_timeout_ms: 120_000,
        member_id: member_id.into(),
        protocol_type: "consumer".into(),
        protocols: vec![join_group::v5::JoinGroupRequestProtocol {
            name: "range".into(),
            metadata: Bytes::from_static(b"\0\0\0\0\0\x01\0\x04jobs\0\0\0\0"),
        }],
        ..Default::default()
    };
    let mut r = coordinator.send_versioned(&join("")).await.unwrap();
    if r.error_code == ErrorCode::MEMBER_ID_REQUIRED {
        let member_id = r.member_id.clone();
        r = coordinator.send_versioned(&join(&member_id)).await.unwrap();
    }
    assert_eq!(r.error_code, ErrorCode::NONE, "{r:?}");
    let (generation, member_id) = (r.generation_id, r.member_id.clone());
    assert_eq!(r.leader, member_id);

    let r = coordinator
        .send_versioned(&sync_group::v3::Request {
            group_id: "workers".into(),
            generation_id: generation,
            member_id: member_id.clone(),
            assignments: vec![sync_group::v3::SyncGroupRequestAssignment {
                member_id: member_id.clone(),
                assignment: Bytes::from_static(b"assignment"),
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((r.error_code.code(), &r.assignment[..]), (0, &b"assignment"[..]));

    let r = coordinator
        .send_versioned(&heartbeat::v3::Request {
            group_id: "workers".into(),
            generation_id: generation,
            member_id: member_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE);

    let r = coordinator
        .send_versioned(&offset_commit::v8::Request {
            group_id: "workers".into(),
            generation_id_or_member_epoch: generation,
            member_id: member_id.clone(),
            topics: vec![offset_commit::v8::OffsetCommitRequestTopic {
                name: "jobs".into(),
                partitions: vec![offset_commit::v8::OffsetCommitRequestPartition {
                    partition_index: 0,
                    committed_offset: 42,
                    committed_leader_epoch: -1,
                    committed_metadata: Some("meta".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.topics[0].partitions[0].error_code, ErrorCode::NONE);

    let r = coordinator
        .send_versioned(&offset_fetch::v6::Request {
            group_id: "workers".into(),
            topics: Some(vec![offset_fetch::v6::OffsetFetchRequestTopic {
                name: "jobs".into(),
                partition_indexes: kafka_wire::smallvec![0],
                ..Default::default()
            }]),
            ..Default::default()
        })
        .await
        .unwrap();
    let p = &r.topics[0].partitions[0];
    assert_eq!(
        (r.error_code.code(), p.error_code.code(), p.committed_offset, p.metadata.as_deref()),
        (0, 0, 42, Some("meta"))
    );

    let r = coordinator
        .send_versioned(&leave_group::v2::Request { group_id: "workers".into(), member_id: member_id.clone() })
        .await
        .unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE);
}

/// 1,000 requests in flight on one connection at once: all answered, each with the answer to
/// its own question.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_pipelined_requests_on_one_connection() {
    let mock = mock(1);
    let connection = Connection::connect(first_broker(&mock), config().max_in_flight(1000)).await.unwrap();
    let mut tasks = JoinSet::new();
    for i in 0..1000 {
        let connection = connection.clone();
        tasks.spawn(async move {
            let topic = format!("topic-{i}");
            let r = connection.send_versioned(&metadata_request(&[&topic])).await?;
            Ok::<_, Error>((topic, r))
        });
    }
    let mut answered = 0;
    while let Some(result) = tasks.join_next().await {
        let (topic, r) = result.unwrap().unwrap();
        assert_eq!(r.topics.len(), 1);
        assert_eq!(r.topics[0].name.as_deref(), Some(topic.as_str()));
        answered += 1;
    }
    assert_eq!(answered, 1000);
    assert_eq!(connection.connections_opened(), 1);
    assert_eq!(connection.in_flight(), 0);
}

/// The partition leader and the group coordinator on the same broker: two logical handles,
/// one socket, requests interleaved on it.
#[tokio::test]
async fn two_logical_connections_share_one_socket() {
    let mock = mock(3);
    mock.create_topic("shared", 1, 1).unwrap();
    mock.partition_leader("shared", 0, Some(2)).unwrap();
    mock.coordinator(MockCoordinator::Group("g".into()), 2).unwrap();
    let client = client(&mock).await;
    let leader = client.handle(Target::leader("shared", 0));
    let coordinator = client.handle(Target::group_coordinator("g"));

    let (a, b) = (leader.connection().await.unwrap(), coordinator.connection().await.unwrap());
    assert_eq!(a.addr(), b.addr());
    let mut tasks = JoinSet::new();
    for i in 0..50 {
        let (leader, coordinator) = (leader.clone(), coordinator.clone());
        tasks.spawn(async move {
            let offsets = leader.send_versioned(&list_offsets_request("shared", 0, -1)).await.unwrap();
            assert_eq!(offsets.topics[0].partitions[0].error_code, ErrorCode::NONE);
            let group = format!("g{i}");
            let r = coordinator
                .send_versioned(&find_coordinator::v3::Request { key: group.into(), ..Default::default() })
                .await;
            assert_eq!(r.unwrap().error_code, ErrorCode::NONE);
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    assert!(a.is_connected());
    assert_eq!(a.local_addr(), b.local_addr());
    assert_eq!(a.connections_opened(), 1);
    assert_eq!(b.connections_opened(), 1);
}

/// Injected request errors come back as the codes the broker sent; a stale-metadata code
/// makes the handle reload; a coordinator error is a typed, retriable error, and the next
/// lookup succeeds.
#[tokio::test]
async fn injected_request_errors() {
    let mock = mock(1);
    mock.create_topic("t", 1, 1).unwrap();
    let client = client(&mock).await;
    let leader = client.handle(Target::leader("t", 0));
    let batch = record_batch(Compression::None, &["x"], 0);

    mock.request_errors(RDKafkaApiKey::Produce, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION]);
    let r = leader.send_versioned(&produce_request("t", 0, -1, batch.clone())).await.unwrap();
    let code = r.responses[0].partition_responses[0].error_code;
    assert_eq!(code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert!(leader.observe(code));
    assert!(!client.view().topics.contains_key("t"));
    let r = leader.send_versioned(&produce_request("t", 0, -1, batch)).await.unwrap();
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);
    assert!(client.view().topics.contains_key("t"));

    // Topic errors in Metadata: a typed, retriable error; once the error is gone, the next
    // resolution reloads and succeeds.
    mock.topic_error("t", RDKafkaRespErr::RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE).unwrap();
    leader.invalidate();
    let err = leader.connection().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::LEADER_NOT_AVAILABLE), "{err:?}");
    assert!(err.is_retriable());
    mock.topic_error("t", RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR).unwrap();
    leader.connection().await.unwrap();

    // NOT_COORDINATOR: the handle forgets the coordinator and looks it up again.
    let coordinator = client.handle(Target::group_coordinator("g"));
    coordinator.connection().await.unwrap();
    mock.request_errors(RDKafkaApiKey::Heartbeat, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_COORDINATOR]);
    let heartbeat =
        heartbeat::v3::Request { group_id: "g".into(), generation_id: 1, member_id: "m".into(), ..Default::default() };
    let r = coordinator.send_versioned(&heartbeat).await.unwrap();
    assert!(coordinator.observe(r.error_code));
    assert!(!client.view().group_coordinators.contains_key("g"));
    // The coordinator answers for itself now (the group does not exist: an ordinary error).
    let r = coordinator.send_versioned(&heartbeat).await.unwrap();
    assert_eq!(r.error_code, ErrorCode::GROUP_ID_NOT_FOUND);
    assert!(client.view().group_coordinators.contains_key("g"));

    // FindCoordinator errors: the mock writes a null Host, which the schema forbids; the client
    // reports the malformed frame (a connection error), and the next lookup succeeds.
    mock.request_errors(RDKafkaApiKey::FindCoordinator, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE]);
    let other = client.handle(Target::group_coordinator("h"));
    let err = other.connection().await.unwrap_err();
    let Error::NoBrokerReachable { last } = &err else { panic!("{err:?}") };
    assert!(matches!(**last, Error::Malformed { api: ApiKey::FindCoordinator, .. }), "{err:?}");
    assert!(err.is_retriable());
    other.connection().await.unwrap();

    // An error on ApiVersions itself fails the connect with a typed error.
    mock.request_errors(RDKafkaApiKey::ApiVersion, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED]);
    let err = Connection::connect(first_broker(&mock), config()).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Broker { api: ApiKey::ApiVersions, code: ErrorCode::CLUSTER_AUTHORIZATION_FAILED, .. }
    ));
}

/// A broker that goes down fails the requests on it with connection errors, at once (the
/// connection is closed or refused: no timeout is involved, the long ones of `config` are
/// never reached); when it is back, the next request reconnects.
#[tokio::test]
async fn broker_down_and_back_up() {
    let mock = mock(1);
    let connection = Connection::connect(first_broker(&mock), config()).await.unwrap();
    connection.send_versioned(&metadata_request(&[])).await.unwrap();

    mock.broker_down(1).unwrap();
    let err = connection.send_versioned(&metadata_request(&[])).await.unwrap_err();
    assert!(err.is_connection_error() && !matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(!connection.is_connected());

    mock.broker_up(1).unwrap();
    let mut recovered = None;
    // The first try after `up` may still meet the connection attempt made while down.
    for _ in 0..3 {
        match connection.send_versioned(&metadata_request(&[])).await {
            Ok(r) => {
                recovered = Some(r);
                break;
            }
            Err(e) => assert!(e.is_connection_error() && !matches!(e, Error::Timeout { .. }), "{e:?}"),
        }
    }
    assert!(recovered.is_some());
    assert!(connection.connections_opened() >= 2);
}

/// A slow broker: a request with a timeout of its own times out with a typed error and the
/// connection closes; once the broker is fast again the next request reconnects and succeeds.
/// The broker's delay (10 minutes) is so far beyond the request's timeout (300 ms) that the
/// answer cannot win the race however slow the machine is; the test does not wait for it.
#[tokio::test]
async fn round_trip_delay_times_out_then_recovers() {
    let mock = mock(1);
    let connection = Connection::connect(first_broker(&mock), config()).await.unwrap();

    mock.broker_round_trip_time(1, Duration::from_secs(600)).unwrap();
    let err =
        connection.send_versioned_within(&metadata_request(&["t"]), Duration::from_millis(300)).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { api: ApiKey::Metadata, after } if after == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(err.is_retriable());
    assert!(!connection.is_connected());

    mock.broker_round_trip_time(1, Duration::ZERO).unwrap();
    connection.send_versioned(&metadata_request(&["t"])).await.unwrap();
    assert_eq!(connection.connections_opened(), 2);
}

/// TLS: a TLS-terminating relay (with a certificate the test generates) in front of a mock
/// broker; the client speaks Kafka through it. A client that does not trust the certificate
/// gets a TLS error.
#[cfg(feature = "tls")]
#[tokio::test]
async fn tls_to_a_broker_behind_a_tls_relay() {
    use kafka_wire_client::tls::{rustls, TlsConfig};
    use tokio::net::{TcpListener, TcpStream};

    let mock = mock(1);
    let broker = first_broker(&mock);

    let cert = rcgen::generate_simple_self_signed(vec!["broker.test".into()]).unwrap();
    let cert_der = cert.cert.der().clone();
    let key_der = rustls::pki_types::PrivateKeyDer::try_from(cert.key_pair.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key_der)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay_addr = listener.local_addr().unwrap().to_string();
    let relay = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (acceptor, broker) = (acceptor.clone(), broker.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut upstream = TcpStream::connect(broker).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der).unwrap();
    let tls = TlsConfig::with_roots(roots).unwrap().server_name("broker.test");
    let connection = Connection::connect(relay_addr.clone(), config().tls(tls)).await.unwrap();
    let r = connection.send_versioned(&metadata_request(&[])).await.unwrap();
    assert_eq!(r.brokers.len(), 1);
    assert_eq!(connection.versions().await.unwrap().get(ApiKey::ApiVersions), Some(2));

    // Another certificate authority: refused, with a TLS error and no hang.
    let other = rcgen::generate_simple_self_signed(vec!["broker.test".into()]).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(other.cert.der().clone()).unwrap();
    let tls = TlsConfig::with_roots(roots).unwrap().server_name("broker.test");
    let err = Connection::connect(relay_addr, config().tls(tls)).await.unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
    relay.abort();
}
