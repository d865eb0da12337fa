//! The classic consumer group protocol on the coordinator: JoinGroup, SyncGroup, Heartbeat,
//! LeaveGroup, OffsetCommit and OffsetFetch.

use kafka_wire::join_group::{self, JoinGroupResponseMember};
use kafka_wire::leave_group::{self, MemberResponse};
use kafka_wire::offset_commit::{self, OffsetCommitResponsePartition, OffsetCommitResponseTopic};
use kafka_wire::offset_fetch::{
    self, OffsetFetchResponseGroup, OffsetFetchResponsePartitions, OffsetFetchResponseTopics,
};
use kafka_wire::{heartbeat, sync_group, ErrorCode, Uuid};
use tokio::time::Instant;

use crate::context::Ctx;
use crate::group::{CommitEntry, JoinRequest, JoinResult, Reply, SyncRequest, SyncResult};
use crate::state::State;

/// The error every group request gets before reaching the group, if any: an injected one,
/// an empty group id, or a request to a broker that does not coordinate the group.
pub(super) fn precheck(ctx: &Ctx<'_>, state: &State, group_id: &str) -> Option<ErrorCode> {
    if let Some(code) = ctx.forced {
        return Some(code);
    }
    if group_id.is_empty() {
        return Some(ErrorCode::INVALID_GROUP_ID);
    }
    match state.coordinator(group_id) {
        Some(b) if b.id == ctx.broker => None,
        Some(_) => Some(ErrorCode::NOT_COORDINATOR),
        None => Some(ErrorCode::COORDINATOR_NOT_AVAILABLE),
    }
}

fn owned(s: &Option<kafka_wire::ByteString>) -> Option<String> {
    s.as_deref().map(str::to_owned)
}

