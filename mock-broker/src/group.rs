//! Consumer groups with Kafka's classic protocol: JoinGroup/SyncGroup rebalances with a
//! leader that computes the assignment, heartbeats and session expiry, LeaveGroup, static
//! membership, and committed offsets.
//!
//! Requests that wait (a JoinGroup until the rebalance completes, a follower's SyncGroup until
//! the leader sends the assignment) get a [`Reply::Later`] receiver; the state machine answers
//! through it, so no lock is held while a connection waits.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bytes::Bytes;
use kafka_wire::ErrorCode;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::state::{random_uuid, Settings};

/// The largest committed-offset metadata string (`offset.metadata.max.bytes`).
const MAX_OFFSET_METADATA: usize = 4096;

/// An answer now, or one to wait for.
#[derive(Debug)]
pub(crate) enum Reply<T> {
    Now(T),
    Later(oneshot::Receiver<T>),
}

/// The states of a classic group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
}

/// What a JoinGroup answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct JoinResult {
    pub(crate) error: ErrorCode,
    pub(crate) generation: i32,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) leader: String,
    pub(crate) member_id: String,
    /// (member id, group instance id, metadata): for the leader only.
    pub(crate) members: Vec<(String, Option<String>, Bytes)>,
}

impl JoinResult {
    pub(crate) fn error(error: ErrorCode, member_id: &str) -> Self {
        JoinResult { error, generation: -1, member_id: member_id.to_owned(), ..Default::default() }
    }
}

/// What a SyncGroup answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SyncResult {
    pub(crate) error: ErrorCode,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) assignment: Bytes,
}

impl SyncResult {
    pub(crate) fn error(error: ErrorCode) -> Self {
        SyncResult { error, ..Default::default() }
    }
}

/// A JoinGroup request, whatever its version.
#[derive(Debug, Clone, Default)]
pub(crate) struct JoinRequest {
    pub(crate) group_id: String,
    pub(crate) member_id: String,
    pub(crate) instance_id: Option<String>,
    pub(crate) session_timeout_ms: i32,
    pub(crate) rebalance_timeout_ms: i32,
    pub(crate) protocol_type: String,
    pub(crate) protocols: Vec<(String, Bytes)>,
    pub(crate) client_id: String,
    /// JoinGroup v4+: a new member first gets its id with MEMBER_ID_REQUIRED (KIP-394).
    pub(crate) require_known_member_id: bool,
}

/// A SyncGroup request, whatever its version.
#[derive(Debug, Clone, Default)]
pub(crate) struct SyncRequest {
    pub(crate) group_id: String,
    pub(crate) generation: i32,
    pub(crate) member_id: String,
    pub(crate) instance_id: Option<String>,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) assignments: Vec<(String, Bytes)>,
}

/// A committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Committed {
    pub(crate) offset: i64,
    pub(crate) leader_epoch: i32,
    pub(crate) metadata: Option<String>,
}

/// One offset of an OffsetCommit request: topic, partition, offset, leader epoch, metadata.
pub(crate) type CommitEntry = (String, i32, i64, i32, Option<String>);

#[derive(Debug)]
struct Member {
    instance_id: Option<String>,
    session_timeout: Duration,
    rebalance_timeout: Duration,
    protocols: Vec<(String, Bytes)>,
    assignment: Bytes,
    last_seen: Instant,
    join: Option<oneshot::Sender<JoinResult>>,
    sync: Option<oneshot::Sender<SyncResult>>,
    /// Join order: the first member leads.
    order: u64,
}

/// A consumer group.
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) state: GroupState,
    pub(crate) generation: i32,
    protocol_type: Option<String>,
    protocol: Option<String>,
    leader: Option<String>,
    members: BTreeMap<String, Member>,
    /// Member ids handed out with MEMBER_ID_REQUIRED, until they join or expire.
    pending: HashMap<String, Instant>,
    pub(crate) offsets: BTreeMap<(String, i32), Committed>,
    rebalance_deadline: Option<Instant>,
    delay_until: Option<Instant>,
    next_order: u64,
}

