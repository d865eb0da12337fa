//! librdkafka's transactional producer against the mock broker: a consume-transform-produce
//! copy of `src` to `dst` in transactions of 100 records, each committing the consumed
//! offsets in the transaction (send_offsets_to_transaction); the second transaction is
//! aborted. A read_committed consumer reads back the first and third hundred, a
//! read_uncommitted one all three; the group's committed offsets are those of the last
//! committed transaction. Then a second producer with the same transactional id fences the
//! first while its transaction is open: the open transaction is aborted and never read.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafka_wire_mock::{MockCluster, MockConfig};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

const SRC: &str = "txn-src";
const DST: &str = "txn-dst";
const GROUP: &str = "txn-copier";
const PARTITIONS: i32 = 3;
const RECORDS: usize = 300;
const PER_TXN: usize = 100;
/// Only a hang reaches this.
const HANG_GUARD: Duration = Duration::from_secs(300);

fn config(cluster: &MockCluster) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", cluster.bootstrap_servers());
    if let Ok(debug) = std::env::var("INTEROP_DEBUG") {
        config.set("debug", debug);
    }
    config
}

fn seed(cluster: &MockCluster) {
    let producer: BaseProducer = config(cluster).set("enable.idempotence", "true").create().unwrap();
    for i in 0..RECORDS {
        let value = format!("record {i:03}");
        let key = format!("{i}");
        producer.send(BaseRecord::to(SRC).partition(i as i32 % PARTITIONS).key(&key).payload(&value)).unwrap();
        producer.poll(Duration::ZERO);
    }
    producer.flush(HANG_GUARD).unwrap();
}

fn transactional_producer(cluster: &MockCluster, id: &str) -> BaseProducer {
    let producer: BaseProducer = config(cluster)
        .set("transactional.id", id)
        .set("transaction.timeout.ms", "60000")
        .set("linger.ms", "5")
        .create()
        .unwrap();
    producer.init_transactions(HANG_GUARD).unwrap();
    producer
}

/// A consumer of every partition of `topic`, from the start (no group management).
fn reader(cluster: &MockCluster, topic: &str, isolation: &str) -> BaseConsumer {
    let consumer: BaseConsumer = config(cluster)
        .set("group.id", GROUP)
        .set("enable.auto.commit", "false")
        .set("isolation.level", isolation)
        .set("fetch.wait.max.ms", "50")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        assignment.add_partition_offset(topic, p, Offset::Beginning).unwrap();
    }
    consumer.assign(&assignment).unwrap();
    consumer
}

/// Polls until `n` records came (record values, by partition, in order).
fn read(consumer: &BaseConsumer, n: usize) -> BTreeMap<i32, Vec<String>> {
    let deadline = Instant::now() + HANG_GUARD;
    let mut out: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    while out.values().map(Vec::len).sum::<usize>() < n {
        assert!(Instant::now() < deadline, "hang: read {out:?} of {n}");
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            let m = m.unwrap();
            out.entry(m.partition()).or_default().push(String::from_utf8(m.payload().unwrap().to_vec()).unwrap());
        }
    }
    out
}

/// Until the consumer reached the end of every partition (its position at the end offsets):
/// nothing more than what `read` returned.
fn nothing_more(consumer: &BaseConsumer, cluster: &MockCluster, topic: &str) {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        assert!(Instant::now() < deadline, "hang: never at the end of {topic}");
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            let m = m.unwrap();
            panic!("unexpected record at {}:{}", m.partition(), m.offset());
        }
        let position = consumer.position().unwrap();
        let at_end = (0..PARTITIONS).all(|p| {
            let end = cluster.end_offset(topic, p).unwrap();
            matches!(position.find_partition(topic, p).map(|e| e.offset()), Some(Offset::Offset(o)) if o == end)
        });
        if at_end {
            return;
        }
    }
}

#[test]
fn librdkafka_transactional_copy_with_commits_and_an_abort() {
    let cluster =
        MockCluster::spawn(MockConfig::new().brokers(3).topic(SRC, PARTITIONS).topic(DST, PARTITIONS)).unwrap();
    seed(&cluster);
    let source = reader(&cluster, SRC, "read_committed");
    let producer = transactional_producer(&cluster, "rd-copy");
    let group_metadata = source.group_metadata().unwrap();
    let mut expected: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    let mut all: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    // The offsets the committed transactions committed (an aborted one's are dropped).
    let mut committed_offsets: BTreeMap<i32, i64> = BTreeMap::new();
    let deadline = Instant::now() + HANG_GUARD;
    for txn in 0..RECORDS / PER_TXN {
        let commit = txn != 1;
        producer.begin_transaction().unwrap();
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        let mut copied = 0;
        while copied < PER_TXN {
            assert!(Instant::now() < deadline, "hang: copied {copied} in transaction {txn}");
            let Some(m) = source.poll(Duration::from_millis(100)) else { continue };
            let m = m.unwrap();
            let value = String::from_utf8(m.payload().unwrap().to_vec()).unwrap();
            producer.send(BaseRecord::<(), _>::to(DST).partition(m.partition()).payload(&value)).unwrap();
            producer.poll(Duration::ZERO);
            next.insert(m.partition(), m.offset() + 1);
            all.entry(m.partition()).or_default().push(value.clone());
            if commit {
                expected.entry(m.partition()).or_default().push(value);
            }
            copied += 1;
        }
        let mut offsets = TopicPartitionList::new();
        for (&p, &o) in &next {
            offsets.add_partition_offset(SRC, p, Offset::Offset(o)).unwrap();
        }
        producer.send_offsets_to_transaction(&offsets, &group_metadata, HANG_GUARD).unwrap();
        // A BaseProducer serves its delivery reports when polled: abort_transaction needs them
        // served first.
        producer.flush(HANG_GUARD).unwrap();
        if commit {
            committed_offsets.extend(next);
            producer.commit_transaction(HANG_GUARD).unwrap();
        } else {
            producer.abort_transaction(HANG_GUARD).unwrap();
        }
    }
    for p in 0..PARTITIONS {
        assert_eq!(cluster.committed_offset(GROUP, SRC, p), committed_offsets.get(&p).copied(), "partition {p}");
    }
    let committed = reader(&cluster, DST, "read_committed");
    assert_eq!(read(&committed, 2 * PER_TXN), expected);
    nothing_more(&committed, &cluster, DST);
    let uncommitted = reader(&cluster, DST, "read_uncommitted");
    assert_eq!(read(&uncommitted, RECORDS), all);

    // A second producer with the same id fences the first, whose open transaction is aborted.
    producer.begin_transaction().unwrap();
    producer.send(BaseRecord::<(), _>::to(DST).partition(0).payload("fenced")).unwrap();
    producer.flush(HANG_GUARD).unwrap();
    let successor = transactional_producer(&cluster, "rd-copy");
    let fenced = producer.commit_transaction(HANG_GUARD).unwrap_err();
    assert!(matches!(&fenced, KafkaError::Transaction(e) if e.is_fatal()), "the old producer is fenced: {fenced:?}");
    successor.begin_transaction().unwrap();
    successor.send(BaseRecord::<(), _>::to(DST).partition(0).payload("successor")).unwrap();
    successor.commit_transaction(HANG_GUARD).unwrap();
    let after = read(&committed, 1);
    assert_eq!(after, BTreeMap::from([(0, vec!["successor".to_owned()])]));
    nothing_more(&committed, &cluster, DST);
}
