//! Consumer groups with the KIP-848 protocol (ConsumerGroupHeartbeat), run as Kafka 4.4's group
//! coordinator runs them (`GroupMetadataManager.consumerGroupHeartbeat`, `ConsumerGroup`,
//! `CurrentAssignmentBuilder` in the group-coordinator module):
//!
//! - a member joins with epoch 0; a change of its subscriptions (or of the subscribed topics'
//!   partitions) bumps the group epoch, and the server-side assignor ([`crate::assignor`])
//!   computes the target assignment of that epoch at once (assignment epoch = group epoch);
//! - each member reconciles towards its target on its heartbeats: partitions another member
//!   must give up first are revoked (the member stays in its epoch until its heartbeat no
//!   longer owns them), then it moves to the target epoch and gets the partitions that are
//!   free (those still owned by others come when they are released);
//! - a member with a greater epoch, or a smaller one that is not its previous epoch with owned
//!   partitions inside its assignment, is fenced (FENCED_MEMBER_EPOCH); an unknown member id
//!   gets UNKNOWN_MEMBER_ID;
//! - members leave with epoch -1, static members leave for a while with -2 and come back with
//!   epoch 0 and a new member id, getting their assignment back (UNRELEASED_INSTANCE_ID while
//!   the previous incarnation has not left);
//! - a member without a heartbeat for the session timeout, or that does not revoke within its
//!   rebalance timeout, is removed (and the group epoch bumped).
//!
//! Timers are deadlines checked by [`ConsumerGroup::tick`], like the classic group's.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kafka_wire::{ErrorCode, Uuid};
use tokio::time::Instant;

use crate::assignor::{self, MemberSpec, Partitions, ASSIGNORS};
use crate::group::{GroupEvent, RemovalReason};

/// Kafka's `group.consumer.heartbeat.interval.ms` default.
pub(crate) const HEARTBEAT_INTERVAL_MS: i32 = 5000;
/// Kafka's `group.consumer.session.timeout.ms` default.
pub(crate) const SESSION_TIMEOUT: Duration = Duration::from_millis(45_000);
/// Kafka's `group.consumer.assignment.interval.ms` default (KIP-1263): a group computes a new
/// target assignment at most this often; the first one at once.
pub(crate) const ASSIGNMENT_INTERVAL: Duration = Duration::from_millis(1000);
/// Kafka's `group.consumer.max.size` default.
const MAX_SIZE: usize = i32::MAX as usize;

/// The member epoch of a member leaving the group.
pub(crate) const LEAVE_GROUP_MEMBER_EPOCH: i32 = -1;
/// The member epoch of a static member leaving for a while (it comes back with its instance id).
pub(crate) const LEAVE_GROUP_STATIC_MEMBER_EPOCH: i32 = -2;

/// Where a member is in its reconciliation (Kafka's `MemberState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemberState {
    /// It has its target assignment (or all of it that is free), in its epoch.
    Stable,
    /// It must give up partitions before it moves on.
    UnrevokedPartitions,
    /// It waits for partitions that other members still own.
    UnreleasedPartitions,
}

/// A member of a consumer group.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConsumerMember {
    pub(crate) member_id: String,
    pub(crate) instance_id: Option<String>,
    pub(crate) rack_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) rebalance_timeout_ms: i32,
    pub(crate) subscribed_topic_names: Vec<String>,
    pub(crate) subscribed_topic_regex: Option<String>,
    pub(crate) server_assignor: Option<String>,
    pub(crate) member_epoch: i32,
    pub(crate) previous_member_epoch: i32,
    pub(crate) state: MemberState,
    pub(crate) assigned: Partitions,
    pub(crate) pending_revocation: Partitions,
    /// The member epoch at which each assigned partition was assigned (KIP-1251: a commit
    /// with an older member epoch is accepted for partitions the member had then).
    pub(crate) assignment_epochs: BTreeMap<(Uuid, i32), i32>,
}

impl ConsumerMember {
    fn new(member_id: &str) -> ConsumerMember {
        ConsumerMember {
            member_id: member_id.to_owned(),
            instance_id: None,
            rack_id: None,
            client_id: String::new(),
            client_host: String::new(),
            rebalance_timeout_ms: -1,
            subscribed_topic_names: Vec::new(),
            subscribed_topic_regex: None,
            server_assignor: None,
            member_epoch: 0,
            previous_member_epoch: 0,
            state: MemberState::Stable,
            assigned: Partitions::new(),
            pending_revocation: Partitions::new(),
            assignment_epochs: BTreeMap::new(),
        }
    }

    fn is_reconciled_to(&self, epoch: i32) -> bool {
        self.state == MemberState::Stable && self.member_epoch == epoch
    }

    fn set_epoch(&mut self, epoch: i32) {
        if epoch != self.member_epoch {
            self.previous_member_epoch = self.member_epoch;
        }
        self.member_epoch = epoch;
    }
}

/// A ConsumerGroupHeartbeat, whatever its version.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeartbeatRequest {
    pub(crate) member_id: String,
    pub(crate) member_epoch: i32,
    pub(crate) instance_id: Option<String>,
    pub(crate) rack_id: Option<String>,
    pub(crate) rebalance_timeout_ms: i32,
    pub(crate) subscribed_topic_names: Option<Vec<String>>,
    pub(crate) subscribed_topic_regex: Option<String>,
    pub(crate) server_assignor: Option<String>,
    pub(crate) owned: Option<Partitions>,
    pub(crate) client_id: String,
}

