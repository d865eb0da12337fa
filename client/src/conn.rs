//! A tokio connection to one broker address: the sans-io [`Core`] driven by a reader task and
//! a writer task, the sans-io [`Handshake`] driven on connect (and for re-authentication),
//! per-request timeouts, and a lazy reconnect when the connection broke.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

#[cfg(feature = "versioned")]
use kafka_wire::{AnyRequest, AnyResponse, VersionedRequest};
use kafka_wire::{ApiKey, ApiRequest, ApiResponse, Chunks, NegotiatedVersions, VersionFreeRequest, VersionRange};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::task::AbortHandle;
use tokio::time::{timeout, timeout_at, Instant};

use crate::config::ConnectionConfig;
use crate::core::{Core, CoreConfig, Reply};
use crate::error::{Error, Result};
use crate::handshake::{BrokerVersions, Established, Handshake, Step};

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;
type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;

/// A connection to one broker address, shared by every clone.
///
/// Created without I/O ([`Connection::new`]) or connected at once ([`Connection::connect`]).
/// The first request opens the socket and drives the [`Handshake`]: it negotiates versions
/// with ApiVersions (falling back when the broker answers UNSUPPORTED_VERSION in v0 format),
/// or takes them from [`ConnectionConfig::broker_versions`], and authenticates if SASL is
/// configured. Requests are pipelined: many may be in flight at once, up to
/// [`ConnectionConfig::max_in_flight`]. When the connection breaks, every request in flight
/// fails at once with the cause; the next request opens a new connection.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    addr: String,
    config: Arc<ConnectionConfig>,
    session: Mutex<Option<Arc<Session>>>,
    /// Held while opening a connection, so that concurrent requests open only one.
    connecting: tokio::sync::Mutex<()>,
    opened: AtomicU64,
    /// The ApiVersions version to start negotiating with: the one that worked last time.
    api_versions_version: AtomicI16,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.inner.addr)
            .field("connected", &self.is_connected())
            .field("opened", &self.connections_opened())
            .finish()
    }
}

impl Connection {
    /// A connection to `addr` (`host:port`) that opens on the first request.
    pub fn new(addr: impl Into<String>, config: ConnectionConfig) -> Self {
        Self::with_config(addr.into(), Arc::new(config))
    }

    pub(crate) fn with_config(addr: String, config: Arc<ConnectionConfig>) -> Self {
        Connection {
            inner: Arc::new(Inner {
                addr,
                config,
                session: Mutex::new(None),
                connecting: tokio::sync::Mutex::new(()),
                opened: AtomicU64::new(0),
                api_versions_version: AtomicI16::new(ApiKey::ApiVersions.versions().max),
            }),
        }
    }

    /// A connection to `addr`, opened (and negotiated, and authenticated) now.
    pub async fn connect(addr: impl Into<String>, config: ConnectionConfig) -> Result<Self> {
        let connection = Self::new(addr, config);
        connection.session().await?;
        Ok(connection)
    }

    /// The broker address.
    pub fn addr(&self) -> &str {
        &self.inner.addr
    }

    /// The settings of this connection.
    pub fn config(&self) -> &ConnectionConfig {
        &self.inner.config
    }

    /// Sends a version-free `request` at the highest version that the broker, this build and
    /// [`ConnectionConfig::max_versions`] allow, and returns its response (read at that
    /// version).
    ///
    /// Fails without sending with [`Error::UnsupportedVersion`] if no version is shared, and
    /// with [`Error::Encode`] if the request holds a value that version cannot carry (a
    /// non-default field it does not have, KIP-482's rule). Fails with [`Error::Timeout`] if
    /// no response comes within the request timeout (the connection is then closed, as
    /// Kafka's own clients do). A request that expects no response (Produce with acks=0)
    /// resolves once it is written, with the default (empty) response.
    pub async fn send<R: VersionFreeRequest>(&self, request: &R) -> Result<R::Response> {
        self.send_within(request, self.inner.config.request_timeout).await
    }

    /// [`Connection::send`] with a timeout of its own (a JoinGroup may wait for a whole
    /// rebalance, longer than the usual request timeout).
    pub async fn send_within<R: VersionFreeRequest>(&self, request: &R, timeout: Duration) -> Result<R::Response> {
        let session = self.session().await?;
        let version = session.versions().version_for(R::API_KEY)?;
        self.send_at_within(&session, request, version, timeout).await
    }

