//! IncrementalAlterConfigs and AlterConfigs of topics and brokers, as Kafka 4.4 answers them
//! (the broker's `ConfigAdminManager.preprocess`, then the controller's
//! `ConfigurationControlManager` with `ControllerConfigurationValidator`). What they set is what
//! DescribeConfigs then shows.

use std::collections::{BTreeMap, HashSet};

use kafka_wire::{alter_configs, incremental_alter_configs, ErrorCode};

use crate::context::Ctx;
use crate::state::{AdminError, State};
use crate::topic_configs::{self, LIST};

const TOPIC: i8 = 2;
const BROKER: i8 = 4;

/// IncrementalAlterConfigs operations.
const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

/// One change: config name, operation, value.
type Change = (String, i8, Option<String>);

fn invalid_request(message: impl Into<String>) -> AdminError {
    (ErrorCode::INVALID_REQUEST, Some(message.into()))
}

/// The configs set on a resource: a topic's, or the dynamic ones of a broker ("" for the
/// cluster-wide defaults).
fn current(state: &State, resource_type: i8, name: &str) -> BTreeMap<String, String> {
    match resource_type {
        TOPIC => state.topics.get(name).map(|t| t.configs.clone()).unwrap_or_default(),
        _ => state.broker_configs.get(name).cloned().unwrap_or_default(),
    }
}

/// Whether config `name` of a resource of this type takes a list (APPEND and SUBTRACT need one).
fn is_list(resource_type: i8, name: &str) -> bool {
    match resource_type {
        TOPIC => topic_configs::find(name).is_some_and(|c| c.kind == LIST),
        _ => topic_configs::broker_list_config(name),
    }
}

/// Applies `changes` to `configs` (Kafka's `incrementalAlterConfigResource`).
fn apply(resource_type: i8, configs: &mut BTreeMap<String, String>, changes: &[Change]) -> Result<(), AdminError> {
    for (name, op, value) in changes {
        match *op {
            SET => {
                configs.insert(name.clone(), value.clone().unwrap_or_default());
            }
            DELETE => {
                configs.remove(name);
            }
            APPEND | SUBTRACT => {
                if !is_list(resource_type, name) {
                    let op = if *op == APPEND { "APPEND" } else { "SUBTRACT" };
                    return Err((
                        ErrorCode::INVALID_CONFIG,
                        Some(format!("Can't {op} to key {name} because its type is not LIST.")),
                    ));
                }
                let default = topic_configs::find(name).map_or("", |c| c.default);
                let old = configs.get(name).map_or(default, String::as_str);
                let mut parts: Vec<String> =
                    old.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect();
                for v in value.as_deref().unwrap_or("").split(',') {
                    if *op == APPEND {
                        if !parts.iter().any(|p| p == v) {
                            parts.push(v.to_owned());
                        }
                    } else if let Some(i) = parts.iter().position(|p| p == v) {
                        parts.remove(i);
                    }
                }
                configs.insert(name.clone(), parts.join(","));
            }
            other => return Err(invalid_request(format!("Unknown operations type {other}"))),
        }
    }
    Ok(())
}

/// Checks and (unless `validate_only`) makes the changes of one resource; `replace`: the legacy
/// AlterConfigs, whose configs replace every config set before.
fn alter(
    ctx: &Ctx<'_>,
    state: &mut State,
    resource_type: i8,
    name: &str,
    changes: &[Change],
    replace: bool,
    validate_only: bool,
) -> Result<(), AdminError> {
    if let Some(code) = ctx.forced {
        return Err((code, Some(format!("injected failure: {code}"))));
    }
    let mut seen = HashSet::new();
    if !changes.iter().all(|(n, ..)| seen.insert(n.as_str())) {
        return Err(invalid_request("Error due to duplicate config keys"));
    }
    let nulls: Vec<&str> =
        changes.iter().filter(|(_, op, v)| *op != DELETE && v.is_none()).map(|(n, ..)| &**n).collect();
    if !nulls.is_empty() {
        return Err(invalid_request(format!("Null value not supported for : {}", nulls.join(", "))));
    }
    match resource_type {
        TOPIC => {
            if name.is_empty() {
                return Err(invalid_request("Default topic resources are not allowed."));
            }
            let mut configs = if replace { BTreeMap::new() } else { current(state, TOPIC, name) };
            apply(TOPIC, &mut configs, changes)?;
            for (key, value) in &configs {
                let Some(config) = topic_configs::find(key) else {
                    return Err((ErrorCode::INVALID_CONFIG, Some(format!("Unknown topic config name: {key}"))));
                };
                topic_configs::validate(config, value).map_err(|m| (ErrorCode::INVALID_CONFIG, Some(m)))?;
            }
            let Some(topic) = state.topics.get_mut(name) else {
                return Err((
                    ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                    Some(format!("The topic '{name}' does not exist.")),
                ));
            };
            if !validate_only {
                topic.configs = configs;
            }
            Ok(())
        }
        BROKER => {
            if !name.is_empty() && name != ctx.broker.to_string() {
                return Err(match name.parse::<i32>() {
                    Ok(_) => {
                        invalid_request(format!("Unexpected broker id, expected {}, but received {name}", ctx.broker))
                    }
                    Err(_) => invalid_request(format!("Node id must be an integer, but it is: {name}")),
                });
            }
            let mut configs = if replace { BTreeMap::new() } else { current(state, BROKER, name) };
            apply(BROKER, &mut configs, changes)?;
            let fixed: Vec<&str> =
                changes.iter().map(|(n, ..)| n.as_str()).filter(|n| topic_configs::static_broker_config(n)).collect();
            if !fixed.is_empty() {
                return Err(invalid_request(format!(
                    "Cannot update these configs dynamically: [{}]",
                    fixed.join(", ")
                )));
            }
            if !validate_only {
                if configs.is_empty() {
                    state.broker_configs.remove(name);
                } else {
                    state.broker_configs.insert(name.to_owned(), configs);
                }
            }
            Ok(())
        }
        other => Err(invalid_request(format!("Unknown resource type {other}"))),
    }
}

