//! The handshake of a new connection, sans-io: version negotiation with ApiVersions (or a
//! configured version table), then SASL authentication if configured; and SASL
//! re-authentication on an open connection (KIP-368).
//!
//! [`Handshake`] holds no socket and no clock. It says which request to send next
//! ([`Step::Send`]: the request, its version and how long to wait for its answer) and takes
//! the outcome of each ([`Handshake::receive`]), until it ends with the negotiated versions
//! and the authenticated session ([`Step::Done`]) or a typed error ([`Step::Failed`]). The
//! tokio [`Connection`](crate::Connection) drives it over its socket; any other transport can.
//!
//! ```
//! use kafka_wire::{api_versions, ApiKey, ApiResponse};
//! use kafka_wire_client::handshake::{Handshake, Step};
//! use kafka_wire_client::ConnectionConfig;
//!
//! let mut handshake = Handshake::new(ConnectionConfig::default());
//! let Step::Send(first) = handshake.start() else { unreachable!() };
//! assert_eq!((first.request.api_key(), first.version), (ApiKey::ApiVersions, ApiKey::ApiVersions.versions().max));
//! // ... send `first.request` at `first.version`, wait at most `first.timeout` for the answer:
//! let answer = api_versions::Response {
//!     api_keys: vec![api_versions::ApiVersion { api_key: 3, min_version: 0, max_version: 12, ..Default::default() }],
//!     ..Default::default()
//! };
//! let Step::Done(established) = handshake.receive(Ok(ApiResponse::ApiVersions(answer))) else { unreachable!() };
//! assert_eq!(established.versions.version_for(ApiKey::Metadata).unwrap(), 12);
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kafka_wire::{api_versions, ApiKey, ApiRequest, ApiResponse, NegotiatedVersions, VersionRange};

use crate::config::ConnectionConfig;
use crate::error::{Error, Result};

/// What a broker supports and what this connection uses: the broker's ranges (from its
/// ApiVersions answer, or [`ConnectionConfig::broker_versions`]) and, per API, the highest
/// version that the broker, this build and [`ConnectionConfig::max_versions`] allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerVersions {
    broker: BTreeMap<ApiKey, VersionRange>,
    caps: BTreeMap<ApiKey, i16>,
    usable: NegotiatedVersions,
}

impl BrokerVersions {
    /// From the broker's `(api key, min version, max version)` entries; API keys this build
    /// does not know are left out; `caps` lower the versions used.
    pub fn new(ranges: impl IntoIterator<Item = (i16, i16, i16)>, caps: &BTreeMap<ApiKey, i16>) -> Self {
        let broker: BTreeMap<ApiKey, VersionRange> = ranges
            .into_iter()
            .filter_map(|(key, min, max)| Some((ApiKey::from_code(key)?, VersionRange::new(min, max))))
            .collect();
        let capped = broker.iter().map(|(&api, range)| {
            let max = caps.get(&api).map_or(range.max, |&cap| cap.min(range.max));
            (api.code(), range.min, max)
        });
        let usable = kafka_wire::negotiate(capped);
        BrokerVersions { broker, caps: caps.clone(), usable }
    }

    /// The versions of `api` the broker supports (empty if it does not list the API).
    pub fn broker_range(&self, api: ApiKey) -> VersionRange {
        self.broker.get(&api).copied().unwrap_or(VersionRange::EMPTY)
    }

    /// The version each API is used at: the highest that the broker, this build and the caps
    /// allow.
    pub fn negotiated(&self) -> &NegotiatedVersions {
        &self.usable
    }

    /// The version a version-free request of `api` is sent at. Errors:
    /// [`Error::VersionCapped`] when the broker and this build share versions but the cap
    /// excludes them all, [`Error::UnsupportedVersion`] (naming what the broker supports) when
    /// they share none.
    pub fn version_for(&self, api: ApiKey) -> Result<i16> {
        if let Some(version) = self.usable.get(api) {
            return Ok(version);
        }
        let shared = self.broker_range(api).intersect(api.versions());
        match self.caps.get(&api) {
            Some(&cap) if !shared.is_empty() && api.is_enabled() => Err(Error::VersionCapped { api, cap, shared }),
            _ => Err(Error::UnsupportedVersion { api, version: api.versions().max, supported: self.broker_range(api) }),
        }
    }

    /// `Ok` if the broker supports `version` of `api` (for requests of a version of their
    /// own, which the caps do not limit).
    pub fn check(&self, api: ApiKey, version: i16) -> Result<()> {
        let supported = self.broker_range(api);
        if supported.contains(version) {
            Ok(())
        } else {
            Err(Error::UnsupportedVersion { api, version, supported })
        }
    }
}