    /// Sends a version-free `request` at `version` (which the broker must support).
    pub async fn send_at<R: VersionFreeRequest>(&self, request: &R, version: i16) -> Result<R::Response> {
        let session = self.session().await?;
        session.versions().check(R::API_KEY, version)?;
        self.send_at_within(&session, request, version, self.inner.config.request_timeout).await
    }

    async fn send_at_within<R: VersionFreeRequest>(
        &self,
        session: &Session,
        request: &R,
        version: i16,
        timeout: Duration,
    ) -> Result<R::Response> {
        #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
        let _gate = session.enter(&self.inner.config).await?;
        session.call_at(request, version, timeout).await
    }

    /// The version a version-free request of `api` would be sent at (connects if needed).
    pub async fn version_for(&self, api: ApiKey) -> Result<i16> {
        self.session().await?.versions().version_for(api)
    }

    #[cfg(feature = "versioned")]
    /// Sends a request of one fixed version and returns its typed response (see
    /// [`Connection::send`]; the version must be one the broker supports).
    pub async fn send_versioned<R: VersionedRequest>(&self, request: &R) -> Result<R::Response> {
        self.send_versioned_within(request, self.inner.config.request_timeout).await
    }

    #[cfg(feature = "versioned")]
    /// [`Connection::send_versioned`] with a timeout of its own.
    pub async fn send_versioned_within<R: VersionedRequest>(
        &self,
        request: &R,
        timeout: Duration,
    ) -> Result<R::Response> {
        let session = self.session().await?;
        session.versions().check(R::API_KEY, R::VERSION)?;
        #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
        let _gate = session.enter(&self.inner.config).await?;
        session.call_within(request, timeout).await
    }

    #[cfg(feature = "versioned")]
    /// Sends a request of any API and version; `None` when it expects no response.
    pub async fn send_any(&self, request: &AnyRequest) -> Result<Option<AnyResponse>> {
        let session = self.session().await?;
        session.versions().check(request.api_key(), request.version())?;
        #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
        let _gate = session.enter(&self.inner.config).await?;
        session.call_any(request, self.inner.config.request_timeout).await
    }

    /// Sends a version-free request of any API at the negotiated version (see
    /// [`Connection::send`]); `None` when it expects no response.
    pub async fn send_api(&self, request: &ApiRequest) -> Result<Option<ApiResponse>> {
        let session = self.session().await?;
        let version = session.versions().version_for(request.api_key())?;
        #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
        let _gate = session.enter(&self.inner.config).await?;
        session.call_api(request, version, self.inner.config.request_timeout).await
    }

    /// The version each API is used at: the highest that the broker, this build and
    /// [`ConnectionConfig::max_versions`] allow (connects if needed).
    pub async fn versions(&self) -> Result<NegotiatedVersions> {
        Ok(self.session().await?.versions().negotiated().clone())
    }

    /// The versions of `api` that the broker supports (connects if needed).
    pub async fn broker_versions(&self, api: ApiKey) -> Result<VersionRange> {
        Ok(self.session().await?.versions().broker_range(api))
    }

