//! The admin side of classic consumer groups, as Kafka 4.4's group coordinator answers it
//! (`GroupMetadataManager`, `OffsetMetadataManager` and `ClassicGroup`): ListGroups,
//! DescribeGroups, DeleteGroups and OffsetDelete. A group exists from its first JoinGroup,
//! ConsumerGroupHeartbeat or OffsetCommit until DeleteGroups removes it. A consumer group
//! (KIP-848) is listed with its own type and state (`ConsumerGroup`), is not a classic group
//! to DescribeGroups, and is not empty while it has members.

use kafka_wire::consumer_protocol_subscription::ConsumerProtocolSubscription;
use kafka_wire::delete_groups::{self, DeletableGroupResult};
use kafka_wire::describe_groups::{self, DescribedGroup, DescribedGroupMember};
use kafka_wire::list_groups::{self, ListedGroup};
use kafka_wire::offset_delete::{self, OffsetDeleteResponsePartition, OffsetDeleteResponseTopic};
use kafka_wire::{join_group, ErrorCode, VersionFreeMessage};

use crate::context::Ctx;
use crate::group::{Group, GroupState};
use crate::state::State;

/// The authorized-operations bit field of a group without an authorizer: READ (3), DELETE (6),
/// DESCRIBE (8), DESCRIBE_CONFIGS (10) and ALTER_CONFIGS (11), the operations Kafka 4.4's
/// `AclEntry.supportedOperations` lists for groups.
const GROUP_OPERATIONS: i32 = (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11);

/// The error a request for `group_id` gets before reaching the group, if any: an injected one,
/// or a broker that does not coordinate the group. (Kafka 4.4 looks an empty group id up like
/// any other: a group that does not exist. The mock does so on any broker.)
fn precheck(ctx: &Ctx<'_>, state: &State, group_id: &str) -> Option<ErrorCode> {
    if let Some(code) = ctx.forced {
        return Some(code);
    }
    if group_id.is_empty() {
        return None;
    }
    match state.coordinator(group_id) {
        Some(b) if b.id == ctx.broker => None,
        Some(_) => Some(ErrorCode::NOT_COORDINATOR),
        None => Some(ErrorCode::COORDINATOR_NOT_AVAILABLE),
    }
}

/// Kafka's name of a classic group state (`ClassicGroupState.toString`).
fn state_name(state: GroupState) -> &'static str {
    match state {
        GroupState::Empty => "Empty",
        GroupState::PreparingRebalance => "PreparingRebalance",
        GroupState::CompletingRebalance => "CompletingRebalance",
        GroupState::Stable => "Stable",
    }
}

/// Kafka's name of a group's state as ListGroups gives it (`Group.stateAsString`): a consumer
/// group's (KIP-848) `ConsumerGroupState`, else the classic one.
fn listed_state(group: &Group) -> &'static str {
    match &group.consumer {
        Some(c) => c.state_name(),
        None => state_name(group.state),
    }
}

/// JoinGroup, remembering the client id of the member it answers (DescribeGroups shows it).
pub(crate) async fn join_group(ctx: &Ctx<'_>, r: &join_group::Request) -> join_group::Response {
    let response = super::groups::join_group(ctx, r).await;
    if !response.member_id.is_empty() {
        let mut state = ctx.shared.state();
        let group = r.group_id.to_string();
        let members = state.groups.get(&group).map(|g| g.member_ids()).unwrap_or_default();
        // Only the group's members (and this one, whose id may still be pending) are kept.
        state.member_clients.retain(|(g, m), _| *g != group || members.contains(m));
        state.member_clients.insert((group, response.member_id.to_string()), ctx.client_id.to_owned());
    }
    response
}

