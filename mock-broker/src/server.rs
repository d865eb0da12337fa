//! One connection: frames in, requests decoded with the generated server-side codec, handled
//! one at a time (Kafka answers a connection's requests in order), responses out. SASL state
//! lives here.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_wire::{
    api_versions, decode_request_header, sasl_authenticate, sasl_handshake, AnyRequest, AnyResponse, ApiKey, Chunks,
    ErrorCode, RequestFrame, Response,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::cluster::{OpenGuard, Shared};
use crate::config::SaslMechanism;
use crate::handlers;
use crate::sasl::{Exchange, Step};

/// Kafka's `sasl.server.max.receive.size`: the largest frame before authentication.
const MAX_UNAUTHENTICATED_FRAME: usize = 512 * 1024;

/// What a handler does with a request (one per request, moved once: not worth a box).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Handled {
    /// Answer with this response.
    Reply(AnyResponse),
    /// No answer (Produce with acks=0).
    NoReply,
    /// This version is not served: answer with the API's error reply.
    Unsupported,
}

impl From<AnyResponse> for Handled {
    fn from(r: AnyResponse) -> Self {
        Handled::Reply(r)
    }
}

impl From<Option<AnyResponse>> for Handled {
    fn from(r: Option<AnyResponse>) -> Self {
        r.map_or(Handled::Unsupported, Handled::Reply)
    }
}

/// What a request handler knows about the connection.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Arc<Shared>,
    /// The broker this connection reached.
    pub(crate) broker: i32,
    /// The request header's client id.
    pub(crate) client_id: &'a str,
    /// An error to answer with instead of handling the request (fault injection).
    pub(crate) forced: Option<ErrorCode>,
}

/// The SASL state of a connection.
#[derive(Debug, Default)]
struct Auth {
    /// After SaslHandshake: the mechanism, and the exchange once SaslAuthenticate started.
    exchange: Option<(SaslMechanism, Exchange)>,
    /// Authenticated: user, mechanism, and when the session expires.
    session: Option<(String, SaslMechanism, Option<Instant>)>,
}

/// What to do after a request.
enum Next {
    /// Write this frame (record sets of fetch responses are not copied into it).
    Write(Chunks),
    Nothing,
    /// Write this (if any), then close the connection, for the reason given (logged).
    Close(Option<Chunks>, String),
}

/// Logs why the broker closes a connection (on stderr: the mock has no logger of its own, and a
/// client that sees its connection drop needs to know why).
fn log_close(broker: i32, peer: SocketAddr, reason: &str) {
    eprintln!("kafka-wire-mock: broker {broker} closes the connection from {peer}: {reason}");
}

