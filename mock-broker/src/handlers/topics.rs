//! CreateTopics v2-7 and DeleteTopics v1-6 (any broker acts as the controller).
#![allow(clippy::field_reassign_with_default)]

use std::collections::HashMap;

use kafka_wire::{create_topics, delete_topics, AnyResponse, ErrorCode, Uuid};

use crate::compat::{owned, StrField};
use crate::server::Ctx;
use crate::topic_configs;

/// One topic to create: name, partitions, replication factor, assignments, configs.
type Creatable = (String, i32, i16, Vec<(i32, Vec<i32>)>, Vec<(String, Option<String>)>);

struct CreateResult {
    name: String,
    error: ErrorCode,
    message: Option<String>,
    id: Uuid,
    partitions: i32,
    replication_factor: i16,
    /// The topic's configs (name, value, DescribeConfigs source); none on error.
    configs: Option<Vec<(String, String, i8)>>,
}

macro_rules! read_create {
    ($r:ident) => {
        (
            $r.topics
                .iter()
                .map(|t| {
                    (
                        t.name.to_string(),
                        t.num_partitions,
                        t.replication_factor,
                        t.assignments.iter().map(|a| (a.partition_index, a.broker_ids.to_vec())).collect(),
                        t.configs.iter().map(|c| (c.name.to_string(), owned(&c.value))).collect(),
                    )
                })
                .collect::<Vec<Creatable>>(),
            $r.validate_only,
        )
    };
}

/// Creates the topics; a name given twice is not created, and answered once, after the others,
/// with INVALID_REQUEST (as Kafka's ControllerApis does).
fn create(ctx: &Ctx<'_>, topics: Vec<Creatable>, validate_only: bool) -> Vec<CreateResult> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &topics {
        *counts.entry(t.0.as_str()).or_default() += 1;
    }
    let mut duplicates: Vec<String> = Vec::new();
    for t in &topics {
        if counts[t.0.as_str()] > 1 && !duplicates.contains(&t.0) {
            duplicates.push(t.0.clone());
        }
    }
    let failed = |name: String, code: ErrorCode, message: String| CreateResult {
        name,
        error: code,
        message: Some(message),
        id: Uuid::default(),
        partitions: -1,
        replication_factor: -1,
        // An error answer has an empty list of configs, not a null one.
        configs: Some(Vec::new()),
    };
    let mut state = ctx.shared.state();
    let mut results: Vec<CreateResult> = topics
        .into_iter()
        .filter(|t| !duplicates.contains(&t.0))
        .map(|(name, partitions, rf, assignments, configs)| {
            let outcome = match ctx.forced {
                Some(code) => Err((code, format!("injected failure: {code}"))),
                None => state.create_topic(&name, partitions, rf, &assignments, &configs, validate_only),
            };
            match outcome {
                Ok(created) => CreateResult {
                    name,
                    error: ErrorCode::NONE,
                    message: None,
                    id: created.id,
                    partitions: created.partitions,
                    replication_factor: created.replication_factor,
                    configs: Some(
                        topic_configs::effective(&created.configs)
                            .map(|e| (e.config.name.to_owned(), e.value, e.source))
                            .collect(),
                    ),
                },
                Err((code, message)) => failed(name, code, message),
            }
        })
        .collect();
    results.extend(
        duplicates.into_iter().map(|name| failed(name, ErrorCode::INVALID_REQUEST, "Duplicate topic name.".into())),
    );
    results
}

