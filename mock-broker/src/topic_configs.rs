//! Apache Kafka 4.4's topic configs: their defaults and types, the broker configs Kafka names as
//! their synonyms, and the value each config of a topic takes (set on the topic, a cluster-wide
//! dynamic default, or Kafka's default) with its DescribeConfigs source. What a Kafka 4.4
//! cluster with default settings answers in CreateTopics v5+ and DescribeConfigs.

use std::collections::BTreeMap;

/// DescribeConfigs config sources (KIP-226).
pub(crate) const TOPIC_CONFIG: i8 = 1;
pub(crate) const DYNAMIC_BROKER_CONFIG: i8 = 2;
pub(crate) const DYNAMIC_DEFAULT_BROKER_CONFIG: i8 = 3;
pub(crate) const STATIC_BROKER_CONFIG: i8 = 4;
pub(crate) const DEFAULT_CONFIG: i8 = 5;

/// DescribeConfigs config types.
pub(crate) const BOOLEAN: i8 = 1;
pub(crate) const STRING: i8 = 2;
pub(crate) const INT: i8 = 3;
pub(crate) const LONG: i8 = 5;
pub(crate) const DOUBLE: i8 = 6;
pub(crate) const LIST: i8 = 7;

/// A topic config.
#[derive(Debug)]
pub(crate) struct TopicConfig {
    pub(crate) name: &'static str,
    pub(crate) default: &'static str,
    /// The DescribeConfigs type.
    pub(crate) kind: i8,
    /// The broker config Kafka lists as a synonym (with its default) when describing it.
    pub(crate) broker_synonym: Option<&'static str>,
}

const fn config(
    name: &'static str,
    default: &'static str,
    kind: i8,
    broker_synonym: Option<&'static str>,
) -> TopicConfig {
    TopicConfig { name, default, kind, broker_synonym }
}

/// Every topic config of Kafka 4.4, by name.
pub(crate) const TOPIC_CONFIGS: &[TopicConfig] = &[
    config("cleanup.policy", "delete", LIST, Some("log.cleanup.policy")),
    config("compression.gzip.level", "-1", INT, Some("compression.gzip.level")),
    config("compression.lz4.level", "9", INT, Some("compression.lz4.level")),
    config("compression.type", "producer", STRING, Some("compression.type")),
    config("compression.zstd.level", "3", INT, Some("compression.zstd.level")),
    config("delete.retention.ms", "86400000", LONG, Some("log.cleaner.delete.retention.ms")),
    config("errors.deadletterqueue.group.enable", "false", BOOLEAN, None),
    config("file.delete.delay.ms", "60000", LONG, Some("log.segment.delete.delay.ms")),
    config("flush.messages", "9223372036854775807", LONG, Some("log.flush.interval.messages")),
    config("flush.ms", "9223372036854775807", LONG, None),
    config("follower.replication.throttled.replicas", "", LIST, None),
    config("index.interval.bytes", "4096", INT, Some("log.index.interval.bytes")),
    config("leader.replication.throttled.replicas", "", LIST, None),
    config("local.retention.bytes", "-2", LONG, Some("log.local.retention.bytes")),
    config("local.retention.ms", "-2", LONG, Some("log.local.retention.ms")),
    config("max.compaction.lag.ms", "9223372036854775807", LONG, Some("log.cleaner.max.compaction.lag.ms")),
    config("max.decompressed.message.bytes", "2147483639", INT, Some("max.decompressed.message.bytes")),
    config("max.message.bytes", "1048588", INT, Some("message.max.bytes")),
    config("message.timestamp.after.max.ms", "3600000", LONG, Some("log.message.timestamp.after.max.ms")),
    config("message.timestamp.before.max.ms", "9223372036854775807", LONG, Some("log.message.timestamp.before.max.ms")),
    config("message.timestamp.type", "CreateTime", STRING, Some("log.message.timestamp.type")),
    config("min.cleanable.dirty.ratio", "0.5", DOUBLE, Some("log.cleaner.min.cleanable.ratio")),
    config("min.compaction.lag.ms", "0", LONG, Some("log.cleaner.min.compaction.lag.ms")),
    config("min.insync.replicas", "1", INT, Some("min.insync.replicas")),
    config("preallocate", "false", BOOLEAN, Some("log.preallocate")),
    config("remote.copy.lag.bytes", "-1", LONG, Some("log.remote.copy.lag.bytes")),
    config("remote.copy.lag.ms", "0", LONG, Some("log.remote.copy.lag.ms")),
    config("remote.log.copy.disable", "false", BOOLEAN, None),
    config("remote.log.delete.on.disable", "false", BOOLEAN, None),
    config("remote.storage.enable", "false", BOOLEAN, None),
    config("retention.bytes", "-1", LONG, Some("log.retention.bytes")),
    config("retention.ms", "604800000", LONG, None),
    config("segment.bytes", "1073741824", INT, Some("log.segment.bytes")),
    config("segment.index.bytes", "10485760", INT, Some("log.index.size.max.bytes")),
    config("segment.jitter.ms", "0", LONG, None),
    config("segment.ms", "604800000", LONG, None),
    config("unclean.leader.election.enable", "false", BOOLEAN, Some("unclean.leader.election.enable")),
];

/// The cluster-wide dynamic broker configs a new Kafka 4 cluster has: its storage format writes
/// `min.insync.replicas` (for eligible leader replicas, KIP-966).
pub(crate) const CLUSTER_DEFAULTS: &[(&str, &str)] = &[("min.insync.replicas", "1")];

/// The topic config `name`, if Kafka has one.
pub(crate) fn find(name: &str) -> Option<&'static TopicConfig> {
    TOPIC_CONFIGS.iter().find(|c| c.name == name)
}

