//! ListOffsets v1-10: latest (-1), earliest (-2), max timestamp (-3), earliest local (-4),
//! latest tiered (-5, none here), or the first offset at or after a timestamp; any other
//! negative value is UNSUPPORTED_VERSION, as Kafka answers it.
#![allow(clippy::field_reassign_with_default)]

use kafka_wire::{list_offsets, AnyResponse, ErrorCode};

use crate::server::Ctx;

struct Found {
    index: i32,
    error: ErrorCode,
    timestamp: i64,
    offset: i64,
    leader_epoch: i32,
}

/// `current_leader_epoch` where the version has it (v4+).
trait LeaderEpoch {
    fn leader_epoch(&self) -> i32;
}
impl LeaderEpoch for list_offsets::v1::ListOffsetsPartition {
    fn leader_epoch(&self) -> i32 {
        -1
    }
}
impl LeaderEpoch for list_offsets::v4::ListOffsetsPartition {
    fn leader_epoch(&self) -> i32 {
        self.current_leader_epoch
    }
}
impl LeaderEpoch for list_offsets::v6::ListOffsetsPartition {
    fn leader_epoch(&self) -> i32 {
        self.current_leader_epoch
    }
}

type Query = Vec<(String, Vec<(i32, i32, i64)>)>;

macro_rules! read {
    ($r:ident) => {
        $r.topics
            .iter()
            .map(|t| {
                (
                    t.name.to_string(),
                    t.partitions.iter().map(|p| (p.partition_index, p.leader_epoch(), p.timestamp)).collect(),
                )
            })
            .collect::<Query>()
    };
}

fn find(ctx: &Ctx<'_>, query: Query) -> Vec<(String, Vec<Found>)> {
    let state = ctx.shared.state();
    query
        .into_iter()
        .map(|(name, partitions)| {
            let topic = state.topics.get(&name);
            let found = partitions
                .into_iter()
                .map(|(index, epoch, timestamp)| {
                    let mut f = Found { index, error: ErrorCode::NONE, timestamp: -1, offset: -1, leader_epoch: -1 };
                    let partition = topic.and_then(|t| usize::try_from(index).ok().and_then(|i| t.partitions.get(i)));
                    f.error = match (ctx.forced, partition) {
                        (Some(code), _) => code,
                        (None, None) => ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                        (None, Some(p)) if p.leader != ctx.broker => ErrorCode::NOT_LEADER_OR_FOLLOWER,
                        (None, Some(p)) if epoch >= 0 && epoch > p.leader_epoch => ErrorCode::UNKNOWN_LEADER_EPOCH,
                        (None, Some(p)) if epoch >= 0 && epoch < p.leader_epoch => ErrorCode::FENCED_LEADER_EPOCH,
                        // -6 (earliest pending upload) needs v11, which is not served; Kafka
                        // answers any value below -5 so.
                        (None, Some(_)) if timestamp < -5 => ErrorCode::UNSUPPORTED_VERSION,
                        (None, Some(p)) => {
                            (f.timestamp, f.offset, f.leader_epoch) = p.log.offset_for(timestamp, p.leader_epoch);
                            ErrorCode::NONE
                        }
                    };
                    f
                })
                .collect();
            (name, found)
        })
        .collect()
}

macro_rules! emit {
    ($v:ident, $found:ident, [$($f:ident)*]) => {{
        use list_offsets::$v as m;
        let mut out = m::Response::default();
        out.topics = $found
            .iter()
            .map(|(name, partitions)| {
                let mut t = m::ListOffsetsTopicResponse::default();
                t.name = name.as_str().into();
                t.partitions = partitions
                    .iter()
                    .map(|f| {
                        let mut p = m::ListOffsetsPartitionResponse::default();
                        p.partition_index = f.index;
                        p.error_code = f.error.0;
                        p.timestamp = f.timestamp;
                        p.offset = f.offset;
                        $( emit!(@partition $f p f); )*
                        p
                    })
                    .collect();
                t
            })
            .collect();
        $( emit!(@top $f out); )*
        AnyResponse::from(out)
    }};
    (@partition epoch $p:ident $x:ident) => { $p.leader_epoch = $x.leader_epoch; };
    (@partition $other:ident $p:ident $x:ident) => {};
    (@top throttle $out:ident) => { $out.throttle_time_ms = 0; };
    (@top $other:ident $out:ident) => {};
}

pub(crate) fn handle(ctx: &Ctx<'_>, request: &list_offsets::AnyRequest) -> Option<AnyResponse> {
    use list_offsets::AnyRequest as A;
    let query = match request {
        A::V1(r) => read!(r),
        A::V2(r) => read!(r),
        A::V3(r) => read!(r),
        A::V4(r) => read!(r),
        A::V5(r) => read!(r),
        A::V6(r) => read!(r),
        A::V7(r) => read!(r),
        A::V8(r) => read!(r),
        A::V9(r) => read!(r),
        A::V10(r) => read!(r),
        _ => return None,
    };
    let found = find(ctx, query);
    Some(match request.version() {
        1 => emit!(v1, found, []),
        2 => emit!(v2, found, [throttle]),
        3 => emit!(v3, found, [throttle]),
        4 => emit!(v4, found, [throttle epoch]),
        5 => emit!(v5, found, [throttle epoch]),
        6 => emit!(v6, found, [throttle epoch]),
        7 => emit!(v7, found, [throttle epoch]),
        8 => emit!(v8, found, [throttle epoch]),
        9 => emit!(v9, found, [throttle epoch]),
        10 => emit!(v10, found, [throttle epoch]),
        _ => return None,
    })
}
