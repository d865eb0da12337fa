//! One request frame of a connection: the header read (an unknown API or a header that does
//! not decode closes the connection, as Kafka does), the authentication gate, the ApiVersions
//! downgrade, the body decoded at the header's version, injected faults, the handler, and the
//! response encoded at the request's version.

use std::sync::Arc;

use bytes::Bytes;
use kafka_wire::{decode_request_header, ApiKey, ApiRequest, Chunks, ErrorCode, RequestFrame, VersionFreeResponse};

use crate::authenticator::Authenticator;
use crate::cluster::{lock, Shared};
use crate::context::{Ctx, Handled};
use crate::handlers;

/// What the connection does after a request.
pub(crate) enum Next {
    /// Write this frame (record sets of fetch responses are not copied into it).
    Write(Chunks),
    /// Nothing (Produce with acks=0).
    Nothing,
    /// Write this (if any), then close the connection, for the reason given (logged).
    Close(Option<Chunks>, String),
}

/// Handles one frame (without its size prefix): a request, or a bare SASL token after a
/// SaslHandshake v0.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    broker: i32,
    host: &str,
    auth: &mut Authenticator,
    frame: Bytes,
) -> Next {
    if auth.expects_raw_token() {
        return raw_token(shared, auth, &frame);
    }
    let mut body = frame;
    // An unknown API key or a header that does not decode: Kafka closes the connection.
    let (header, header_version) = match decode_request_header(&mut body) {
        Ok(h) => h,
        Err(e) => return Next::Close(None, format!("the request header does not decode: {e}")),
    };
    let Some(api) = ApiKey::from_code(header.request_api_key) else {
        return Next::Close(None, format!("unknown API key {}", header.request_api_key));
    };
    let version = header.request_api_version;
    let correlation_id = header.correlation_id;
    shared.count_request(api);

    if let Err(reason) = auth.admit(shared, api) {
        return Next::Close(None, reason);
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
    // connection, as Kafka does. Bytes after the body are ignored, as Kafka ignores them
    // (`RequestFrame::decode_after_header`).
    let frame = match RequestFrame::<ApiRequest>::decode_after_header(header, header_version, body) {
        Ok(f) => f,
        Err(e) => return Next::Close(None, format!("{api:?} v{version} request does not decode: {e}")),
    };

    let forced = lock(&shared.faults).take_failure(api);
    let delay = lock(&shared.faults).delay(api);
    let client_id = frame.header.client_id.as_deref().unwrap_or("");
    let principal = auth.principal();
    let ctx = Ctx { shared, broker, client_id, principal: &principal, host, forced, version };

    let mut close_after = None;
    let handled = match &frame.request {
        ApiRequest::SaslHandshake(r) => {
            let (response, close) = auth.handshake(&ctx, r);
            close_after = close;
            response.into()
        }
        ApiRequest::SaslAuthenticate(r) => match auth.authenticate(&ctx, r) {
            Ok((response, close)) => {
                close_after = close;
                response.into()
            }
            Err(reason) => return Next::Close(None, reason),
        },
        request => handlers::authorized_dispatch(&ctx, request).await,
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
        Ok(bytes) => match close_after {
            Some(why) => {
                Next::Close(Some(bytes), format!("{api:?} v{version} failed, SASL authentication ends here: {why}"))
            }
            None => Next::Write(bytes),
        },
        // A handler built a response its version cannot carry: a bug of the mock.
        Err(e) => Next::Close(None, format!("encoding the {api:?} v{version} response: {e}")),
    }
}

/// A bare SASL token after a SaslHandshake v0: the reply goes back as a bare size-prefixed
/// frame; a failure closes the connection.
fn raw_token(shared: &Shared, auth: &mut Authenticator, token: &[u8]) -> Next {
    match auth.raw_token(shared, token) {
        Ok(reply) => {
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
