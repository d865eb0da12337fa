//! ACL enforcement (`MockConfig::authorizer`): what each request needs from the authorizer, as
//! Kafka 4.4's `KafkaApis` asks it, and the API's own answer when it is denied.
//!
//! APIs that name several topics, groups or config resources are answered entry by entry, as
//! Kafka answers them: the request is narrowed to what the principal may do and handled, the
//! denied entries are handled apart with the authorization error forced (`Ctx::forced`, the
//! path every handler already takes for injected errors: nothing is written) and their
//! entries added to the answer. An all-topics Metadata leaves out the topics the principal may
//! not describe, ListGroups the groups. Any other API is denied as a whole when one of its
//! checks fails ([`denied`]).

use kafka_wire::{metadata, ApiRequest, ApiResponse, ErrorCode, Uuid};

use super::acls::authorize;
use crate::context::{Ctx, Handled};
use crate::state::State;

const TOPIC: i8 = 2;
const GROUP: i8 = 3;
const CLUSTER: i8 = 4;
const TRANSACTIONAL_ID: i8 = 5;
const CLUSTER_NAME: &str = "kafka-cluster";
/// DescribeConfigs / AlterConfigs resource types: a topic; anything else is the cluster's.
const CONFIG_TOPIC: i8 = 2;

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
/// ApiVersions, SASL, Metadata, DescribeCluster, ListGroups; the answers of Metadata and
/// ListGroups are filtered instead, `hide`).
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
        ApiRequest::AddPartitionsToTxn(r) if r.transactions.is_empty() => {
            vec![transactional_id(WRITE, &r.v3_and_below_transactional_id)]
        }
        ApiRequest::AddOffsetsToTxn(r) => vec![transactional_id(WRITE, &r.transactional_id), group(READ, &r.group_id)],
        ApiRequest::TxnOffsetCommit(r) => vec![transactional_id(WRITE, &r.transactional_id), group(READ, &r.group_id)],
        ApiRequest::EndTxn(r) => vec![transactional_id(WRITE, &r.transactional_id)],
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
pub(crate) fn denied(
    state: &State,
    super_users: &[String],
    principal: &str,
    host: &str,
    request: &ApiRequest,
) -> Option<ErrorCode> {
    let who = Who { state, super_users, principal, host };
    checks(state, request).into_iter().find(|(op, rt, name, _)| !who.may(*op, *rt, name)).map(|(.., error)| error)
}

/// The principal a request is checked for.
struct Who<'a> {
    state: &'a State,
    super_users: &'a [String],
    principal: &'a str,
    host: &'a str,
}

impl Who<'_> {
    /// Whether `op` on the resource is allowed: super users always; otherwise an ALLOW
    /// ([`authorize`]); creating a topic also by CREATE on the cluster, an idempotent producer
    /// by WRITE on any topic (Kafka's `KafkaApis`).
    fn may(&self, op: i8, resource_type: i8, name: &str) -> bool {
        let acls = &self.state.acls;
        let (principal, host) = (self.principal, self.host);
        self.super_users.iter().any(|s| s == principal)
            || authorize(acls, principal, host, op, resource_type, name)
            || (op == CREATE
                && resource_type == TOPIC
                && authorize(acls, principal, host, CREATE, CLUSTER, CLUSTER_NAME))
            || (op == IDEMPOTENT_WRITE
                && self.state.topics.keys().any(|t| authorize(acls, principal, host, WRITE, TOPIC, t)))
    }

    /// Whether `op` on the topic named `name`, or with id `id` when `name` is empty, is
    /// allowed. A topic id that names no topic passes: the handler answers UNKNOWN_TOPIC_ID.
    fn may_topic(&self, op: i8, id: Uuid, name: &str) -> bool {
        if !name.is_empty() {
            return self.may(op, TOPIC, name);
        }
        self.state.topic_name(id).is_none_or(|n| self.may(op, TOPIC, n))
    }
}

