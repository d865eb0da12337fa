//! The transaction APIs (KIP-98; the coordinator's state is `crate::txn`): AddPartitionsToTxn
//! (one transaction up to v3; from v4 the batched form brokers send, verify-only or not),
//! AddOffsetsToTxn, TxnOffsetCommit, EndTxn; the admin views DescribeProducers,
//! ListTransactions and DescribeTransactions; and OffsetFetch with `require_stable`, which
//! answers UNSTABLE_OFFSET_COMMIT for offsets an open transaction holds (Kafka's
//! `GroupCoordinatorService.fetchOffsets`).
//!
//! A request about a transactional id (or group) that another broker coordinates gets
//! NOT_COORDINATOR, as from Kafka.

use kafka_wire::{
    add_offsets_to_txn, add_partitions_to_txn, describe_producers, describe_transactions, end_txn, list_transactions,
    offset_fetch, txn_offset_commit, ErrorCode,
};
use tokio::time::Instant;

use crate::context::Ctx;
use crate::state::State;
use crate::txn::{now_ms, offsets_partition, verification_error, TxnState, OFFSETS_TOPIC, STATE_NAMES};

/// Whether this broker coordinates `key` (a transactional id or group id).
fn coordinates(ctx: &Ctx<'_>, state: &State, key: &str) -> bool {
    state.coordinator(key).map(|b| b.id) == Some(ctx.broker)
}

/// The first AddPartitionsToTxn version of the batched form (`Transactions`, KIP-890 part 1).
fn batched(version: i16) -> bool {
    add_partitions_to_txn::Request::TRANSACTIONS_VERSIONS.contains(version)
}

/// One transaction of an AddPartitionsToTxn: the result per topic and partition. Unknown
/// topics and partitions get UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED
/// (Kafka's `KafkaApis.handleAddPartitionsToTxnRequest`).
fn add_partitions(
    ctx: &Ctx<'_>,
    state: &mut State,
    t: &add_partitions_to_txn::AddPartitionsToTxnTransaction,
    now: Instant,
) -> add_partitions_to_txn::AddPartitionsToTxnResult {
    let partitions: Vec<(String, i32)> =
        t.topics.iter().flat_map(|topic| topic.partitions.iter().map(move |p| (topic.name.to_string(), *p))).collect();
    let exists = |state: &State, (topic, p): &(String, i32)| {
        state.topics.get(topic).is_some_and(|t| usize::try_from(*p).is_ok_and(|i| i < t.partitions.len()))
    };
    let codes: Vec<ErrorCode> = if let Some(code) = ctx.forced {
        vec![code; partitions.len()]
    } else if !coordinates(ctx, state, &t.transactional_id) {
        vec![ErrorCode::NOT_COORDINATOR; partitions.len()]
    } else if partitions.iter().any(|p| !exists(state, p)) {
        partitions
            .iter()
            .map(|p| {
                if exists(state, p) {
                    ErrorCode::OPERATION_NOT_ATTEMPTED
                } else {
                    ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                }
            })
            .collect()
    } else if t.verify_only {
        match state.txn_verify_partitions(&t.transactional_id, t.producer_id, t.producer_epoch, &partitions) {
            Ok(codes) => codes,
            Err(code) => vec![code; partitions.len()],
        }
    } else {
        let code = state
            .txn_add_partitions(&t.transactional_id, t.producer_id, t.producer_epoch, &partitions, now)
            .err()
            .unwrap_or(ErrorCode::NONE);
        vec![code; partitions.len()]
    };
    let mut topic_results: Vec<add_partitions_to_txn::AddPartitionsToTxnTopicResult> = Vec::new();
    for ((topic, partition), code) in partitions.into_iter().zip(codes) {
        let result = add_partitions_to_txn::AddPartitionsToTxnPartitionResult {
            partition_index: partition,
            partition_error_code: code,
            ..Default::default()
        };
        match topic_results.iter_mut().find(|r| *r.name == *topic) {
            Some(r) => r.results_by_partition.push(result),
            None => topic_results.push(add_partitions_to_txn::AddPartitionsToTxnTopicResult {
                name: topic.into(),
                results_by_partition: vec![result],
                ..Default::default()
            }),
        }
    }
    add_partitions_to_txn::AddPartitionsToTxnResult {
        transactional_id: t.transactional_id.clone(),
        topic_results,
        ..Default::default()
    }
}

