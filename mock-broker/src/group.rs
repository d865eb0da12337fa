//! Consumer groups with Kafka's classic protocol, run as Kafka 4.4's group coordinator runs
//! them (`GroupMetadataManager` and `ClassicGroup` in the group-coordinator module):
//! JoinGroup/SyncGroup rebalances with a leader that computes the assignment, the delayed
//! initial rebalance, member ids handed out first (KIP-394), heartbeats and session expiry,
//! the rebalance and pending-sync timeouts, LeaveGroup, static membership, and committed
//! offsets.
//!
//! Requests that wait (a JoinGroup until the join phase completes, a follower's SyncGroup until
//! the leader sends the assignment) get a [`Reply::Later`] receiver; the state machine answers
//! through it, so no lock is held while a connection waits. Kafka's timers (heartbeat, join,
//! initial delay, pending sync) are deadlines here, checked by [`Group::tick`] every 10 ms.
//!
//! Every transition is recorded as a [`GroupEvent`]: tests wait on them
//! ([`MockCluster::wait_for_group_event`](crate::MockCluster::wait_for_group_event)) instead of
//! sleeping.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use kafka_wire::ErrorCode;
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

use crate::consumer_group::ConsumerGroup;
use crate::state::{random_uuid, Settings};

/// The largest committed-offset metadata string (`offset.metadata.max.bytes`).
const MAX_OFFSET_METADATA: usize = 4096;

/// How long the first JoinGroup of a new member may wait for the join phase before the member
/// is removed (Kafka's `classicGroupNewMemberJoinTimeoutMs`, 5 minutes): a client that gave up
/// on its JoinGroup must not hold up the group for ever.
const NEW_MEMBER_JOIN_TIMEOUT: Duration = Duration::from_secs(300);

/// The events kept per group (the oldest are dropped first).
const EVENTS_KEPT: usize = 4096;

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

/// Why a member left a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemovalReason {
    /// LeaveGroup (also for a member id handed out with MEMBER_ID_REQUIRED).
    LeaveGroup,
    /// No heartbeat, commit or group request within its session timeout (for a member id
    /// handed out with MEMBER_ID_REQUIRED: not used within the session timeout; for a new
    /// member: its first JoinGroup waited longer than the new-member join timeout, 5 minutes).
    SessionTimeout,
    /// It did not join again before the rebalance timeout of a rebalance.
    RebalanceTimeout,
    /// It did not send SyncGroup within the rebalance timeout after the join phase completed.
    SyncTimeout,
    /// A new incarnation of the static member (same group instance id) took its place.
    Fenced,
}

/// Something that happened to a consumer group, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupEvent {
    /// A member id was handed out with MEMBER_ID_REQUIRED (KIP-394): the member is pending
    /// until it joins with it.
    MemberIdRequired { member_id: String },
    /// A rebalance started: every member has to join again. `generation` is the generation it
    /// replaces.
    RebalanceStarted { generation: i32 },
    /// The join phase completed: `generation` has these members (in join order) and leader;
    /// no members and no leader when the group became empty.
    JoinCompleted { generation: i32, leader: Option<String>, members: Vec<String> },
    /// The leader's assignment arrived: the group is stable in `generation`.
    Stable { generation: i32 },
    /// A member (or a pending member id) left the group.
    MemberRemoved { member_id: String, reason: RemovalReason },
    /// A consumer group (KIP-848) moved to this group epoch (a member joined, left or
    /// changed its subscription, or a subscribed topic changed).
    GroupEpoch { epoch: i32 },
    /// A consumer group (KIP-848) computed its target assignment of this epoch.
    TargetAssignment { epoch: i32 },
    /// A member of a consumer group (KIP-848) moved to this member epoch.
    MemberEpoch { member_id: String, epoch: i32 },
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
    /// The leader keeps the assignment it has (KIP-814, JoinGroup v9+): a static leader that
    /// restarted while the group was stable.
    pub(crate) skip_assignment: bool,
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
    /// JoinGroup v9+: a restarted static leader can be told to skip the assignment (KIP-814).
    pub(crate) supports_skip_assignment: bool,
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
    /// Kafka's heartbeat timer: when it passes, the member is removed unless it waits for a
    /// JoinGroup or SyncGroup answer (and is not new).
    session_deadline: Instant,
    join: Option<oneshot::Sender<JoinResult>>,
    sync: Option<oneshot::Sender<SyncResult>>,
    /// Added during the current join phase (Kafka's `isNew`): waiting in JoinGroup does not
    /// keep its session, the new-member join timeout bounds that wait.
    is_new: bool,
    /// Join order: the first member leads.
    order: u64,
}

impl Member {
    /// Kafka's `hasSatisfiedHeartbeat`: a member waiting for a rebalance answer needs no
    /// heartbeat, unless it is new.
    fn heartbeat_satisfied(&self) -> bool {
        !self.is_new && (self.join.is_some() || self.sync.is_some())
    }
}

/// The delayed initial rebalance of an empty group (Kafka's
/// `tryCompleteInitialRebalanceElseSchedule`): the join phase completes when the delay runs
/// out; each time a new member joined during it, it is extended by up to another delay, until
/// the rebalance timeout is used up.
#[derive(Debug)]
struct InitialDelay {
    at: Instant,
    delay: Duration,
    remaining: Duration,
    new_member_added: bool,
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
    /// Member ids handed out with MEMBER_ID_REQUIRED, until they join, leave or expire (one
    /// session timeout).
    pending: HashMap<String, Instant>,
    pub(crate) offsets: BTreeMap<(String, i32), Committed>,
    /// Kafka's join timer (a rebalance that is not the initial one): the join phase completes
    /// at this instant without the members that did not join again.
    join_deadline: Option<Instant>,
    /// The initial rebalance's delay, while it runs.
    initial: Option<InitialDelay>,
    /// Members that have not sent SyncGroup since the join phase completed, and when they are
    /// removed for it (Kafka's pending sync: one rebalance timeout).
    pending_sync: BTreeSet<String>,
    sync_deadline: Option<Instant>,
    next_order: u64,
    events: VecDeque<GroupEvent>,
    /// Bumped on every event (see [`crate::MockCluster::wait_for_group_event`]).
    notify: watch::Sender<u64>,
    /// The group as a consumer group (KIP-848), if it is one; its committed offsets are
    /// `offsets` above.
    pub(crate) consumer: Option<ConsumerGroup>,
}

impl Group {
    /// A new, empty group; `notify` is bumped on each of its events.
    pub(crate) fn new(notify: watch::Sender<u64>) -> Group {
        Group {
            state: GroupState::Empty,
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            pending: HashMap::new(),
            offsets: BTreeMap::new(),
            join_deadline: None,
            initial: None,
            pending_sync: BTreeSet::new(),
            sync_deadline: None,
            next_order: 0,
            events: VecDeque::new(),
            notify,
            consumer: None,
        }
    }

    /// The member ids, in join order.
    pub(crate) fn member_ids(&self) -> Vec<String> {
        let mut ids: Vec<(&u64, &String)> = self.members.iter().map(|(id, m)| (&m.order, id)).collect();
        ids.sort();
        ids.into_iter().map(|(_, id)| id.clone()).collect()
    }

    /// The events so far, oldest first.
    pub(crate) fn events(&self) -> Vec<GroupEvent> {
        self.events.iter().cloned().collect()
    }