pub(crate) async fn join_group(ctx: &Ctx<'_>, r: &join_group::Request) -> join_group::Response {
    let req = JoinRequest {
        group_id: r.group_id.to_string(),
        member_id: r.member_id.to_string(),
        instance_id: owned(&r.group_instance_id),
        session_timeout_ms: r.session_timeout_ms,
        rebalance_timeout_ms: r.rebalance_timeout_ms,
        protocol_type: r.protocol_type.to_string(),
        protocols: r.protocols.iter().map(|p| (p.name.to_string(), p.metadata.clone())).collect(),
        client_id: ctx.client_id.to_owned(),
        require_known_member_id: join_group::Request::REQUIRE_KNOWN_MEMBER_ID_VERSIONS.contains(ctx.version),
        supports_skip_assignment: join_group::Response::SKIP_ASSIGNMENT_VERSIONS.contains(ctx.version),
    };
    let member_id = req.member_id.clone();
    let reply = {
        let mut state = ctx.shared.state();
        match precheck(ctx, &state, &req.group_id) {
            Some(code) => Reply::Now(JoinResult::error(code, &member_id)),
            // A known member id for a group the coordinator does not know: rejected, and no
            // group is created (Kafka's `getOrMaybeCreateClassicGroup`).
            None if !member_id.is_empty() && !state.groups.contains_key(&req.group_id) => {
                Reply::Now(JoinResult::error(ErrorCode::UNKNOWN_MEMBER_ID, &member_id))
            }
            None => {
                let settings = state.settings.clone();
                state.group_or_new(&req.group_id).join(req, &settings, Instant::now())
            }
        }
    };
    let j = match reply {
        Reply::Now(j) => j,
        Reply::Later(rx) => {
            rx.await.unwrap_or_else(|_| JoinResult::error(ErrorCode::REBALANCE_IN_PROGRESS, &member_id))
        }
    };
    // Before ProtocolName became nullable, no protocol is the empty string (as Kafka's
    // JoinGroupResponse writes it).
    let nullable_name = join_group::Response::PROTOCOL_NAME_NULLABLE_VERSIONS.contains(ctx.version);
    let protocol_name = j.protocol_name.or_else(|| (!nullable_name).then(String::new));
    join_group::Response {
        error_code: j.error,
        generation_id: j.generation,
        protocol_type: j.protocol_type.map(Into::into),
        protocol_name: protocol_name.map(Into::into),
        leader: j.leader.into(),
        member_id: j.member_id.into(),
        skip_assignment: j.skip_assignment,
        members: j
            .members
            .into_iter()
            .map(|(id, instance, metadata)| JoinGroupResponseMember {
                member_id: id.into(),
                group_instance_id: instance.map(Into::into),
                metadata,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

pub(crate) async fn sync_group(ctx: &Ctx<'_>, r: &sync_group::Request) -> sync_group::Response {
    let req = SyncRequest {
        group_id: r.group_id.to_string(),
        generation: r.generation_id,
        member_id: r.member_id.to_string(),
        instance_id: owned(&r.group_instance_id),
        protocol_type: owned(&r.protocol_type),
        protocol_name: owned(&r.protocol_name),
        assignments: r.assignments.iter().map(|a| (a.member_id.to_string(), a.assignment.clone())).collect(),
    };
    let reply = {
        let mut state = ctx.shared.state();
        match precheck(ctx, &state, &req.group_id) {
            Some(code) => Reply::Now(SyncResult::error(code)),
            None => match state.groups.get_mut(&req.group_id) {
                None => Reply::Now(SyncResult::error(ErrorCode::UNKNOWN_MEMBER_ID)),
                Some(group) => group.sync(req, Instant::now()),
            },
        }
    };
    let s = match reply {
        Reply::Now(s) => s,
        Reply::Later(rx) => rx.await.unwrap_or_else(|_| SyncResult::error(ErrorCode::REBALANCE_IN_PROGRESS)),
    };
    sync_group::Response {
        error_code: s.error,
        protocol_type: s.protocol_type.map(Into::into),
        protocol_name: s.protocol_name.map(Into::into),
        assignment: s.assignment,
        ..Default::default()
    }
}

pub(crate) fn heartbeat(ctx: &Ctx<'_>, r: &heartbeat::Request) -> heartbeat::Response {
    let mut state = ctx.shared.state();
    let error_code = match precheck(ctx, &state, &r.group_id) {
        Some(code) => code,
        None => match state.groups.get_mut(&*r.group_id) {
            None => ErrorCode::UNKNOWN_MEMBER_ID,
            Some(g) => g.heartbeat(&r.member_id, r.group_instance_id.as_deref(), r.generation_id, Instant::now()),
        },
    };
    heartbeat::Response { error_code, ..Default::default() }
}

pub(crate) fn leave_group(ctx: &Ctx<'_>, r: &leave_group::Request) -> leave_group::Response {
    // One member before the batched form (KIP-345), many after.
    let batched = leave_group::Request::MEMBERS_VERSIONS.contains(ctx.version);
    let members: Vec<(String, Option<String>)> = if batched {
        r.members.iter().map(|m| (m.member_id.to_string(), owned(&m.group_instance_id))).collect()
    } else {
        vec![(r.member_id.to_string(), None)]
    };
    let (top, errors) = {
        let mut state = ctx.shared.state();
        let settings = state.settings.clone();
        match precheck(ctx, &state, &r.group_id) {
            Some(code) => (code, vec![code; members.len()]),
            None => match state.groups.get_mut(&*r.group_id) {
                None => (ErrorCode::NONE, vec![ErrorCode::UNKNOWN_MEMBER_ID; members.len()]),
                Some(g) => (ErrorCode::NONE, g.leave(&members, &settings, Instant::now())),
            },
        }
    };
    if !batched {
        // The one member's error is the response's.
        let error_code = if top.is_err() { top } else { errors[0] };
        return leave_group::Response { error_code, ..Default::default() };
    }
    leave_group::Response {
        error_code: top,
        members: members
            .into_iter()
            .zip(errors)
            .map(|((id, instance), error_code)| MemberResponse {
                member_id: id.into(),
                group_instance_id: instance.map(Into::into),
                error_code,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

pub(crate) fn offset_commit(ctx: &Ctx<'_>, r: &offset_commit::Request) -> offset_commit::Response {
    let mut state = ctx.shared.state();
    // Topics by name, or by id (v10+): an unknown id is answered per partition.
    let names: Vec<Option<String>> = r
        .topics
        .iter()
        .map(|t| {
            if t.topic_id == Uuid::ZERO {
                Some(t.name.to_string())
            } else {
                state.topic_name(t.topic_id).map(str::to_owned)
            }
        })
        .collect();
    // Offsets of unknown topics are answered UNKNOWN_TOPIC_OR_PARTITION and not stored; Kafka
    // (KafkaApis) checks that before the group coordinator sees the request.
    let known: Vec<bool> = names.iter().map(|n| n.as_ref().is_some_and(|n| state.topics.contains_key(n))).collect();
    let offsets: Vec<CommitEntry> = r
        .topics
        .iter()
        .zip(&names)
        .zip(&known)
        .filter(|(_, known)| **known)
        .filter_map(|((t, name), _)| name.as_ref().map(|n| (t, n)))
        .flat_map(|(t, name)| {
            t.partitions.iter().map(move |p| {
                let metadata = owned(&p.committed_metadata);
                (name.clone(), p.partition_index, p.committed_offset, p.committed_leader_epoch, metadata)
            })
        })
        .collect();
    let (generation, member_id, instance_id) =
        (r.generation_id_or_member_epoch, &*r.member_id, r.group_instance_id.as_deref());
    let topic_ids: std::collections::HashMap<String, Uuid> =
        offsets.iter().filter_map(|o| Some((o.0.clone(), state.topics.get(&o.0)?.id))).collect();
    let mut errors = match precheck(ctx, &state, &r.group_id) {
        Some(code) => vec![code; offsets.len()],
        None => {
            let now = Instant::now();
            // Members of a consumer group (KIP-848) commit with their member epoch (v9+).
            let v9 = offset_commit::Request::GROUP_ID_NOT_FOUND_VERSIONS.contains(ctx.version);
            match state.groups.get_mut(&*r.group_id) {
                Some(g) if g.consumer.is_some() => {
                    let partitions: Vec<(Uuid, i32)> =
                        offsets.iter().filter_map(|o| Some((topic_ids.get(&o.0).copied()?, o.1))).collect();
                    let check = g
                        .consumer
                        .as_ref()
                        .map_or(Ok(()), |c| c.validate_commit(member_id, generation, v9, &partitions));
                    match check {
                        Ok(()) => g.store_offsets(&offsets),
                        Err(e) => vec![e; offsets.len()],
                    }
                }
                Some(g) => g.commit(generation, member_id, instance_id, &offsets, now),
                // A group that only stores offsets; otherwise a member of a group the
                // coordinator does not know (any more).
                None if generation < 0 => {
                    state.group_or_new(&r.group_id).commit(generation, member_id, instance_id, &offsets, now)
                }
                // Kafka's `OffsetMetadataManager.validateOffsetCommit`.
                None if offset_commit::Request::GROUP_ID_NOT_FOUND_VERSIONS.contains(ctx.version) => {
                    vec![ErrorCode::GROUP_ID_NOT_FOUND; offsets.len()]
                }
                None => vec![ErrorCode::ILLEGAL_GENERATION; offsets.len()],
            }
        }
    }
    .into_iter();
    let topics = r
        .topics
        .iter()
        .zip(names.iter().zip(&known))
        .map(|(t, (name, known))| OffsetCommitResponseTopic {
            name: t.name.clone(),
            topic_id: t.topic_id,
            partitions: t
                .partitions
                .iter()
                .map(|p| OffsetCommitResponsePartition {
                    partition_index: p.partition_index,
                    error_code: match name {
                        Some(_) if *known => errors.next().unwrap_or(ErrorCode::NONE),
                        Some(_) => ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                        None => ErrorCode::UNKNOWN_TOPIC_ID,
                    },
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    offset_commit::Response { topics, ..Default::default() }
}

/// The committed offsets of a group: every one (`topics` null), or those asked for.
fn group_offsets(ctx: &Ctx<'_>, state: &State, g: &offset_fetch::OffsetFetchRequestGroup) -> OffsetFetchResponseGroup {
    let mut out = OffsetFetchResponseGroup { group_id: g.group_id.clone(), ..Default::default() };
    let group = state.groups.get(&*g.group_id);
    // A member of a consumer group (KIP-848) fetches with its member epoch; an error there
    // answers the group without topics.
    let member_error = group
        .and_then(|group| group.consumer.as_ref())
        .and_then(|consumer| consumer.validate_fetch(g.member_id.as_deref(), g.member_epoch).err());
    if let Some(code) = member_error.filter(|_| precheck(ctx, state, &g.group_id).is_none()) {
        out.error_code = code;
        return out;
    }
    let error = precheck(ctx, state, &g.group_id);
    let committed = |topic: Option<&str>, partition: i32| {
        let c = topic
            .and_then(|t| group.and_then(|g| g.offsets.get(&(t.to_owned(), partition))))
            .filter(|_| error.is_none());
        OffsetFetchResponsePartitions {
            partition_index: partition,
            committed_offset: c.map_or(-1, |c| c.offset),
            committed_leader_epoch: c.map_or(-1, |c| c.leader_epoch),
            metadata: Some(c.and_then(|c| c.metadata.as_deref()).unwrap_or("").into()),
            error_code: if topic.is_none() { ErrorCode::UNKNOWN_TOPIC_ID } else { ErrorCode::NONE },
            ..Default::default()
        }
    };
    out.error_code = error.unwrap_or(ErrorCode::NONE);
    out.topics = match &g.topics {
        Some(topics) => topics
            .iter()
            .map(|t| {
                let name = if t.topic_id == Uuid::ZERO { Some(&*t.name) } else { state.topic_name(t.topic_id) };
                OffsetFetchResponseTopics {
                    name: t.name.clone(),
                    topic_id: t.topic_id,
                    partitions: t.partition_indexes.iter().map(|&p| committed(name, p)).collect(),
                    ..Default::default()
                }
            })
            .collect(),
        None if error.is_some() => Vec::new(),
        None => {
            let mut all: Vec<OffsetFetchResponseTopics> = Vec::new();
            for (topic, partition) in group.map(|g| g.offsets.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                let answer = committed(Some(&topic), partition);
                match all.iter_mut().find(|t| *t.name == *topic) {
                    Some(t) => t.partitions.push(answer),
                    None => all.push(OffsetFetchResponseTopics {
                        topic_id: state.topics.get(&topic).map_or(Uuid::ZERO, |t| t.id),
                        name: topic.into(),
                        partitions: vec![answer],
                        ..Default::default()
                    }),
                }
            }
            all
        }
    };
    out
}

pub(crate) fn offset_fetch(ctx: &Ctx<'_>, r: &offset_fetch::Request) -> offset_fetch::Response {
    let state = ctx.shared.state();
    if offset_fetch::Request::GROUPS_VERSIONS.contains(ctx.version) {
        let groups = r.groups.iter().map(|g| group_offsets(ctx, &state, g)).collect();
        return offset_fetch::Response { groups, ..Default::default() };
    }
    // One group, the form before v8: the same answer, moved to the top level.
    let single = offset_fetch::OffsetFetchRequestGroup {
        group_id: r.group_id.clone(),
        topics: r.topics.as_ref().map(|ts| {
            ts.iter()
                .map(|t| offset_fetch::OffsetFetchRequestTopics {
                    name: t.name.clone(),
                    partition_indexes: t.partition_indexes.clone(),
                    ..Default::default()
                })
                .collect()
        }),
        ..Default::default()
    };
    let g = group_offsets(ctx, &state, &single);
    // Without a top-level error field, a group error goes to every requested partition.
    let top_error = offset_fetch::Response::ERROR_CODE_VERSIONS.contains(ctx.version);
    let partition_error = if top_error { ErrorCode::NONE } else { g.error_code };
    offset_fetch::Response {
        error_code: if top_error { g.error_code } else { ErrorCode::NONE },
        topics: g
            .topics
            .into_iter()
            .map(|t| offset_fetch::OffsetFetchResponseTopic {
                name: t.name,
                partitions: t
                    .partitions
                    .into_iter()
                    .map(|p| offset_fetch::OffsetFetchResponsePartition {
                        partition_index: p.partition_index,
                        committed_offset: p.committed_offset,
                        committed_leader_epoch: p.committed_leader_epoch,
                        metadata: p.metadata,
                        error_code: if partition_error.is_err() { partition_error } else { p.error_code },
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}
