//! The cluster's state: brokers, topics and their logs, producer ids, consumer groups. Plain
//! data behind one mutex; every method runs without I/O and without waiting.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use kafka_wire::{ErrorCode, Uuid};

use crate::config::{MockConfig, SaslMechanism, TopicSpec};
use crate::group::{Group, GroupState};
use crate::log::{Log, DEFAULT_MAX_MESSAGE_BYTES};
use crate::topic_configs;

/// A broker as the cluster sees it.
#[derive(Debug, Clone)]
pub(crate) struct BrokerInfo {
    pub(crate) id: i32,
    pub(crate) host: String,
    pub(crate) port: i32,
    pub(crate) up: bool,
}

/// A topic.
#[derive(Debug, Clone)]
pub(crate) struct Topic {
    pub(crate) id: Uuid,
    pub(crate) partitions: Vec<Partition>,
    /// Configs set on the topic (the rest have their defaults).
    pub(crate) configs: BTreeMap<String, String>,
}

impl Topic {
    /// `max.message.bytes` of this topic.
    pub(crate) fn max_message_bytes(&self) -> usize {
        self.configs.get("max.message.bytes").and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MAX_MESSAGE_BYTES)
    }
}

/// A partition: its replicas (the first live one leads) and its log.
#[derive(Debug, Clone)]
pub(crate) struct Partition {
    pub(crate) replicas: Vec<i32>,
    /// The leader's broker id, -1 when no replica is up.
    pub(crate) leader: i32,
    pub(crate) leader_epoch: i32,
    pub(crate) log: Log,
}

/// Settings the logic needs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) auto_create_topics: bool,
    pub(crate) default_partitions: i32,
    pub(crate) default_replication_factor: i16,
    pub(crate) group_initial_rebalance_delay: Duration,
    pub(crate) group_min_session_timeout: Duration,
    pub(crate) group_max_session_timeout: Duration,
}

/// Everything the cluster holds.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) cluster_id: String,
    pub(crate) settings: Settings,
    pub(crate) brokers: Vec<BrokerInfo>,
    pub(crate) topics: BTreeMap<String, Topic>,
    pub(crate) groups: HashMap<String, Group>,
    /// Bumped on every event of every group.
    pub(crate) group_events: tokio::sync::watch::Sender<u64>,
    next_producer_id: i64,
    /// Current epoch of each producer id handed out.
    producer_epochs: HashMap<i64, i16>,
    /// Producer id of each transactional id.
    transactional_ids: HashMap<String, i64>,
    /// The transaction coordinator's state of each transactional id (see `crate::txn`).
    pub(crate) transactions: BTreeMap<String, crate::txn::TxnMetadata>,
    /// The client id each group member joined with, by (group, member id): what
    /// DescribeGroups shows.
    pub(crate) member_clients: HashMap<(String, String), String>,
    /// Dynamic broker configs set by IncrementalAlterConfigs or AlterConfigs, by resource name:
    /// a broker id, or "" for the cluster-wide defaults.
    pub(crate) broker_configs: BTreeMap<String, BTreeMap<String, String>>,
    /// SCRAM credentials by (user, mechanism type: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512): those of
    /// the configured users, and those AlterUserScramCredentials made.
    pub(crate) scram_credentials: BTreeMap<(String, i8), StoredScram>,
    /// The ACLs CreateAcls made, in the order made.
    pub(crate) acls: Vec<AclBinding>,
    /// Share groups (KIP-932).
    pub(crate) share: crate::share_group::ShareGroups,
}

/// A topic that was created (or would be, when only validating).
#[derive(Debug, Clone)]
pub(crate) struct Created {
    pub(crate) id: Uuid,
    pub(crate) partitions: i32,
    pub(crate) replication_factor: i16,
    pub(crate) configs: BTreeMap<String, String>,
}

/// A topic creation that failed: the error code and its message.
pub(crate) type CreateError = (ErrorCode, String);

