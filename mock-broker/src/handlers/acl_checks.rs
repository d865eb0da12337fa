//! What each request needs from the authorizer, as Kafka 4.4's `KafkaApis` asks it: the
//! operations on the resources a request names, and the API's authorization error when one is
//! denied. The connection calls [`denied`] for an authenticated principal before handling a
//! request (the hook is wired at merge). The mock denies a whole request when any of its checks
//! fails, where Kafka answers the denied topics or groups of a batched request one by one.

use kafka_wire::{ApiRequest, ErrorCode, Uuid};

use super::acls::authorize;
use crate::state::State;

const TOPIC: i8 = 2;
const GROUP: i8 = 3;
const CLUSTER: i8 = 4;
const TRANSACTIONAL_ID: i8 = 5;
const CLUSTER_NAME: &str = "kafka-cluster";

const READ: i8 = 3;
const WRITE: i8 = 4;
const CREATE: i8 = 5;
const DELETE: i8 = 6;
const ALTER: i8 = 7;
const DESCRIBE: i8 = 8;
const DESCRIBE_CONFIGS: i8 = 10;
const ALTER_CONFIGS: i8 = 11;
const IDEMPOTENT_WRITE: i8 = 12;

/// One check: operation, resource type, resource name, the error if denied.
type Check = (i8, i8, String, ErrorCode);

fn topic(op: i8, name: &str) -> Check {
    (op, TOPIC, name.to_owned(), ErrorCode::TOPIC_AUTHORIZATION_FAILED)
}

fn group(op: i8, name: &str) -> Check {
    (op, GROUP, name.to_owned(), ErrorCode::GROUP_AUTHORIZATION_FAILED)
}

fn cluster(op: i8) -> Check {
    (op, CLUSTER, CLUSTER_NAME.to_owned(), ErrorCode::CLUSTER_AUTHORIZATION_FAILED)
}

