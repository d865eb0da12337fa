//! Fetch: whole batches from the one holding the fetch offset, cut at the partition and
//! response byte limits like a log segment slice (the last batch may be partial; a first batch
//! larger than the limit comes whole, KIP-74); long polling until `min_bytes` arrive or
//! `max_wait_ms` passes; topics by name, or by id (v13+); from the version with `RackId` a
//! follower serves consumers too (KIP-392). With isolation level read_committed, only batches
//! below the last stable offset, and the aborted transactions among the offsets read (producer
//! id, first offset: the consumer drops their records, KIP-98). Fetch sessions are never created (session id 0), so
//! every fetch is a full fetch.

use kafka_wire::fetch::{
    AbortedTransaction, FetchTopic, FetchableTopicResponse, LeaderIdAndEpoch, NodeEndpoint, PartitionData, Request,
    Response,
};
use kafka_wire::{ErrorCode, Records};
use tokio::time::Instant;

use crate::context::{millis, wait_for_change, Ctx};

/// One pass over the logs: the response and whether it is complete (enough bytes or errors).
fn collect(ctx: &Ctx<'_>, r: &Request) -> (Response, bool) {
    let state = ctx.shared.state();
    let by_id = FetchTopic::TOPIC_ID_VERSIONS.contains(ctx.version);
    let leader_hints = PartitionData::CURRENT_LEADER_VERSIONS.contains(ctx.version);
    // KIP-392: a consumer may fetch from a follower (Kafka reads it up to the high watermark;
    // every replica here is in sync).
    let from_followers = Request::RACK_ID_VERSIONS.contains(ctx.version);
    let read_committed = r.isolation_level == 1;
    let mut remaining = usize::try_from(r.max_bytes).unwrap_or(0);
    let mut bytes = 0usize;
    let mut errors = false;
    let mut endpoints: Vec<NodeEndpoint> = Vec::new();
    // Incremental fetches need a session, and this broker never creates one.
    let error = if r.session_epoch > 0 { ErrorCode::FETCH_SESSION_ID_NOT_FOUND } else { ErrorCode::NONE };
    let mut responses = Vec::with_capacity(r.topics.len());
    for t in &r.topics {
        let (name, unknown) = if by_id {
            (state.topic_name(t.topic_id), ErrorCode::UNKNOWN_TOPIC_ID)
        } else {
            (Some(&*t.topic), ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
        };
        let topic = name.and_then(|n| state.topics.get(n));
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for f in &t.partitions {
            // Unless the read succeeds, Kafka answers high watermark, last stable offset and log
            // start offset -1, and no list of aborted transactions (an empty one for an unknown
            // topic or partition, answered before reading).
            let mut data = PartitionData {
                partition_index: f.partition,
                high_watermark: -1,
                last_stable_offset: -1,
                log_start_offset: -1,
                aborted_transactions: None,
                records: Some(Records::new()),
                ..Default::default()
            };
            let partition = topic.and_then(|t| usize::try_from(f.partition).ok().and_then(|i| t.partitions.get(i)));
            data.error_code = match (ctx.forced.or(Some(error).filter(|e| e.is_err())), topic, partition) {
                (Some(code), ..) => code,
                (None, None, _) => {
                    data.aborted_transactions = Some(Vec::new());
                    unknown
                }
                (None, Some(_), None) => {
                    data.aborted_transactions = Some(Vec::new());
                    ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                }
                (None, Some(_), Some(p)) => {
                    let epoch = f.current_leader_epoch;
                    let follower = from_followers && p.replicas.contains(&ctx.broker) && p.leader >= 0;
                    if p.leader != ctx.broker && !follower {
                        if leader_hints {
                            data.current_leader = LeaderIdAndEpoch {
                                leader_id: p.leader,
                                leader_epoch: p.leader_epoch,
                                ..Default::default()
                            };
                            if let Some(b) = state.live_broker(p.leader) {
                                if !endpoints.iter().any(|e| e.node_id == b.id) {
                                    endpoints.push(NodeEndpoint {
                                        node_id: b.id,
                                        host: b.host.as_str().into(),
                                        port: b.port,
                                        ..Default::default()
                                    });
                                }
                            }
                        }
                        ErrorCode::NOT_LEADER_OR_FOLLOWER
                    } else if epoch >= 0 && epoch > p.leader_epoch {
                        ErrorCode::UNKNOWN_LEADER_EPOCH
                    } else if epoch >= 0 && epoch < p.leader_epoch {
                        ErrorCode::FENCED_LEADER_EPOCH
                    } else {
                        let limit = usize::try_from(f.partition_max_bytes).unwrap_or(0).min(remaining);
                        let read = if read_committed {
                            p.log.read_committed(f.fetch_offset, limit, bytes == 0).map(|(records, aborted)| {
                                let aborted = aborted
                                    .into_iter()
                                    .map(|a| AbortedTransaction {
                                        producer_id: a.producer_id,
                                        first_offset: a.first_offset,
                                        ..Default::default()
                                    })
                                    .collect();
                                (records, Some(aborted))
                            })
                        } else {
                            p.log.read(f.fetch_offset, limit, bytes == 0).map(|records| (records, None))
                        };
                        match read {
                            Ok((records, aborted)) => {
                                data.high_watermark = p.log.end;
                                data.last_stable_offset = p.log.last_stable_offset();
                                data.log_start_offset = p.log.start;
                                data.aborted_transactions = aborted;
                                bytes += records.len();
                                remaining = remaining.saturating_sub(records.len());
                                data.records = Some(Records::from(records));
                                ErrorCode::NONE
                            }
                            Err(code) => code,
                        }
                    }
                }
            };
            errors |= data.error_code.is_err();
            partitions.push(data);
        }
        responses.push(FetchableTopicResponse {
            topic: t.topic.clone(),
            topic_id: t.topic_id,
            partitions,
            ..Default::default()
        });
    }
    let enough = bytes >= usize::try_from(r.min_bytes).unwrap_or(0);
    let done = enough || errors || error.is_err() || r.topics.is_empty();
    (Response { error_code: error, responses, node_endpoints: endpoints, ..Default::default() }, done)
}

pub(crate) async fn handle(ctx: &Ctx<'_>, r: &Request) -> Response {
    let deadline = Instant::now() + millis(r.max_wait_ms);
    let mut changed = ctx.shared.changed.subscribe();
    loop {
        changed.borrow_and_update();
        let (response, done) = collect(ctx, r);
        if done || Instant::now() >= deadline {
            return response;
        }
        wait_for_change(&mut changed, deadline).await;
    }
}
