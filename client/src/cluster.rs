//! The cluster view: brokers, topics and partition leaders from Metadata, group and
//! transaction coordinators from FindCoordinator, and logical connections ([`Handle`]s) that
//! resolve to one shared [`Connection`] per broker address.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use kafka_wire::{
    find_coordinator, metadata, AnyRequest, AnyResponse, ApiKey, ApiRequest, ApiResponse, ErrorCode,
    VersionFreeRequest, VersionedRequest,
};

use crate::config::ConnectionConfig;
use crate::conn::{lock, Connection};
use crate::error::{is_stale_metadata, Error, Result};

/// What a logical connection talks to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// Any reachable broker (an open connection if there is one).
    AnyBroker,
    /// The broker with this id.
    Broker(i32),
    /// The leader of a partition.
    Leader { topic: String, partition: i32 },
    /// The coordinator of a consumer group.
    GroupCoordinator(String),
    /// The coordinator of a transactional id.
    TransactionCoordinator(String),
    /// The controller the Metadata answer names.
    Controller,
}

impl Target {
    /// The leader of `topic`-`partition`.
    pub fn leader(topic: impl Into<String>, partition: i32) -> Self {
        Target::Leader { topic: topic.into(), partition }
    }

    /// The coordinator of consumer group `group`.
    pub fn group_coordinator(group: impl Into<String>) -> Self {
        Target::GroupCoordinator(group.into())
    }

    /// The coordinator of transactional id `id`.
    pub fn transaction_coordinator(id: impl Into<String>) -> Self {
        Target::TransactionCoordinator(id.into())
    }
}

/// A broker, as Metadata or FindCoordinator describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: i32,
    pub rack: Option<String>,
}

impl BrokerInfo {
    /// `host:port` (IPv6 hosts in brackets).
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A topic, as Metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicInfo {
    pub error: ErrorCode,
    pub partitions: BTreeMap<i32, PartitionInfo>,
}

/// A partition, as Metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    pub error: ErrorCode,
    /// The leader's broker id; negative when there is none.
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

/// What the client knows about the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterView {
    pub cluster_id: Option<String>,
    pub controller_id: Option<i32>,
    pub brokers: BTreeMap<i32, BrokerInfo>,
    pub topics: BTreeMap<String, TopicInfo>,
    pub group_coordinators: BTreeMap<String, i32>,
    pub transaction_coordinators: BTreeMap<String, i32>,
}

impl ClusterView {
    /// The address of broker `id`.
    fn addr(&self, id: i32) -> Option<String> {
        self.brokers.get(&id).map(BrokerInfo::addr)
    }

    /// Where `target` is, if the view knows (and the knowledge is usable).
    fn locate(&self, target: &Target) -> Option<String> {
        let id = match target {
            Target::AnyBroker => return None,
            Target::Broker(id) => *id,
            Target::Leader { topic, partition } => {
                let topic = self.topics.get(topic).filter(|t| !t.error.is_err())?;
                topic.partitions.get(partition).map(|p| p.leader).filter(|&l| l >= 0)?
            }
            Target::GroupCoordinator(group) => *self.group_coordinators.get(group)?,
            Target::TransactionCoordinator(id) => *self.transaction_coordinators.get(id)?,
            Target::Controller => self.controller_id.filter(|&c| c >= 0)?,
        };
        self.addr(id)
    }

    /// Forgets what `target` resolved to, so that the next use reloads it.
    fn forget(&mut self, target: &Target) {
        match target {
            Target::AnyBroker | Target::Broker(_) => {}
            Target::Leader { topic, .. } => {
                self.topics.remove(topic);
            }
            Target::GroupCoordinator(group) => {
                self.group_coordinators.remove(group);
            }
            Target::TransactionCoordinator(id) => {
                self.transaction_coordinators.remove(id);
            }
            Target::Controller => self.controller_id = None,
        }
    }
}

