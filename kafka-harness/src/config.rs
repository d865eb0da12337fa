//! What cluster to start: nodes, listeners, users, TLS identity, authorizer, broker settings.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// The Apache Kafka release the harness starts unless told otherwise: the one whose schemas
/// this workspace is generated from (`kafka-schemas/PIN`).
pub const DEFAULT_KAFKA_VERSION: &str = "4.4.0";

/// A listener every node opens. [`Listener::Plaintext`] is always open: brokers replicate over
/// it, and the harness checks each node with an ApiVersions round trip on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Listener {
    /// `PLAINTEXT`: no authentication (principal `User:ANONYMOUS`).
    Plaintext,
    /// `SASL_PLAINTEXT`: SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 with the configured users
    /// (opened when [`KafkaConfig::sasl_user`] added one).
    SaslPlaintext,
    /// `SSL`: TLS with the configured identity, no client certificate (opened when
    /// [`KafkaConfig::tls`] set one).
    Ssl,
    /// `SASL_SSL`: the SASL mechanisms of [`Listener::SaslPlaintext`] inside the TLS of
    /// [`Listener::Ssl`] (opened when both are configured).
    SaslSsl,
}

impl Listener {
    /// The listener's name (and security protocol) in Kafka's configuration.
    pub fn name(self) -> &'static str {
        match self {
            Listener::Plaintext => "PLAINTEXT",
            Listener::SaslPlaintext => "SASL_PLAINTEXT",
            Listener::Ssl => "SSL",
            Listener::SaslSsl => "SASL_SSL",
        }
    }
}

/// The broker's TLS identity, in PEM: a certificate chain (leaf first) and its PKCS#8 private
/// key (`-----BEGIN PRIVATE KEY-----`, unencrypted). Kafka reads it as a PEM key store
/// (`ssl.keystore.type=PEM`, KIP-651).
#[derive(Clone, PartialEq, Eq)]
pub struct TlsIdentity {
    pub certificate_chain_pem: String,
    pub private_key_pem: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").field("private_key_pem", &"<hidden>").finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// An identity from a PEM certificate chain and a PEM PKCS#8 private key.
    pub fn new(certificate_chain_pem: impl Into<String>, private_key_pem: impl Into<String>) -> Self {
        TlsIdentity { certificate_chain_pem: certificate_chain_pem.into(), private_key_pem: private_key_pem.into() }
    }
}

/// The settings of a [`KafkaCluster`](crate::KafkaCluster).
///
/// ```
/// use kafka_wire_harness::KafkaConfig;
///
/// let config = KafkaConfig::new().nodes(3).sasl_user("alice", "alice-secret").broker_property("num.partitions", "3");
/// assert_eq!(config.nodes, 3);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KafkaConfig {
    /// How many nodes (ids 1..=n), each a combined broker and controller; the controllers form
    /// the KRaft quorum. 1 or 3 make sense (a quorum of 2 survives no failure).
    pub nodes: usize,
    /// The Apache Kafka release (`org.apache.kafka:kafka_2.13:<version>` on Maven).
    pub kafka_version: String,
    /// SASL users (name, password): each may use PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512.
    /// Names and passwords are limited to ASCII letters, digits, `.`, `_` and `-`.
    pub sasl_users: Vec<(String, String)>,
    /// The TLS identity of the `SSL` listener.
    pub tls: Option<TlsIdentity>,
    /// Kafka's `StandardAuthorizer` with these super users (principals such as `User:admin`),
    /// besides `User:ANONYMOUS`, which brokers and controllers use among themselves on the
    /// plaintext listeners (so plaintext clients are super users too: test ACLs over SASL).
    pub authorizer: Option<Vec<String>>,
    /// Extra broker properties, written after the harness's own (so they override them).
    pub broker_properties: Vec<(String, String)>,
    /// The JVM's maximum heap per node, in MiB (`-Xmx`).
    pub heap_mib: u32,
    /// The bound on the whole start (format, JVM start, quorum, brokers unfenced, ApiVersions):
    /// only a hang trips it.
    pub start_timeout: Duration,
    /// The cluster id (22 characters of base64, as `kafka-storage random-uuid` prints); random
    /// when `None`.
    pub cluster_id: Option<String>,
    /// Where runs, jars lists and the launcher live; `None`: see [`crate::harness_dir`].
    pub dir: Option<PathBuf>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            nodes: 1,
            kafka_version: DEFAULT_KAFKA_VERSION.into(),
            sasl_users: Vec::new(),
            tls: None,
            authorizer: None,
            broker_properties: Vec::new(),
            heap_mib: 512,
            start_timeout: Duration::from_secs(180),
            cluster_id: None,
            dir: None,
        }
    }
}

