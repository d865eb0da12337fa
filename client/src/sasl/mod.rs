//! SASL authentication: PLAIN (feature `sasl-plain`) and SCRAM-SHA-256/512 (feature
//! `sasl-scram`), carried by SaslHandshake v1 and SaslAuthenticate.
//!
//! Set [`ConnectionConfig::sasl`](crate::ConnectionConfig::sasl); every connection then
//! authenticates right after version negotiation, and again before the session lifetime the
//! broker announced (KIP-368) runs out.

use std::sync::Mutex;

use kafka_wire::ErrorCode;
use tokio::time::Instant;

use crate::conn::lock;
use crate::error::{Error, Result};

#[cfg(feature = "sasl-scram")]
pub mod scram;

/// A SASL mechanism this build supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SaslMechanism {
    /// `PLAIN` (RFC 4616): the password travels as is; use it over TLS.
    #[cfg(feature = "sasl-plain")]
    Plain,
    /// `SCRAM-SHA-256` (RFC 5802, RFC 7677).
    #[cfg(feature = "sasl-scram")]
    ScramSha256,
    /// `SCRAM-SHA-512`.
    #[cfg(feature = "sasl-scram")]
    ScramSha512,
}

impl SaslMechanism {
    /// The mechanism's name in SaslHandshake.
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "sasl-plain")]
            SaslMechanism::Plain => "PLAIN",
            #[cfg(feature = "sasl-scram")]
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            #[cfg(feature = "sasl-scram")]
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// SASL credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslConfig {
    pub mechanism: SaslMechanism,
    pub username: String,
    pub password: String,
}

impl SaslConfig {
    /// Credentials for `mechanism`.
    pub fn new(mechanism: SaslMechanism, username: impl Into<String>, password: impl Into<String>) -> Self {
        SaslConfig { mechanism, username: username.into(), password: password.into() }
    }
}

impl std::fmt::Debug for SaslConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslConfig")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// A mechanism's side of the exchange.
pub(crate) enum Mechanism {
    #[cfg(feature = "sasl-plain")]
    Plain,
    #[cfg(feature = "sasl-scram")]
    Scram(scram::ScramClient),
}

impl Mechanism {
    /// The mechanism and its first message.
    pub(crate) fn start(config: &SaslConfig) -> Result<(Mechanism, Vec<u8>)> {
        match config.mechanism {
            #[cfg(feature = "sasl-plain")]
            SaslMechanism::Plain => {
                // authzid NUL authcid NUL passwd, with an empty authzid.
                let message = format!("\0{}\0{}", config.username, config.password).into_bytes();
                Ok((Mechanism::Plain, message))
            }
            #[cfg(feature = "sasl-scram")]
            SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
                let hash = if config.mechanism == SaslMechanism::ScramSha256 {
                    scram::ScramHash::Sha256
                } else {
                    scram::ScramHash::Sha512
                };
                let client = scram::ScramClient::new(hash, &config.username, &config.password)?;
                let first = client.client_first().into_bytes();
                Ok((Mechanism::Scram(client), first))
            }
        }
    }

    /// Takes the broker's answer to the last message: the next message, or `None` when the
    /// exchange is complete.
    pub(crate) fn step(&mut self, challenge: &[u8]) -> Result<Option<Vec<u8>>> {
        match self {
            // The broker's answer to PLAIN carries nothing.
            #[cfg(feature = "sasl-plain")]
            Mechanism::Plain => {
                let _ = challenge;
                Ok(None)
            }
            #[cfg(feature = "sasl-scram")]
            Mechanism::Scram(client) => {
                let challenge = std::str::from_utf8(challenge).map_err(|_| auth_error("SCRAM message is not UTF-8"))?;
                if client.awaits_server_first() {
                    Ok(Some(client.client_final(challenge)?.into_bytes()))
                } else {
                    client.verify_server_final(challenge)?;
                    Ok(None)
                }
            }
        }
    }
}

pub(crate) fn auth_error(message: impl Into<String>) -> Error {
    Error::Authentication { code: None, message: message.into() }
}

pub(crate) fn check_handshake(config: &SaslConfig, code: ErrorCode, enabled: &[kafka_wire::ByteString]) -> Result<()> {
    match code {
        ErrorCode::NONE => Ok(()),
        ErrorCode::UNSUPPORTED_SASL_MECHANISM => Err(Error::SaslMechanism {
            mechanism: config.mechanism.name().into(),
            enabled: enabled.iter().map(|m| m.to_string()).collect(),
        }),
        code => Err(Error::Authentication { code: Some(code), message: format!("SaslHandshake failed: {code}") }),
    }
}

pub(crate) fn check_authenticate(code: ErrorCode, message: Option<&str>) -> Result<()> {
    if code.is_err() {
        let message = message.map_or_else(|| code.to_string(), |m| format!("{code}: {m}"));
        return Err(Error::Authentication { code: Some(code), message });
    }
    Ok(())
}

/// Every failure during the exchange is an authentication failure for the caller; the cause
/// stays in the message.
pub(crate) fn as_auth_error(e: Error) -> Error {
    match e {
        e @ (Error::Authentication { .. } | Error::SaslMechanism { .. }) => e,
        other => auth_error(format!("the SASL exchange broke off: {other}")),
    }
}

/// The authentication state of one session.
#[derive(Debug, Default)]
pub(crate) struct SessionAuth {
    /// Requests hold it shared; re-authentication holds it exclusively.
    pub(crate) gate: tokio::sync::RwLock<()>,
    reauth_at: Mutex<Option<Instant>>,
}

impl SessionAuth {
    /// Records a successful exchange: re-authenticate after `after` (from the handshake's
    /// [`Authenticated::reauthenticate_after`](crate::handshake::Authenticated::reauthenticate_after)),
    /// or never.
    pub(crate) fn authenticated(&self, after: Option<std::time::Duration>) {
        *lock(&self.reauth_at) = after.map(|after| Instant::now() + after);
    }

    pub(crate) fn reauth_due(&self) -> bool {
        lock(&self.reauth_at).is_some_and(|at| Instant::now() >= at)
    }
}
