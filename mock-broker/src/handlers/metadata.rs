//! Metadata v0-12: live brokers, the controller, topics (auto-created when allowed), their
//! partitions with leaders, leader epochs, replicas and ISR; topic ids from v10.
#![allow(clippy::field_reassign_with_default)]

use kafka_wire::{metadata, AnyResponse, ErrorCode, Uuid};

use crate::compat::{owned, ListField, StrField};
use crate::server::Ctx;
use crate::state::valid_topic_name;

/// Authorized-operation bits (no ACLs: everything is allowed): READ, WRITE, CREATE, DELETE,
/// ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS.
const TOPIC_OPERATIONS: i32 = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
/// CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE,
/// CREATE_TOKENS, DESCRIBE_TOKENS.
const CLUSTER_OPERATIONS: i32 =
    (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14);

struct Request {
    /// `None`: every topic. (name, id) otherwise.
    topics: Option<Vec<(Option<String>, Uuid)>>,
    allow_auto_create: bool,
    cluster_operations: bool,
    topic_operations: bool,
}

struct PartitionMeta {
    error: ErrorCode,
    index: i32,
    leader: i32,
    epoch: i32,
    replicas: Vec<i32>,
    isr: Vec<i32>,
    offline: Vec<i32>,
}

struct TopicMeta {
    error: ErrorCode,
    name: Option<String>,
    id: Uuid,
    partitions: Vec<PartitionMeta>,
    operations: i32,
}

struct Meta {
    brokers: Vec<(i32, String, i32)>,
    cluster_id: String,
    controller: i32,
    topics: Vec<TopicMeta>,
    cluster_operations: i32,
}

macro_rules! read {
    ($r:ident, names, $auto:expr) => {
        Request {
            topics: $r.topics.items().map(|ts| ts.iter().map(|t| (owned(&t.name), Uuid::default())).collect()),
            allow_auto_create: $auto,
            cluster_operations: false,
            topic_operations: false,
        }
    };
    ($r:ident, ops, $cluster:expr) => {
        Request {
            topics: $r.topics.items().map(|ts| ts.iter().map(|t| (owned(&t.name), read!(@id t))).collect()),
            allow_auto_create: $r.allow_auto_topic_creation,
            cluster_operations: $cluster,
            topic_operations: $r.include_topic_authorized_operations,
        }
    };
    (@id $t:ident) => { $t.topic_id_or_zero() };
}

/// `topic_id` where the version has it.
trait TopicIdOrZero {
    fn topic_id_or_zero(&self) -> Uuid;
}
impl TopicIdOrZero for metadata::v0::MetadataRequestTopic {
    fn topic_id_or_zero(&self) -> Uuid {
        Uuid::default()
    }
}
impl TopicIdOrZero for metadata::v9::MetadataRequestTopic {
    fn topic_id_or_zero(&self) -> Uuid {
        Uuid::default()
    }
}
impl TopicIdOrZero for metadata::v10::MetadataRequestTopic {
    fn topic_id_or_zero(&self) -> Uuid {
        self.topic_id
    }
}

fn read(request: &metadata::AnyRequest) -> Option<Request> {
    use metadata::AnyRequest as A;
    Some(match request {
        A::V0(r) => {
            let mut req = read!(r, names, true);
            // v0: an empty list means every topic.
            if req.topics.as_ref().is_some_and(Vec::is_empty) {
                req.topics = None;
            }
            req
        }
        A::V1(r) => read!(r, names, true),
        A::V2(r) => read!(r, names, true),
        A::V3(r) => read!(r, names, true),
        A::V4(r) => read!(r, names, r.allow_auto_topic_creation),
        A::V5(r) => read!(r, names, r.allow_auto_topic_creation),
        A::V6(r) => read!(r, names, r.allow_auto_topic_creation),
        A::V7(r) => read!(r, names, r.allow_auto_topic_creation),
        A::V8(r) => read!(r, ops, r.include_cluster_authorized_operations),
        A::V9(r) => read!(r, ops, r.include_cluster_authorized_operations),
        A::V10(r) => read!(r, ops, r.include_cluster_authorized_operations),
        A::V11(r) => read!(r, ops, false),
        A::V12(r) => read!(r, ops, false),
        _ => return None,
    })
}

