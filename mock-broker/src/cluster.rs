//! The cluster: listeners (one per broker), the shared state, fault injection, and the
//! handle tests hold.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use kafka_wire::records::Record;
use kafka_wire::{ApiKey, ErrorCode, Records};
use tokio::net::TcpListener;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::config::{MockConfig, TopicSpec};
use crate::group::GroupEvent;
use crate::sasl::Users;
use crate::state::State;

/// Locks a mutex, ignoring poisoning (a panicking test thread must not wedge the broker).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Everything that can go wrong when starting or steering a mock cluster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// A listener could not bind its address.
    #[error("cannot listen on {addr}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// The runtime of [`MockCluster::spawn`] could not start.
    #[error("cannot start the broker's runtime")]
    Runtime(#[source] std::io::Error),
    /// The configuration is not usable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A topic could not be created.
    #[error("cannot create topic {topic}: {code}: {message}")]
    Topic { topic: String, code: ErrorCode, message: String },
    /// There is no broker with this id.
    #[error("unknown broker id {0}")]
    UnknownBroker(i32),
}

/// Injected faults.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// API → (requests left to fail, error code).
    fail: BTreeMap<ApiKey, (u32, ErrorCode)>,
    /// API (or every API) → delay before responding.
    delay: BTreeMap<Option<ApiKey>, Duration>,
}

impl Faults {
    /// The error to inject into this request of `api`, if any is left.
    pub(crate) fn take_failure(&mut self, api: ApiKey) -> Option<ErrorCode> {
        let entry = self.fail.get_mut(&api)?;
        let code = entry.1;
        entry.0 -= 1;
        if entry.0 == 0 {
            self.fail.remove(&api);
        }
        Some(code)
    }

    /// How long to hold back the response to a request of `api`.
    pub(crate) fn delay(&self, api: ApiKey) -> Option<Duration> {
        self.delay.get(&Some(api)).or_else(|| self.delay.get(&None)).copied()
    }
}

/// Counters of what the cluster saw.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) requests: Mutex<BTreeMap<ApiKey, u64>>,
    pub(crate) connections: AtomicU64,
    pub(crate) authentications: AtomicU64,
    pub(crate) failed_authentications: AtomicU64,
}

/// What the cluster saw so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Requests by API (every request with a readable header, answered or not).
    pub requests: BTreeMap<ApiKey, u64>,
    /// Connections accepted.
    pub connections: u64,
    /// Successful SASL authentications (re-authentications included).
    pub authentications: u64,
    /// Failed SASL authentications.
    pub failed_authentications: u64,
}

impl Stats {
    /// How many requests of `api` came in.
    pub fn requests(&self, api: ApiKey) -> u64 {
        self.requests.get(&api).copied().unwrap_or(0)
    }
}

/// One broker's listener.
#[derive(Debug)]
struct Listener {
    addr: SocketAddr,
    accept: Option<AbortHandle>,
    /// Bumped to close every connection of this broker.
    kill: watch::Sender<u64>,
}

/// What every task of the cluster shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    /// Bumped on every change a waiting Fetch may care about (appends, deletions, leaders).
    pub(crate) changed: watch::Sender<u64>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) counters: Counters,
    pub(crate) users: Option<Users>,
    /// ACLs are enforced (`MockConfig::authorizer`), these principals never denied.
    pub(crate) authorizer: bool,
    pub(crate) super_users: Vec<String>,
    pub(crate) session_lifetime: Option<Duration>,
    pub(crate) max_frame_size: usize,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<TlsAcceptor>,
    listeners: Mutex<Vec<Listener>>,
    /// The number of open connections.
    open: watch::Sender<usize>,
    runtime: Handle,
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Wakes waiting fetches.
    pub(crate) fn notify_changed(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn count_request(&self, api: ApiKey) {
        *lock(&self.counters.requests).entry(api).or_default() += 1;
    }

    /// A receiver that sees a change when broker `id` goes down or the cluster shuts down.
    fn kill_signal(&self, id: usize) -> Option<watch::Receiver<u64>> {
        lock(&self.listeners).get(id).map(|l| l.kill.subscribe())
    }
}

