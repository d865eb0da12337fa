//! One connection: frames in, requests decoded with the generated server-side codec, handled
//! one at a time (Kafka answers a connection's requests in order), responses out. SASL state
//! lives here.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_wire::{
    decode_request_header, sasl_authenticate, sasl_handshake, ApiKey, ApiRequest, ApiResponse, Chunks, ErrorCode,
    RequestFrame, VersionFreeResponse,
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
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Arc<Shared>,
    /// The broker this connection reached.
    pub(crate) broker: i32,
    /// The request header's client id.
    pub(crate) client_id: &'a str,
    /// The request's version: the response is written at it, and the few rules that depend
    /// on it are read off the generated `*_VERSIONS` constants.
    pub(crate) version: i16,
    /// An error to answer with instead of handling the request (fault injection).
    pub(crate) forced: Option<ErrorCode>,
}

/// The SASL state of a connection.
#[derive(Debug, Default)]
struct Auth {
    /// After SaslHandshake: the mechanism, and the exchange once SaslAuthenticate started.
    exchange: Option<(SaslMechanism, Exchange)>,
    /// After a SaslHandshake v0: the tokens follow as bare size-prefixed frames, without
    /// request headers, until the exchange ends.
    raw_tokens: bool,
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
    if auth.raw_tokens {
        return raw_token(shared, auth, &frame);
    }
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

    // ApiVersions of a version this build does not know: the v0 reply with UNSUPPORTED_VERSION.
    if api == ApiKey::ApiVersions && !api.versions().contains(version) {
        let reply = handlers::api_versions::response(ErrorCode::UNSUPPORTED_VERSION);
        return match reply.serialize_chunks(0, correlation_id) {
            Ok(bytes) => Next::Write(bytes),
            Err(e) => Next::Close(None, format!("encoding the ApiVersions v0 reply: {e}")),
        };
    }

    // A version this build of the codec cannot decode, or a malformed body: close (only) this
    // connection, as Kafka does.
    let frame = match RequestFrame::<ApiRequest>::decode(frame) {
        Ok(f) => f,
        Err(e) => return Next::Close(None, format!("{api:?} v{version} request does not decode: {e}")),
    };

    let forced = crate::cluster::lock(&shared.faults).take_failure(api);
    let delay = crate::cluster::lock(&shared.faults).delay(api);
    let client_id = frame.header.client_id.as_deref().unwrap_or("");
    let ctx = Ctx { shared, broker, client_id, forced, version };