    /// The local address of the open socket, if one is open.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.live().and_then(|s| s.local_addr)
    }

    /// Whether a healthy socket is open.
    pub fn is_connected(&self) -> bool {
        self.live().is_some()
    }

    /// How many sockets this connection has opened so far (1 + reconnects).
    pub fn connections_opened(&self) -> u64 {
        self.inner.opened.load(Ordering::Relaxed)
    }

    /// How many requests await a response.
    pub fn in_flight(&self) -> usize {
        self.live().map_or(0, |s| lock(&s.core).in_flight())
    }

    /// Closes the socket; requests in flight fail with [`Error::Closed`]. The next request
    /// opens a new one.
    pub fn close(&self) {
        if let Some(session) = lock(&self.inner.session).take() {
            session.fail(Error::Closed);
        }
    }

    fn live(&self) -> Option<Arc<Session>> {
        lock(&self.inner.session).as_ref().filter(|s| s.is_healthy()).cloned()
    }

    /// The open session, or a new one if there is none or it broke.
    async fn session(&self) -> Result<Arc<Session>> {
        if let Some(s) = self.live() {
            return Ok(s);
        }
        let _connecting = self.inner.connecting.lock().await;
        if let Some(s) = self.live() {
            return Ok(s);
        }
        let (addr, config) = (&self.inner.addr, &self.inner.config);
        // A broker that does not know the ApiVersions version asked answers in v0 format, on
        // the same connection (the handshake asks again); this starts with the version that
        // worked last time.
        let first = self.inner.api_versions_version.load(Ordering::Relaxed);
        let session = match Session::open(addr, config, first).await {
            // An answer that is neither the version asked for nor the v0 fallback (librdkafka's
            // mock broker sends such): the frame broke that connection, so ask again on a new
            // one with v0, which every broker answers.
            Err(Error::Malformed { api: ApiKey::ApiVersions, .. }) if first > 0 => Session::open(addr, config, 0).await,
            other => other,
        }?;
        if let Some(version) = session.api_versions_version {
            self.inner.api_versions_version.store(version, Ordering::Relaxed);
        }
        let session = Arc::new(session);
        self.inner.opened.fetch_add(1, Ordering::Relaxed);
        *lock(&self.inner.session) = Some(session.clone());
        Ok(session)
    }
}

/// A frame for the writer task; `written` is told once it is flushed.
struct Write {
    frame: Chunks,
    written: Option<oneshot::Sender<()>>,
}

/// The [`Reply`] of the tokio layer: a oneshot channel, and the in-flight permit that is
/// released with it.
struct ReplyTo<T> {
    tx: oneshot::Sender<Result<T>>,
    _permit: OwnedSemaphorePermit,
}

impl<T: Send + 'static> Reply<T> for ReplyTo<T> {
    fn reply(self, result: Result<T>) {
        let _ = self.tx.send(result);
    }
}

enum Waiting<T> {
    Response(oneshot::Receiver<Result<T>>),
    Written(oneshot::Receiver<()>),
}

/// One open socket.
struct Session {
    core: Arc<Mutex<Core>>,
    writes: mpsc::UnboundedSender<Write>,
    permits: Arc<Semaphore>,
    versions: OnceLock<BrokerVersions>,
    /// The ApiVersions version the broker answered (`None`: versions from the configuration).
    api_versions_version: Option<i16>,
    local_addr: Option<SocketAddr>,
    tasks: [AbortHandle; 2],
    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    sasl: crate::sasl::SessionAuth,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.fail(Error::Closed);
    }
}

impl Session {
    async fn open(addr: &str, config: &Arc<ConnectionConfig>, api_versions_version: i16) -> Result<Session> {
        let (rd, wr, local_addr) = timeout(config.connect_timeout, connect_stream(addr, config))
            .await
            .map_err(|_| Error::ConnectTimeout { addr: addr.into(), after: config.connect_timeout })??;
        let core = Arc::new(Mutex::new(Core::new(CoreConfig {
            max_in_flight: config.max_in_flight,
            max_frame_size: config.max_frame_size,
            client_id: config.client_id.clone(),
            reject_trailing_bytes: config.reject_trailing_bytes,
        })));
        let (writes, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_loop(wr, rx, core.clone())).abort_handle();
        let reader = tokio::spawn(read_loop(rd, core.clone(), writer.clone())).abort_handle();
        let mut session = Session {
            core,
            writes,
            permits: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
            versions: OnceLock::new(),
            api_versions_version: None,
            local_addr,
            tasks: [reader, writer],
            #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
            sasl: Default::default(),
        };
        let established = session.drive(Handshake::new(config.clone()).starting_at(api_versions_version)).await?;
        session.api_versions_version = established.api_versions_version;
        #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
        session.sasl.authenticated(established.authenticated.as_ref().and_then(|a| a.reauthenticate_after));
        let _ = session.versions.set(established.versions);
        Ok(session)
    }

