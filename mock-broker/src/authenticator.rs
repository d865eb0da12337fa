//! The SASL side of a connection (Kafka's `SaslServerAuthenticator`): which requests may come
//! before authentication, SaslHandshake, SaslAuthenticate, the bare tokens that follow a
//! SaslHandshake v0, session expiry and re-authentication (KIP-368). The mechanisms'
//! exchanges themselves are in `sasl`.

use std::sync::atomic::Ordering;

use kafka_wire::{sasl_authenticate, sasl_handshake, ApiKey, ErrorCode};
use tokio::time::Instant;

use crate::cluster::Shared;
use crate::config::SaslMechanism;
use crate::context::Ctx;
use crate::sasl::{Exchange, Failure, Step};

/// Kafka's `sasl.server.max.receive.size`: the largest frame before authentication.
const MAX_UNAUTHENTICATED_FRAME: usize = 512 * 1024;

/// The SASL state of one connection.
#[derive(Debug, Default)]
pub(crate) struct Authenticator {
    /// After SaslHandshake: the mechanism, and the exchange once SaslAuthenticate started.
    exchange: Option<(SaslMechanism, Exchange)>,
    /// After a SaslHandshake v0: the tokens follow as bare size-prefixed frames, without
    /// request headers, until the exchange ends.
    raw_tokens: bool,
    /// Authenticated.
    session: Option<Session>,
}

/// An authenticated session.
#[derive(Debug)]
struct Session {
    user: String,
    mechanism: SaslMechanism,
    /// When it expires (KIP-368): with a configured lifetime, whatever the SaslAuthenticate
    /// version and after bare tokens too, as Kafka 4.4 expires it (tests/differential).
    expiry: Option<Instant>,
}

impl Authenticator {
    /// The largest request frame the connection takes now: Kafka's 512 KiB before
    /// authentication on a SASL listener, the configured maximum otherwise.
    pub(crate) fn max_frame_size(&self, shared: &Shared) -> usize {
        if shared.users.is_some() && self.session.is_none() {
            MAX_UNAUTHENTICATED_FRAME.min(shared.max_frame_size)
        } else {
            shared.max_frame_size
        }
    }

    /// The principal of the connection as Kafka's authorizer sees it: `User:<name>` once
    /// authenticated, `User:ANONYMOUS` before (and on a listener without SASL).
    pub(crate) fn principal(&self) -> String {
        match &self.session {
            Some(s) => format!("User:{}", s.user),
            None => "User:ANONYMOUS".to_owned(),
        }
    }

    /// Whether the next frame is a bare SASL token (after a SaslHandshake v0), not a request.
    pub(crate) fn expects_raw_token(&self) -> bool {
        self.raw_tokens
    }

    /// `Err` (why the connection closes) for a request of `api` that may not come now: on a
    /// SASL listener, anything but ApiVersions and the SASL requests before authentication,
    /// and anything but the SASL requests once the session expired (KIP-368).
    pub(crate) fn admit(&self, shared: &Shared, api: ApiKey) -> Result<(), String> {
        if shared.users.is_none() || matches!(api, ApiKey::SaslHandshake | ApiKey::SaslAuthenticate) {
            return Ok(());
        }
        match &self.session {
            None if api != ApiKey::ApiVersions => Err(format!("{api:?} before SASL authentication")),
            Some(Session { expiry: Some(expiry), .. }) if Instant::now() >= *expiry => {
                Err(format!("{api:?} after the SASL session expired"))
            }
            _ => Ok(()),
        }
    }

    /// SaslHandshake. Returns the response, and why the connection closes after it (if it
    /// does). After a successful v0 handshake the tokens follow unframed
    /// ([`Authenticator::raw_token`]).
    pub(crate) fn handshake(
        &mut self,
        ctx: &Ctx<'_>,
        r: &sasl_handshake::Request,
    ) -> (sasl_handshake::Response, Option<String>) {
        let answer = |error_code: ErrorCode, mechanisms: Vec<&str>| sasl_handshake::Response {
            error_code,
            mechanisms: mechanisms.into_iter().map(Into::into).collect(),
            ..Default::default()
        };
        let Some(users) = &ctx.shared.users else {
            return (answer(ErrorCode::ILLEGAL_SASL_STATE, Vec::new()), None);
        };
        // Re-authentication only where sessions expire (Kafka: `connections.max.reauth.ms` > 0),
        // whatever the version the client authenticated with; otherwise a SaslHandshake after
        // authentication is refused, the connection stays.
        if self.session.is_some() && ctx.shared.session_lifetime.is_none() {
            return (answer(ErrorCode::ILLEGAL_SASL_STATE, Vec::new()), None);
        }
        let enabled = users.mechanism_names();
        if let Some(code) = ctx.forced {
            return (answer(code, enabled), None);
        }
        if self.exchange.is_some() {
            // Kafka lists no mechanisms in this answer.
            let close = Some("a second SaslHandshake during the SASL exchange".to_string());
            return (answer(ErrorCode::ILLEGAL_SASL_STATE, Vec::new()), close);
        }
        let Some(mechanism) = users.mechanism(&r.mechanism) else {
            let close = Some(format!("SASL mechanism {:?} is not enabled", r.mechanism.to_string()));
            return (answer(ErrorCode::UNSUPPORTED_SASL_MECHANISM, enabled), close);
        };
        if let Some(Session { mechanism: previous, .. }) = &self.session {
            // Re-authentication must keep the mechanism.
            if *previous != mechanism {
                let close = Some(format!("re-authentication with {} after {}", mechanism.name(), previous.name()));
                return (answer(ErrorCode::UNSUPPORTED_SASL_MECHANISM, enabled), close);
            }
        }
        self.exchange = Some((mechanism, Exchange::start(mechanism)));
        // Version 0: the exchange continues with bare tokens (SaslAuthenticate came in v1).
        self.raw_tokens = !sasl_handshake::Request::SASL_AUTHENTICATE_VERSIONS.contains(ctx.version);
        (answer(ErrorCode::NONE, enabled), None)
    }

