//! The harness itself: a one-node cluster starts, answers, and its JVM is gone once dropped.

use kafka_wire_harness::{KafkaCluster, KafkaConfig};

#[test]
fn one_node_starts_and_stops_by_pid() {
    let cluster = KafkaCluster::start(KafkaConfig::new()).unwrap();
    let _logs = cluster.log_guard();
    println!("1 node: JVM start to ApiVersions answered in {:?}", cluster.startup_time());
    let pid = cluster.pid(1).unwrap().unwrap();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(_logs);
    drop(cluster);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}