impl Group {
    pub(crate) fn new() -> Group {
        Group {
            state: GroupState::Empty,
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            pending: HashMap::new(),
            offsets: BTreeMap::new(),
            rebalance_deadline: None,
            delay_until: None,
            next_order: 0,
        }
    }

    /// The member ids, in join order.
    pub(crate) fn member_ids(&self) -> Vec<String> {
        let mut ids: Vec<(&u64, &String)> = self.members.iter().map(|(id, m)| (&m.order, id)).collect();
        ids.sort();
        ids.into_iter().map(|(_, id)| id.clone()).collect()
    }

    /// The protocols every member supports, in the order of the first member's preference.
    fn common_protocols(&self) -> Vec<String> {
        let mut members = self.members.values().collect::<Vec<_>>();
        members.sort_by_key(|m| m.order);
        let Some(first) = members.first() else { return Vec::new() };
        first
            .protocols
            .iter()
            .map(|(name, _)| name.clone())
            .filter(|name| members.iter().all(|m| m.protocols.iter().any(|(n, _)| n == name)))
            .collect()
    }

    /// JoinGroup.
    pub(crate) fn join(&mut self, req: JoinRequest, settings: &Settings, now: Instant) -> Reply<JoinResult> {
        let session = Duration::from_millis(req.session_timeout_ms.max(0) as u64);
        if req.session_timeout_ms < 0
            || session < settings.group_min_session_timeout
            || session > settings.group_max_session_timeout
        {
            return Reply::Now(JoinResult::error(ErrorCode::INVALID_SESSION_TIMEOUT, &req.member_id));
        }
        if req.protocol_type.is_empty() || req.protocols.is_empty() {
            return Reply::Now(JoinResult::error(ErrorCode::INCONSISTENT_GROUP_PROTOCOL, &req.member_id));
        }
        if !self.members.is_empty() {
            let common = self.common_protocols();
            let compatible = self.protocol_type.as_deref() == Some(req.protocol_type.as_str())
                && req.protocols.iter().any(|(name, _)| common.contains(name));
            if !compatible {
                return Reply::Now(JoinResult::error(ErrorCode::INCONSISTENT_GROUP_PROTOCOL, &req.member_id));
            }
        }
        let rebalance =
            if req.rebalance_timeout_ms > 0 { Duration::from_millis(req.rebalance_timeout_ms as u64) } else { session };

        let member_id = if req.member_id.is_empty() {
            let prefix = if req.client_id.is_empty() { "member" } else { req.client_id.as_str() };
            let id = format!("{prefix}-{}", random_uuid());
            if let Some(instance) = &req.instance_id {
                // A static member restarting: it replaces its previous incarnation.
                let old = self.members.iter().find(|(_, m)| m.instance_id.as_ref() == Some(instance));
                if let Some(old_id) = old.map(|(id, _)| id.clone()) {
                    self.remove_member(&old_id, ErrorCode::FENCED_INSTANCE_ID);
                    if self.leader.as_deref() == Some(old_id.as_str()) {
                        self.leader = Some(id.clone());
                    }
                }
            } else if req.require_known_member_id {
                self.pending.insert(id.clone(), now + session);
                return Reply::Now(JoinResult::error(ErrorCode::MEMBER_ID_REQUIRED, &id));
            }
            id
        } else if self.pending.remove(&req.member_id).is_some() {
            req.member_id.clone()
        } else if let Some(member) = self.members.get(&req.member_id) {
            if member.instance_id != req.instance_id {
                return Reply::Now(JoinResult::error(ErrorCode::FENCED_INSTANCE_ID, &req.member_id));
            }
            req.member_id.clone()
        } else {
            return Reply::Now(JoinResult::error(ErrorCode::UNKNOWN_MEMBER_ID, &req.member_id));
        };

        let (tx, rx) = oneshot::channel();
        if let Some(member) = self.members.get_mut(&member_id) {
            // A known member joins again. With unchanged protocols and not leading, after the
            // rebalance completed, it just gets the current generation back.
            let unchanged = member.protocols == req.protocols;
            let is_leader = self.leader.as_deref() == Some(member_id.as_str());
            member.session_timeout = session;
            member.rebalance_timeout = rebalance;
            member.last_seen = now;
            if unchanged && !is_leader && matches!(self.state, GroupState::Stable | GroupState::CompletingRebalance) {
                return Reply::Now(self.join_result(&member_id));
            }
            member.protocols = req.protocols;
            member.join = Some(tx);
        } else {
            if self.members.is_empty() {
                self.protocol_type = Some(req.protocol_type.clone());
            }
            let order = self.next_order;
            self.next_order += 1;
            self.members.insert(
                member_id.clone(),
                Member {
                    instance_id: req.instance_id,
                    session_timeout: session,
                    rebalance_timeout: rebalance,
                    protocols: req.protocols,
                    assignment: Bytes::new(),
                    last_seen: now,
                    join: Some(tx),
                    sync: None,
                    order,
                },
            );
        }
        self.prepare_rebalance(settings, now);
        self.try_complete_join(now);
        Reply::Later(rx)
    }

