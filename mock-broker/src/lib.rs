//! An in-memory Kafka cluster for tests, built on the generated server-side codec of
//! [`kafka_wire`]: start it inside a test in milliseconds, point any Kafka client at it.
//!
//! ```no_run
//! use kafka_wire_mock::{MockCluster, MockConfig};
//!
//! # async fn run() -> Result<(), kafka_wire_mock::MockError> {
//! let cluster = MockCluster::start(MockConfig::new().brokers(3).topic("orders", 3)).await?;
//! println!("bootstrap.servers={}", cluster.bootstrap_servers());
//! // ... librdkafka, the Java client, kafka-wire-client ... talk to it on 127.0.0.1 ...
//! cluster.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! What it serves (every version of these APIs that the codec has; ApiVersions advertises them,
//! but Produce from v0, as Kafka 4 does; differences from Kafka 4.4 are listed in the crate's
//! README):
//!
//! | API | versions | what |
//! |---|---|---|
//! | ApiVersions | 0-5 | the v0 reply with UNSUPPORTED_VERSION to versions it does not know |
//! | Metadata | 0-13 | live brokers, leaders, epochs, ISR, topic ids; auto-creates topics |
//! | CreateTopics, DeleteTopics | 2-7, 1-6 | partitions, replication, assignments, configs, topic ids |
//! | Produce | 3-13 | one magic-2 batch per partition, validated; offsets; idempotence; acks 0/1/-1 |
//! | Fetch | 4-18 | byte limits and truncation like a log slice; long polling; topic ids; read_committed |
//! | ListOffsets | 1-11 | earliest, latest, max timestamp, by timestamp |
//! | FindCoordinator | 0-6 | groups and transactional ids, batched keys |
//! | JoinGroup, SyncGroup, Heartbeat, LeaveGroup | 0-9, 0-5, 0-4, 0-5 | classic rebalances, static members |
//! | OffsetCommit, OffsetFetch | 2-10, 1-10 | committed offsets, batched groups, member epochs |
//! | ConsumerGroupHeartbeat, ConsumerGroupDescribe | 0-1, 0-1 | KIP-848 groups: server-side `uniform` and `range` assignors, epochs, static members |
//! | ShareGroupHeartbeat, ShareFetch, ShareAcknowledge, ShareGroupDescribe | 1, 1-2, 1-2, 1 | KIP-932 share groups: `simple` assignor, share sessions, acquisition locks, delivery counts, redelivery |
//! | InitProducerId | 0-6 | idempotent and transactional producer ids, epoch bumps, fencing |
//! | AddPartitionsToTxn, AddOffsetsToTxn, EndTxn | 0-5, 0-4, 0-5 | transactions (KIP-98; KIP-890's verify-only batches and epoch bump), markers |
//! | TxnOffsetCommit | 0-6 | offsets applied when the transaction commits |
//! | DescribeProducers, ListTransactions, DescribeTransactions | 0, 0-2, 0 | the admin views of producers and transactions |
//! | DescribeConfigs | 1-4 | topic and broker configs, synonyms |
//! | IncrementalAlterConfigs, AlterConfigs | 0-1, 0-2 | topic configs; dynamic broker configs (shown, not applied) |
//! | CreatePartitions | 0-3 | more partitions, manual assignments, validate only |
//! | DeleteRecords | 0-2 | moves the log start offset |
//! | ListGroups, DescribeGroups, DeleteGroups, OffsetDelete | 0-5, 0-6, 0-3, 0 | classic groups as admin tools see them |
//! | DescribeCluster, DescribeLogDirs, ElectLeaders | 0-2, 1-5, 0-2 | brokers, in-memory log sizes; elections accepted |
//! | DescribeUserScramCredentials, AlterUserScramCredentials | 0, 0 | SCRAM credentials |
//! | CreateAcls, DescribeAcls, DeleteAcls | 1-3 | ACLs (SECURITY_DISABLED without SASL users) |
//! | SaslHandshake, SaslAuthenticate | 0-1, 0-2 | PLAIN, SCRAM-SHA-256/512, re-authentication |
//!
//! Every other request the codec can decode gets that API's error reply in its version (a
//! default response, with UNSUPPORTED_VERSION in its top-level error code where it has one);
//! a malformed frame closes only its connection.
//!
//! Tests can inject faults: [`MockCluster::fail_next`], [`MockCluster::delay_responses`],
//! [`MockCluster::broker_down`] and [`MockCluster::broker_up`]; and wait for what happens to a
//! consumer group ([`MockCluster::wait_for_group_event`]: rebalances, members removed and why)
//! instead of sleeping.
//!
//! # Cargo features
//! - `tls` (default): a TLS listener with rustls ([`MockConfig::tls`]).
//! - `cli` (default): the `kafka-wire-mock` binary's command line (clap), for tests in other
//!   languages: every setting and fault as an option or a command on stdin (see the README).
//! - `unstable`: the codec's unstable versions (answered with error replies).
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]
// The handlers fill responses through macros shared by many versions; a `..Default::default()`
// that is needed for one version is redundant for another.
#![allow(clippy::needless_update)]

mod assignor;
mod authenticator;
mod cluster;
mod config;
mod consumer_group;
mod context;
mod frame_reader;
mod group;
mod handlers;
mod log;
mod request;
mod sasl;
mod server;
mod share_group;
mod share_partition;
mod state;
mod topic_configs;
mod txn;

pub use cluster::{MockCluster, MockError, Stats};
pub use config::{MockConfig, SaslConfig, SaslMechanism, TopicSpec};
pub use group::{GroupEvent, RemovalReason};

/// The APIs and versions the mock serves, as (API, min version, max version): what its
/// ApiVersions answer advertises (except Produce, advertised from v0 as Kafka 4 does).
pub fn served_versions() -> impl Iterator<Item = (kafka_wire::ApiKey, i16, i16)> {
    handlers::api_versions::ranges()
}

#[cfg(feature = "tls")]
pub use rustls;
