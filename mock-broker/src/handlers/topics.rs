//! CreateTopics and DeleteTopics (any broker acts as the controller).

use std::collections::{BTreeMap, HashMap};

use kafka_wire::create_topics::{self, CreatableTopicConfigs, CreatableTopicResult};
use kafka_wire::delete_topics::{self, DeletableTopicResult};
use kafka_wire::ErrorCode;

use crate::server::Ctx;
use crate::state::TOPIC_CONFIGS;

/// Config sources: DYNAMIC_TOPIC_CONFIG when set on the topic, DEFAULT_CONFIG otherwise.
const DYNAMIC_TOPIC_CONFIG: i8 = 1;
const DEFAULT_CONFIG: i8 = 5;

pub(crate) fn create_topics(ctx: &Ctx<'_>, r: &create_topics::Request) -> create_topics::Response {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &r.topics {
        *counts.entry(&t.name).or_default() += 1;
    }
    let mut state = ctx.shared.state();
    let topics = r
        .topics
        .iter()
        .map(|t| {
            let mut out = CreatableTopicResult { name: t.name.clone(), ..Default::default() };
            let assignments: Vec<(i32, Vec<i32>)> =
                t.assignments.iter().map(|a| (a.partition_index, a.broker_ids.to_vec())).collect();
            let configs: Vec<(String, Option<String>)> =
                t.configs.iter().map(|c| (c.name.to_string(), c.value.as_deref().map(str::to_owned))).collect();
            let outcome = if let Some(code) = ctx.forced {
                Err((code, format!("injected failure: {code}")))
            } else if counts[&*t.name] > 1 {
                let message = format!("Create topics request contains multiple entries for {}", t.name);
                Err((ErrorCode::INVALID_REQUEST, message))
            } else {
                state.create_topic(
                    &t.name,
                    t.num_partitions,
                    t.replication_factor,
                    &assignments,
                    &configs,
                    r.validate_only,
                )
            };
            match outcome {
                Ok(created) => {
                    out.topic_id = created.id;
                    out.num_partitions = created.partitions;
                    out.replication_factor = created.replication_factor;
                    let mut all: BTreeMap<&str, &str> = TOPIC_CONFIGS.iter().map(|(k, v, _)| (*k, *v)).collect();
                    all.extend(created.configs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                    let set = |name: &str| configs.iter().any(|(n, _)| n == name);
                    out.configs = Some(
                        all.into_iter()
                            .map(|(name, value)| CreatableTopicConfigs {
                                name: name.into(),
                                value: Some(value.into()),
                                config_source: if set(name) { DYNAMIC_TOPIC_CONFIG } else { DEFAULT_CONFIG },
                                ..Default::default()
                            })
                            .collect(),
                    );
                }
                Err((code, message)) => {
                    out.error_code = code;
                    out.error_message = Some(message.into());
                }
            }
            out
        })
        .collect();
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
