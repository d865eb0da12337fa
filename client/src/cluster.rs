//! The cluster view: brokers, topics and partition leaders from Metadata, group and
//! transaction coordinators from FindCoordinator, and logical connections ([`Handle`]s) that
//! resolve to one shared [`Connection`] per broker address.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use kafka_wire::{find_coordinator, metadata, ApiKey, ApiRequest, ApiResponse, ErrorCode, Uuid, VersionFreeRequest};
#[cfg(feature = "versioned")]
use kafka_wire::{AnyRequest, AnyResponse, Message, VersionFreeMessage, VersionedRequest};

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
    /// The topic id (Metadata v10+; [`Uuid::ZERO`] from older versions): what Fetch v13+ and
    /// Produce v13 name topics by.
    pub id: Uuid,
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
    /// Topic names by id, as Metadata answers gave them (checked against `topics` on use).
    names_by_id: BTreeMap<Uuid, String>,
}

impl ClusterView {
    /// Learns from a Metadata answer (of any version): the cluster id, the controller, the
    /// brokers (the answer lists them all) and each topic it names, with its id, error and
    /// partitions. Topics it does not name stay as they were; topics without a name (an answer
    /// to a request by id for an unknown id) are skipped.
    ///
    /// The [`Client`] calls this with every Metadata answer that passes through it: its own
    /// reloads and the ones sent with [`Client::send`] or a [`Handle`].
    pub fn update(&mut self, response: &metadata::Response) {
        self.cluster_id = response.cluster_id.as_ref().map(|c| c.to_string());
        self.controller_id = Some(response.controller_id).filter(|&c| c >= 0);
        self.brokers = response
            .brokers
            .iter()
            .map(|b| {
                let rack = b.rack.as_ref().map(|r| r.to_string());
                (b.node_id, BrokerInfo { id: b.node_id, host: b.host.to_string(), port: b.port, rack })
            })
            .collect();
        for t in &response.topics {
            let Some(name) = &t.name else { continue };
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let info = PartitionInfo {
                        error: p.error_code,
                        leader: p.leader_id,
                        replicas: p.replica_nodes.to_vec(),
                        isr: p.isr_nodes.to_vec(),
                    };
                    (p.partition_index, info)
                })
                .collect();
            if t.topic_id != Uuid::ZERO {
                self.names_by_id.insert(t.topic_id, name.to_string());
            }
            let info = TopicInfo { error: t.error_code, id: t.topic_id, partitions };
            self.topics.insert(name.to_string(), info);
        }
    }

    /// The topic with id `id`: its name and what the view knows of it.
    pub fn topic_by_id(&self, id: Uuid) -> Option<(&str, &TopicInfo)> {
        if id == Uuid::ZERO {
            return None;
        }
        let indexed = self.names_by_id.get(&id).and_then(|name| self.topics.get_key_value(name));
        match indexed {
            Some((name, topic)) if topic.id == id => Some((name.as_str(), topic)),
            // `topics` was changed by hand, or the topic was deleted and re-created: look.
            _ => self.topics.iter().find(|(_, t)| t.id == id).map(|(n, t)| (n.as_str(), t)),
        }
    }

    /// The id of topic `name`, if the view knows it (Metadata v10+).
    pub fn topic_id(&self, name: &str) -> Option<Uuid> {
        self.topics.get(name).map(|t| t.id).filter(|&id| id != Uuid::ZERO)
    }

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

    #[cfg(feature = "versioned")]
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
        let topics: Option<Vec<metadata::MetadataRequestTopic>> = names.as_ref().map(|names| {
            names
                .iter()
                .map(|n| metadata::MetadataRequestTopic { name: Some(n.as_str().into()), ..Default::default() })
                .collect()
        });
        let response = self.on_any_broker(|c| {
            let topics = topics.clone();
            async move {
                let version = c.version_for(ApiKey::Metadata).await?;
                // Looking up a topic must not create it; versions before 4 cannot say so (the
                // broker's `auto.create.topics.enable` decides there).
                let allow_auto_topic_creation =
                    !metadata::Request::ALLOW_AUTO_TOPIC_CREATION_VERSIONS.contains(version);
                let request = metadata::Request { topics, allow_auto_topic_creation, ..Default::default() };
                c.send_at(&request, version).await
            }
        });
        let response = response.await?;
        let mut view = lock(&self.inner.view);
        if names.is_none() {
            view.topics.clear();
        }
        view.update(&response);
        Ok(())
    }

    /// Learns from a response that passed through the client, if it is a Metadata answer (the
    /// version-free type, or one inside `Option<ApiResponse>` or `Option<AnyResponse>`).
    fn learn<T: Any>(&self, response: &T) {
        let any: &dyn Any = response;
        if let Some(r) = any.downcast_ref::<metadata::Response>() {
            lock(&self.inner.view).update(r);
        } else if let Some(Some(ApiResponse::Metadata(r))) = any.downcast_ref::<Option<ApiResponse>>() {
            lock(&self.inner.view).update(r);
        }
        #[cfg(feature = "versioned")]
        if let Some(Some(AnyResponse::Metadata(r))) = any.downcast_ref::<Option<AnyResponse>>() {
            lock(&self.inner.view).update(&metadata::Response::from(r.clone()));
        }
    }

    #[cfg(feature = "versioned")]
    /// [`Client::learn`] for a response of one version: a Metadata answer is read version-free
    /// from its encoding.
    fn learn_versioned<R: VersionedRequest>(&self, response: &R::Response) {
        if R::API_KEY != ApiKey::Metadata {
            return;
        }
        let Ok(mut bytes) = response.to_bytes() else { return };
        if let Ok(r) = <metadata::Response as VersionFreeMessage>::decode(R::VERSION, &mut bytes) {
            lock(&self.inner.view).update(&r);
        }
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
    ///
    /// A Metadata answer also updates the client's [`ClusterView`].
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

    #[cfg(feature = "versioned")]
    /// Sends a request of one fixed version to the target (see [`Connection::send_versioned`]).
    pub async fn send_versioned<R: VersionedRequest>(&self, request: &R) -> Result<R::Response> {
        let result = self.connection().await?.send_versioned(request).await;
        self.after_versioned::<R>(result)
    }

    #[cfg(feature = "versioned")]
    /// [`Handle::send_versioned`] with a timeout of its own.
    pub async fn send_versioned_within<R: VersionedRequest>(
        &self,
        request: &R,
        timeout: std::time::Duration,
    ) -> Result<R::Response> {
        let result = self.connection().await?.send_versioned_within(request, timeout).await;
        self.after_versioned::<R>(result)
    }

    /// Sends a version-free request of any API at the negotiated version; `None` when it
    /// expects no response.
    pub async fn send_api(&self, request: &ApiRequest) -> Result<Option<ApiResponse>> {
        let result = self.connection().await?.send_api(request).await;
        self.after(result)
    }

    #[cfg(feature = "versioned")]
    /// Sends a request of any API and version; `None` when it expects no response.
    pub async fn send_any(&self, request: &AnyRequest) -> Result<Option<AnyResponse>> {
        let result = self.connection().await?.send_any(request).await;
        self.after(result)
    }

    /// Learns from a Metadata answer; on a connection failure, forgets where the target was.
    fn after<T: Any>(&self, result: Result<T>) -> Result<T> {
        match &result {
            Ok(response) => self.client.learn(response),
            Err(e) if e.is_connection_error() => self.invalidate(),
            Err(_) => {}
        }
        result
    }

    #[cfg(feature = "versioned")]
    fn after_versioned<R: VersionedRequest>(&self, result: Result<R::Response>) -> Result<R::Response> {
        match &result {
            Ok(response) => self.client.learn_versioned::<R>(response),
            Err(e) if e.is_connection_error() => self.invalidate(),
            Err(_) => {}
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
