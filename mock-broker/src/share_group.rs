//! Share groups (KIP-932) on the coordinator, as Kafka 4.4's `GroupMetadataManager` runs them
//! (`shareGroupHeartbeat`), with their share partitions ([`crate::share_partition`]) and share
//! sessions (Kafka's `ShareSessionCache`):
//!
//! - a member joins with epoch 0 and the member id it generated; a change of the members or of
//!   their subscriptions (or of the subscribed topics' partitions) bumps the group epoch, and
//!   the `simple` assignor computes the target assignment of the new epoch at once if the last
//!   one is at least [`ASSIGNMENT_INTERVAL`] old, else on the first heartbeat once it is
//!   (KIP-1263, as for consumer groups); members move to the target on their next heartbeat
//!   (share groups revoke nothing: any member may fetch any partition);
//! - a heartbeat with another epoch than the member's (or its previous one) is fenced
//!   (FENCED_MEMBER_EPOCH), one of an unknown member gets UNKNOWN_MEMBER_ID; a member leaves
//!   with epoch -1;
//! - a member without a heartbeat for the session timeout is removed;
//! - a share session is keyed by group and member id: epoch 0 opens it, each next request
//!   carries the next epoch (INVALID_SHARE_SESSION_EPOCH otherwise, SHARE_SESSION_NOT_FOUND
//!   without a session), epoch -1 closes it. Closing a session, or the member leaving the
//!   group, releases the records the member holds.
//!
//! Timers are deadlines checked by [`ShareGroup::tick`] (sessions, record locks).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kafka_wire::{ErrorCode, Uuid};
use tokio::time::Instant;

use crate::assignor::Partitions;
use crate::consumer_group::TopicsView;
use crate::share_partition::SharePartition;

/// Kafka's `group.share.heartbeat.interval.ms` default.
pub(crate) const HEARTBEAT_INTERVAL_MS: i32 = 5000;
/// Kafka's `group.share.session.timeout.ms` default.
pub(crate) const SESSION_TIMEOUT: Duration = Duration::from_millis(45_000);
/// Kafka's assignment interval default (KIP-1263): a group computes a new target assignment
/// at most this often; the first one at once.
pub(crate) const ASSIGNMENT_INTERVAL: Duration = Duration::from_millis(1000);
/// The member epoch of a member leaving the group.
pub(crate) const LEAVE_GROUP_MEMBER_EPOCH: i32 = -1;
/// The share session epoch that opens a session.
pub(crate) const INITIAL_EPOCH: i32 = 0;
/// The share session epoch that closes a session.
pub(crate) const FINAL_EPOCH: i32 = -1;

/// A member of a share group.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ShareMember {
    pub(crate) member_id: String,
    pub(crate) rack_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) subscribed_topic_names: Vec<String>,
    pub(crate) member_epoch: i32,
    /// The epoch before the current one: a heartbeat with it is still accepted (its answer
    /// may have been lost).
    previous_member_epoch: i32,
    pub(crate) assigned: Partitions,
    deadline: Instant,
}

/// A ShareGroupHeartbeat.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeartbeatRequest {
    pub(crate) member_id: String,
    pub(crate) member_epoch: i32,
    pub(crate) rack_id: Option<String>,
    pub(crate) subscribed_topic_names: Option<Vec<String>>,
    pub(crate) client_id: String,
}

/// What a ShareGroupHeartbeat answers: the same fields as a ConsumerGroupHeartbeat's answer.
pub(crate) use crate::consumer_group::HeartbeatResult;

/// Kafka's `throwIfShareGroupHeartbeatRequestIsInvalid`: INVALID_REQUEST with its message.
pub(crate) fn validate(group_id: &str, r: &HeartbeatRequest) -> Option<HeartbeatResult> {
    let invalid = |m: &str| Some(HeartbeatResult::error(ErrorCode::INVALID_REQUEST, m));
    if group_id.is_empty() {
        return invalid("GroupId can't be empty.");
    }
    if r.rack_id.as_deref() == Some("") {
        return invalid("RackId can't be empty.");
    }
    if r.member_id.is_empty() {
        // Kafka 4.4 answers this one without a message.
        return Some(HeartbeatResult { error: ErrorCode::INVALID_REQUEST, ..Default::default() });
    }
    if r.member_epoch == 0 {
        if r.subscribed_topic_names.as_ref().is_none_or(|n| n.is_empty()) {
            return invalid("SubscribedTopicNames must be set in first request.");
        }
    } else if r.member_epoch < LEAVE_GROUP_MEMBER_EPOCH {
        return invalid("MemberEpoch is invalid.");
    }
    None
}