/// Why `name` is not a legal topic name (Kafka's `Topic.validate` message), if it is not.
pub(crate) fn invalid_topic_name(name: &str) -> Option<String> {
    let why = if name.is_empty() {
        "the empty string is not allowed".to_owned()
    } else if name == "." || name == ".." {
        format!("'{name}' is not allowed")
    } else if name.len() > 249 {
        format!("the length of '{name}' is longer than the max allowed length 249")
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-') {
        format!("'{name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'")
    } else {
        return None;
    };
    Some(format!("Topic name is invalid: {why}"))
}

/// Whether `name` is a legal topic name.
pub(crate) fn valid_topic_name(name: &str) -> bool {
    invalid_topic_name(name).is_none()
}

/// A random version-4 UUID (never the zero UUID).
pub(crate) fn random_uuid() -> Uuid {
    let mut bytes = random_bytes::<16>();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

/// Random bytes from the operating system (a fixed pattern if it has none to give, which only
/// weakens nonces of a test broker).
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if getrandom::fill(&mut bytes).is_err() {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(151).wrapping_add(7);
        }
    }
    bytes
}

impl State {
    pub(crate) fn new(config: &MockConfig, ports: &[u16]) -> State {
        let host = config.advertised_host.clone().unwrap_or_else(|| config.host.clone());
        let brokers = ports
            .iter()
            .enumerate()
            .map(|(id, &port)| BrokerInfo { id: id as i32, host: host.clone(), port: i32::from(port), up: true })
            .collect::<Vec<_>>();
        let default_rf = config.default_replication_factor.unwrap_or(brokers.len().min(3) as i16).max(1);
        State {
            cluster_id: config.cluster_id.clone(),
            settings: Settings {
                auto_create_topics: config.auto_create_topics,
                default_partitions: config.default_partitions.max(1),
                default_replication_factor: default_rf,
                group_initial_rebalance_delay: config.group_initial_rebalance_delay,
                group_min_session_timeout: config.group_min_session_timeout,
                group_max_session_timeout: config.group_max_session_timeout,
            },
            brokers,
            topics: BTreeMap::new(),
            groups: HashMap::new(),
            group_events: tokio::sync::watch::Sender::new(0),
            next_producer_id: 1000,
            producer_epochs: HashMap::new(),
            transactional_ids: HashMap::new(),
            transactions: BTreeMap::new(),
            member_clients: HashMap::new(),
            broker_configs: BTreeMap::new(),
            scram_credentials: configured_scram(config),
            acls: Vec::new(),
            share: Default::default(),
        }
    }

    /// Group `id`, created empty if it does not exist.
    pub(crate) fn group_or_new(&mut self, id: &str) -> &mut Group {
        let notify = self.group_events.clone();
        self.groups.entry(id.to_owned()).or_insert_with(|| Group::new(notify))
    }

    /// The broker `id`, if it exists and is up.
    pub(crate) fn live_broker(&self, id: i32) -> Option<&BrokerInfo> {
        self.brokers.iter().find(|b| b.id == id && b.up)
    }

    /// The lowest live broker id (the "controller"), -1 if none.
    pub(crate) fn controller(&self) -> i32 {
        self.brokers.iter().find(|b| b.up).map_or(-1, |b| b.id)
    }

    /// The broker that coordinates `key` (a group or transactional id): a live broker picked
    /// by a stable hash of the key, as Kafka picks a partition of `__consumer_offsets`.
    pub(crate) fn coordinator(&self, key: &str) -> Option<&BrokerInfo> {
        let n = self.brokers.len();
        if n == 0 {
            return None;
        }
        // Java's String.hashCode, over UTF-16 units as Kafka computes it.
        let hash = key.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
        let partition = (hash & i32::MAX) as usize % 50;
        (0..n).map(|i| &self.brokers[(partition + i) % n]).find(|b| b.up)
    }