    /// Runs a handshake over this session's socket: each request it asks for goes out (no
    /// version check, no gate) and its outcome goes back, until it is done.
    async fn drive(&self, mut handshake: Handshake) -> Result<Established> {
        let mut step = handshake.start();
        loop {
            step = match step {
                Step::Send(out) => {
                    let api = out.request.api_key();
                    let outcome = self.call_api(&out.request, out.version, out.timeout).await;
                    // Every handshake request expects an answer.
                    handshake
                        .receive(outcome.and_then(|r| r.ok_or(Error::Handshake(format!("{api:?} sent no answer")))))
                }
                Step::Done(established) => return Ok(established),
                Step::Failed(e) => return Err(e),
            }
        }
    }

    fn is_healthy(&self) -> bool {
        lock(&self.core).broken().is_none()
    }

    /// The error the session broke with ([`Error::Closed`] if none was recorded).
    fn error(&self) -> Error {
        lock(&self.core).broken().cloned().unwrap_or(Error::Closed)
    }

    /// Breaks the session: requests in flight fail, the socket closes.
    fn fail(&self, error: Error) -> Error {
        let error = lock(&self.core).fail(error);
        for task in &self.tasks {
            task.abort();
        }
        error
    }

    fn versions(&self) -> &BrokerVersions {
        // `open` negotiates before a session is handed out.
        self.versions.get().expect("versions are negotiated before a session is used")
    }

    /// Sends a version-free request at `version` (no version check, no gate).
    async fn call_at<R: VersionFreeRequest>(
        &self,
        request: &R,
        version: i16,
        timeout: Duration,
    ) -> Result<R::Response> {
        let deadline = Instant::now() + timeout;
        let expects = request.expects_response(version);
        let waiting = self
            .start(R::API_KEY, expects, deadline, timeout, |core, reply| core.submit_at(request, version, reply))
            .await?;
        Ok(self.finish(waiting, R::API_KEY, deadline, timeout).await?.unwrap_or_default())
    }

    async fn call_api(&self, request: &ApiRequest, version: i16, timeout: Duration) -> Result<Option<ApiResponse>> {
        let deadline = Instant::now() + timeout;
        let (api, expects) = (request.api_key(), request.expects_response(version));
        let waiting =
            self.start(api, expects, deadline, timeout, |core, reply| core.submit_api(request, version, reply)).await?;
        self.finish(waiting, api, deadline, timeout).await
    }

    #[cfg(feature = "versioned")]
    async fn call_within<R: VersionedRequest>(&self, request: &R, timeout: Duration) -> Result<R::Response> {
        let deadline = Instant::now() + timeout;
        let expects = request.expects_response();
        let waiting =
            self.start(R::API_KEY, expects, deadline, timeout, |core, reply| core.submit(request, reply)).await?;
        Ok(self.finish(waiting, R::API_KEY, deadline, timeout).await?.unwrap_or_default())
    }

    #[cfg(feature = "versioned")]
    async fn call_any(&self, request: &AnyRequest, timeout: Duration) -> Result<Option<AnyResponse>> {
        let deadline = Instant::now() + timeout;
        let (api, expects) = (request.api_key(), request.expects_response());
        let waiting =
            self.start(api, expects, deadline, timeout, |core, reply| core.submit_any(request, reply)).await?;
        self.finish(waiting, api, deadline, timeout).await
    }

    /// Takes an in-flight permit (waiting if all are taken), submits to the core and queues the
    /// frame for the writer, in the core's order.
    async fn start<T: Send + 'static>(
        &self,
        api: ApiKey,
        expects_response: bool,
        deadline: Instant,
        timeout: Duration,
        submit: impl FnOnce(&mut Core, ReplyTo<T>) -> Result<Chunks>,
    ) -> Result<Waiting<T>> {
        let permit = match timeout_at(deadline, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_closed)) => return Err(self.error()),
            Err(_elapsed) => return Err(Error::Timeout { api, after: timeout }),
        };
        let (tx, rx) = oneshot::channel();
        let (waiting, written) = if expects_response {
            (Waiting::Response(rx), None)
        } else {
            let (written_tx, written_rx) = oneshot::channel();
            (Waiting::Written(written_rx), Some(written_tx))
        };
        let mut core = lock(&self.core);
        let frame = submit(&mut core, ReplyTo { tx, _permit: permit })?;
        if self.writes.send(Write { frame, written }).is_err() {
            return Err(core.fail(Error::Closed));
        }
        Ok(waiting)
    }

    async fn finish<T>(
        &self,
        waiting: Waiting<T>,
        api: ApiKey,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Option<T>> {
        let outcome = match waiting {
            Waiting::Response(rx) => timeout_at(deadline, rx).await.map(|r| r.map(|r| r.map(Some))),
            Waiting::Written(rx) => timeout_at(deadline, rx).await.map(|r| r.map(|()| Ok(None))),
        };
        match outcome {
            Ok(Ok(result)) => result,
            // The reply went away unanswered: the session failed.
            Ok(Err(_dropped)) => Err(self.error()),
            Err(_elapsed) => {
                // The state of the stream is unknown now: close it, as Kafka's clients do.
                self.fail(Error::Timeout { api, after: timeout });
                Err(Error::Timeout { api, after: timeout })
            }
        }
    }
}