/// A share session: the partitions it fetches and the epoch its next request must carry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ShareSession {
    pub(crate) next_epoch: i32,
    pub(crate) partitions: BTreeSet<(Uuid, i32)>,
}

/// Every share group, and the share settings of the cluster.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ShareGroups {
    pub(crate) groups: BTreeMap<String, ShareGroup>,
    /// `group.share.record.lock.duration.ms`.
    pub(crate) record_lock_duration: Duration,
    /// `group.share.delivery.count.limit`.
    pub(crate) delivery_count_limit: i16,
}

impl Default for ShareGroups {
    fn default() -> Self {
        ShareGroups {
            groups: BTreeMap::new(),
            record_lock_duration: crate::share_partition::RECORD_LOCK_DURATION,
            delivery_count_limit: crate::share_partition::DELIVERY_COUNT_LIMIT,
        }
    }
}

/// A share group.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ShareGroup {
    pub(crate) group_epoch: i32,
    pub(crate) assignment_epoch: i32,
    pub(crate) members: BTreeMap<String, ShareMember>,
    pub(crate) target: BTreeMap<String, Partitions>,
    /// The subscribed topics as the last target assignment saw them.
    subscribed: TopicsView,
    pub(crate) partitions: BTreeMap<(Uuid, i32), SharePartition>,
    pub(crate) sessions: BTreeMap<String, ShareSession>,
    last_assignment: Option<Instant>,
}

impl Default for ShareGroup {
    fn default() -> Self {
        ShareGroup::new()
    }
}

impl ShareGroup {
    pub(crate) fn new() -> ShareGroup {
        ShareGroup {
            group_epoch: 0,
            assignment_epoch: 0,
            members: BTreeMap::new(),
            target: BTreeMap::new(),
            subscribed: TopicsView::new(),
            partitions: BTreeMap::new(),
            sessions: BTreeMap::new(),
            last_assignment: None,
        }
    }

