//! Settings of a connection (and of every connection a [`Client`](crate::Client) opens).

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_wire::ApiKey;

/// How to open and use a connection.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionConfig {
    /// The client id written in every request header.
    pub client_id: Option<String>,
    /// `ClientSoftwareName` sent in ApiVersions v3+ (letters, digits, `-` and `.`).
    pub software_name: String,
    /// `ClientSoftwareVersion` sent in ApiVersions v3+.
    pub software_version: String,
    /// The longest wait for a response; on expiry the request fails with
    /// [`Error::Timeout`](crate::Error::Timeout) and the connection is closed.
    pub request_timeout: Duration,
    /// The longest wait to open a connection (TCP and TLS handshakes).
    pub connect_timeout: Duration,
    /// The most requests awaiting a response on one connection; further requests wait.
    pub max_in_flight: usize,
    /// The largest response frame accepted; a larger one breaks the connection.
    pub max_frame_size: usize,
    /// See [`CoreConfig::reject_trailing_bytes`](crate::core::CoreConfig::reject_trailing_bytes).
    pub reject_trailing_bytes: bool,
    /// The highest version to use of an API, below what the broker and this build support:
    /// version-free requests are written at the highest version all three allow.
    pub max_versions: BTreeMap<ApiKey, i16>,
    /// SASL authentication, right after version negotiation.
    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    pub sasl: Option<crate::sasl::SaslConfig>,
    /// TLS, before anything else.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::TlsConfig>,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            client_id: Some("kafka-wire-client".into()),
            software_name: "kafka-wire-client".into(),
            software_version: env!("CARGO_PKG_VERSION").into(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_in_flight: 1024,
            max_frame_size: 100 * 1024 * 1024,
            reject_trailing_bytes: false,
            max_versions: BTreeMap::new(),
            #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
            sasl: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl ConnectionConfig {
    /// Sets [`ConnectionConfig::client_id`].
    pub fn client_id(mut self, id: Option<&str>) -> Self {
        self.client_id = id.map(str::to_owned);
        self
    }

    /// Sets [`ConnectionConfig::request_timeout`].
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`ConnectionConfig::connect_timeout`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`ConnectionConfig::max_in_flight`] (at least 1).
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max.max(1);
        self
    }

    /// Sets [`ConnectionConfig::max_frame_size`].
    pub fn max_frame_size(mut self, max: usize) -> Self {
        self.max_frame_size = max;
        self
    }

    /// Caps the version used for `api` at `version` (see [`ConnectionConfig::max_versions`]).
    pub fn max_version(mut self, api: ApiKey, version: i16) -> Self {
        self.max_versions.insert(api, version);
        self
    }

    /// Sets [`ConnectionConfig::sasl`].
    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    pub fn sasl(mut self, sasl: crate::sasl::SaslConfig) -> Self {
        self.sasl = Some(sasl);
        self
    }

    /// Sets [`ConnectionConfig::tls`].
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }
}