    /// Marks broker `id` up or down and moves partition leadership accordingly.
    pub(crate) fn set_broker_up(&mut self, id: i32, up: bool) {
        if let Some(b) = self.brokers.iter_mut().find(|b| b.id == id) {
            b.up = up;
        }
        let live: Vec<i32> = self.brokers.iter().filter(|b| b.up).map(|b| b.id).collect();
        for topic in self.topics.values_mut() {
            for p in &mut topic.partitions {
                let leader = p.replicas.iter().copied().find(|r| live.contains(r)).unwrap_or(-1);
                if leader != p.leader {
                    p.leader = leader;
                    p.leader_epoch += 1;
                }
            }
        }
    }

    /// Creates a topic (or, with `validate_only`, checks that it could be created).
    pub(crate) fn create_topic(
        &mut self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        assignments: &[(i32, Vec<i32>)],
        configs: &[(String, Option<String>)],
        validate_only: bool,
    ) -> Result<Created, CreateError> {
        if let Some(message) = invalid_topic_name(name) {
            return Err((ErrorCode::INVALID_TOPIC_EXCEPTION, message));
        }
        if self.topics.contains_key(name) {
            return Err((ErrorCode::TOPIC_ALREADY_EXISTS, format!("Topic '{name}' already exists.")));
        }
        let brokers = self.brokers.len();
        let replicas: Vec<Vec<i32>> = if assignments.is_empty() {
            let partitions = if partitions == -1 { self.settings.default_partitions } else { partitions };
            if partitions <= 0 {
                let message = "Number of partitions was set to an invalid non-positive value.";
                return Err((ErrorCode::INVALID_PARTITIONS, message.into()));
            }
            if partitions > 100_000 {
                return Err((ErrorCode::INVALID_PARTITIONS, format!("{partitions} partitions are too many")));
            }
            let rf =
                if replication_factor == -1 { self.settings.default_replication_factor } else { replication_factor };
            if rf <= 0 {
                let message = "Replication factor must be larger than 0, or -1 to use the default value.";
                return Err((ErrorCode::INVALID_REPLICATION_FACTOR, message.into()));
            }
            if rf as usize > brokers {
                return Err((
                    ErrorCode::INVALID_REPLICATION_FACTOR,
                    format!(
                        "Unable to replicate the partition {rf} time(s): The target replication factor of {rf} cannot \
                         be reached because only {brokers} broker(s) are registered or some brokers have all their \
                         log directories cordoned."
                    ),
                ));
            }
            (0..partitions as usize).map(|p| (0..rf as usize).map(|r| ((p + r) % brokers) as i32).collect()).collect()
        } else {
            if partitions != -1 || replication_factor != -1 {
                return Err((
                    ErrorCode::INVALID_REQUEST,
                    "Both numPartitions or replicationFactor and replicasAssignments were set".into(),
                ));
            }
            let mut sorted: Vec<&(i32, Vec<i32>)> = assignments.iter().collect();
            sorted.sort_by_key(|a| a.0);
            for (i, (p, ids)) in sorted.iter().enumerate() {
                let first = sorted[0].1.len();
                if ids.len() != first {
                    return Err((
                        ErrorCode::INVALID_REPLICA_ASSIGNMENT,
                        format!(
                            "The manual partition assignment includes a partition with {} replica(s), but this is not \
                             consistent with previous partitions, which have {first} replica(s).",
                            ids.len()
                        ),
                    ));
                }
                let distinct = ids.iter().collect::<std::collections::HashSet<_>>().len() == ids.len();
                if let Some(unknown) = ids.iter().find(|&&b| b < 0 || b as usize >= brokers) {
                    return Err((
                        ErrorCode::INVALID_REPLICA_ASSIGNMENT,
                        format!(
                            "The manual partition assignment includes broker {unknown}, but no such broker is registered."
                        ),
                    ));
                }
                if *p != i as i32 || ids.is_empty() || !distinct {
                    return Err((
                        ErrorCode::INVALID_REPLICA_ASSIGNMENT,
                        format!("invalid assignment of partition {p}"),
                    ));
                }
            }
            sorted.into_iter().map(|(_, ids)| ids.clone()).collect()
        };
        let mut set = BTreeMap::new();
        for (key, value) in configs {
            let Some(config) = topic_configs::find(key) else {
                return Err((ErrorCode::INVALID_CONFIG, format!("Unknown topic config name: {key}")));
            };
            let Some(value) = value else { continue };
            topic_configs::validate(config, value).map_err(|message| (ErrorCode::INVALID_CONFIG, message))?;
            set.insert(key.clone(), value.clone());
        }
        let live: Vec<i32> = self.brokers.iter().filter(|b| b.up).map(|b| b.id).collect();
        let topic = Topic {
            id: random_uuid(),
            partitions: replicas
                .into_iter()
                .map(|replicas| Partition {
                    leader: replicas.iter().copied().find(|r| live.contains(r)).unwrap_or(-1),
                    replicas,
                    leader_epoch: 0,
                    log: Log::default(),
                })
                .collect(),
            configs: set,
        };
        let created = Created {
            id: topic.id,
            partitions: topic.partitions.len() as i32,
            replication_factor: topic.partitions.first().map_or(0, |p| p.replicas.len() as i16),
            configs: topic.configs.clone(),
        };
        if !validate_only {
            self.topics.insert(name.to_owned(), topic);
        }
        Ok(created)
    }