/// What to do next.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// Send this request and give its outcome to [`Handshake::receive`].
    Send(Outgoing),
    /// The handshake succeeded.
    Done(Established),
    /// The handshake failed; the connection is of no further use.
    Failed(Error),
}

/// A request of the handshake.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The request (ApiVersions, SaslHandshake or SaslAuthenticate)...
    pub request: ApiRequest,
    /// ... written at this version.
    pub version: i16,
    /// The longest wait for its answer; on expiry, hand [`Error::Timeout`] to
    /// [`Handshake::receive`]. The first ApiVersions of a connection gets
    /// [`ConnectionConfig::api_versions_timeout`], the others the request timeout.
    pub timeout: Duration,
}

/// The outcome of a successful handshake.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Established {
    /// The broker's versions and the ones this connection uses.
    pub versions: BrokerVersions,
    /// The ApiVersions version the broker answered; `None` when the versions came from
    /// [`ConnectionConfig::broker_versions`] (or on re-authentication).
    pub api_versions_version: Option<i16>,
    /// The SASL session, when SASL is configured.
    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    pub authenticated: Option<Authenticated>,
}

/// A SASL session the broker accepted.
#[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Authenticated {
    /// The mechanism.
    pub mechanism: crate::sasl::SaslMechanism,
    /// The session lifetime the broker announced (SaslAuthenticate v1+, KIP-368); `None`: the
    /// session does not expire.
    pub session_lifetime: Option<Duration>,
    /// When to re-authenticate, counted from the last answer: at 85% of the lifetime, the
    /// earliest point Kafka's Java client picks (`SaslClientAuthenticator`, KIP-368).
    pub reauthenticate_after: Option<Duration>,
}

#[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
impl Authenticated {
    fn new(mechanism: crate::sasl::SaslMechanism, lifetime_ms: i64) -> Self {
        let lifetime = u64::try_from(lifetime_ms).ok().filter(|&ms| ms > 0);
        Authenticated {
            mechanism,
            session_lifetime: lifetime.map(Duration::from_millis),
            reauthenticate_after: lifetime.map(|ms| Duration::from_millis(ms - ms * 15 / 100)),
        }
    }
}

enum State {
    /// Not started; ApiVersions would be asked with this version first.
    Start { api_versions_version: i16 },
    /// Waiting for the answer to ApiVersions of `version`; `probe`: the first one.
    ApiVersions { version: i16, probe: bool },
    /// Re-authentication, not started.
    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    Reauthenticate { versions: BrokerVersions },
    /// Waiting for the answer to SaslHandshake.
    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    SaslHandshake { versions: BrokerVersions, api_versions_version: Option<i16> },
    /// Waiting for the answer to a SaslAuthenticate round.
    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    SaslAuthenticate {
        versions: BrokerVersions,
        api_versions_version: Option<i16>,
        mechanism: crate::sasl::Mechanism,
        version: i16,
    },
    /// Done or failed.
    Over,
}

/// The handshake of one connection (see the [module docs](self)).
pub struct Handshake {
    config: Arc<ConnectionConfig>,
    state: State,
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Start { .. } => "start",
            State::ApiVersions { .. } => "awaiting ApiVersions",
            #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
            State::Reauthenticate { .. } => "re-authentication",
            #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
            State::SaslHandshake { .. } => "awaiting SaslHandshake",
            #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
            State::SaslAuthenticate { .. } => "awaiting SaslAuthenticate",
            State::Over => "over",
        };
        f.debug_struct("Handshake").field("state", &state).finish_non_exhaustive()
    }
}

impl Handshake {
    /// The handshake of a new connection with `config`: ApiVersions at the highest version
    /// this build has (and [`ConnectionConfig::max_versions`] allows), or none when
    /// [`ConnectionConfig::broker_versions`] is set; then SASL if
    /// [`ConnectionConfig::sasl`] is set.
    pub fn new(config: impl Into<Arc<ConnectionConfig>>) -> Self {
        let api_versions_version = ApiKey::ApiVersions.versions().max;
        Handshake { config: config.into(), state: State::Start { api_versions_version } }
    }

    /// Asks ApiVersions with `version` first (capped as in [`Handshake::new`]): the version a
    /// broker answered last time saves a downgrade round trip.
    pub fn starting_at(mut self, version: i16) -> Self {
        if let State::Start { api_versions_version } = &mut self.state {
            *api_versions_version = version;
        }
        self
    }

    /// Re-authentication on an open connection whose versions are `versions`: SaslHandshake
    /// and SaslAuthenticate again with [`ConnectionConfig::sasl`], before the session lifetime
    /// the broker announced runs out (KIP-368). Requests must not be in flight meanwhile.
    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    pub fn reauthenticate(config: impl Into<Arc<ConnectionConfig>>, versions: BrokerVersions) -> Self {
        Handshake { config: config.into(), state: State::Reauthenticate { versions } }
    }

