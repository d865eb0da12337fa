//! Metadata: live brokers, the controller, topics (auto-created when allowed, found by the next
//! request as on Kafka), their partitions with leaders, leader epochs, replicas and ISR, and
//! topic ids.

use kafka_wire::metadata::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic, Request, Response,
};
use kafka_wire::{ErrorCode, Uuid};

use crate::context::Ctx;
use crate::state::valid_topic_name;

/// Authorized-operation bits (no ACLs: everything is allowed): READ, WRITE, CREATE, DELETE,
/// ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS.
const TOPIC_OPERATIONS: i32 = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
/// CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE,
/// CREATE_TOKENS, DESCRIBE_TOKENS.
const CLUSTER_OPERATIONS: i32 =
    (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14);

pub(crate) fn handle(ctx: &Ctx<'_>, r: &Request) -> Response {
    // Versions without AllowAutoTopicCreation always allow it; before v1 an empty list means
    // every topic (v1 made that null).
    let allow_auto_create =
        r.allow_auto_topic_creation || !Request::ALLOW_AUTO_TOPIC_CREATION_VERSIONS.contains(ctx.version);
    let every_topic = match &r.topics {
        None => true,
        Some(t) => t.is_empty() && !Request::TOPICS_NULLABLE_VERSIONS.contains(ctx.version),
    };
    let mut state = ctx.shared.state();
    let settings = state.settings.clone();
    let wanted: Vec<(Option<String>, Uuid)> = if every_topic {
        state.topics.keys().map(|n| (Some(n.clone()), Uuid::ZERO)).collect()
    } else {
        r.topics.iter().flatten().map(|t| (t.name.as_deref().map(str::to_owned), t.topic_id)).collect()
    };
    let up: Vec<i32> = state.brokers.iter().filter(|b| b.up).map(|b| b.id).collect();
    let mut topics = Vec::with_capacity(wanted.len());
    for (name, id) in wanted {
        let name = name.or_else(|| state.topic_name(id).map(str::to_owned));
        let missing = |error, name: Option<String>| MetadataResponseTopic {
            error_code: error,
            name: name.map(Into::into),
            topic_id: id,
            ..Default::default()
        };
        let Some(name) = name else {
            topics.push(missing(ErrorCode::UNKNOWN_TOPIC_ID, None));
            continue;
        };
        if let Some(code) = ctx.forced {
            topics.push(missing(code, Some(name)));
            continue;
        }
        if !state.topics.contains_key(&name) {
            if !valid_topic_name(&name) {
                topics.push(missing(ErrorCode::INVALID_TOPIC_EXCEPTION, Some(name)));
                continue;
            }
            // Created when allowed; this answer does not show it yet: Kafka (KRaft) asks its
            // controller to create the topic and answers UNKNOWN_TOPIC_OR_PARTITION meanwhile.
            if allow_auto_create && settings.auto_create_topics {
                let _ = state.create_topic(&name, -1, -1, &[], &[], false);
            }
            topics.push(missing(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, Some(name)));
            continue;
        }
        let Some(topic) = state.topics.get(&name) else { continue };
        let partitions = topic
            .partitions
            .iter()
            .enumerate()
            .map(|(i, p)| MetadataResponsePartition {
                error_code: if p.leader < 0 { ErrorCode::LEADER_NOT_AVAILABLE } else { ErrorCode::NONE },
                partition_index: i as i32,
                leader_id: p.leader,
                leader_epoch: p.leader_epoch,
                replica_nodes: p.replicas.as_slice().into(),
                isr_nodes: p.replicas.iter().copied().filter(|r| up.contains(r)).collect(),
                offline_replicas: p.replicas.iter().copied().filter(|r| !up.contains(r)).collect(),
                ..Default::default()
            })
            .collect();
        topics.push(MetadataResponseTopic {
            name: Some(name.into()),
            topic_id: topic.id,
            partitions,
            topic_authorized_operations: if r.include_topic_authorized_operations {
                TOPIC_OPERATIONS
            } else {
                i32::MIN
            },
            ..Default::default()
        });
    }
    Response {
        brokers: state
            .brokers
            .iter()
            .filter(|b| b.up)
            .map(|b| MetadataResponseBroker {
                node_id: b.id,
                host: b.host.as_str().into(),
                port: b.port,
                ..Default::default()
            })
            .collect(),
        cluster_id: Some(state.cluster_id.as_str().into()),
        controller_id: state.controller(),
        topics,
        cluster_authorized_operations: if r.include_cluster_authorized_operations {
            CLUSTER_OPERATIONS
        } else {
            i32::MIN
        },
        ..Default::default()
    }
}