/// What the connection does with a request under the authorizer.
enum Verdict {
    /// Handle it as it is.
    Handle,
    /// Denied as a whole: the API's answer with this error.
    Deny(ErrorCode),
    /// Handle the allowed part; answer each denied part with its error, in the same response.
    Split(Box<ApiRequest>, Vec<(ApiRequest, ErrorCode)>),
}

/// Splits `items` into the allowed and the denied ones; `rebuild` makes a request of either.
fn split<T: Clone>(
    items: &[T],
    code: ErrorCode,
    allowed: impl Fn(&T) -> bool,
    rebuild: impl Fn(Vec<T>) -> ApiRequest,
) -> Verdict {
    let (yes, no): (Vec<T>, Vec<T>) = items.iter().cloned().partition(|t| allowed(t));
    match (yes.is_empty(), no.is_empty()) {
        (_, true) => Verdict::Handle,
        (true, false) => Verdict::Deny(code),
        (false, false) => Verdict::Split(Box::new(rebuild(yes)), vec![(rebuild(no), code)]),
    }
}

/// Splits config resources: a denied topic gets TOPIC_AUTHORIZATION_FAILED, a denied broker
/// (or broker logger) CLUSTER_AUTHORIZATION_FAILED, as Kafka's `ConfigHelper` answers them.
fn split_configs<T: Clone>(
    items: &[T],
    op: i8,
    who: &Who<'_>,
    resource: impl Fn(&T) -> (i8, &str),
    rebuild: impl Fn(Vec<T>) -> ApiRequest,
) -> Verdict {
    let is_topic = |t: &T| resource(t).0 == CONFIG_TOPIC;
    let may = |t: &T| match resource(t) {
        (CONFIG_TOPIC, name) => who.may(op, TOPIC, name),
        _ => who.may(op, CLUSTER, CLUSTER_NAME),
    };
    let (yes, no): (Vec<T>, Vec<T>) = items.iter().cloned().partition(|t| may(t));
    if no.is_empty() {
        return Verdict::Handle;
    }
    let (topics, brokers): (Vec<T>, Vec<T>) = no.into_iter().partition(|t| is_topic(t));
    let mut denied = Vec::new();
    if !topics.is_empty() {
        denied.push((rebuild(topics), ErrorCode::TOPIC_AUTHORIZATION_FAILED));
    }
    if !brokers.is_empty() {
        denied.push((rebuild(brokers), ErrorCode::CLUSTER_AUTHORIZATION_FAILED));
    }
    Verdict::Split(Box::new(rebuild(yes)), denied)
}