    /// Creates a topic from a spec (at start, or through [`MockCluster::create_topic`]).
    pub(crate) fn create_from_spec(&mut self, spec: &TopicSpec) -> Result<(), CreateError> {
        let configs: Vec<(String, Option<String>)> =
            spec.configs.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
        let rf = spec.replication_factor.unwrap_or(-1);
        self.create_topic(&spec.name, spec.partitions, rf, &[], &configs, false).map(|_| ())
    }

    /// Deletes a topic and the offsets groups committed for it.
    pub(crate) fn delete_topic(&mut self, name: &str) -> bool {
        if self.topics.remove(name).is_none() {
            return false;
        }
        for group in self.groups.values_mut() {
            group.offsets.retain(|(topic, _), _| topic != name);
        }
        true
    }

    /// The name of the topic with id `id`.
    pub(crate) fn topic_name(&self, id: Uuid) -> Option<&str> {
        self.topics.iter().find(|(_, t)| t.id == id).map(|(n, _)| n.as_str())
    }

    /// InitProducerId: a producer id and epoch.
    pub(crate) fn init_producer_id(
        &mut self,
        transactional_id: Option<&str>,
        producer_id: i64,
        producer_epoch: i16,
    ) -> Result<(i64, i16), ErrorCode> {
        let existing = match transactional_id {
            Some(tid) => self.transactional_ids.get(tid).copied(),
            // An idempotent producer (no transactional id) gets a new producer id and epoch 0,
            // whatever id and epoch it sends: Kafka's TransactionCoordinator hands out a fresh
            // id for those (the producer bumps its epoch on its own, KIP-360).
            None => None,
        };
        if let Some(pid) = existing {
            let epoch = self.producer_epochs.get(&pid).copied().unwrap_or(-1);
            if let (Some(_), true) = (transactional_id, producer_id >= 0) {
                if producer_id != pid || producer_epoch != epoch {
                    return Err(ErrorCode::PRODUCER_FENCED);
                }
            }
            if epoch < i16::MAX - 1 {
                self.producer_epochs.insert(pid, epoch + 1);
                return Ok((pid, epoch + 1));
            }
        }
        let pid = self.next_producer_id;
        self.next_producer_id += 1;
        self.producer_epochs.insert(pid, 0);
        if let Some(tid) = transactional_id {
            self.transactional_ids.insert(tid.to_owned(), pid);
        }
        Ok((pid, 0))
    }

    /// A producer id never handed out before.
    pub(crate) fn new_producer_id(&mut self) -> i64 {
        let pid = self.next_producer_id;
        self.next_producer_id += 1;
        self.producer_epochs.insert(pid, 0);
        pid
    }
}

