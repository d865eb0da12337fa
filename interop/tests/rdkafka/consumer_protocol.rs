//! librdkafka's KIP-848 consumer (`group.protocol=consumer`) against the mock broker (issue 15
//! item 5): two consumers share a 4-partition topic with server-side assignment, committing
//! what they consumed before they give partitions up; one leaves half-way, the other gets
//! every partition and reads the rest. Every record is consumed exactly once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafka_wire_mock::{GroupEvent, MockCluster, MockConfig, RemovalReason};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientContext;

const RECORDS: usize = 2_000;
const PARTITIONS: i32 = 4;
const TOPIC: &str = "kip848";
const GROUP: &str = "kip848-group";
/// Only a hang reaches this (the loops wait for records and assignments, not for time).
const HANG_GUARD: Duration = Duration::from_secs(300);

/// Commits what the application consumed before partitions are taken away.
struct CommitOnRevoke;

impl ClientContext for CommitOnRevoke {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        if std::env::var_os("INTEROP_DEBUG").is_some() {
            eprintln!("{level:?} {fac} {message}");
        }
    }
}

impl ConsumerContext for CommitOnRevoke {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            if tpl.count() > 0 {
                let _ = consumer.commit_consumer_state(CommitMode::Sync);
            }
        }
    }
}

fn produce(cluster: &MockCluster) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("linger.ms", "5")
        .create()
        .unwrap();
    for i in 0..RECORDS {
        let value = format!("{i:05}");
        let key = format!("key-{i}");
        let record = BaseRecord::to(TOPIC).partition(i as i32 % PARTITIONS).key(&key).payload(&value);
        producer.send(record).map_err(|(e, _)| e).unwrap();
        producer.poll(Duration::ZERO);
    }
    producer.flush(HANG_GUARD).unwrap();
}

fn consumer(cluster: &MockCluster, name: &str) -> BaseConsumer<CommitOnRevoke> {
    let mut config = ClientConfig::new();
    if let Ok(debug) = std::env::var("INTEROP_DEBUG") {
        config.set("debug", debug).set_log_level(rdkafka::config::RDKafkaLogLevel::Debug);
    }
    let consumer: BaseConsumer<CommitOnRevoke> = config
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("group.id", GROUP)
        .set("group.protocol", "consumer")
        .set("client.id", name)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create_with_context(CommitOnRevoke)
        .unwrap();
    consumer.subscribe(&[TOPIC]).unwrap();
    consumer
}

/// Polls `consumer` once: the record it got, if any (its index), stored for the next commit.
fn poll(consumer: &BaseConsumer<CommitOnRevoke>, seen: &mut BTreeMap<usize, usize>) {
    match consumer.poll(Duration::from_millis(20)) {
        Some(Ok(m)) => {
            let i: usize = std::str::from_utf8(m.payload().unwrap()).unwrap().parse().unwrap();
            *seen.entry(i).or_default() += 1;
            consumer.store_offset_from_message(&m).unwrap();
        }
        Some(Err(e)) => panic!("consumer error: {e}"),
        None => {}
    }
}

fn assigned(consumer: &BaseConsumer<CommitOnRevoke>) -> usize {
    consumer.assignment().map_or(0, |tpl| tpl.count())
}

#[test]
fn two_consumers_one_leaves_the_other_gets_everything() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cluster = runtime.block_on(MockCluster::start(MockConfig::new().topic(TOPIC, PARTITIONS))).unwrap();
    produce(&cluster);
    let started = Instant::now();
    let deadline = started + HANG_GUARD;
    let a = consumer(&cluster, "consumer-a");
    let b = consumer(&cluster, "consumer-b");
    let mut seen = BTreeMap::new();

    // Both consume until each has partitions and a third of the records went by.
    while !(assigned(&a) > 0 && assigned(&b) > 0 && seen.len() >= RECORDS / 3) {
        assert!(Instant::now() < deadline, "hang: assignments {} and {}", assigned(&a), assigned(&b));
        poll(&a, &mut seen);
        poll(&b, &mut seen);
    }
    let shared = (assigned(&a), assigned(&b), started.elapsed());
    assert_eq!(shared.0 + shared.1, PARTITIONS as usize, "every partition once");
    a.commit_consumer_state(CommitMode::Sync).unwrap();
    b.commit_consumer_state(CommitMode::Sync).unwrap();

    // B leaves (its revocation commits what it consumed), A takes everything over.
    b.unsubscribe();
    while assigned(&b) > 0 {
        assert!(Instant::now() < deadline, "hang: B keeps its partitions");
        poll(&b, &mut seen);
        poll(&a, &mut seen);
    }
    drop(b);
    let left = started.elapsed();
    while !(assigned(&a) == PARTITIONS as usize && seen.len() == RECORDS) {
        assert!(Instant::now() < deadline, "hang: A has {} partitions, {} records seen", assigned(&a), seen.len());
        poll(&a, &mut seen);
    }
    let done = started.elapsed();
    a.commit_consumer_state(CommitMode::Sync).unwrap();

    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "records consumed more than once: {twice:?}");
    assert_eq!(seen.len(), RECORDS);
    for p in 0..PARTITIONS {
        let end = (RECORDS / PARTITIONS as usize) as i64;
        assert_eq!(cluster.committed_offset(GROUP, TOPIC, p), Some(end), "partition {p} committed to its end");
    }
    // B left with epoch -1: nobody was removed by a timeout.
    let events = cluster.group_events(GROUP);
    let timeouts: Vec<_> = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                GroupEvent::MemberRemoved {
                    reason: RemovalReason::SessionTimeout | RemovalReason::RebalanceTimeout,
                    ..
                }
            )
        })
        .collect();
    assert!(timeouts.is_empty(), "{timeouts:?}");
    println!(
        "librdkafka group.protocol=consumer: {RECORDS} records exactly once; both members assigned ({}+{}) after \
         {:?}, B left at {left:?}, A had all {PARTITIONS} partitions and every record at {done:?}",
        shared.0, shared.1, shared.2
    );
    drop(a);
    runtime.block_on(cluster.shutdown());
}
