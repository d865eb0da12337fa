//! CreateTopics and DeleteTopics (any broker acts as the controller).

use std::collections::HashMap;

use kafka_wire::create_topics::{self, CreatableTopicConfigs, CreatableTopicResult};
use kafka_wire::delete_topics::{self, DeletableTopicResult};
use kafka_wire::ErrorCode;

use crate::context::Ctx;
use crate::topic_configs;

/// Creates the topics; a name given twice is not created, and answered once, after the others,
/// with INVALID_REQUEST (as Kafka's ControllerApis does). An error answer keeps the defaults:
/// partitions and replication factor -1, an empty (not null) list of configs.
pub(crate) fn create_topics(ctx: &Ctx<'_>, r: &create_topics::Request) -> create_topics::Response {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &r.topics {
        *counts.entry(&t.name).or_default() += 1;
    }
    let mut duplicates: Vec<&str> = Vec::new();
    for t in &r.topics {
        if counts[&*t.name] > 1 && !duplicates.contains(&&*t.name) {
            duplicates.push(&t.name);
        }
    }
    let failed = |name: &str, code: ErrorCode, message: String| CreatableTopicResult {
        name: name.into(),
        error_code: code,
        error_message: Some(message.into()),
        ..Default::default()
    };
    let mut state = ctx.shared.state();
    let mut topics: Vec<CreatableTopicResult> = r
        .topics
        .iter()
        .filter(|t| !duplicates.contains(&&*t.name))
        .map(|t| {
            let assignments: Vec<(i32, Vec<i32>)> =
                t.assignments.iter().map(|a| (a.partition_index, a.broker_ids.to_vec())).collect();
            let configs: Vec<(String, Option<String>)> =
                t.configs.iter().map(|c| (c.name.to_string(), c.value.as_deref().map(str::to_owned))).collect();
            let outcome = match ctx.forced {
                Some(code) => Err((code, format!("injected failure: {code}"))),
                None => state.create_topic(
                    &t.name,
                    t.num_partitions,
                    t.replication_factor,
                    &assignments,
                    &configs,
                    r.validate_only,
                ),
            };
            match outcome {
                Ok(created) => CreatableTopicResult {
                    name: t.name.clone(),
                    error_message: None,
                    topic_id: created.id,
                    num_partitions: created.partitions,
                    replication_factor: created.replication_factor,
                    configs: Some(
                        topic_configs::effective(&created.configs)
                            .map(|e| CreatableTopicConfigs {
                                name: e.config.name.into(),
                                value: Some(e.value.into()),
                                config_source: e.source,
                                ..Default::default()
                            })
                            .collect(),
                    ),
                    ..Default::default()
                },
                Err((code, message)) => failed(&t.name, code, message),
            }
        })
        .collect();
    topics.extend(
        duplicates.into_iter().map(|name| failed(name, ErrorCode::INVALID_REQUEST, "Duplicate topic name.".into())),
    );
    create_topics::Response { topics, ..Default::default() }
}

pub(crate) fn delete_topics(ctx: &Ctx<'_>, r: &delete_topics::Request) -> delete_topics::Response {
    // Before v6 topics are named in `TopicNames`; from v6 by name or id in `Topics`.
    let named = r.topic_names.iter().map(|n| (Some(n.to_string()), kafka_wire::Uuid::ZERO));
    let wanted: Vec<_> =
        named.chain(r.topics.iter().map(|t| (t.name.as_deref().map(str::to_owned), t.topic_id))).collect();
    let mut state = ctx.shared.state();
    let responses = wanted
        .into_iter()
        .map(|(name, id)| {
            let by_id = name.is_none();
            let name = name.or_else(|| state.topic_name(id).map(str::to_owned));
            let id = name.as_ref().and_then(|n| state.topics.get(n)).map_or(id, |t| t.id);
            let error = match (&name, ctx.forced) {
                (_, Some(code)) => code,
                (None, None) => ErrorCode::UNKNOWN_TOPIC_ID,
                (Some(n), None) if state.delete_topic(n) => ErrorCode::NONE,
                (Some(_), None) if by_id => ErrorCode::UNKNOWN_TOPIC_ID,
                (Some(_), None) => ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
            };
            DeletableTopicResult {
                name: name.map(Into::into),
                topic_id: id,
                error_code: error,
                error_message: error.is_err().then(|| error.to_string().into()),
                ..Default::default()
            }
        })
        .collect();
    drop(state);
    ctx.shared.notify_changed();
    delete_topics::Response { responses, ..Default::default() }
}