/// What a ConsumerGroupHeartbeat answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct HeartbeatResult {
    pub(crate) error: ErrorCode,
    pub(crate) message: Option<String>,
    pub(crate) member_id: Option<String>,
    pub(crate) member_epoch: i32,
    pub(crate) heartbeat_interval_ms: i32,
    pub(crate) assignment: Option<Partitions>,
}

impl HeartbeatResult {
    pub(crate) fn error(error: ErrorCode, message: impl Into<String>) -> HeartbeatResult {
        HeartbeatResult { error, message: Some(message.into()), ..Default::default() }
    }
}

/// Kafka's `throwIfConsumerGroupHeartbeatRequestIsInvalid`, in its order: the INVALID_REQUEST
/// (or UNSUPPORTED_ASSIGNOR) answer of a request that is not well formed. `member_id_required`:
/// from v1 the consumer makes its member id (KIP-1082).
pub(crate) fn validate(group_id: &str, r: &HeartbeatRequest, member_id_required: bool) -> Option<HeartbeatResult> {
    let blank = |s: &str| s.trim().is_empty();
    let invalid = |m: &str| Some(HeartbeatResult::error(ErrorCode::INVALID_REQUEST, m));
    if (member_id_required || r.member_epoch > 0 || r.member_epoch == LEAVE_GROUP_MEMBER_EPOCH) && blank(&r.member_id) {
        return invalid("MemberId can't be empty.");
    }
    if blank(group_id) {
        return invalid("GroupId can't be empty.");
    }
    if r.instance_id.as_deref().is_some_and(blank) {
        return invalid("InstanceId can't be empty.");
    }
    if r.rack_id.as_deref().is_some_and(blank) {
        return invalid("RackId can't be empty.");
    }
    if r.member_epoch == 0 {
        if r.rebalance_timeout_ms == -1 {
            return invalid("RebalanceTimeoutMs must be provided in first request.");
        }
        if r.owned.as_ref().is_none_or(|o| !o.is_empty()) {
            return invalid("TopicPartitions must be empty when (re-)joining.");
        }
        if r.subscribed_topic_names.is_none() && r.subscribed_topic_regex.is_none() {
            return invalid("Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.");
        }
    } else if r.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH {
        if r.instance_id.is_none() {
            return invalid("InstanceId can't be null.");
        }
    } else if r.member_epoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH {
        return invalid("MemberEpoch is invalid.");
    }
    if let Some(assignor) = r.server_assignor.as_deref().filter(|a| !ASSIGNORS.contains(a)) {
        return Some(HeartbeatResult::error(
            ErrorCode::UNSUPPORTED_ASSIGNOR,
            format!("ServerAssignor {assignor} is not supported. Supported assignors: {}.", ASSIGNORS.join(", ")),
        ));
    }
    None
}

/// The topics a heartbeat can subscribe to: name to (topic id, partition count).
pub(crate) type TopicsView = BTreeMap<String, (Uuid, i32)>;

/// A consumer group (KIP-848).
#[derive(Debug, Default)]
pub(crate) struct ConsumerGroup {
    pub(crate) group_epoch: i32,
    pub(crate) assignment_epoch: i32,
    pub(crate) members: BTreeMap<String, ConsumerMember>,
    /// The target assignment of each member, as of the assignment epoch.
    pub(crate) target: BTreeMap<String, Partitions>,
    /// The subscribed topics (name to id and partition count) as of the last epoch bump.
    subscription_metadata: TopicsView,
    /// When each member's session runs out.
    sessions: BTreeMap<String, Instant>,
    /// Members that must revoke partitions: when they are fenced unless they left that epoch.
    rebalance_deadlines: BTreeMap<String, (Instant, i32)>,
    /// When the last target assignment was computed (KIP-1263 batching).
    last_assignment: Option<Instant>,
}

/// An error of the group: code and message.
type Failure = (ErrorCode, String);

impl ConsumerGroup {
    /// A group created by its first member's join. Kafka 4.4 answers that first join with
    /// member (and group) epoch 2, not 1 (seen in the differential test): the group starts
    /// at epoch 1 here so that the join's bump makes it 2.
    pub(crate) fn created() -> ConsumerGroup {
        ConsumerGroup { group_epoch: 1, assignment_epoch: 1, ..Default::default() }
    }