pub(crate) fn add_partitions_to_txn(
    ctx: &Ctx<'_>,
    r: &add_partitions_to_txn::Request,
) -> add_partitions_to_txn::Response {
    let now = Instant::now();
    let mut state = ctx.shared.state();
    if batched(ctx.version) {
        let results = r.transactions.iter().map(|t| add_partitions(ctx, &mut state, t, now)).collect();
        return add_partitions_to_txn::Response { results_by_transaction: results, ..Default::default() };
    }
    // Up to v3: one transaction, in the `V3AndBelow` fields.
    let single = add_partitions_to_txn::AddPartitionsToTxnTransaction {
        transactional_id: r.v3_and_below_transactional_id.clone(),
        producer_id: r.v3_and_below_producer_id,
        producer_epoch: r.v3_and_below_producer_epoch,
        verify_only: false,
        topics: r.v3_and_below_topics.clone(),
        ..Default::default()
    };
    let result = add_partitions(ctx, &mut state, &single, now);
    add_partitions_to_txn::Response { results_by_topic_v3_and_below: result.topic_results, ..Default::default() }
}

pub(crate) fn add_offsets_to_txn(ctx: &Ctx<'_>, r: &add_offsets_to_txn::Request) -> add_offsets_to_txn::Response {
    let mut state = ctx.shared.state();
    let error_code = if let Some(code) = ctx.forced {
        code
    } else if !coordinates(ctx, &state, &r.transactional_id) {
        ErrorCode::NOT_COORDINATOR
    } else {
        let partition = [(OFFSETS_TOPIC.to_owned(), offsets_partition(&r.group_id))];
        state
            .txn_add_partitions(&r.transactional_id, r.producer_id, r.producer_epoch, &partition, Instant::now())
            .err()
            .unwrap_or(ErrorCode::NONE)
    };
    add_offsets_to_txn::Response { error_code, ..Default::default() }
}