    /// The first step. Calling it again after the start returns a failure.
    pub fn start(&mut self) -> Step {
        match std::mem::replace(&mut self.state, State::Over) {
            State::Start { api_versions_version } => match &self.config.broker_versions {
                Some(table) => {
                    let ranges = table.iter().map(|(api, range)| (api.code(), range.min, range.max));
                    let versions = BrokerVersions::new(ranges, &self.config.max_versions);
                    self.authenticate_or_finish(versions, None)
                }
                None => {
                    let ours = ApiKey::ApiVersions.versions();
                    let cap = self.config.max_versions.get(&ApiKey::ApiVersions).copied().unwrap_or(ours.max);
                    let version = api_versions_version.min(cap).clamp(ours.min, ours.max);
                    self.ask_api_versions(version, true)
                }
            },
            #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
            State::Reauthenticate { versions } => self.authenticate_or_finish(versions, None),
            other => {
                self.state = other;
                Step::Failed(Error::Handshake("the handshake was already started".into()))
            }
        }
    }

    /// Takes the outcome of the request of the last [`Step::Send`]: its response, or the
    /// error that ended it (a timeout, the connection closing, a malformed answer). Returns
    /// the next step.
    pub fn receive(&mut self, outcome: Result<ApiResponse>) -> Step {
        match std::mem::replace(&mut self.state, State::Over) {
            State::ApiVersions { version, probe } => self.api_versions(version, probe, outcome),
            #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
            State::SaslHandshake { versions, api_versions_version } => match self.sasl_handshake(&versions, outcome) {
                Ok((mechanism, version, step)) => {
                    self.state = State::SaslAuthenticate { versions, api_versions_version, mechanism, version };
                    step
                }
                Err(e) => Step::Failed(crate::sasl::as_auth_error(e)),
            },
            #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
            State::SaslAuthenticate { versions, api_versions_version, mut mechanism, version } => {
                match self.sasl_authenticate(&mut mechanism, outcome) {
                    Ok(Round::Next(message)) => {
                        self.state = State::SaslAuthenticate { versions, api_versions_version, mechanism, version };
                        self.sasl_authenticate_step(message, version)
                    }
                    Ok(Round::Done { lifetime_ms }) => {
                        let authenticated = Authenticated::new(self.sasl_mechanism(), lifetime_ms);
                        Step::Done(Established { versions, api_versions_version, authenticated: Some(authenticated) })
                    }
                    Err(e) => Step::Failed(crate::sasl::as_auth_error(e)),
                }
            }
            other => {
                self.state = other;
                Step::Failed(Error::Handshake("an answer came when the handshake awaited none".into()))
            }
        }
    }

    fn ask_api_versions(&mut self, version: i16, probe: bool) -> Step {
        self.state = State::ApiVersions { version, probe };
        let request = api_versions::Request {
            client_software_name: self.config.software_name.as_str().into(),
            client_software_version: self.config.software_version.as_str().into(),
            ..Default::default()
        };
        let timeout = if probe { self.config.api_versions_timeout } else { self.config.request_timeout };
        Step::Send(Outgoing { request: request.into(), version, timeout })
    }

    fn api_versions(&mut self, version: i16, probe: bool, outcome: Result<ApiResponse>) -> Step {
        let response = match outcome {
            Ok(ApiResponse::ApiVersions(r)) => r,
            Ok(other) => return Step::Failed(unexpected(ApiKey::ApiVersions, &other)),
            // Nothing Kafka-like came back to the first request of the connection.
            Err(cause) if probe && is_silence(&cause) => {
                return Step::Failed(Error::NoApiVersionsAnswer { cause: Box::new(cause) })
            }
            Err(e) => return Step::Failed(e),
        };
        // The broker does not know `version`: it answered in v0 format with its ranges.
        if let Some(next) = response.downgrade_version(version) {
            return self.ask_api_versions(next, false);
        }
        if response.error_code.is_err() {
            return Step::Failed(Error::Broker { api: ApiKey::ApiVersions, code: response.error_code, message: None });
        }
        let ranges = response.api_keys.iter().map(|k| (k.api_key, k.min_version, k.max_version));
        let versions = BrokerVersions::new(ranges, &self.config.max_versions);
        self.authenticate_or_finish(versions, Some(version))
    }

