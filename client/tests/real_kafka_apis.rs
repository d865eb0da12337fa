//! Every API that Apache Kafka 4.4's broker advertises, at every version that it and this codec
//! share (issue 14): a valid request, with what it needs created first (topics, records, groups,
//! transactions, ACLs with an authorizer configured, client quotas, SCRAM credentials, configs,
//! delegation tokens), sent with kafka-wire-client; the typed answer decodes strictly (no bytes
//! left after it) and holds no tagged field this codec does not know. The test prints the matrix
//! (API, versions, the error codes the answers held) and what it could not exercise and why.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
use kafka_wire::{
    add_offsets_to_txn, add_partitions_to_txn, add_raft_voter, alter_client_quotas, alter_configs,
    alter_partition_reassignments, alter_replica_log_dirs, alter_share_group_offsets, alter_user_scram_credentials,
    api_versions, consumer_group_describe, consumer_group_heartbeat, consumer_protocol_subscription as cps,
    create_acls, create_delegation_token, create_partitions, create_topics, delete_acls, delete_groups, delete_records,
    delete_share_group_offsets, delete_share_group_state, delete_topics, describe_acls, describe_client_quotas,
    describe_cluster, describe_configs, describe_delegation_token, describe_groups, describe_log_dirs,
    describe_producers, describe_quorum, describe_share_group_offsets, describe_topic_partitions,
    describe_transactions, describe_user_scram_credentials, elect_leaders, end_txn, expire_delegation_token, fetch,
    find_coordinator, get_telemetry_subscriptions, heartbeat, incremental_alter_configs, init_producer_id,
    initialize_share_group_state, join_group, leave_group, list_config_resources, list_groups, list_offsets,
    list_partition_reassignments, list_transactions, metadata, offset_commit, offset_delete, offset_fetch,
    offset_for_leader_epoch, produce, read_share_group_state, read_share_group_state_summary, remove_raft_voter,
    renew_delegation_token, sasl_authenticate, sasl_handshake, share_acknowledge, share_fetch, share_group_describe,
    share_group_heartbeat, streams_group_describe, streams_group_heartbeat, streams_group_topology_description_update,
    sync_group, txn_offset_commit, unregister_broker, unregister_controller, update_features, write_share_group_state,
    write_txn_markers, ApiKey, ErrorCode, Records, Uuid, VersionFreeRequest,
};
use kafka_wire_client::sasl::{SaslConfig, SaslMechanism};
use kafka_wire_client::{Connection, ConnectionConfig};
use kafka_wire_harness::{KafkaCluster, KafkaConfig, Listener};

const USER: &str = "alice";
const PASSWORD: &str = "alice-secret";
/// The topic most requests read or change: one partition with records.
const TOPIC: &str = "matrix";
/// The bound on waits for the cluster to catch up: only a hang trips it.
const PATIENCE: Duration = Duration::from_secs(120);

/// One node with an authorizer (plaintext clients and `alice` are super users), delegation
/// tokens, and no initial rebalance delay (a JoinGroup of a new group answers at once).
fn cluster() -> &'static KafkaCluster {
    static CLUSTER: OnceLock<KafkaCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let config = KafkaConfig::new()
            .sasl_user(USER, PASSWORD)
            .authorizer([format!("User:{USER}")])
            .broker_property("group.initial.rebalance.delay.ms", "0")
            .broker_property("delegation.token.secret.key", "kafka-wire-matrix-secret");
        let cluster = KafkaCluster::start(config).unwrap();
        println!("1 node: JVM start to ApiVersions answered in {:?}", cluster.startup_time());
        cluster
    })
}

/// Connections that decode strictly: an answer with bytes after its body fails.
fn strict() -> ConnectionConfig {
    let mut config = ConnectionConfig::default();
    config.reject_trailing_bytes = true;
    config
}

/// What the exchanges share: connections, the topic, the broker's log directory.
struct World {
    /// Plaintext: a super user.
    plain: Connection,
    /// SASL/SCRAM-SHA-256 as `alice` (delegation tokens need an authenticated user).
    sasl: Connection,
    /// The SASL listener's address, for fresh unauthenticated connections.
    sasl_addr: String,
    topic_id: Uuid,
    log_dir: String,
    cluster_id: String,
}

type Outcome = Result<String, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Sends `request` at `version`; the answer's Debug text.
async fn at<R: VersionFreeRequest>(c: &Connection, request: R, version: i16) -> Result<R::Response, String>
where
    R::Response: Debug,
{
    c.send_at(&request, version).await.map_err(|e| format!("v{version}: {e}"))
}

/// Sends `request` at the negotiated version (a step that prepares the exchange under test).
async fn prepare<R: VersionFreeRequest>(c: &Connection, request: R) -> Result<R::Response, String> {
    c.send(&request).await.map_err(|e| format!("preparing with {:?}: {e}", R::API_KEY))
}

fn shown<T: Debug>(r: &T) -> String {
    format!("{r:?}")
}

/// The error codes an answer's Debug text holds.
fn error_codes(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("ErrorCode(") {
        rest = &rest[i + "ErrorCode(".len()..];
        if let Some(end) = rest.find(')') {
            out.insert(rest[..end].to_owned());
        }
    }
    out
}

fn record_batch() -> Records {
    let mut b = BatchBuilder::new(Compression::None);
    b.push(&NewRecord::new(1_700_000_000_000, "value").with_key("key")).unwrap();
    Records::from(b.build().unwrap().to_bytes().unwrap())
}