/// ListGroups: the groups this broker coordinates, filtered by state (case-insensitive) and by
/// type (`classic`, or `consumer` for a KIP-848 group; case-insensitive too).
pub(crate) fn list_groups(ctx: &Ctx<'_>, r: &list_groups::Request) -> list_groups::Response {
    if let Some(code) = ctx.forced {
        return list_groups::Response { error_code: code, ..Default::default() };
    }
    let states: Vec<String> = r.states_filter.iter().map(|s| s.trim().to_lowercase()).collect();
    let types: Vec<String> = r.types_filter.iter().map(|s| s.trim().to_lowercase()).collect();
    let state = ctx.shared.state();
    let mut groups: Vec<ListedGroup> = state
        .groups
        .iter()
        .filter(|(id, _)| state.coordinator(id).is_some_and(|b| b.id == ctx.broker))
        .filter(|(_, g)| states.is_empty() || states.contains(&listed_state(g).to_lowercase()))
        .filter(|(_, g)| types.is_empty() || types.iter().any(|t| t == group_type(g)))
        .map(|(id, g)| ListedGroup {
            group_id: id.as_str().into(),
            // A consumer group's protocol type is `consumer` (`ConsumerGroup.protocolType`).
            protocol_type: if g.is_consumer_group() { "consumer" } else { g.protocol_type().unwrap_or("") }.into(),
            group_state: listed_state(g).into(),
            group_type: group_type(g).into(),
            ..Default::default()
        })
        .collect();
    groups.sort_by(|a, b| a.group_id.cmp(&b.group_id));
    list_groups::Response { groups, ..Default::default() }
}

/// Kafka's name of a group's type (`Group.GroupType`).
fn group_type(group: &Group) -> &'static str {
    if group.is_consumer_group() {
        "consumer"
    } else {
        "classic"
    }
}

/// One group of a DescribeGroups answer: members with their metadata and assignment while the
/// group is stable, without metadata otherwise; an unknown group, or a consumer group
/// (KIP-848: not a classic group, Kafka's `GroupMetadataManager.classicGroup`), is `Dead` (from
/// v6 with GROUP_ID_NOT_FOUND and a message, KIP-1043).
fn describe_group(ctx: &Ctx<'_>, state: &State, id: &str, operations: bool) -> DescribedGroup {
    let mut out = DescribedGroup { group_id: id.into(), ..Default::default() };
    let with_message = describe_groups::DescribedGroup::ERROR_MESSAGE_VERSIONS.contains(ctx.version);
    if let Some(code) = precheck(ctx, state, id) {
        out.error_code = code;
        return out;
    }
    let group = match state.groups.get(id) {
        Some(g) if g.is_consumer_group() => Err(format!("Group {id} is not a classic group.")),
        Some(g) => Ok(g),
        None => Err(format!("Group {id} not found.")),
    };
    let group = match group {
        Ok(g) => g,
        Err(message) => {
            out.group_state = "Dead".into();
            if with_message {
                out.error_code = ErrorCode::GROUP_ID_NOT_FOUND;
                out.error_message = Some(message.into());
            } else if operations {
                // Kafka's `KafkaApis` gives the operations to every group answered without
                // an error, a dead one too (seen in the differential test).
                out.authorized_operations = GROUP_OPERATIONS;
            }
            return out;
        }
    };
    let stable = group.state == GroupState::Stable;
    out.group_state = state_name(group.state).into();
    out.protocol_type = group.protocol_type().unwrap_or("").into();
    if stable {
        out.protocol_data = group.protocol_name().unwrap_or("").into();
    }
    let host = state.live_broker(ctx.broker).map_or_else(|| "/127.0.0.1".to_owned(), |b| format!("/{}", b.host));
    out.members = group
        .described_members()
        .into_iter()
        .map(|m| DescribedGroupMember {
            client_id: state
                .member_clients
                .get(&(id.to_owned(), m.member_id.clone()))
                .map_or("", String::as_str)
                .into(),
            client_host: host.as_str().into(),
            member_id: m.member_id.into(),
            group_instance_id: m.instance_id.map(Into::into),
            member_metadata: if stable { m.metadata } else { Default::default() },
            member_assignment: m.assignment,
            ..Default::default()
        })
        .collect();
    if operations {
        out.authorized_operations = GROUP_OPERATIONS;
    }
    out
}

pub(crate) fn describe_groups(ctx: &Ctx<'_>, r: &describe_groups::Request) -> describe_groups::Response {
    let state = ctx.shared.state();
    let operations = r.include_authorized_operations
        && describe_groups::Request::INCLUDE_AUTHORIZED_OPERATIONS_VERSIONS.contains(ctx.version);
    let groups = r.groups.iter().map(|id| describe_group(ctx, &state, id, operations)).collect();
    describe_groups::Response { groups, ..Default::default() }
}