    pub(crate) fn event(&mut self, event: GroupEvent) {
        if self.events.len() == EVENTS_KEPT {
            self.events.pop_front();
        }
        self.events.push_back(event);
        self.notify.send_modify(|n| *n = n.wrapping_add(1));
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

    /// The group's rebalance timeout: the largest of its members' (Kafka's
    /// `ClassicGroup.rebalanceTimeoutMs`).
    fn rebalance_timeout(&self) -> Duration {
        self.members.values().map(|m| m.rebalance_timeout).max().unwrap_or_default()
    }

    /// Every member waits in JoinGroup and no member id is pending (Kafka's
    /// `hasAllMembersJoined`).
    fn all_joined(&self) -> bool {
        self.members.values().all(|m| m.join.is_some()) && self.pending.is_empty()
    }

    /// The member of a static group instance id.
    fn static_member(&self, instance_id: &str) -> Option<String> {
        self.members.iter().find(|(_, m)| m.instance_id.as_deref() == Some(instance_id)).map(|(id, _)| id.clone())
    }

    /// Kafka's `ClassicGroup.validateMember`: a group instance id must belong to this member
    /// id (FENCED_INSTANCE_ID otherwise, UNKNOWN_MEMBER_ID if nobody has it), and the member
    /// must exist.
    fn validate_member(&self, member_id: &str, instance_id: Option<&str>) -> Result<(), ErrorCode> {
        if let Some(instance) = instance_id {
            match self.static_member(instance) {
                None => return Err(ErrorCode::UNKNOWN_MEMBER_ID),
                Some(id) if id != member_id => return Err(ErrorCode::FENCED_INSTANCE_ID),
                Some(_) => {}
            }
        }
        if !self.members.contains_key(member_id) {
            return Err(ErrorCode::UNKNOWN_MEMBER_ID);
        }
        Ok(())
    }

    /// Member, instance id and generation of a SyncGroup or Heartbeat.
    fn check_member(&self, member_id: &str, instance_id: Option<&str>, generation: i32) -> Result<(), ErrorCode> {
        if self.state == GroupState::Empty {
            return Err(ErrorCode::UNKNOWN_MEMBER_ID);
        }
        self.validate_member(member_id, instance_id)?;
        if generation != self.generation {
            return Err(ErrorCode::ILLEGAL_GENERATION);
        }
        Ok(())
    }

    /// Restarts a member's session (a heartbeat, a commit, an answered rebalance).
    fn touch(&mut self, member_id: &str, now: Instant) {
        if let Some(m) = self.members.get_mut(member_id) {
            m.session_deadline = now + m.session_timeout;
        }
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
        // A consumer group (KIP-848) with members takes no classic member here (Kafka would
        // add it as a classic-protocol member of the consumer group); an empty one becomes a
        // classic group (Kafka's `maybeDeleteEmptyConsumerGroup`).
        match &self.consumer {
            Some(c) if !c.members.is_empty() => {
                return Reply::Now(JoinResult::error(ErrorCode::INCONSISTENT_GROUP_PROTOCOL, &req.member_id));
            }
            Some(_) => self.consumer = None,
            None => {}
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

        if req.member_id.is_empty() {
            // Kafka's `<group instance id or client id>-<java.util.UUID>` (`generateMemberId`):
            // the UUID in hex with dashes.
            let prefix = req.instance_id.as_deref().unwrap_or(&req.client_id);
            let uuid = random_uuid().as_u128();
            let id = format!(
                "{prefix}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                uuid >> 96,
                (uuid >> 80) & 0xffff,
                (uuid >> 64) & 0xffff,
                (uuid >> 48) & 0xffff,
                uuid & 0xffff_ffff_ffff
            );
            if let Some(instance) = req.instance_id.clone() {
                // A static member restarting: it replaces its previous incarnation.
                if let Some(old_id) = self.static_member(&instance) {
                    return self.replace_static_member(&old_id, &id, req, session, rebalance, settings, now);
                }
            } else if req.require_known_member_id {
                self.pending.insert(id.clone(), now + session);
                self.event(GroupEvent::MemberIdRequired { member_id: id.clone() });
                return Reply::Now(JoinResult::error(ErrorCode::MEMBER_ID_REQUIRED, &id));
            }
            let rx = self.add_member(&id, req, session, rebalance, now);
            self.maybe_prepare_rebalance_or_complete(settings, now);
            return Reply::Later(rx);
        }
        if self.pending.remove(&req.member_id).is_some() {
            // A pending member joins with the id it was given.
            let id = req.member_id.clone();
            let rx = self.add_member(&id, req, session, rebalance, now);
            self.maybe_prepare_rebalance_or_complete(settings, now);
            return Reply::Later(rx);
        }
        if let Err(e) = self.validate_member(&req.member_id, req.instance_id.as_deref()) {
            return Reply::Now(JoinResult::error(e, &req.member_id));
        }
        let member_id = req.member_id.clone();
        let is_leader = self.leader.as_deref() == Some(member_id.as_str());
        let unchanged = self.members.get(&member_id).is_some_and(|m| m.protocols == req.protocols);
        // A known member with unchanged metadata gets the current generation back: any member
        // while the assignment is awaited, a follower once the group is stable. The leader
        // joining a stable group, or a member with new metadata, starts a rebalance.
        let current = match self.state {
            GroupState::CompletingRebalance => unchanged,
            GroupState::Stable => unchanged && !is_leader,
            GroupState::PreparingRebalance => false,
            GroupState::Empty => return Reply::Now(JoinResult::error(ErrorCode::UNKNOWN_MEMBER_ID, &member_id)),
        };
        if current {
            let mut result = self.join_result(&member_id);
            if self.state == GroupState::Stable {
                result.members.clear();
            }
            return Reply::Now(result);
        }
        let (tx, rx) = oneshot::channel();
        if let Some(member) = self.members.get_mut(&member_id) {
            member.protocols = req.protocols;
            member.session_timeout = session;
            member.rebalance_timeout = rebalance;
            // A JoinGroup still waiting (the client gave up on it) is replaced.
            member.join = Some(tx);
        }
        self.maybe_prepare_rebalance_or_complete(settings, now);
        Reply::Later(rx)
    }

    /// A static member restarted (same group instance id, no member id): the new member id
    /// takes the old one's place, assignment and leadership, and the old incarnation's waiting
    /// JoinGroup or SyncGroup is answered FENCED_INSTANCE_ID (Kafka's
    /// `updateStaticMemberThenRebalanceOrCompleteJoin` and `ClassicGroup.replaceStaticMember`,
    /// KIP-345). In a stable group whose selected protocol stays, there is no rebalance: the
    /// member gets the current generation back at once, and from v9 a returning leader gets the
    /// members with SkipAssignment (KIP-814); before v9 it is named as leader only if it was
    /// not the leader (Kafka answers with the leader id from before the replacement). While
    /// the leader's assignment is awaited, the replacement starts a rebalance; while one is
    /// prepared, it joins it.
    #[allow(clippy::too_many_arguments)]
    fn replace_static_member(
        &mut self,
        old_id: &str,
        new_id: &str,
        req: JoinRequest,
        session: Duration,
        rebalance: Duration,
        settings: &Settings,
        now: Instant,
    ) -> Reply<JoinResult> {
        let previous_leader = self.leader.clone().unwrap_or_default();
        let Some(mut member) = self.members.remove(old_id) else {
            return Reply::Now(JoinResult::error(ErrorCode::UNKNOWN_MEMBER_ID, ""));
        };
        if let Some(tx) = member.join.take() {
            let _ = tx.send(JoinResult::error(ErrorCode::FENCED_INSTANCE_ID, old_id));
        }
        if let Some(tx) = member.sync.take() {
            let _ = tx.send(SyncResult::error(ErrorCode::FENCED_INSTANCE_ID));
        }
        let was_pending_sync = self.pending_sync.remove(old_id);
        if self.leader.as_deref() == Some(old_id) {
            self.leader = Some(new_id.to_owned());
        }
        self.event(GroupEvent::MemberRemoved { member_id: old_id.to_owned(), reason: RemovalReason::Fenced });
        member.protocols = req.protocols;
        member.session_timeout = session;
        member.rebalance_timeout = rebalance;
        member.session_deadline = now + session;
        member.is_new = false;
        self.members.insert(new_id.to_owned(), member);
        if was_pending_sync {
            self.pending_sync.insert(new_id.to_owned());
        }
        match self.state {
            GroupState::Stable if self.selected_protocol() == self.protocol => {
                let is_leader = self.leader.as_deref() == Some(new_id);
                let mut result = self.join_result(new_id);
                if req.supports_skip_assignment {
                    result.skip_assignment = is_leader;
                } else {
                    result.members.clear();
                    result.leader = previous_leader;
                }
                Reply::Now(result)
            }
            _ => {
                let (tx, rx) = oneshot::channel();
                if let Some(m) = self.members.get_mut(new_id) {
                    m.join = Some(tx);
                }
                match self.state {
                    GroupState::Stable => self.maybe_prepare_rebalance_or_complete(settings, now),
                    GroupState::CompletingRebalance => self.prepare_rebalance(settings, now),
                    _ => self.maybe_complete_join(now),
                }
                Reply::Later(rx)
            }
        }
    }

    /// The protocol the members would select now (Kafka's `ClassicGroup.selectProtocol`): each
    /// member votes for its most preferred protocol that every member supports.
    fn selected_protocol(&self) -> Option<String> {
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
        votes.iter().find(|v| v.0 == best).map(|v| v.1.clone())
    }

    /// Adds a member that waits in JoinGroup (Kafka's `addMemberThenRebalanceOrCompleteJoin`
    /// without the rebalance).
    fn add_member(
        &mut self,
        id: &str,
        req: JoinRequest,
        session: Duration,
        rebalance: Duration,
        now: Instant,
    ) -> oneshot::Receiver<JoinResult> {
        if let Some(initial) = self.initial.as_mut() {
            initial.new_member_added = true;
        }
        if self.members.is_empty() {
            self.protocol_type = Some(req.protocol_type.clone());
        }
        let (tx, rx) = oneshot::channel();
        let order = self.next_order;
        self.next_order += 1;
        self.members.insert(
            id.to_owned(),
            Member {
                instance_id: req.instance_id,
                session_timeout: session,
                rebalance_timeout: rebalance,
                protocols: req.protocols,
                assignment: Bytes::new(),
                session_deadline: now + NEW_MEMBER_JOIN_TIMEOUT,
                join: Some(tx),
                sync: None,
                is_new: true,
                order,
            },
        );
        if self.leader.is_none() {
            self.leader = Some(id.to_owned());
        }
        rx
    }

    /// The JoinGroup answer of the current generation for `member_id` (with the members for
    /// the leader).
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
            skip_assignment: false,
        }
    }