async fn create_topic(c: &Connection, name: &str, partitions: i32) -> Result<Uuid, String> {
    let r = prepare(
        c,
        create_topics::Request {
            topics: vec![create_topics::CreatableTopic {
                name: name.into(),
                num_partitions: partitions,
                replication_factor: 1,
                ..Default::default()
            }],
            timeout_ms: 30_000,
            ..Default::default()
        },
    )
    .await?;
    let t = &r.topics[0];
    if t.error_code.is_err() {
        return Err(format!("creating {name}: {}", t.error_code));
    }
    // Until the broker has set the partitions up.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let m = prepare(
            c,
            metadata::Request {
                topics: Some(vec![metadata::MetadataRequestTopic { name: Some(name.into()), ..Default::default() }]),
                ..Default::default()
            },
        )
        .await?;
        let ready = m.topics.iter().all(|t| {
            t.error_code == ErrorCode::NONE
                && t.partitions.len() == partitions as usize
                && t.partitions.iter().all(|p| p.leader_id >= 0)
        });
        if ready {
            return Ok(t.topic_id);
        }
        assert!(Instant::now() < deadline, "topic {name} not ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// InitProducerId for `transactional_id` (or an idempotent producer), retried while the
/// coordinator loads. (producer id, epoch).
async fn init_producer(c: &Connection, transactional_id: Option<&str>) -> Result<(i64, i16), String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(txn) = transactional_id {
            // FindCoordinator creates __transaction_state the first time, as Kafka's clients
            // ask it first.
            prepare(
                c,
                find_coordinator::Request { key_type: 1, coordinator_keys: vec![txn.into()], ..Default::default() },
            )
            .await?;
        }
        let r = prepare(
            c,
            init_producer_id::Request {
                transactional_id: transactional_id.map(Into::into),
                transaction_timeout_ms: 60_000,
                producer_id: -1,
                producer_epoch: -1,
                ..Default::default()
            },
        )
        .await?;
        if !r.error_code.is_retriable() {
            return if r.error_code.is_err() {
                Err(format!("InitProducerId: {}", r.error_code))
            } else {
                Ok((r.producer_id, r.producer_epoch))
            };
        }
        assert!(Instant::now() < deadline, "InitProducerId keeps failing with {}", r.error_code);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// AddPartitionsToTxn in its client form (v3): the topic's partition 0 joins the transaction.
async fn add_partition(c: &Connection, txn: &str, (pid, epoch): (i64, i16)) -> Result<(), String> {
    let r = at(
        c,
        add_partitions_to_txn::Request {
            v3_and_below_transactional_id: txn.into(),
            v3_and_below_producer_id: pid,
            v3_and_below_producer_epoch: epoch,
            v3_and_below_topics: vec![add_partitions_to_txn::AddPartitionsToTxnTopic {
                name: TOPIC.into(),
                partitions: [0].as_slice().into(),
                ..Default::default()
            }],
            ..Default::default()
        },
        3,
    )
    .await?;
    let codes = error_codes(&shown(&r));
    if codes.iter().any(|c| c != "NONE") {
        return Err(format!("AddPartitionsToTxn: {codes:?}"));
    }
    Ok(())
}

fn subscription() -> Bytes {
    cps::AnyVersion::from(cps::v3::ConsumerProtocolSubscription { topics: vec![TOPIC.into()], ..Default::default() })
        .to_versioned_bytes()
        .unwrap()
}

fn join_request(group: &str, member_id: &str, version: i16) -> join_group::Request {
    let mut r = join_group::Request {
        group_id: group.into(),
        session_timeout_ms: 30_000,
        member_id: member_id.into(),
        protocol_type: "consumer".into(),
        protocols: vec![join_group::JoinGroupRequestProtocol {
            name: "range".into(),
            metadata: subscription(),
            ..Default::default()
        }],
        ..Default::default()
    };
    if join_group::Request::REBALANCE_TIMEOUT_MS_VERSIONS.contains(version) {
        r.rebalance_timeout_ms = 30_000;
    }
    r
}

/// JoinGroup at `version`, again with the member id Kafka hands out when it asks for one
/// (KIP-394). The last answer.
async fn join(c: &Connection, group: &str, version: i16) -> Result<join_group::Response, String> {
    let r = at(c, join_request(group, "", version), version).await?;
    if r.error_code != ErrorCode::MEMBER_ID_REQUIRED {
        return Ok(r);
    }
    at(c, join_request(group, &r.member_id, version), version).await
}

/// A member of a new classic group that has joined and synced: (member id, generation).
async fn classic_member(c: &Connection, group: &str) -> Result<(String, i32), String> {
    let j = join(c, group, ApiKey::JoinGroup.versions().max).await?;
    if j.error_code.is_err() {
        return Err(format!("JoinGroup: {}", j.error_code));
    }
    let s = prepare(
        c,
        sync_group::Request {
            group_id: group.into(),
            generation_id: j.generation_id,
            member_id: j.member_id.clone(),
            protocol_type: Some("consumer".into()),
            protocol_name: Some("range".into()),
            ..Default::default()
        },
    )
    .await?;
    if s.error_code.is_err() {
        return Err(format!("SyncGroup: {}", s.error_code));
    }
    Ok((j.member_id.to_string(), j.generation_id))
}

/// Commits offset 1 of the topic's partition 0 for `group` (a group that only stores offsets).
async fn commit_simple(w: &World, group: &str) -> Result<(), String> {
    let c = &w.plain;
    let version = c.version_for(ApiKey::OffsetCommit).await.map_err(err)?;
    let topic = if offset_commit::OffsetCommitRequestTopic::TOPIC_ID_VERSIONS.contains(version) {
        offset_commit::OffsetCommitRequestTopic { topic_id: w.topic_id, ..Default::default() }
    } else {
        offset_commit::OffsetCommitRequestTopic { name: TOPIC.into(), ..Default::default() }
    };
    let r = prepare(
        c,
        offset_commit::Request {
            group_id: group.into(),
            generation_id_or_member_epoch: -1,
            topics: vec![offset_commit::OffsetCommitRequestTopic {
                partitions: vec![offset_commit::OffsetCommitRequestPartition {
                    partition_index: 0,
                    committed_offset: 1,
                    ..Default::default()
                }],
                ..topic
            }],
            ..Default::default()
        },
    )
    .await?;
    let codes = error_codes(&shown(&r));
    if codes.iter().any(|c| c != "NONE") {
        return Err(format!("OffsetCommit: {codes:?}"));
    }
    Ok(())
}

/// A new delegation token's HMAC, once the broker knows the token (the controller writes it
/// to the metadata log; the broker learns it when it replays that).
async fn create_token(c: &Connection) -> Result<Bytes, String> {
    let r = prepare(c, create_delegation_token::Request { max_lifetime_ms: -1, ..Default::default() }).await?;
    if r.error_code.is_err() {
        return Err(format!("CreateDelegationToken: {}", r.error_code));
    }
    let deadline = Instant::now() + PATIENCE;
    loop {
        let d = prepare(c, describe_delegation_token::Request { owners: None, ..Default::default() }).await?;
        if d.tokens.iter().any(|t| t.token_id == r.token_id) {
            return Ok(r.hmac);
        }
        assert!(Instant::now() < deadline, "the broker never learnt delegation token {}", r.token_id);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh connection to the SASL listener that has not authenticated.
async fn unauthenticated(w: &World) -> Result<Connection, String> {
    Connection::connect(w.sasl_addr.clone(), strict()).await.map_err(err)
}

fn acl_creation(name: &str) -> create_acls::AclCreation {
    create_acls::AclCreation {
        resource_type: 2, // TOPIC
        resource_name: name.into(),
        resource_pattern_type: 3, // LITERAL
        principal: "User:bob".into(),
        host: "*".into(),
        operation: 3,       // READ
        permission_type: 3, // ALLOW
        ..Default::default()
    }
}

/// One exchange of `api` at `version`: the answer's Debug text, or why there is none.
async fn exercise(w: &World, api: ApiKey, v: i16) -> Outcome {
    let c = &w.plain;
    let unique = |what: &str| format!("matrix-{what}-v{v}");
    let by_id = |topic_ids: kafka_wire::VersionRange| topic_ids.contains(v);
    Ok(match api {
        ApiKey::ApiVersions => shown(
            &at(
                c,
                api_versions::Request {
                    client_software_name: "kafka-wire-tests".into(),
                    client_software_version: "1.0".into(),
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::Metadata => {
            let mut r = metadata::Request {
                topics: Some(vec![metadata::MetadataRequestTopic { name: Some(TOPIC.into()), ..Default::default() }]),
                ..Default::default()
            };
            if metadata::Request::ALLOW_AUTO_TOPIC_CREATION_VERSIONS.contains(v) {
                r.allow_auto_topic_creation = false;
            }
            if metadata::Request::INCLUDE_TOPIC_AUTHORIZED_OPERATIONS_VERSIONS.contains(v) {
                r.include_topic_authorized_operations = true;
            }
            shown(&at(c, r, v).await?)
        }
        ApiKey::Produce => {
            let topic = if by_id(produce::TopicProduceData::TOPIC_ID_VERSIONS) {
                produce::TopicProduceData { topic_id: w.topic_id, ..Default::default() }
            } else {
                produce::TopicProduceData { name: TOPIC.into(), ..Default::default() }
            };
            let r = produce::Request {
                acks: -1,
                timeout_ms: 30_000,
                topic_data: vec![produce::TopicProduceData {
                    partition_data: vec![produce::PartitionProduceData {
                        index: 0,
                        records: Some(record_batch()),
                        ..Default::default()
                    }],
                    ..topic
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::Fetch => {
            let topic = if by_id(fetch::FetchTopic::TOPIC_ID_VERSIONS) {
                fetch::FetchTopic { topic_id: w.topic_id, ..Default::default() }
            } else {
                fetch::FetchTopic { topic: TOPIC.into(), ..Default::default() }
            };
            let r = fetch::Request {
                max_wait_ms: 0,
                min_bytes: 1,
                max_bytes: 1 << 20,
                topics: vec![fetch::FetchTopic {
                    partitions: vec![fetch::FetchPartition {
                        partition: 0,
                        fetch_offset: 0,
                        partition_max_bytes: 1 << 20,
                        ..Default::default()
                    }],
                    ..topic
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::ListOffsets => shown(
            &at(
                c,
                list_offsets::Request {
                    replica_id: -1,
                    topics: vec![list_offsets::ListOffsetsTopic {
                        name: TOPIC.into(),
                        partitions: vec![list_offsets::ListOffsetsPartition {
                            partition_index: 0,
                            timestamp: -1,
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::OffsetCommit => {
            let topic = if by_id(offset_commit::OffsetCommitRequestTopic::TOPIC_ID_VERSIONS) {
                offset_commit::OffsetCommitRequestTopic { topic_id: w.topic_id, ..Default::default() }
            } else {
                offset_commit::OffsetCommitRequestTopic { name: TOPIC.into(), ..Default::default() }
            };
            let r = offset_commit::Request {
                group_id: unique("commit").into(),
                generation_id_or_member_epoch: -1,
                topics: vec![offset_commit::OffsetCommitRequestTopic {
                    partitions: vec![offset_commit::OffsetCommitRequestPartition {
                        partition_index: 0,
                        committed_offset: 1,
                        committed_metadata: Some("metadata".into()),
                        ..Default::default()
                    }],
                    ..topic
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::OffsetFetch => {
            let group = "matrix-fetched";
            commit_simple(w, group).await?;
            let r = if offset_fetch::Request::GROUPS_VERSIONS.contains(v) {
                let topic = if by_id(offset_fetch::OffsetFetchRequestTopics::TOPIC_ID_VERSIONS) {
                    offset_fetch::OffsetFetchRequestTopics { topic_id: w.topic_id, ..Default::default() }
                } else {
                    offset_fetch::OffsetFetchRequestTopics { name: TOPIC.into(), ..Default::default() }
                };
                offset_fetch::Request {
                    groups: vec![offset_fetch::OffsetFetchRequestGroup {
                        group_id: group.into(),
                        topics: Some(vec![offset_fetch::OffsetFetchRequestTopics {
                            partition_indexes: [0].as_slice().into(),
                            ..topic
                        }]),
                        ..Default::default()
                    }],
                    ..Default::default()
                }
            } else {
                offset_fetch::Request {
                    group_id: group.into(),
                    topics: Some(vec![offset_fetch::OffsetFetchRequestTopic {
                        name: TOPIC.into(),
                        partition_indexes: [0].as_slice().into(),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::FindCoordinator => {
            let r = if find_coordinator::Request::COORDINATOR_KEYS_VERSIONS.contains(v) {
                find_coordinator::Request { coordinator_keys: vec!["matrix-group".into()], ..Default::default() }
            } else {
                find_coordinator::Request { key: "matrix-group".into(), ..Default::default() }
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::JoinGroup => shown(&join(c, &unique("join"), v).await?),
        ApiKey::SyncGroup => {
            let group = unique("sync");
            let j = join(c, &group, ApiKey::JoinGroup.versions().max).await?;
            let mut r = sync_group::Request {
                group_id: group.as_str().into(),
                generation_id: j.generation_id,
                member_id: j.member_id.clone(),
                assignments: vec![sync_group::SyncGroupRequestAssignment {
                    member_id: j.member_id.clone(),
                    assignment: Bytes::new(),
                    ..Default::default()
                }],
                ..Default::default()
            };
            if sync_group::Request::PROTOCOL_TYPE_VERSIONS.contains(v) {
                r.protocol_type = Some("consumer".into());
                r.protocol_name = Some("range".into());
            }
            shown(&at(c, r, v).await?)
        }
        ApiKey::Heartbeat => {
            let group = unique("heartbeat");
            let (member_id, generation_id) = classic_member(c, &group).await?;
            let r = heartbeat::Request {
                group_id: group.as_str().into(),
                generation_id,
                member_id: member_id.as_str().into(),
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::LeaveGroup => {
            let group = unique("leave");
            let (member_id, _) = classic_member(c, &group).await?;
            let r = if leave_group::Request::MEMBERS_VERSIONS.contains(v) {
                leave_group::Request {
                    group_id: group.as_str().into(),
                    members: vec![leave_group::MemberIdentity {
                        member_id: member_id.as_str().into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }
            } else {
                leave_group::Request {
                    group_id: group.as_str().into(),
                    member_id: member_id.as_str().into(),
                    ..Default::default()
                }
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::DescribeGroups => {
            let group = unique("described");
            classic_member(c, &group).await?;
            let mut r = describe_groups::Request { groups: vec![group.as_str().into()], ..Default::default() };
            if describe_groups::Request::INCLUDE_AUTHORIZED_OPERATIONS_VERSIONS.contains(v) {
                r.include_authorized_operations = true;
            }
            shown(&at(c, r, v).await?)
        }
        ApiKey::ListGroups => shown(&at(c, list_groups::Request::default(), v).await?),
        ApiKey::SaslHandshake => {
            // v0 is followed by raw SASL tokens, not frames: the connection is dropped after.
            let fresh = unauthenticated(w).await?;
            shown(&at(&fresh, sasl_handshake::Request { mechanism: "PLAIN".into() }, v).await?)
        }
        ApiKey::SaslAuthenticate => {
            let fresh = unauthenticated(w).await?;
            let h = at(&fresh, sasl_handshake::Request { mechanism: "PLAIN".into() }, 1).await?;
            if h.error_code.is_err() {
                return Err(format!("SaslHandshake: {}", h.error_code));
            }
            let token = Bytes::from(format!("\0{USER}\0{PASSWORD}"));
            shown(&at(&fresh, sasl_authenticate::Request { auth_bytes: token, ..Default::default() }, v).await?)
        }
        ApiKey::CreateTopics => {
            let r = create_topics::Request {
                topics: vec![create_topics::CreatableTopic {
                    name: unique("created").into(),
                    num_partitions: 1,
                    replication_factor: 1,
                    configs: vec![create_topics::CreatableTopicConfig {
                        name: "retention.ms".into(),
                        value: Some("86400000".into()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                timeout_ms: 30_000,
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::DeleteTopics => {
            let name = unique("deleted");
            create_topic(c, &name, 1).await?;
            let r = if delete_topics::Request::TOPICS_VERSIONS.contains(v) {
                delete_topics::Request {
                    topics: vec![delete_topics::DeleteTopicState {
                        name: Some(name.as_str().into()),
                        ..Default::default()
                    }],
                    timeout_ms: 30_000,
                    ..Default::default()
                }
            } else {
                delete_topics::Request {
                    topic_names: vec![name.as_str().into()],
                    timeout_ms: 30_000,
                    ..Default::default()
                }
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::DeleteRecords => shown(
            &at(
                c,
                delete_records::Request {
                    topics: vec![delete_records::DeleteRecordsTopic {
                        name: TOPIC.into(),
                        partitions: vec![delete_records::DeleteRecordsPartition {
                            partition_index: 0,
                            offset: 0,
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    timeout_ms: 30_000,
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::InitProducerId => shown(
            &at(
                c,
                init_producer_id::Request {
                    transactional_id: Some(unique("init").into()),
                    transaction_timeout_ms: 60_000,
                    producer_id: -1,
                    producer_epoch: -1,
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::OffsetForLeaderEpoch => {
            let mut r = offset_for_leader_epoch::Request {
                topics: vec![offset_for_leader_epoch::OffsetForLeaderTopic {
                    topic: TOPIC.into(),
                    partitions: vec![offset_for_leader_epoch::OffsetForLeaderPartition {
                        partition: 0,
                        current_leader_epoch: -1,
                        leader_epoch: 0,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            if offset_for_leader_epoch::Request::REPLICA_ID_VERSIONS.contains(v) {
                r.replica_id = -1; // a consumer
            }
            shown(&at(c, r, v).await?)
        }
        ApiKey::AddPartitionsToTxn => {
            let txn = unique("add-partitions");
            let producer = init_producer(c, Some(&txn)).await?;
            let topics = vec![add_partitions_to_txn::AddPartitionsToTxnTopic {
                name: TOPIC.into(),
                partitions: [0].as_slice().into(),
                ..Default::default()
            }];
            let r = if add_partitions_to_txn::Request::TRANSACTIONS_VERSIONS.contains(v) {
                // The broker-to-broker form (KIP-890): verify only, a cluster action; the
                // partition is added first (with the client form), so that it verifies.
                add_partition(c, &txn, producer).await?;
                add_partitions_to_txn::Request {
                    transactions: vec![add_partitions_to_txn::AddPartitionsToTxnTransaction {
                        transactional_id: txn.as_str().into(),
                        producer_id: producer.0,
                        producer_epoch: producer.1,
                        verify_only: true,
                        topics,
                        ..Default::default()
                    }],
                    ..Default::default()
                }
            } else {
                add_partitions_to_txn::Request {
                    v3_and_below_transactional_id: txn.as_str().into(),
                    v3_and_below_producer_id: producer.0,
                    v3_and_below_producer_epoch: producer.1,
                    v3_and_below_topics: topics,
                    ..Default::default()
                }
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::AddOffsetsToTxn => {
            let txn = unique("add-offsets");
            let (producer_id, producer_epoch) = init_producer(c, Some(&txn)).await?;
            let r = add_offsets_to_txn::Request {
                transactional_id: txn.as_str().into(),
                producer_id,
                producer_epoch,
                group_id: "matrix-txn-group".into(),
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::EndTxn => {
            let txn = unique("end");
            let producer = init_producer(c, Some(&txn)).await?;
            add_partition(c, &txn, producer).await?;
            let r = end_txn::Request {
                transactional_id: txn.as_str().into(),
                producer_id: producer.0,
                producer_epoch: producer.1,
                committed: false,
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::TxnOffsetCommit => {
            let txn = unique("txn-offsets");
            let group = unique("txn-offsets-group");
            let (producer_id, producer_epoch) = init_producer(c, Some(&txn)).await?;
            let added = prepare(
                c,
                add_offsets_to_txn::Request {
                    transactional_id: txn.as_str().into(),
                    producer_id,
                    producer_epoch,
                    group_id: group.as_str().into(),
                    ..Default::default()
                },
            )
            .await?;
            if added.error_code.is_err() {
                return Err(format!("AddOffsetsToTxn: {}", added.error_code));
            }
            let r = txn_offset_commit::Request {
                transactional_id: txn.as_str().into(),
                group_id: group.as_str().into(),
                producer_id,
                producer_epoch,
                topics: vec![txn_offset_commit::TxnOffsetCommitRequestTopic {
                    name: if by_id(txn_offset_commit::TxnOffsetCommitRequestTopic::TOPIC_ID_VERSIONS) {
                        Default::default()
                    } else {
                        TOPIC.into()
                    },
                    topic_id: if by_id(txn_offset_commit::TxnOffsetCommitRequestTopic::TOPIC_ID_VERSIONS) {
                        w.topic_id
                    } else {
                        Uuid::ZERO
                    },
                    partitions: vec![txn_offset_commit::TxnOffsetCommitRequestPartition {
                        partition_index: 0,
                        committed_offset: 1,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::WriteTxnMarkers => {
            // An abort marker for an idempotent producer (a cluster action; plaintext is a super
            // user here).
            let (producer_id, producer_epoch) = init_producer(c, None).await?;
            let r = write_txn_markers::Request {
                markers: vec![write_txn_markers::WritableTxnMarker {
                    producer_id,
                    producer_epoch,
                    transaction_result: false,
                    topics: vec![write_txn_markers::WritableTxnMarkerTopic {
                        name: TOPIC.into(),
                        partition_indexes: [0].as_slice().into(),
                        ..Default::default()
                    }],
                    coordinator_epoch: 0,
                    ..Default::default()
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::DescribeAcls => {
            let mut r = describe_acls::Request {
                resource_type_filter: 1, // ANY
                operation: 1,            // ANY
                permission_type: 1,      // ANY
                ..Default::default()
            };
            if describe_acls::Request::PATTERN_TYPE_FILTER_VERSIONS.contains(v) {
                r.pattern_type_filter = 1; // ANY
            }
            shown(&at(c, r, v).await?)
        }
        ApiKey::CreateAcls => shown(
            &at(c, create_acls::Request { creations: vec![acl_creation(&unique("acl"))], ..Default::default() }, v)
                .await?,
        ),
        ApiKey::DeleteAcls => {
            let name = unique("acl-deleted");
            let created =
                prepare(c, create_acls::Request { creations: vec![acl_creation(&name)], ..Default::default() }).await?;
            let codes = error_codes(&shown(&created));
            if codes.iter().any(|c| c != "NONE") {
                return Err(format!("CreateAcls: {codes:?}"));
            }
            let r = delete_acls::Request {
                filters: vec![delete_acls::DeleteAclsFilter {
                    resource_type_filter: 2,
                    resource_name_filter: Some(name.as_str().into()),
                    pattern_type_filter: 3,
                    principal_filter: Some("User:bob".into()),
                    host_filter: Some("*".into()),
                    operation: 3,
                    permission_type: 3,
                    ..Default::default()
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::DescribeConfigs => {
            let mut r = describe_configs::Request {
                resources: vec![describe_configs::DescribeConfigsResource {
                    resource_type: 2,
                    resource_name: TOPIC.into(),
                    configuration_keys: None,
                    ..Default::default()
                }],
                ..Default::default()
            };
            if describe_configs::Request::INCLUDE_SYNONYMS_VERSIONS.contains(v) {
                r.include_synonyms = true;
            }
            if describe_configs::Request::INCLUDE_DOCUMENTATION_VERSIONS.contains(v) {
                r.include_documentation = true;
            }
            shown(&at(c, r, v).await?)
        }
        ApiKey::AlterConfigs => shown(
            &at(
                c,
                alter_configs::Request {
                    resources: vec![alter_configs::AlterConfigsResource {
                        resource_type: 2,
                        resource_name: TOPIC.into(),
                        configs: vec![alter_configs::AlterableConfig {
                            name: "retention.ms".into(),
                            value: Some("86400000".into()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    validate_only: false,
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::AlterReplicaLogDirs => shown(
            &at(
                c,
                alter_replica_log_dirs::Request {
                    dirs: vec![alter_replica_log_dirs::AlterReplicaLogDir {
                        path: w.log_dir.as_str().into(),
                        topics: vec![alter_replica_log_dirs::AlterReplicaLogDirTopic {
                            name: TOPIC.into(),
                            partitions: [0].as_slice().into(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::DescribeLogDirs => {
            shown(&at(c, describe_log_dirs::Request { topics: None, ..Default::default() }, v).await?)
        }
        ApiKey::CreatePartitions => {
            let name = unique("partitions");
            create_topic(c, &name, 1).await?;
            let r = create_partitions::Request {
                topics: vec![create_partitions::CreatePartitionsTopic {
                    name: name.as_str().into(),
                    count: 2,
                    assignments: None,
                    ..Default::default()
                }],
                timeout_ms: 30_000,
                validate_only: false,
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::CreateDelegationToken => {
            let r = create_delegation_token::Request { max_lifetime_ms: -1, ..Default::default() };
            shown(&at(&w.sasl, r, v).await?)
        }
        ApiKey::RenewDelegationToken => {
            let hmac = create_token(&w.sasl).await?;
            shown(
                &at(&w.sasl, renew_delegation_token::Request { hmac, renew_period_ms: -1, ..Default::default() }, v)
                    .await?,
            )
        }
        ApiKey::ExpireDelegationToken => {
            let hmac = create_token(&w.sasl).await?;
            shown(
                &at(
                    &w.sasl,
                    expire_delegation_token::Request { hmac, expiry_time_period_ms: -1, ..Default::default() },
                    v,
                )
                .await?,
            )
        }
        ApiKey::DescribeDelegationToken => {
            shown(&at(&w.sasl, describe_delegation_token::Request { owners: None, ..Default::default() }, v).await?)
        }
        ApiKey::DeleteGroups => {
            let group = unique("deleted-group");
            commit_simple(w, &group).await?;
            shown(
                &at(c, delete_groups::Request { groups_names: vec![group.as_str().into()], ..Default::default() }, v)
                    .await?,
            )
        }
        ApiKey::ElectLeaders => {
            let mut r = elect_leaders::Request {
                topic_partitions: Some(vec![elect_leaders::TopicPartitions {
                    topic: TOPIC.into(),
                    partitions: [0].as_slice().into(),
                    ..Default::default()
                }]),
                timeout_ms: 30_000,
                ..Default::default()
            };
            if elect_leaders::Request::ELECTION_TYPE_VERSIONS.contains(v) {
                r.election_type = 0; // preferred
            }
            shown(&at(c, r, v).await?)
        }
        ApiKey::IncrementalAlterConfigs => shown(
            &at(
                c,
                incremental_alter_configs::Request {
                    resources: vec![incremental_alter_configs::AlterConfigsResource {
                        resource_type: 2,
                        resource_name: TOPIC.into(),
                        configs: vec![incremental_alter_configs::AlterableConfig {
                            name: "retention.ms".into(),
                            config_operation: 0, // SET
                            value: Some("172800000".into()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    validate_only: false,
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::AlterPartitionReassignments => shown(
            &at(
                c,
                alter_partition_reassignments::Request {
                    timeout_ms: 30_000,
                    topics: vec![alter_partition_reassignments::ReassignableTopic {
                        name: TOPIC.into(),
                        partitions: vec![alter_partition_reassignments::ReassignablePartition {
                            partition_index: 0,
                            replicas: Some([1].as_slice().into()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::ListPartitionReassignments => shown(
            &at(c, list_partition_reassignments::Request { timeout_ms: 30_000, topics: None, ..Default::default() }, v)
                .await?,
        ),
        ApiKey::OffsetDelete => {
            let group = unique("offsets-deleted");
            commit_simple(w, &group).await?;
            let r = offset_delete::Request {
                group_id: group.as_str().into(),
                topics: vec![offset_delete::OffsetDeleteRequestTopic {
                    name: TOPIC.into(),
                    partitions: vec![offset_delete::OffsetDeleteRequestPartition { partition_index: 0 }],
                }],
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::DescribeClientQuotas => shown(
            &at(c, describe_client_quotas::Request { components: vec![], strict: false, ..Default::default() }, v)
                .await?,
        ),
        ApiKey::AlterClientQuotas => shown(
            &at(
                c,
                alter_client_quotas::Request {
                    entries: vec![alter_client_quotas::EntryData {
                        entity: vec![alter_client_quotas::EntityData {
                            entity_type: "client-id".into(),
                            entity_name: Some(unique("client").into()),
                            ..Default::default()
                        }],
                        ops: vec![alter_client_quotas::OpData {
                            key: "consumer_byte_rate".into(),
                            value: 1_048_576.0,
                            remove: false,
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    validate_only: false,
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::DescribeUserScramCredentials => {
            shown(&at(c, describe_user_scram_credentials::Request { users: None, ..Default::default() }, v).await?)
        }
        ApiKey::AlterUserScramCredentials => shown(
            &at(
                c,
                alter_user_scram_credentials::Request {
                    deletions: vec![],
                    upsertions: vec![alter_user_scram_credentials::ScramCredentialUpsertion {
                        name: unique("carol").into(),
                        mechanism: 1, // SCRAM-SHA-256
                        iterations: 4096,
                        salt: Bytes::from_static(b"kafka-wire-salt"),
                        salted_password: Bytes::from(vec![7u8; 32]),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::DescribeQuorum => shown(
            &at(
                c,
                describe_quorum::Request {
                    topics: vec![describe_quorum::TopicData {
                        topic_name: "__cluster_metadata".into(),
                        partitions: vec![describe_quorum::PartitionData { partition_index: 0, ..Default::default() }],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::UpdateFeatures => {
            let mut r = update_features::Request { timeout_ms: 30_000, ..Default::default() };
            if update_features::Request::VALIDATE_ONLY_VERSIONS.contains(v) {
                r.validate_only = true;
            }
            shown(&at(c, r, v).await?)
        }
        ApiKey::DescribeCluster => {
            let r = describe_cluster::Request { include_cluster_authorized_operations: true, ..Default::default() };
            shown(&at(c, r, v).await?)
        }
        ApiKey::DescribeProducers => shown(
            &at(
                c,
                describe_producers::Request {
                    topics: vec![describe_producers::TopicRequest {
                        name: TOPIC.into(),
                        partition_indexes: [0].as_slice().into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::DescribeTransactions => {
            let txn = unique("described-txn");
            init_producer(c, Some(&txn)).await?;
            shown(
                &at(
                    c,
                    describe_transactions::Request {
                        transactional_ids: vec![txn.as_str().into()],
                        ..Default::default()
                    },
                    v,
                )
                .await?,
            )
        }
        ApiKey::ListTransactions => shown(&at(c, list_transactions::Request::default(), v).await?),
        ApiKey::ConsumerGroupHeartbeat => shown(&consumer_member(c, &unique("consumer"), v).await?),
        ApiKey::ConsumerGroupDescribe => {
            let group = unique("consumer-described");
            consumer_member(c, &group, ApiKey::ConsumerGroupHeartbeat.versions().max).await?;
            let r = consumer_group_describe::Request {
                group_ids: vec![group.as_str().into()],
                include_authorized_operations: true,
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::GetTelemetrySubscriptions => shown(
            &at(c, get_telemetry_subscriptions::Request { client_instance_id: Uuid::ZERO, ..Default::default() }, v)
                .await?,
        ),
        ApiKey::ListConfigResources => shown(
            &at(c, list_config_resources::Request { resource_types: Default::default(), ..Default::default() }, v)
                .await?,
        ),
        ApiKey::DescribeTopicPartitions => shown(
            &at(
                c,
                describe_topic_partitions::Request {
                    topics: vec![describe_topic_partitions::TopicRequest { name: TOPIC.into(), ..Default::default() }],
                    response_partition_limit: 2000,
                    cursor: None,
                    ..Default::default()
                },
                v,
            )
            .await?,
        ),
        ApiKey::ShareGroupHeartbeat => shown(&share_member(c, &unique("share"), v).await?),
        ApiKey::ShareGroupDescribe => {
            let group = unique("share-described");
            share_member(c, &group, ApiKey::ShareGroupHeartbeat.versions().max).await?;
            let r = share_group_describe::Request {
                group_ids: vec![group.as_str().into()],
                include_authorized_operations: true,
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::DescribeShareGroupOffsets => {
            let group = unique("share-offsets");
            share_member(c, &group, ApiKey::ShareGroupHeartbeat.versions().max).await?;
            let r = describe_share_group_offsets::Request {
                groups: vec![describe_share_group_offsets::DescribeShareGroupOffsetsRequestGroup {
                    group_id: group.as_str().into(),
                    topics: None,
                    ..Default::default()
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::StreamsGroupHeartbeat => shown(&streams_member(c, &unique("streams"), v).await?),
        ApiKey::StreamsGroupDescribe => {
            let group = unique("streams-described");
            streams_member(c, &group, ApiKey::StreamsGroupHeartbeat.versions().max).await?;
            let r = streams_group_describe::Request {
                group_ids: vec![group.as_str().into()],
                include_authorized_operations: true,
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::ShareFetch => {
            let group = unique("share-fetch");
            share_member(c, &group, ApiKey::ShareGroupHeartbeat.versions().max).await?;
            shown(&at(c, share_fetch_request(w, &group), v).await?)
        }
        ApiKey::ShareAcknowledge => {
            let group = unique("share-ack");
            let (first_offset, last_offset) = acquired(w, &group).await?;
            // The fetch opened the share session (epoch 0); the acknowledgement is its epoch 1.
            let r = share_acknowledge::Request {
                group_id: Some(group.as_str().into()),
                member_id: Some(SHARE_MEMBER.into()),
                share_session_epoch: 1,
                topics: vec![share_acknowledge::AcknowledgeTopic {
                    topic_id: w.topic_id,
                    partitions: vec![share_acknowledge::AcknowledgePartition {
                        partition_index: 0,
                        acknowledgement_batches: vec![share_acknowledge::AcknowledgementBatch {
                            first_offset,
                            last_offset,
                            acknowledge_types: [1].as_slice().into(), // ACCEPT
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::AlterShareGroupOffsets => {
            let group = empty_share_group(c, &unique("share-alter")).await?;
            let r = alter_share_group_offsets::Request {
                group_id: group.as_str().into(),
                topics: vec![alter_share_group_offsets::AlterShareGroupOffsetsRequestTopic {
                    topic_name: TOPIC.into(),
                    partitions: vec![alter_share_group_offsets::AlterShareGroupOffsetsRequestPartition {
                        partition_index: 0,
                        start_offset: 0,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::DeleteShareGroupOffsets => {
            let group = empty_share_group(c, &unique("share-delete")).await?;
            // Offsets to delete: set by AlterShareGroupOffsets first.
            let set = prepare(
                c,
                alter_share_group_offsets::Request {
                    group_id: group.as_str().into(),
                    topics: vec![alter_share_group_offsets::AlterShareGroupOffsetsRequestTopic {
                        topic_name: TOPIC.into(),
                        partitions: vec![alter_share_group_offsets::AlterShareGroupOffsetsRequestPartition {
                            partition_index: 0,
                            start_offset: 0,
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            )
            .await?;
            if error_codes(&shown(&set)).iter().any(|c| c != "NONE") {
                return Err(format!("AlterShareGroupOffsets: {set:?}"));
            }
            let r = delete_share_group_offsets::Request {
                group_id: group.as_str().into(),
                topics: vec![delete_share_group_offsets::DeleteShareGroupOffsetsRequestTopic {
                    topic_name: TOPIC.into(),
                    ..Default::default()
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        // The share coordinator's persister API (broker to broker; a cluster action).
        ApiKey::InitializeShareGroupState => {
            let group = share_state_group(w, &unique("state-init")).await?;
            shown(&at(c, initialize_state(w, &group), v).await?)
        }
        ApiKey::ReadShareGroupState => {
            let group = share_state_group(w, &unique("state-read")).await?;
            prepare(c, initialize_state(w, &group)).await?;
            let r = read_share_group_state::Request {
                group_id: group.as_str().into(),
                topics: vec![read_share_group_state::ReadStateData {
                    topic_id: w.topic_id,
                    partitions: vec![read_share_group_state::PartitionData {
                        partition: 0,
                        leader_epoch: 0,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::ReadShareGroupStateSummary => {
            let group = share_state_group(w, &unique("state-summary")).await?;
            prepare(c, initialize_state(w, &group)).await?;
            let r = read_share_group_state_summary::Request {
                group_id: group.as_str().into(),
                topics: vec![read_share_group_state_summary::ReadStateSummaryData {
                    topic_id: w.topic_id,
                    partitions: vec![read_share_group_state_summary::PartitionData {
                        partition: 0,
                        leader_epoch: 0,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::WriteShareGroupState => {
            let group = share_state_group(w, &unique("state-write")).await?;
            prepare(c, initialize_state(w, &group)).await?;
            let r = write_share_group_state::Request {
                group_id: group.as_str().into(),
                topics: vec![write_share_group_state::WriteStateData {
                    topic_id: w.topic_id,
                    partitions: vec![write_share_group_state::PartitionData {
                        partition: 0,
                        state_epoch: 0,
                        leader_epoch: 0,
                        start_offset: 1,
                        state_batches: vec![],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::DeleteShareGroupState => {
            let group = share_state_group(w, &unique("state-delete")).await?;
            prepare(c, initialize_state(w, &group)).await?;
            let r = delete_share_group_state::Request {
                group_id: group.as_str().into(),
                topics: vec![delete_share_group_state::DeleteStateData {
                    topic_id: w.topic_id,
                    partitions: vec![delete_share_group_state::PartitionData { partition: 0, ..Default::default() }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::StreamsGroupTopologyDescriptionUpdate => {
            let group = unique("streams-topology");
            streams_member(c, &group, ApiKey::StreamsGroupHeartbeat.versions().max).await?;
            let node = |name: &str| streams_group_topology_description_update::TopologyDescriptionNode {
                name: name.into(),
                source_topics: if name == "source" { vec![TOPIC.into()] } else { vec![] },
                ..Default::default()
            };
            let r = streams_group_topology_description_update::Request {
                group_id: group.as_str().into(),
                member_id: STREAMS_MEMBER.into(),
                topology_epoch: 0,
                topology_description: streams_group_topology_description_update::TopologyDescription {
                    subtopologies: vec![streams_group_topology_description_update::TopologyDescriptionSubtopology {
                        subtopology_id: "0".into(),
                        nodes: vec![node("source")],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        // Changes of the cluster's membership: asked for a node that does not exist, so that
        // Kafka answers with its error instead of changing the quorum under the test.
        ApiKey::UnregisterBroker => {
            shown(&at(c, unregister_broker::Request { broker_id: 99, ..Default::default() }, v).await?)
        }
        ApiKey::UnregisterController => {
            shown(&at(c, unregister_controller::Request { controller_id: 99, ..Default::default() }, v).await?)
        }
        ApiKey::RemoveRaftVoter => {
            let r = remove_raft_voter::Request {
                cluster_id: Some(w.cluster_id.as_str().into()),
                voter_id: 99,
                voter_directory_id: Uuid::from_bytes(*b"kafka-wire-voter"),
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        ApiKey::AddRaftVoter => {
            let r = add_raft_voter::Request {
                cluster_id: Some(w.cluster_id.as_str().into()),
                timeout_ms: 1_000,
                voter_id: 99,
                voter_directory_id: Uuid::from_bytes(*b"kafka-wire-voter"),
                listeners: vec![add_raft_voter::Listener {
                    name: "CONTROLLER".into(),
                    host: "127.0.0.1".into(),
                    port: 9,
                    ..Default::default()
                }],
                ..Default::default()
            };
            shown(&at(c, r, v).await?)
        }
        other => return Err(format!("no request written for {other:?}")),
    })
}

/// A KIP-848 consumer joining a new group (member id chosen by the client from v1, KIP-1082).
async fn consumer_member(c: &Connection, group: &str, v: i16) -> Result<consumer_group_heartbeat::Response, String> {
    // KIP-1082: from v1 the member picks its id; v0 leaves it to the coordinator.
    let member_id = if v >= 1 { Uuid::from_bytes(*b"kafka-wire-membr").to_string() } else { String::new() };
    at(
        c,
        consumer_group_heartbeat::Request {
            group_id: group.into(),
            member_id: member_id.as_str().into(),
            member_epoch: 0,
            rebalance_timeout_ms: 30_000,
            subscribed_topic_names: Some(vec![TOPIC.into()]),
            topic_partitions: Some(vec![]),
            ..Default::default()
        },
        v,
    )
    .await
}

/// A share group member joining a new group (KIP-932).
async fn share_member(c: &Connection, group: &str, v: i16) -> Result<share_group_heartbeat::Response, String> {
    at(
        c,
        share_group_heartbeat::Request {
            group_id: group.into(),
            member_id: SHARE_MEMBER.into(),
            member_epoch: 0,
            subscribed_topic_names: Some(vec![TOPIC.into()]),
            ..Default::default()
        },
        v,
    )
    .await
}

/// A Kafka Streams member joining a new group with a one-subtopology topology (KIP-1071).
async fn streams_member(c: &Connection, group: &str, v: i16) -> Result<streams_group_heartbeat::Response, String> {
    at(
        c,
        streams_group_heartbeat::Request {
            group_id: group.into(),
            member_id: STREAMS_MEMBER.into(),
            member_epoch: 0,
            rebalance_timeout_ms: 30_000,
            topology: Some(streams_group_heartbeat::Topology {
                epoch: 0,
                subtopologies: vec![streams_group_heartbeat::Subtopology {
                    subtopology_id: "0".into(),
                    source_topics: vec![TOPIC.into()],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            active_tasks: Some(vec![]),
            standby_tasks: Some(vec![]),
            warmup_tasks: Some(vec![]),
            process_id: Some(Uuid::from_bytes(*b"kafka-wire-procs").to_string().as_str().into()),
            client_tags: Some(vec![]),
            task_offsets: Some(vec![]),
            task_end_offsets: Some(vec![]),
            ..Default::default()
        },
        v,
    )
    .await
}

/// The member id of every share group member here.
const SHARE_MEMBER: &str = "a2Fma2Etd2lyZS1zaGFyZQ";
/// The member id of every streams group member here.
const STREAMS_MEMBER: &str = "a2Fma2Etd2lyZS1zdHJtcw";

fn share_fetch_request(w: &World, group: &str) -> share_fetch::Request {
    share_fetch::Request {
        group_id: Some(group.into()),
        member_id: Some(SHARE_MEMBER.into()),
        share_session_epoch: 0,
        max_wait_ms: 0,
        min_bytes: 1,
        max_bytes: 1 << 20,
        max_records: 100,
        batch_size: 100,
        topics: vec![share_fetch::FetchTopic {
            topic_id: w.topic_id,
            partitions: vec![share_fetch::FetchPartition { partition_index: 0, ..Default::default() }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A share group member that has the topic's partition assigned and has acquired records in a
/// share session (ShareFetch at epoch 0): the offsets acquired.
async fn acquired(w: &World, group: &str) -> Result<(i64, i64), String> {
    let c = &w.plain;
    // The group starts at the earliest offset (Kafka's default is the latest: nothing to take).
    let set = prepare(
        c,
        incremental_alter_configs::Request {
            resources: vec![incremental_alter_configs::AlterConfigsResource {
                resource_type: 32, // GROUP
                resource_name: group.into(),
                configs: vec![incremental_alter_configs::AlterableConfig {
                    name: "share.auto.offset.reset".into(),
                    config_operation: 0, // SET
                    value: Some("earliest".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .await?;
    if error_codes(&shown(&set)).iter().any(|c| c != "NONE") {
        return Err(format!("IncrementalAlterConfigs of group {group}: {set:?}"));
    }
    let deadline = Instant::now() + PATIENCE;
    let mut epoch = 0;
    loop {
        let r = prepare(
            c,
            share_group_heartbeat::Request {
                group_id: group.into(),
                member_id: SHARE_MEMBER.into(),
                member_epoch: epoch,
                subscribed_topic_names: (epoch == 0).then(|| vec![TOPIC.into()]),
                ..Default::default()
            },
        )
        .await?;
        if r.error_code.is_err() {
            return Err(format!("ShareGroupHeartbeat: {}", r.error_code));
        }
        epoch = r.member_epoch;
        let assigned = r.assignment.is_some_and(|a| a.topic_partitions.iter().any(|t| t.topic_id == w.topic_id));
        if assigned {
            break;
        }
        assert!(Instant::now() < deadline, "share group {group}: no assignment");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut fetch = share_fetch_request(w, group);
    fetch.max_wait_ms = 10_000;
    let r = prepare(c, fetch).await?;
    let acquired = r.responses.iter().flat_map(|t| &t.partitions).flat_map(|p| &p.acquired_records).next();
    match acquired {
        Some(a) => Ok((a.first_offset, a.last_offset)),
        None => Err(format!("ShareFetch acquired nothing: {r:?}")),
    }
}

/// A share group whose one member joined and left: empty, as offset changes want it.
async fn empty_share_group(c: &Connection, group: &str) -> Result<String, String> {
    share_member(c, group, ApiKey::ShareGroupHeartbeat.versions().max).await?;
    let left = prepare(
        c,
        share_group_heartbeat::Request {
            group_id: group.into(),
            member_id: SHARE_MEMBER.into(),
            member_epoch: -1,
            ..Default::default()
        },
    )
    .await?;
    if left.error_code.is_err() {
        return Err(format!("ShareGroupHeartbeat (leave): {}", left.error_code));
    }
    Ok(group.to_owned())
}

/// A group name whose share-state coordinator is up (FindCoordinator with key type 2 creates
/// `__share_group_state` the first time).
async fn share_state_group(w: &World, group: &str) -> Result<String, String> {
    let key = format!("{group}:{}:0", w.topic_id);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let r = prepare(
            &w.plain,
            find_coordinator::Request {
                key_type: 2,
                coordinator_keys: vec![key.as_str().into()],
                ..Default::default()
            },
        )
        .await?;
        if r.coordinators.iter().all(|c| c.error_code == ErrorCode::NONE) {
            return Ok(group.to_owned());
        }
        assert!(Instant::now() < deadline, "the share coordinator did not come up: {r:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn initialize_state(w: &World, group: &str) -> initialize_share_group_state::Request {
    initialize_share_group_state::Request {
        group_id: group.into(),
        topics: vec![initialize_share_group_state::InitializeStateData {
            topic_id: w.topic_id,
            partitions: vec![initialize_share_group_state::PartitionData {
                partition: 0,
                state_epoch: 0,
                start_offset: 0,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The exchanges whose answers hold an error code other than NONE, on purpose: (API, the codes,
/// why).
const EXPLAINED: &[(ApiKey, &str, &str)] = &[
    (ApiKey::ElectLeaders, "ELECTION_NOT_NEEDED", "a partition with one replica already has its preferred leader"),
    (ApiKey::UnregisterBroker, "BROKER_ID_NOT_REGISTERED", "asked for broker 99, so that the test's broker stays"),
    (ApiKey::UnregisterController, "CONTROLLER_ID_NOT_REGISTERED", "asked for controller 99, likewise"),
    (
        ApiKey::AddRaftVoter,
        "UNSUPPORTED_VERSION",
        "the harness formats a static quorum (kraft.version 0), which cannot change its voters",
    ),
    (ApiKey::RemoveRaftVoter, "UNSUPPORTED_VERSION", "likewise"),
    (
        ApiKey::StreamsGroupTopologyDescriptionUpdate,
        "UNSUPPORTED_VERSION",
        "Kafka answers it only with a topology description plugin configured",
    ),
];

/// What one (API, version) gave.
struct Cell {
    version: i16,
    outcome: Outcome,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_advertised_api_at_every_version() {
    let cluster = cluster();
    let _logs = cluster.log_guard();
    let started = Instant::now();
    let plain = Connection::connect(cluster.addr(1, Listener::Plaintext).unwrap(), strict()).await.unwrap();
    let sasl_addr = cluster.addr(1, Listener::SaslPlaintext).unwrap();
    let sasl = Connection::connect(
        sasl_addr.clone(),
        strict().sasl(SaslConfig::new(SaslMechanism::ScramSha256, USER, PASSWORD)),
    )
    .await
    .unwrap();

    // What the requests need: the topic with records, the log directory, warm coordinators.
    let topic_id = create_topic(&plain, TOPIC, 1).await.unwrap();
    let produce_version = plain.version_for(ApiKey::Produce).await.unwrap();
    assert!(produce::TopicProduceData::TOPIC_ID_VERSIONS.contains(produce_version));
    for _ in 0..3 {
        let r = plain
            .send(&produce::Request {
                acks: -1,
                timeout_ms: 30_000,
                topic_data: vec![produce::TopicProduceData {
                    topic_id,
                    partition_data: vec![produce::PartitionProduceData {
                        index: 0,
                        records: Some(record_batch()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);
    }
    let dirs = plain.send(&describe_log_dirs::Request { topics: None, ..Default::default() }).await.unwrap();
    let log_dir = dirs.results[0].log_dir.to_string();
    init_producer(&plain, Some("matrix-warm-up")).await.unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        // The group coordinator: __consumer_offsets created and loaded.
        let r = plain
            .send(&find_coordinator::Request { coordinator_keys: vec!["matrix-warm-up".into()], ..Default::default() })
            .await
            .unwrap();
        if r.coordinators[0].error_code == ErrorCode::NONE {
            let j = join(&plain, "matrix-warm-up", ApiKey::JoinGroup.versions().max).await.unwrap();
            if !j.error_code.is_retriable() {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the group coordinator did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let world = World { plain, sasl, sasl_addr, topic_id, log_dir, cluster_id: cluster.cluster_id().to_owned() };
    let prepared = started.elapsed();

    // Every API the broker advertises, at every version both sides have.
    let mut matrix: BTreeMap<ApiKey, Vec<Cell>> = BTreeMap::new();
    let mut unknown_to_codec = Vec::new();
    let mut not_shared = Vec::new();
    let advertised = world
        .plain
        .send(&api_versions::Request {
            client_software_name: "kafka-wire-tests".into(),
            client_software_version: "1.0".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(advertised.error_code, ErrorCode::NONE);
    for key in &advertised.api_keys {
        let Some(api) = ApiKey::from_code(key.api_key) else {
            unknown_to_codec.push(key.api_key);
            continue;
        };
        let theirs = world.plain.broker_versions(api).await.unwrap();
        let both = theirs.intersect(api.versions());
        if both.is_empty() {
            not_shared.push(format!("{api:?} (broker {theirs}, codec {})", api.versions()));
            continue;
        }
        let cells = matrix.entry(api).or_default();
        for version in both.min..=both.max {
            let mut outcome = exercise(&world, api, version).await;
            // A retriable error (a coordinator moving, a partition being set up) is asked again.
            let deadline = Instant::now() + PATIENCE;
            while let Ok(text) = &outcome {
                let retriable = error_codes(text).iter().any(|c| {
                    ["COORDINATOR_LOAD_IN_PROGRESS", "COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR"]
                        .contains(&c.as_str())
                });
                if !retriable || Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                outcome = exercise(&world, api, version).await;
            }
            cells.push(Cell { version, outcome });
        }
    }
    let elapsed = started.elapsed();

    // The matrix.
    let (mut exchanges, mut clean, mut unknown_tags, mut failures) = (0, 0, Vec::new(), Vec::new());
    let mut unexplained = Vec::new();
    println!("| API | versions | answered | error codes in the answers |");
    println!("|---|---|---|---|");
    for (api, cells) in &matrix {
        let mut codes = BTreeSet::new();
        let mut answered = Vec::new();
        for cell in cells {
            match &cell.outcome {
                Ok(text) => {
                    exchanges += 1;
                    answered.push(cell.version);
                    let found = error_codes(text);
                    if found.iter().all(|c| c == "NONE") {
                        clean += 1;
                    } else {
                        let explained = EXPLAINED
                            .iter()
                            .any(|(a, code, _)| a == api && found.iter().all(|c| c == "NONE" || c == code));
                        if !explained {
                            unexplained.push(format!("{api:?} v{}: {text}", cell.version));
                        }
                        let messages: Vec<&str> = text
                            .split("message: Some(")
                            .skip(1)
                            .filter_map(|rest| rest.split_once(')').map(|(m, _)| m))
                            .collect();
                        println!("{api:?} v{}: {found:?} {messages:?}", cell.version);
                    }
                    codes.extend(found.into_iter().map(|c| format!("{c} (v{})", cell.version)));
                    if text.contains("UnknownTaggedFields(Some") {
                        unknown_tags.push(format!("{api:?} v{}: {text}", cell.version));
                    }
                }
                Err(e) => failures.push(format!("{api:?} v{}: {e}", cell.version)),
            }
        }
        let first = cells.first().map_or(0, |c| c.version);
        let last = cells.last().map_or(0, |c| c.version);
        let merged = merge_codes(&codes);
        println!("| {api:?} | {first}-{last} | {} | {merged} |", ranges(&answered));
    }
    println!(
        "{} APIs, {exchanges} (API, version) exchanges answered and decoded ({clean} with no error code but NONE) in \
         {elapsed:?} ({prepared:?} of it preparing)",
        matrix.len()
    );
    println!("not exercised: {failures:#?}");
    println!("advertised, no version shared with the codec: {not_shared:?}");
    assert!(unknown_tags.is_empty(), "answers with tagged fields this codec does not know:\n{unknown_tags:#?}");
    assert!(not_shared.is_empty(), "advertised APIs without a shared version: {not_shared:?}");
    let not_advertised: Vec<ApiKey> = ApiKey::ALL.iter().copied().filter(|a| !matrix.contains_key(a)).collect();
    println!("in the codec, not advertised by the broker: {not_advertised:?}");
    assert!(unexplained.is_empty(), "answers with an error code not explained in EXPLAINED:\n{unexplained:#?}");
    assert!(unknown_to_codec.is_empty(), "advertised API keys this codec does not know: {unknown_to_codec:?}");
    assert!(failures.is_empty(), "(API, version) pairs not exercised:\n{failures:#?}");
}

/// "NONE (v0), NONE (v1), X (v1)" as "NONE v0-1; X v1".
fn merge_codes(codes: &BTreeSet<String>) -> String {
    let mut by_code: BTreeMap<&str, Vec<i16>> = BTreeMap::new();
    for c in codes {
        if let Some((name, rest)) = c.split_once(" (v") {
            if let Ok(v) = rest.trim_end_matches(')').parse() {
                by_code.entry(name).or_default().push(v);
            }
        }
    }
    by_code.iter().map(|(name, versions)| format!("{name} v{}", ranges(versions))).collect::<Vec<_>>().join("; ")
}

/// [0, 1, 2, 5] as "0-2, 5".
fn ranges(versions: &[i16]) -> String {
    let mut sorted = versions.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        while i + 1 < sorted.len() && sorted[i + 1] == sorted[i] + 1 {
            i += 1;
        }
        out.push(if start == sorted[i] { start.to_string() } else { format!("{start}-{}", sorted[i]) });
        i += 1;
    }
    out.join(", ")
}
