//! Share groups (KIP-932): ShareGroupHeartbeat and ShareGroupDescribe on the coordinator
//! ([`crate::share_group`]), ShareFetch and ShareAcknowledge on the partition leaders
//! ([`crate::share_partition`]), with share sessions as Kafka's `SharePartitionManager`
//! checks them and acknowledgement batches as `KafkaApis.validateAcknowledgementBatches` does.

use std::collections::BTreeMap;

use kafka_wire::share_fetch::{self, AcquiredRecords, ShareFetchableTopicResponse};
use kafka_wire::{share_acknowledge, share_group_describe, share_group_heartbeat, ErrorCode, Records, Uuid};
use tokio::time::Instant;

use super::groups::precheck;
use crate::context::{millis, wait_for_change, Ctx};
use crate::share_group::{
    self, HeartbeatRequest, HeartbeatResult, ShareGroup, ShareSession, FINAL_EPOCH, INITIAL_EPOCH,
};
use crate::share_partition::{AckType, AcquireLimits, SharePartition};
use crate::state::State;

/// `group.share.record.lock.duration.ms`, as ShareFetch and ShareAcknowledge answer it.
fn lock_ms(ctx: &Ctx<'_>) -> i32 {
    i32::try_from(ctx.shared.state().share.record_lock_duration.as_millis()).unwrap_or(i32::MAX)
}