    /// Kafka's group state name (`ConsumerGroup.maybeUpdateGroupState`).
    pub(crate) fn state_name(&self) -> &'static str {
        if self.members.is_empty() {
            "Empty"
        } else if self.group_epoch > self.assignment_epoch {
            "Assigning"
        } else if self.members.values().any(|m| !m.is_reconciled_to(self.assignment_epoch)) {
            "Reconciling"
        } else {
            "Stable"
        }
    }

    /// The assignor the group uses: the one most members ask for, else the default
    /// (`ConsumerGroup.computePreferredServerAssignor`).
    pub(crate) fn preferred_assignor(&self) -> &'static str {
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for m in self.members.values() {
            if let Some(a) = m.server_assignor.as_deref() {
                *votes.entry(a).or_default() += 1;
            }
        }
        let best = votes.iter().max_by_key(|(name, n)| (**n, std::cmp::Reverse(**name))).map(|(name, _)| *name);
        ASSIGNORS.iter().copied().find(|a| Some(*a) == best).unwrap_or(ASSIGNORS[0])
    }

    fn static_member(&self, instance_id: &str) -> Option<&ConsumerMember> {
        self.members.values().find(|m| m.instance_id.as_deref() == Some(instance_id))
    }

    /// The epoch of the member that owns (or still revokes) a partition, -1 if none.
    fn partition_owner_epoch(&self, topic: &Uuid, partition: i32) -> i32 {
        self.members
            .values()
            .find(|m| {
                m.assigned.get(topic).is_some_and(|p| p.contains(&partition))
                    || m.pending_revocation.get(topic).is_some_and(|p| p.contains(&partition))
            })
            .map_or(-1, |m| m.member_epoch)
    }

    /// The subscribed topics that exist, with their ids and partition counts.
    fn subscription(&self, members: &BTreeMap<String, ConsumerMember>, topics: &TopicsView) -> TopicsView {
        members
            .values()
            .flat_map(|m| member_topics(m, topics))
            .filter_map(|n| topics.get(&n).map(|t| (n, *t)))
            .collect()
    }

    /// Computes the target assignment of the group epoch (Kafka's `updateTargetAssignment`).
    fn update_target(&mut self, topics: &TopicsView) {
        let specs: BTreeMap<String, MemberSpec> = self
            .members
            .iter()
            .map(|(id, m)| {
                let ids = member_topics(m, topics).iter().filter_map(|n| topics.get(n).map(|t| t.0)).collect();
                (id.clone(), MemberSpec { topics: ids })
            })
            .collect();
        let partitions: BTreeMap<Uuid, i32> = self.subscription_metadata.values().copied().collect();
        self.target = assignor::assign(self.preferred_assignor(), &specs, &partitions, &self.target);
        self.assignment_epoch = self.group_epoch;
    }

    /// Bumps the group epoch (after a member change); the target assignment of the new epoch
    /// is computed now if the last one is at least [`ASSIGNMENT_INTERVAL`] old (or the group is
    /// empty), else by the first heartbeat once it is (KIP-1263; Kafka 4.4 has no timer for
    /// it: a group whose members do not heartbeat stays "Assigning"). Until then members
    /// reconcile towards the previous target.
    fn bump(&mut self, topics: &TopicsView, now: Instant, events: &mut Vec<GroupEvent>) {
        self.group_epoch += 1;
        events.push(GroupEvent::GroupEpoch { epoch: self.group_epoch });
        self.maybe_assign(topics, now, events);
    }

    fn maybe_assign(&mut self, topics: &TopicsView, now: Instant, events: &mut Vec<GroupEvent>) {
        let due = self.last_assignment.is_none_or(|t| now >= t + ASSIGNMENT_INTERVAL) || self.members.is_empty();
        if self.group_epoch > self.assignment_epoch && due {
            self.update_target(topics);
            self.last_assignment = Some(now);
            events.push(GroupEvent::TargetAssignment { epoch: self.assignment_epoch });
        }
    }

    /// Reconciles a member towards its target (Kafka's `CurrentAssignmentBuilder.build`).
    fn reconcile(&self, member: &ConsumerMember, owned: Option<&Partitions>) -> Result<ConsumerMember, Failure> {
        let epoch = self.assignment_epoch;
        // The target may lag behind the member's subscription (KIP-1263): partitions of topics
        // it no longer subscribes to are revoked at once.
        let subscribed: BTreeSet<Uuid> = member_topics(member, &self.subscription_metadata)
            .iter()
            .filter_map(|n| self.subscription_metadata.get(n))
            .map(|t| t.0)
            .collect();
        let mut target = self.target.get(&member.member_id).cloned().unwrap_or_default();
        target.retain(|topic, _| subscribed.contains(topic));
        let unsubscribed = member.assigned.keys().any(|topic| !subscribed.contains(topic));
        let owns_any = |revoking: &Partitions| match owned {
            None => true,
            Some(owned) => {
                owned.iter().any(|(t, ps)| revoking.get(t).is_some_and(|r| ps.iter().any(|p| r.contains(p))))
            }
        };
        match member.state {
            MemberState::Stable if member.member_epoch == epoch && !unsubscribed => Ok(member.clone()),
            MemberState::Stable | MemberState::UnreleasedPartitions => {
                Ok(self.next_assignment(member, member.member_epoch, &target, owns_any))
            }
            MemberState::UnrevokedPartitions => {
                if owns_any(&member.pending_revocation) {
                    Ok(member.clone())
                } else {
                    Ok(self.next_assignment(member, member.member_epoch + 1, &target, owns_any))
                }
            }
        }
    }

    /// Kafka's `CurrentAssignmentBuilder.computeNextAssignment`.
    fn next_assignment(
        &self,
        member: &ConsumerMember,
        member_epoch: i32,
        target: &Partitions,
        owns_any: impl Fn(&Partitions) -> bool,
    ) -> ConsumerMember {
        let mut assigned = Partitions::new();
        let mut revoking = Partitions::new();
        let mut pending = Partitions::new();
        let mut unreleased = false;
        let topics: BTreeSet<&Uuid> = target.keys().chain(member.assigned.keys()).collect();
        let empty = BTreeSet::new();
        for topic in topics {
            let want = target.get(topic).unwrap_or(&empty);
            let have = member.assigned.get(topic).unwrap_or(&empty);
            let keep: BTreeSet<i32> = have.intersection(want).copied().collect();
            let give: BTreeSet<i32> = have.difference(&keep).copied().collect();
            let mut get: BTreeSet<i32> = want.difference(&keep).copied().collect();
            let before = get.len();
            get.retain(|p| self.partition_owner_epoch(topic, *p) == -1);
            unreleased |= get.len() != before;
            if !keep.is_empty() {
                assigned.insert(*topic, keep);
            }
            if !give.is_empty() {
                revoking.insert(*topic, give);
            }
            if !get.is_empty() {
                pending.insert(*topic, get);
            }
        }
        let mut next = member.clone();
        if !revoking.is_empty() && owns_any(&revoking) {
            next.state = MemberState::UnrevokedPartitions;
            next.set_epoch(member_epoch);
            next.assigned = assigned;
            next.pending_revocation = revoking;
            return next;
        }
        for (topic, ps) in pending.iter() {
            assigned.entry(*topic).or_default().extend(ps.iter().copied());
            for p in ps {
                next.assignment_epochs.insert((*topic, *p), self.assignment_epoch);
            }
        }
        next.state = if unreleased { MemberState::UnreleasedPartitions } else { MemberState::Stable };
        next.set_epoch(self.assignment_epoch);
        next.assignment_epochs.retain(|(t, p), _| assigned.get(t).is_some_and(|ps| ps.contains(p)));
        next.assigned = assigned;
        next.pending_revocation = Partitions::new();
        next
    }

    /// Removes a member and bumps the group epoch (Kafka's `consumerGroupFenceMember`).
    /// The subscribed topics are those of the last epoch (a topic the remaining members
    /// subscribe to was subscribed before).
    fn fence(&mut self, member_id: &str, reason: RemovalReason, now: Instant, events: &mut Vec<GroupEvent>) {
        if self.members.remove(member_id).is_none() {
            return;
        }
        self.target.remove(member_id);
        self.sessions.remove(member_id);
        self.rebalance_deadlines.remove(member_id);
        events.push(GroupEvent::MemberRemoved { member_id: member_id.to_owned(), reason });
        let topics = self.subscription_metadata.clone();
        self.subscription_metadata = self.subscription(&self.members, &topics);
        self.bump(&topics, now, events);
    }

    /// A ConsumerGroupHeartbeat that passed [`validate`]; `new_group`: the group was created
    /// for it. The member id of a v0 request without one is made here.
    pub(crate) fn heartbeat(
        &mut self,
        group_id: &str,
        mut r: HeartbeatRequest,
        topics: &TopicsView,
        now: Instant,
        events: &mut Vec<GroupEvent>,
    ) -> HeartbeatResult {
        if r.member_epoch == LEAVE_GROUP_MEMBER_EPOCH || r.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH {
            return match self.leave(group_id, &r, now, events) {
                Ok(epoch) => {
                    HeartbeatResult { member_id: Some(r.member_id), member_epoch: epoch, ..Default::default() }
                }
                Err((code, message)) => HeartbeatResult::error(code, message),
            };
        }
        if r.member_id.is_empty() {
            r.member_id = crate::state::random_uuid().to_string();
        }
        match self.join_or_heartbeat(group_id, r, topics, now, events) {
            Ok(result) => result,
            Err((code, message)) => HeartbeatResult::error(code, message),
        }
    }

    fn leave(
        &mut self,
        group_id: &str,
        r: &HeartbeatRequest,
        now: Instant,
        events: &mut Vec<GroupEvent>,
    ) -> Result<i32, Failure> {
        let member_id = match r.instance_id.as_deref() {
            None => {
                if !self.members.contains_key(&r.member_id) {
                    return Err(unknown_member(&r.member_id, group_id));
                }
                r.member_id.clone()
            }
            Some(instance) => {
                let member = self
                    .static_member(instance)
                    .ok_or_else(|| (ErrorCode::UNKNOWN_MEMBER_ID, format!("Instance id {instance} is unknown.")))?;
                if member.member_id != r.member_id {
                    return Err(fenced_instance(&r.member_id, instance, &member.member_id));
                }
                if r.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH {
                    let id = member.member_id.clone();
                    if let Some(m) = self.members.get_mut(&id) {
                        m.member_epoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
                        m.pending_revocation = Partitions::new();
                    }
                    self.rebalance_deadlines.remove(&id);
                    return Ok(LEAVE_GROUP_STATIC_MEMBER_EPOCH);
                }
                member.member_id.clone()
            }
        };
        self.fence(&member_id, RemovalReason::LeaveGroup, now, events);
        Ok(r.member_epoch)
    }

    fn join_or_heartbeat(
        &mut self,
        group_id: &str,
        r: HeartbeatRequest,
        topics: &TopicsView,
        now: Instant,
        events: &mut Vec<GroupEvent>,
    ) -> Result<HeartbeatResult, Failure> {
        let joining = r.member_epoch == 0;
        if joining && !self.members.contains_key(&r.member_id) && self.members.len() >= MAX_SIZE {
            return Err((
                ErrorCode::GROUP_MAX_SIZE_REACHED,
                format!("The consumer group has reached its maximum capacity of {MAX_SIZE} members."),
            ));
        }
        // The member as it is, or as it starts (Kafka's `getOrMaybeSubscribe*ConsumerGroupMember`).
        let mut replaced: Option<String> = None;
        let member = match r.instance_id.as_deref() {
            None => match self.members.get(&r.member_id) {
                // Kafka 4.4 takes a join (epoch 0) of a member it knows as a heartbeat of
                // that member (seen in the differential test: no fencing, same assignment).
                Some(m) if joining => m.clone(),
                Some(m) => {
                    check_epoch(m, r.member_epoch, r.owned.as_ref())?;
                    m.clone()
                }
                None if joining => ConsumerMember::new(&r.member_id),
                None => return Err(unknown_member(&r.member_id, group_id)),
            },
            Some(instance) => {
                let existing = self.static_member(instance).cloned();
                if joining {
                    match existing {
                        None => {
                            self.members.get(&r.member_id).cloned().unwrap_or_else(|| ConsumerMember::new(&r.member_id))
                        }
                        Some(old) => {
                            if old.member_epoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH {
                                return Err((
                                    ErrorCode::UNRELEASED_INSTANCE_ID,
                                    format!(
                                        "Static member {} with instance id {instance} cannot join the group because \
                                         the instance id is owned by {} member.",
                                        r.member_id, old.member_id
                                    ),
                                ));
                            }
                            let mut new = old.clone();
                            new.member_id = r.member_id.clone();
                            new.member_epoch = 0;
                            new.previous_member_epoch = 0;
                            if old.member_id != r.member_id {
                                replaced = Some(old.member_id.clone());
                            }
                            new
                        }
                    }
                } else {
                    let Some(m) = existing else {
                        return Err((ErrorCode::UNKNOWN_MEMBER_ID, format!("Instance id {instance} is unknown.")));
                    };
                    if m.member_id != r.member_id {
                        return Err(fenced_instance(&r.member_id, instance, &m.member_id));
                    }
                    check_epoch(&m, r.member_epoch, r.owned.as_ref())?;
                    m
                }
            }
        };
        if let Some(old) = &replaced {
            // The new incarnation takes the old one's place and target (Kafka's `replaceMember`).
            self.members.remove(old);
            self.sessions.remove(old);
            self.rebalance_deadlines.remove(old);
            if let Some(t) = self.target.remove(old) {
                self.target.insert(member.member_id.clone(), t);
            }
            events.push(GroupEvent::MemberRemoved { member_id: old.clone(), reason: RemovalReason::Fenced });
        }

        // 1. The member's subscription: a change bumps the group epoch.
        let mut updated = member.clone();
        if let Some(i) = r.instance_id.clone() {
            updated.instance_id = Some(i);
        }
        if let Some(rack) = r.rack_id.clone() {
            updated.rack_id = Some(rack);
        }
        if r.rebalance_timeout_ms != -1 {
            updated.rebalance_timeout_ms = r.rebalance_timeout_ms;
        }
        if let Some(a) = r.server_assignor.clone() {
            updated.server_assignor = Some(a);
        }
        if let Some(names) = r.subscribed_topic_names.clone() {
            updated.subscribed_topic_names = names;
        }
        if let Some(regex) = r.subscribed_topic_regex.clone() {
            updated.subscribed_topic_regex = Some(regex).filter(|r| !r.is_empty());
        }
        updated.client_id = r.client_id.clone();
        if updated.subscribed_topic_regex != member.subscribed_topic_regex {
            // Kafka's `throwIfRegularExpressionIsInvalid` (the message's description is Rust's
            // regex crate's, not Java's).
            if let Some(re) = updated.subscribed_topic_regex.as_deref() {
                if let Err(e) = regex::Regex::new(re) {
                    let why = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
                    return Err((
                        ErrorCode::INVALID_REGULAR_EXPRESSION,
                        format!("SubscribedTopicRegex `{re}` is not a valid regular expression: {why}."),
                    ));
                }
            }
        }
        let mut bump = updated.subscribed_topic_names != member.subscribed_topic_names
            || updated.subscribed_topic_regex != member.subscribed_topic_regex;
        self.members.insert(updated.member_id.clone(), updated.clone());
        let subscription = self.subscription(&self.members, topics);
        if subscription != self.subscription_metadata {
            self.subscription_metadata = subscription;
            bump = true;
        }
        if bump {
            self.bump(topics, now, events);
        } else {
            self.maybe_assign(topics, now, events);
        }

        // 2. and 3. Reconcile towards the target of the assignment epoch.
        let reconciled = self.reconcile(&updated, r.owned.as_ref())?;
        if reconciled != updated {
            if reconciled.state == MemberState::UnrevokedPartitions {
                let timeout = Duration::from_millis(reconciled.rebalance_timeout_ms.max(0) as u64);
                self.rebalance_deadlines.insert(reconciled.member_id.clone(), (now + timeout, reconciled.member_epoch));
            } else {
                self.rebalance_deadlines.remove(&reconciled.member_id);
            }
            if reconciled.member_epoch != updated.member_epoch {
                events.push(GroupEvent::MemberEpoch {
                    member_id: reconciled.member_id.clone(),
                    epoch: reconciled.member_epoch,
                });
            }
        }
        self.members.insert(reconciled.member_id.clone(), reconciled.clone());
        self.sessions.insert(reconciled.member_id.clone(), now + SESSION_TIMEOUT);

        let full = joining
            || (r.rebalance_timeout_ms != -1
                && (r.subscribed_topic_names.is_some() || r.subscribed_topic_regex.is_some())
                && r.owned.is_some());
        let changed = reconciled.assigned != member.assigned;
        Ok(HeartbeatResult {
            error: ErrorCode::NONE,
            message: None,
            member_id: Some(reconciled.member_id.clone()),
            member_epoch: reconciled.member_epoch,
            heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS,
            assignment: (full || changed).then(|| reconciled.assigned.clone()),
        })
    }

    /// Sessions and rebalance timeouts that ran out at `now`.
    pub(crate) fn tick(&mut self, now: Instant, events: &mut Vec<GroupEvent>) {
        let expired: Vec<String> = self.sessions.iter().filter(|(_, t)| **t <= now).map(|(id, _)| id.clone()).collect();
        for id in expired {
            self.fence(&id, RemovalReason::SessionTimeout, now, events);
        }
        let late: Vec<String> = self
            .rebalance_deadlines
            .iter()
            .filter(|(id, (t, epoch))| *t <= now && self.members.get(*id).is_some_and(|m| m.member_epoch == *epoch))
            .map(|(id, _)| id.clone())
            .collect();
        self.rebalance_deadlines.retain(|_, (t, _)| *t > now);
        for id in late {
            self.fence(&id, RemovalReason::RebalanceTimeout, now, events);
        }
    }

    /// Whether a member subscribes to `topic`, by name or by its regex (Kafka's
    /// `ConsumerGroup.isSubscribedToTopic`; OffsetDelete answers GROUP_SUBSCRIBED_TO_TOPIC for
    /// such a topic).
    pub(crate) fn subscribes_to(&self, topic: &str) -> bool {
        let view = TopicsView::from([(topic.to_owned(), (Uuid::ZERO, 0))]);
        self.members.values().any(|m| member_topics(m, &view).contains(topic))
    }

    /// OffsetCommit by a member (Kafka's `ConsumerGroup.validateOffsetCommit`): an empty group
    /// takes commits with a negative epoch from anyone; otherwise the member must exist
    /// (UNKNOWN_MEMBER_ID), commit with v9+ (UNSUPPORTED_VERSION) and its current epoch, or an
    /// older one for partitions it has had since that epoch (KIP-1251; STALE_MEMBER_EPOCH
    /// otherwise). `partitions`: the committed partitions (topic id, partition).
    pub(crate) fn validate_commit(
        &self,
        member_id: &str,
        epoch: i32,
        v9_or_later: bool,
        partitions: &[(Uuid, i32)],
    ) -> Result<(), ErrorCode> {
        if epoch < 0 && self.members.is_empty() {
            return Ok(());
        }
        let member = self.members.get(member_id).ok_or(ErrorCode::UNKNOWN_MEMBER_ID)?;
        if !v9_or_later {
            return Err(ErrorCode::UNSUPPORTED_VERSION);
        }
        let had_them = || partitions.iter().all(|tp| member.assignment_epochs.get(tp).is_some_and(|e| *e <= epoch));
        if epoch > member.member_epoch || (epoch < member.member_epoch && !had_them()) {
            return Err(ErrorCode::STALE_MEMBER_EPOCH);
        }
        Ok(())
    }

    /// OffsetFetch by a member (Kafka's `ConsumerGroup.validateOffsetFetch`): without a member
    /// id and with a negative epoch, anyone; otherwise the member and its current epoch.
    pub(crate) fn validate_fetch(&self, member_id: Option<&str>, epoch: i32) -> Result<(), ErrorCode> {
        if member_id.is_none() && epoch < 0 {
            return Ok(());
        }
        let member = member_id.and_then(|id| self.members.get(id)).ok_or(ErrorCode::UNKNOWN_MEMBER_ID)?;
        if member.member_epoch != epoch {
            return Err(ErrorCode::STALE_MEMBER_EPOCH);
        }
        Ok(())
    }
}

