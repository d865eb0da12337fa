//! Fetch v4-17: whole batches from the one holding the fetch offset, cut at the partition and
//! response byte limits like a log segment slice (the last batch may be partial; a first
//! batch larger than the limit comes whole, KIP-74); long polling until `min_bytes` arrive or
//! `max_wait_ms` passes; topic ids from v13; from v11 a follower serves consumers too
//! (KIP-392). Fetch sessions are never created (session id 0), so every fetch is a full fetch.
#![allow(clippy::field_reassign_with_default)]

use bytes::Bytes;
use kafka_wire::{fetch, AnyResponse, ErrorCode, Records, Uuid};
use tokio::time::Instant;

use crate::server::{millis, wait_for_change, Ctx};

#[derive(Clone)]
enum TopicKey {
    Name(String),
    Id(Uuid),
}

struct PartitionFetch {
    partition: i32,
    current_leader_epoch: i32,
    offset: i64,
    max_bytes: i32,
}

struct Request {
    /// v11+ (KIP-392): a consumer may fetch from a follower (Kafka reads it up to the high
    /// watermark; every replica here is in sync).
    from_followers: bool,
    max_wait_ms: i32,
    min_bytes: i32,
    max_bytes: i32,
    read_committed: bool,
    session_epoch: i32,
    topics: Vec<(TopicKey, Vec<PartitionFetch>)>,
}

struct PartitionData {
    index: i32,
    error: ErrorCode,
    /// -1 (with the log start offset) unless the read succeeded, as Kafka answers.
    high_watermark: i64,
    log_start_offset: i64,
    records: Bytes,
    leader: Option<(i32, i32)>,
    /// An unknown topic or partition: Kafka answers those before reading, with an empty (not
    /// null) list of aborted transactions.
    unknown: bool,
}

struct Outcome {
    error: ErrorCode,
    topics: Vec<(TopicKey, Vec<PartitionData>)>,
    endpoints: Vec<(i32, String, i32)>,
    read_committed: bool,
    bytes: usize,
    errors: bool,
}

/// `current_leader_epoch` where the version has it.
trait LeaderEpoch {
    fn leader_epoch(&self) -> i32;
}
impl LeaderEpoch for fetch::v4::FetchPartition {
    fn leader_epoch(&self) -> i32 {
        -1
    }
}
impl LeaderEpoch for fetch::v5::FetchPartition {
    fn leader_epoch(&self) -> i32 {
        -1
    }
}
macro_rules! leader_epoch {
    ($($t:ty),*) => {$(
        impl LeaderEpoch for $t {
            fn leader_epoch(&self) -> i32 {
                self.current_leader_epoch
            }
        }
    )*};
}
leader_epoch!(fetch::v9::FetchPartition, fetch::v12::FetchPartition, fetch::v17::FetchPartition);

/// The fields every version from 4 has, plus the topic key.
macro_rules! read {
    ($r:ident, $key:ident) => {
        Request {
            from_followers: false,
            max_wait_ms: $r.max_wait_ms,
            min_bytes: $r.min_bytes,
            max_bytes: $r.max_bytes,
            read_committed: $r.isolation_level == 1,
            session_epoch: read!(@session $r),
            topics: $r
                .topics
                .iter()
                .map(|t| {
                    let partitions = t
                        .partitions
                        .iter()
                        .map(|p| PartitionFetch {
                            partition: p.partition,
                            current_leader_epoch: p.leader_epoch(),
                            offset: p.fetch_offset,
                            max_bytes: p.partition_max_bytes,
                        })
                        .collect();
                    (read!(@key $key t), partitions)
                })
                .collect(),
        }
    };
    (@key name $t:ident) => { TopicKey::Name($t.topic.to_string()) };
    (@key id $t:ident) => { TopicKey::Id($t.topic_id) };
    (@session $r:ident) => { $r.session_epoch_or_none() };
}