/// A request of the admin APIs that failed: the error code and its message (`None`: Kafka
/// sends none).
pub(crate) type AdminError = (ErrorCode, Option<String>);

/// The admin APIs' changes: groups deleted, partitions added.
impl State {
    /// DeleteGroups of one group (Kafka's `ClassicGroup.validateDeleteGroup`): only a group
    /// that exists and has no members goes, with its committed offsets.
    pub(crate) fn delete_group(&mut self, id: &str) -> Result<(), AdminError> {
        let Some(group) = self.groups.get(id) else {
            return Err((ErrorCode::GROUP_ID_NOT_FOUND, None));
        };
        if group.state != GroupState::Empty {
            return Err((ErrorCode::NON_EMPTY_GROUP, None));
        }
        self.groups.remove(id);
        self.member_clients.retain(|(group, _), _| group != id);
        Ok(())
    }

    /// CreatePartitions of one topic (Kafka's `ReplicationControlManager.createPartitions`):
    /// grows `name` to `count` partitions, placed on the brokers round-robin like CreateTopics
    /// does, or as `assignments` says (one replica list per new partition). With
    /// `validate_only`, only checks.
    pub(crate) fn create_partitions(
        &mut self,
        name: &str,
        count: i32,
        assignments: Option<&[Vec<i32>]>,
        validate_only: bool,
    ) -> Result<(), AdminError> {
        let brokers = self.brokers.len();
        let live: Vec<i32> = self.brokers.iter().filter(|b| b.up).map(|b| b.id).collect();
        let Some(topic) = self.topics.get_mut(name) else {
            return Err((ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, None));
        };
        let current = topic.partitions.len();
        let invalid = |message: String| Err((ErrorCode::INVALID_PARTITIONS, Some(message)));
        if usize::try_from(count).is_ok_and(|c| c == current) {
            return invalid(format!("Topic already has {current} partition(s)."));
        }
        if usize::try_from(count).map_or(true, |c| c < current) {
            return invalid(format!(
                "The topic {name} currently has {current} partition(s); {count} would not be an increase."
            ));
        }
        let additional = count as usize - current;
        if additional > 100_000 {
            return invalid(format!("{additional} additional partitions are too many"));
        }
        let replication = topic.partitions.first().map_or(1, |p| p.replicas.len());
        let assignment_error = |message: String| Err((ErrorCode::INVALID_REPLICA_ASSIGNMENT, Some(message)));
        let replicas: Vec<Vec<i32>> = match assignments {
            Some(assignments) => {
                if assignments.len() != additional {
                    return assignment_error(format!(
                        "Attempted to add {additional} additional partition(s), but only {} assignment(s) were \
                         specified.",
                        assignments.len()
                    ));
                }
                for (i, ids) in assignments.iter().enumerate() {
                    if ids.is_empty() {
                        return assignment_error(
                            "The manual partition assignment includes an empty replica list.".into(),
                        );
                    }
                    let mut sorted = ids.clone();
                    sorted.sort_unstable();
                    for (j, id) in sorted.iter().enumerate() {
                        if *id < 0 || *id as usize >= brokers {
                            return assignment_error(format!(
                                "The manual partition assignment includes broker {id}, but no such broker is \
                                 registered."
                            ));
                        }
                        if j > 0 && sorted[j - 1] == *id {
                            return assignment_error(format!(
                                "The manual partition assignment includes the broker {id} more than once."
                            ));
                        }
                    }
                    if sorted.len() != replication {
                        return assignment_error(format!(
                            "The manual partition assignment includes a partition with {} replica(s), but this is \
                             not consistent with previous partitions, which have {replication} replica(s).",
                            sorted.len()
                        ));
                    }
                    if !ids.iter().any(|id| live.contains(id)) {
                        return assignment_error(format!(
                            "All brokers specified in the manual partition assignment for partition {} are fenced \
                             or in controlled shutdown.",
                            current + i
                        ));
                    }
                }
                assignments.to_vec()
            }
            None => (current..count as usize)
                .map(|p| (0..replication).map(|r| ((p + r) % brokers.max(1)) as i32).collect())
                .collect(),
        };
        if !validate_only {
            topic.partitions.extend(replicas.into_iter().map(|replicas| Partition {
                leader: replicas.iter().copied().find(|r| live.contains(r)).unwrap_or(-1),
                replicas,
                leader_epoch: 0,
                log: Log::default(),
            }));
        }
        Ok(())
    }