/// The verdict on `request` for the APIs answered entry by entry; the others by [`denied`].
fn verdict(who: &Who<'_>, version: i16, request: &ApiRequest) -> Verdict {
    const TAF: ErrorCode = ErrorCode::TOPIC_AUTHORIZATION_FAILED;
    const GAF: ErrorCode = ErrorCode::GROUP_AUTHORIZATION_FAILED;
    match request {
        ApiRequest::Produce(r) => {
            if let Some(id) = r.transactional_id.as_deref() {
                if !who.may(WRITE, TRANSACTIONAL_ID, id) {
                    return Verdict::Deny(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
                }
            }
            let rebuild = |topic_data| ApiRequest::Produce(kafka_wire::produce::Request { topic_data, ..r.clone() });
            split(&r.topic_data, TAF, |t| who.may_topic(WRITE, t.topic_id, &t.name), rebuild)
        }
        ApiRequest::Fetch(r) => {
            let rebuild = |topics| ApiRequest::Fetch(kafka_wire::fetch::Request { topics, ..r.clone() });
            split(&r.topics, TAF, |t| who.may_topic(READ, t.topic_id, &t.topic), rebuild)
        }
        ApiRequest::ListOffsets(r) => {
            let rebuild = |topics| ApiRequest::ListOffsets(kafka_wire::list_offsets::Request { topics, ..r.clone() });
            split(&r.topics, TAF, |t| who.may(DESCRIBE, TOPIC, &t.name), rebuild)
        }
        ApiRequest::Metadata(r) if !every_topic(r, version) => {
            let Some(topics) = &r.topics else { return Verdict::Handle };
            // A missing topic it would create needs CREATE too (Kafka's `KafkaApis`: else
            // TOPIC_AUTHORIZATION_FAILED, and nothing is created).
            let creates = (r.allow_auto_topic_creation
                || !metadata::Request::ALLOW_AUTO_TOPIC_CREATION_VERSIONS.contains(version))
                && who.state.settings.auto_create_topics;
            let allowed = |t: &metadata::MetadataRequestTopic| {
                let name = t.name.as_deref().unwrap_or("");
                who.may_topic(DESCRIBE, t.topic_id, name)
                    && (!creates
                        || name.is_empty()
                        || who.state.topics.contains_key(name)
                        || who.may(CREATE, TOPIC, name))
            };
            let rebuild = |topics| ApiRequest::Metadata(metadata::Request { topics: Some(topics), ..r.clone() });
            split(topics, TAF, allowed, rebuild)
        }
        ApiRequest::CreateTopics(r) => {
            let rebuild = |topics| ApiRequest::CreateTopics(kafka_wire::create_topics::Request { topics, ..r.clone() });
            split(&r.topics, TAF, |t| who.may(CREATE, TOPIC, &t.name), rebuild)
        }
        ApiRequest::DeleteTopics(r) => {
            let may_name = |n: &kafka_wire::ByteString| who.may(DELETE, TOPIC, n);
            let (names_ok, names_no): (Vec<_>, Vec<_>) = r.topic_names.iter().cloned().partition(|n| may_name(n));
            let (ok, no): (Vec<_>, Vec<_>) = r
                .topics
                .iter()
                .cloned()
                .partition(|t| who.may_topic(DELETE, t.topic_id, t.name.as_deref().unwrap_or("")));
            if names_no.is_empty() && no.is_empty() {
                return Verdict::Handle;
            }
            let rebuild = |topic_names, topics| {
                ApiRequest::DeleteTopics(kafka_wire::delete_topics::Request { topic_names, topics, ..r.clone() })
            };
            Verdict::Split(Box::new(rebuild(names_ok, ok)), vec![(rebuild(names_no, no), TAF)])
        }
        ApiRequest::CreatePartitions(r) => {
            let rebuild =
                |topics| ApiRequest::CreatePartitions(kafka_wire::create_partitions::Request { topics, ..r.clone() });
            split(&r.topics, TAF, |t| who.may(ALTER, TOPIC, &t.name), rebuild)
        }
        ApiRequest::DeleteRecords(r) => {
            let rebuild =
                |topics| ApiRequest::DeleteRecords(kafka_wire::delete_records::Request { topics, ..r.clone() });
            split(&r.topics, TAF, |t| who.may(DELETE, TOPIC, &t.name), rebuild)
        }
        ApiRequest::DescribeConfigs(r) => {
            let rebuild = |resources| {
                ApiRequest::DescribeConfigs(kafka_wire::describe_configs::Request { resources, ..r.clone() })
            };
            split_configs(&r.resources, DESCRIBE_CONFIGS, who, |x| (x.resource_type, &x.resource_name), rebuild)
        }
        ApiRequest::AlterConfigs(r) => {
            let rebuild =
                |resources| ApiRequest::AlterConfigs(kafka_wire::alter_configs::Request { resources, ..r.clone() });
            split_configs(&r.resources, ALTER_CONFIGS, who, |x| (x.resource_type, &x.resource_name), rebuild)
        }
        ApiRequest::IncrementalAlterConfigs(r) => {
            let rebuild = |resources| {
                ApiRequest::IncrementalAlterConfigs(kafka_wire::incremental_alter_configs::Request {
                    resources,
                    ..r.clone()
                })
            };
            split_configs(&r.resources, ALTER_CONFIGS, who, |x| (x.resource_type, &x.resource_name), rebuild)
        }
        ApiRequest::OffsetCommit(r) => {
            if !who.may(READ, GROUP, &r.group_id) {
                return Verdict::Deny(GAF);
            }
            let rebuild = |topics| ApiRequest::OffsetCommit(kafka_wire::offset_commit::Request { topics, ..r.clone() });
            split(&r.topics, TAF, |t| who.may_topic(READ, t.topic_id, &t.name), rebuild)
        }
        // v4+: one answer per key.
        ApiRequest::FindCoordinator(r) if !r.coordinator_keys.is_empty() => {
            let (op_type, code) = if r.key_type == 1 {
                (TRANSACTIONAL_ID, ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
            } else {
                (GROUP, GAF)
            };
            let rebuild = |coordinator_keys| {
                ApiRequest::FindCoordinator(kafka_wire::find_coordinator::Request { coordinator_keys, ..r.clone() })
            };
            split(&r.coordinator_keys, code, |k| who.may(DESCRIBE, op_type, k), rebuild)
        }
        // v8+: one answer per group (before, one group: denied as a whole by `denied`).
        ApiRequest::OffsetFetch(r) if !r.groups.is_empty() => {
            let rebuild = |groups| ApiRequest::OffsetFetch(kafka_wire::offset_fetch::Request { groups, ..r.clone() });
            split(&r.groups, GAF, |g| who.may(DESCRIBE, GROUP, &g.group_id), rebuild)
        }
        ApiRequest::DescribeGroups(r) => {
            let rebuild =
                |groups| ApiRequest::DescribeGroups(kafka_wire::describe_groups::Request { groups, ..r.clone() });
            split(&r.groups, GAF, |g| who.may(DESCRIBE, GROUP, g), rebuild)
        }
        ApiRequest::DeleteGroups(r) => {
            let rebuild = |groups_names| {
                ApiRequest::DeleteGroups(kafka_wire::delete_groups::Request { groups_names, ..r.clone() })
            };
            split(&r.groups_names, GAF, |g| who.may(DELETE, GROUP, g), rebuild)
        }
        other => match denied(who.state, who.super_users, who.principal, who.host, other) {
            Some(code) => Verdict::Deny(code),
            None => Verdict::Handle,
        },
    }
}

/// Whether a Metadata request asks for every topic (null list; before v1 an empty one).
fn every_topic(r: &metadata::Request, version: i16) -> bool {
    match &r.topics {
        None => true,
        Some(t) => t.is_empty() && !metadata::Request::TOPICS_NULLABLE_VERSIONS.contains(version),
    }
}

/// Adds the entries of `denied` (the answer to a denied part) to `answer`.
fn merge(answer: &mut ApiResponse, denied: ApiResponse) {
    match (answer, denied) {
        (ApiResponse::Produce(a), ApiResponse::Produce(d)) => a.responses.extend(d.responses),
        (ApiResponse::Fetch(a), ApiResponse::Fetch(d)) => a.responses.extend(d.responses),
        (ApiResponse::ListOffsets(a), ApiResponse::ListOffsets(d)) => a.topics.extend(d.topics),
        (ApiResponse::Metadata(a), ApiResponse::Metadata(d)) => a.topics.extend(d.topics),
        (ApiResponse::CreateTopics(a), ApiResponse::CreateTopics(d)) => a.topics.extend(d.topics),
        (ApiResponse::DeleteTopics(a), ApiResponse::DeleteTopics(d)) => a.responses.extend(d.responses),
        (ApiResponse::CreatePartitions(a), ApiResponse::CreatePartitions(d)) => a.results.extend(d.results),
        (ApiResponse::DeleteRecords(a), ApiResponse::DeleteRecords(d)) => a.topics.extend(d.topics),
        (ApiResponse::DescribeConfigs(a), ApiResponse::DescribeConfigs(d)) => a.results.extend(d.results),
        (ApiResponse::AlterConfigs(a), ApiResponse::AlterConfigs(d)) => a.responses.extend(d.responses),
        (ApiResponse::IncrementalAlterConfigs(a), ApiResponse::IncrementalAlterConfigs(d)) => {
            a.responses.extend(d.responses)
        }
        (ApiResponse::OffsetCommit(a), ApiResponse::OffsetCommit(d)) => a.topics.extend(d.topics),
        // Kafka 4.4 answers the denied groups first (tests/differential/acls.rs).
        (ApiResponse::DescribeGroups(a), ApiResponse::DescribeGroups(d)) => {
            a.groups.splice(0..0, d.groups);
        }
        (ApiResponse::DeleteGroups(a), ApiResponse::DeleteGroups(d)) => a.results.extend(d.results),
        (ApiResponse::OffsetFetch(a), ApiResponse::OffsetFetch(d)) => a.groups.extend(d.groups),
        (ApiResponse::FindCoordinator(a), ApiResponse::FindCoordinator(d)) => a.coordinators.extend(d.coordinators),
        _ => {}
    }
}

/// Kafka's texts for its authorization errors (`Errors`' default messages), where an answer
/// carries one.
fn kafka_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::TOPIC_AUTHORIZATION_FAILED => "Topic authorization failed.",
        ErrorCode::GROUP_AUTHORIZATION_FAILED => "Group authorization failed.",
        ErrorCode::CLUSTER_AUTHORIZATION_FAILED => "Cluster authorization failed.",
        _ => "Transactional Id authorization failed.",
    }
}