/// DeleteGroups: each group that exists and is empty goes, with its committed offsets (a
/// consumer group, KIP-848, is empty when it has no members). Kafka 4.4 sends no message with
/// GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP.
pub(crate) fn delete_groups(ctx: &Ctx<'_>, r: &delete_groups::Request) -> delete_groups::Response {
    let mut state = ctx.shared.state();
    let results = r
        .groups_names
        .iter()
        .map(|id| {
            let outcome = match precheck(ctx, &state, id) {
                Some(code) => Err((code, None)),
                None if state.groups.get(&**id).is_some_and(|g| !g.is_empty()) => {
                    Err((ErrorCode::NON_EMPTY_GROUP, None))
                }
                None => state.delete_group(id),
            };
            DeletableGroupResult {
                group_id: id.clone(),
                error_code: outcome.err().map_or(ErrorCode::NONE, |(code, _)| code),
                error_message: None,
                ..Default::default()
            }
        })
        .collect();
    delete_groups::Response { results, ..Default::default() }
}

/// Whether a member of the group subscribes to `topic`: in a consumer group (KIP-848), by
/// name or regex (`ConsumerGroup.isSubscribedToTopic`); in a classic group of protocol type
/// `consumer`, as `ClassicGroup.isSubscribedToTopic` reads it from the members' metadata for
/// the group's protocol (a member whose metadata does not decode counts as subscribed to
/// nothing).
fn subscribed(group: &Group, topic: &str) -> bool {
    if let Some(consumer) = &group.consumer {
        return consumer.subscribes_to(topic);
    }
    if group.protocol_type() != Some("consumer") || group.protocol_name().is_none() {
        return false;
    }
    group.described_members().iter().any(|m| {
        // The metadata is a ConsumerProtocolSubscription after its int16 version; a later
        // version than ours starts with the fields of ours (Kafka's `ConsumerProtocol`).
        let mut body = m.metadata.clone();
        if body.len() < 2 {
            return false;
        }
        let version = i16::from_be_bytes([body[0], body[1]]).min(ConsumerProtocolSubscription::versions().max);
        let _ = body.split_to(2);
        ConsumerProtocolSubscription::decode(version, &mut body).is_ok_and(|s| s.topics.iter().any(|t| **t == *topic))
    })
}

/// OffsetDelete (Kafka's `OffsetMetadataManager.deleteOffsets`): a group with members may
/// only lose the offsets of topics none of them subscribes to (GROUP_SUBSCRIBED_TO_TOPIC),
/// consumer groups (KIP-848) included; a classic group of another protocol type with members
/// may lose none (NON_EMPTY_GROUP).
pub(crate) fn offset_delete(ctx: &Ctx<'_>, r: &offset_delete::Request) -> offset_delete::Response {
    let mut state = ctx.shared.state();
    let failed = |code: ErrorCode| offset_delete::Response { error_code: code, ..Default::default() };
    if let Some(code) = precheck(ctx, &state, &r.group_id) {
        return failed(code);
    }
    let State { groups, topics, .. } = &mut *state;
    let Some(group) = groups.get_mut(&*r.group_id) else {
        return failed(ErrorCode::GROUP_ID_NOT_FOUND);
    };
    if !group.is_consumer_group() && group.state != GroupState::Empty && group.protocol_type() != Some("consumer") {
        return failed(ErrorCode::NON_EMPTY_GROUP);
    }
    let answers = r
        .topics
        .iter()
        .map(|t| {
            let subscribed = !group.is_empty() && subscribed(group, &t.name);
            let count = topics.get(&*t.name).map_or(0, |t| t.partitions.len());
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    // Kafka's `KafkaApis` answers partitions it does not know before asking
                    // the coordinator.
                    let known = usize::try_from(p.partition_index).is_ok_and(|i| i < count);
                    let error_code = if !known {
                        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                    } else if subscribed {
                        ErrorCode::GROUP_SUBSCRIBED_TO_TOPIC
                    } else {
                        group.delete_offset(&t.name, p.partition_index);
                        ErrorCode::NONE
                    };
                    OffsetDeleteResponsePartition {
                        partition_index: p.partition_index,
                        error_code,
                        ..Default::default()
                    }
                })
                .collect();
            OffsetDeleteResponseTopic { name: t.name.clone(), partitions, ..Default::default() }
        })
        .collect();
    offset_delete::Response { topics: answers, ..Default::default() }
}
