//! DescribeConfigs v1-4 for topics (every topic config, set or default, with synonyms) and
//! brokers (the settings the mock has).
#![allow(clippy::field_reassign_with_default)]

use kafka_wire::{describe_configs, AnyResponse, ErrorCode};

use crate::compat::ListField;
use crate::server::Ctx;
use crate::topic_configs::{self, STATIC_BROKER_CONFIG};

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
                        for e in topic_configs::effective(&topic.configs).filter(|e| wanted(e.config.name)) {
                            d.configs.push(Entry {
                                name: e.config.name.to_string(),
                                value: Some(e.value),
                                read_only: false,
                                source: e.source,
                                kind: e.config.kind,
                                synonyms: if synonyms {
                                    e.synonyms
                                        .into_iter()
                                        .map(|(name, value, source)| (name, Some(value), source))
                                        .collect()
                                } else {
                                    Vec::new()
                                },
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
                            synonyms: if synonyms {
                                vec![(name.to_owned(), value.clone(), STATIC_BROKER_CONFIG)]
                            } else {
                                Vec::new()
                            },
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

macro_rules! read {
    ($r:ident) => {
        (
            $r.resources
                .iter()
                .map(|r| {
                    (
                        r.resource_type,
                        r.resource_name.to_string(),
                        r.configuration_keys.items().map(|k| k.iter().map(|k| k.to_string()).collect()),
                    )
                })
                .collect::<Vec<Resource>>(),
            $r.include_synonyms,
        )
    };
}

macro_rules! emit {
    ($v:ident, $results:ident, [$($f:ident)*]) => {{
        use describe_configs::$v as m;
        let mut out = m::Response::default();
        out.throttle_time_ms = 0;
        out.results = $results
            .iter()
            .map(|d| {
                let mut r = m::DescribeConfigsResult::default();
                r.error_code = d.error.0;
                r.error_message = d.message.as_deref().map(Into::into);
                r.resource_type = d.resource_type;
                r.resource_name = d.resource_name.as_str().into();
                r.configs = d
                    .configs
                    .iter()
                    .map(|e| {
                        let mut c = m::DescribeConfigsResourceResult::default();
                        c.name = e.name.as_str().into();
                        c.value = e.value.as_deref().map(Into::into);
                        c.read_only = e.read_only;
                        c.config_source = e.source;
                        c.is_sensitive = false;
                        c.synonyms = e
                            .synonyms
                            .iter()
                            .map(|(name, value, source)| m::DescribeConfigsSynonym {
                                name: name.as_str().into(),
                                value: value.as_deref().map(Into::into),
                                source: *source,
                                ..Default::default()
                            })
                            .collect();
                        $( emit!(@config $f c e); )*
                        c
                    })
                    .collect();
                r
            })
            .collect();
        AnyResponse::from(out)
    }};
    (@config kind $c:ident $e:ident) => { $c.config_type = $e.kind; };
}

pub(crate) fn describe_configs(ctx: &Ctx<'_>, request: &describe_configs::AnyRequest) -> Option<AnyResponse> {
    use describe_configs::AnyRequest as A;
    let (resources, synonyms) = match request {
        A::V1(r) => read!(r),
        A::V2(r) => read!(r),
        A::V3(r) => read!(r),
        A::V4(r) => read!(r),
        _ => return None,
    };
    let results = describe(ctx, resources, synonyms);
    Some(match request.version() {
        1 => emit!(v1, results, []),
        2 => emit!(v2, results, []),
        3 => emit!(v3, results, [kind]),
        4 => emit!(v4, results, [kind]),
        _ => return None,
    })
}