    /// Starts a rebalance if the group is not preparing one, else completes the join phase if
    /// it can (Kafka's `maybePrepareRebalanceOrCompleteJoin`).
    fn maybe_prepare_rebalance_or_complete(&mut self, settings: &Settings, now: Instant) {
        if self.state == GroupState::PreparingRebalance {
            self.maybe_complete_join(now);
        } else {
            self.prepare_rebalance(settings, now);
        }
    }

    /// Starts a rebalance: every member must join again (Kafka's `prepareRebalance`). Members
    /// waiting for an assignment get REBALANCE_IN_PROGRESS. The initial rebalance of an empty
    /// group waits for the initial delay; any other completes once every member joined, or
    /// at the rebalance timeout.
    fn prepare_rebalance(&mut self, settings: &Settings, now: Instant) {
        if self.state == GroupState::CompletingRebalance {
            let ids: Vec<String> = self.members.keys().cloned().collect();
            for id in ids {
                let Some(m) = self.members.get_mut(&id) else { continue };
                m.assignment = Bytes::new();
                if let Some(tx) = m.sync.take() {
                    let _ = tx.send(SyncResult::error(ErrorCode::REBALANCE_IN_PROGRESS));
                    m.session_deadline = now + m.session_timeout;
                }
            }
        }
        self.pending_sync.clear();
        self.sync_deadline = None;
        let initial = self.state == GroupState::Empty;
        self.state = GroupState::PreparingRebalance;
        self.event(GroupEvent::RebalanceStarted { generation: self.generation });
        if initial {
            let delay = settings.group_initial_rebalance_delay;
            self.initial = Some(InitialDelay {
                at: now + delay,
                delay,
                remaining: self.rebalance_timeout().saturating_sub(delay),
                new_member_added: false,
            });
            // Kafka's timer for a delay of zero runs right after this request.
            if delay.is_zero() {
                self.complete_join(now);
            }
        } else if self.all_joined() {
            self.complete_join(now);
        } else {
            self.join_deadline = Some(now + self.rebalance_timeout());
        }
    }

    /// Completes the join phase if every member joined again, except in the initial
    /// rebalance, which waits for its delay (Kafka's `maybeCompleteJoinPhase`).
    fn maybe_complete_join(&mut self, now: Instant) {
        if self.state == GroupState::PreparingRebalance && self.initial.is_none() && self.all_joined() {
            self.complete_join(now);
        }
    }