/// A client of a whole cluster: bootstraps from a list of addresses, keeps a [`ClusterView`],
/// and shares one connection per broker address between every [`Handle`] that resolves to it.
/// Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    config: Arc<ConnectionConfig>,
    bootstrap: Vec<String>,
    pool: Mutex<HashMap<String, Connection>>,
    view: Mutex<ClusterView>,
    /// One reload at a time.
    reload: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("bootstrap", &self.inner.bootstrap)
            .field("connections", &lock(&self.inner.pool).len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the first reachable bootstrap address and loads the broker list.
    pub async fn connect(
        bootstrap: impl IntoIterator<Item = impl Into<String>>,
        config: ConnectionConfig,
    ) -> Result<Client> {
        let client = Client {
            inner: Arc::new(ClientInner {
                config: Arc::new(config),
                bootstrap: bootstrap.into_iter().map(Into::into).collect(),
                pool: Mutex::new(HashMap::new()),
                view: Mutex::new(ClusterView::default()),
                reload: tokio::sync::Mutex::new(()),
            }),
        };
        client.reload_metadata(&[]).await?;
        Ok(client)
    }

    /// A copy of the current view.
    pub fn view(&self) -> ClusterView {
        lock(&self.inner.view).clone()
    }

    /// A logical connection to `target`: resolved on every request, so it follows leader and
    /// coordinator moves.
    pub fn handle(&self, target: Target) -> Handle {
        Handle { client: self.clone(), target }
    }

    /// Sends a version-free `request` to `target` at the version negotiated with that broker
    /// (see [`Handle::send`]).
    pub async fn send<R: VersionFreeRequest>(&self, target: &Target, request: &R) -> Result<R::Response> {
        self.handle(target.clone()).send(request).await
    }

    /// Sends a request of one fixed version to `target` (see [`Handle::send_versioned`]).
    pub async fn send_versioned<R: VersionedRequest>(&self, target: &Target, request: &R) -> Result<R::Response> {
        self.handle(target.clone()).send_versioned(request).await
    }

    /// The shared connection that `target` resolves to now, reloading metadata or looking up
    /// the coordinator if the view does not know.
    pub async fn connection(&self, target: &Target) -> Result<Connection> {
        if let Target::AnyBroker = target {
            return self.any_broker().await;
        }
        if let Some(addr) = lock(&self.inner.view).locate(target) {
            return Ok(self.pooled(addr));
        }
        let _reload = self.inner.reload.lock().await;
        // Another task may have loaded it meanwhile.
        if let Some(addr) = lock(&self.inner.view).locate(target) {
            return Ok(self.pooled(addr));
        }
        match target {
            Target::GroupCoordinator(key) => self.find_coordinator(0, key).await?,
            Target::TransactionCoordinator(key) => self.find_coordinator(1, key).await?,
            Target::Leader { topic, .. } => self.load_metadata(Some(&[topic.as_str()])).await?,
            _ => self.load_metadata(Some(&[])).await?,
        }
        let view = lock(&self.inner.view);
        if let Some(addr) = view.locate(target) {
            drop(view);
            return Ok(self.pooled(addr));
        }
        Err(match target {
            Target::Broker(id) => Error::UnknownBroker(*id),
            Target::Leader { topic, partition } => match view.topics.get(topic) {
                Some(t) if t.error.is_err() => {
                    Error::Broker { api: ApiKey::Metadata, code: t.error, message: Some(format!("topic {topic}")) }
                }
                Some(t) => match t.partitions.get(partition) {
                    Some(p) if p.leader < 0 => Error::NoLeader { topic: topic.clone(), partition: *partition },
                    Some(p) => Error::UnknownBroker(p.leader),
                    None => Error::UnknownPartition { topic: topic.clone(), partition: *partition },
                },
                None => Error::UnknownPartition { topic: topic.clone(), partition: *partition },
            },
            Target::Controller => Error::UnknownBroker(view.controller_id.unwrap_or(-1)),
            // A coordinator lookup either succeeds with a broker or fails above.
            _ => Error::UnknownBroker(-1),
        })
    }

    /// Forgets what `target` resolved to: the next request reloads it.
    pub fn invalidate(&self, target: &Target) {
        lock(&self.inner.view).forget(target);
    }

    /// Reloads brokers and the given topics (all known topics stay known).
    pub async fn reload_metadata(&self, topics: &[&str]) -> Result<()> {
        let _reload = self.inner.reload.lock().await;
        self.load_metadata(Some(topics)).await
    }

    /// How many sockets are open now (one per broker address in use, however many handles).
    pub fn open_connections(&self) -> usize {
        lock(&self.inner.pool).values().filter(|c| c.is_connected()).count()
    }

    /// The pooled connection to `addr`.
    fn pooled(&self, addr: String) -> Connection {
        let mut pool = lock(&self.inner.pool);
        pool.entry(addr)
            .or_insert_with_key(|addr| Connection::with_config(addr.clone(), self.inner.config.clone()))
            .clone()
    }

    /// Candidate connections for cluster-wide requests: open ones first, then known brokers,
    /// then the bootstrap addresses.
    fn candidates(&self) -> Vec<Connection> {
        let mut addrs: Vec<String> = Vec::new();
        let open: Vec<String> =
            lock(&self.inner.pool).values().filter(|c| c.is_connected()).map(|c| c.addr().to_owned()).collect();
        addrs.extend(open);
        addrs.extend(lock(&self.inner.view).brokers.values().map(BrokerInfo::addr));
        addrs.extend(self.inner.bootstrap.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        addrs.retain(|a| seen.insert(a.clone()));
        addrs.into_iter().map(|a| self.pooled(a)).collect()
    }

    /// Runs `f` on the first candidate that answers without a connection error.
    async fn on_any_broker<T, F, Fut>(&self, mut f: F) -> Result<T>
    where
        F: FnMut(Connection) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut last = None;
        for connection in self.candidates() {
            match f(connection).await {
                Err(e) if e.is_connection_error() => last = Some(e),
                result => return result,
            }
        }
        Err(Error::NoBrokerReachable { last: Box::new(last.unwrap_or(Error::Closed)) })
    }

    async fn any_broker(&self) -> Result<Connection> {
        self.on_any_broker(|c| async move { c.versions().await.map(|_| c) }).await
    }

    /// Metadata for `topics` (`None`: every topic) plus every topic already known.
    async fn load_metadata(&self, topics: Option<&[&str]>) -> Result<()> {
        let names: Option<Vec<String>> = topics.map(|requested| {
            let view = lock(&self.inner.view);
            let mut names: Vec<String> = view.topics.keys().cloned().collect();
            names.extend(requested.iter().map(|t| t.to_string()));
            names.sort();
            names.dedup();
            names
        });
        let snapshot = self.on_any_broker(|c| metadata(c, names.clone())).await?;
        let mut view = lock(&self.inner.view);
        view.cluster_id = snapshot.cluster_id;
        view.controller_id = Some(snapshot.controller_id).filter(|&c| c >= 0);
        view.brokers = snapshot.brokers.into_iter().map(|b| (b.id, b)).collect();
        if names.is_none() {
            view.topics.clear();
        }
        view.topics.extend(snapshot.topics);
        Ok(())
    }

    /// FindCoordinator for `key` of `key_type` (0 group, 1 transaction).
    async fn find_coordinator(&self, key_type: i8, key: &str) -> Result<()> {
        let broker = self.on_any_broker(|c| find_coordinator(c, key_type, key.to_owned())).await?;
        let mut view = lock(&self.inner.view);
        let id = broker.id;
        view.brokers.insert(id, broker);
        let map = if key_type == 0 { &mut view.group_coordinators } else { &mut view.transaction_coordinators };
        map.insert(key.to_owned(), id);
        Ok(())
    }
}

