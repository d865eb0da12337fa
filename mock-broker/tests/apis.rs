//! Served APIs through this project's client: Fetch long polling and byte limits, ListOffsets,
//! CreateTopics/DeleteTopics, DescribeConfigs, Produce validation.

use std::time::{Duration, Instant};

use kafka_wire::records::{Batch, BatchBuilder, Compression, NewRecord};
use kafka_wire::{
    create_topics, delete_topics, describe_configs, fetch, list_offsets, metadata, produce, ErrorCode, Records,
};
use kafka_wire_client::{Client, ConnectionConfig, Target};
use kafka_wire_mock::{MockCluster, MockConfig, TopicSpec};

async fn setup(config: MockConfig) -> (MockCluster, Client) {
    let cluster = MockCluster::start(config).await.unwrap();
    let client = Client::connect(cluster.bootstrap_servers().split(','), ConnectionConfig::default()).await.unwrap();
    (cluster, client)
}

/// A batch of `n` records of `size` bytes each.
fn batch(n: usize, size: usize) -> Records {
    let mut b = BatchBuilder::new(Compression::None);
    for i in 0..n {
        b.push(&NewRecord::new(i as i64, vec![b'x'; size])).unwrap();
    }
    Records::from(b.build().unwrap().to_bytes().unwrap())
}