/// The TLS side of the listeners.
#[cfg(feature = "tls")]
#[derive(Clone)]
pub(crate) struct TlsAcceptor(pub(crate) tokio_rustls::TlsAcceptor);

#[cfg(feature = "tls")]
impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsAcceptor")
    }
}

/// Counts an open connection while alive.
pub(crate) struct OpenGuard(Arc<Shared>);

impl OpenGuard {
    fn new(shared: Arc<Shared>) -> Self {
        shared.open.send_modify(|n| *n += 1);
        OpenGuard(shared)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// An in-memory Kafka cluster of one or more brokers on 127.0.0.1.
///
/// ```no_run
/// # async fn run() -> Result<(), kafka_wire_mock::MockError> {
/// use kafka_wire_mock::{MockCluster, MockConfig};
///
/// let cluster = MockCluster::start(MockConfig::new().brokers(3).topic("orders", 6)).await?;
/// let bootstrap = cluster.bootstrap_servers(); // "127.0.0.1:41231,127.0.0.1:39127,..."
/// // ... point any Kafka client at `bootstrap` ...
/// cluster.shutdown().await;
/// # let _ = bootstrap; Ok(()) }
/// ```
///
/// Without a tokio runtime at hand (a test driving librdkafka, say), [`MockCluster::spawn`]
/// runs the brokers on a runtime of their own. Dropping the cluster stops it.
#[derive(Debug)]
pub struct MockCluster {
    shared: Arc<Shared>,
    ticker: AbortHandle,
    runtime: Option<tokio::runtime::Runtime>,
}

impl MockCluster {
    /// Starts the cluster on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub async fn start(config: MockConfig) -> Result<MockCluster, MockError> {
        Self::start_on(config, Handle::current(), None)
    }

    /// Starts the cluster on a runtime of its own (two worker threads), for tests without a
    /// tokio runtime. The runtime stops when the cluster is dropped.
    pub fn spawn(config: MockConfig) -> Result<MockCluster, MockError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kafka-wire-mock")
            .enable_all()
            .build()
            .map_err(MockError::Runtime)?;
        let handle = runtime.handle().clone();
        Self::start_on(config, handle, Some(runtime))
    }