    #[cfg(not(any(feature = "sasl-plain", feature = "sasl-scram")))]
    fn authenticate_or_finish(&mut self, versions: BrokerVersions, api_versions_version: Option<i16>) -> Step {
        Step::Done(Established { versions, api_versions_version })
    }

    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    fn authenticate_or_finish(&mut self, versions: BrokerVersions, api_versions_version: Option<i16>) -> Step {
        use kafka_wire::sasl_handshake as sh;

        let Some(sasl) = &self.config.sasl else {
            return Step::Done(Established { versions, api_versions_version, authenticated: None });
        };
        let version = match versions.version_for(ApiKey::SaslHandshake) {
            // Version 0 leaves only the bare-token exchange (no SaslAuthenticate): not
            // supported here.
            Ok(v) if !sh::Request::SASL_AUTHENTICATE_VERSIONS.contains(v) => {
                let broker = versions.broker_range(ApiKey::SaslHandshake);
                let needed = sh::Request::SASL_AUTHENTICATE_VERSIONS;
                if broker.intersect(needed).is_empty() {
                    Err(Error::UnsupportedVersion {
                        api: ApiKey::SaslHandshake,
                        version: needed.min,
                        supported: broker,
                    })
                } else {
                    let shared = broker.intersect(ApiKey::SaslHandshake.versions());
                    Err(Error::VersionCapped { api: ApiKey::SaslHandshake, cap: v, shared })
                }
            }
            other => other,
        };
        let version = match version {
            Ok(v) => v,
            Err(e) => return Step::Failed(crate::sasl::as_auth_error(e)),
        };
        let request = sh::Request { mechanism: sasl.mechanism.name().into() };
        self.state = State::SaslHandshake { versions, api_versions_version };
        Step::Send(Outgoing { request: request.into(), version, timeout: self.config.request_timeout })
    }

    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    fn sasl_mechanism(&self) -> crate::sasl::SaslMechanism {
        self.config.sasl.as_ref().map(|s| s.mechanism).expect("SASL states exist only with SASL configured")
    }

    /// The SaslHandshake answer: the mechanism's state, the SaslAuthenticate version, and the
    /// first SaslAuthenticate to send.
    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    fn sasl_handshake(
        &self,
        versions: &BrokerVersions,
        outcome: Result<ApiResponse>,
    ) -> Result<(crate::sasl::Mechanism, i16, Step)> {
        let sasl = self.config.sasl.as_ref().expect("SASL states exist only with SASL configured");
        let response = match outcome? {
            ApiResponse::SaslHandshake(r) => r,
            other => return Err(unexpected(ApiKey::SaslHandshake, &other)),
        };
        crate::sasl::check_handshake(sasl, response.error_code, &response.mechanisms)?;
        let version = versions.version_for(ApiKey::SaslAuthenticate)?;
        let (mechanism, first) = crate::sasl::Mechanism::start(sasl)?;
        Ok((mechanism, version, self.sasl_authenticate_step(first, version)))
    }

    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    fn sasl_authenticate_step(&self, message: Vec<u8>, version: i16) -> Step {
        use kafka_wire::sasl_authenticate as sa;
        let request = sa::Request { auth_bytes: bytes::Bytes::from(message), ..Default::default() };
        Step::Send(Outgoing { request: request.into(), version, timeout: self.config.request_timeout })
    }

    /// A SaslAuthenticate answer: the next round, or the end of the exchange.
    #[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
    fn sasl_authenticate(&self, mechanism: &mut crate::sasl::Mechanism, outcome: Result<ApiResponse>) -> Result<Round> {
        let response = match outcome? {
            ApiResponse::SaslAuthenticate(r) => r,
            other => return Err(unexpected(ApiKey::SaslAuthenticate, &other)),
        };
        crate::sasl::check_authenticate(response.error_code, response.error_message.as_deref())?;
        Ok(match mechanism.step(&response.auth_bytes)? {
            Some(next) => Round::Next(next),
            None => Round::Done { lifetime_ms: response.session_lifetime_ms },
        })
    }
}

/// What a SaslAuthenticate answer leads to.
#[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
enum Round {
    /// Send this message next.
    Next(Vec<u8>),
    /// The exchange is over; the broker announced this session lifetime (0: none).
    Done { lifetime_ms: i64 },
}

/// An answer of another API than the request's (the core decodes answers by the request's
/// API, so only a transport of one's own can hand one over).
fn unexpected(expected: ApiKey, received: &ApiResponse) -> Error {
    Error::Handshake(format!("{:?} answered a {expected:?} request", received.api_key()))
}

/// Whether the first request of a connection failed the way a broker that does not speak
/// ApiVersions (or Kafka) makes it fail: no answer, the connection dropped, or bytes that are
/// no Kafka frame.
fn is_silence(e: &Error) -> bool {
    matches!(
        e,
        Error::Timeout { .. } | Error::Closed | Error::Io(_) | Error::FrameTooLarge { .. } | Error::InvalidFrameSize(_)
    )
}