    /// Kafka's `ShareGroup.State`: Empty without members, Stable otherwise (share members have
    /// nothing to reconcile).
    pub(crate) fn state_name(&self) -> &'static str {
        if self.members.is_empty() {
            "Empty"
        } else {
            "Stable"
        }
    }

    fn subscription(&self, topics: &TopicsView) -> TopicsView {
        self.members
            .values()
            .flat_map(|m| m.subscribed_topic_names.iter())
            .filter_map(|n| topics.get(n).map(|t| (n.clone(), *t)))
            .collect()
    }

    /// A new group epoch; its target assignment when due.
    fn bump(&mut self, topics: &TopicsView, now: Instant) {
        self.group_epoch += 1;
        self.subscribed = self.subscription(topics);
        self.maybe_assign(topics, now);
    }

    fn maybe_assign(&mut self, topics: &TopicsView, now: Instant) {
        let due = self.last_assignment.is_none_or(|t| now >= t + ASSIGNMENT_INTERVAL) || self.members.is_empty();
        if self.group_epoch > self.assignment_epoch && due {
            self.target = simple_assign(&self.members, topics);
            self.assignment_epoch = self.group_epoch;
            self.last_assignment = Some(now);
        }
    }

    /// Handles a heartbeat of group `group_id` (Kafka's `shareGroupHeartbeat`).
    pub(crate) fn heartbeat(
        &mut self,
        group_id: &str,
        r: HeartbeatRequest,
        topics: &TopicsView,
        now: Instant,
    ) -> HeartbeatResult {
        if r.member_epoch == LEAVE_GROUP_MEMBER_EPOCH {
            if self.members.remove(&r.member_id).is_none() {
                return unknown_member(&r.member_id, group_id);
            }
            self.member_gone(&r.member_id);
            self.bump(topics, now);
            return HeartbeatResult {
                member_id: Some(r.member_id),
                member_epoch: LEAVE_GROUP_MEMBER_EPOCH,
                ..Default::default()
            };
        }
        let joining = r.member_epoch == 0;
        let mut changed = false;
        let member = match self.members.get_mut(&r.member_id) {
            Some(m)
                if !joining
                    && r.member_epoch != m.member_epoch
                    && (r.member_epoch > m.member_epoch || r.member_epoch != m.previous_member_epoch) =>
            {
                let which = if r.member_epoch > m.member_epoch { "greater" } else { "smaller" };
                let message = format!(
                    "The share group member has a {which} member epoch ({}) than the one known by the group \
                     coordinator ({}). The member must abandon all its partitions and rejoin.",
                    r.member_epoch, m.member_epoch
                );
                return HeartbeatResult::error(ErrorCode::FENCED_MEMBER_EPOCH, message);
            }
            Some(m) => m,
            None if !joining => return unknown_member(&r.member_id, group_id),
            None => {
                changed = true;
                self.members.entry(r.member_id.clone()).or_insert(ShareMember {
                    member_id: r.member_id.clone(),
                    rack_id: None,
                    client_id: String::new(),
                    client_host: String::new(),
                    subscribed_topic_names: Vec::new(),
                    member_epoch: 0,
                    previous_member_epoch: 0,
                    assigned: Partitions::new(),
                    deadline: now,
                })
            }
        };
        member.deadline = now + SESSION_TIMEOUT;
        member.client_id = r.client_id;
        if r.rack_id.is_some() && member.rack_id != r.rack_id {
            member.rack_id = r.rack_id;
        }
        if let Some(mut names) = r.subscribed_topic_names {
            names.sort();
            names.dedup();
            if names != member.subscribed_topic_names {
                member.subscribed_topic_names = names;
                changed = true;
            }
        }
        if changed || self.subscription(topics) != self.subscribed {
            self.bump(topics, now);
        } else {
            self.maybe_assign(topics, now);
        }
        let target = self.target.get(&r.member_id).cloned().unwrap_or_default();
        let assignment_epoch = self.assignment_epoch;
        let Some(member) = self.members.get_mut(&r.member_id) else {
            return unknown_member(&r.member_id, group_id);
        };
        let moved = member.member_epoch != assignment_epoch || member.assigned != target;
        if member.member_epoch != assignment_epoch {
            member.previous_member_epoch = member.member_epoch;
        }
        member.member_epoch = assignment_epoch;
        member.assigned = target;
        HeartbeatResult {
            member_id: Some(r.member_id),
            member_epoch: member.member_epoch,
            heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS,
            assignment: (joining || moved).then(|| member.assigned.clone()),
            ..Default::default()
        }
    }

    /// A member left or was removed: its session closes and its records are released.
    fn member_gone(&mut self, member_id: &str) {
        self.sessions.remove(member_id);
        for p in self.partitions.values_mut() {
            p.release_member(member_id);
        }
    }

    /// Closes the share session of `member_id` and releases its records.
    pub(crate) fn close_session(&mut self, member_id: &str) {
        self.member_gone(member_id);
    }

    /// Removes the members whose session timed out and releases the records whose lock
    /// expired; whether anything changed.
    pub(crate) fn tick(&mut self, topics: &TopicsView, now: Instant) -> bool {
        let expired: Vec<String> =
            self.members.values().filter(|m| m.deadline <= now).map(|m| m.member_id.clone()).collect();
        let mut changed = false;
        for id in &expired {
            self.members.remove(id);
            self.member_gone(id);
            changed = true;
        }
        if changed {
            self.bump(topics, now);
        }
        for p in self.partitions.values_mut() {
            changed |= p.expire_locks(now);
        }
        changed
    }
}

/// The share groups' timers ([`ShareGroup::tick`]), from the cluster's tick loop; whether
/// anything changed.
pub(crate) fn tick_all(state: &mut crate::state::State, now: Instant) -> bool {
    if state.share.groups.is_empty() {
        return false;
    }
    let topics = topics_view(state);
    let mut changed = false;
    for g in state.share.groups.values_mut() {
        changed |= g.tick(&topics, now);
    }
    changed
}

/// Every topic as a heartbeat sees it: name to (id, partition count).
pub(crate) fn topics_view(state: &crate::state::State) -> TopicsView {
    state.topics.iter().map(|(name, t)| (name.clone(), (t.id, t.partitions.len() as i32))).collect()
}