/// A logical connection: a [`Target`] resolved through the [`Client`]'s view on each request,
/// to the connection the client shares with every other handle on the same broker.
#[derive(Debug, Clone)]
pub struct Handle {
    client: Client,
    target: Target,
}

impl Handle {
    /// What this handle talks to.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The connection the target resolves to now.
    pub async fn connection(&self) -> Result<Connection> {
        self.client.connection(&self.target).await
    }

    /// Sends a version-free `request` to the target at the version negotiated with that
    /// broker (see [`Connection::send`]). A connection failure also forgets where the target
    /// was, so that the next request re-resolves it.
    pub async fn send<R: VersionFreeRequest>(&self, request: &R) -> Result<R::Response> {
        let result = self.connection().await?.send(request).await;
        self.after(result)
    }

    /// [`Handle::send`] with a timeout of its own.
    pub async fn send_within<R: VersionFreeRequest>(
        &self,
        request: &R,
        timeout: std::time::Duration,
    ) -> Result<R::Response> {
        let result = self.connection().await?.send_within(request, timeout).await;
        self.after(result)
    }

    /// Sends a request of one fixed version to the target (see [`Connection::send_versioned`]).
    pub async fn send_versioned<R: VersionedRequest>(&self, request: &R) -> Result<R::Response> {
        let result = self.connection().await?.send_versioned(request).await;
        self.after(result)
    }