/// One config of a topic, as CreateTopics and DescribeConfigs show it.
#[derive(Debug)]
pub(crate) struct Effective {
    pub(crate) config: &'static TopicConfig,
    pub(crate) value: String,
    pub(crate) source: i8,
    /// (name, value, source), in order of precedence.
    pub(crate) synonyms: Vec<(String, String, i8)>,
}

/// Every config of a topic whose configs `set` were set on it.
pub(crate) fn effective(set: &BTreeMap<String, String>) -> impl Iterator<Item = Effective> + '_ {
    effective_on(set, None, None)
}

/// Every config of a topic whose configs `set` were set on it, as a broker with these dynamic
/// broker configs (its own, and the cluster-wide defaults; by broker config name) shows it: a
/// broker config that is the synonym of a topic config comes after the topic's own value, own
/// before cluster-wide (Kafka's `DynamicBrokerConfig` precedence).
pub(crate) fn effective_on<'a>(
    set: &'a BTreeMap<String, String>,
    broker: Option<&'a BTreeMap<String, String>>,
    cluster_dynamic: Option<&'a BTreeMap<String, String>>,
) -> impl Iterator<Item = Effective> + 'a {
    TOPIC_CONFIGS.iter().map(move |config| {
        let cluster = CLUSTER_DEFAULTS.iter().find(|(n, _)| *n == config.name).map(|(_, v)| *v);
        let mut synonyms = Vec::new();
        if let Some(v) = set.get(config.name) {
            synonyms.push((config.name.to_owned(), v.clone(), TOPIC_CONFIG));
        }
        let dynamic = |map: Option<&BTreeMap<String, String>>| {
            config.broker_synonym.and_then(|b| map.and_then(|m| m.get(b)).map(|v| (b.to_owned(), v.clone())))
        };
        if let Some((name, v)) = dynamic(broker) {
            synonyms.push((name, v, DYNAMIC_BROKER_CONFIG));
        }
        match dynamic(cluster_dynamic) {
            Some((name, v)) => synonyms.push((name, v, DYNAMIC_DEFAULT_BROKER_CONFIG)),
            None => {
                if let Some(v) = cluster {
                    synonyms.push((config.name.to_owned(), v.to_owned(), DYNAMIC_DEFAULT_BROKER_CONFIG));
                }
            }
        }
        if let Some(broker) = config.broker_synonym {
            synonyms.push((broker.to_owned(), config.default.to_owned(), DEFAULT_CONFIG));
        }
        let (value, source) = match synonyms.first() {
            Some((_, v, source)) => (v.clone(), *source),
            None => (config.default.to_owned(), DEFAULT_CONFIG),
        };
        Effective { config, value, source, synonyms }
    })
}

/// The values Kafka accepts for its enumerated topic configs (a list config takes several).
const ALLOWED: &[(&str, &[&str])] = &[
    ("cleanup.policy", &["compact", "delete"]),
    ("compression.type", &["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
    ("message.timestamp.type", &["CreateTime", "LogAppendTime"]),
];

/// Checks a value as Kafka's `ConfigDef` parses and validates it: its type, and for enumerated
/// configs its values. `Err`: Kafka's message.
pub(crate) fn validate(config: &TopicConfig, value: &str) -> Result<(), String> {
    let why = match config.kind {
        BOOLEAN if value != "true" && value != "false" => Some("Expected value to be either true or false".to_owned()),
        INT if value.trim().parse::<i32>().is_err() => Some("Not a number of type INT".to_owned()),
        LONG if value.trim().parse::<i64>().is_err() => Some("Not a number of type LONG".to_owned()),
        DOUBLE if value.trim().parse::<f64>().is_err() => Some("Not a number of type DOUBLE".to_owned()),
        _ => ALLOWED.iter().find(|(name, _)| *name == config.name).and_then(|(_, allowed)| {
            let values: Vec<&str> =
                if config.kind == LIST { value.split(',').map(str::trim).collect() } else { vec![value] };
            let ok = values.iter().all(|v| allowed.contains(v));
            (!ok).then(|| format!("String must be one of: {}", allowed.join(", ")))
        }),
    };
    match why {
        None => Ok(()),
        Some(why) => Err(format!("Invalid value {value} for configuration {}: {why}", config.name)),
    }
}

/// Broker configs that only `server.properties` sets (Kafka's `DynamicBrokerConfig` does not
/// list them): altering them is refused. The mock knows these of the broker configs it describes.
const STATIC_BROKER_CONFIGS: &[&str] = &[
    "auto.create.topics.enable",
    "broker.id",
    "default.replication.factor",
    "group.initial.rebalance.delay.ms",
    "group.max.session.timeout.ms",
    "group.min.session.timeout.ms",
    "log.retention.hours",
    "num.partitions",
    "offsets.topic.num.partitions",
];

/// Whether broker config `name` cannot be altered dynamically.
pub(crate) fn static_broker_config(name: &str) -> bool {
    STATIC_BROKER_CONFIGS.contains(&name)
}

/// Whether broker config `name` takes a list: the synonym of a list topic config, or one of the
/// list broker configs the mock describes.
pub(crate) fn broker_list_config(name: &str) -> bool {
    name == "sasl.enabled.mechanisms" || TOPIC_CONFIGS.iter().any(|c| c.kind == LIST && c.broker_synonym == Some(name))
}

/// The DescribeConfigs type of broker config `name`: that of the topic config it is a synonym
/// of, a string otherwise.
pub(crate) fn broker_config_kind(name: &str) -> i8 {
    TOPIC_CONFIGS.iter().find(|c| c.broker_synonym == Some(name)).map_or(STRING, |c| c.kind)
}