    let mut close_after = false;
    let handled = match &frame.request {
        ApiRequest::SaslHandshake(r) => {
            let (response, close) = sasl_handshake(&ctx, auth, r);
            close_after = close;
            response.into()
        }
        ApiRequest::SaslAuthenticate(r) => {
            let (response, close) = sasl_authenticate(&ctx, auth, r);
            close_after = close;
            response.into()
        }
        request => handlers::dispatch(&ctx, request).await,
    };
    let response = match handled {
        Handled::Reply(r) => r,
        Handled::NoReply => return Next::Nothing,
        Handled::Unsupported => frame.request.error_response(version, forced.unwrap_or(ErrorCode::UNSUPPORTED_VERSION)),
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    match frame.respond_chunks(&response) {
        Ok(bytes) if close_after => Next::Close(Some(bytes), format!("{api:?} failed: SASL authentication ends here")),
        Ok(bytes) => Next::Write(bytes),
        // A handler built a response its version cannot carry: a bug of the mock.
        Err(e) => Next::Close(None, format!("encoding the {api:?} v{version} response: {e}")),
    }
}

/// SaslHandshake. Returns the response and whether to close the connection after it. After
/// a successful v0 handshake the tokens follow unframed ([`raw_token`]).
fn sasl_handshake(ctx: &Ctx<'_>, auth: &mut Auth, r: &sasl_handshake::Request) -> (sasl_handshake::Response, bool) {
    let answer = |error_code: ErrorCode, mechanisms: Vec<&str>| sasl_handshake::Response {
        error_code,
        mechanisms: mechanisms.into_iter().map(Into::into).collect(),
        ..Default::default()
    };
    let Some(users) = &ctx.shared.users else {
        return (answer(ErrorCode::ILLEGAL_SASL_STATE, Vec::new()), false);
    };
    let enabled = users.mechanism_names();
    if let Some(code) = ctx.forced {
        return (answer(code, enabled), false);
    }
    if auth.exchange.is_some() {
        return (answer(ErrorCode::ILLEGAL_SASL_STATE, enabled), true);
    }
    let Some(mechanism) = users.mechanism(&r.mechanism) else {
        return (answer(ErrorCode::UNSUPPORTED_SASL_MECHANISM, enabled), true);
    };
    if let Some((_, previous, _)) = &auth.session {
        // Re-authentication must keep the mechanism.
        if *previous != mechanism {
            return (answer(ErrorCode::UNSUPPORTED_SASL_MECHANISM, enabled), true);
        }
    }
    auth.exchange = Some((mechanism, Exchange::start(mechanism)));
    // Version 0: the exchange continues with bare tokens (SaslAuthenticate came in v1).
    auth.raw_tokens = !sasl_handshake::Request::SASL_AUTHENTICATE_VERSIONS.contains(ctx.version);
    (answer(ErrorCode::NONE, enabled), false)
}

/// One step of the SASL exchange: `Ok(reply)` to go on or finish (`session` set), or a
/// message for the failure.
fn sasl_step(shared: &Shared, auth: &mut Auth, token: &[u8], lifetime_ok: bool) -> Result<(Vec<u8>, i64), String> {
    let users = shared.users.as_ref().ok_or("SASL on a listener without SASL")?;
    let (mechanism, exchange) = auth.exchange.as_mut().ok_or("a SASL token without a SaslHandshake before it")?;
    let mechanism = *mechanism;
    let failed = |message: String| {
        shared.counters.failed_authentications.fetch_add(1, Ordering::Relaxed);
        message
    };
    match exchange.step(users, token).map_err(failed)? {
        Step::Continue(challenge) => Ok((challenge, 0)),
        Step::Done { user, reply } => {
            if auth.session.as_ref().is_some_and(|(previous, _, _)| *previous != user) {
                return Err(failed("Re-authentication must keep the same principal".into()));
            }
            auth.exchange = None;
            auth.raw_tokens = false;
            let lifetime = shared.session_lifetime.filter(|_| lifetime_ok);
            let expiry = lifetime.map(|l| Instant::now() + l);
            let lifetime_ms = lifetime.map_or(0, |l| i64::try_from(l.as_millis()).unwrap_or(i64::MAX).max(1));
            auth.session = Some((user, mechanism, expiry));
            shared.counters.authentications.fetch_add(1, Ordering::Relaxed);
            Ok((reply, lifetime_ms))
        }
    }
}

/// A bare SASL token after a SaslHandshake v0: the reply goes back as a bare size-prefixed
/// frame; a failure closes the connection (there is no error field to carry it).
fn raw_token(shared: &Shared, auth: &mut Auth, token: &[u8]) -> Next {
    match sasl_step(shared, auth, token, false) {
        Ok((reply, _)) => {
            let mut frame = Vec::with_capacity(4 + reply.len());
            frame.extend_from_slice(&(reply.len() as i32).to_be_bytes());
            frame.extend_from_slice(&reply);
            Next::Write(Chunks::from(Bytes::from(frame)))
        }
        Err(message) => {
            Next::Close(None, format!("SASL authentication (bare tokens after SaslHandshake v0) failed: {message}"))
        }
    }
}

/// SaslAuthenticate. Returns the response and whether to close the connection after it.
fn sasl_authenticate(
    ctx: &Ctx<'_>,
    auth: &mut Auth,
    r: &sasl_authenticate::Request,
) -> (sasl_authenticate::Response, bool) {
    let answer = |error_code: ErrorCode, message: Option<String>, auth_bytes: Vec<u8>, session_lifetime_ms: i64| {
        sasl_authenticate::Response {
            error_code,
            error_message: message.map(Into::into),
            auth_bytes: auth_bytes.into(),
            session_lifetime_ms,
            ..Default::default()
        }
    };
    if ctx.shared.users.is_none() {
        let message = "SaslAuthenticate request received on a listener without SASL".to_string();
        return (answer(ErrorCode::ILLEGAL_SASL_STATE, Some(message), Vec::new(), 0), false);
    }
    if let Some(code) = ctx.forced {
        return (answer(code, Some(format!("injected failure: {code}")), Vec::new(), 0), true);
    }
    if auth.exchange.is_none() {
        let message = "SaslAuthenticate without a SaslHandshake before it".to_string();
        return (answer(ErrorCode::ILLEGAL_SASL_STATE, Some(message), Vec::new(), 0), true);
    }
    let lifetime_ok = sasl_authenticate::Response::SESSION_LIFETIME_MS_VERSIONS.contains(ctx.version);
    match sasl_step(ctx.shared, auth, &r.auth_bytes, lifetime_ok) {
        Ok((reply, lifetime)) => (answer(ErrorCode::NONE, None, reply, lifetime), false),
        Err(message) => (answer(ErrorCode::SASL_AUTHENTICATION_FAILED, Some(message), Vec::new(), 0), true),
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
