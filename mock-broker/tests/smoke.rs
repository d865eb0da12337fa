use bytes::Bytes;
use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
use kafka_wire::{fetch, produce, Records};
use kafka_wire_client::{Client, ConnectionConfig, Target};
use kafka_wire_mock::{MockCluster, MockConfig};

#[tokio::test]
async fn smoke() {
    let cluster = MockCluster::start(MockConfig::new().brokers(3).topic("t", 3)).await.unwrap();
    let client = Client::connect(cluster.bootstrap_servers().split(','), ConnectionConfig::default()).await.unwrap();
    let leader = client.handle(Target::leader("t", 1));
    let mut b = BatchBuilder::new(Compression::Zstd);
    b.push(&NewRecord::new(1, "hello").with_key("k")).unwrap();
    let batch = b.build().unwrap().to_bytes().unwrap();
    let r = leader
        .send_versioned(&produce::v9::Request {
            acks: -1,
            timeout_ms: 1000,
            topic_data: vec![produce::v9::TopicProduceData {
                name: "t".into(),
                partition_data: vec![produce::v9::PartitionProduceData {
                    index: 1,
                    records: Some(Records::from(batch)),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    println!("{r:?}");
    let r = leader
        .send_versioned(&fetch::v12::Request {
            max_wait_ms: 100,
            min_bytes: 1,
            max_bytes: 1 << 20,
            session_epoch: -1,
            topics: vec![fetch::v12::FetchTopic {
                topic: "t".into(),
                partitions: vec![fetch::v12::FetchPartition {
                    partition: 1,
                    fetch_offset: 0,
                    partition_max_bytes: 1 << 20,
                    current_leader_epoch: -1,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let p = &r.responses[0].partitions[0];
    for b in p.records.as_ref().unwrap().batches() {
        for rec in b.unwrap().records().unwrap() {
            println!("{:?}", rec.unwrap());
        }
    }
    assert_eq!(p.high_watermark, 1);
    let _ = Bytes::new();
    cluster.shutdown().await;
}