/// Makes the answer to a denied request (or part of one), built by the handler's forced-error
/// path, read as Kafka's: its messages, and the fields Kafka leaves empty or sets for a denial.
fn as_denied(answer: &mut ApiResponse, code: ErrorCode) {
    // The text of Kafka's `ClusterAuthorizationException` (`AuthHelper`), without the request's
    // description that starts it.
    let needs = |op: &str| Some(format!("Request needs {op} permission.").into());
    match answer {
        ApiResponse::Fetch(a) => {
            for p in a.responses.iter_mut().flat_map(|t| t.partitions.iter_mut()) {
                p.aborted_transactions = Some(Vec::new());
            }
        }
        ApiResponse::CreateTopics(a) => {
            // The controller's text (`ControllerApis`).
            a.topics.iter_mut().for_each(|t| t.error_message = Some("Authorization failed.".into()));
        }
        ApiResponse::DeleteTopics(a) => {
            for t in &mut a.responses {
                t.topic_id = Uuid::ZERO;
                t.error_message = Some(kafka_message(code).into());
            }
        }
        ApiResponse::DescribeConfigs(a) => {
            a.results.iter_mut().for_each(|r| r.error_message = Some(kafka_message(code).into()));
        }
        // A denied broker gets no message here (Kafka's `ConfigAdminManager`).
        ApiResponse::AlterConfigs(a) => {
            let message = (code == ErrorCode::TOPIC_AUTHORIZATION_FAILED).then(|| kafka_message(code).into());
            a.responses.iter_mut().for_each(|r| r.error_message = message.clone());
        }
        ApiResponse::IncrementalAlterConfigs(a) => {
            let message = (code == ErrorCode::TOPIC_AUTHORIZATION_FAILED).then(|| kafka_message(code).into());
            a.responses.iter_mut().for_each(|r| r.error_message = message.clone());
        }
        ApiResponse::CreatePartitions(a) => a.results.iter_mut().for_each(|r| r.error_message = None),
        ApiResponse::FindCoordinator(a) => {
            a.coordinators.iter_mut().for_each(|c| c.error_message = Some("".into()));
        }
        ApiResponse::OffsetFetch(a) => {
            a.topics.clear();
            a.groups.iter_mut().for_each(|g| g.topics.clear());
        }
        ApiResponse::CreateAcls(a) => a.results.iter_mut().for_each(|r| r.error_message = needs("ALTER")),
        ApiResponse::DeleteAcls(a) => a.filter_results.iter_mut().for_each(|r| r.error_message = needs("ALTER")),
        ApiResponse::DescribeAcls(a) => a.error_message = needs("DESCRIBE"),
        _ => {}
    }
}

