//! The handler contract: what a request handler knows about its connection ([`Ctx`]) and what
//! it does with the request ([`Handled`]), with the helpers handlers share. The connection
//! (`request`) builds the context and acts on the outcome, `handlers` fill it in: both import
//! this module, neither imports the other.

use std::sync::Arc;
use std::time::Duration;

use kafka_wire::{ApiResponse, ErrorCode};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::cluster::Shared;

/// What a handler does with a request (one per request, moved once: not worth a box).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Handled {
    /// Answer with this response, at the request's version.
    Reply(ApiResponse),
    /// No answer (Produce with acks=0).
    NoReply,
    /// This API is not served: answer with its error reply.
    Unsupported,
}

impl<R: Into<ApiResponse>> From<R> for Handled {
    fn from(r: R) -> Self {
        Handled::Reply(r.into())
    }
}

/// What a request handler knows about the connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Arc<Shared>,
    /// The broker this connection reached.
    pub(crate) broker: i32,
    /// The request header's client id.
    pub(crate) client_id: &'a str,
    /// The authenticated principal, `User:<name>` (`User:ANONYMOUS` without SASL), as
    /// Kafka's authorizer sees it.
    pub(crate) principal: &'a str,
    /// The client's IP address, as Kafka's authorizer matches ACL hosts.
    pub(crate) host: &'a str,
    /// The request's version: the response is written at it, and the few rules that depend
    /// on it are read off the generated `*_VERSIONS` constants.
    pub(crate) version: i16,
    /// An error to answer with instead of handling the request (fault injection).
    pub(crate) forced: Option<ErrorCode>,
}

/// Waits until `deadline` or until the cluster reports a change, whichever comes first.
pub(crate) async fn wait_for_change(changed: &mut watch::Receiver<u64>, deadline: Instant) {
    let _ = tokio::time::timeout_at(deadline, changed.changed()).await;
}

/// How long a `Duration` of milliseconds from a request is, clamped to sane values.
pub(crate) fn millis(ms: i32) -> Duration {
    Duration::from_millis(ms.clamp(0, 300_000) as u64)
}