pub(crate) fn share_group_heartbeat(
    ctx: &Ctx<'_>,
    r: &share_group_heartbeat::Request,
) -> share_group_heartbeat::Response {
    let req = HeartbeatRequest {
        member_id: r.member_id.to_string(),
        member_epoch: r.member_epoch,
        rack_id: r.rack_id.as_deref().map(str::to_owned),
        subscribed_topic_names: r.subscribed_topic_names.as_ref().map(|n| n.iter().map(|s| s.to_string()).collect()),
        client_id: ctx.client_id.to_owned(),
    };
    let result = heartbeat(ctx, &r.group_id, req);
    share_group_heartbeat::Response {
        error_code: result.error,
        error_message: result.message.map(Into::into),
        member_id: result.member_id.map(Into::into),
        member_epoch: result.member_epoch,
        heartbeat_interval_ms: result.heartbeat_interval_ms,
        assignment: result.assignment.map(|a| share_group_heartbeat::Assignment {
            topic_partitions: a
                .into_iter()
                .map(|(topic_id, ps)| share_group_heartbeat::TopicPartitions {
                    topic_id,
                    partitions: ps.into_iter().collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn heartbeat(ctx: &Ctx<'_>, group_id: &str, req: HeartbeatRequest) -> HeartbeatResult {
    if let Some(code) = ctx.forced {
        return HeartbeatResult { error: code, ..Default::default() };
    }
    if let Some(invalid) = share_group::validate(group_id, &req) {
        return invalid;
    }
    let mut state = ctx.shared.state();
    if let Some(code) = precheck(ctx, &state, group_id) {
        return HeartbeatResult { error: code, ..Default::default() };
    }
    if state.groups.contains_key(group_id) {
        return HeartbeatResult::error(
            ErrorCode::GROUP_ID_NOT_FOUND,
            format!("Group {group_id} is not a share group."),
        );
    }
    let topics = share_group::topics_view(&state);
    if !state.share.groups.contains_key(group_id) && req.member_epoch != 0 {
        let message = if req.member_epoch == share_group::LEAVE_GROUP_MEMBER_EPOCH {
            format!("Group {group_id} not found.")
        } else {
            format!("Share group {group_id} not found.")
        };
        return HeartbeatResult::error(ErrorCode::GROUP_ID_NOT_FOUND, message);
    }
    let group = state.share.groups.entry(group_id.to_owned()).or_default();
    let result = group.heartbeat(group_id, req, &topics, Instant::now());
    drop(state);
    ctx.shared.notify_changed();
    result
}

pub(crate) fn share_group_describe(ctx: &Ctx<'_>, r: &share_group_describe::Request) -> share_group_describe::Response {
    let state = ctx.shared.state();
    let groups = r
        .group_ids
        .iter()
        .map(|id| {
            let mut out = share_group_describe::DescribedGroup {
                group_id: id.clone(),
                authorized_operations: i32::MIN,
                ..Default::default()
            };
            if let Some(code) = precheck(ctx, &state, id) {
                out.error_code = code;
                return out;
            }
            match state.share.groups.get(&**id) {
                Some(g) => describe(&state, g, &mut out),
                None if state.groups.contains_key(&**id) => {
                    out.error_code = ErrorCode::GROUP_ID_NOT_FOUND;
                    out.error_message = Some(format!("Group {id} is not a share group.").into());
                }
                None => {
                    out.error_code = ErrorCode::GROUP_ID_NOT_FOUND;
                    out.error_message = Some(format!("Group {id} not found.").into());
                }
            }
            out
        })
        .collect();
    share_group_describe::Response { groups, ..Default::default() }
}

fn describe(state: &State, g: &ShareGroup, out: &mut share_group_describe::DescribedGroup) {
    out.group_state = g.state_name().into();
    out.group_epoch = g.group_epoch;
    out.assignment_epoch = g.assignment_epoch;
    out.assignor_name = "simple".into();
    out.members = g
        .members
        .values()
        .map(|m| share_group_describe::Member {
            member_id: m.member_id.clone().into(),
            rack_id: m.rack_id.clone().map(Into::into),
            member_epoch: m.member_epoch,
            client_id: m.client_id.clone().into(),
            client_host: m.client_host.clone().into(),
            subscribed_topic_names: m.subscribed_topic_names.iter().map(|n| n.clone().into()).collect(),
            assignment: share_group_describe::Assignment {
                topic_partitions: m
                    .assigned
                    .iter()
                    .filter_map(|(id, ps)| {
                        Some(share_group_describe::TopicPartitions {
                            topic_id: *id,
                            topic_name: state.topic_name(*id)?.into(),
                            partitions: ps.iter().copied().collect(),
                            ..Default::default()
                        })
                    })
                    .collect(),
                ..Default::default()
            },
            ..Default::default()
        })
        .collect();
}

/// One partition's acknowledgement batches, checked as `KafkaApis.validateAcknowledgementBatches`
/// does: ordered, non-overlapping ranges with one type or one per offset, of known types
/// (renew only where the request allows it). INVALID_REQUEST otherwise.
fn parse_acks(batches: &[(i64, i64, &[i8])], renew: bool) -> Result<Vec<(i64, i64, Vec<AckType>)>, ErrorCode> {
    let mut out = Vec::with_capacity(batches.len());
    let mut previous_last: Option<i64> = None;
    for &(first, last, types) in batches {
        let len = last.checked_sub(first).and_then(|d| d.checked_add(1)).unwrap_or(0);
        if first > last || previous_last.is_some_and(|p| first <= p) || types.is_empty() {
            return Err(ErrorCode::INVALID_REQUEST);
        }
        if types.len() != 1 && types.len() as i64 != len {
            return Err(ErrorCode::INVALID_REQUEST);
        }
        let mut parsed = Vec::with_capacity(types.len());
        for t in types {
            match AckType::from_code(*t) {
                Some(AckType::Renew) if !renew => return Err(ErrorCode::INVALID_REQUEST),
                Some(a) => parsed.push(a),
                None => return Err(ErrorCode::INVALID_REQUEST),
            }
        }
        previous_last = Some(last);
        out.push((first, last, parsed));
    }
    Ok(out)
}

/// What a partition of a ShareFetch or ShareAcknowledge answers.
#[derive(Debug, Default)]
struct PartitionOutcome {
    error: ErrorCode,
    ack_error: ErrorCode,
    leader: (i32, i32),
    acquired: Vec<AcquiredRecords>,
    records: Records,
}

/// The partition `(topic, index)` if it exists and this broker leads it; the error otherwise
/// (with the leader and its epoch, as Kafka answers NOT_LEADER_OR_FOLLOWER).
fn led_partition(ctx: &Ctx<'_>, state: &State, topic: Uuid, index: i32) -> Result<(), (ErrorCode, (i32, i32))> {
    let Some(name) = state.topic_name(topic) else { return Err((ErrorCode::UNKNOWN_TOPIC_ID, (-1, -1))) };
    let p = state.topics.get(name).and_then(|t| usize::try_from(index).ok().and_then(|i| t.partitions.get(i)));
    match p {
        None => Err((ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, (-1, -1))),
        Some(p) if p.leader != ctx.broker => Err((ErrorCode::NOT_LEADER_OR_FOLLOWER, (p.leader, p.leader_epoch))),
        Some(_) => Ok(()),
    }
}

/// Applies the acknowledgements of one partition.
fn acknowledge(
    ctx: &Ctx<'_>,
    state: &mut State,
    group_id: &str,
    member: &str,
    key: (Uuid, i32),
    acks: Result<Vec<(i64, i64, Vec<AckType>)>, ErrorCode>,
    now: Instant,
) -> PartitionOutcome {
    let mut out = PartitionOutcome::default();
    if let Err((code, leader)) = led_partition(ctx, state, key.0, key.1) {
        out.ack_error = code;
        out.leader = leader;
        return out;
    }
    let acks = match acks {
        Ok(a) => a,
        Err(code) => {
            out.ack_error = code;
            return out;
        }
    };
    let partition = state.share.groups.get_mut(group_id).and_then(|g| g.partitions.get_mut(&key));
    let Some(partition) = partition else {
        out.ack_error = ErrorCode::INVALID_RECORD_STATE;
        return out;
    };
    for (first, last, types) in acks {
        if let Err(code) = partition.acknowledge(member, first, last, &types, now) {
            out.ack_error = code;
        }
    }
    out
}

/// Kafka's share session rules (`SharePartitionManager.newContext`) for a request of `member`
/// with session epoch `epoch`: epoch 0 opens a session and carries no acknowledgements, epoch
/// -1 closes one and fetches nothing, any other must be the session's next epoch. The
/// top-level error, NONE when the request may go on.
fn session_check(group: Option<&ShareGroup>, member: &str, epoch: i32, has_acks: bool, fetches: bool) -> ErrorCode {
    let session = group.and_then(|g| g.sessions.get(member));
    match epoch {
        INITIAL_EPOCH if has_acks => ErrorCode::INVALID_REQUEST,
        INITIAL_EPOCH => ErrorCode::NONE,
        FINAL_EPOCH if fetches => ErrorCode::INVALID_REQUEST,
        _ => match session {
            None => ErrorCode::SHARE_SESSION_NOT_FOUND,
            Some(_) if epoch == FINAL_EPOCH => ErrorCode::NONE,
            Some(s) if s.next_epoch != epoch => ErrorCode::INVALID_SHARE_SESSION_EPOCH,
            Some(_) => ErrorCode::NONE,
        },
    }
}

fn next_epoch(epoch: i32) -> i32 {
    if epoch == i32::MAX {
        1
    } else {
        epoch + 1
    }
}

/// The group and member ids of a share request: INVALID_REQUEST without them.
fn ids<'a>(
    group_id: &'a Option<kafka_wire::ByteString>,
    member_id: &'a Option<kafka_wire::ByteString>,
) -> Option<(&'a str, &'a str)> {
    let g = group_id.as_deref().filter(|g| !g.is_empty())?;
    let m = member_id.as_deref().filter(|m| !m.is_empty())?;
    Some((g, m))
}

type Outcomes = BTreeMap<(Uuid, i32), PartitionOutcome>;

pub(crate) async fn share_fetch(ctx: &Ctx<'_>, r: &share_fetch::Request) -> share_fetch::Response {
    let lock_ms = lock_ms(ctx);
    // Kafka 4.4 answers a top-level error without the lock duration.
    let error = |code: ErrorCode| share_fetch::Response { error_code: code, ..Default::default() };
    if let Some(code) = ctx.forced {
        return error(code);
    }
    let Some((group_id, member)) = ids(&r.group_id, &r.member_id) else { return error(ErrorCode::INVALID_REQUEST) };
    let renew = r.is_renew_ack;
    let has_acks = r.topics.iter().flat_map(|t| &t.partitions).any(|p| !p.acknowledgement_batches.is_empty());
    let fetches = r.topics.iter().any(|t| !t.partitions.is_empty());
    let now = Instant::now();
    let mut outcomes = Outcomes::new();
    let fetch_keys: Vec<(Uuid, i32)>;
    {
        let mut state = ctx.shared.state();
        let code = session_check(state.share.groups.get(group_id), member, r.share_session_epoch, has_acks, fetches);
        if code.is_err() {
            return error(code);
        }
        let group = state.share.groups.entry(group_id.to_owned()).or_default();
        // The session: opened, updated or closed.
        let requested = r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| (t.topic_id, p.partition_index)));
        match r.share_session_epoch {
            INITIAL_EPOCH => {
                group.close_session(member);
                let session = ShareSession { next_epoch: 1, partitions: requested.collect() };
                fetch_keys = session.partitions.iter().copied().collect();
                group.sessions.insert(member.to_owned(), session);
            }
            FINAL_EPOCH => fetch_keys = Vec::new(),
            epoch => {
                let Some(session) = group.sessions.get_mut(member) else {
                    return error(ErrorCode::SHARE_SESSION_NOT_FOUND);
                };
                session.next_epoch = next_epoch(epoch);
                session.partitions.extend(requested);
                for f in &r.forgotten_topics_data {
                    for p in &f.partitions {
                        session.partitions.remove(&(f.topic_id, *p));
                    }
                }
                fetch_keys = session.partitions.iter().copied().collect();
            }
        }
        // Piggy-backed acknowledgements first.
        for t in &r.topics {
            for p in t.partitions.iter().filter(|p| !p.acknowledgement_batches.is_empty()) {
                let batches: Vec<(i64, i64, &[i8])> = p
                    .acknowledgement_batches
                    .iter()
                    .map(|b| (b.first_offset, b.last_offset, &b.acknowledge_types[..]))
                    .collect();
                let key = (t.topic_id, p.partition_index);
                let acked = acknowledge(ctx, &mut state, group_id, member, key, parse_acks(&batches, renew), now);
                outcomes.insert(key, acked);
            }
        }
        if r.share_session_epoch == FINAL_EPOCH {
            if let Some(g) = state.share.groups.get_mut(group_id) {
                g.close_session(member);
            }
        }
        // Each requested partition answers, even without records.
        for key in r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| (t.topic_id, p.partition_index))) {
            outcomes.entry(key).or_default();
        }
    }
    if !fetch_keys.is_empty() {
        let limits = AcquireLimits {
            max_records: i64::from(r.max_records.max(1)),
            max_bytes: usize::try_from(r.max_bytes).unwrap_or(0),
            // ShareAcquireMode 1 is record_limit (KIP-1206).
            strict: r.share_acquire_mode == 1,
        };
        let deadline = Instant::now() + millis(r.max_wait_ms);
        let mut changed = ctx.shared.changed.subscribe();
        loop {
            changed.borrow_and_update();
            let got = acquire(ctx, group_id, member, &fetch_keys, limits, &mut outcomes);
            if got || r.min_bytes <= 0 || has_acks || Instant::now() >= deadline {
                break;
            }
            wait_for_change(&mut changed, deadline).await;
        }
        ctx.shared.notify_changed();
    }
    let mut responses: Vec<ShareFetchableTopicResponse> = Vec::new();
    for ((topic_id, partition_index), o) in outcomes {
        let data = share_fetch::PartitionData {
            partition_index,
            error_code: o.error,
            acknowledge_error_code: o.ack_error,
            current_leader: share_fetch::LeaderIdAndEpoch {
                leader_id: o.leader.0,
                leader_epoch: o.leader.1,
                ..Default::default()
            },
            records: o.records,
            acquired_records: o.acquired,
            ..Default::default()
        };
        match responses.last_mut() {
            Some(t) if t.topic_id == topic_id => t.partitions.push(data),
            _ => responses.push(ShareFetchableTopicResponse { topic_id, partitions: vec![data], ..Default::default() }),
        }
    }
    share_fetch::Response { acquisition_lock_timeout_ms: lock_ms, responses, ..Default::default() }
}

/// One acquisition pass over `keys`: fills the outcomes; whether any record was acquired or a
/// partition answered an error.
fn acquire(
    ctx: &Ctx<'_>,
    group_id: &str,
    member: &str,
    keys: &[(Uuid, i32)],
    mut limits: AcquireLimits,
    outcomes: &mut Outcomes,
) -> bool {
    let mut state = ctx.shared.state();
    let now = Instant::now();
    let mut any = false;
    for key in keys {
        let out = outcomes.entry(*key).or_default();
        if let Err((code, leader)) = led_partition(ctx, &state, key.0, key.1) {
            out.error = code;
            out.leader = leader;
            any = true;
            continue;
        }
        if limits.max_records <= 0 || !out.acquired.is_empty() {
            continue;
        }
        let State { topics, share, .. } = &mut *state;
        let Some(log) = topics
            .values()
            .find(|t| t.id == key.0)
            .and_then(|t| usize::try_from(key.1).ok().and_then(|i| t.partitions.get(i)))
            .map(|p| &p.log)
        else {
            continue;
        };
        let group = share.groups.entry(group_id.to_owned()).or_default();
        let partition = group.partitions.entry(*key).or_insert_with(|| SharePartition::new(log.end));
        partition.lock_duration = share.record_lock_duration;
        partition.delivery_count_limit = share.delivery_count_limit;
        let (acquired, bytes) = partition.acquire(member, log, limits, now);
        let count: i64 = acquired.iter().map(|a| a.last_offset - a.first_offset + 1).sum();
        limits.max_records -= count;
        limits.max_bytes = limits.max_bytes.saturating_sub(bytes.len());
        if !acquired.is_empty() {
            any = true;
            out.records = Records::from_bytes(bytes);
            out.acquired = acquired
                .into_iter()
                .map(|a| AcquiredRecords {
                    first_offset: a.first_offset,
                    last_offset: a.last_offset,
                    delivery_count: a.delivery_count,
                    ..Default::default()
                })
                .collect();
        }
    }
    any
}

pub(crate) fn share_acknowledge(ctx: &Ctx<'_>, r: &share_acknowledge::Request) -> share_acknowledge::Response {
    let lock_ms = lock_ms(ctx);
    // Kafka 4.4 answers a top-level error without the lock duration.
    let error = |code: ErrorCode| share_acknowledge::Response { error_code: code, ..Default::default() };
    if let Some(code) = ctx.forced {
        return error(code);
    }
    let Some((group_id, member)) = ids(&r.group_id, &r.member_id) else { return error(ErrorCode::INVALID_REQUEST) };
    let epoch = r.share_session_epoch;
    let now = Instant::now();
    let mut state = ctx.shared.state();
    // ShareAcknowledge never opens a session.
    let code = if epoch == INITIAL_EPOCH {
        ErrorCode::INVALID_SHARE_SESSION_EPOCH
    } else {
        session_check(state.share.groups.get(group_id), member, epoch, true, false)
    };
    if code.is_err() {
        return error(code);
    }
    if let Some(s) = state.share.groups.get_mut(group_id).and_then(|g| g.sessions.get_mut(member)) {
        if epoch != FINAL_EPOCH {
            s.next_epoch = next_epoch(epoch);
        }
    }
    let mut responses = Vec::with_capacity(r.topics.len());
    for t in &r.topics {
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for p in &t.partitions {
            let batches: Vec<(i64, i64, &[i8])> = p
                .acknowledgement_batches
                .iter()
                .map(|b| (b.first_offset, b.last_offset, &b.acknowledge_types[..]))
                .collect();
            let key = (t.topic_id, p.partition_index);
            let o = acknowledge(ctx, &mut state, group_id, member, key, parse_acks(&batches, r.is_renew_ack), now);
            partitions.push(share_acknowledge::PartitionData {
                partition_index: p.partition_index,
                error_code: o.ack_error,
                current_leader: share_acknowledge::LeaderIdAndEpoch {
                    leader_id: o.leader.0,
                    leader_epoch: o.leader.1,
                    ..Default::default()
                },
                ..Default::default()
            });
        }
        responses.push(share_acknowledge::ShareAcknowledgeTopicResponse {
            topic_id: t.topic_id,
            partitions,
            ..Default::default()
        });
    }
    if epoch == FINAL_EPOCH {
        if let Some(g) = state.share.groups.get_mut(group_id) {
            g.close_session(member);
        }
    }
    drop(state);
    ctx.shared.notify_changed();
    share_acknowledge::Response { acquisition_lock_timeout_ms: lock_ms, responses, ..Default::default() }
}