macro_rules! write_create {
    ($v:ident, $results:ident, [$($f:ident)*]) => {{
        use create_topics::$v as m;
        let mut out = m::Response::default();
        out.throttle_time_ms = 0;
        out.topics = $results
            .iter()
            .map(|r| {
                let mut t = m::CreatableTopicResult::default();
                t.name = r.name.as_str().into();
                t.error_code = r.error.0;
                t.error_message = r.message.as_deref().map(Into::into);
                $( write_create!(@topic $f t r); )*
                t
            })
            .collect();
        AnyResponse::from(out)
    }};
    (@topic details $t:ident $r:ident) => {
        $t.num_partitions = $r.partitions;
        $t.replication_factor = $r.replication_factor;
        $t.configs = $r.configs.as_ref().map(|configs| {
            configs
                .iter()
                .map(|(name, value, source)| m::CreatableTopicConfigs {
                    name: name.as_str().into(),
                    value: Some(value.as_str().into()),
                    read_only: false,
                    config_source: *source,
                    is_sensitive: false,
                    ..Default::default()
                })
                .collect()
        });
    };
    (@topic topic_id $t:ident $r:ident) => { $t.topic_id = $r.id; };
    (@topic $other:ident $t:ident $r:ident) => {};
}

pub(crate) fn create_topics(ctx: &Ctx<'_>, request: &create_topics::AnyRequest) -> Option<AnyResponse> {
    use create_topics::AnyRequest as A;
    let (topics, validate_only) = match request {
        A::V2(r) => read_create!(r),
        A::V3(r) => read_create!(r),
        A::V4(r) => read_create!(r),
        A::V5(r) => read_create!(r),
        A::V6(r) => read_create!(r),
        A::V7(r) => read_create!(r),
        _ => return None,
    };
    let results = create(ctx, topics, validate_only);
    Some(match request.version() {
        2 => write_create!(v2, results, []),
        3 => write_create!(v3, results, []),
        4 => write_create!(v4, results, []),
        5 => write_create!(v5, results, [details]),
        6 => write_create!(v6, results, [details]),
        7 => write_create!(v7, results, [details topic_id]),
        _ => return None,
    })
}

struct DeleteResult {
    name: Option<String>,
    id: Uuid,
    error: ErrorCode,
    message: Option<String>,
}

fn delete(ctx: &Ctx<'_>, topics: Vec<(Option<String>, Uuid)>) -> Vec<DeleteResult> {
    let mut state = ctx.shared.state();
    let results = topics
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
            let message = error.is_err().then(|| error.to_string());
            DeleteResult { name, id, error, message }
        })
        .collect();
    drop(state);
    ctx.shared.notify_changed();
    results
}

macro_rules! write_delete {
    ($v:ident, $results:ident, [$($f:ident)*]) => {{
        use delete_topics::$v as m;
        let mut out = m::Response::default();
        out.throttle_time_ms = 0;
        out.responses = $results
            .iter()
            .map(|r| {
                let mut t = m::DeletableTopicResult::default();
                t.name = StrField::opt(r.name.as_deref());
                t.error_code = r.error.0;
                $( write_delete!(@topic $f t r); )*
                t
            })
            .collect();
        AnyResponse::from(out)
    }};
    (@topic message $t:ident $r:ident) => { $t.error_message = $r.message.as_deref().map(Into::into); };
    (@topic topic_id $t:ident $r:ident) => { $t.topic_id = $r.id; };
    (@topic $other:ident $t:ident $r:ident) => {};
}

pub(crate) fn delete_topics(ctx: &Ctx<'_>, request: &delete_topics::AnyRequest) -> Option<AnyResponse> {
    use delete_topics::AnyRequest as A;
    let names =
        |names: &[kafka_wire::ByteString]| names.iter().map(|n| (Some(n.to_string()), Uuid::default())).collect();
    let topics: Vec<(Option<String>, Uuid)> = match request {
        A::V1(r) => names(&r.topic_names),
        A::V2(r) => names(&r.topic_names),
        A::V3(r) => names(&r.topic_names),
        A::V4(r) => names(&r.topic_names),
        A::V5(r) => names(&r.topic_names),
        A::V6(r) => r.topics.iter().map(|t| (owned(&t.name), t.topic_id)).collect(),
        _ => return None,
    };
    let results = delete(ctx, topics);
    Some(match request.version() {
        1 => write_delete!(v1, results, []),
        2 => write_delete!(v2, results, []),
        3 => write_delete!(v3, results, []),
        4 => write_delete!(v4, results, []),
        5 => write_delete!(v5, results, [message]),
        6 => write_delete!(v6, results, [message topic_id]),
        _ => return None,
    })
}