/// Leaves out of an answer what the principal may not see: the topics of an all-topics
/// Metadata it may not describe (Kafka does not name them), the groups of ListGroups
/// (unless it may describe the cluster); the committed offsets of topics it may not describe
/// in OffsetFetch.
fn hide(who: &Who<'_>, version: i16, request: &ApiRequest, answer: &mut ApiResponse) {
    match (request, answer) {
        (ApiRequest::Metadata(r), ApiResponse::Metadata(a)) if every_topic(r, version) => {
            a.topics.retain(|t| t.name.as_deref().is_some_and(|n| who.may(DESCRIBE, TOPIC, n)));
        }
        (ApiRequest::OffsetFetch(r), ApiResponse::OffsetFetch(a)) => {
            // Topics it may not describe: left out of an all-topics fetch, each partition
            // TOPIC_AUTHORIZATION_FAILED otherwise (Kafka's `OffsetFetchResponse.UNAUTHORIZED_PARTITION`).
            let seen = |name: &str, id: Uuid| who.may_topic(DESCRIBE, id, name);
            let denied = |error_code: &mut ErrorCode, offset: &mut i64, epoch: &mut i32, metadata: &mut Option<_>| {
                *error_code = ErrorCode::TOPIC_AUTHORIZATION_FAILED;
                *offset = -1;
                *epoch = -1;
                *metadata = Some("".into());
            };
            if r.groups.is_empty() {
                if r.topics.is_none() {
                    a.topics.retain(|t| seen(&t.name, Uuid::ZERO));
                }
                for p in a.topics.iter_mut().filter(|t| !seen(&t.name, Uuid::ZERO)).flat_map(|t| &mut t.partitions) {
                    denied(&mut p.error_code, &mut p.committed_offset, &mut p.committed_leader_epoch, &mut p.metadata);
                }
            }
            for g in &mut a.groups {
                let Some(asked) = r.groups.iter().find(|asked| asked.group_id == g.group_id) else { continue };
                if asked.topics.is_none() {
                    g.topics.retain(|t| seen(&t.name, t.topic_id));
                }
                for p in g.topics.iter_mut().filter(|t| !seen(&t.name, t.topic_id)).flat_map(|t| &mut t.partitions) {
                    denied(&mut p.error_code, &mut p.committed_offset, &mut p.committed_leader_epoch, &mut p.metadata);
                }
            }
        }
        (ApiRequest::ListGroups(_), ApiResponse::ListGroups(a)) if !who.may(DESCRIBE, CLUSTER, CLUSTER_NAME) => {
            a.groups.retain(|g| who.may(DESCRIBE, GROUP, &g.group_id));
        }
        _ => {}
    }
}

