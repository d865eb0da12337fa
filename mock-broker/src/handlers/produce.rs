//! Produce v3-11: validates each partition's record batch, assigns offsets, checks idempotent
//! producers' sequences (duplicates of recent batches are acknowledged, not appended), and
//! honours acks (0: no response at all).
#![allow(clippy::field_reassign_with_default)]

use kafka_wire::{produce, AnyResponse, ErrorCode, Records};

use crate::server::{Ctx, Handled};

struct PartitionResult {
    index: i32,
    error: ErrorCode,
    base_offset: i64,
    /// -1, or the max timestamp of the logged batch a duplicate repeats (as Kafka answers).
    log_append_time: i64,
    log_start_offset: i64,
    /// (leader id, leader epoch) when this broker does not lead the partition (KIP-951).
    leader: Option<(i32, i32)>,
}

struct Outcome {
    topics: Vec<(String, Vec<PartitionResult>)>,
    /// (id, host, port) of the leaders named in `leader` fields.
    endpoints: Vec<(i32, String, i32)>,
}

type Topics<'a> = Vec<(&'a str, Vec<(i32, Option<&'a Records>)>)>;

macro_rules! read {
    ($r:ident) => {
        (
            $r.acks,
            $r.topic_data
                .iter()
                .map(|t| (&*t.name, t.partition_data.iter().map(|p| (p.index, p.records.as_ref())).collect()))
                .collect::<Topics<'_>>(),
        )
    };
}

fn append(ctx: &Ctx<'_>, acks: i16, topics: Topics<'_>) -> Outcome {
    let mut state = ctx.shared.state();
    let mut endpoints: Vec<(i32, String, i32)> = Vec::new();
    let mut appended = false;
    let mut results = Vec::with_capacity(topics.len());
    for (name, partitions) in topics {
        let mut out = Vec::with_capacity(partitions.len());
        for (index, records) in partitions {
            let mut result = PartitionResult {
                index,
                error: ErrorCode::NONE,
                base_offset: -1,
                log_append_time: -1,
                log_start_offset: -1,
                leader: None,
            };
            let brokers = state.brokers.clone();
            let topic = state.topics.get_mut(name);
            let partition = topic.and_then(|t| {
                let max = t.max_message_bytes();
                usize::try_from(index).ok().and_then(|i| t.partitions.get_mut(i)).map(|p| (p, max))
            });
            match (ctx.forced, partition) {
                (Some(code), _) => result.error = code,
                _ if !(-1..=1).contains(&acks) => result.error = ErrorCode::INVALID_REQUIRED_ACKS,
                (None, None) => result.error = ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                (None, Some((p, _))) if p.leader != ctx.broker => {
                    result.error = ErrorCode::NOT_LEADER_OR_FOLLOWER;
                    result.leader = Some((p.leader, p.leader_epoch));
                    if let Some(b) = brokers.iter().find(|b| b.id == p.leader && b.up) {
                        if !endpoints.iter().any(|e| e.0 == b.id) {
                            endpoints.push((b.id, b.host.clone(), b.port));
                        }
                    }
                }
                (None, Some((p, max))) => match p.log.append(records, p.leader_epoch, max) {
                    Ok(a) => {
                        appended |= !a.duplicate;
                        result.base_offset = a.base_offset;
                        result.log_append_time = a.log_append_time;
                        result.log_start_offset = p.log.start;
                    }
                    Err(e) => {
                        result.error = e.code;
                        if e.in_log {
                            result.log_start_offset = p.log.start;
                        }
                    }
                },
            }
            out.push(result);
        }
        results.push((name.to_owned(), out));
    }
    drop(state);
    if appended {
        ctx.shared.notify_changed();
    }
    Outcome { topics: results, endpoints }
}

macro_rules! emit {
    ($v:ident, $o:ident, [$($f:ident)*]) => {{
        use produce::$v as m;
        let mut out = m::Response::default();
        out.responses = $o
            .topics
            .iter()
            .map(|(name, partitions)| {
                let mut t = m::TopicProduceResponse::default();
                t.name = name.as_str().into();
                t.partition_responses = partitions
                    .iter()
                    .map(|p| {
                        let mut r = m::PartitionProduceResponse::default();
                        r.index = p.index;
                        r.error_code = p.error.0;
                        r.base_offset = p.base_offset;
                        r.log_append_time_ms = p.log_append_time;
                        $( emit!(@partition $f r p); )*
                        r
                    })
                    .collect();
                t
            })
            .collect();
        out.throttle_time_ms = 0;
        $( emit!(@top $f out $o); )*
        AnyResponse::from(out)
    }};
    (@partition log_start $r:ident $p:ident) => { $r.log_start_offset = $p.log_start_offset; };
    (@partition leader $r:ident $p:ident) => {
        if let Some((leader_id, leader_epoch)) = $p.leader {
            $r.current_leader.leader_id = leader_id;
            $r.current_leader.leader_epoch = leader_epoch;
        }
    };
    (@partition $other:ident $r:ident $p:ident) => {};
    (@top leader $out:ident $o:ident) => {
        $out.node_endpoints = $o
            .endpoints
            .iter()
            .map(|(id, host, port)| m::NodeEndpoint { node_id: *id, host: host.as_str().into(), port: *port, ..Default::default() })
            .collect();
    };
    (@top $other:ident $out:ident $o:ident) => {};
}

pub(crate) fn handle(ctx: &Ctx<'_>, request: &produce::AnyRequest) -> Handled {
    use produce::AnyRequest as A;
    let (acks, topics) = match request {
        A::V3(r) => read!(r),
        A::V4(r) => read!(r),
        A::V5(r) => read!(r),
        A::V6(r) => read!(r),
        A::V7(r) => read!(r),
        A::V8(r) => read!(r),
        A::V9(r) => read!(r),
        A::V10(r) => read!(r),
        A::V11(r) => read!(r),
        _ => return Handled::Unsupported,
    };
    let o = append(ctx, acks, topics);
    if acks == 0 {
        return Handled::NoReply;
    }
    Handled::Reply(match request.version() {
        3 => emit!(v3, o, []),
        4 => emit!(v4, o, []),
        5 => emit!(v5, o, [log_start]),
        6 => emit!(v6, o, [log_start]),
        7 => emit!(v7, o, [log_start]),
        8 => emit!(v8, o, [log_start]),
        9 => emit!(v9, o, [log_start]),
        10 => emit!(v10, o, [log_start leader]),
        11 => emit!(v11, o, [log_start leader]),
        _ => return Handled::Unsupported,
    })
}
