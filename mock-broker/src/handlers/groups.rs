//! The classic consumer group protocol on the coordinator: JoinGroup v2-9, SyncGroup v0-5,
//! Heartbeat v0-4, LeaveGroup v0-5, OffsetCommit v2-9 and OffsetFetch v1-9.
#![allow(clippy::field_reassign_with_default)]

use kafka_wire::{heartbeat, join_group, leave_group, offset_commit, offset_fetch, sync_group, AnyResponse, ErrorCode};
use tokio::time::Instant;

use crate::compat::{owned, ListField, StrField};
use crate::group::{CommitEntry, Group, JoinRequest, JoinResult, Reply, SyncRequest, SyncResult};
use crate::server::Ctx;
use crate::state::State;

/// The error every group request gets before reaching the group, if any: an injected one,
/// an empty group id, or a request to a broker that does not coordinate the group.
fn precheck(ctx: &Ctx<'_>, state: &State, group_id: &str) -> Option<ErrorCode> {
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

// ---- JoinGroup ----

macro_rules! read_join {
    ($r:ident, $v:literal, [$($f:ident)*]) => {{
        #[allow(unused_mut)]
        let mut req = JoinRequest {
            group_id: $r.group_id.to_string(),
            member_id: $r.member_id.to_string(),
            instance_id: None,
            session_timeout_ms: $r.session_timeout_ms,
            rebalance_timeout_ms: $r.rebalance_timeout_ms,
            protocol_type: $r.protocol_type.to_string(),
            protocols: $r.protocols.iter().map(|p| (p.name.to_string(), p.metadata.clone())).collect(),
            client_id: String::new(),
            require_known_member_id: $v >= 4,
        };
        $( read_join!(@$f req $r); )*
        req
    }};
    (@instance $req:ident $r:ident) => { $req.instance_id = owned(&$r.group_instance_id); };
}

macro_rules! write_join {
    ($v:ident, $j:ident, [$($f:ident)*]) => {{
        use join_group::$v as m;
        let mut out = m::Response::default();
        out.throttle_time_ms = 0;
        out.error_code = $j.error.0;
        out.generation_id = $j.generation;
        out.protocol_name = StrField::opt($j.protocol_name.as_deref());
        out.leader = $j.leader.as_str().into();
        out.member_id = $j.member_id.as_str().into();
        out.members = $j
            .members
            .iter()
            .map(|(id, instance, metadata)| {
                let mut x = m::JoinGroupResponseMember::default();
                x.member_id = id.as_str().into();
                x.metadata = metadata.clone();
                let _ = instance;
                $( write_join!(@member $f x instance); )*
                x
            })
            .collect();
        $( write_join!(@top $f out $j); )*
        AnyResponse::from(out)
    }};
    (@member instance $x:ident $i:ident) => { $x.group_instance_id = $i.as_deref().map(Into::into); };
    (@member $other:ident $x:ident $i:ident) => {};
    (@top protocol_type $out:ident $j:ident) => { $out.protocol_type = $j.protocol_type.as_deref().map(Into::into); };
    (@top $other:ident $out:ident $j:ident) => {};
}

pub(crate) async fn join_group(ctx: &Ctx<'_>, request: &join_group::AnyRequest) -> Option<AnyResponse> {
    use join_group::AnyRequest as A;
    let mut req = match request {
        A::V2(r) => read_join!(r, 2, []),
        A::V3(r) => read_join!(r, 3, []),
        A::V4(r) => read_join!(r, 4, []),
        A::V5(r) => read_join!(r, 5, [instance]),
        A::V6(r) => read_join!(r, 6, [instance]),
        A::V7(r) => read_join!(r, 7, [instance]),
        A::V8(r) => read_join!(r, 8, [instance]),
        A::V9(r) => read_join!(r, 9, [instance]),
        _ => return None,
    };
    req.client_id = ctx.client_id.to_owned();
    let member_id = req.member_id.clone();
    let reply = {
        let mut state = ctx.shared.state();
        match precheck(ctx, &state, &req.group_id) {
            Some(code) => Reply::Now(JoinResult::error(code, &member_id)),
            None => {
                let settings = state.settings.clone();
                let group = state.groups.entry(req.group_id.clone()).or_insert_with(Group::new);
                group.join(req, &settings, Instant::now())
            }
        }
    };
    let j = match reply {
        Reply::Now(j) => j,
        Reply::Later(rx) => {
            rx.await.unwrap_or_else(|_| JoinResult::error(ErrorCode::REBALANCE_IN_PROGRESS, &member_id))
        }
    };
    Some(match request.version() {
        2 => write_join!(v2, j, []),
        3 => write_join!(v3, j, []),
        4 => write_join!(v4, j, []),
        5 => write_join!(v5, j, [instance]),
        6 => write_join!(v6, j, [instance]),
        7 => write_join!(v7, j, [instance protocol_type]),
        8 => write_join!(v8, j, [instance protocol_type]),
        9 => write_join!(v9, j, [instance protocol_type]),
        _ => return None,
    })
}

// ---- SyncGroup ----

macro_rules! read_sync {
    ($r:ident, [$($f:ident)*]) => {{
        #[allow(unused_mut)]
        let mut req = SyncRequest {
            group_id: $r.group_id.to_string(),
            generation: $r.generation_id,
            member_id: $r.member_id.to_string(),
            instance_id: None,
            protocol_type: None,
            protocol_name: None,
            assignments: $r.assignments.iter().map(|a| (a.member_id.to_string(), a.assignment.clone())).collect(),
        };
        $( read_sync!(@$f req $r); )*
        req
    }};
    (@instance $req:ident $r:ident) => { $req.instance_id = owned(&$r.group_instance_id); };
    (@protocol $req:ident $r:ident) => {
        $req.protocol_type = owned(&$r.protocol_type);
        $req.protocol_name = owned(&$r.protocol_name);
    };
}

macro_rules! write_sync {
    ($v:ident, $s:ident, [$($f:ident)*]) => {{
        use sync_group::$v as m;
        let mut out = m::Response::default();
        out.error_code = $s.error.0;
        out.assignment = $s.assignment.clone();
        $( write_sync!(@$f out $s); )*
        AnyResponse::from(out)
    }};
    (@throttle $out:ident $s:ident) => { $out.throttle_time_ms = 0; };
    (@protocol $out:ident $s:ident) => {
        $out.protocol_type = $s.protocol_type.as_deref().map(Into::into);
        $out.protocol_name = $s.protocol_name.as_deref().map(Into::into);
    };
}

pub(crate) async fn sync_group(ctx: &Ctx<'_>, request: &sync_group::AnyRequest) -> Option<AnyResponse> {
    use sync_group::AnyRequest as A;
    let req = match request {
        A::V0(r) => read_sync!(r, []),
        A::V1(r) => read_sync!(r, []),
        A::V2(r) => read_sync!(r, []),
        A::V3(r) => read_sync!(r, [instance]),
        A::V4(r) => read_sync!(r, [instance]),
        A::V5(r) => read_sync!(r, [instance protocol]),
        _ => return None,
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
    Some(match request.version() {
        0 => write_sync!(v0, s, []),
        1 => write_sync!(v1, s, [throttle]),
        2 => write_sync!(v2, s, [throttle]),
        3 => write_sync!(v3, s, [throttle]),
        4 => write_sync!(v4, s, [throttle]),
        5 => write_sync!(v5, s, [throttle protocol]),
        _ => return None,
    })
}

// ---- Heartbeat ----

pub(crate) fn heartbeat(ctx: &Ctx<'_>, request: &heartbeat::AnyRequest) -> Option<AnyResponse> {
    use heartbeat::AnyRequest as A;
    let (group_id, generation, member_id, instance_id) = match request {
        A::V0(r) => (&r.group_id, r.generation_id, &r.member_id, None),
        A::V1(r) => (&r.group_id, r.generation_id, &r.member_id, None),
        A::V2(r) => (&r.group_id, r.generation_id, &r.member_id, None),
        A::V3(r) => (&r.group_id, r.generation_id, &r.member_id, owned(&r.group_instance_id)),
        A::V4(r) => (&r.group_id, r.generation_id, &r.member_id, owned(&r.group_instance_id)),
        _ => return None,
    };
    let error = {
        let mut state = ctx.shared.state();
        match precheck(ctx, &state, group_id) {
            Some(code) => code,
            None => match state.groups.get_mut(&**group_id) {
                None => ErrorCode::UNKNOWN_MEMBER_ID,
                Some(g) => g.heartbeat(member_id, instance_id.as_deref(), generation, Instant::now()),
            },
        }
    };
    let error_code = error.0;
    Some(match request.version() {
        0 => heartbeat::v0::Response { error_code, ..Default::default() }.into(),
        1 => heartbeat::v1::Response { error_code, ..Default::default() }.into(),
        2 => heartbeat::v2::Response { error_code, ..Default::default() }.into(),
        3 => heartbeat::v3::Response { error_code, ..Default::default() }.into(),
        4 => heartbeat::v4::Response { error_code, ..Default::default() }.into(),
        _ => return None,
    })
}

// ---- LeaveGroup ----

macro_rules! write_leave_batch {
    ($v:ident, $members:ident, $errors:ident, $top:ident) => {{
        use leave_group::$v as m;
        let mut out = m::Response::default();
        out.error_code = $top.0;
        out.members = $members
            .iter()
            .zip(&$errors)
            .map(|((id, instance), error)| m::MemberResponse {
                member_id: id.as_str().into(),
                group_instance_id: instance.as_deref().map(Into::into),
                error_code: error.0,
                ..Default::default()
            })
            .collect();
        AnyResponse::from(out)
    }};
}

pub(crate) fn leave_group(ctx: &Ctx<'_>, request: &leave_group::AnyRequest) -> Option<AnyResponse> {
    use leave_group::AnyRequest as A;
    macro_rules! batch {
        ($members:expr) => {
            $members.iter().map(|m| (m.member_id.to_string(), owned(&m.group_instance_id))).collect()
        };
    }
    let (group_id, members) = match request {
        A::V0(r) => (&r.group_id, vec![(r.member_id.to_string(), None)]),
        A::V1(r) => (&r.group_id, vec![(r.member_id.to_string(), None)]),
        A::V2(r) => (&r.group_id, vec![(r.member_id.to_string(), None)]),
        A::V3(r) => (&r.group_id, batch!(r.members)),
        A::V4(r) => (&r.group_id, batch!(r.members)),
        A::V5(r) => (&r.group_id, batch!(r.members)),
        _ => return None,
    };
    let (top, errors) = {
        let mut state = ctx.shared.state();
        let settings = state.settings.clone();
        match precheck(ctx, &state, group_id) {
            Some(code) => (code, vec![code; members.len()]),
            None => match state.groups.get_mut(&**group_id) {
                None => (ErrorCode::NONE, vec![ErrorCode::UNKNOWN_MEMBER_ID; members.len()]),
                Some(g) => (ErrorCode::NONE, g.leave(&members, &settings, Instant::now())),
            },
        }
    };
    // Before v3 the one member's error is the response's.
    let single = if top.is_err() { top } else { errors.first().copied().unwrap_or(ErrorCode::NONE) };
    Some(match request.version() {
        0 => leave_group::v0::Response { error_code: single.0, ..Default::default() }.into(),
        1 => leave_group::v1::Response { error_code: single.0, ..Default::default() }.into(),
        2 => leave_group::v2::Response { error_code: single.0, ..Default::default() }.into(),
        3 => write_leave_batch!(v3, members, errors, top),
        4 => write_leave_batch!(v4, members, errors, top),
        5 => write_leave_batch!(v5, members, errors, top),
        _ => return None,
    })
}

// ---- OffsetCommit ----

/// `committed_leader_epoch` where the version has it (v6+).
trait CommittedEpoch {
    fn committed_epoch(&self) -> i32;
}
impl CommittedEpoch for offset_commit::v2::OffsetCommitRequestPartition {
    fn committed_epoch(&self) -> i32 {
        -1
    }
}
impl CommittedEpoch for offset_commit::v6::OffsetCommitRequestPartition {
    fn committed_epoch(&self) -> i32 {
        self.committed_leader_epoch
    }
}
impl CommittedEpoch for offset_commit::v8::OffsetCommitRequestPartition {
    fn committed_epoch(&self) -> i32 {
        self.committed_leader_epoch
    }
}

struct Commit {
    group_id: String,
    generation: i32,
    member_id: String,
    instance_id: Option<String>,
    offsets: Vec<CommitEntry>,
}

macro_rules! read_commit {
    ($r:ident, $instance:expr) => {
        Commit {
            group_id: $r.group_id.to_string(),
            generation: $r.generation_id_or_member_epoch,
            member_id: $r.member_id.to_string(),
            instance_id: $instance,
            offsets: $r
                .topics
                .iter()
                .flat_map(|t| {
                    t.partitions.iter().map(|p| {
                        (
                            t.name.to_string(),
                            p.partition_index,
                            p.committed_offset,
                            p.committed_epoch(),
                            owned(&p.committed_metadata),
                        )
                    })
                })
                .collect(),
        }
    };
}

macro_rules! write_commit {
    ($v:ident, $c:ident, $errors:ident) => {{
        use offset_commit::$v as m;
        let mut out = m::Response::default();
        let mut topics: Vec<m::OffsetCommitResponseTopic> = Vec::new();
        for ((topic, partition, ..), error) in $c.offsets.iter().zip(&$errors) {
            let entry = m::OffsetCommitResponsePartition { partition_index: *partition, error_code: error.0, ..Default::default() };
            match topics.iter_mut().find(|t| &*t.name == topic.as_str()) {
                Some(t) => t.partitions.push(entry),
                None => topics.push(m::OffsetCommitResponseTopic {
                    name: topic.as_str().into(),
                    partitions: vec![entry],
                    ..Default::default()
                }),
            }
        }
        out.topics = topics;
        write_commit!(@throttle $v out);
        AnyResponse::from(out)
    }};
    (@throttle v2 $out:ident) => {};
    (@throttle $v:ident $out:ident) => { $out.throttle_time_ms = 0; };
}

pub(crate) fn offset_commit(ctx: &Ctx<'_>, request: &offset_commit::AnyRequest) -> Option<AnyResponse> {
    use offset_commit::AnyRequest as A;
    let c = match request {
        A::V2(r) => read_commit!(r, None),
        A::V3(r) => read_commit!(r, None),
        A::V4(r) => read_commit!(r, None),
        A::V5(r) => read_commit!(r, None),
        A::V6(r) => read_commit!(r, None),
        A::V7(r) => read_commit!(r, owned(&r.group_instance_id)),
        A::V8(r) => read_commit!(r, owned(&r.group_instance_id)),
        A::V9(r) => read_commit!(r, owned(&r.group_instance_id)),
        _ => return None,
    };
    let errors = {
        let mut state = ctx.shared.state();
        match precheck(ctx, &state, &c.group_id) {
            Some(code) => vec![code; c.offsets.len()],
            None => {
                // Offsets of unknown topics are answered UNKNOWN_TOPIC_OR_PARTITION and not
                // stored; Kafka checks that before the group does.
                let known: Vec<bool> = c.offsets.iter().map(|o| state.topics.contains_key(&o.0)).collect();
                let offsets: Vec<CommitEntry> =
                    c.offsets.iter().zip(&known).filter(|(_, k)| **k).map(|(o, _)| o.clone()).collect();
                let now = Instant::now();
                let committed = match state.groups.get_mut(&c.group_id) {
                    Some(g) => g.commit(c.generation, &c.member_id, c.instance_id.as_deref(), &offsets, now),
                    // A group that only stores offsets; otherwise a member of a group the
                    // coordinator does not know (any more).
                    None if c.generation < 0 => {
                        let g = state.groups.entry(c.group_id.clone()).or_insert_with(Group::new);
                        g.commit(c.generation, &c.member_id, c.instance_id.as_deref(), &offsets, now)
                    }
                    None => vec![ErrorCode::ILLEGAL_GENERATION; offsets.len()],
                };
                let mut committed = committed.into_iter();
                known
                    .iter()
                    .map(|&k| {
                        if k {
                            committed.next().unwrap_or(ErrorCode::NONE)
                        } else {
                            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                        }
                    })
                    .collect()
            }
        }
    };
    Some(match request.version() {
        2 => write_commit!(v2, c, errors),
        3 => write_commit!(v3, c, errors),
        4 => write_commit!(v4, c, errors),
        5 => write_commit!(v5, c, errors),
        6 => write_commit!(v6, c, errors),
        7 => write_commit!(v7, c, errors),
        8 => write_commit!(v8, c, errors),
        9 => write_commit!(v9, c, errors),
        _ => return None,
    })
}

// ---- OffsetFetch ----

/// (group, requested topics and partitions; `None`: every committed offset).
type OffsetQuery = (String, Option<Vec<(String, Vec<i32>)>>);

/// A committed offset as OffsetFetch reports it: partition, offset, epoch, metadata, error.
type OffsetAnswer = (i32, i64, i32, Option<String>, ErrorCode);

struct GroupOffsets {
    group_id: String,
    error: ErrorCode,
    topics: Vec<(String, Vec<OffsetAnswer>)>,
}

fn fetch_offsets(ctx: &Ctx<'_>, queries: Vec<OffsetQuery>) -> Vec<GroupOffsets> {
    let state = ctx.shared.state();
    queries
        .into_iter()
        .map(|(group_id, topics)| {
            if let Some(error) = precheck(ctx, &state, &group_id) {
                let topics = topics
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(t, partitions)| {
                        (t, partitions.into_iter().map(|p| (p, -1, -1, Some(String::new()), ErrorCode::NONE)).collect())
                    })
                    .collect();
                return GroupOffsets { group_id, error, topics };
            }
            let group = state.groups.get(&group_id);
            let committed = |topic: &str, partition: i32| -> OffsetAnswer {
                match group.and_then(|g| g.offsets.get(&(topic.to_owned(), partition))) {
                    Some(c) => (partition, c.offset, c.leader_epoch, c.metadata.clone(), ErrorCode::NONE),
                    None => (partition, -1, -1, Some(String::new()), ErrorCode::NONE),
                }
            };
            let topics = match topics {
                Some(topics) => topics
                    .into_iter()
                    .map(|(t, partitions)| {
                        let answers = partitions.iter().map(|&p| committed(&t, p)).collect();
                        (t, answers)
                    })
                    .collect(),
                None => {
                    let mut all: Vec<(String, Vec<OffsetAnswer>)> = Vec::new();
                    for (topic, partition) in
                        group.map(|g| g.offsets.keys().cloned().collect::<Vec<_>>()).unwrap_or_default()
                    {
                        let answer = committed(&topic, partition);
                        match all.iter_mut().find(|(t, _)| *t == topic) {
                            Some((_, answers)) => answers.push(answer),
                            None => all.push((topic, vec![answer])),
                        }
                    }
                    all
                }
            };
            GroupOffsets { group_id, error: ErrorCode::NONE, topics }
        })
        .collect()
}

macro_rules! write_fetch_single {
    ($v:ident, $g:ident, [$($f:ident)*]) => {{
        use offset_fetch::$v as m;
        let mut out = m::Response::default();
        out.topics = $g
            .topics
            .iter()
            .map(|(name, partitions)| {
                let mut t = m::OffsetFetchResponseTopic::default();
                t.name = name.as_str().into();
                t.partitions = partitions
                    .iter()
                    .map(|(partition, offset, epoch, metadata, error)| {
                        let mut p = m::OffsetFetchResponsePartition::default();
                        p.partition_index = *partition;
                        p.committed_offset = *offset;
                        p.metadata = metadata.as_deref().map(Into::into);
                        p.error_code = error.0;
                        let _ = epoch;
                        $( write_fetch_single!(@partition $f p epoch); )*
                        p
                    })
                    .collect();
                t
            })
            .collect();
        $( write_fetch_single!(@top $f out $g); )*
        AnyResponse::from(out)
    }};
    (@partition epoch $p:ident $e:ident) => { $p.committed_leader_epoch = *$e; };
    (@partition $other:ident $p:ident $e:ident) => {};
    (@top error $out:ident $g:ident) => { $out.error_code = $g.error.0; };
    (@top throttle $out:ident $g:ident) => { $out.throttle_time_ms = 0; };
    (@top $other:ident $out:ident $g:ident) => {};
}

macro_rules! write_fetch_groups {
    ($v:ident, $groups:ident) => {{
        use offset_fetch::$v as m;
        let mut out = m::Response::default();
        out.groups = $groups
            .iter()
            .map(|g| m::OffsetFetchResponseGroup {
                group_id: g.group_id.as_str().into(),
                error_code: g.error.0,
                topics: g
                    .topics
                    .iter()
                    .map(|(name, partitions)| m::OffsetFetchResponseTopics {
                        name: name.as_str().into(),
                        partitions: partitions
                            .iter()
                            .map(|(partition, offset, epoch, metadata, error)| m::OffsetFetchResponsePartitions {
                                partition_index: *partition,
                                committed_offset: *offset,
                                committed_leader_epoch: *epoch,
                                metadata: metadata.as_deref().map(Into::into),
                                error_code: error.0,
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect();
        AnyResponse::from(out)
    }};
}

macro_rules! read_fetch_single {
    ($r:ident) => {
        vec![(
            $r.group_id.to_string(),
            $r.topics.items().map(|ts| ts.iter().map(|t| (t.name.to_string(), t.partition_indexes.to_vec())).collect()),
        )]
    };
}

macro_rules! read_fetch_groups {
    ($r:ident) => {
        $r.groups
            .iter()
            .map(|g| {
                (
                    g.group_id.to_string(),
                    g.topics
                        .items()
                        .map(|ts| ts.iter().map(|t| (t.name.to_string(), t.partition_indexes.to_vec())).collect()),
                )
            })
            .collect::<Vec<OffsetQuery>>()
    };
}

pub(crate) fn offset_fetch(ctx: &Ctx<'_>, request: &offset_fetch::AnyRequest) -> Option<AnyResponse> {
    use offset_fetch::AnyRequest as A;
    let queries: Vec<OffsetQuery> = match request {
        A::V1(r) => read_fetch_single!(r),
        A::V2(r) => read_fetch_single!(r),
        A::V3(r) => read_fetch_single!(r),
        A::V4(r) => read_fetch_single!(r),
        A::V5(r) => read_fetch_single!(r),
        A::V6(r) => read_fetch_single!(r),
        A::V7(r) => read_fetch_single!(r),
        A::V8(r) => read_fetch_groups!(r),
        A::V9(r) => read_fetch_groups!(r),
        _ => return None,
    };
    let mut groups = fetch_offsets(ctx, queries);
    if request.version() < 2 {
        // v1 has no top-level error: a group-level error goes to every requested partition.
        for g in &mut groups {
            if g.error.is_err() {
                let error = g.error;
                for (_, partitions) in &mut g.topics {
                    for p in partitions.iter_mut() {
                        p.4 = error;
                    }
                }
            }
        }
    }
    let single = groups.first().map_or_else(
        || GroupOffsets { group_id: String::new(), error: ErrorCode::NONE, topics: Vec::new() },
        |g| GroupOffsets { group_id: g.group_id.clone(), error: g.error, topics: g.topics.clone() },
    );
    Some(match request.version() {
        1 => write_fetch_single!(v1, single, []),
        2 => write_fetch_single!(v2, single, [error]),
        3 => write_fetch_single!(v3, single, [error throttle]),
        4 => write_fetch_single!(v4, single, [error throttle]),
        5 => write_fetch_single!(v5, single, [error throttle epoch]),
        6 => write_fetch_single!(v6, single, [error throttle epoch]),
        7 => write_fetch_single!(v7, single, [error throttle epoch]),
        8 => write_fetch_groups!(v8, groups),
        9 => write_fetch_groups!(v9, groups),
        _ => return None,
    })
}