    fn start_on(
        config: MockConfig,
        runtime: Handle,
        own: Option<tokio::runtime::Runtime>,
    ) -> Result<MockCluster, MockError> {
        if config.brokers == 0 {
            return Err(MockError::Config("a cluster needs at least one broker".into()));
        }
        if config.sasl.as_ref().is_some_and(|s| s.mechanisms.is_empty()) {
            return Err(MockError::Config("SASL without mechanisms".into()));
        }
        let _enter = runtime.enter();
        let mut bound = Vec::with_capacity(config.brokers);
        for id in 0..config.brokers {
            let port = config.ports.get(id).copied().unwrap_or(0);
            bound.push(bind(&format!("{}:{port}", config.host))?);
        }
        let ports: Vec<u16> = bound.iter().map(|(_, addr)| addr.port()).collect();
        let mut state = State::new(&config, &ports);
        for spec in &config.topics {
            state.create_from_spec(spec).map_err(|(code, message)| MockError::Topic {
                topic: spec.name.clone(),
                code,
                message,
            })?;
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            changed: watch::Sender::new(0),
            faults: Mutex::new(Faults::default()),
            counters: Counters::default(),
            users: config.sasl.as_ref().map(Users::new),
            authorizer: config.authorizer,
            super_users: config.super_users.clone(),
            session_lifetime: config.sasl.as_ref().and_then(|s| s.session_lifetime),
            max_frame_size: config.max_frame_size,
            #[cfg(feature = "tls")]
            tls: config.tls.clone().map(|c| TlsAcceptor(tokio_rustls::TlsAcceptor::from(c))),
            listeners: Mutex::new(
                bound
                    .iter()
                    .map(|(_, addr)| Listener { addr: *addr, accept: None, kill: watch::Sender::new(0) })
                    .collect(),
            ),
            open: watch::Sender::new(0),
            runtime: runtime.clone(),
        });
        for (id, (listener, _)) in bound.into_iter().enumerate() {
            let task = runtime.spawn(accept_loop(shared.clone(), id, listener));
            lock(&shared.listeners)[id].accept = Some(task.abort_handle());
        }
        let ticker = runtime.spawn(tick_loop(shared.clone())).abort_handle();
        Ok(MockCluster { shared, ticker, runtime: own })
    }

    /// The brokers' addresses, comma-separated (Kafka's `bootstrap.servers`).
    pub fn bootstrap_servers(&self) -> String {
        self.broker_addrs().iter().map(SocketAddr::to_string).collect::<Vec<_>>().join(",")
    }

    /// The address of each broker, by broker id.
    pub fn broker_addrs(&self) -> Vec<SocketAddr> {
        lock(&self.shared.listeners).iter().map(|l| l.addr).collect()
    }

    /// The number of brokers.
    pub fn brokers(&self) -> usize {
        lock(&self.shared.listeners).len()
    }

    /// Creates a topic with `partitions` partitions and the default replication factor.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<(), MockError> {
        self.create_topic_spec(&TopicSpec::new(name, partitions))
    }

    /// Creates a topic described in full.
    pub fn create_topic_spec(&self, spec: &TopicSpec) -> Result<(), MockError> {
        self.shared.state().create_from_spec(spec).map_err(|(code, message)| MockError::Topic {
            topic: spec.name.clone(),
            code,
            message,
        })
    }

    /// Deletes a topic; `false` if there was none.
    pub fn delete_topic(&self, name: &str) -> bool {
        let deleted = self.shared.state().delete_topic(name);
        self.shared.notify_changed();
        deleted
    }

    /// The topics, with their partition counts.
    pub fn topics(&self) -> BTreeMap<String, usize> {
        self.shared.state().topics.iter().map(|(n, t)| (n.clone(), t.partitions.len())).collect()
    }

    /// The log end offset of a partition (the offset the next record gets).
    pub fn end_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        let state = self.shared.state();
        let p = state.topics.get(topic)?.partitions.get(usize::try_from(partition).ok()?)?;
        Some(p.log.end)
    }

    /// Every record of a partition, decoded.
    pub fn records(&self, topic: &str, partition: i32) -> Option<Vec<Record>> {
        let state = self.shared.state();
        let p = state.topics.get(topic)?.partitions.get(usize::try_from(partition).ok()?)?;
        let mut out = Vec::new();
        for data in p.log.batches() {
            for batch in Records::from_bytes(data.clone()).batches().flatten() {
                out.extend(batch.records().into_iter().flatten().flatten());
            }
        }
        Some(out)
    }

    /// The record batches of a partition as stored (offsets assigned by the broker), one
    /// `Bytes` per batch, in log order.
    pub fn batches(&self, topic: &str, partition: i32) -> Option<Vec<bytes::Bytes>> {
        let state = self.shared.state();
        let p = state.topics.get(topic)?.partitions.get(usize::try_from(partition).ok()?)?;
        Some(p.log.batches().cloned().collect())
    }

    /// The offset group `group` committed for a partition.
    pub fn committed_offset(&self, group: &str, topic: &str, partition: i32) -> Option<i64> {
        let state = self.shared.state();
        state.groups.get(group)?.offsets.get(&(topic.to_owned(), partition)).map(|c| c.offset)
    }

    /// The generation of group `group` and its member ids (in join order); for a consumer
    /// group (KIP-848, ConsumerGroupHeartbeat), its group epoch and member ids in ascending
    /// order (members away with epoch -2 included, as Kafka keeps them).
    pub fn group_members(&self, group: &str) -> Option<(i32, Vec<String>)> {
        let state = self.shared.state();
        Some(state.groups.get(group)?.generation_and_members())
    }

    /// What happened to group `group` so far, oldest first (its last 4096 events); empty for
    /// a group the cluster does not know.
    pub fn group_events(&self, group: &str) -> Vec<GroupEvent> {
        self.shared.state().groups.get(group).map(|g| g.events()).unwrap_or_default()
    }

    /// Waits until `until` finds what it looks for in the events of group `group` (oldest
    /// first, as [`MockCluster::group_events`] gives them), and returns what it found. `until`
    /// is called at once and again after every new event of any group: a test waits for a
    /// rebalance to complete, a member to be removed, ... without sleeping. It never times out
    /// on its own: wrap it in a timeout that only a hang can reach.
    ///
    /// ```no_run
    /// # async fn run(cluster: kafka_wire_mock::MockCluster) {
    /// use kafka_wire_mock::GroupEvent;
    /// // Generation 2 completed its join phase: who is in it?
    /// let members = cluster
    ///     .wait_for_group_event("orders-group", |events| {
    ///         events.iter().find_map(|e| match e {
    ///             GroupEvent::JoinCompleted { generation: 2, members, .. } => Some(members.clone()),
    ///             _ => None,
    ///         })
    ///     })
    ///     .await;
    /// # let _ = members; }
    /// ```
    pub async fn wait_for_group_event<T>(&self, group: &str, mut until: impl FnMut(&[GroupEvent]) -> Option<T>) -> T {
        let mut changed = self.shared.state().group_events.subscribe();
        loop {
            changed.borrow_and_update();
            if let Some(found) = until(&self.group_events(group)) {
                return found;
            }
            // The sender lives as long as the cluster, which `self` keeps alive.
            let _ = changed.changed().await;
        }
    }

    /// Fails the next `count` requests of `api` with `code`: the response of the request's
    /// version carries `code` in every error field the mock fills for that API (for APIs it
    /// does not serve: the top-level error code), and the request has no effect.
    pub fn fail_next(&self, api: ApiKey, count: u32, code: ErrorCode) {
        let mut faults = lock(&self.shared.faults);
        if count == 0 {
            faults.fail.remove(&api);
        } else {
            faults.fail.insert(api, (count, code));
        }
    }

    /// Holds back every response to `api` by `delay` (zero: no delay).
    pub fn delay_responses(&self, api: ApiKey, delay: Duration) {
        let mut faults = lock(&self.shared.faults);
        if delay.is_zero() {
            faults.delay.remove(&Some(api));
        } else {
            faults.delay.insert(Some(api), delay);
        }
    }

    /// Holds back every response by `delay` (an API's own delay wins).
    pub fn delay_all_responses(&self, delay: Duration) {
        let mut faults = lock(&self.shared.faults);
        if delay.is_zero() {
            faults.delay.remove(&None);
        } else {
            faults.delay.insert(None, delay);
        }
    }

    /// Removes every injected failure and delay.
    pub fn clear_faults(&self) {
        *lock(&self.shared.faults) = Faults::default();
    }

    /// Takes broker `id` down: its connections close, its port refuses connections, and the
    /// partitions it led move to their next live replica (with a new leader epoch).
    pub fn broker_down(&self, id: i32) -> Result<(), MockError> {
        let index = usize::try_from(id).map_err(|_| MockError::UnknownBroker(id))?;
        {
            let mut listeners = lock(&self.shared.listeners);
            let listener = listeners.get_mut(index).ok_or(MockError::UnknownBroker(id))?;
            if let Some(task) = listener.accept.take() {
                task.abort();
            }
            listener.kill.send_modify(|n| *n += 1);
        }
        self.shared.state().set_broker_up(id, false);
        self.shared.notify_changed();
        Ok(())
    }

    /// Brings broker `id` back on its address; partitions whose preferred replica it is move
    /// back to it.
    pub fn broker_up(&self, id: i32) -> Result<(), MockError> {
        let index = usize::try_from(id).map_err(|_| MockError::UnknownBroker(id))?;
        let mut listeners = lock(&self.shared.listeners);
        let listener = listeners.get_mut(index).ok_or(MockError::UnknownBroker(id))?;
        if listener.accept.is_none() {
            let _enter = self.shared.runtime.enter();
            let (tcp, _) = bind(&listener.addr.to_string())?;
            listener.accept =
                Some(self.shared.runtime.spawn(accept_loop(self.shared.clone(), index, tcp)).abort_handle());
        }
        drop(listeners);
        self.shared.state().set_broker_up(id, true);
        self.shared.notify_changed();
        Ok(())
    }

    /// What the cluster saw so far.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        Stats {
            requests: lock(&c.requests).clone(),
            connections: c.connections.load(Ordering::Relaxed),
            authentications: c.authentications.load(Ordering::Relaxed),
            failed_authentications: c.failed_authentications.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting, closes every connection and waits until every connection task ended.
    pub async fn shutdown(self) {
        self.stop();
        let mut open = self.shared.open.subscribe();
        let _ = open.wait_for(|n| *n == 0).await;
    }

    fn stop(&self) {
        self.ticker.abort();
        for listener in lock(&self.shared.listeners).iter_mut() {
            if let Some(task) = listener.accept.take() {
                task.abort();
            }
            listener.kill.send_modify(|n| *n += 1);
        }
    }
}