    /// SaslAuthenticate. Returns the response, and why the connection closes after it (if it
    /// does); `Err`: close without an answer, with the reason (a SaslAuthenticate before any
    /// SaslHandshake, as Kafka 4.4 does).
    pub(crate) fn authenticate(
        &mut self,
        ctx: &Ctx<'_>,
        r: &sasl_authenticate::Request,
    ) -> Result<(sasl_authenticate::Response, Option<String>), String> {
        let answer = |error_code: ErrorCode, message: Option<String>, auth_bytes: Vec<u8>, session_lifetime_ms: i64| {
            sasl_authenticate::Response {
                error_code,
                error_message: message.map(Into::into),
                auth_bytes: auth_bytes.into(),
                session_lifetime_ms,
                ..Default::default()
            }
        };
        // Kafka's text (`KafkaApis`), on a listener without SASL too.
        let after_authentication = || {
            let message = "SaslAuthenticate request received after successful authentication".to_string();
            Ok((answer(ErrorCode::ILLEGAL_SASL_STATE, Some(message), Vec::new(), 0), None))
        };
        if ctx.shared.users.is_none() {
            return after_authentication();
        }
        if let Some(code) = ctx.forced {
            let message = format!("injected failure: {code}");
            return Ok((answer(code, Some(message.clone()), Vec::new(), 0), Some(message)));
        }
        if self.exchange.is_none() {
            if self.session.is_some() {
                return after_authentication();
            }
            return Err("SaslAuthenticate without a SaslHandshake before it".into());
        }
        let lifetime_ok = sasl_authenticate::Response::SESSION_LIFETIME_MS_VERSIONS.contains(ctx.version);
        Ok(match self.step(ctx.shared, &r.auth_bytes, lifetime_ok) {
            // Kafka's answer carries an empty message, not a null one.
            Ok((reply, lifetime)) => (answer(ErrorCode::NONE, Some(String::new()), reply, lifetime), None),
            Err(failure) => {
                let reason = failure.reason().to_owned();
                (answer(ErrorCode::SASL_AUTHENTICATION_FAILED, Some(failure.message), Vec::new(), 0), Some(reason))
            }
        })
    }

    /// A bare SASL token after a SaslHandshake v0: `Ok` with the reply token (sent back as a
    /// bare size-prefixed frame), or `Err` with why the exchange failed (the connection
    /// closes: there is no error field to carry it).
    pub(crate) fn raw_token(&mut self, shared: &Shared, token: &[u8]) -> Result<Vec<u8>, String> {
        self.step(shared, token, false).map(|(reply, _)| reply).map_err(|f| f.reason().to_owned())
    }

    /// One step of the SASL exchange: `Ok((reply, session lifetime in ms))` to go on or finish
    /// (`session` set), or the failure.
    fn step(&mut self, shared: &Shared, token: &[u8], lifetime_ok: bool) -> Result<(Vec<u8>, i64), Failure> {
        let state = |message: &str| Failure { message: message.into(), detail: None };
        let users = shared.users.as_ref().ok_or_else(|| state("SASL on a listener without SASL"))?;
        let (mechanism, exchange) =
            self.exchange.as_mut().ok_or_else(|| state("a SASL token without a SaslHandshake before it"))?;
        let mechanism = *mechanism;
        let failed = |failure: Failure| {
            shared.counters.failed_authentications.fetch_add(1, Ordering::Relaxed);
            failure
        };
        let lookup = |user: &str, mechanism| shared.state().scram_credential(user, mechanism);
        match exchange.step(users, lookup, token).map_err(failed)? {
            Step::Continue(challenge) => Ok((challenge, 0)),
            Step::Done { user, reply } => {
                if self.session.as_ref().is_some_and(|s| s.user != user) {
                    return Err(failed(state("Re-authentication must keep the same principal")));
                }
                self.exchange = None;
                self.raw_tokens = false;
                let expiry = shared.session_lifetime.map(|l| Instant::now() + l);
                let announced = shared.session_lifetime.filter(|_| lifetime_ok);
                let lifetime_ms = announced.map_or(0, |l| i64::try_from(l.as_millis()).unwrap_or(i64::MAX).max(1));
                self.session = Some(Session { user, mechanism, expiry });
                shared.counters.authentications.fetch_add(1, Ordering::Relaxed);
                Ok((reply, lifetime_ms))
            }
        }
    }
}
