//! How to start a mock cluster.

use std::time::Duration;

/// The settings of a [`MockCluster`](crate::MockCluster).
///
/// ```
/// use kafka_wire_mock::{MockConfig, SaslMechanism};
///
/// let config = MockConfig::new()
///     .brokers(3)
///     .topic("orders", 3)
///     .sasl_user(SaslMechanism::ScramSha256, "alice", "secret");
/// assert_eq!(config.brokers, 3);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MockConfig {
    /// How many brokers (ids 0, 1, ...), each with a listener of its own. At least 1.
    pub brokers: usize,
    /// The address the listeners bind to.
    pub host: String,
    /// The port of each broker's listener (0 or missing: any free port).
    pub ports: Vec<u16>,
    /// The host name brokers advertise in Metadata and FindCoordinator (default: `host`).
    pub advertised_host: Option<String>,
    /// The cluster id in Metadata answers.
    pub cluster_id: String,
    /// Create unknown topics on Metadata requests that allow it (`auto.create.topics.enable`).
    pub auto_create_topics: bool,
    /// Partitions of topics created without a count (`num.partitions`).
    pub default_partitions: i32,
    /// Replication factor of topics created without one (default: the number of brokers, at
    /// most 3). Data is held once; replicas only decide who leads when a broker is down.
    pub default_replication_factor: Option<i16>,
    /// Topics that exist from the start.
    pub topics: Vec<TopicSpec>,
    /// How long a new consumer group waits for more members before its first rebalance
    /// completes (`group.initial.rebalance.delay.ms`, 3 s in Kafka; 0 here).
    pub group_initial_rebalance_delay: Duration,
    /// The smallest session timeout a group member may ask for (6 s in Kafka; 100 ms here).
    pub group_min_session_timeout: Duration,
    /// The largest session timeout a group member may ask for.
    pub group_max_session_timeout: Duration,
    /// The largest request frame accepted; a larger one closes the connection.
    pub max_frame_size: usize,
    /// SASL on every listener: mechanisms and users.
    pub sasl: Option<SaslConfig>,
    /// Enforce ACLs (Kafka's `authorizer.class.name` set to its `StandardAuthorizer`, with
    /// `allow.everyone.if.no.acl.found=false`): a request is checked as Kafka's `KafkaApis`
    /// checks it, for the principal `User:<name>` of the SASL session (`User:ANONYMOUS`
    /// without SASL) and the client's IP address, and an operation no ACL allows is denied
    /// with the API's own error. Off: ACLs are stored (with SASL users) but never enforced.
    pub authorizer: bool,
    /// Principals (`User:<name>`) every operation is allowed to (Kafka's `super.users`).
    pub super_users: Vec<String>,
    /// TLS on every listener (feature `tls`).
    #[cfg(feature = "tls")]
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            brokers: 1,
            host: "127.0.0.1".into(),
            ports: Vec::new(),
            advertised_host: None,
            cluster_id: "kafka-wire-mock".into(),
            auto_create_topics: true,
            default_partitions: 1,
            default_replication_factor: None,
            topics: Vec::new(),
            group_initial_rebalance_delay: Duration::ZERO,
            group_min_session_timeout: Duration::from_millis(100),
            group_max_session_timeout: Duration::from_secs(30 * 60),
            max_frame_size: 100 * 1024 * 1024,
            sasl: None,
            authorizer: false,
            super_users: Vec::new(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl MockConfig {
    /// One broker on 127.0.0.1, any free port, no topics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the number of brokers.
    pub fn brokers(mut self, brokers: usize) -> Self {
        self.brokers = brokers;
        self
    }

    /// Adds a topic with `partitions` partitions and the default replication factor.
    pub fn topic(mut self, name: impl Into<String>, partitions: i32) -> Self {
        self.topics.push(TopicSpec::new(name, partitions));
        self
    }

    /// Adds a topic described in full.
    pub fn topic_spec(mut self, topic: TopicSpec) -> Self {
        self.topics.push(topic);
        self
    }

    /// Sets [`MockConfig::auto_create_topics`].
    pub fn auto_create_topics(mut self, enabled: bool) -> Self {
        self.auto_create_topics = enabled;
        self
    }

    /// Sets [`MockConfig::default_partitions`].
    pub fn default_partitions(mut self, partitions: i32) -> Self {
        self.default_partitions = partitions;
        self
    }

    /// Sets [`MockConfig::group_initial_rebalance_delay`].
    pub fn group_initial_rebalance_delay(mut self, delay: Duration) -> Self {
        self.group_initial_rebalance_delay = delay;
        self
    }

    /// Sets [`MockConfig::cluster_id`].
    pub fn cluster_id(mut self, id: impl Into<String>) -> Self {
        self.cluster_id = id.into();
        self
    }

    /// Enables SASL with `mechanism` (keeping mechanisms enabled before) and adds a user.
    pub fn sasl_user(mut self, mechanism: SaslMechanism, user: impl Into<String>, password: impl Into<String>) -> Self {
        let sasl = self.sasl.get_or_insert_with(SaslConfig::default);
        if !sasl.mechanisms.contains(&mechanism) {
            sasl.mechanisms.push(mechanism);
        }
        sasl.users.push((user.into(), password.into()));
        self
    }

    /// Sets the SASL configuration as a whole.
    pub fn sasl(mut self, sasl: SaslConfig) -> Self {
        self.sasl = Some(sasl);
        self
    }

    /// Sets [`MockConfig::authorizer`].
    pub fn authorizer(mut self, enabled: bool) -> Self {
        self.authorizer = enabled;
        self
    }

    /// Adds a super user (`User:<name>`, [`MockConfig::super_users`]).
    pub fn super_user(mut self, principal: impl Into<String>) -> Self {
        self.super_users.push(principal.into());
        self
    }

    /// Serves TLS with this rustls configuration (feature `tls`).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: std::sync::Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }
}

/// A topic to create at start.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    /// `None`: the cluster's default.
    pub replication_factor: Option<i16>,
    /// Topic configs (`max.message.bytes`, `cleanup.policy`, ...).
    pub configs: Vec<(String, String)>,
}