fn produce(topic: &str, records: Records) -> produce::v11::Request {
    produce::v11::Request {
        acks: 1,
        timeout_ms: 1000,
        topic_data: vec![produce::v11::TopicProduceData {
            name: topic.into(),
            partition_data: vec![produce::v11::PartitionProduceData {
                index: 0,
                records: Some(records),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn fetch(topic: &str, offset: i64, max_wait_ms: i32, partition_max_bytes: i32) -> fetch::v12::Request {
    fetch::v12::Request {
        max_wait_ms,
        min_bytes: 1,
        max_bytes: 1 << 20,
        session_epoch: -1,
        topics: vec![fetch::v12::FetchTopic {
            topic: topic.into(),
            partitions: vec![fetch::v12::FetchPartition {
                partition: 0,
                fetch_offset: offset,
                partition_max_bytes,
                current_leader_epoch: -1,
                last_fetched_epoch: -1,
                log_start_offset: -1,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_long_polls_until_data_arrives_or_max_wait() {
    let (cluster, client) = setup(MockConfig::new().topic("t", 1)).await;
    // Nothing to read: the answer comes after max_wait_ms, empty.
    let started = Instant::now();
    let r = client.send_versioned(&Target::leader("t", 0), &fetch("t", 0, 200, 1 << 20)).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
    assert!(r.responses[0].partitions[0].records.as_ref().is_none_or(|r| r.is_empty()));

    // A waiting fetch (on its own connection) is answered as soon as a record arrives: its
    // max wait is the longest the broker allows (5 minutes), so only the arrival can answer
    // it before the guard, which only a hang reaches.
    let waiting = {
        let config = ConnectionConfig::default().request_timeout(Duration::from_secs(600));
        let reader = Client::connect([cluster.bootstrap_servers()], config).await.unwrap();
        tokio::spawn(async move {
            reader.send_versioned(&Target::leader("t", 0), &fetch("t", 0, i32::MAX, 1 << 20)).await.unwrap()
        })
    };
    // The produce goes out once the fetch is parked at the broker.
    while cluster.stats().requests(kafka_wire::ApiKey::Fetch) < 2 {
        tokio::task::yield_now().await;
    }
    client.send_versioned(&Target::leader("t", 0), &produce("t", batch(1, 10))).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(120), waiting)
        .await
        .expect("answered when the record arrived")
        .unwrap();
    assert_eq!(r.responses[0].partitions[0].high_watermark, 1);
    assert_eq!(r.responses[0].partitions[0].records.as_ref().unwrap().batches().count(), 1);
    cluster.shutdown().await;
}

#[tokio::test]
async fn fetch_cuts_at_the_byte_limit_like_a_broker() {
    let (cluster, client) = setup(MockConfig::new().topic("t", 1)).await;
    let leader = client.handle(Target::leader("t", 0));
    let mut sizes = Vec::new();
    for _ in 0..3 {
        let records = batch(10, 100);
        sizes.push(records.len());
        let r = leader.send_versioned(&produce("t", records)).await.unwrap();
        assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);
    }
    // A limit inside the second batch: the first whole, then the second cut off.
    let limit = sizes[0] + sizes[1] / 2;
    let r = leader.send_versioned(&fetch("t", 0, 0, limit as i32)).await.unwrap();
    let records = r.responses[0].partitions[0].records.clone().unwrap();
    assert_eq!(records.len(), limit);
    let batches: Vec<_> = records.batches().collect();
    assert!(matches!(&batches[0], Ok(Batch::V2(b)) if b.record_count() == 10));
    assert_eq!(batches.iter().filter(|b| b.is_ok()).count(), 1);
    // A limit smaller than the first batch: that batch comes whole (KIP-74).
    let r = leader.send_versioned(&fetch("t", 0, 0, 10)).await.unwrap();
    assert_eq!(r.responses[0].partitions[0].records.as_ref().unwrap().len(), sizes[0]);
    // From an offset inside the second batch: that batch, from its start.
    let r = leader.send_versioned(&fetch("t", 15, 0, 1 << 20)).await.unwrap();
    let records = r.responses[0].partitions[0].records.clone().unwrap();
    let Batch::V2(first) = records.batches().next().unwrap().unwrap() else { panic!() };
    assert_eq!(first.base_offset, 10);
    // Beyond the end: OFFSET_OUT_OF_RANGE.
    let r = leader.send_versioned(&fetch("t", 31, 0, 1 << 20)).await.unwrap();
    assert_eq!(r.responses[0].partitions[0].error_code, ErrorCode::OFFSET_OUT_OF_RANGE);

    let r = leader
        .send_versioned(&list_offsets::v10::Request {
            replica_id: -1,
            topics: vec![list_offsets::v10::ListOffsetsTopic {
                name: "t".into(),
                partitions: [-1i64, -2]
                    .into_iter()
                    .map(|timestamp| list_offsets::v10::ListOffsetsPartition {
                        partition_index: 0,
                        current_leader_epoch: -1,
                        timestamp,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            timeout_ms: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let offsets: Vec<(i16, i64)> = r.topics[0].partitions.iter().map(|p| (p.error_code.code(), p.offset)).collect();
    assert_eq!(offsets, [(0, 30), (0, 0)]);
    cluster.shutdown().await;
}

#[tokio::test]
async fn produce_rejects_what_a_broker_rejects() {
    let spec = TopicSpec::new("small", 1).config("max.message.bytes", "2000");
    let (cluster, client) = setup(MockConfig::new().topic_spec(spec)).await;
    let leader = client.handle(Target::leader("small", 0));
    let r = leader.send_versioned(&produce("small", batch(5, 1000))).await.unwrap();
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::MESSAGE_TOO_LARGE);
    // Two batches in one partition's record set.
    let two = [batch(1, 10).as_bytes().to_vec(), batch(1, 10).as_bytes().to_vec()].concat();
    let r = leader.send_versioned(&produce("small", Records::from(bytes::Bytes::from(two)))).await.unwrap();
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::INVALID_RECORD);
    // A corrupted batch (CRC mismatch).
    let mut bytes = batch(1, 10).as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let r = leader.send_versioned(&produce("small", Records::from(bytes::Bytes::from(bytes)))).await.unwrap();
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::CORRUPT_MESSAGE);
    assert_eq!(cluster.end_offset("small", 0), Some(0));
    // An unknown partition.
    let mut request = produce("small", batch(1, 10));
    request.topic_data[0].partition_data[0].index = 7;
    let r = leader.send_versioned(&request).await.unwrap();
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    cluster.shutdown().await;
}

#[tokio::test]
async fn create_describe_and_delete_topics() {
    let (cluster, client) = setup(MockConfig::new().brokers(3).auto_create_topics(false)).await;
    let r = client
        .send_versioned(
            &Target::Controller,
            &create_topics::v7::Request {
                topics: vec![
                    create_topics::v7::CreatableTopic {
                        name: "orders".into(),
                        num_partitions: 4,
                        replication_factor: 2,
                        configs: vec![create_topics::v7::CreatableTopicConfig {
                            name: "retention.ms".into(),
                            value: Some("1000".into()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                    create_topics::v7::CreatableTopic {
                        name: "bad name!".into(),
                        num_partitions: 1,
                        replication_factor: 1,
                        ..Default::default()
                    },
                ],
                timeout_ms: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let results: Vec<(&str, i16, i32, i16)> =
        r.topics.iter().map(|t| (&*t.name, t.error_code.code(), t.num_partitions, t.replication_factor)).collect();
    assert_eq!(results[0], ("orders", 0, 4, 2));
    assert_eq!((results[1].0, ErrorCode(results[1].1)), ("bad name!", ErrorCode::INVALID_TOPIC_EXCEPTION));
    assert_eq!(cluster.topics().get("orders"), Some(&4));

    let r = client
        .send_versioned(
            &Target::AnyBroker,
            &describe_configs::v4::Request {
                resources: vec![describe_configs::v4::DescribeConfigsResource {
                    resource_type: 2,
                    resource_name: "orders".into(),
                    configuration_keys: Some(vec!["retention.ms".into(), "cleanup.policy".into()]),
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let result = &r.results[0];
    assert_eq!(result.error_code, ErrorCode::NONE);
    let mut configs: Vec<(&str, Option<&str>, i8)> =
        result.configs.iter().map(|c| (&*c.name, c.value.as_deref(), c.config_source)).collect();
    configs.sort();
    // Source 1: set on the topic; 5: the default.
    assert_eq!(configs, [("cleanup.policy", Some("delete"), 5), ("retention.ms", Some("1000"), 1)]);

    let r = client
        .send_versioned(
            &Target::Controller,
            &delete_topics::v6::Request {
                topics: vec![
                    delete_topics::v6::DeleteTopicState { name: Some("orders".into()), ..Default::default() },
                    delete_topics::v6::DeleteTopicState { name: Some("missing".into()), ..Default::default() },
                ],
                timeout_ms: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let codes: Vec<ErrorCode> = r.responses.iter().map(|t| t.error_code).collect();
    assert_eq!(codes, [ErrorCode::NONE, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION]);
    let r = client
        .send_versioned(
            &Target::AnyBroker,
            &metadata::v12::Request {
                topics: Some(vec![metadata::v12::MetadataRequestTopic {
                    name: Some("orders".into()),
                    ..Default::default()
                }]),
                allow_auto_topic_creation: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(r.topics[0].error_code, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "auto-creation is off");
    cluster.shutdown().await;
}

/// Every API at every version this build has, served or not: a sample request (every field
/// set to a non-default value) gets an answer that decodes at that version — a response
/// the handler built for a version that cannot carry it would close the connection instead.
#[tokio::test]
async fn every_api_at_every_version_gets_an_answer_that_decodes() {
    use kafka_wire::{AnyRequest, ApiKey};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let cluster = MockCluster::start(MockConfig::new().topic("t", 1)).await.unwrap();
    let mut checked = 0;
    for &api in ApiKey::ALL {
        let range = api.versions();
        for version in range.min..=range.max {
            let mut request = AnyRequest::sample(api, version).unwrap();
            if !request.expects_response() {
                continue;
            }
            // A fresh connection each time: a request may legitimately end it (SASL errors).
            let mut stream = tokio::net::TcpStream::connect(cluster.broker_addrs()[0]).await.unwrap();
            if let AnyRequest::Fetch(_) = request {
                // The sample's MaxWaitMs would make the mock wait that long for data.
                let mut free = kafka_wire::fetch::Request::from(match request {
                    AnyRequest::Fetch(r) => r,
                    _ => unreachable!(),
                });
                free.max_wait_ms = 0;
                request = AnyRequest::Fetch(free.into_version(version).unwrap());
            }
            let frame = request.serialize(7, Some("every-api")).unwrap();
            stream.write_all(&frame).await.unwrap();
            let mut size = [0u8; 4];
            stream.read_exact(&mut size).await.unwrap_or_else(|e| panic!("{api:?} v{version}: no answer ({e})"));
            let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
            stream.read_exact(&mut body).await.unwrap();
            let (header, _) = request.response_deserializer()(body.into())
                .unwrap_or_else(|e| panic!("{api:?} v{version}: the answer does not decode: {e}"));
            assert_eq!(header.correlation_id, 7);
            checked += 1;
        }
    }
    // A sample's acks differ from the default 0, so no Produce version was skipped.
    let all: usize = ApiKey::ALL.iter().map(|a| (a.versions().max - a.versions().min + 1) as usize).sum();
    assert_eq!(checked, all);
    cluster.shutdown().await;
}
