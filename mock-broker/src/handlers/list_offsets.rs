//! ListOffsets: latest (-1), earliest (-2), max timestamp (-3), earliest local (-4), latest
//! tiered (-5, none here), earliest pending upload (-6, none here), or the first offset at or
//! after a timestamp; with isolation level read_committed, latest is the last stable offset and
//! nothing at or after it is found by timestamp. A negative value the request's version does not know is
//! UNSUPPORTED_VERSION, as Kafka answers it.

use kafka_wire::list_offsets::{ListOffsetsPartitionResponse, ListOffsetsTopicResponse, Request, Response};
use kafka_wire::ErrorCode;

use crate::context::Ctx;

/// Whether ListOffsets at `version` knows the negative `timestamp` as a special timestamp
/// (the versions come from the generator's behaviour table, after the schema's version notes;
/// Kafka's `ListOffsetsRequest` checks them per partition). Latest (-1) and earliest (-2) are
/// known in every version.
fn special_timestamp_known(timestamp: i64, version: i16) -> bool {
    let versions = match timestamp {
        -1 | -2 => return true,
        -3 => Request::MAX_TIMESTAMP_VERSIONS,
        -4 => Request::EARLIEST_LOCAL_TIMESTAMP_VERSIONS,
        -5 => Request::LATEST_TIERED_TIMESTAMP_VERSIONS,
        -6 => Request::EARLIEST_PENDING_UPLOAD_TIMESTAMP_VERSIONS,
        _ => return false,
    };
    versions.contains(version)
}

pub(crate) fn handle(ctx: &Ctx<'_>, r: &Request) -> Response {
    let epochs = ListOffsetsPartitionResponse::LEADER_EPOCH_VERSIONS.contains(ctx.version);
    let state = ctx.shared.state();
    let topics = r
        .topics
        .iter()
        .map(|t| {
            let topic = state.topics.get(&*t.name);
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let mut out =
                        ListOffsetsPartitionResponse { partition_index: p.partition_index, ..Default::default() };
                    let partition =
                        topic.and_then(|t| usize::try_from(p.partition_index).ok().and_then(|i| t.partitions.get(i)));
                    let epoch = p.current_leader_epoch;
                    out.error_code = match (ctx.forced, partition) {
                        (Some(code), _) => code,
                        (None, None) => ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                        (None, Some(part)) if part.leader != ctx.broker => ErrorCode::NOT_LEADER_OR_FOLLOWER,
                        (None, Some(part)) if epoch >= 0 && epoch > part.leader_epoch => {
                            ErrorCode::UNKNOWN_LEADER_EPOCH
                        }
                        (None, Some(part)) if epoch >= 0 && epoch < part.leader_epoch => ErrorCode::FENCED_LEADER_EPOCH,
                        (None, Some(_)) if p.timestamp < 0 && !special_timestamp_known(p.timestamp, ctx.version) => {
                            ErrorCode::UNSUPPORTED_VERSION
                        }
                        (None, Some(part)) => {
                            let (timestamp, offset, leader_epoch) = if r.isolation_level == 1 {
                                part.log.offset_for_committed(p.timestamp, part.leader_epoch)
                            } else {
                                part.log.offset_for(p.timestamp, part.leader_epoch)
                            };
                            (out.timestamp, out.offset) = (timestamp, offset);
                            if epochs {
                                out.leader_epoch = leader_epoch;
                            }
                            ErrorCode::NONE
                        }
                    };
                    out
                })
                .collect();
            ListOffsetsTopicResponse { name: t.name.clone(), partitions, ..Default::default() }
        })
        .collect();
    Response { topics, ..Default::default() }
}