/// The topics a member subscribes to that exist: by name, and those whose whole name its
/// regex matches (Kafka resolves the regex, RE2/J syntax, in the background and bumps the
/// group epoch when it is done; here it is resolved on each heartbeat).
fn member_topics(m: &ConsumerMember, topics: &TopicsView) -> BTreeSet<String> {
    let mut out: BTreeSet<String> =
        m.subscribed_topic_names.iter().filter(|n| topics.contains_key(*n)).cloned().collect();
    if let Some(re) = m.subscribed_topic_regex.as_deref().and_then(|re| regex::Regex::new(&format!("^(?:{re})$")).ok())
    {
        out.extend(topics.keys().filter(|name| re.is_match(name)).cloned());
    }
    out
}

fn unknown_member(member_id: &str, group_id: &str) -> Failure {
    (ErrorCode::UNKNOWN_MEMBER_ID, format!("Member {member_id} is not a member of group {group_id}."))
}

fn fenced_instance(member_id: &str, instance: &str, owner: &str) -> Failure {
    (
        ErrorCode::FENCED_INSTANCE_ID,
        format!("Static member {member_id} with instance id {instance} was fenced by member {owner}."),
    )
}

/// Kafka's `throwIfConsumerGroupMemberEpochIsInvalid`: a greater epoch is fenced; a smaller one
/// only passes if it is the previous epoch and the member owns nothing outside its assignment
/// (the answer that bumped it may have been lost).
fn check_epoch(member: &ConsumerMember, epoch: i32, owned: Option<&Partitions>) -> Result<(), Failure> {
    if epoch > member.member_epoch {
        return Err((
            ErrorCode::FENCED_MEMBER_EPOCH,
            format!(
                "The consumer group member has a greater member epoch ({epoch}) than the one known by the group \
                 coordinator ({}). The member must abandon all its partitions and rejoin.",
                member.member_epoch
            ),
        ));
    }
    if epoch < member.member_epoch {
        let subset = owned
            .is_some_and(|owned| owned.iter().all(|(t, ps)| member.assigned.get(t).is_some_and(|a| ps.is_subset(a))));
        if epoch != member.previous_member_epoch || !subset {
            return Err((
                ErrorCode::FENCED_MEMBER_EPOCH,
                format!(
                    "The consumer group member has a smaller member epoch ({epoch}) than the one known by the group \
                     coordinator ({}). The member must abandon all its partitions and rejoin.",
                    member.member_epoch
                ),
            ));
        }
    }
    Ok(())
}