impl TopicSpec {
    /// A topic with the default replication factor and no configs.
    pub fn new(name: impl Into<String>, partitions: i32) -> Self {
        TopicSpec { name: name.into(), partitions, replication_factor: None, configs: Vec::new() }
    }

    /// Sets the replication factor.
    pub fn replication_factor(mut self, factor: i16) -> Self {
        self.replication_factor = Some(factor);
        self
    }

    /// Sets a topic config.
    pub fn config(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.configs.push((name.into(), value.into()));
        self
    }
}

/// A SASL mechanism the broker can enable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SaslMechanism {
    /// `PLAIN` (RFC 4616).
    Plain,
    /// `SCRAM-SHA-256` (RFC 5802, RFC 7677).
    ScramSha256,
    /// `SCRAM-SHA-512`.
    ScramSha512,
}

impl SaslMechanism {
    /// Every mechanism.
    pub const ALL: [SaslMechanism; 3] = [SaslMechanism::Plain, SaslMechanism::ScramSha256, SaslMechanism::ScramSha512];

    /// The mechanism's name in SaslHandshake.
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }

    /// The mechanism named `name` (as in SaslHandshake).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// SASL authentication on every listener.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SaslConfig {
    /// The enabled mechanisms.
    pub mechanisms: Vec<SaslMechanism>,
    /// Users and passwords (every user may use every enabled mechanism).
    pub users: Vec<(String, String)>,
    /// The session lifetime (KIP-368, Kafka's `connections.max.reauth.ms`), announced in
    /// SaslAuthenticate v1+: a client must re-authenticate before it runs out; a connection
    /// that sends any other request after it is closed, whatever the version it authenticated
    /// with (SaslAuthenticate v0 and bare tokens too), as Kafka 4.4 closes it. `None` (Kafka's
    /// default, 0): sessions never expire, and a SaslHandshake after authentication is refused
    /// with ILLEGAL_SASL_STATE, as Kafka 4.4 refuses it.
    pub session_lifetime: Option<Duration>,
    /// SCRAM iteration count (4096, the minimum Kafka accepts).
    pub scram_iterations: u32,
}

impl Default for SaslConfig {
    fn default() -> Self {
        SaslConfig { mechanisms: Vec::new(), users: Vec::new(), session_lifetime: None, scram_iterations: 4096 }
    }
}

impl SaslConfig {
    /// Enables `mechanisms` for `users`.
    pub fn new(mechanisms: impl IntoIterator<Item = SaslMechanism>, users: &[(&str, &str)]) -> Self {
        SaslConfig {
            mechanisms: mechanisms.into_iter().collect(),
            users: users.iter().map(|(u, p)| (u.to_string(), p.to_string())).collect(),
            ..Default::default()
        }
    }

    /// Sets [`SaslConfig::session_lifetime`].
    pub fn session_lifetime(mut self, lifetime: Duration) -> Self {
        self.session_lifetime = Some(lifetime);
        self
    }
}
