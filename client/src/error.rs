//! The one error type of the client.
//!
//! [`Error`] is `Clone`: when a connection breaks, every request in flight on it fails with
//! the same error. Applications that build on the client can carry their own errors in it
//! through [`Error::application`] (see the example there) instead of wrapping every result.

use std::sync::Arc;
use std::time::Duration;

use kafka_wire::{ApiKey, DecodeError, EncodeError, ErrorCode, VersionRange};

/// Everything that can go wrong between a request and its response.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A frame announced a size above the configured maximum. Breaks the connection.
    #[error("frame of {size} bytes exceeds the maximum of {max} bytes")]
    FrameTooLarge { size: usize, max: usize },
    /// A frame announced a size too small to hold a response header (or negative). Breaks the
    /// connection.
    #[error("invalid frame size {0}")]
    InvalidFrameSize(i32),
    /// A response did not answer the oldest request in flight (Kafka answers in order), or came
    /// when nothing was in flight. Breaks the connection.
    #[error("response with correlation id {received} does not answer the oldest request in flight ({expected:?})")]
    UnexpectedCorrelationId { received: i32, expected: Option<i32> },
    /// A response frame that does not decode as the response of its request. Breaks the
    /// connection.
    #[error("malformed {api} v{version} response")]
    Malformed {
        api: ApiKey,
        version: i16,
        #[source]
        source: DecodeError,
    },
    /// A request that cannot be encoded (a string too long for its length prefix, ...).
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The sans-io core already holds its maximum of requests in flight.
    #[error("{max} requests already in flight")]
    TooManyInFlight { max: usize },
    /// No response within the request timeout. The connection is closed (its state is no
    /// longer known); the next request opens a new one.
    #[error("{api} request timed out after {after:?}")]
    Timeout { api: ApiKey, after: Duration },
    /// No connection within the connect timeout.
    #[error("connecting to {addr} timed out after {after:?}")]
    ConnectTimeout { addr: String, after: Duration },
    /// The connection could not be opened.
    #[error("cannot connect to {addr}")]
    Connect {
        addr: String,
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The broker closed the connection.
    #[error("connection closed by the broker")]
    Closed,
    /// Reading from or writing to the connection failed.
    #[error("I/O error on the connection")]
    Io(#[source] Arc<std::io::Error>),
    /// The first ApiVersions request of a connection got no answer within
    /// [`ConnectionConfig::api_versions_timeout`](crate::ConnectionConfig::api_versions_timeout),
    /// or the connection closed or carried no Kafka frame instead (`cause`). Brokers older than
    /// Kafka 0.10.0 do not know ApiVersions (KIP-35) and never answer it; set
    /// [`ConnectionConfig::broker_versions`](crate::ConnectionConfig::broker_versions) to skip
    /// it. The connection is closed.
    #[error(
        "no answer to ApiVersions ({cause}): the broker is likely older than Kafka 0.10.0 (which \
         introduced ApiVersions, KIP-35), or not a Kafka broker at all (check the address, and \
         TLS); for a broker older than 0.10.0, set ConnectionConfig::broker_versions, which skips \
         ApiVersions"
    )]
    NoApiVersionsAnswer { cause: Box<Error> },
    /// The connection handshake was driven out of order, or got an answer of another API than
    /// its request's (see [`Handshake`](crate::handshake::Handshake)).
    #[error("connection handshake: {0}")]
    Handshake(String),
    /// The broker does not support this version of this API (from its ApiVersions answer).
    #[error("the broker does not support {api} v{version} (it supports {supported})")]
    UnsupportedVersion { api: ApiKey, version: i16, supported: VersionRange },
    /// [`ConnectionConfig::max_versions`](crate::ConnectionConfig::max_versions) caps `api` at
    /// `cap`, which leaves none of the versions the broker and this build share (`shared`), or
    /// none that works (SaslHandshake needs v1 for SaslAuthenticate).
    #[error("{api} is capped at v{cap} by ConnectionConfig::max_versions, which leaves no usable version (the broker and this build share {shared})")]
    VersionCapped { api: ApiKey, cap: i16, shared: VersionRange },
    /// The broker answered with an error code where the client needed a success (ApiVersions,
    /// Metadata, FindCoordinator, ...).
    #[error("{api} failed: {code}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Broker { api: ApiKey, code: ErrorCode, message: Option<String> },
    /// SASL authentication failed: wrong credentials, or the exchange broke off.
    #[error("authentication failed: {message}")]
    Authentication { code: Option<ErrorCode>, message: String },
    /// The broker does not enable the configured SASL mechanism.
    #[error("the broker does not enable SASL mechanism {mechanism} (it enables {enabled:?})")]
    SaslMechanism { mechanism: String, enabled: Vec<String> },
    /// TLS setup or handshake failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// No broker could be reached (every bootstrap address and known broker failed).
    #[error("no broker reachable; last error: {last}")]
    NoBrokerReachable { last: Box<Error> },
    /// The cluster view knows no broker with this id.
    #[error("unknown broker id {0}")]
    UnknownBroker(i32),
    /// The cluster has no such partition (after a metadata reload).
    #[error("unknown partition {topic}-{partition}")]
    UnknownPartition { topic: String, partition: i32 },
    /// The partition currently has no leader (after a metadata reload).
    #[error("partition {topic}-{partition} has no leader")]
    NoLeader { topic: String, partition: i32 },
    /// An error of the application that uses the client (see [`Error::application`]).
    #[error(transparent)]
    Application(Arc<dyn std::error::Error + Send + Sync>),
}