/// Handles `request` as [`super::dispatch`] does, under the authorizer when one is configured
/// (`MockConfig::authorizer`): denied parts get the API's authorization error.
pub(crate) async fn authorized_dispatch(ctx: &Ctx<'_>, request: &ApiRequest) -> Handled {
    // An injected fault answers first, as it would without the authorizer.
    if !ctx.shared.authorizer || ctx.forced.is_some() {
        return super::dispatch(ctx, request).await;
    }
    let super_users = &ctx.shared.super_users[..];
    let verdict = {
        let state = ctx.shared.state();
        let who = Who { state: &state, super_users, principal: ctx.principal, host: ctx.host };
        verdict(&who, ctx.version, request)
    };
    let mut handled = match verdict {
        Verdict::Handle => super::dispatch(ctx, request).await,
        Verdict::Deny(code) => {
            let mut answer = super::dispatch(&Ctx { forced: Some(code), ..*ctx }, request).await;
            if let Handled::Reply(a) = &mut answer {
                as_denied(a, code);
            }
            answer
        }
        Verdict::Split(allowed, denied) => {
            let mut handled = super::dispatch(ctx, &allowed).await;
            for (part, code) in denied {
                let answer = super::dispatch(&Ctx { forced: Some(code), ..*ctx }, &part).await;
                if let (Handled::Reply(a), Handled::Reply(mut d)) = (&mut handled, answer) {
                    as_denied(&mut d, code);
                    merge(a, d);
                }
            }
            handled
        }
    };
    if let Handled::Reply(answer) = &mut handled {
        let state = ctx.shared.state();
        let who = Who { state: &state, super_users, principal: ctx.principal, host: ctx.host };
        hide(&who, ctx.version, request, answer);
    }
    handled
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