pub(crate) fn txn_offset_commit(ctx: &Ctx<'_>, r: &txn_offset_commit::Request) -> txn_offset_commit::Response {
    let mut state = ctx.shared.state();
    // Topics by name, or by id (v6+).
    let names: Vec<Option<String>> =
        r.topics
            .iter()
            .map(|t| {
                if t.name.is_empty() {
                    state.topic_name(t.topic_id).map(str::to_owned)
                } else {
                    Some(t.name.to_string())
                }
            })
            .collect();
    let offsets: Vec<crate::txn::TxnOffset> = r
        .topics
        .iter()
        .zip(&names)
        .filter_map(|(t, name)| name.as_ref().map(|n| (t, n)))
        .flat_map(|(t, name)| {
            t.partitions.iter().map(move |p| {
                let metadata = p.committed_metadata.as_ref().map(|m| m.to_string());
                (name.clone(), p.partition_index, p.committed_offset, p.committed_leader_epoch, metadata)
            })
        })
        .collect();
    let result = if let Some(code) = ctx.forced {
        Err(code)
    } else if !coordinates(ctx, &state, &r.group_id) {
        Err(ErrorCode::NOT_COORDINATOR)
    } else {
        // v5+: the request adds the offsets partition itself (transaction version 2).
        let add = txn_offset_commit::Request::ADDS_OFFSETS_PARTITION_TO_TXN_VERSIONS.contains(ctx.version);
        let now = Instant::now();
        let commit = |state: &mut State, generation: i32, member_id: &str, instance_id, offsets: &[_]| {
            state.txn_offset_commit(
                &r.transactional_id,
                &r.group_id,
                r.producer_id,
                r.producer_epoch,
                generation,
                member_id,
                instance_id,
                offsets,
                add,
                now,
            )
        };
        if state.groups.get(&*r.group_id).is_some_and(|g| g.is_consumer_group()) {
            // A consumer group (KIP-848): the producer and the offsets partition are checked
            // first (a commit of nothing checks only them), then the member and its epoch as
            // `ConsumerGroup.validateOffsetCommit` does for a transactional commit.
            commit(&mut state, -1, "", None, &[])
                .and_then(|_| consumer_txn_commit_check(&state, r, &offsets))
                .and_then(|()| commit(&mut state, -1, "", None, &offsets))
        } else {
            commit(&mut state, r.generation_id_or_member_epoch, &r.member_id, r.group_instance_id.as_deref(), &offsets)
        }
        .map_err(|code| {
            verification_error(code, txn_offset_commit::Request::TRANSACTION_ABORTABLE_VERSIONS.contains(ctx.version))
        })
    };
    let mut codes = match &result {
        Ok(codes) => codes.clone().into_iter(),
        Err(code) => vec![*code; offsets.len()].into_iter(),
    };
    let topics = r
        .topics
        .iter()
        .zip(&names)
        .map(|(t, name)| txn_offset_commit::TxnOffsetCommitResponseTopic {
            name: t.name.clone(),
            topic_id: t.topic_id,
            partitions: t
                .partitions
                .iter()
                .map(|p| txn_offset_commit::TxnOffsetCommitResponsePartition {
                    partition_index: p.partition_index,
                    error_code: match name {
                        Some(_) => codes.next().unwrap_or(ErrorCode::UNKNOWN_SERVER_ERROR),
                        None => ErrorCode::UNKNOWN_TOPIC_ID,
                    },
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    txn_offset_commit::Response { topics, ..Default::default() }
}

/// The member check of a TxnOffsetCommit to a consumer group (KIP-848; Kafka's
/// `OffsetMetadataManager.validateTransactionalOffsetCommit` and
/// `ConsumerGroup.validateOffsetCommit`): a commit without member id and with a negative
/// epoch passes (a producer that sends only the group id; Kafka 4.4 takes it while the group
/// has members, seen in the differential test), as does any negative epoch while the group is
/// empty; otherwise an unknown member is UNKNOWN_MEMBER_ID, and an epoch other than the
/// member's (or an older one for partitions it had since, KIP-1251) is STALE_MEMBER_EPOCH,
/// which Kafka answers as ILLEGAL_GENERATION to the transactional producer.
fn consumer_txn_commit_check(
    state: &State,
    r: &txn_offset_commit::Request,
    offsets: &[crate::txn::TxnOffset],
) -> Result<(), ErrorCode> {
    let Some(consumer) = state.groups.get(&*r.group_id).and_then(|g| g.consumer.as_ref()) else {
        return Ok(());
    };
    if r.member_id.is_empty() && r.generation_id_or_member_epoch < 0 {
        return Ok(());
    }
    let partitions: Vec<(kafka_wire::Uuid, i32)> =
        offsets.iter().filter_map(|o| Some((state.topics.get(&o.0)?.id, o.1))).collect();
    consumer.validate_commit(&r.member_id, r.generation_id_or_member_epoch, true, &partitions).map_err(|code| {
        if code == ErrorCode::STALE_MEMBER_EPOCH {
            ErrorCode::ILLEGAL_GENERATION
        } else {
            code
        }
    })
}

pub(crate) fn end_txn(ctx: &Ctx<'_>, r: &end_txn::Request) -> end_txn::Response {
    let mut state = ctx.shared.state();
    // v5+ is transaction version 2: every end bumps the epoch, and the answer carries it.
    let bump = end_txn::Response::PRODUCER_ID_VERSIONS.contains(ctx.version);
    let result = if let Some(code) = ctx.forced {
        Err(code)
    } else if !coordinates(ctx, &state, &r.transactional_id) {
        Err(ErrorCode::NOT_COORDINATOR)
    } else {
        state.txn_end(&r.transactional_id, r.producer_id, r.producer_epoch, r.committed, bump)
    };
    drop(state);
    ctx.shared.notify_changed();
    let (error_code, (producer_id, producer_epoch)) = match result {
        Ok(ids) => (ErrorCode::NONE, ids),
        Err(code) => (code, (-1, -1)),
    };
    end_txn::Response { error_code, producer_id, producer_epoch, ..Default::default() }
}

pub(crate) fn describe_producers(ctx: &Ctx<'_>, r: &describe_producers::Request) -> describe_producers::Response {
    let state = ctx.shared.state();
    let topics = r
        .topics
        .iter()
        .map(|t| {
            let topic = state.topics.get(&*t.name);
            let partitions = t
                .partition_indexes
                .iter()
                .map(|&index| {
                    let mut out =
                        describe_producers::PartitionResponse { partition_index: index, ..Default::default() };
                    let partition = topic.and_then(|t| usize::try_from(index).ok().and_then(|i| t.partitions.get(i)));
                    out.error_code = match (ctx.forced, partition) {
                        (Some(code), _) => code,
                        (None, None) => ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                        (None, Some(p)) if p.leader != ctx.broker => ErrorCode::NOT_LEADER_OR_FOLLOWER,
                        (None, Some(p)) => {
                            out.active_producers = p
                                .log
                                .producers()
                                .into_iter()
                                .map(|v| describe_producers::ProducerState {
                                    producer_id: v.producer_id,
                                    producer_epoch: i32::from(v.epoch),
                                    last_sequence: v.last_sequence,
                                    last_timestamp: v.last_timestamp,
                                    coordinator_epoch: v.coordinator_epoch,
                                    current_txn_start_offset: v.current_txn_start_offset,
                                    ..Default::default()
                                })
                                .collect();
                            ErrorCode::NONE
                        }
                    };
                    out
                })
                .collect();
            describe_producers::TopicResponse { name: t.name.clone(), partitions, ..Default::default() }
        })
        .collect();
    describe_producers::Response { topics, ..Default::default() }
}

pub(crate) fn list_transactions(ctx: &Ctx<'_>, r: &list_transactions::Request) -> list_transactions::Response {
    if let Some(code) = ctx.forced {
        return list_transactions::Response { error_code: code, ..Default::default() };
    }
    let pattern = match r.transactional_id_pattern.as_deref().filter(|p| !p.is_empty()) {
        // Kafka matches the whole id against the Java regular expression.
        Some(p) => match regex::Regex::new(&format!("^(?:{p})$")) {
            Ok(re) => Some(re),
            Err(_) => {
                return list_transactions::Response { error_code: ErrorCode::INVALID_REQUEST, ..Default::default() }
            }
        },
        None => None,
    };
    let unknown_state_filters: Vec<_> =
        r.state_filters.iter().filter(|s| !STATE_NAMES.contains(&&***s)).cloned().collect();
    let state = ctx.shared.state();
    let now = now_ms();
    let transaction_states = state
        .transactions
        .iter()
        .filter(|(id, _)| coordinates(ctx, &state, id))
        .filter(|(_, t)| r.state_filters.is_empty() || r.state_filters.iter().any(|s| **s == *t.state.name()))
        .filter(|(_, t)| r.producer_id_filters.is_empty() || r.producer_id_filters.contains(&t.producer_id))
        // Kafka's duration filter: transactions running at least that long (Ongoing ones).
        .filter(|(_, t)| {
            r.duration_filter < 0 || (t.state == TxnState::Ongoing && now - t.start_ms >= r.duration_filter)
        })
        .filter(|(id, _)| pattern.as_ref().is_none_or(|re| re.is_match(id)))
        .map(|(id, t)| list_transactions::TransactionState {
            transactional_id: id.as_str().into(),
            producer_id: t.producer_id,
            transaction_state: t.state.name().into(),
            ..Default::default()
        })
        .collect();
    list_transactions::Response { unknown_state_filters, transaction_states, ..Default::default() }
}

pub(crate) fn describe_transactions(
    ctx: &Ctx<'_>,
    r: &describe_transactions::Request,
) -> describe_transactions::Response {
    let state = ctx.shared.state();
    let transaction_states = r
        .transactional_ids
        .iter()
        .map(|id| {
            let mut out =
                describe_transactions::TransactionState { transactional_id: id.clone(), ..Default::default() };
            out.error_code = if let Some(code) = ctx.forced {
                code
            } else if id.is_empty() {
                ErrorCode::INVALID_REQUEST
            } else if !coordinates(ctx, &state, id) {
                ErrorCode::NOT_COORDINATOR
            } else if let Some(t) = state.transactions.get(&**id) {
                out.transaction_state = t.state.name().into();
                out.transaction_timeout_ms = t.timeout_ms;
                out.transaction_start_time_ms = t.start_ms;
                out.producer_id = t.producer_id;
                out.producer_epoch = t.producer_epoch;
                for (topic, partition) in &t.partitions {
                    match out.topics.iter_mut().find(|d| *d.topic == **topic) {
                        Some(d) => d.partitions.push(*partition),
                        None => out.topics.push(describe_transactions::TopicData {
                            topic: topic.as_str().into(),
                            partitions: [*partition].into_iter().collect(),
                            ..Default::default()
                        }),
                    }
                }
                ErrorCode::NONE
            } else {
                ErrorCode::TRANSACTIONAL_ID_NOT_FOUND
            };
            out
        })
        .collect();
    describe_transactions::Response { transaction_states, ..Default::default() }
}

/// OffsetFetch as the group handlers answer it, then, with `require_stable`, every partition
/// whose offset an open transaction holds answered UNSTABLE_OFFSET_COMMIT with offset -1.
pub(crate) fn offset_fetch(ctx: &Ctx<'_>, r: &offset_fetch::Request) -> offset_fetch::Response {
    let mut response = super::groups::offset_fetch(ctx, r);
    if !r.require_stable {
        return response;
    }
    let state = ctx.shared.state();
    let unstable = |group: &str, topic: &str, partition: i32| state.txn_offset_pending(group, topic, partition);
    for t in &mut response.topics {
        for p in &mut t.partitions {
            if !p.error_code.is_err() && unstable(&r.group_id, &t.name, p.partition_index) {
                p.error_code = ErrorCode::UNSTABLE_OFFSET_COMMIT;
                p.committed_offset = -1;
                p.committed_leader_epoch = -1;
                p.metadata = Some("".into());
            }
        }
    }
    for g in &mut response.groups {
        for t in &mut g.topics {
            let name = if t.name.is_empty() {
                state.topic_name(t.topic_id).unwrap_or("").to_owned()
            } else {
                t.name.to_string()
            };
            for p in &mut t.partitions {
                if !p.error_code.is_err() && unstable(&g.group_id, &name, p.partition_index) {
                    p.error_code = ErrorCode::UNSTABLE_OFFSET_COMMIT;
                    p.committed_offset = -1;
                    p.committed_leader_epoch = -1;
                    p.metadata = Some("".into());
                }
            }
        }
    }
    response
}