fn transactional_id(op: i8, id: &str) -> Check {
    (op, TRANSACTIONAL_ID, id.to_owned(), ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
}

/// The checks of `request` (none for the APIs every authenticated principal may use:
/// ApiVersions, SASL, Metadata, DescribeCluster, ListGroups; Kafka filters the answers of the
/// last ones, the mock does not).
fn checks(state: &State, request: &ApiRequest) -> Vec<Check> {
    let by_id = |id: Uuid, name: &str| state.topic_name(id).map_or_else(|| name.to_owned(), str::to_owned);
    let config_checks = |op: i8, resources: Vec<(i8, String)>| -> Vec<Check> {
        resources
            .into_iter()
            .map(|(resource_type, name)| if resource_type == TOPIC { topic(op, &name) } else { cluster(op) })
            .collect()
    };
    match request {
        ApiRequest::Produce(r) => {
            let mut c: Vec<Check> = r.topic_data.iter().map(|t| topic(WRITE, &by_id(t.topic_id, &t.name))).collect();
            if let Some(id) = &r.transactional_id {
                c.push(transactional_id(WRITE, id));
            }
            c
        }
        ApiRequest::Fetch(r) => r.topics.iter().map(|t| topic(READ, &by_id(t.topic_id, &t.topic))).collect(),
        ApiRequest::ListOffsets(r) => r.topics.iter().map(|t| topic(DESCRIBE, &t.name)).collect(),
        ApiRequest::OffsetCommit(r) => {
            let mut c = vec![group(READ, &r.group_id)];
            c.extend(r.topics.iter().map(|t| topic(READ, &by_id(t.topic_id, &t.name))));
            c
        }
        ApiRequest::OffsetFetch(r) if r.groups.is_empty() => vec![group(DESCRIBE, &r.group_id)],
        ApiRequest::OffsetFetch(r) => r.groups.iter().map(|g| group(DESCRIBE, &g.group_id)).collect(),
        ApiRequest::FindCoordinator(r) => {
            let keys: Vec<&str> = if r.coordinator_keys.is_empty() {
                vec![&r.key]
            } else {
                r.coordinator_keys.iter().map(|k| &**k).collect()
            };
            keys.into_iter()
                .map(|k| if r.key_type == 1 { transactional_id(DESCRIBE, k) } else { group(DESCRIBE, k) })
                .collect()
        }
        ApiRequest::JoinGroup(r) => vec![group(READ, &r.group_id)],
        ApiRequest::SyncGroup(r) => vec![group(READ, &r.group_id)],
        ApiRequest::Heartbeat(r) => vec![group(READ, &r.group_id)],
        ApiRequest::LeaveGroup(r) => vec![group(READ, &r.group_id)],
        ApiRequest::DescribeGroups(r) => r.groups.iter().map(|g| group(DESCRIBE, g)).collect(),
        ApiRequest::DeleteGroups(r) => r.groups_names.iter().map(|g| group(DELETE, g)).collect(),
        ApiRequest::OffsetDelete(r) => {
            let mut c = vec![group(DELETE, &r.group_id)];
            c.extend(r.topics.iter().map(|t| topic(READ, &t.name)));
            c
        }
        ApiRequest::CreateTopics(r) => r.topics.iter().map(|t| topic(CREATE, &t.name)).collect(),
        ApiRequest::DeleteTopics(r) => {
            let named = r.topic_names.iter().map(|n| n.to_string());
            let listed =
                r.topics.iter().map(|t| t.name.as_deref().map_or_else(|| by_id(t.topic_id, ""), str::to_owned));
            named.chain(listed).map(|n| topic(DELETE, &n)).collect()
        }
        ApiRequest::CreatePartitions(r) => r.topics.iter().map(|t| topic(ALTER, &t.name)).collect(),
        ApiRequest::DeleteRecords(r) => r.topics.iter().map(|t| topic(DELETE, &t.name)).collect(),
        ApiRequest::DescribeConfigs(r) => config_checks(
            DESCRIBE_CONFIGS,
            r.resources.iter().map(|x| (x.resource_type, x.resource_name.to_string())).collect(),
        ),
        ApiRequest::AlterConfigs(r) => config_checks(
            ALTER_CONFIGS,
            r.resources.iter().map(|x| (x.resource_type, x.resource_name.to_string())).collect(),
        ),
        ApiRequest::IncrementalAlterConfigs(r) => config_checks(
            ALTER_CONFIGS,
            r.resources.iter().map(|x| (x.resource_type, x.resource_name.to_string())).collect(),
        ),
        ApiRequest::InitProducerId(r) => match &r.transactional_id {
            Some(id) => vec![transactional_id(WRITE, id)],
            None => vec![cluster(IDEMPOTENT_WRITE)],
        },
        ApiRequest::CreateAcls(_) | ApiRequest::DeleteAcls(_) => vec![cluster(ALTER)],
        ApiRequest::DescribeAcls(_) => vec![cluster(DESCRIBE)],
        ApiRequest::DescribeUserScramCredentials(_) | ApiRequest::DescribeLogDirs(_) => vec![cluster(DESCRIBE)],
        ApiRequest::AlterUserScramCredentials(_) | ApiRequest::ElectLeaders(_) => vec![cluster(ALTER)],
        _ => Vec::new(),
    }
}

/// The authorization error `request` gets when `principal` (`User:<name>`) sends it from
/// `host`, if any: super users are never denied; otherwise every check needs an ALLOW
/// ([`authorize`]). Creating topics is allowed by CREATE on the cluster or on the topic;
/// an idempotent producer by IDEMPOTENT_WRITE on the cluster or WRITE on any topic.
#[cfg_attr(not(test), allow(dead_code))] // the enforcement hook, wired at merge
pub(crate) fn denied(
    state: &State,
    super_users: &[String],
    principal: &str,
    host: &str,
    request: &ApiRequest,
) -> Option<ErrorCode> {
    if super_users.iter().any(|s| s == principal) {
        return None;
    }
    let acls = &state.acls;
    let allowed = |(op, resource_type, name, _): &Check| {
        authorize(acls, principal, host, *op, *resource_type, name)
            || (*op == CREATE
                && *resource_type == TOPIC
                && authorize(acls, principal, host, CREATE, CLUSTER, CLUSTER_NAME))
            || (*op == IDEMPOTENT_WRITE
                && state.topics.keys().any(|t| authorize(acls, principal, host, WRITE, TOPIC, t)))
    };
    checks(state, request).into_iter().find(|c| !allowed(c)).map(|(.., error)| error)
}

#[cfg(test)]
mod tests {
    use kafka_wire::{create_acls, join_group, produce};

    use super::*;
    use crate::config::MockConfig;
    use crate::state::AclBinding;

    fn allow(resource_type: i8, name: &str, principal: &str, operation: i8) -> AclBinding {
        AclBinding {
            resource_type,
            resource_name: name.into(),
            pattern_type: 3,
            principal: principal.into(),
            host: "*".into(),
            operation,
            permission: 3,
        }
    }

    /// Each API's authorization error, the ALLOW that lifts it, and the super users.
    #[test]
    fn requests_need_their_allows() {
        let mut state = State::new(&MockConfig::new(), &[9092]);
        let produce = ApiRequest::Produce(produce::Request {
            topic_data: vec![produce::TopicProduceData { name: "t".into(), ..Default::default() }],
            ..Default::default()
        });
        let join = ApiRequest::JoinGroup(join_group::Request { group_id: "g".into(), ..Default::default() });
        let acl = ApiRequest::CreateAcls(create_acls::Request::default());
        let alice = "User:alice";
        assert_eq!(denied(&state, &[], alice, "h", &produce), Some(ErrorCode::TOPIC_AUTHORIZATION_FAILED));
        assert_eq!(denied(&state, &[], alice, "h", &join), Some(ErrorCode::GROUP_AUTHORIZATION_FAILED));
        assert_eq!(denied(&state, &[], alice, "h", &acl), Some(ErrorCode::CLUSTER_AUTHORIZATION_FAILED));
        assert_eq!(denied(&state, &["User:admin".into()], "User:admin", "h", &acl), None);
        state.acls.push(allow(TOPIC, "t", alice, WRITE));
        state.acls.push(allow(GROUP, "g", alice, READ));
        assert_eq!(denied(&state, &[], alice, "h", &produce), None);
        assert_eq!(denied(&state, &[], alice, "h", &join), None);
        assert_eq!(denied(&state, &[], "User:bob", "h", &produce), Some(ErrorCode::TOPIC_AUTHORIZATION_FAILED));
        let api_versions = ApiRequest::ApiVersions(Default::default());
        assert_eq!(denied(&state, &[], "User:bob", "h", &api_versions), None);
    }
}