fn answer(ctx: &Ctx<'_>, req: Request) -> Meta {
    let mut state = ctx.shared.state();
    let settings = state.settings.clone();
    let wanted: Vec<(Option<String>, Uuid)> = match req.topics {
        None => state.topics.keys().map(|n| (Some(n.clone()), Uuid::default())).collect(),
        Some(list) => list,
    };
    let mut topics = Vec::with_capacity(wanted.len());
    for (name, id) in wanted {
        let name = match name {
            Some(n) => Some(n),
            None => state.topic_name(id).map(str::to_owned),
        };
        let missing =
            |error, name: Option<String>| TopicMeta { error, name, id, partitions: Vec::new(), operations: i32::MIN };
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
            let create = req.allow_auto_create && settings.auto_create_topics;
            if create {
                let _ = state.create_topic(&name, -1, -1, &[], &[], false);
            }
            topics.push(missing(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, Some(name)));
            continue;
        }
        let up: Vec<i32> = state.brokers.iter().filter(|b| b.up).map(|b| b.id).collect();
        let Some(topic) = state.topics.get(&name) else { continue };
        let partitions = topic
            .partitions
            .iter()
            .enumerate()
            .map(|(i, p)| PartitionMeta {
                error: if p.leader < 0 { ErrorCode::LEADER_NOT_AVAILABLE } else { ErrorCode::NONE },
                index: i as i32,
                leader: p.leader,
                epoch: p.leader_epoch,
                replicas: p.replicas.clone(),
                isr: p.replicas.iter().copied().filter(|r| up.contains(r)).collect(),
                offline: p.replicas.iter().copied().filter(|r| !up.contains(r)).collect(),
            })
            .collect();
        topics.push(TopicMeta {
            error: ErrorCode::NONE,
            name: Some(name),
            id: topic.id,
            partitions,
            operations: if req.topic_operations { TOPIC_OPERATIONS } else { i32::MIN },
        });
    }
    Meta {
        brokers: state.brokers.iter().filter(|b| b.up).map(|b| (b.id, b.host.clone(), b.port)).collect(),
        cluster_id: state.cluster_id.clone(),
        controller: state.controller(),
        topics,
        cluster_operations: if req.cluster_operations { CLUSTER_OPERATIONS } else { i32::MIN },
    }
}

macro_rules! emit {
    ($v:ident, $meta:ident, [$($f:ident)*]) => {{
        use metadata::$v as m;
        let mut out = m::Response::default();
        out.brokers = $meta
            .brokers
            .iter()
            .map(|(id, host, port)| {
                let mut b = m::MetadataResponseBroker::default();
                b.node_id = *id;
                b.host = host.as_str().into();
                b.port = *port;
                b
            })
            .collect();
        out.topics = $meta
            .topics
            .iter()
            .map(|t| {
                let mut x = m::MetadataResponseTopic::default();
                x.error_code = t.error.0;
                x.name = StrField::opt(t.name.as_deref());
                x.partitions = t
                    .partitions
                    .iter()
                    .map(|p| {
                        let mut y = m::MetadataResponsePartition::default();
                        y.error_code = p.error.0;
                        y.partition_index = p.index;
                        y.leader_id = p.leader;
                        y.replica_nodes = p.replicas.as_slice().into();
                        y.isr_nodes = p.isr.as_slice().into();
                        $( emit!(@partition $f y p); )*
                        y
                    })
                    .collect();
                $( emit!(@topic $f x t); )*
                x
            })
            .collect();
        $( emit!(@top $f out $meta); )*
        AnyResponse::from(out)
    }};
    (@partition offline $y:ident $p:ident) => { $y.offline_replicas = $p.offline.as_slice().into(); };
    (@partition epoch $y:ident $p:ident) => { $y.leader_epoch = $p.epoch; };
    (@partition $other:ident $y:ident $p:ident) => {};
    (@topic internal $x:ident $t:ident) => { $x.is_internal = false; };
    (@topic topic_ops $x:ident $t:ident) => { $x.topic_authorized_operations = $t.operations; };
    (@topic topic_id $x:ident $t:ident) => { $x.topic_id = $t.id; };
    (@topic $other:ident $x:ident $t:ident) => {};
    (@top controller $o:ident $m:ident) => { $o.controller_id = $m.controller; };
    (@top cluster_id $o:ident $m:ident) => { $o.cluster_id = Some($m.cluster_id.as_str().into()); };
    (@top throttle $o:ident $m:ident) => { $o.throttle_time_ms = 0; };
    (@top cluster_ops $o:ident $m:ident) => { $o.cluster_authorized_operations = $m.cluster_operations; };
    (@top $other:ident $o:ident $m:ident) => {};
}

pub(crate) fn handle(ctx: &Ctx<'_>, request: &metadata::AnyRequest) -> Option<AnyResponse> {
    let req = read(request)?;
    let meta = answer(ctx, req);
    Some(match request.version() {
        0 => emit!(v0, meta, []),
        1 => emit!(v1, meta, [controller internal]),
        2 => emit!(v2, meta, [controller internal cluster_id]),
        3 => emit!(v3, meta, [controller internal cluster_id throttle]),
        4 => emit!(v4, meta, [controller internal cluster_id throttle]),
        5 => emit!(v5, meta, [controller internal cluster_id throttle offline]),
        6 => emit!(v6, meta, [controller internal cluster_id throttle offline]),
        7 => emit!(v7, meta, [controller internal cluster_id throttle offline epoch]),
        8 => emit!(v8, meta, [controller internal cluster_id throttle offline epoch topic_ops cluster_ops]),
        9 => emit!(v9, meta, [controller internal cluster_id throttle offline epoch topic_ops cluster_ops]),
        10 => emit!(v10, meta, [controller internal cluster_id throttle offline epoch topic_ops cluster_ops topic_id]),
        11 => emit!(v11, meta, [controller internal cluster_id throttle offline epoch topic_ops topic_id]),
        12 => emit!(v12, meta, [controller internal cluster_id throttle offline epoch topic_ops topic_id]),
        _ => return None,
    })
}
