//! DescribeConfigs for topics (every topic config, set or default, with synonyms) and brokers
//! (the settings the mock has).

use kafka_wire::describe_configs::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym, Request, Response,
};
use kafka_wire::ErrorCode;

use crate::server::Ctx;
use crate::state::TOPIC_CONFIGS;

const TOPIC: i8 = 2;
const BROKER: i8 = 4;
/// Config sources.
const TOPIC_CONFIG: i8 = 1;
const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;

struct Entry {
    name: String,
    value: Option<String>,
    read_only: bool,
    source: i8,
    kind: i8,
    /// (value, source) in order of precedence.
    synonyms: Vec<(Option<String>, i8)>,
}

struct Described {
    error: ErrorCode,
    message: Option<String>,
    resource_type: i8,
    resource_name: String,
    configs: Vec<Entry>,
}

/// (type, name, requested keys).
type Resource = (i8, String, Option<Vec<String>>);

fn describe(ctx: &Ctx<'_>, resources: Vec<Resource>, synonyms: bool) -> Vec<Described> {
    let state = ctx.shared.state();
    resources
        .into_iter()
        .map(|(resource_type, resource_name, keys)| {
            let mut d =
                Described { error: ErrorCode::NONE, message: None, resource_type, resource_name, configs: Vec::new() };
            let wanted = |name: &str| keys.as_ref().is_none_or(|k| k.iter().any(|k| k == name));
            if let Some(code) = ctx.forced {
                d.error = code;
                d.message = Some(format!("injected failure: {code}"));
                return d;
            }
            match resource_type {
                TOPIC => match state.topics.get(&d.resource_name) {
                    None => {
                        d.error = ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
                        d.message = Some(format!("Topic {} does not exist", d.resource_name));
                    }
                    Some(topic) => {
                        for (name, default, kind) in TOPIC_CONFIGS.iter().filter(|c| wanted(c.0)) {
                            let set = topic.configs.get(*name);
                            let mut syn = Vec::new();
                            if let Some(v) = set {
                                syn.push((Some(v.clone()), TOPIC_CONFIG));
                            }
                            syn.push((Some(default.to_string()), DEFAULT_CONFIG));
                            d.configs.push(Entry {
                                name: name.to_string(),
                                value: Some(set.cloned().unwrap_or_else(|| default.to_string())),
                                read_only: false,
                                source: if set.is_some() { TOPIC_CONFIG } else { DEFAULT_CONFIG },
                                kind: *kind,
                                synonyms: if synonyms { syn } else { Vec::new() },
                            });
                        }
                    }
                },
                BROKER => {
                    let id = if d.resource_name.is_empty() { Some(ctx.broker) } else { d.resource_name.parse().ok() };
                    if id.is_none_or(|id| !state.brokers.iter().any(|b| b.id == id)) {
                        d.error = ErrorCode::INVALID_REQUEST;
                        d.message = Some(format!("unknown broker {}", d.resource_name));
                        return d;
                    }
                    let s = &state.settings;
                    let mechanisms = ctx.shared.users.as_ref().map(|u| u.mechanism_names().join(","));
                    let broker: Vec<(&str, Option<String>, i8)> = vec![
                        ("auto.create.topics.enable", Some(s.auto_create_topics.to_string()), 1),
                        ("broker.id", id.map(|i| i.to_string()), 3),
                        ("default.replication.factor", Some(s.default_replication_factor.to_string()), 3),
                        (
                            "group.initial.rebalance.delay.ms",
                            Some(s.group_initial_rebalance_delay.as_millis().to_string()),
                            3,
                        ),
                        ("group.max.session.timeout.ms", Some(s.group_max_session_timeout.as_millis().to_string()), 3),
                        ("group.min.session.timeout.ms", Some(s.group_min_session_timeout.as_millis().to_string()), 3),
                        ("message.max.bytes", Some("1048588".into()), 3),
                        ("num.partitions", Some(s.default_partitions.to_string()), 3),
                        ("offsets.topic.num.partitions", Some("50".into()), 3),
                        ("sasl.enabled.mechanisms", mechanisms, 7),
                    ];
                    for (name, value, kind) in broker.into_iter().filter(|c| wanted(c.0)) {
                        d.configs.push(Entry {
                            name: name.to_string(),
                            synonyms: if synonyms { vec![(value.clone(), STATIC_BROKER_CONFIG)] } else { Vec::new() },
                            value,
                            read_only: true,
                            source: STATIC_BROKER_CONFIG,
                            kind,
                        });
                    }
                }
                other => {
                    d.error = ErrorCode::INVALID_REQUEST;
                    d.message = Some(format!("resource type {other} is not supported"));
                }
            }
            d
        })
        .collect()
}

pub(crate) fn describe_configs(ctx: &Ctx<'_>, r: &Request) -> Response {
    let resources = r
        .resources
        .iter()
        .map(|x| {
            let keys = x.configuration_keys.as_ref().map(|k| k.iter().map(|k| k.to_string()).collect());
            (x.resource_type, x.resource_name.to_string(), keys)
        })
        .collect();
    let results = describe(ctx, resources, r.include_synonyms)
        .into_iter()
        .map(|d| DescribeConfigsResult {
            error_code: d.error,
            error_message: d.message.map(Into::into),
            resource_type: d.resource_type,
            resource_name: d.resource_name.into(),
            configs: d
                .configs
                .into_iter()
                .map(|e| DescribeConfigsResourceResult {
                    synonyms: e
                        .synonyms
                        .iter()
                        .map(|(value, source)| DescribeConfigsSynonym {
                            name: e.name.as_str().into(),
                            value: value.as_deref().map(Into::into),
                            source: *source,
                            ..Default::default()
                        })
                        .collect(),
                    name: e.name.into(),
                    value: e.value.map(Into::into),
                    read_only: e.read_only,
                    config_source: e.source,
                    config_type: e.kind,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    Response { results, ..Default::default() }
}