impl Drop for MockCluster {
    fn drop(&mut self) {
        self.stop();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Binds a listener (std, then handed to tokio: needs a runtime context).
fn bind(addr: &str) -> Result<(TcpListener, SocketAddr), MockError> {
    let err = |source| MockError::Bind { addr: addr.to_owned(), source };
    let std = std::net::TcpListener::bind(addr).map_err(err)?;
    std.set_nonblocking(true).map_err(err)?;
    let local = std.local_addr().map_err(err)?;
    let listener = TcpListener::from_std(std).map_err(err)?;
    Ok((listener, local))
}

async fn accept_loop(shared: Arc<Shared>, id: usize, listener: TcpListener) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors and the like: back off a little, as brokers do.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Some(kill) = shared.kill_signal(id) else { return };
        shared.counters.connections.fetch_add(1, Ordering::Relaxed);
        let _ = tcp.set_nodelay(true);
        let guard = OpenGuard::new(shared.clone());
        tokio::spawn(async move {
            crate::server::connection(guard, id as i32, tcp, peer, kill).await;
        });
    }
}

/// Group timers: session expiry, rebalance timeouts, the initial rebalance delay.
async fn tick_loop(shared: Arc<Shared>) {
    let mut interval = tokio::time::interval(Duration::from_millis(10));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let now = tokio::time::Instant::now();
        let mut state = shared.state();
        let settings = state.settings.clone();
        for group in state.groups.values_mut() {
            group.tick(&settings, now);
        }
        if crate::share_group::tick_all(&mut state, now) {
            shared.notify_changed();
        }
        if state.expire_transactions(now) {
            drop(state);
            shared.notify_changed();
        }
    }
}

impl OpenGuard {
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.0
    }
}

/// Share group settings (KIP-932) for tests.
impl MockCluster {
    /// Sets how long a ShareFetch locks the records it acquires
    /// (`group.share.record.lock.duration.ms`, Kafka's default 30 s), for partitions fetched
    /// from now on and the locks they take.
    pub fn set_share_record_lock_duration(&self, duration: Duration) {
        self.shared.state().share.record_lock_duration = duration;
    }

    /// Sets how many times a record is delivered before a release archives it
    /// (`group.share.delivery.count.limit`, Kafka's default 5).
    pub fn set_share_delivery_count_limit(&self, limit: i16) {
        self.shared.state().share.delivery_count_limit = limit.max(1);
    }
}