/// `session_epoch` where the version has it (v7+); -1 (no session) before.
trait SessionEpoch {
    fn session_epoch_or_none(&self) -> i32;
}
macro_rules! session_epoch {
    (none: $($n:ty),*; some: $($s:ty),*) => {
        $( impl SessionEpoch for $n { fn session_epoch_or_none(&self) -> i32 { -1 } } )*
        $( impl SessionEpoch for $s { fn session_epoch_or_none(&self) -> i32 { self.session_epoch } } )*
    };
}
session_epoch!(
    none: fetch::v4::Request, fetch::v5::Request, fetch::v6::Request;
    some: fetch::v7::Request, fetch::v8::Request, fetch::v9::Request, fetch::v10::Request, fetch::v11::Request,
        fetch::v12::Request, fetch::v13::Request, fetch::v14::Request, fetch::v15::Request, fetch::v16::Request,
        fetch::v17::Request
);

fn read(request: &fetch::AnyRequest) -> Option<Request> {
    use fetch::AnyRequest as A;
    let mut read = match request {
        A::V4(r) => read!(r, name),
        A::V5(r) => read!(r, name),
        A::V6(r) => read!(r, name),
        A::V7(r) => read!(r, name),
        A::V8(r) => read!(r, name),
        A::V9(r) => read!(r, name),
        A::V10(r) => read!(r, name),
        A::V11(r) => read!(r, name),
        A::V12(r) => read!(r, name),
        A::V13(r) => read!(r, id),
        A::V14(r) => read!(r, id),
        A::V15(r) => read!(r, id),
        A::V16(r) => read!(r, id),
        A::V17(r) => read!(r, id),
        _ => return None,
    };
    read.from_followers = request.version() >= 11;
    Some(read)
}

fn collect(ctx: &Ctx<'_>, req: &Request) -> Outcome {
    let state = ctx.shared.state();
    let mut remaining = usize::try_from(req.max_bytes).unwrap_or(0);
    let mut bytes = 0usize;
    let mut errors = false;
    let mut endpoints: Vec<(i32, String, i32)> = Vec::new();
    let mut topics = Vec::with_capacity(req.topics.len());
    // Incremental fetches need a session, and this broker never creates one.
    let error = if req.session_epoch > 0 { ErrorCode::FETCH_SESSION_ID_NOT_FOUND } else { ErrorCode::NONE };
    for (key, partitions) in &req.topics {
        let (name, unknown) = match key {
            TopicKey::Name(n) => (Some(n.as_str()), ErrorCode::UNKNOWN_TOPIC_OR_PARTITION),
            TopicKey::Id(id) => (state.topic_name(*id), ErrorCode::UNKNOWN_TOPIC_ID),
        };
        let topic = name.and_then(|n| state.topics.get(n));
        let mut out = Vec::with_capacity(partitions.len());
        for f in partitions {
            let mut data = PartitionData {
                index: f.partition,
                error: ErrorCode::NONE,
                high_watermark: -1,
                log_start_offset: -1,
                records: Bytes::new(),
                leader: None,
                unknown: false,
            };
            let partition = topic.and_then(|t| usize::try_from(f.partition).ok().and_then(|i| t.partitions.get(i)));
            data.error = match (ctx.forced.or(Some(error).filter(|e| e.is_err())), topic, partition) {
                (Some(code), ..) => code,
                (None, None, _) => {
                    data.unknown = true;
                    unknown
                }
                (None, Some(_), None) => {
                    data.unknown = true;
                    ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                }
                (None, Some(_), Some(p)) => {
                    let follower = req.from_followers && p.replicas.contains(&ctx.broker) && p.leader >= 0;
                    if p.leader != ctx.broker && !follower {
                        data.leader = Some((p.leader, p.leader_epoch));
                        if let Some(b) = state.live_broker(p.leader) {
                            if !endpoints.iter().any(|e| e.0 == b.id) {
                                endpoints.push((b.id, b.host.clone(), b.port));
                            }
                        }
                        ErrorCode::NOT_LEADER_OR_FOLLOWER
                    } else if f.current_leader_epoch >= 0 && f.current_leader_epoch > p.leader_epoch {
                        ErrorCode::UNKNOWN_LEADER_EPOCH
                    } else if f.current_leader_epoch >= 0 && f.current_leader_epoch < p.leader_epoch {
                        ErrorCode::FENCED_LEADER_EPOCH
                    } else {
                        let limit = usize::try_from(f.max_bytes).unwrap_or(0).min(remaining);
                        match p.log.read(f.offset, limit, bytes == 0) {
                            Ok(records) => {
                                data.high_watermark = p.log.end;
                                data.log_start_offset = p.log.start;
                                bytes += records.len();
                                remaining = remaining.saturating_sub(records.len());
                                data.records = records;
                                ErrorCode::NONE
                            }
                            Err(code) => code,
                        }
                    }
                }
            };
            errors |= data.error.is_err();
            out.push(data);
        }
        topics.push((key.clone(), out));
    }
    Outcome { error, topics, endpoints, read_committed: req.read_committed, bytes, errors }
}