    /// DeleteRecords of one partition on broker `broker`: moves the log start offset up to
    /// `offset` (-1: the high watermark, here the log end); returns the new log start offset.
    /// Kafka's errors: a partition it does not know, a broker that does not lead it, an offset
    /// below 0 or beyond the high watermark, a compacted topic (POLICY_VIOLATION).
    pub(crate) fn delete_records(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
        broker: i32,
    ) -> Result<i64, ErrorCode> {
        let t = self.topics.get_mut(topic).ok_or(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)?;
        let compacted = t.configs.get("cleanup.policy").is_some_and(|p| !p.split(',').any(|p| p.trim() == "delete"));
        let p = usize::try_from(partition)
            .ok()
            .and_then(|i| t.partitions.get_mut(i))
            .ok_or(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)?;
        if p.leader != broker {
            return Err(ErrorCode::NOT_LEADER_OR_FOLLOWER);
        }
        if compacted {
            return Err(ErrorCode::POLICY_VIOLATION);
        }
        let offset = if offset == -1 { p.log.end } else { offset };
        if offset < 0 || offset > p.log.end {
            return Err(ErrorCode::OFFSET_OUT_OF_RANGE);
        }
        p.log.start = p.log.start.max(offset);
        Ok(p.log.start)
    }
}

/// An ACL (Kafka's `AclBinding`), with Kafka's codes: resource type (2 topic, 3 group,
/// 4 cluster, 5 transactional id, 6 delegation token, 7 user), pattern type (3 literal,
/// 4 prefixed), operation (2 all, 3 read, 4 write, ... 14 describe tokens), permission
/// (2 deny, 3 allow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AclBinding {
    pub(crate) resource_type: i8,
    pub(crate) resource_name: String,
    pub(crate) pattern_type: i8,
    /// `Type:name`, e.g. `User:alice`; `User:*` is every user.
    pub(crate) principal: String,
    /// `*` is every host.
    pub(crate) host: String,
    pub(crate) operation: i8,
    pub(crate) permission: i8,
}

/// A SCRAM credential as the broker stores it (RFC 5802): salt, iterations and the keys derived
/// from the salted password (`keys` is `None` for a configured user, whose keys the SASL
/// listener computed at start).
#[derive(Debug, Clone)]
pub(crate) struct StoredScram {
    pub(crate) iterations: i32,
    pub(crate) keys: Option<ScramKeys>,
}

/// The stored parts of a SCRAM credential (Kafka's `ScramCredential`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScramKeys {
    pub(crate) salt: Vec<u8>,
    pub(crate) stored_key: Vec<u8>,
    pub(crate) server_key: Vec<u8>,
}

/// What the SASL exchange finds for a user and SCRAM mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScramLookup {
    /// No credential: authentication fails.
    Absent,
    /// A configured user: the listener's own credential holds.
    Configured,
    /// A credential made by AlterUserScramCredentials.
    Stored(ScramKeys, u32),
}