    /// The JoinGroup answer of the current generation for `member_id`.
    fn join_result(&self, member_id: &str) -> JoinResult {
        let is_leader = self.leader.as_deref() == Some(member_id);
        let protocol = self.protocol.clone();
        let members = if is_leader {
            self.member_ids()
                .into_iter()
                .filter_map(|id| {
                    let m = self.members.get(&id)?;
                    let metadata = m
                        .protocols
                        .iter()
                        .find(|(n, _)| Some(n) == protocol.as_ref())
                        .map(|(_, md)| md.clone())
                        .unwrap_or_default();
                    Some((id, m.instance_id.clone(), metadata))
                })
                .collect()
        } else {
            Vec::new()
        };
        JoinResult {
            error: ErrorCode::NONE,
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: protocol,
            leader: self.leader.clone().unwrap_or_default(),
            member_id: member_id.to_owned(),
            members,
        }
    }

    /// Starts a rebalance (if none is under way): every member must join again.
    fn prepare_rebalance(&mut self, settings: &Settings, now: Instant) {
        if self.state == GroupState::PreparingRebalance {
            return;
        }
        for member in self.members.values_mut() {
            if let Some(tx) = member.sync.take() {
                let _ = tx.send(SyncResult::error(ErrorCode::REBALANCE_IN_PROGRESS));
            }
        }
        let was_empty = self.state == GroupState::Empty;
        self.state = GroupState::PreparingRebalance;
        let timeout = self.members.values().map(|m| m.rebalance_timeout).max().unwrap_or_default();
        self.rebalance_deadline = Some(now + timeout);
        self.delay_until = (was_empty && !settings.group_initial_rebalance_delay.is_zero())
            .then(|| now + settings.group_initial_rebalance_delay);
    }