pub(crate) async fn connection(
    guard: OpenGuard,
    broker: i32,
    tcp: TcpStream,
    peer: SocketAddr,
    mut kill: watch::Receiver<u64>,
) {
    let shared = guard.shared().clone();
    #[cfg(feature = "tls")]
    if let Some(acceptor) = shared.tls.clone() {
        let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.0.accept(tcp));
        let stream = tokio::select! {
            _ = kill.changed() => return log_close(broker, peer, "the broker stopped"),
            s = handshake => match s {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return log_close(broker, peer, &format!("TLS handshake failed: {e}")),
                Err(_) => return log_close(broker, peer, "no TLS handshake within 10 s"),
            },
        };
        serve(&shared, broker, peer, stream, kill).await;
        return;
    }
    serve(&shared, broker, peer, tcp, kill).await;
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Arc<Shared>,
    broker: i32,
    peer: SocketAddr,
    mut stream: S,
    mut kill: watch::Receiver<u64>,
) {
    let mut auth = Auth::default();
    loop {
        let sasl_pending = shared.users.is_some() && auth.session.is_none();
        let limit =
            if sasl_pending { MAX_UNAUTHENTICATED_FRAME.min(shared.max_frame_size) } else { shared.max_frame_size };
        let frame = tokio::select! {
            _ = kill.changed() => return log_close(broker, peer, "the broker stopped"),
            f = read_frame(&mut stream, limit) => match f {
                Ok(Some(f)) => f,
                // The client closed it.
                Ok(None) => return,
                Err(e) => return log_close(broker, peer, &format!("reading a request frame: {e}")),
            },
        };
        let next = tokio::select! {
            _ = kill.changed() => return log_close(broker, peer, "the broker stopped"),
            next = handle(shared, broker, &mut auth, frame) => next,
        };
        let (bytes, close) = match next {
            Next::Write(b) => (Some(b), None),
            Next::Nothing => (None, None),
            Next::Close(b, reason) => (b, Some(reason)),
        };
        if let Some(mut bytes) = bytes {
            if let Err(e) = async {
                stream.write_all_buf(&mut bytes).await?;
                stream.flush().await
            }
            .await
            {
                return log_close(broker, peer, &format!("writing a response: {e}"));
            }
        }
        if let Some(reason) = close {
            log_close(broker, peer, &reason);
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// Reads one size-prefixed frame; `None` at a clean end of stream. A size that is negative
/// or above `max` is an error (the connection closes). Memory grows with the bytes that
/// actually arrive, not with the size the peer claims.
async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, max: usize) -> std::io::Result<Option<Bytes>> {
    let mut size = [0u8; 4];
    match r.read_exact(&mut size).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let size = i32::from_be_bytes(size);
    let invalid = || std::io::Error::new(std::io::ErrorKind::InvalidData, format!("invalid frame size {size}"));
    let size = usize::try_from(size).map_err(|_| invalid())?;
    if size > max {
        return Err(invalid());
    }
    let mut buf = Vec::with_capacity(size.min(64 * 1024));
    (&mut *r).take(size as u64).read_to_end(&mut buf).await?;
    if buf.len() != size {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Some(Bytes::from(buf)))
}

async fn handle(shared: &Arc<Shared>, broker: i32, auth: &mut Auth, frame: Bytes) -> Next {
    let mut peek = frame.clone();
    // An unknown API key or a header that does not decode: Kafka closes the connection.
    let (header, _) = match decode_request_header(&mut peek) {
        Ok(h) => h,
        Err(e) => return Next::Close(None, format!("the request header does not decode: {e}")),
    };
    let Some(api) = ApiKey::from_code(header.request_api_key) else {
        return Next::Close(None, format!("unknown API key {}", header.request_api_key));
    };
    let version = header.request_api_version;
    let correlation_id = header.correlation_id;
    shared.count_request(api);

    let sasl_api = matches!(api, ApiKey::SaslHandshake | ApiKey::SaslAuthenticate);
    if shared.users.is_some() {
        match &auth.session {
            // Before authentication only these are allowed (Kafka closes otherwise).
            None if !sasl_api && api != ApiKey::ApiVersions => {
                return Next::Close(None, format!("{api:?} before SASL authentication"));
            }
            // An expired session must re-authenticate first (KIP-368).
            Some((_, _, Some(expiry))) if !sasl_api && Instant::now() >= *expiry => {
                return Next::Close(None, format!("{api:?} after the SASL session expired"));
            }
            _ => {}
        }
    }

    // ApiVersions of a version we do not know: the v0 reply with UNSUPPORTED_VERSION.
    if api == ApiKey::ApiVersions && !handlers::api_versions::served(version) {
        let v0 = api_versions::v0::Response {
            error_code: ErrorCode::UNSUPPORTED_VERSION.0,
            api_keys: handlers::api_versions::ranges()
                .map(|(api_key, min_version, max_version)| api_versions::v0::ApiVersion {
                    api_key,
                    min_version,
                    max_version,
                })
                .collect(),
        };
        return match v0.serialize_chunks(correlation_id) {
            Ok(bytes) => Next::Write(bytes),
            Err(e) => Next::Close(None, format!("encoding the ApiVersions v0 reply: {e}")),
        };
    }

    // A version this build of the codec cannot decode, or a malformed body: close (only) this
    // connection, as Kafka does.
    let frame = match RequestFrame::decode(frame) {
        Ok(f) => f,
        Err(e) => return Next::Close(None, format!("{api:?} v{version} request does not decode: {e}")),
    };

    let forced = crate::cluster::lock(&shared.faults).take_failure(api);
    let delay = crate::cluster::lock(&shared.faults).delay(api);
    let client_id = frame.header.client_id.as_deref().unwrap_or("");
    let ctx = Ctx { shared, broker, client_id, forced };

    let mut close_after = false;
    let handled = match &frame.request {
        AnyRequest::SaslHandshake(r) => {
            let (response, close) = sasl_handshake(shared, auth, r, forced);
            close_after = close;
            response.into()
        }
        AnyRequest::SaslAuthenticate(r) => {
            let (response, close) = sasl_authenticate(shared, auth, r, forced);
            close_after = close;
            response.into()
        }
        request => handlers::dispatch(&ctx, request).await,
    };
    let response = match handled {
        Handled::Reply(r) => r,
        Handled::NoReply => return Next::Nothing,
        Handled::Unsupported => frame.request.error_response(forced.unwrap_or(ErrorCode::UNSUPPORTED_VERSION)),
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    match response.serialize_chunks(frame.header.correlation_id) {
        Ok(bytes) if close_after => Next::Close(Some(bytes), format!("{api:?} failed: SASL authentication ends here")),
        Ok(bytes) => Next::Write(bytes),
        Err(e) => Next::Close(None, format!("encoding the {api:?} v{version} response: {e}")),
    }
}

/// SaslHandshake (v1 served; v0's unframed exchange is not). Returns the response (`None`:
/// the error reply) and whether to close the connection after it.
fn sasl_handshake(
    shared: &Shared,
    auth: &mut Auth,
    request: &sasl_handshake::AnyRequest,
    forced: Option<ErrorCode>,
) -> (Option<AnyResponse>, bool) {
    let sasl_handshake::AnyRequest::V1(r) = request else { return (None, false) };
    let answer = |code: ErrorCode, mechanisms: Vec<&str>| {
        AnyResponse::from(sasl_handshake::v1::Response {
            error_code: code.0,
            mechanisms: mechanisms.into_iter().map(Into::into).collect(),
        })
    };
    let Some(users) = &shared.users else {
        return (Some(answer(ErrorCode::ILLEGAL_SASL_STATE, Vec::new())), false);
    };
    let enabled = users.mechanism_names();
    if let Some(code) = forced {
        return (Some(answer(code, enabled)), false);
    }
    if auth.exchange.is_some() {
        return (Some(answer(ErrorCode::ILLEGAL_SASL_STATE, enabled)), true);
    }
    let Some(mechanism) = users.mechanism(&r.mechanism) else {
        return (Some(answer(ErrorCode::UNSUPPORTED_SASL_MECHANISM, enabled)), true);
    };
    if let Some((_, previous, _)) = &auth.session {
        // Re-authentication must keep the mechanism.
        if *previous != mechanism {
            return (Some(answer(ErrorCode::UNSUPPORTED_SASL_MECHANISM, enabled)), true);
        }
    }
    auth.exchange = Some((mechanism, Exchange::start(mechanism)));
    (Some(answer(ErrorCode::NONE, enabled)), false)
}

/// SaslAuthenticate (v0-v2).
fn sasl_authenticate(
    shared: &Shared,
    auth: &mut Auth,
    request: &sasl_authenticate::AnyRequest,
    forced: Option<ErrorCode>,
) -> (Option<AnyResponse>, bool) {
    let (version, bytes) = match request {
        sasl_authenticate::AnyRequest::V0(r) => (0, &r.auth_bytes),
        sasl_authenticate::AnyRequest::V1(r) => (1, &r.auth_bytes),
        sasl_authenticate::AnyRequest::V2(r) => (2, &r.auth_bytes),
        _ => return (None, false),
    };
    let answer = |code: ErrorCode, message: Option<String>, bytes: Vec<u8>, lifetime: i64| {
        let (error_code, error_message, auth_bytes) = (code.0, message.map(Into::into), Bytes::from(bytes));
        Some(match version {
            0 => AnyResponse::from(sasl_authenticate::v0::Response {
                error_code,
                error_message,
                auth_bytes,
                ..Default::default()
            }),
            1 => sasl_authenticate::v1::Response {
                error_code,
                error_message,
                auth_bytes,
                session_lifetime_ms: lifetime,
                ..Default::default()
            }
            .into(),
            _ => sasl_authenticate::v2::Response {
                error_code,
                error_message,
                auth_bytes,
                session_lifetime_ms: lifetime,
                ..Default::default()
            }
            .into(),
        })
    };
    let Some(users) = &shared.users else {
        let message = "SaslAuthenticate request received on a listener without SASL".to_string();
        return (answer(ErrorCode::ILLEGAL_SASL_STATE, Some(message), Vec::new(), 0), false);
    };
    if let Some(code) = forced {
        return (answer(code, Some(format!("injected failure: {code}")), Vec::new(), 0), true);
    }
    let Some((mechanism, exchange)) = auth.exchange.as_mut() else {
        let message = "SaslAuthenticate without a SaslHandshake before it".to_string();
        return (answer(ErrorCode::ILLEGAL_SASL_STATE, Some(message), Vec::new(), 0), true);
    };
    let mechanism = *mechanism;
    let failed = |message: String| {
        shared.counters.failed_authentications.fetch_add(1, Ordering::Relaxed);
        (answer(ErrorCode::SASL_AUTHENTICATION_FAILED, Some(message), Vec::new(), 0), true)
    };
    match exchange.step(users, bytes) {
        Err(message) => failed(message),
        Ok(Step::Continue(challenge)) => (answer(ErrorCode::NONE, None, challenge, 0), false),
        Ok(Step::Done { user, reply }) => {
            if let Some((previous, _, _)) = &auth.session {
                if *previous != user {
                    return failed("Re-authentication must keep the same principal".into());
                }
            }
            auth.exchange = None;
            let lifetime = shared.session_lifetime.filter(|_| version >= 1);
            let expiry = lifetime.map(|l| Instant::now() + l);
            let lifetime_ms = lifetime.map_or(0, |l| i64::try_from(l.as_millis()).unwrap_or(i64::MAX).max(1));
            auth.session = Some((user, mechanism, expiry));
            shared.counters.authentications.fetch_add(1, Ordering::Relaxed);
            (answer(ErrorCode::NONE, None, reply, lifetime_ms), false)
        }
    }
}

/// Waits until `deadline` or until the cluster reports a change, whichever comes first.
pub(crate) async fn wait_for_change(changed: &mut watch::Receiver<u64>, deadline: Instant) {
    let _ = tokio::time::timeout_at(deadline, changed.changed()).await;
}

/// How long a `Duration` of milliseconds from a request is, clamped to sane values.
pub(crate) fn millis(ms: i32) -> Duration {
    Duration::from_millis(ms.clamp(0, 300_000) as u64)
}
