//! The cluster's admin APIs, as a Kafka 4.4 broker answers them: DescribeCluster,
//! DescribeLogDirs (one log directory per broker, in memory) and ElectLeaders (accepted:
//! a partition here is always led by its first live replica, so no election is ever needed).

use kafka_wire::describe_cluster::{self, DescribeClusterBroker};
use kafka_wire::describe_log_dirs::{self, DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic};
use kafka_wire::elect_leaders::{self, PartitionResult, ReplicaElectionResult};
use kafka_wire::ErrorCode;

use crate::context::Ctx;

/// DescribeCluster's endpoint type of brokers (KIP-919); 2 names the controllers.
const BROKERS_ENDPOINT: i8 = 1;

/// The authorized-operations bit field of the cluster without an authorizer: CREATE (5),
/// ALTER (7), DESCRIBE (8), CLUSTER_ACTION (9), DESCRIBE_CONFIGS (10), ALTER_CONFIGS (11)
/// and IDEMPOTENT_WRITE (12), the operations Kafka's `AclEntry.supportedOperations` lists for
/// the cluster.
const CLUSTER_OPERATIONS: i32 = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

/// The log directory the mock reports for broker `id`.
pub(crate) fn log_dir(id: i32) -> String {
    format!("/kafka-wire-mock/broker-{id}")
}

/// DescribeCluster: the live brokers (with `include_fenced_brokers`, the ones down too, as
/// fenced), the cluster id and a live broker as the controller.
pub(crate) fn describe_cluster(ctx: &Ctx<'_>, r: &describe_cluster::Request) -> describe_cluster::Response {
    // The answer names the endpoint type it came from: a broker's.
    let mut response = describe_cluster::Response { endpoint_type: BROKERS_ENDPOINT, ..Default::default() };
    if let Some(code) = ctx.forced {
        response.error_code = code;
        return response;
    }
    if r.endpoint_type != BROKERS_ENDPOINT {
        response.error_code = ErrorCode::MISMATCHED_ENDPOINT_TYPE;
        response.error_message = Some(
            "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER".into(),
        );
        return response;
    }
    let state = ctx.shared.state();
    response.cluster_id = state.cluster_id.as_str().into();
    response.controller_id = state.controller();
    response.brokers = state
        .brokers
        .iter()
        .filter(|b| b.up || r.include_fenced_brokers)
        .map(|b| DescribeClusterBroker {
            broker_id: b.id,
            host: b.host.as_str().into(),
            port: b.port,
            rack: None,
            is_fenced: !b.up,
            ..Default::default()
        })
        .collect();
    if r.include_cluster_authorized_operations {
        response.cluster_authorized_operations = CLUSTER_OPERATIONS;
    }
    response
}

/// DescribeLogDirs: this broker's one log directory with the replicas it holds (all, or those
/// asked for), their sizes in bytes and no lag. The directory has no disk: its total and usable
/// bytes are unknown (-1).
pub(crate) fn describe_log_dirs(ctx: &Ctx<'_>, r: &describe_log_dirs::Request) -> describe_log_dirs::Response {
    if let Some(code) = ctx.forced {
        return describe_log_dirs::Response { error_code: code, ..Default::default() };
    }
    let state = ctx.shared.state();
    let wanted = |topic: &str, partition: i32| {
        r.topics.as_ref().is_none_or(|ts| ts.iter().any(|t| *t.topic == *topic && t.partitions.contains(&partition)))
    };
    let topics = state
        .topics
        .iter()
        .filter_map(|(name, topic)| {
            let partitions: Vec<DescribeLogDirsPartition> = topic
                .partitions
                .iter()
                .enumerate()
                .filter(|(i, p)| p.replicas.contains(&ctx.broker) && wanted(name, *i as i32))
                .map(|(i, p)| DescribeLogDirsPartition {
                    partition_index: i as i32,
                    partition_size: p.log.batches().map(|b| b.len() as i64).sum(),
                    offset_lag: 0,
                    is_future_key: false,
                    ..Default::default()
                })
                .collect();
            (!partitions.is_empty()).then(|| DescribeLogDirsTopic {
                name: name.as_str().into(),
                partitions,
                ..Default::default()
            })
        })
        .collect();
    let dir = DescribeLogDirsResult {
        error_code: ErrorCode::NONE,
        log_dir: log_dir(ctx.broker).into(),
        topics,
        ..Default::default()
    };
    describe_log_dirs::Response { results: vec![dir], ..Default::default() }
}

/// ElectLeaders (Kafka's `ReplicationControlManager.electLeaders`): a partition led by its
/// preferred replica (preferred election) or led at all (unclean election) needs no election;
/// one whose preferred replica is down cannot have it. Asked for every partition (`null`), the
/// answer leaves out those that need no election.
pub(crate) fn elect_leaders(ctx: &Ctx<'_>, r: &elect_leaders::Request) -> elect_leaders::Response {
    if let Some(code) = ctx.forced {
        return elect_leaders::Response { error_code: code, ..Default::default() };
    }
    let unclean = r.election_type == 1;
    if !matches!(r.election_type, 0 | 1) {
        return elect_leaders::Response { error_code: ErrorCode::INVALID_REQUEST, ..Default::default() };
    }
    let state = ctx.shared.state();
    let elect = |topic: &str, partition: i32| -> (ErrorCode, Option<String>) {
        let Some(t) = state.topics.get(topic) else {
            return (ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, Some(format!("No such topic as {topic}")));
        };
        let Some(p) = usize::try_from(partition).ok().and_then(|i| t.partitions.get(i)) else {
            return (ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, Some(format!("No such partition as {topic}-{partition}")));
        };
        let not_needed = if unclean { p.leader >= 0 } else { p.replicas.first() == Some(&p.leader) };
        if not_needed {
            (ErrorCode::ELECTION_NOT_NEEDED, Some("Leader election not needed for topic partition.".into()))
        } else if unclean {
            (
                ErrorCode::ELIGIBLE_LEADERS_NOT_AVAILABLE,
                Some("Eligible topic partition leaders are not available.".into()),
            )
        } else {
            (ErrorCode::PREFERRED_LEADER_NOT_AVAILABLE, Some("The preferred leader was not available.".into()))
        }
    };
    let result = |partition_id: i32, (error_code, message): (ErrorCode, Option<String>)| PartitionResult {
        partition_id,
        error_code,
        error_message: message.map(Into::into),
        ..Default::default()
    };
    let replica_election_results = match &r.topic_partitions {
        Some(topics) => topics
            .iter()
            .map(|t| ReplicaElectionResult {
                topic: t.topic.clone(),
                partition_result: t.partitions.iter().map(|&p| result(p, elect(&t.topic, p))).collect(),
                ..Default::default()
            })
            .collect(),
        None => state
            .topics
            .iter()
            .map(|(name, t)| ReplicaElectionResult {
                topic: name.as_str().into(),
                partition_result: (0..t.partitions.len() as i32)
                    .map(|p| (p, elect(name, p)))
                    .filter(|(_, (code, _))| *code != ErrorCode::ELECTION_NOT_NEEDED)
                    .map(|(p, outcome)| result(p, outcome))
                    .collect(),
                ..Default::default()
            })
            .collect(),
    };
    elect_leaders::Response { replica_election_results, ..Default::default() }
}