/// The resources named more than once (each of their entries fails).
fn duplicates<'a>(keys: impl Iterator<Item = (i8, &'a str)>) -> HashSet<(i8, &'a str)> {
    let mut seen = HashSet::new();
    keys.filter(|k| !seen.insert(*k)).collect()
}

/// The outcome of each resource of a request, in order: a resource named twice fails every
/// time, the others are altered (see [`alter`]) under one lock of the state.
fn alter_each(
    ctx: &Ctx<'_>,
    resources: &[(i8, &str, Vec<Change>)],
    replace: bool,
    validate_only: bool,
) -> Vec<(ErrorCode, Option<String>)> {
    let twice = duplicates(resources.iter().map(|(t, name, _)| (*t, *name)));
    let mut state = ctx.shared.state();
    resources
        .iter()
        .map(|(resource_type, name, changes)| {
            let outcome = if twice.contains(&(*resource_type, *name)) {
                Err(invalid_request("Each resource must appear at most once."))
            } else {
                alter(ctx, &mut state, *resource_type, name, changes, replace, validate_only)
            };
            outcome.err().unwrap_or((ErrorCode::NONE, None))
        })
        .collect()
}

pub(crate) fn incremental_alter_configs(
    ctx: &Ctx<'_>,
    r: &incremental_alter_configs::Request,
) -> incremental_alter_configs::Response {
    let resources: Vec<(i8, &str, Vec<Change>)> = r
        .resources
        .iter()
        .map(|x| {
            let changes = x
                .configs
                .iter()
                .map(|c| (c.name.to_string(), c.config_operation, c.value.as_deref().map(str::to_owned)))
                .collect();
            (x.resource_type, &*x.resource_name, changes)
        })
        .collect();
    let outcomes = alter_each(ctx, &resources, false, r.validate_only);
    let responses = r
        .resources
        .iter()
        .zip(outcomes)
        .map(|(x, (error_code, error_message))| incremental_alter_configs::AlterConfigsResourceResponse {
            error_code,
            error_message: error_message.map(Into::into),
            resource_type: x.resource_type,
            resource_name: x.resource_name.clone(),
            ..Default::default()
        })
        .collect();
    incremental_alter_configs::Response { responses, ..Default::default() }
}

pub(crate) fn alter_configs(ctx: &Ctx<'_>, r: &alter_configs::Request) -> alter_configs::Response {
    let resources: Vec<(i8, &str, Vec<Change>)> = r
        .resources
        .iter()
        .map(|x| {
            let changes =
                x.configs.iter().map(|c| (c.name.to_string(), SET, c.value.as_deref().map(str::to_owned))).collect();
            (x.resource_type, &*x.resource_name, changes)
        })
        .collect();
    let outcomes = alter_each(ctx, &resources, true, r.validate_only);
    let responses = r
        .resources
        .iter()
        .zip(outcomes)
        .map(|(x, (error_code, error_message))| alter_configs::AlterConfigsResourceResponse {
            error_code,
            error_message: error_message.map(Into::into),
            resource_type: x.resource_type,
            resource_name: x.resource_name.clone(),
            ..Default::default()
        })
        .collect();
    alter_configs::Response { responses, ..Default::default() }
}
