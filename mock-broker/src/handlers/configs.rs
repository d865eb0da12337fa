//! DescribeConfigs for topics (Kafka 4.4's topic configs, set or default, with the synonyms
//! Kafka lists), the cluster-wide dynamic defaults (resource name "") and the broker that
//! receives the request (the settings the mock has, and the dynamic configs IncrementalAlterConfigs
//! or AlterConfigs set for it or for every broker). No documentation text.

use std::collections::BTreeMap;

use kafka_wire::describe_configs::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym, Request, Response,
};
use kafka_wire::ErrorCode;

use crate::context::Ctx;
use crate::topic_configs::{
    self, BOOLEAN, CLUSTER_DEFAULTS, DEFAULT_CONFIG, DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG, INT, LIST,
    STATIC_BROKER_CONFIG,
};

const TOPIC: i8 = 2;
const BROKER: i8 = 4;

struct Entry {
    name: String,
    value: Option<String>,
    read_only: bool,
    source: i8,
    kind: i8,
    /// (name, value, source) in order of precedence.
    synonyms: Vec<(String, Option<String>, i8)>,
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

/// A broker setting: name, value, Kafka's default, type, read-only.
type BrokerSetting<'a> = (&'a str, Option<String>, Option<&'static str>, i8, bool);

fn describe(ctx: &Ctx<'_>, resources: Vec<Resource>, synonyms: bool) -> Vec<Described> {
    let state = ctx.shared.state();
    resources
        .into_iter()
        .map(|(resource_type, resource_name, keys)| {
            // Kafka answers a success, and an unknown topic, with an empty message.
            let mut d = Described {
                error: ErrorCode::NONE,
                message: Some(String::new()),
                resource_type,
                resource_name,
                configs: Vec::new(),
            };
            let wanted = |name: &str| keys.as_ref().is_none_or(|k| k.iter().any(|k| k == name));
            let synonyms_of = |list: Vec<(String, Option<String>, i8)>| if synonyms { list } else { Vec::new() };
            if let Some(code) = ctx.forced {
                d.error = code;
                d.message = Some(format!("injected failure: {code}"));
                return d;
            }
            match resource_type {
                TOPIC => match state.topics.get(&d.resource_name) {
                    None => d.error = ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                    Some(topic) => {
                        let broker = state.broker_configs.get(&ctx.broker.to_string());
                        let cluster = state.broker_configs.get("");
                        let all = topic_configs::effective_on(&topic.configs, broker, cluster);
                        for e in all.filter(|e| wanted(e.config.name)) {
                            d.configs.push(Entry {
                                name: e.config.name.to_string(),
                                value: Some(e.value),
                                read_only: false,
                                source: e.source,
                                kind: e.config.kind,
                                synonyms: synonyms_of(
                                    e.synonyms
                                        .into_iter()
                                        .map(|(name, value, source)| (name, Some(value), source))
                                        .collect(),
                                ),
                            });
                        }
                    }
                },
                // The cluster-wide dynamic defaults.
                BROKER if d.resource_name.is_empty() => {
                    // The storage format's defaults, then those set by AlterConfigs.
                    let mut defaults: BTreeMap<String, String> =
                        CLUSTER_DEFAULTS.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
                    defaults.extend(state.broker_configs.get("").cloned().unwrap_or_default());
                    for (name, value) in defaults.into_iter().filter(|c| wanted(&c.0)) {
                        let kind = topic_configs::find(&name)
                            .map(|c| c.kind)
                            .unwrap_or_else(|| topic_configs::broker_config_kind(&name));
                        d.configs.push(Entry {
                            name: name.clone(),
                            value: Some(value.clone()),
                            read_only: false,
                            source: DYNAMIC_DEFAULT_BROKER_CONFIG,
                            kind,
                            synonyms: synonyms_of(vec![(name, Some(value), DYNAMIC_DEFAULT_BROKER_CONFIG)]),
                        });
                    }
                }
                // A broker describes only itself.
                BROKER if d.resource_name != ctx.broker.to_string() => {
                    d.error = ErrorCode::INVALID_REQUEST;
                    d.message = Some(format!(
                        "Unexpected broker id, expected {} or empty string, but received {}",
                        ctx.broker, d.resource_name
                    ));
                }
                BROKER => {
                    let s = &state.settings;
                    let mechanisms = ctx.shared.users.as_ref().map(|u| u.mechanism_names().join(","));
                    let ms = |d: std::time::Duration| Some(d.as_millis().to_string());
                    // (name, value, Kafka's default, type, read-only): a value other than the
                    // default is "set in server.properties" (static), as the mock's settings are.
                    let broker: Vec<BrokerSetting> = vec![
                        (
                            "auto.create.topics.enable",
                            Some(s.auto_create_topics.to_string()),
                            Some("true"),
                            BOOLEAN,
                            true,
                        ),
                        ("broker.id", Some(ctx.broker.to_string()), None, INT, true),
                        (
                            "default.replication.factor",
                            Some(s.default_replication_factor.to_string()),
                            Some("1"),
                            INT,
                            true,
                        ),
                        (
                            "group.initial.rebalance.delay.ms",
                            ms(s.group_initial_rebalance_delay),
                            Some("3000"),
                            INT,
                            true,
                        ),
                        ("group.max.session.timeout.ms", ms(s.group_max_session_timeout), Some("1800000"), INT, true),
                        ("group.min.session.timeout.ms", ms(s.group_min_session_timeout), Some("6000"), INT, true),
                        ("log.retention.hours", Some("168".into()), Some("168"), INT, true),
                        ("message.max.bytes", Some("1048588".into()), Some("1048588"), INT, false),
                        ("num.partitions", Some(s.default_partitions.to_string()), Some("1"), INT, true),
                        ("offsets.topic.num.partitions", Some("50".into()), Some("50"), INT, true),
                        ("sasl.enabled.mechanisms", mechanisms.or(Some("GSSAPI".into())), Some("GSSAPI"), LIST, false),
                    ];
                    // Configs set dynamically (for this broker, then for every broker) come first;
                    // one the mock does not describe otherwise is listed with them.
                    let own = state.broker_configs.get(&d.resource_name).cloned().unwrap_or_default();
                    let cluster = state.broker_configs.get("").cloned().unwrap_or_default();
                    let mut broker = broker;
                    for name in own.keys().chain(cluster.keys()) {
                        if !broker.iter().any(|c| c.0 == name) {
                            let kind = topic_configs::broker_config_kind(name);
                            broker.push((name.as_str(), None, None, kind, false));
                        }
                    }
                    broker.sort_by(|a, b| a.0.cmp(b.0));
                    for (name, value, default, kind, read_only) in broker.into_iter().filter(|c| wanted(c.0)) {
                        let mut list = Vec::new();
                        if let Some(v) = own.get(name) {
                            list.push((name.to_owned(), Some(v.clone()), DYNAMIC_BROKER_CONFIG));
                        }
                        if let Some(v) = cluster.get(name) {
                            list.push((name.to_owned(), Some(v.clone()), DYNAMIC_DEFAULT_BROKER_CONFIG));
                        }
                        let is_default = default.is_some() && value.as_deref() == default;
                        if !is_default && value.is_some() {
                            list.push((name.to_owned(), value.clone(), STATIC_BROKER_CONFIG));
                        }
                        if let Some(default) = default {
                            list.push((name.to_owned(), Some(default.to_owned()), DEFAULT_CONFIG));
                        }
                        let (value, source) = match list.first() {
                            Some((_, v, source)) => (v.clone(), *source),
                            None => (value, DEFAULT_CONFIG),
                        };
                        d.configs.push(Entry {
                            name: name.to_string(),
                            value,
                            read_only,
                            source,
                            kind,
                            synonyms: synonyms_of(list),
                        });
                    }
                }
                _ => {
                    d.error = ErrorCode::INVALID_REQUEST;
                    d.message = Some(
                        "This most likely occurs because of a request being malformed by the client library or the \
                         message was sent to an incompatible broker. See the broker logs for more details."
                            .into(),
                    );
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
                        .map(|(name, value, source)| DescribeConfigsSynonym {
                            name: name.as_str().into(),
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
                    // Kafka's documentation text is not here: null, as Kafka answers when not
                    // asked for it.
                    documentation: None,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    Response { results, ..Default::default() }
}