/// The state machine with the clock in the test's hands: each test pins one rule of Kafka's
/// consumer group coordinator.
#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn topic() -> Uuid {
        Uuid::from_bytes([7; 16])
    }

    fn topics() -> TopicsView {
        BTreeMap::from([("t".to_owned(), (topic(), 4))])
    }

    fn join(id: &str) -> HeartbeatRequest {
        HeartbeatRequest {
            member_id: id.into(),
            member_epoch: 0,
            rebalance_timeout_ms: 1000,
            subscribed_topic_names: Some(vec!["t".into()]),
            owned: Some(Partitions::new()),
            ..Default::default()
        }
    }

    fn beat(id: &str, epoch: i32, owned: &[i32]) -> HeartbeatRequest {
        let owned = if owned.is_empty() {
            Partitions::new()
        } else {
            Partitions::from([(topic(), owned.iter().copied().collect())])
        };
        HeartbeatRequest {
            member_id: id.into(),
            member_epoch: epoch,
            rebalance_timeout_ms: -1,
            owned: Some(owned),
            ..Default::default()
        }
    }

    fn partitions(r: &HeartbeatResult) -> Vec<i32> {
        r.assignment.as_ref().map(|a| a.values().flatten().copied().collect()).unwrap_or_default()
    }

    fn hb(g: &mut ConsumerGroup, r: HeartbeatRequest, now: Instant) -> HeartbeatResult {
        let result = g.heartbeat("g", r, &topics(), now, &mut Vec::new());
        assert_eq!(result.error, ErrorCode::NONE, "{:?}", result.message);
        result
    }

    /// Two members: the second gets its half only after the first revoked it, and the first
    /// stays in its epoch until then; the new target waits for the assignment interval.
    #[test]
    fn partitions_move_only_after_they_were_revoked() {
        let t = Instant::now();
        let mut g = ConsumerGroup::created();
        let a = hb(&mut g, join("a"), t);
        assert_eq!((a.member_epoch, partitions(&a)), (2, vec![0, 1, 2, 3]));
        let b = hb(&mut g, join("b"), t + MS);
        assert_eq!((b.member_epoch, partitions(&b), g.state_name()), (2, vec![], "Assigning"));
        // The interval since the first assignment passes: the next heartbeat computes it.
        let a = hb(&mut g, beat("a", 2, &[0, 1, 2, 3]), t + ASSIGNMENT_INTERVAL);
        assert_eq!((a.member_epoch, partitions(&a)), (2, vec![0, 1]), "revoke 2 and 3 first");
        let b = hb(&mut g, beat("b", 2, &[]), t + ASSIGNMENT_INTERVAL + MS);
        assert_eq!((b.member_epoch, b.assignment), (3, None), "still owned by a");
        let a = hb(&mut g, beat("a", 2, &[0, 1]), t + ASSIGNMENT_INTERVAL + 2 * MS);
        assert_eq!((a.member_epoch, a.assignment), (3, None));
        let b = hb(&mut g, beat("b", 3, &[]), t + ASSIGNMENT_INTERVAL + 3 * MS);
        assert_eq!(partitions(&b), vec![2, 3]);
        assert_eq!(g.state_name(), "Stable");
        // A stale epoch with partitions outside the assignment is fenced.
        let stale = g.heartbeat("g", beat("a", 2, &[0, 1, 2]), &topics(), t + 4 * MS, &mut Vec::new());
        assert_eq!(stale.error, ErrorCode::FENCED_MEMBER_EPOCH);
    }

    /// A member that does not revoke within its rebalance timeout is removed; one without
    /// heartbeats for the session timeout too.
    #[test]
    fn rebalance_and_session_timeouts_remove_members() {
        let t = Instant::now();
        let mut g = ConsumerGroup::created();
        hb(&mut g, join("a"), t);
        hb(&mut g, join("b"), t + ASSIGNMENT_INTERVAL);
        let a = hb(&mut g, beat("a", 2, &[0, 1, 2, 3]), t + ASSIGNMENT_INTERVAL + MS);
        assert_eq!(partitions(&a).len(), 2);
        let mut events = Vec::new();
        g.tick(t + ASSIGNMENT_INTERVAL + 1000 * MS, &mut events);
        assert!(g.members.contains_key("a"), "not yet");
        g.tick(t + ASSIGNMENT_INTERVAL + 1001 * MS, &mut events);
        assert!(!g.members.contains_key("a"));
        assert!(events
            .contains(&GroupEvent::MemberRemoved { member_id: "a".into(), reason: RemovalReason::RebalanceTimeout }));
        g.tick(t + ASSIGNMENT_INTERVAL + SESSION_TIMEOUT, &mut events);
        assert!(g.members.is_empty());
        assert_eq!(g.state_name(), "Empty");
        assert_eq!(g.assignment_epoch, g.group_epoch, "an empty group's assignment is at once");
    }

    /// A static member leaving with -2 keeps its place; a new member id with its instance id
    /// takes its assignment without a new group epoch; while it is there, the instance id is
    /// not released.
    #[test]
    fn static_members_come_back_with_their_assignment() {
        let t = Instant::now();
        let mut g = ConsumerGroup::created();
        let c = hb(&mut g, HeartbeatRequest { instance_id: Some("i".into()), ..join("c") }, t);
        let epoch = g.group_epoch;
        let taken = g.heartbeat(
            "g",
            HeartbeatRequest { instance_id: Some("i".into()), ..join("c2") },
            &topics(),
            t,
            &mut Vec::new(),
        );
        assert_eq!(taken.error, ErrorCode::UNRELEASED_INSTANCE_ID);
        let left = hb(&mut g, HeartbeatRequest { instance_id: Some("i".into()), ..beat("c", -2, &[]) }, t + MS);
        assert_eq!(left.member_epoch, -2);
        let back = hb(&mut g, HeartbeatRequest { instance_id: Some("i".into()), ..join("c2") }, t + 2 * MS);
        assert_eq!((back.member_epoch, partitions(&back)), (c.member_epoch, partitions(&c)));
        assert_eq!(g.group_epoch, epoch);
        let old = g.heartbeat(
            "g",
            HeartbeatRequest { instance_id: Some("i".into()), ..beat("c", 2, &[]) },
            &topics(),
            t,
            &mut Vec::new(),
        );
        assert_eq!(old.error, ErrorCode::FENCED_INSTANCE_ID);
    }

    /// Commits: the current epoch, or an older one for partitions the member had then
    /// (KIP-1251); a newer one is stale.
    #[test]
    fn commits_check_the_member_epoch() {
        let t = Instant::now();
        let mut g = ConsumerGroup::created();
        hb(&mut g, join("a"), t);
        assert_eq!(g.validate_commit("a", 2, true, &[(topic(), 0)]), Ok(()));
        assert_eq!(g.validate_commit("a", 3, true, &[(topic(), 0)]), Err(ErrorCode::STALE_MEMBER_EPOCH));
        assert_eq!(g.validate_commit("a", 1, true, &[(topic(), 0)]), Err(ErrorCode::STALE_MEMBER_EPOCH));
        assert_eq!(g.validate_commit("a", 2, false, &[(topic(), 0)]), Err(ErrorCode::UNSUPPORTED_VERSION));
        assert_eq!(g.validate_commit("x", 2, true, &[]), Err(ErrorCode::UNKNOWN_MEMBER_ID));
        assert_eq!(g.validate_fetch(None, -1), Ok(()));
        assert_eq!(g.validate_fetch(Some("a"), 1), Err(ErrorCode::STALE_MEMBER_EPOCH));
    }

    /// A regex subscribes to every topic whose whole name it matches; an invalid one is
    /// INVALID_REGULAR_EXPRESSION; dropping a topic revokes its partitions at once, before
    /// the next target assignment (KIP-1263).
    #[test]
    fn regex_subscriptions_and_dropped_topics() {
        let t = Instant::now();
        let other = Uuid::from_bytes([8; 16]);
        let view = BTreeMap::from([
            ("t".to_owned(), (topic(), 2)),
            ("t2".to_owned(), (other, 1)),
            ("x".to_owned(), (Uuid::from_bytes([9; 16]), 1)),
        ]);
        let mut g = ConsumerGroup::created();
        let by_regex = HeartbeatRequest {
            subscribed_topic_names: Some(vec![]),
            subscribed_topic_regex: Some("t.*".into()),
            ..join("a")
        };
        let a = g.heartbeat("g", by_regex, &view, t, &mut Vec::new());
        assert_eq!(a.assignment.as_ref().map(|a| a.keys().copied().collect::<Vec<_>>()), Some(vec![topic(), other]));
        let bad = HeartbeatRequest { subscribed_topic_regex: Some("t(".into()), ..beat("a", a.member_epoch, &[]) };
        assert_eq!(g.heartbeat("g", bad, &view, t, &mut Vec::new()).error, ErrorCode::INVALID_REGULAR_EXPRESSION);
        // Only `t` now: `t2` is revoked in this very heartbeat, the epoch stays.
        let owned = a.assignment.clone();
        let only_t = HeartbeatRequest {
            subscribed_topic_names: Some(vec!["t".into()]),
            subscribed_topic_regex: Some(String::new()),
            owned,
            ..beat("a", a.member_epoch, &[])
        };
        let r = g.heartbeat("g", only_t, &view, t + MS, &mut Vec::new());
        assert_eq!((r.error, r.member_epoch), (ErrorCode::NONE, a.member_epoch));
        assert_eq!(r.assignment.map(|a| a.keys().copied().collect::<Vec<_>>()), Some(vec![topic()]));
    }
}