impl From<kafka_wire::FrameError> for Error {
    fn from(e: kafka_wire::FrameError) -> Self {
        match e {
            kafka_wire::FrameError::TooLarge { size, max } => Error::FrameTooLarge { size, max },
            kafka_wire::FrameError::InvalidSize { size, .. } => Error::InvalidFrameSize(size),
            // The stream ended inside a frame: the broker closed the connection.
            _ => Error::Closed,
        }
    }
}

impl Error {
    /// Carries an application's own error through the client's [`Result`](crate::Result).
    ///
    /// ```
    /// use kafka_wire_client::Error;
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("order {0} rejected")]
    /// struct Rejected(u32);
    ///
    /// // Implementing `From` lets `?` convert without wrapping at every call.
    /// impl From<Rejected> for Error {
    ///     fn from(e: Rejected) -> Self {
    ///         Error::application(e)
    ///     }
    /// }
    ///
    /// fn check(order: u32) -> kafka_wire_client::Result<()> {
    ///     if order == 0 {
    ///         Err(Rejected(order))?;
    ///     }
    ///     Ok(())
    /// }
    ///
    /// let err = check(0).unwrap_err();
    /// assert_eq!(err.downcast_ref::<Rejected>().map(|r| r.0), Some(0));
    /// ```
    pub fn application<E: std::error::Error + Send + Sync + 'static>(error: E) -> Self {
        Error::Application(Arc::new(error))
    }

    /// The application error inside, if it is an `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            Error::Application(e) => e.downcast_ref::<E>(),
            _ => None,
        }
    }

    pub(crate) fn io(e: std::io::Error) -> Self {
        Error::Io(Arc::new(e))
    }

    /// Whether the connection this error came from can no longer be used (the next request
    /// opens a new one).
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            Error::FrameTooLarge { .. }
                | Error::InvalidFrameSize(_)
                | Error::UnexpectedCorrelationId { .. }
                | Error::Malformed { .. }
                | Error::Timeout { .. }
                | Error::ConnectTimeout { .. }
                | Error::Connect { .. }
                | Error::Closed
                | Error::Io(_)
                | Error::NoApiVersionsAnswer { .. }
                | Error::NoBrokerReachable { .. }
        )
    }

    /// Whether retrying the same request may succeed: connection failures, timeouts, and
    /// broker error codes that Kafka marks retriable.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Broker { code, .. } => code.is_retriable(),
            Error::NoLeader { .. } | Error::UnknownBroker(_) => true,
            e => e.is_connection_error(),
        }
    }

    /// The broker's error code, if this error carries one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Broker { code, .. } => Some(*code),
            Error::Authentication { code, .. } => *code,
            _ => None,
        }
    }
}

/// `Result` with the client's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether a broker error code means that the client's idea of leaders or coordinators is out
/// of date, so that the cluster view must be reloaded before retrying.
pub fn is_stale_metadata(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::NOT_LEADER_OR_FOLLOWER
            | ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
            | ErrorCode::LEADER_NOT_AVAILABLE
            | ErrorCode::FENCED_LEADER_EPOCH
            | ErrorCode::UNKNOWN_LEADER_EPOCH
            | ErrorCode::REPLICA_NOT_AVAILABLE
            | ErrorCode::BROKER_NOT_AVAILABLE
            | ErrorCode::KAFKA_STORAGE_ERROR
            | ErrorCode::NOT_COORDINATOR
            | ErrorCode::COORDINATOR_NOT_AVAILABLE
            | ErrorCode::NOT_CONTROLLER
            | ErrorCode::UNKNOWN_TOPIC_ID
    )
}