    /// Completes the join phase (Kafka's `completeClassicGroupJoin`): dynamic members that did
    /// not join again are removed, the generation moves on, and every waiting JoinGroup is
    /// answered. If no member joined (only static members that did not come back), the group
    /// waits another rebalance timeout instead.
    fn complete_join(&mut self, now: Instant) {
        self.join_deadline = None;
        self.initial = None;
        let late: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| m.join.is_none() && m.instance_id.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        for id in late {
            self.remove_member(&id, ErrorCode::UNKNOWN_MEMBER_ID, RemovalReason::RebalanceTimeout);
        }
        if !self.members.is_empty() && self.members.values().all(|m| m.join.is_none()) {
            self.join_deadline = Some(now + self.rebalance_timeout());
            return;
        }
        // A leader that did not join again is replaced by the first member that did.
        if self.leader.as_ref().and_then(|l| self.members.get(l)).is_none_or(|m| m.join.is_none()) {
            let ids = self.member_ids();
            self.leader = ids.into_iter().find(|id| self.members.get(id).is_some_and(|m| m.join.is_some()));
        }
        self.generation += 1;
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol = None;
            self.leader = None;
            self.event(GroupEvent::JoinCompleted { generation: self.generation, leader: None, members: Vec::new() });
            return;
        }
        self.protocol = self.selected_protocol();
        self.state = GroupState::CompletingRebalance;
        let ids = self.member_ids();
        for id in &ids {
            let result = self.join_result(id);
            if let Some(m) = self.members.get_mut(id) {
                m.assignment = Bytes::new();
                m.session_deadline = now + m.session_timeout;
                m.is_new = false;
                if let Some(tx) = m.join.take() {
                    let _ = tx.send(result);
                }
            }
            self.pending_sync.insert(id.clone());
        }
        self.sync_deadline = Some(now + self.rebalance_timeout());
        self.event(GroupEvent::JoinCompleted {
            generation: self.generation,
            leader: self.leader.clone(),
            members: ids,
        });
    }

    /// Removes a member, answering a JoinGroup it waits for with `error` (a SyncGroup too).
    /// The JoinGroup answer names no member id (Kafka's UNKNOWN_MEMBER_ID, ""), except for a
    /// fenced static member, which is told its old id (`ClassicGroup.replaceStaticMember`).
    fn remove_member(&mut self, id: &str, error: ErrorCode, reason: RemovalReason) {
        let Some(m) = self.members.remove(id) else { return };
        if let Some(tx) = m.join {
            let _ = tx.send(JoinResult::error(error, if reason == RemovalReason::Fenced { id } else { "" }));
        }
        if let Some(tx) = m.sync {
            let _ = tx.send(SyncResult::error(error));
        }
        self.pending_sync.remove(id);
        if self.leader.as_deref() == Some(id) {
            self.leader = self.member_ids().into_iter().next();
        }
        self.event(GroupEvent::MemberRemoved { member_id: id.to_owned(), reason });
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
        match self.state {
            GroupState::Empty => Reply::Now(SyncResult::error(ErrorCode::UNKNOWN_MEMBER_ID)),
            GroupState::PreparingRebalance => Reply::Now(SyncResult::error(ErrorCode::REBALANCE_IN_PROGRESS)),
            GroupState::Stable => {
                self.pending_sync.remove(&req.member_id);
                let assignment = self.members.get(&req.member_id).map(|m| m.assignment.clone()).unwrap_or_default();
                Reply::Now(SyncResult {
                    error: ErrorCode::NONE,
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: self.protocol.clone(),
                    assignment,
                })
            }
            GroupState::CompletingRebalance => {
                let (tx, rx) = oneshot::channel();
                if let Some(m) = self.members.get_mut(&req.member_id) {
                    m.sync = Some(tx);
                }
                self.pending_sync.remove(&req.member_id);
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
                            m.session_deadline = now + m.session_timeout;
                        }
                    }
                    self.event(GroupEvent::Stable { generation: self.generation });
                }
                Reply::Later(rx)
            }
        }
    }

    /// Heartbeat: restarts the member's session; REBALANCE_IN_PROGRESS tells it to join again.
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
        self.touch(member_id, now);
        match self.state {
            GroupState::PreparingRebalance => ErrorCode::REBALANCE_IN_PROGRESS,
            _ => ErrorCode::NONE,
        }
    }

    /// LeaveGroup of (member id, group instance id) pairs: an error for each. A member id
    /// still pending (KIP-394) leaves too; an empty member id names a static member by its
    /// instance id.
    pub(crate) fn leave(
        &mut self,
        members: &[(String, Option<String>)],
        settings: &Settings,
        now: Instant,
    ) -> Vec<ErrorCode> {
        let mut errors = Vec::with_capacity(members.len());
        let mut removed = false;
        for (member_id, instance_id) in members {
            let error = if member_id.is_empty() {
                match instance_id.as_deref().and_then(|i| self.static_member(i)) {
                    Some(id) => {
                        self.remove_member(&id, ErrorCode::UNKNOWN_MEMBER_ID, RemovalReason::LeaveGroup);
                        ErrorCode::NONE
                    }
                    None => ErrorCode::UNKNOWN_MEMBER_ID,
                }
            } else if self.pending.remove(member_id).is_some() {
                self.event(GroupEvent::MemberRemoved {
                    member_id: member_id.clone(),
                    reason: RemovalReason::LeaveGroup,
                });
                ErrorCode::NONE
            } else {
                match self.validate_member(member_id, instance_id.as_deref()) {
                    Ok(()) => {
                        self.remove_member(member_id, ErrorCode::UNKNOWN_MEMBER_ID, RemovalReason::LeaveGroup);
                        ErrorCode::NONE
                    }
                    Err(e) => e,
                }
            };
            removed |= error == ErrorCode::NONE;
            errors.push(error);
        }
        if removed {
            match self.state {
                GroupState::Stable | GroupState::CompletingRebalance => self.prepare_rebalance(settings, now),
                GroupState::PreparingRebalance => self.maybe_complete_join(now),
                GroupState::Empty => {}
            }
        }
        errors
    }

    /// Kafka's timers, at `now`: pending member ids and sessions expire, the initial delay,
    /// the join phase and the pending sync run out.
    pub(crate) fn tick(&mut self, settings: &Settings, now: Instant) {
        if let Some(consumer) = self.consumer.as_mut() {
            let mut events = Vec::new();
            consumer.tick(now, &mut events);
            for e in events {
                self.event(e);
            }
        }
        let expired: Vec<String> = self.pending.iter().filter(|(_, t)| **t <= now).map(|(id, _)| id.clone()).collect();
        for id in expired {
            self.pending.remove(&id);
            self.event(GroupEvent::MemberRemoved { member_id: id, reason: RemovalReason::SessionTimeout });
            // Kafka's `removePendingMemberAndUpdateClassicGroup`: also in the initial rebalance.
            if self.state == GroupState::PreparingRebalance && self.all_joined() {
                self.complete_join(now);
            }
        }

        let expired: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| m.session_deadline <= now && !m.heartbeat_satisfied())
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.remove_member(&id, ErrorCode::UNKNOWN_MEMBER_ID, RemovalReason::SessionTimeout);
            match self.state {
                GroupState::Stable | GroupState::CompletingRebalance => self.prepare_rebalance(settings, now),
                GroupState::PreparingRebalance if self.all_joined() => self.complete_join(now),
                _ => {}
            }
        }

        let mut initial_over = false;
        if let Some(initial) = self.initial.as_mut().filter(|i| i.at <= now) {
            if initial.new_member_added && !initial.remaining.is_zero() {
                // New members came during the delay: wait up to another delay for more.
                let delay = settings.group_initial_rebalance_delay.min(initial.remaining);
                initial.remaining = initial.remaining.saturating_sub(initial.delay);
                initial.delay = delay;
                initial.at = now + delay;
                initial.new_member_added = false;
            } else {
                initial_over = true;
            }
        }
        if initial_over {
            self.complete_join(now);
        }

        if self.state == GroupState::PreparingRebalance && self.join_deadline.is_some_and(|t| t <= now) {
            self.complete_join(now);
        }

        if self.sync_deadline.is_some_and(|t| t <= now) {
            self.sync_deadline = None;
            if matches!(self.state, GroupState::CompletingRebalance | GroupState::Stable)
                && !self.pending_sync.is_empty()
            {
                let late: Vec<String> = self.pending_sync.iter().cloned().collect();
                for id in late {
                    self.remove_member(&id, ErrorCode::UNKNOWN_MEMBER_ID, RemovalReason::SyncTimeout);
                }
                self.prepare_rebalance(settings, now);
            }
        }
    }

    /// OffsetCommit: the error of the whole request, or one per offset (Kafka's
    /// `ClassicGroup.validateOffsetCommit`: member and generation first, then
    /// REBALANCE_IN_PROGRESS while the group waits for the leader's assignment). A commit
    /// keeps the member's session while the group is stable or preparing a rebalance.
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
        } else if generation >= 0 || !member_id.is_empty() || instance_id.is_some() {
            self.validate_member(member_id, instance_id).and_then(|()| {
                if generation != self.generation {
                    Err(ErrorCode::ILLEGAL_GENERATION)
                } else if self.state == GroupState::CompletingRebalance {
                    Err(ErrorCode::REBALANCE_IN_PROGRESS)
                } else {
                    Ok(())
                }
            })
        } else {
            // No member id and no generation: only an empty group takes such a commit.
            Err(ErrorCode::UNKNOWN_MEMBER_ID)
        };
        if let Err(e) = check {
            return vec![e; offsets.len()];
        }
        if matches!(self.state, GroupState::Stable | GroupState::PreparingRebalance) {
            self.touch(member_id, now);
        }
        self.store_offsets(offsets)
    }

    /// Stores committed offsets: an error for each (OFFSET_METADATA_TOO_LARGE, else NONE).
    pub(crate) fn store_offsets(&mut self, offsets: &[CommitEntry]) -> Vec<ErrorCode> {
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

/// A member as DescribeGroups shows it (Kafka's `ClassicGroupMember.describe`).
#[derive(Debug, Clone)]
pub(crate) struct DescribedMember {
    pub(crate) member_id: String,
    pub(crate) instance_id: Option<String>,
    /// Its metadata for the group's protocol (empty when the group has none).
    pub(crate) metadata: Bytes,
    pub(crate) assignment: Bytes,
}

/// Read and delete accessors for the admin APIs (ListGroups, DescribeGroups, DeleteGroups,
/// OffsetDelete).
impl Group {
    /// The protocol type of the group's members (`None` until one joined).
    pub(crate) fn protocol_type(&self) -> Option<&str> {
        self.protocol_type.as_deref()
    }

    /// The protocol the group chose in its current generation, if any.
    pub(crate) fn protocol_name(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The members, in join order.
    pub(crate) fn described_members(&self) -> Vec<DescribedMember> {
        let mut members: Vec<(&u64, DescribedMember)> = self
            .members
            .iter()
            .map(|(id, m)| {
                let metadata = self
                    .protocol
                    .as_ref()
                    .and_then(|p| m.protocols.iter().find(|(name, _)| name == p))
                    .map(|(_, metadata)| metadata.clone())
                    .unwrap_or_default();
                let member = DescribedMember {
                    member_id: id.clone(),
                    instance_id: m.instance_id.clone(),
                    metadata,
                    assignment: m.assignment.clone(),
                };
                (&m.order, member)
            })
            .collect();
        members.sort_by_key(|(order, _)| **order);
        members.into_iter().map(|(_, m)| m).collect()
    }

    /// Whether the group is a consumer group (KIP-848): ListGroups gives its type as
    /// `consumer`, and its state and members are those of [`Group::consumer`].
    pub(crate) fn is_consumer_group(&self) -> bool {
        self.consumer.is_some()
    }

    /// Whether the group has no members, of either protocol (DeleteGroups answers
    /// NON_EMPTY_GROUP otherwise; Kafka's `validateDeleteGroup`).
    pub(crate) fn is_empty(&self) -> bool {
        self.state == GroupState::Empty && self.consumer.as_ref().is_none_or(|c| c.members.is_empty())
    }

    /// The generation and member ids a test sees ([`crate::MockCluster::group_members`]): a
    /// classic group's generation and members in join order, or a consumer group's (KIP-848)
    /// group epoch and member ids in ascending order.
    pub(crate) fn generation_and_members(&self) -> (i32, Vec<String>) {
        match &self.consumer {
            Some(c) => (c.group_epoch, c.members.keys().cloned().collect()),
            None => (self.generation, self.member_ids()),
        }
    }

    /// Removes the committed offset of `topic`-`partition`; whether there was one.
    pub(crate) fn delete_offset(&mut self, topic: &str, partition: i32) -> bool {
        self.offsets.remove(&(topic.to_owned(), partition)).is_some()
    }
}

/// The state machine on its own, with the clock in the test's hands: every deadline is
/// reached by calling [`Group::tick`] with a later instant, so nothing here sleeps or depends
/// on the machine's speed. Each test pins one rule of Kafka's classic group coordinator.
#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn settings(initial_delay: Duration) -> Settings {
        Settings {
            auto_create_topics: true,
            default_partitions: 1,
            default_replication_factor: 1,
            group_initial_rebalance_delay: initial_delay,
            group_min_session_timeout: Duration::from_millis(10),
            group_max_session_timeout: Duration::from_secs(3600),
        }
    }

    fn group() -> Group {
        Group::new(watch::Sender::new(0))
    }

    fn request(member_id: &str, session_ms: i32, rebalance_ms: i32) -> JoinRequest {
        JoinRequest {
            group_id: "g".into(),
            member_id: member_id.into(),
            session_timeout_ms: session_ms,
            rebalance_timeout_ms: rebalance_ms,
            protocol_type: "consumer".into(),
            protocols: vec![("range".into(), Bytes::from_static(b"subscription"))],
            client_id: "client".into(),
            require_known_member_id: true,
            supports_skip_assignment: true,
            ..Default::default()
        }
    }

    fn static_request(instance: &str, session_ms: i32, rebalance_ms: i32) -> JoinRequest {
        JoinRequest { instance_id: Some(instance.into()), ..request("", session_ms, rebalance_ms) }
    }

    /// A JoinGroup that waits.
    fn waits(reply: Reply<JoinResult>) -> oneshot::Receiver<JoinResult> {
        match reply {
            Reply::Later(rx) => rx,
            Reply::Now(r) => panic!("answered at once: {r:?}"),
        }
    }

    /// A JoinGroup answered at once.
    fn now(reply: Reply<JoinResult>) -> JoinResult {
        match reply {
            Reply::Now(r) => r,
            Reply::Later(_) => panic!("waits"),
        }
    }

    /// The answer a waiting request got, if any yet.
    fn answer<T: std::fmt::Debug>(rx: &mut oneshot::Receiver<T>) -> Option<T> {
        rx.try_recv().ok()
    }

    /// A member id handed out with MEMBER_ID_REQUIRED (KIP-394).
    fn member_id(g: &mut Group, s: &Settings, t: Instant, session_ms: i32) -> String {
        let r = now(g.join(request("", session_ms, 1000), s, t));
        assert_eq!(r.error, ErrorCode::MEMBER_ID_REQUIRED);
        r.member_id
    }

    /// Members that joined and synced: a stable generation (the first id leads).
    fn stable(g: &mut Group, s: &Settings, t: Instant, n: usize, session_ms: i32, rebalance_ms: i32) -> Vec<String> {
        let ids: Vec<String> = (0..n).map(|_| member_id(g, s, t, session_ms)).collect();
        let mut waiting: Vec<_> =
            ids.iter().map(|id| waits(g.join(request(id, session_ms, rebalance_ms), s, t))).collect();
        let mut got: Vec<Option<JoinResult>> = vec![None; n];
        // With no initial delay the first member completes a generation alone; the others'
        // joins start a rebalance, which the members already answered join again.
        for _ in 0..=n {
            for (rx, got) in waiting.iter_mut().zip(got.iter_mut()) {
                if let Some(r) = answer(rx) {
                    assert_eq!(r.error, ErrorCode::NONE);
                    *got = Some(r);
                }
            }
            if g.state == GroupState::CompletingRebalance
                && got.iter().all(|r| r.as_ref().is_some_and(|r| r.generation == g.generation))
            {
                break;
            }
            for i in 0..n {
                if got[i].is_some() && g.state == GroupState::PreparingRebalance {
                    got[i] = None;
                    waiting[i] = waits(g.join(request(&ids[i], session_ms, rebalance_ms), s, t));
                }
            }
        }
        assert_eq!(g.state, GroupState::CompletingRebalance);
        sync_all(g, &ids, t);
        ids
    }

    fn sync_all(g: &mut Group, ids: &[String], t: Instant) {
        let generation = g.generation;
        let leader = g.leader.clone().unwrap();
        let mut followers = Vec::new();
        for id in ids.iter().filter(|id| **id != leader) {
            let r = g.sync(SyncRequest { member_id: id.clone(), generation, ..Default::default() }, t);
            followers.push(match r {
                Reply::Later(rx) => rx,
                Reply::Now(r) => panic!("{r:?}"),
            });
        }
        let assignments = ids.iter().map(|id| (id.clone(), Bytes::from(id.clone()))).collect();
        let r = g.sync(SyncRequest { member_id: leader, generation, assignments, ..Default::default() }, t);
        assert!(matches!(r, Reply::Later(_)));
        assert_eq!(g.state, GroupState::Stable);
        for mut rx in followers {
            assert_eq!(answer(&mut rx).unwrap().error, ErrorCode::NONE);
        }
    }

    fn removed(g: &Group, id: &str) -> Option<RemovalReason> {
        g.events.iter().find_map(|e| match e {
            GroupEvent::MemberRemoved { member_id, reason } if member_id == id => Some(*reason),
            _ => None,
        })
    }

    /// The cause of the client interop test's failure on a loaded machine: a member that
    /// stopped consuming but had not sent LeaveGroup yet holds up the next rebalance (another
    /// member joining) for the whole rebalance timeout, is then removed, and its late
    /// LeaveGroup gets UNKNOWN_MEMBER_ID. Kafka does the same: a consumer must leave (or keep
    /// heartbeating and join again) when it stops.
    #[test]
    fn a_member_that_stops_without_leaving_is_removed_at_the_rebalance_timeout() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let ids = stable(&mut g, &s, t, 1, 10_000, 3000);
        let stopped = &ids[0];
        // A new member joins: a rebalance starts; the stopped member never learns of it.
        let new = member_id(&mut g, &s, t + MS, 10_000);
        let mut joining = waits(g.join(request(&new, 10_000, 3000), &s, t + MS));
        g.tick(&s, t + 3000 * MS);
        assert!(answer(&mut joining).is_none(), "the join phase waits for the stopped member");
        g.tick(&s, t + 3001 * MS);
        let r = answer(&mut joining).unwrap();
        assert_eq!((r.error, r.generation, r.leader.as_str()), (ErrorCode::NONE, 2, new.as_str()));
        assert_eq!(removed(&g, stopped), Some(RemovalReason::RebalanceTimeout));
        let late = g.leave(&[(stopped.clone(), None)], &s, t + 3002 * MS);
        assert_eq!(late, [ErrorCode::UNKNOWN_MEMBER_ID]);
    }

    /// Leaving when it stops instead, the member lets the rebalance complete at once.
    #[test]
    fn a_member_that_leaves_when_it_stops_lets_the_rebalance_complete_at_once() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let ids = stable(&mut g, &s, t, 2, 10_000, 3000);
        let generation = g.generation;
        let new = member_id(&mut g, &s, t + MS, 10_000);
        let mut joining = waits(g.join(request(&new, 10_000, 3000), &s, t + MS));
        let mut rejoining = waits(g.join(request(&ids[1], 10_000, 3000), &s, t + 2 * MS));
        assert_eq!(g.leave(&[(ids[0].clone(), None)], &s, t + 3 * MS), [ErrorCode::NONE]);
        assert_eq!(answer(&mut joining).unwrap().generation, generation + 1);
        assert_eq!(answer(&mut rejoining).unwrap().generation, generation + 1);
    }

    /// The initial rebalance of an empty group completes when its delay runs out, not when
    /// every member joined; a new member during the delay extends it by another delay (up to
    /// the rebalance timeout).
    #[test]
    fn the_initial_rebalance_waits_for_its_delay_and_new_members_extend_it() {
        let (s, t) = (settings(Duration::from_millis(100)), Instant::now());
        let mut g = group();
        let a = member_id(&mut g, &s, t, 10_000);
        let mut ra = waits(g.join(request(&a, 10_000, 1000), &s, t));
        let b = member_id(&mut g, &s, t + 60 * MS, 10_000);
        let mut rb = waits(g.join(request(&b, 10_000, 1000), &s, t + 60 * MS));
        g.tick(&s, t + 60 * MS);
        assert!(answer(&mut ra).is_none(), "every member joined, but the delay runs");
        g.tick(&s, t + 100 * MS);
        assert!(answer(&mut ra).is_none(), "a member joined during the delay: extended");
        g.tick(&s, t + 199 * MS);
        assert!(answer(&mut ra).is_none());
        g.tick(&s, t + 200 * MS);
        let (ra, rb) = (answer(&mut ra).unwrap(), answer(&mut rb).unwrap());
        assert_eq!((ra.generation, rb.generation), (1, 1));
        assert_eq!(ra.members.len(), 2, "both in the first generation");
    }

    /// The initial rebalance ends at the rebalance timeout even if members keep coming.
    #[test]
    fn the_initial_delay_is_extended_at_most_up_to_the_rebalance_timeout() {
        let (s, t) = (settings(Duration::from_millis(100)), Instant::now());
        let mut g = group();
        let a = member_id(&mut g, &s, t, 10_000);
        let mut ra = waits(g.join(request(&a, 10_000, 250), &s, t));
        let mut at = t;
        for _ in 0..10 {
            at += 50 * MS;
            let id = member_id(&mut g, &s, at, 10_000);
            let _joining = waits(g.join(request(&id, 10_000, 250), &s, at));
            g.tick(&s, at);
            if let Some(r) = answer(&mut ra) {
                assert_eq!(r.generation, 1);
                assert!(at - t <= 300 * MS, "completed after {:?}", at - t);
                return;
            }
        }
        panic!("the initial rebalance never completed");
    }

    /// Member ids handed out with MEMBER_ID_REQUIRED do not hold up the initial rebalance
    /// (Kafka completes it when the delay runs out), and stay valid after a join phase.
    #[test]
    fn a_pending_member_id_does_not_hold_up_the_initial_rebalance_and_survives_it() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let pending = member_id(&mut g, &s, t, 10_000);
        let a = member_id(&mut g, &s, t, 10_000);
        let mut ra = waits(g.join(request(&a, 10_000, 1000), &s, t));
        assert_eq!(answer(&mut ra).unwrap().generation, 1, "completed without the pending member");
        // The pending member joins with its id: a member, and a rebalance.
        let _rp = waits(g.join(request(&pending, 10_000, 1000), &s, t + MS));
        assert_eq!(g.state, GroupState::PreparingRebalance);
        assert_eq!(g.member_ids(), [a, pending]);
    }

    /// Any other rebalance waits for pending member ids: until they join, leave, or their
    /// session timeout runs out.
    #[test]
    fn a_pending_member_id_holds_up_a_rebalance_until_its_session_timeout() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let ids = stable(&mut g, &s, t, 1, 10_000, 5000);
        let pending = member_id(&mut g, &s, t, 500);
        // The leader joins again: a rebalance, waiting for the pending member id.
        let mut r = waits(g.join(request(&ids[0], 10_000, 5000), &s, t));
        g.tick(&s, t + 499 * MS);
        assert!(answer(&mut r).is_none());
        g.tick(&s, t + 500 * MS);
        assert_eq!(answer(&mut r).unwrap().generation, 2);
        assert_eq!(removed(&g, &pending), Some(RemovalReason::SessionTimeout));
        assert_eq!(now(g.join(request(&pending, 500, 5000), &s, t + 501 * MS)).error, ErrorCode::UNKNOWN_MEMBER_ID);
    }

    #[test]
    fn a_pending_member_id_survives_a_join_phase_completed_at_the_rebalance_timeout() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let ids = stable(&mut g, &s, t, 1, 10_000, 1000);
        let pending = member_id(&mut g, &s, t, 10_000);
        let mut r = waits(g.join(request(&ids[0], 10_000, 1000), &s, t));
        g.tick(&s, t + 1000 * MS);
        assert_eq!(answer(&mut r).unwrap().generation, 2);
        // Still pending: it joins with its id.
        let _rp = waits(g.join(request(&pending, 10_000, 1000), &s, t + 1001 * MS));
        assert_eq!(g.member_ids(), [ids[0].clone(), pending]);
    }

    /// LeaveGroup of a pending member id: accepted, and the rebalance no longer waits for it.
    #[test]
    fn a_pending_member_id_can_leave() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let ids = stable(&mut g, &s, t, 1, 10_000, 5000);
        let pending = member_id(&mut g, &s, t, 10_000);
        let mut r = waits(g.join(request(&ids[0], 10_000, 5000), &s, t));
        assert_eq!(g.leave(&[(pending.clone(), None)], &s, t + MS), [ErrorCode::NONE]);
        assert_eq!(answer(&mut r).unwrap().generation, 2);
        assert_eq!(removed(&g, &pending), Some(RemovalReason::LeaveGroup));
    }

    /// Sessions run during a rebalance too: a member that neither joins again nor heartbeats
    /// is removed when its session runs out, and the join phase completes then, before the
    /// rebalance timeout. Heartbeats (answered REBALANCE_IN_PROGRESS) keep the session.
    #[test]
    fn sessions_expire_while_the_group_prepares_a_rebalance() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let ids = stable(&mut g, &s, t, 2, 1000, 5000);
        let generation = g.generation;
        let mut r = waits(g.join(request(&ids[0], 1000, 5000), &s, t));
        assert_eq!(g.heartbeat(&ids[1], None, generation, t + 500 * MS), ErrorCode::REBALANCE_IN_PROGRESS);
        g.tick(&s, t + 1499 * MS);
        assert!(answer(&mut r).is_none(), "the heartbeat kept the session");
        g.tick(&s, t + 1500 * MS);
        assert_eq!(removed(&g, &ids[1]), Some(RemovalReason::SessionTimeout));
        let r = answer(&mut r).unwrap();
        assert_eq!((r.generation, r.members.len()), (generation + 1, 1));
    }

    /// At the rebalance timeout, dynamic members that did not join again are removed; static
    /// members stay (KIP-345).
    #[test]
    fn the_rebalance_timeout_removes_dynamic_members_but_keeps_static_ones() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let ids = stable(&mut g, &s, t, 2, 60_000, 1000);
        let next = g.generation + 1;
        let mut rs = waits(g.join(static_request("instance-1", 60_000, 1000), &s, t));
        let static_id = g.member_ids()[2].clone();
        // The static member's join started a rebalance; the leader joins again, the other
        // dynamic member does not.
        let mut ra = waits(g.join(request(&ids[0], 60_000, 1000), &s, t));
        g.tick(&s, t + 1000 * MS);
        assert_eq!(answer(&mut ra).unwrap().generation, next);
        assert_eq!(answer(&mut rs).unwrap().generation, next);
        assert_eq!(removed(&g, &ids[1]), Some(RemovalReason::RebalanceTimeout));
        sync_all(&mut g, &[ids[0].clone(), static_id.clone()], t + 1001 * MS);
        // Now the leader joins again and the static member does not: it is kept.
        let mut ra = waits(g.join(request(&ids[0], 60_000, 1000), &s, t + 1002 * MS));
        g.tick(&s, t + 2002 * MS);
        let r = answer(&mut ra).unwrap();
        assert_eq!(r.generation, next + 1);
        assert_eq!(r.members.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), [ids[0].as_str(), static_id.as_str()]);
        assert_eq!(removed(&g, &static_id), None);
    }

    /// If no member joined again by the rebalance timeout (only static members that did not
    /// come back are left), the group waits another rebalance timeout instead of moving on.
    #[test]
    fn without_any_member_joined_the_join_phase_waits_another_rebalance_timeout() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let mut rs = waits(g.join(static_request("instance-1", 60_000, 1000), &s, t));
        assert_eq!(answer(&mut rs).unwrap().generation, 1);
        let static_id = g.member_ids()[0].clone();
        sync_all(&mut g, std::slice::from_ref(&static_id), t);
        let other = member_id(&mut g, &s, t, 60_000);
        let _ro = waits(g.join(request(&other, 60_000, 1000), &s, t));
        assert_eq!(g.leave(&[(other.clone(), None)], &s, t + MS), [ErrorCode::NONE]);
        g.tick(&s, t + 1000 * MS);
        assert_eq!((g.state, g.generation), (GroupState::PreparingRebalance, 1), "nobody joined: still waiting");
        // It comes back: every member joined, the join phase completes.
        let mut rs = waits(g.join(request(&static_id, 60_000, 1000), &s, t + 1500 * MS));
        assert_eq!(answer(&mut rs).unwrap().generation, 2);
    }

    /// While the group waits for the leader's assignment, a member joining again with
    /// unchanged metadata, the leader included, gets the current generation back instead of
    /// starting a rebalance; once stable, the leader joining starts one.
    #[test]
    fn joining_again_unchanged_while_the_assignment_is_awaited_keeps_the_generation() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let ids = stable(&mut g, &s, t, 2, 10_000, 1000);
        let next = g.generation + 1;
        let mut ra = waits(g.join(request(&ids[0], 10_000, 1000), &s, t));
        let _rb = waits(g.join(request(&ids[1], 10_000, 1000), &s, t));
        assert_eq!(answer(&mut ra).unwrap().generation, next);
        assert_eq!(g.state, GroupState::CompletingRebalance);
        let r = now(g.join(request(&ids[0], 10_000, 1000), &s, t + MS));
        assert_eq!((r.error, r.generation, r.members.len()), (ErrorCode::NONE, next, 2));
        assert_eq!(g.state, GroupState::CompletingRebalance);
        sync_all(&mut g, &ids, t + 2 * MS);
        let follower = now(g.join(request(&ids[1], 10_000, 1000), &s, t + 3 * MS));
        assert_eq!((follower.generation, follower.members.len()), (next, 0));
        let _joining = waits(g.join(request(&ids[0], 10_000, 1000), &s, t + 4 * MS));
        assert_eq!(g.state, GroupState::PreparingRebalance);
    }

    /// Members that got their JoinGroup answer but never send SyncGroup are removed one
    /// rebalance timeout after the join phase completed (Kafka's pending sync), not at their
    /// session timeout; a rebalance follows.
    #[test]
    fn members_that_never_sync_are_removed_after_the_rebalance_timeout() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let ids = stable(&mut g, &s, t, 2, 60_000, 1000);
        let next = g.generation + 1;
        let mut ra = waits(g.join(request(&ids[0], 60_000, 1000), &s, t));
        let mut rb = waits(g.join(request(&ids[1], 60_000, 1000), &s, t));
        assert_eq!((answer(&mut ra).unwrap().generation, answer(&mut rb).unwrap().generation), (next, next));
        let leader = g.sync(
            SyncRequest {
                member_id: ids[0].clone(),
                generation: next,
                assignments: vec![(ids[0].clone(), Bytes::from_static(b"a"))],
                ..Default::default()
            },
            t + MS,
        );
        assert!(matches!(leader, Reply::Later(_)));
        assert_eq!(g.state, GroupState::Stable);
        g.tick(&s, t + 999 * MS);
        assert_eq!(g.member_ids().len(), 2);
        g.tick(&s, t + 1000 * MS);
        assert_eq!(removed(&g, &ids[1]), Some(RemovalReason::SyncTimeout));
        assert_eq!(g.state, GroupState::PreparingRebalance);
    }

    /// OffsetCommit checks member and generation first; only a valid member of the current
    /// generation is told REBALANCE_IN_PROGRESS while the assignment is awaited. While the
    /// group prepares a rebalance, commits of the current generation are accepted and keep
    /// the member's session.
    #[test]
    fn commits_while_rebalancing() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let ids = stable(&mut g, &s, t, 2, 1000, 5000);
        let generation = g.generation;
        let offsets = [("t".to_owned(), 0, 10, -1, None)];
        // PreparingRebalance: the leader joined again, the other member commits and does not
        // join; its commits keep its session.
        let mut ra = waits(g.join(request(&ids[0], 1000, 5000), &s, t));
        assert_eq!(g.commit(generation, &ids[1], None, &offsets, t + 900 * MS), [ErrorCode::NONE]);
        g.tick(&s, t + 1800 * MS);
        assert!(answer(&mut ra).is_none(), "the commit kept the session");
        let _rb = waits(g.join(request(&ids[1], 1000, 5000), &s, t + 1800 * MS));
        assert_eq!(answer(&mut ra).unwrap().generation, generation + 1);
        // CompletingRebalance.
        assert_eq!(g.commit(generation + 1, "someone", None, &offsets, t + 1801 * MS), [ErrorCode::UNKNOWN_MEMBER_ID]);
        assert_eq!(g.commit(generation, &ids[1], None, &offsets, t + 1801 * MS), [ErrorCode::ILLEGAL_GENERATION]);
        assert_eq!(
            g.commit(generation + 1, &ids[1], None, &offsets, t + 1801 * MS),
            [ErrorCode::REBALANCE_IN_PROGRESS]
        );
        assert_eq!(g.commit(-1, "", None, &offsets, t + 1801 * MS), [ErrorCode::UNKNOWN_MEMBER_ID]);
        assert_eq!(g.offsets.get(&("t".to_owned(), 0)).map(|c| c.offset), Some(10));
    }

    /// A static member restarting (same instance id, no member id) replaces its previous
    /// incarnation, whose waiting JoinGroup is answered FENCED_INSTANCE_ID with its old id.
    #[test]
    fn a_restarted_static_member_fences_its_previous_incarnation() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let mut first = waits(g.join(static_request("instance-1", 10_000, 1000), &s, t));
        let old = answer(&mut first).unwrap().member_id;
        let other = member_id(&mut g, &s, t, 10_000);
        let _other = waits(g.join(request(&other, 10_000, 1000), &s, t));
        let mut waiting =
            waits(g.join(JoinRequest { member_id: old.clone(), ..static_request("instance-1", 10_000, 1000) }, &s, t));
        assert!(answer(&mut waiting).is_some(), "every member joined: generation 2");
        // A third member starts another rebalance; the old incarnation joins again and waits.
        let third = member_id(&mut g, &s, t + MS, 10_000);
        let _third = waits(g.join(request(&third, 10_000, 1000), &s, t + MS));
        let mut waiting = waits(g.join(
            JoinRequest { member_id: old.clone(), ..static_request("instance-1", 10_000, 1000) },
            &s,
            t + MS,
        ));
        assert!(answer(&mut waiting).is_none());
        let _new = waits(g.join(static_request("instance-1", 10_000, 1000), &s, t + 2 * MS));
        let r = answer(&mut waiting).unwrap();
        assert_eq!((r.error, r.member_id.as_str()), (ErrorCode::FENCED_INSTANCE_ID, old.as_str()));
        assert_eq!(removed(&g, &old), Some(RemovalReason::Fenced));
    }

    /// A group instance id names its member: an instance id nobody has is an unknown member,
    /// one held by another member id is fenced (Kafka's `validateMember`).
    #[test]
    fn instance_ids_are_checked_like_kafka() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let ids = stable(&mut g, &s, t, 1, 10_000, 1000);
        let _joining = waits(g.join(static_request("instance-1", 10_000, 1000), &s, t));
        assert_eq!(g.heartbeat(&ids[0], Some("nobody"), 1, t), ErrorCode::UNKNOWN_MEMBER_ID);
        assert_eq!(g.heartbeat(&ids[0], Some("instance-1"), 1, t), ErrorCode::FENCED_INSTANCE_ID);
        assert_eq!(g.leave(&[(ids[0].clone(), Some("nobody".into()))], &s, t), [ErrorCode::UNKNOWN_MEMBER_ID]);
        assert_eq!(g.leave(&[(String::new(), Some("instance-1".into()))], &s, t), [ErrorCode::NONE]);
    }

    /// Issue 15 item 7: two static members are stable; one restarts (same instance id, no
    /// member id). Kafka keeps the generation and gives it its old assignment; a restarted
    /// leader gets the members and SkipAssignment from v9 (KIP-814), before v9 neither, and
    /// the leader id from before the replacement.
    #[test]
    fn a_static_member_restarting_in_a_stable_group_keeps_the_generation_and_its_assignment() {
        let (s, t) = (settings(Duration::ZERO), Instant::now());
        let mut g = group();
        let join =
            |id: &str, instance: &str| JoinRequest { member_id: id.into(), ..static_request(instance, 10_000, 1000) };
        let mut ra = waits(g.join(join("", "a"), &s, t));
        let a = answer(&mut ra).unwrap().member_id;
        sync_all(&mut g, std::slice::from_ref(&a), t);
        let mut rb = waits(g.join(join("", "b"), &s, t));
        let mut ra = waits(g.join(join(&a, "a"), &s, t));
        let (ja, jb) = (answer(&mut ra).unwrap(), answer(&mut rb).unwrap());
        assert_eq!((ja.generation, jb.generation, ja.leader.as_str()), (2, 2, a.as_str()));
        let b = jb.member_id;
        sync_all(&mut g, &[a.clone(), b.clone()], t);

        // b restarts: same generation, no rebalance, its old assignment.
        let r = now(g.join(join("", "b"), &s, t + MS));
        assert_eq!((r.error, r.generation, r.skip_assignment, r.members.len()), (ErrorCode::NONE, 2, false, 0));
        assert_eq!((g.state, r.leader.as_str()), (GroupState::Stable, a.as_str()));
        let b2 = r.member_id;
        let sync = g.sync(SyncRequest { member_id: b2.clone(), generation: 2, ..Default::default() }, t + MS);
        assert!(
            matches!(sync, Reply::Now(SyncResult { error: ErrorCode::NONE, ref assignment, .. }) if *assignment == b)
        );
        assert_eq!(g.heartbeat(&b, Some("b"), 2, t + MS), ErrorCode::FENCED_INSTANCE_ID);
        assert_eq!(removed(&g, &b), Some(RemovalReason::Fenced));

        // The leader restarts (v9): the members, and SkipAssignment.
        let r = now(g.join(join("", "a"), &s, t + 2 * MS));
        assert_eq!((r.generation, r.skip_assignment, r.leader == r.member_id), (2, true, true));
        assert_eq!(r.members.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), [r.member_id.as_str(), b2.as_str()]);
        // And again before v9: no members, no skip, the leader id from before.
        let before_v9 = JoinRequest { supports_skip_assignment: false, ..join("", "a") };
        let r2 = now(g.join(before_v9, &s, t + 3 * MS));
        assert_eq!((r2.generation, r2.skip_assignment, r2.members.len()), (2, false, 0));
        assert_eq!(r2.leader, r.member_id);
        assert_eq!(g.state, GroupState::Stable);
        assert_eq!(g.generation, 2);
    }
}
