//! The crate doing its job, end to end: talk Kafka's wire protocol to a broker.
//!
//! ```text
//! cargo run -p kafka-wire-mock --example quickstart                   # an embedded mock broker
//! cargo run -p kafka-wire-mock --example quickstart -- localhost:9092 # a broker of yours
//! ```
//!
//! Connects (to the broker given, or to a mock broker started in-process on 127.0.0.1),
//! negotiates API versions and prints them, prints the cluster's metadata, creates a topic if
//! needed, produces a few records (one zstd-compressed batch) and fetches them back, printing
//! each decoded record. Every request is version-free: the client writes it at the version it
//! negotiated with that broker, so the same code talks to any Kafka version.

use std::time::{SystemTime, UNIX_EPOCH};

use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
use kafka_wire::{create_topics, fetch, metadata, produce, ErrorCode, Records};
use kafka_wire_client::{Client, ConnectionConfig, Target};
use kafka_wire_mock::{MockCluster, MockConfig};

const TOPIC: &str = "kafka-wire-quickstart";

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // A broker from the command line, or an embedded one.
    let (bootstrap, embedded) = match std::env::args().nth(1) {
        Some(addr) => (addr, None),
        None => {
            let cluster = MockCluster::start(MockConfig::new().brokers(3)).await?;
            println!("started an embedded mock cluster: {}", cluster.bootstrap_servers());
            (cluster.bootstrap_servers(), Some(cluster))
        }
    };
    let client =
        Client::connect(bootstrap.split(','), ConnectionConfig::default().client_id(Some("quickstart"))).await?;

    // Versions: what this build and the broker both speak, per API.
    let versions = client.connection(&Target::AnyBroker).await?.versions().await?;
    println!("\nnegotiated versions ({} APIs):", versions.len());
    let line: Vec<String> = versions.iter().map(|(api, v)| format!("{api:?} v{v}")).collect();
    for chunk in line.chunks(6) {
        println!("  {}", chunk.join(", "));
    }

    // The topic, created if missing (3 partitions).
    let created = client
        .send(
            &Target::Controller,
            &create_topics::Request {
                topics: vec![create_topics::CreatableTopic {
                    name: TOPIC.into(),
                    num_partitions: 3,
                    replication_factor: -1,
                    ..Default::default()
                }],
                timeout_ms: 10_000,
                ..Default::default()
            },
        )
        .await?;
    let code = created.topics[0].error_code;
    if code != ErrorCode::TOPIC_ALREADY_EXISTS && code.is_err() {
        return Err(format!("CreateTopics: {code}").into());
    }

    // Metadata: brokers, topics, partition leaders.
    let md = client
        .send(
            &Target::AnyBroker,
            &metadata::Request {
                topics: Some(vec![metadata::MetadataRequestTopic { name: Some(TOPIC.into()), ..Default::default() }]),
                ..Default::default()
            },
        )
        .await?;
    println!("\nmetadata: cluster {:?}, controller {}", md.cluster_id.as_deref().unwrap_or("-"), md.controller_id);
    for b in &md.brokers {
        println!("  broker {} at {}:{}", b.node_id, &*b.host, b.port);
    }
    for t in &md.topics {
        println!("  topic {:?} (id {}), error {}", t.name.as_deref().unwrap_or("-"), t.topic_id, t.error_code);
        for p in &t.partitions {
            println!(
                "    partition {}: leader {}, replicas {:?}, isr {:?}",
                p.partition_index, p.leader_id, p.replica_nodes, p.isr_nodes
            );
        }
    }
    let topic_id = md.topics[0].topic_id;
    client.reload_metadata(&[TOPIC]).await?;

    // Produce a few records to partition 0, in one zstd batch. The topic is named and
    // identified: the version negotiated uses the one it has (the id from Produce v13).
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    let mut batch = BatchBuilder::new(Compression::Zstd);
    for (i, text) in ["hello", "from", "kafka-wire"].into_iter().enumerate() {
        batch.push(
            &NewRecord::new(now, text).with_key(format!("key-{i}")).with_header("origin", Some("quickstart".into())),
        )?;
    }
    let leader = client.handle(Target::leader(TOPIC, 0));
    let r = leader
        .send(&produce::Request {
            acks: -1,
            timeout_ms: 10_000,
            topic_data: vec![produce::TopicProduceData {
                name: TOPIC.into(),
                topic_id,
                partition_data: vec![produce::PartitionProduceData {
                    index: 0,
                    records: Some(Records::from(batch.build()?.to_bytes()?)),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        })
        .await?;
    let p = &r.responses[0].partition_responses[0];
    if p.error_code.is_err() {
        return Err(format!("Produce: {}", p.error_code).into());
    }
    let base_offset = p.base_offset;
    println!("\nproduced 3 records to {TOPIC}[0] at offset {base_offset}");

    // Fetch them back and decode them.
    let r = leader
        .send(&fetch::Request {
            max_wait_ms: 500,
            min_bytes: 1,
            max_bytes: 1 << 20,
            topics: vec![fetch::FetchTopic {
                topic: TOPIC.into(),
                topic_id,
                partitions: vec![fetch::FetchPartition {
                    partition: 0,
                    fetch_offset: base_offset,
                    partition_max_bytes: 1 << 20,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        })
        .await?;
    let p = &r.responses[0].partitions[0];
    println!("fetched {TOPIC}[0] from offset {base_offset}: high watermark {}", p.high_watermark);
    for batch in p.records.as_ref().map(Records::batches).into_iter().flatten() {
        let batch = batch?;
        println!("  batch: {:?}, {} records", batch.compression(), batch.records()?.count());
        for record in batch.records()? {
            let r = record?;
            let text = |b: &Option<bytes::Bytes>| b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
            let headers: Vec<String> =
                r.headers.iter().map(|h| format!("{}={}", &*h.key, text(&h.value).unwrap_or_default())).collect();
            println!(
                "  offset {}: key {:?}, value {:?}, timestamp {}, headers [{}]",
                r.offset,
                text(&r.key).unwrap_or_default(),
                text(&r.value).unwrap_or_default(),
                r.timestamp,
                headers.join(", ")
            );
        }
    }

    if let Some(cluster) = embedded {
        cluster.shutdown().await;
    }
    Ok(())
}