impl KafkaConfig {
    /// One node, plaintext only, Kafka [`DEFAULT_KAFKA_VERSION`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`KafkaConfig::nodes`].
    pub fn nodes(mut self, nodes: usize) -> Self {
        self.nodes = nodes;
        self
    }

    /// Sets [`KafkaConfig::kafka_version`].
    pub fn kafka_version(mut self, version: impl Into<String>) -> Self {
        self.kafka_version = version.into();
        self
    }

    /// Adds a SASL user (and opens the `SASL_PLAINTEXT` listener, and `SASL_SSL` with TLS).
    pub fn sasl_user(mut self, name: impl Into<String>, password: impl Into<String>) -> Self {
        self.sasl_users.push((name.into(), password.into()));
        self
    }

    /// Sets the TLS identity (and opens the `SSL` listener, and `SASL_SSL` with SASL users).
    pub fn tls(mut self, identity: TlsIdentity) -> Self {
        self.tls = Some(identity);
        self
    }

    /// Enables Kafka's `StandardAuthorizer` with these super users (`User:admin`, ...).
    pub fn authorizer<S: Into<String>>(mut self, super_users: impl IntoIterator<Item = S>) -> Self {
        self.authorizer = Some(super_users.into_iter().map(Into::into).collect());
        self
    }

    /// Adds a broker property (`server.properties` syntax, without escapes).
    pub fn broker_property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.broker_properties.push((name.into(), value.into()));
        self
    }

    /// Sets [`KafkaConfig::heap_mib`].
    pub fn heap_mib(mut self, mib: u32) -> Self {
        self.heap_mib = mib;
        self
    }

    /// Sets [`KafkaConfig::start_timeout`].
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Sets [`KafkaConfig::cluster_id`].
    pub fn cluster_id(mut self, id: impl Into<String>) -> Self {
        self.cluster_id = Some(id.into());
        self
    }

    /// Sets [`KafkaConfig::dir`].
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// The listeners every node opens, plaintext first.
    pub fn listeners(&self) -> Vec<Listener> {
        let mut out = vec![Listener::Plaintext];
        if !self.sasl_users.is_empty() {
            out.push(Listener::SaslPlaintext);
        }
        if self.tls.is_some() {
            out.push(Listener::Ssl);
        }
        if self.tls.is_some() && !self.sasl_users.is_empty() {
            out.push(Listener::SaslSsl);
        }
        out
    }

    /// Checks what Kafka's configuration syntax could not carry.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.nodes == 0 {
            return Err(Error::Config("a cluster needs at least one node".into()));
        }
        let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        for (name, password) in &self.sasl_users {
            if !plain(name) || !plain(password) {
                return Err(Error::Config(format!(
                    "SASL user {name:?}: names and passwords may hold only ASCII letters, digits, '.', '_' and '-'"
                )));
            }
        }
        for (name, value) in &self.broker_properties {
            if name.is_empty() || name.contains(['=', ':', '\n', ' ']) || value.contains('\n') {
                return Err(Error::Config(format!("broker property {name:?}={value:?}")));
            }
        }
        if let Some(id) = &self.cluster_id {
            if id.len() != 22 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b)) {
                return Err(Error::Config(format!("cluster id {id:?} is not 22 characters of URL-safe base64")));
            }
        }
        if !plain(&self.kafka_version) {
            return Err(Error::Config(format!("Kafka version {:?}", self.kafka_version)));
        }
        Ok(())
    }
}
