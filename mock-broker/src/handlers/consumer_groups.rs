//! KIP-848 consumer groups on the coordinator: ConsumerGroupHeartbeat and ConsumerGroupDescribe
//! (the state machine is [`crate::consumer_group`]).

use kafka_wire::consumer_group_describe::{self, DescribedGroup};
use kafka_wire::consumer_group_heartbeat::{self, Assignment, TopicPartitions, TopicPartitionsResponse};
use kafka_wire::ErrorCode;
use tokio::time::Instant;

use super::groups::precheck;
use crate::assignor::Partitions;
use crate::consumer_group::{self, ConsumerGroup, HeartbeatRequest, HeartbeatResult, TopicsView};
use crate::context::Ctx;
use crate::state::State;

/// Every topic as a heartbeat sees it: name to (id, partition count).
fn topics_view(state: &State) -> TopicsView {
    state.topics.iter().map(|(name, t)| (name.clone(), (t.id, t.partitions.len() as i32))).collect()
}

fn partitions(owned: &[TopicPartitions]) -> Partitions {
    let mut out = Partitions::new();
    for t in owned {
        out.entry(t.topic_id).or_default().extend(t.partitions.iter().copied());
    }
    out
}

pub(crate) fn consumer_group_heartbeat(
    ctx: &Ctx<'_>,
    r: &consumer_group_heartbeat::Request,
) -> consumer_group_heartbeat::Response {
    let req = HeartbeatRequest {
        member_id: r.member_id.to_string(),
        member_epoch: r.member_epoch,
        instance_id: r.instance_id.as_deref().map(str::to_owned),
        rack_id: r.rack_id.as_deref().map(str::to_owned),
        rebalance_timeout_ms: r.rebalance_timeout_ms,
        subscribed_topic_names: r.subscribed_topic_names.as_ref().map(|n| n.iter().map(|s| s.to_string()).collect()),
        subscribed_topic_regex: r.subscribed_topic_regex.as_deref().map(str::to_owned),
        server_assignor: r.server_assignor.as_deref().map(str::to_owned),
        owned: r.topic_partitions.as_deref().map(partitions),
        client_id: ctx.client_id.to_owned(),
    };
    // Version 1 made the consumer generate its member id (KIP-1082), as it brought the regex.
    let member_id_required = consumer_group_heartbeat::Request::SUBSCRIBED_TOPIC_REGEX_VERSIONS.contains(ctx.version);
    let result = heartbeat(ctx, &r.group_id, req, member_id_required);
    consumer_group_heartbeat::Response {
        error_code: result.error,
        error_message: result.message.map(Into::into),
        member_id: result.member_id.map(Into::into),
        member_epoch: result.member_epoch,
        heartbeat_interval_ms: result.heartbeat_interval_ms,
        assignment: result.assignment.map(|a| Assignment {
            topic_partitions: a
                .into_iter()
                .map(|(topic_id, ps)| TopicPartitionsResponse {
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

fn heartbeat(ctx: &Ctx<'_>, group_id: &str, req: HeartbeatRequest, member_id_required: bool) -> HeartbeatResult {
    if let Some(code) = ctx.forced {
        return HeartbeatResult { error: code, ..Default::default() };
    }
    if let Some(invalid) = consumer_group::validate(group_id, &req, member_id_required) {
        return invalid;
    }
    let mut state = ctx.shared.state();
    if let Some(code) = precheck(ctx, &state, group_id) {
        return HeartbeatResult { error: code, ..Default::default() };
    }
    let topics = topics_view(&state);
    let leaving = req.member_epoch < 0;
    let joining = req.member_epoch == 0;
    let not_found = |message: String| HeartbeatResult::error(ErrorCode::GROUP_ID_NOT_FOUND, message);
    let group = match state.groups.get(group_id) {
        None if leaving => return not_found(format!("Group {group_id} not found.")),
        None if !joining => return not_found(format!("Consumer group {group_id} not found.")),
        Some(g) if g.consumer.is_none() && (!joining || !g.member_ids().is_empty()) => {
            // A classic group: Kafka converts an empty one when a member joins (and, with
            // `group.consumer.migration.policy`, a non-empty one; not done here).
            return not_found(format!("Group {group_id} is not a consumer group"));
        }
        _ => state.group_or_new(group_id),
    };
    let consumer = group.consumer.get_or_insert_with(ConsumerGroup::created);
    let mut events = Vec::new();
    let result = consumer.heartbeat(group_id, req, &topics, Instant::now(), &mut events);
    for e in events {
        group.event(e);
    }
    result
}

pub(crate) fn consumer_group_describe(
    ctx: &Ctx<'_>,
    r: &consumer_group_describe::Request,
) -> consumer_group_describe::Response {
    let state = ctx.shared.state();
    let groups = r
        .group_ids
        .iter()
        .map(|id| {
            let mut out =
                DescribedGroup { group_id: id.clone(), authorized_operations: i32::MIN, ..Default::default() };
            if let Some(code) = precheck(ctx, &state, id) {
                out.error_code = code;
                return out;
            }
            match state.groups.get(&**id).map(|g| g.consumer.as_ref()) {
                None => {
                    out.error_code = ErrorCode::GROUP_ID_NOT_FOUND;
                    out.error_message = Some(format!("Group {id} not found.").into());
                }
                Some(None) => {
                    out.error_code = ErrorCode::GROUP_ID_NOT_FOUND;
                    out.error_message = Some(format!("Group {id} is not a consumer group").into());
                }
                Some(Some(c)) => describe(&state, c, &mut out),
            }
            out
        })
        .collect();
    consumer_group_describe::Response { groups, ..Default::default() }
}

/// Kafka's `ConsumerGroup.asDescribedGroup`: the partitions of topics that no longer exist are
/// left out.
fn describe(state: &State, c: &ConsumerGroup, out: &mut DescribedGroup) {
    let named = |a: &Partitions| consumer_group_describe::Assignment {
        topic_partitions: a
            .iter()
            .filter_map(|(id, ps)| {
                let name = state.topic_name(*id)?;
                Some(consumer_group_describe::TopicPartitions {
                    topic_id: *id,
                    topic_name: name.into(),
                    partitions: ps.iter().copied().collect(),
                    ..Default::default()
                })
            })
            .collect(),
        ..Default::default()
    };
    out.group_state = c.state_name().into();
    out.group_epoch = c.group_epoch;
    out.assignment_epoch = c.assignment_epoch;
    out.assignor_name = c.preferred_assignor().into();
    let empty = Partitions::new();
    out.members = c
        .members
        .values()
        .map(|m| consumer_group_describe::Member {
            member_id: m.member_id.clone().into(),
            instance_id: m.instance_id.clone().map(Into::into),
            rack_id: m.rack_id.clone().map(Into::into),
            member_epoch: m.member_epoch,
            client_id: m.client_id.clone().into(),
            client_host: m.client_host.clone().into(),
            subscribed_topic_names: m.subscribed_topic_names.iter().map(|n| n.clone().into()).collect(),
            // Kafka 4.4 describes a member without a regex with an empty one.
            subscribed_topic_regex: Some(m.subscribed_topic_regex.clone().unwrap_or_default().into()),
            assignment: named(&m.assigned),
            target_assignment: named(c.target.get(&m.member_id).unwrap_or(&empty)),
            // KIP-1099: 1 for a member that uses the consumer protocol.
            member_type: 1,
            ..Default::default()
        })
        .collect();
}