impl StoredScram {
    /// The credential of a client's salted password (Kafka's `ScramFormatter`: stored key
    /// `H(HMAC(salted, "Client Key"))`, server key `HMAC(salted, "Server Key")`).
    /// `mechanism` 2 is SCRAM-SHA-512, anything else SCRAM-SHA-256.
    pub(crate) fn from_salted_password(mechanism: i8, salt: &[u8], iterations: i32, salted: &[u8]) -> StoredScram {
        use hmac::{Hmac, Mac};
        use sha2::{Digest, Sha256, Sha512};
        // HMAC takes keys of any length: `new_from_slice` cannot fail.
        let (stored_key, server_key) = if mechanism == 2 {
            let mac = |data: &[u8]| {
                let mut m = <Hmac<Sha512> as Mac>::new_from_slice(salted).expect("HMAC takes keys of any length");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            };
            (Sha512::digest(mac(b"Client Key")).to_vec(), mac(b"Server Key"))
        } else {
            let mac = |data: &[u8]| {
                let mut m = <Hmac<Sha256> as Mac>::new_from_slice(salted).expect("HMAC takes keys of any length");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            };
            (Sha256::digest(mac(b"Client Key")).to_vec(), mac(b"Server Key"))
        };
        StoredScram { iterations, keys: Some(ScramKeys { salt: salt.to_vec(), stored_key, server_key }) }
    }
}

/// The SCRAM credentials of the configured SASL users, for the mechanisms enabled.
fn configured_scram(config: &MockConfig) -> BTreeMap<(String, i8), StoredScram> {
    let mut out = BTreeMap::new();
    let Some(sasl) = &config.sasl else { return out };
    let iterations = i32::try_from(sasl.scram_iterations.max(1)).unwrap_or(i32::MAX);
    for (mechanism, code) in [(SaslMechanism::ScramSha256, 1), (SaslMechanism::ScramSha512, 2)] {
        if sasl.mechanisms.contains(&mechanism) {
            for (user, _) in &sasl.users {
                out.insert((user.clone(), code), StoredScram { iterations, keys: None });
            }
        }
    }
    out
}

impl State {
    /// The SCRAM credential of `user` for `mechanism` (the hook of the SASL exchange: a
    /// credential deleted by AlterUserScramCredentials is [`ScramLookup::Absent`] even for a
    /// configured user).
    pub(crate) fn scram_credential(&self, user: &str, mechanism: SaslMechanism) -> ScramLookup {
        let code = match mechanism {
            SaslMechanism::ScramSha256 => 1,
            SaslMechanism::ScramSha512 => 2,
            _ => return ScramLookup::Absent,
        };
        match self.scram_credentials.get(&(user.to_owned(), code)) {
            None => ScramLookup::Absent,
            Some(StoredScram { keys: None, .. }) => ScramLookup::Configured,
            Some(StoredScram { keys: Some(k), iterations }) => {
                ScramLookup::Stored(k.clone(), u32::try_from(*iterations).unwrap_or(0))
            }
        }
    }
}

#[cfg(test)]
mod scram_tests {
    use super::*;
    use crate::config::SaslConfig;

    /// The hook the SASL exchange asks: a configured user until deleted, a credential made by
    /// AlterUserScramCredentials with its keys, nothing for anyone else.
    #[test]
    fn scram_credentials_are_looked_up_by_user_and_mechanism() {
        let mut config = MockConfig::new();
        config.sasl = Some(SaslConfig::new([SaslMechanism::ScramSha256], &[("alice", "secret")]));
        let mut state = State::new(&config, &[9092]);
        assert_eq!(state.scram_credential("alice", SaslMechanism::ScramSha256), ScramLookup::Configured);
        assert_eq!(state.scram_credential("alice", SaslMechanism::ScramSha512), ScramLookup::Absent);
        let made = StoredScram::from_salted_password(2, b"salt", 4096, b"salted password");
        state.scram_credentials.insert(("bob".into(), 2), made.clone());
        let keys = made.keys.unwrap();
        assert_eq!((keys.stored_key.len(), keys.server_key.len()), (64, 64));
        assert_eq!(state.scram_credential("bob", SaslMechanism::ScramSha512), ScramLookup::Stored(keys, 4096));
        state.scram_credentials.remove(&("alice".into(), 1));
        assert_eq!(state.scram_credential("alice", SaslMechanism::ScramSha256), ScramLookup::Absent);
    }
}