    /// [`Handle::send_versioned`] with a timeout of its own.
    pub async fn send_versioned_within<R: VersionedRequest>(
        &self,
        request: &R,
        timeout: std::time::Duration,
    ) -> Result<R::Response> {
        let result = self.connection().await?.send_versioned_within(request, timeout).await;
        self.after(result)
    }

    /// Sends a version-free request of any API at the negotiated version; `None` when it
    /// expects no response.
    pub async fn send_api(&self, request: &ApiRequest) -> Result<Option<ApiResponse>> {
        let result = self.connection().await?.send_api(request).await;
        self.after(result)
    }

    /// Sends a request of any API and version; `None` when it expects no response.
    pub async fn send_any(&self, request: &AnyRequest) -> Result<Option<AnyResponse>> {
        let result = self.connection().await?.send_any(request).await;
        self.after(result)
    }

    fn after<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            if e.is_connection_error() {
                self.invalidate();
            }
        }
        result
    }

    /// Forgets where the target was: the next request reloads it.
    pub fn invalidate(&self) {
        self.client.invalidate(&self.target);
    }

    /// Reports an error code found in a response to this target. Returns whether it says
    /// the view is stale (then the next request reloads the target first).
    pub fn observe(&self, code: impl Into<ErrorCode>) -> bool {
        let stale = is_stale_metadata(code.into());
        if stale {
            self.invalidate();
        }
        stale
    }
}

/// A Metadata answer, whatever its version.
struct MetadataSnapshot {
    cluster_id: Option<String>,
    controller_id: i32,
    brokers: Vec<BrokerInfo>,
    topics: Vec<(String, TopicInfo)>,
}

async fn metadata(connection: Connection, topics: Option<Vec<String>>) -> Result<MetadataSnapshot> {
    let request = metadata::Request {
        topics: topics.map(|names| {
            names
                .iter()
                .map(|n| metadata::MetadataRequestTopic { name: Some(n.as_str().into()), ..Default::default() })
                .collect()
        }),
        allow_auto_topic_creation: false,
        ..Default::default()
    };
    let r = connection.send(&request).await?;
    Ok(MetadataSnapshot {
        cluster_id: r.cluster_id.map(|c| c.to_string()),
        controller_id: r.controller_id,
        brokers: r
            .brokers
            .into_iter()
            .map(|b| BrokerInfo {
                id: b.node_id,
                host: b.host.to_string(),
                port: b.port,
                rack: b.rack.map(|r| r.to_string()),
            })
            .collect(),
        topics: r
            .topics
            .into_iter()
            .filter_map(|t| {
                let partitions = t
                    .partitions
                    .into_iter()
                    .map(|p| {
                        let info = PartitionInfo {
                            error: p.error_code,
                            leader: p.leader_id,
                            replicas: p.replica_nodes.into_vec(),
                            isr: p.isr_nodes.into_vec(),
                        };
                        (p.partition_index, info)
                    })
                    .collect();
                Some((t.name?.to_string(), TopicInfo { error: t.error_code, partitions }))
            })
            .collect(),
    })
}

async fn find_coordinator(connection: Connection, key_type: i8, key: String) -> Result<BrokerInfo> {
    use find_coordinator as fc;
    let version = connection.version_for(ApiKey::FindCoordinator).await?;
    let fail = |code: ErrorCode, message: Option<kafka_wire::ByteString>| Error::Broker {
        api: ApiKey::FindCoordinator,
        code,
        message: message.map(|m| m.to_string()),
    };
    // One key, or a batch of keys (here: one) from the version that has them.
    let batched = fc::Request::COORDINATOR_KEYS_VERSIONS.contains(version);
    let request = if batched {
        fc::Request { key_type, coordinator_keys: vec![key.as_str().into()], ..Default::default() }
    } else {
        fc::Request { key_type, key: key.as_str().into(), ..Default::default() }
    };
    let r = connection.send_at(&request, version).await?;
    let (code, message, id, host, port) = if batched {
        let c = r.coordinators.into_iter().next().ok_or_else(|| fail(ErrorCode::UNKNOWN_SERVER_ERROR, None))?;
        (c.error_code, c.error_message, c.node_id, c.host, c.port)
    } else {
        (r.error_code, r.error_message, r.node_id, r.host, r.port)
    };
    if code.is_err() {
        return Err(fail(code, message));
    }
    Ok(BrokerInfo { id, host: host.to_string(), port, rack: None })
}
