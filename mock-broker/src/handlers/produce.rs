//! Produce: validates each partition's record batch, assigns offsets, checks idempotent
//! producers' sequences (duplicates of recent batches are acknowledged, not appended), and
//! honours acks (0: no response at all). Topics by name, or by id (v13+). A transactional
//! batch is appended only to a partition of the producer's transaction (KIP-890).

use kafka_wire::produce::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, Request, Response, TopicProduceResponse,
};
use kafka_wire::ErrorCode;

use crate::context::{Ctx, Handled};
use crate::state::State;
use crate::txn::verification_error;

/// Kafka's transaction verification before a transactional batch is appended
/// (`ReplicaManager.appendRecordsWithTransactionVerification`, KIP-890): unless the producer
/// has a transaction open in the partition already, the partition must be in its transaction
/// (v12+: it joins it). The error the producer gets, if any.
fn check_transaction(
    ctx: &Ctx<'_>,
    state: &mut State,
    transactional_id: &str,
    topic: &str,
    p: &kafka_wire::produce::PartitionProduceData,
) -> Option<ErrorCode> {
    let (producer_id, producer_epoch) = crate::log::transactional_producer(p.records.as_ref())?;
    let partition = state.topics.get(topic)?.partitions.get(usize::try_from(p.index).ok()?)?;
    if partition.leader != ctx.broker || partition.log.in_transaction(producer_id) {
        return None;
    }
    let add = Request::ADDS_PARTITION_TO_TXN_VERSIONS.contains(ctx.version);
    let key = (topic.to_owned(), p.index);
    let now = tokio::time::Instant::now();
    let result = state.txn_check_produce(transactional_id, producer_id, producer_epoch, key, add, now);
    result.err().map(|code| verification_error(code, Request::TRANSACTION_ABORTABLE_VERSIONS.contains(ctx.version)))
}

pub(crate) fn handle(ctx: &Ctx<'_>, r: &Request) -> Handled {
    let leader_hints = PartitionProduceResponse::CURRENT_LEADER_VERSIONS.contains(ctx.version);
    let mut state = ctx.shared.state();
    let brokers = state.brokers.clone();
    let mut endpoints: Vec<NodeEndpoint> = Vec::new();
    let mut appended = false;
    let mut responses = Vec::with_capacity(r.topic_data.len());
    for t in &r.topic_data {
        let name =
            if t.name.is_empty() { state.topic_name(t.topic_id).map(str::to_owned) } else { Some(t.name.to_string()) };
        let mut partitions = Vec::with_capacity(t.partition_data.len());
        for p in &t.partition_data {
            // An error is answered with base offset -1, as Kafka answers it.
            let mut out = PartitionProduceResponse { index: p.index, base_offset: -1, ..Default::default() };
            let txn_code = match (ctx.forced, r.transactional_id.as_deref(), name.as_deref()) {
                (None, Some(tid), Some(topic)) => check_transaction(ctx, &mut state, tid, topic, p),
                _ => None,
            };
            let topic = name.as_ref().and_then(|n| state.topics.get_mut(n));
            let partition = topic.and_then(|topic| {
                let max = topic.max_message_bytes();
                usize::try_from(p.index).ok().and_then(|i| topic.partitions.get_mut(i)).map(|p| (p, max))
            });
            match (ctx.forced, partition) {
                (Some(code), _) => out.error_code = code,
                _ if !(-1..=1).contains(&r.acks) => out.error_code = ErrorCode::INVALID_REQUIRED_ACKS,
                (None, None) if name.is_none() => out.error_code = ErrorCode::UNKNOWN_TOPIC_ID,
                (None, None) => out.error_code = ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                (None, Some((part, _))) if part.leader != ctx.broker => {
                    out.error_code = ErrorCode::NOT_LEADER_OR_FOLLOWER;
                    if leader_hints {
                        out.current_leader = LeaderIdAndEpoch {
                            leader_id: part.leader,
                            leader_epoch: part.leader_epoch,
                            ..Default::default()
                        };
                        if let Some(b) = brokers.iter().find(|b| b.id == part.leader && b.up) {
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
                }
                // Found before the log: no log start offset, as Kafka answers it.
                (None, Some(_)) if txn_code.is_some() => {
                    out.error_code = txn_code.unwrap_or(ErrorCode::UNKNOWN_SERVER_ERROR);
                    if out.error_code == ErrorCode::INVALID_TXN_STATE {
                        // Kafka's ReplicaManager says why.
                        out.error_message = Some("Partition was not added to the transaction".into());
                    }
                }
                (None, Some((part, max))) => match part.log.append(p.records.as_ref(), part.leader_epoch, max) {
                    Ok(a) => {
                        appended |= !a.duplicate;
                        out.base_offset = a.base_offset;
                        out.log_append_time_ms = a.log_append_time;
                        out.log_start_offset = part.log.start;
                    }
                    // As Kafka answers: no error message; the log start offset for errors found
                    // while appending, -1 for those found before.
                    Err(e) => {
                        out.error_code = e.code;
                        if e.in_log {
                            out.log_start_offset = part.log.start;
                        }
                    }
                },
            }
            partitions.push(out);
        }
        responses.push(TopicProduceResponse {
            name: t.name.clone(),
            topic_id: t.topic_id,
            partition_responses: partitions,
            ..Default::default()
        });
    }
    drop(state);
    if appended {
        ctx.shared.notify_changed();
    }
    if r.acks == 0 {
        return Handled::NoReply;
    }
    Handled::Reply(Response { responses, node_endpoints: endpoints, ..Default::default() }.into())
}