#[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
impl Session {
    /// Re-authenticates if the broker's session lifetime is nearly over, then lets a request
    /// in. Requests hold the returned guard while in flight; re-authentication waits for them
    /// and keeps new ones out, as KIP-368 asks.
    async fn enter(&self, config: &Arc<ConnectionConfig>) -> Result<tokio::sync::RwLockReadGuard<'_, ()>> {
        if config.sasl.is_some() && self.sasl.reauth_due() {
            let _exclusive = self.sasl.gate.write().await;
            if self.sasl.reauth_due() {
                let handshake = Handshake::reauthenticate(config.clone(), self.versions().clone());
                match self.drive(handshake).await {
                    Ok(established) => {
                        self.sasl.authenticated(established.authenticated.and_then(|a| a.reauthenticate_after))
                    }
                    Err(e) => return Err(self.fail(e)),
                }
            }
        }
        Ok(self.sasl.gate.read().await)
    }
}

/// Opens the socket (and TLS over it).
async fn connect_stream(addr: &str, config: &ConnectionConfig) -> Result<(ReadHalf, WriteHalf, Option<SocketAddr>)> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| Error::Connect { addr: addr.into(), source: Arc::new(e) })?;
    // Requests are small and latency matters; the writer task batches on its own.
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().ok();
    #[cfg(feature = "tls")]
    if let Some(tls) = &config.tls {
        let stream = crate::tls::connect(tls, addr, tcp).await?;
        let (r, w) = tokio::io::split(stream);
        return Ok((Box::new(r), Box::new(w), local));
    }
    #[cfg(not(feature = "tls"))]
    let _ = config;
    let (r, w) = tcp.into_split();
    Ok((Box::new(r), Box::new(w), local))
}

/// Feeds whatever the socket yields to the core until the socket or the core fails; then
/// stops the writer too, which closes the socket.
async fn read_loop(rd: ReadHalf, core: Arc<Mutex<Core>>, writer: AbortHandle) {
    read_until_failure(rd, &core).await;
    writer.abort();
}

async fn read_until_failure(mut rd: ReadHalf, core: &Mutex<Core>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let read = rd.read(&mut buf).await;
        let mut core = lock(core);
        match read {
            Ok(0) => {
                core.fail(Error::Closed);
                return;
            }
            Ok(n) => {
                if core.receive(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) => {
                core.fail(Error::io(e));
                return;
            }
        }
    }
}

/// Writes frames in the order they were queued, flushing when the queue runs dry.
async fn write_loop(wr: WriteHalf, mut rx: mpsc::UnboundedReceiver<Write>, core: Arc<Mutex<Core>>) {
    const BATCH: usize = 1024;
    let mut wr = BufWriter::with_capacity(64 * 1024, wr);
    let mut written = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut batch = 0;
        let result = async {
            while let Some(mut w) = next.take() {
                // Vectored where the stream supports it: record sets go out from their own
                // buffers (large frames bypass the BufWriter's copy).
                wr.write_all_buf(&mut w.frame).await?;
                written.extend(w.written);
                batch += 1;
                if batch < BATCH {
                    next = rx.try_recv().ok();
                }
            }
            wr.flush().await
        }
        .await;
        if let Err(e) = result {
            lock(&core).fail(Error::io(e));
            return;
        }
        for tx in written.drain(..) {
            let _ = tx.send(());
        }
    }
    let _ = wr.shutdown().await;
}