fn unknown_member(member_id: &str, group_id: &str) -> HeartbeatResult {
    HeartbeatResult::error(
        ErrorCode::UNKNOWN_MEMBER_ID,
        format!("Member {member_id} is not a member of group {group_id}."),
    )
}

/// Kafka's `SimpleAssignor` (share groups): the partitions of the topics subscribed to are
/// spread over the members subscribed to them, in member id order; with more members than
/// partitions, partitions are shared (member `i` of `n` gets partition `i % partitions`).
/// Kafka keeps earlier assignments where it can; here the spread depends only on the members.
fn simple_assign(members: &BTreeMap<String, ShareMember>, topics: &TopicsView) -> BTreeMap<String, Partitions> {
    let mut target: BTreeMap<String, Partitions> = members.keys().map(|id| (id.clone(), Partitions::new())).collect();
    let names: BTreeSet<&String> = members.values().flat_map(|m| m.subscribed_topic_names.iter()).collect();
    for name in names {
        let Some(&(id, count)) = topics.get(name) else { continue };
        let subscribers: Vec<&String> =
            members.values().filter(|m| m.subscribed_topic_names.contains(name)).map(|m| &m.member_id).collect();
        let n = subscribers.len() as i32;
        if n == 0 || count <= 0 {
            continue;
        }
        if n <= count {
            for p in 0..count {
                let member = subscribers[(p % n) as usize];
                target.entry(member.clone()).or_default().entry(id).or_default().insert(p);
            }
        } else {
            for (i, member) in subscribers.iter().enumerate() {
                target.entry((*member).clone()).or_default().entry(id).or_default().insert(i as i32 % count);
            }
        }
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics() -> TopicsView {
        [("t".to_owned(), (Uuid::from_u128(7), 3))].into_iter().collect()
    }

    fn beat(id: &str, epoch: i32) -> HeartbeatRequest {
        HeartbeatRequest {
            member_id: id.into(),
            member_epoch: epoch,
            subscribed_topic_names: (epoch == 0).then(|| vec!["t".to_owned()]),
            ..Default::default()
        }
    }

    fn count(r: &HeartbeatResult) -> usize {
        r.assignment.as_ref().map_or(0, |a| a.values().map(BTreeSet::len).sum())
    }

    #[test]
    fn members_join_share_partitions_and_get_fenced() {
        let now = Instant::now();
        let mut g = ShareGroup::new();
        let a = g.heartbeat("g", beat("a", 0), &topics(), now);
        assert_eq!((a.member_epoch, count(&a)), (1, 3));
        // Within the assignment interval, b waits in the previous assignment epoch.
        let b = g.heartbeat("g", beat("b", 0), &topics(), now);
        assert_eq!((b.member_epoch, count(&b), g.group_epoch), (1, 0, 2));
        let now = now + ASSIGNMENT_INTERVAL;
        let b = g.heartbeat("g", beat("b", 1), &topics(), now);
        assert_eq!((b.member_epoch, count(&b)), (2, 1));
        let a = g.heartbeat("g", beat("a", 1), &topics(), now);
        assert_eq!((a.member_epoch, count(&a)), (2, 2));
        // The previous epoch is accepted (its answer may have been lost), older ones are fenced.
        assert_eq!(g.heartbeat("g", beat("a", 1), &topics(), now).error, ErrorCode::NONE);
        assert_eq!(g.heartbeat("g", beat("a", 3), &topics(), now).error, ErrorCode::FENCED_MEMBER_EPOCH);
        assert_eq!(g.heartbeat("g", beat("c", 1), &topics(), now).error, ErrorCode::UNKNOWN_MEMBER_ID);
        // Four members on three partitions: every member gets one.
        g.heartbeat("g", beat("c", 0), &topics(), now + ASSIGNMENT_INTERVAL);
        let now = now + ASSIGNMENT_INTERVAL * 2;
        g.heartbeat("g", beat("d", 0), &topics(), now);
        assert_eq!(g.target.len(), 4);
        assert!(g.target.values().all(|p| p.values().map(BTreeSet::len).sum::<usize>() == 1));
        assert!(!g.tick(&topics(), now));
        assert!(g.tick(&topics(), now + SESSION_TIMEOUT));
        assert_eq!(g.state_name(), "Empty");
    }
}