    /// Completes the rebalance once every member joined (after the initial delay), or at the
    /// rebalance timeout without the members that did not.
    fn try_complete_join(&mut self, now: Instant) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        let all_joined = self.members.values().all(|m| m.join.is_some()) && self.pending.is_empty();
        let delay_over = self.delay_until.is_none_or(|t| now >= t);
        let timed_out = self.rebalance_deadline.is_some_and(|t| now >= t);
        if !((all_joined && delay_over) || timed_out) {
            return;
        }
        let late: Vec<String> =
            self.members.iter().filter(|(_, m)| m.join.is_none()).map(|(id, _)| id.clone()).collect();
        for id in late {
            self.remove_member(&id, ErrorCode::UNKNOWN_MEMBER_ID);
        }
        self.pending.clear();
        self.generation += 1;
        self.rebalance_deadline = None;
        self.delay_until = None;
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol = None;
            self.leader = None;
            return;
        }
        // Each member votes for its most preferred protocol that every member supports.
        let common = self.common_protocols();
        let mut votes: Vec<(usize, &String)> = common.iter().map(|p| (0, p)).collect();
        for m in self.members.values() {
            if let Some(choice) = m.protocols.iter().find(|(n, _)| common.contains(n)) {
                if let Some(v) = votes.iter_mut().find(|(_, p)| **p == choice.0) {
                    v.0 += 1;
                }
            }
        }
        let best = votes.iter().map(|v| v.0).max().unwrap_or(0);
        self.protocol = votes.iter().find(|v| v.0 == best).map(|v| v.1.clone());
        if !self.leader.as_ref().is_some_and(|l| self.members.contains_key(l)) {
            self.leader = self.member_ids().into_iter().next();
        }
        self.state = GroupState::CompletingRebalance;
        let ids = self.member_ids();
        for id in ids {
            let result = self.join_result(&id);
            if let Some(m) = self.members.get_mut(&id) {
                m.assignment = Bytes::new();
                m.last_seen = now;
                if let Some(tx) = m.join.take() {
                    let _ = tx.send(result);
                }
            }
        }
    }

    /// Removes a member, answering what it waits for with `error`.
    fn remove_member(&mut self, id: &str, error: ErrorCode) {
        if let Some(m) = self.members.remove(id) {
            if let Some(tx) = m.join {
                let _ = tx.send(JoinResult::error(error, id));
            }
            if let Some(tx) = m.sync {
                let _ = tx.send(SyncResult::error(error));
            }
        }
    }

    /// Checks member id, instance id and generation of a request of a member.
    fn check_member(&self, member_id: &str, instance_id: Option<&str>, generation: i32) -> Result<(), ErrorCode> {
        if self.state == GroupState::Empty {
            return Err(ErrorCode::UNKNOWN_MEMBER_ID);
        }
        let Some(member) = self.members.get(member_id) else { return Err(ErrorCode::UNKNOWN_MEMBER_ID) };
        if instance_id.is_some() && member.instance_id.as_deref() != instance_id {
            return Err(ErrorCode::FENCED_INSTANCE_ID);
        }
        if generation != self.generation {
            return Err(ErrorCode::ILLEGAL_GENERATION);
        }
        Ok(())
    }

    /// SyncGroup.
    pub(crate) fn sync(&mut self, req: SyncRequest, now: Instant) -> Reply<SyncResult> {
        if let Err(e) = self.check_member(&req.member_id, req.instance_id.as_deref(), req.generation) {
            return Reply::Now(SyncResult::error(e));
        }
        if req.protocol_type.as_ref().is_some_and(|t| Some(t) != self.protocol_type.as_ref())
            || req.protocol_name.as_ref().is_some_and(|n| Some(n) != self.protocol.as_ref())
        {
            return Reply::Now(SyncResult::error(ErrorCode::INCONSISTENT_GROUP_PROTOCOL));
        }
        let answer = |assignment: Bytes, group: &Group| SyncResult {
            error: ErrorCode::NONE,
            protocol_type: group.protocol_type.clone(),
            protocol_name: group.protocol.clone(),
            assignment,
        };
        match self.state {
            GroupState::Empty => Reply::Now(SyncResult::error(ErrorCode::UNKNOWN_MEMBER_ID)),
            GroupState::PreparingRebalance => Reply::Now(SyncResult::error(ErrorCode::REBALANCE_IN_PROGRESS)),
            GroupState::Stable => {
                let assignment = self.members.get(&req.member_id).map(|m| m.assignment.clone()).unwrap_or_default();
                Reply::Now(answer(assignment, self))
            }
            GroupState::CompletingRebalance => {
                let (tx, rx) = oneshot::channel();
                if let Some(m) = self.members.get_mut(&req.member_id) {
                    m.sync = Some(tx);
                    m.last_seen = now;
                }
                if self.leader.as_deref() == Some(req.member_id.as_str()) {
                    let assignments: HashMap<String, Bytes> = req.assignments.into_iter().collect();
                    self.state = GroupState::Stable;
                    let (protocol_type, protocol_name) = (self.protocol_type.clone(), self.protocol.clone());
                    for (id, m) in self.members.iter_mut() {
                        m.assignment = assignments.get(id).cloned().unwrap_or_default();
                        if let Some(tx) = m.sync.take() {
                            let _ = tx.send(SyncResult {
                                error: ErrorCode::NONE,
                                protocol_type: protocol_type.clone(),
                                protocol_name: protocol_name.clone(),
                                assignment: m.assignment.clone(),
                            });
                        }
                    }
                }
                Reply::Later(rx)
            }
        }
    }

    /// Heartbeat.
    pub(crate) fn heartbeat(
        &mut self,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        now: Instant,
    ) -> ErrorCode {
        if let Err(e) = self.check_member(member_id, instance_id, generation) {
            return e;
        }
        if let Some(m) = self.members.get_mut(member_id) {
            m.last_seen = now;
        }
        match self.state {
            GroupState::PreparingRebalance => ErrorCode::REBALANCE_IN_PROGRESS,
            _ => ErrorCode::NONE,
        }
    }

    /// LeaveGroup of (member id, group instance id) pairs: an error for each.
    pub(crate) fn leave(
        &mut self,
        members: &[(String, Option<String>)],
        settings: &Settings,
        now: Instant,
    ) -> Vec<ErrorCode> {
        let mut errors = Vec::with_capacity(members.len());
        let mut removed = false;
        for (member_id, instance_id) in members {
            let id = if member_id.is_empty() {
                instance_id.as_ref().and_then(|i| {
                    self.members.iter().find(|(_, m)| m.instance_id.as_ref() == Some(i)).map(|(id, _)| id.clone())
                })
            } else {
                Some(member_id.clone())
            };
            let error = match id.as_ref().and_then(|id| self.members.get(id).map(|m| (id, m))) {
                None => ErrorCode::UNKNOWN_MEMBER_ID,
                Some((_, m)) if instance_id.is_some() && m.instance_id != *instance_id => ErrorCode::FENCED_INSTANCE_ID,
                Some((id, _)) => {
                    let id = id.clone();
                    self.remove_member(&id, ErrorCode::UNKNOWN_MEMBER_ID);
                    removed = true;
                    ErrorCode::NONE
                }
            };
            errors.push(error);
        }
        if removed {
            self.prepare_rebalance(settings, now);
            self.try_complete_join(now);
        }
        errors
    }

    /// Timers: pending member ids and sessions expire, rebalances time out.
    pub(crate) fn tick(&mut self, settings: &Settings, now: Instant) {
        self.pending.retain(|_, deadline| *deadline > now);
        if matches!(self.state, GroupState::Stable | GroupState::CompletingRebalance) {
            let expired: Vec<String> = self
                .members
                .iter()
                .filter(|(_, m)| m.join.is_none() && m.sync.is_none() && m.last_seen + m.session_timeout <= now)
                .map(|(id, _)| id.clone())
                .collect();
            if !expired.is_empty() {
                for id in &expired {
                    self.remove_member(id, ErrorCode::UNKNOWN_MEMBER_ID);
                }
                self.prepare_rebalance(settings, now);
            }
        }
        self.try_complete_join(now);
    }

    /// OffsetCommit: the error of the whole request, or one per offset.
    pub(crate) fn commit(
        &mut self,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        offsets: &[CommitEntry],
        now: Instant,
    ) -> Vec<ErrorCode> {
        let check = if generation < 0 && self.state == GroupState::Empty {
            // A group that uses Kafka only to store offsets.
            Ok(())
        } else if self.state == GroupState::CompletingRebalance {
            Err(ErrorCode::REBALANCE_IN_PROGRESS)
        } else {
            self.check_member(member_id, instance_id, generation)
        };
        if let Err(e) = check {
            return vec![e; offsets.len()];
        }
        if let Some(m) = self.members.get_mut(member_id) {
            m.last_seen = now;
        }
        offsets
            .iter()
            .map(|(topic, partition, offset, leader_epoch, metadata)| {
                if metadata.as_ref().is_some_and(|m| m.len() > MAX_OFFSET_METADATA) {
                    return ErrorCode::OFFSET_METADATA_TOO_LARGE;
                }
                self.offsets.insert(
                    (topic.clone(), *partition),
                    Committed { offset: *offset, leader_epoch: *leader_epoch, metadata: metadata.clone() },
                );
                ErrorCode::NONE
            })
            .collect()
    }
}