macro_rules! emit {
    ($v:ident, $o:ident, $key:ident, [$($f:ident)*]) => {{
        use fetch::$v as m;
        let mut out = m::Response::default();
        out.throttle_time_ms = 0;
        out.responses = $o
            .topics
            .iter()
            .map(|(key, partitions)| {
                let mut t = m::FetchableTopicResponse::default();
                emit!(@key $key t key);
                t.partitions = partitions
                    .iter()
                    .map(|p| {
                        let mut d = m::PartitionData::default();
                        d.partition_index = p.index;
                        d.error_code = p.error.0;
                        d.high_watermark = p.high_watermark;
                        d.last_stable_offset = p.high_watermark;
                        d.aborted_transactions = if p.error.is_err() { p.unknown } else { $o.read_committed }.then(Vec::new);
                        d.records = Some(Records::from(p.records.clone()));
                        $( emit!(@partition $f d p); )*
                        d
                    })
                    .collect();
                t
            })
            .collect();
        $( emit!(@top $f out $o); )*
        AnyResponse::from(out)
    }};
    (@key name $t:ident $k:ident) => { if let TopicKey::Name(n) = $k { $t.topic = n.as_str().into(); } };
    (@key id $t:ident $k:ident) => { if let TopicKey::Id(id) = $k { $t.topic_id = *id; } };
    (@partition log_start $d:ident $p:ident) => { $d.log_start_offset = $p.log_start_offset; };
    (@partition preferred $d:ident $p:ident) => { $d.preferred_read_replica = -1; };
    (@partition leader $d:ident $p:ident) => {
        if let Some((leader_id, leader_epoch)) = $p.leader {
            $d.current_leader.leader_id = leader_id;
            $d.current_leader.leader_epoch = leader_epoch;
        }
    };
    (@partition $other:ident $d:ident $p:ident) => {};
    (@top session $out:ident $o:ident) => { $out.error_code = $o.error.0; $out.session_id = 0; };
    (@top endpoints $out:ident $o:ident) => {
        $out.node_endpoints = $o
            .endpoints
            .iter()
            .map(|(id, host, port)| m::NodeEndpoint { node_id: *id, host: host.as_str().into(), port: *port, ..Default::default() })
            .collect();
    };
    (@top $other:ident $out:ident $o:ident) => {};
}

pub(crate) async fn handle(ctx: &Ctx<'_>, request: &fetch::AnyRequest) -> Option<AnyResponse> {
    let req = read(request)?;
    let deadline = Instant::now() + millis(req.max_wait_ms);
    let mut changed = ctx.shared.changed.subscribe();
    let o = loop {
        changed.borrow_and_update();
        let o = collect(ctx, &req);
        let enough = o.bytes >= usize::try_from(req.min_bytes).unwrap_or(0);
        if enough || o.errors || o.error.is_err() || req.topics.is_empty() || Instant::now() >= deadline {
            break o;
        }
        wait_for_change(&mut changed, deadline).await;
    };
    Some(match request.version() {
        4 => emit!(v4, o, name, []),
        5 => emit!(v5, o, name, [log_start]),
        6 => emit!(v6, o, name, [log_start]),
        7 => emit!(v7, o, name, [log_start session]),
        8 => emit!(v8, o, name, [log_start session]),
        9 => emit!(v9, o, name, [log_start session]),
        10 => emit!(v10, o, name, [log_start session]),
        11 => emit!(v11, o, name, [log_start session preferred]),
        12 => emit!(v12, o, name, [log_start session preferred leader]),
        13 => emit!(v13, o, id, [log_start session preferred leader]),
        14 => emit!(v14, o, id, [log_start session preferred leader]),
        15 => emit!(v15, o, id, [log_start session preferred leader]),
        16 => emit!(v16, o, id, [log_start session preferred leader endpoints]),
        17 => emit!(v17, o, id, [log_start session preferred leader endpoints]),
        _ => return None,
    })
}
