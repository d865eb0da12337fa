//! The sans-io connection core: framing, correlation ids and the in-flight table of one
//! connection, with no socket inside.
//!
//! The owner of the socket hands every request to [`Core::submit`], writes the frame it gets
//! back, and feeds whatever bytes it reads to [`Core::receive`], in any split. The core cuts
//! them into frames, matches each frame to the request it answers, decodes it with the
//! deserializer that request handed out and delivers the typed response to that request's
//! [`Reply`].
//!
//! ```
//! use kafka_wire::{api_versions, VersionedResponse};
//! use kafka_wire_client::core::{Core, CoreConfig};
//! use std::sync::mpsc;
//!
//! let mut core = Core::new(CoreConfig::default());
//! let (tx, rx) = mpsc::channel();
//! let request = api_versions::v3::Request::default();
//! let frame = core.submit(&request, move |r| tx.send(r).unwrap()).unwrap();
//! // ... write `frame` (a `bytes::Buf` of chunks: record sets are not copied) to the broker;
//! // its answer comes back, a byte at a time if need be:
//! let answer = api_versions::v3::Response { throttle_time_ms: 7, ..Default::default() };
//! for byte in answer.serialize(0).unwrap().iter() {
//!     core.receive(&[*byte]).unwrap();
//! }
//! assert_eq!(rx.recv().unwrap().unwrap().throttle_time_ms, 7);
//! ```
//!
//! A frame above the configured maximum, a response that does not answer the oldest request
//! in flight, or a frame that does not decode breaks the connection: every request in flight
//! fails with that error, and later submits fail with it too.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};
use kafka_wire::{
    AnyRequest, AnyResponse, ApiKey, ApiRequest, ApiResponse, Chunks, DecodeError, DecodeErrorKind, ResponseHeader,
    VersionFreeRequest, VersionFreeResponse, VersionedRequest, VersionedResponse,
};

use crate::error::Error;

/// Limits of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreConfig {
    /// The most requests awaiting a response at once (requests that expect no response do not
    /// count).
    pub max_in_flight: usize,
    /// The largest response frame accepted (the size after the 4-byte prefix).
    pub max_frame_size: usize,
    /// The client id written in every request header.
    pub client_id: Option<String>,
    /// Whether a response body followed by extra bytes inside its frame is malformed. By
    /// default the extra bytes are ignored, as Kafka's Java client and librdkafka do (the frame
    /// size keeps the stream in step; librdkafka's mock broker sends such frames).
    pub reject_trailing_bytes: bool,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            max_in_flight: 1024,
            max_frame_size: 100 * 1024 * 1024,
            client_id: None,
            reject_trailing_bytes: false,
        }
    }
}

/// Where the response to one request goes: called exactly once with the typed response or
/// the error that ended the request.
///
/// Implemented for closures and for `tokio::sync::oneshot::Sender`.
pub trait Reply<T>: Send + 'static {
    /// Delivers the outcome.
    fn reply(self, result: Result<T, Error>);
}

impl<T, F: FnOnce(Result<T, Error>) + Send + 'static> Reply<T> for F {
    fn reply(self, result: Result<T, Error>) {
        self(result)
    }
}

impl<T: Send + 'static> Reply<T> for tokio::sync::oneshot::Sender<Result<T, Error>> {
    fn reply(self, result: Result<T, Error>) {
        // The requester may have stopped waiting (timeout, cancellation): nothing to do then.
        let _ = self.send(result);
    }
}

/// A parser of one response frame (header and body, without the size prefix) of a request of
/// the given API and version. Bytes after the body are ignored, as Kafka's client ignores them.
type Deserializer<T> = fn(ApiKey, i16, Bytes) -> Result<(ResponseHeader, T), DecodeError>;

/// How many bytes of a response frame of the given API and version follow its body (`None`
/// when the body does not decode as that version alone, as the ApiVersions v0 fallback reply):
/// what [`CoreConfig::reject_trailing_bytes`] refuses.
type TrailingLen = fn(ApiKey, i16, Bytes) -> Option<usize>;

fn versioned<R: VersionedResponse>(_: ApiKey, _: i16, frame: Bytes) -> Result<(ResponseHeader, R), DecodeError> {
    R::decode_frame(frame)
}

fn versioned_trailing<R: VersionedResponse>(_: ApiKey, _: i16, mut frame: Bytes) -> Option<usize> {
    kafka_wire::decode_response_header(&mut frame, R::HEADER_VERSION).ok()?;
    R::decode(&mut frame).ok()?;
    Some(frame.len())
}

fn version_free<R: VersionFreeResponse>(
    _: ApiKey,
    version: i16,
    frame: Bytes,
) -> Result<(ResponseHeader, R), DecodeError> {
    R::decode_frame(version, frame)
}

fn version_free_trailing<R: VersionFreeResponse>(_: ApiKey, version: i16, mut frame: Bytes) -> Option<usize> {
    kafka_wire::decode_response_header(&mut frame, R::API_KEY.response_header_version(version)).ok()?;
    R::decode(version, &mut frame).ok()?;
    Some(frame.len())
}

fn any(api: ApiKey, version: i16, mut frame: Bytes) -> Result<(ResponseHeader, AnyResponse), DecodeError> {
    let header = kafka_wire::decode_response_header(&mut frame, api.response_header_version(version))?;
    Ok((header, AnyResponse::decode(api.code(), version, &mut frame)?))
}

fn any_trailing(api: ApiKey, version: i16, mut frame: Bytes) -> Option<usize> {
    kafka_wire::decode_response_header(&mut frame, api.response_header_version(version)).ok()?;
    AnyResponse::decode(api.code(), version, &mut frame).ok()?;
    Some(frame.len())
}

fn api(api: ApiKey, version: i16, mut frame: Bytes) -> Result<(ResponseHeader, ApiResponse), DecodeError> {
    let header = kafka_wire::decode_response_header(&mut frame, api.response_header_version(version))?;
    Ok((header, ApiResponse::decode(api.code(), version, &mut frame)?))
}

fn api_trailing(api: ApiKey, version: i16, mut frame: Bytes) -> Option<usize> {
    kafka_wire::decode_response_header(&mut frame, api.response_header_version(version)).ok()?;
    ApiResponse::decode(api.code(), version, &mut frame).ok()?;
    Some(frame.len())
}

/// One request in flight, its response type erased.
trait Pending: Send {
    /// Decodes `frame` and delivers the response; on a decode error, delivers the error that
    /// `malformed` makes of it and returns that error.
    fn complete(
        self: Box<Self>,
        frame: Bytes,
        request: (ApiKey, i16),
        strict: bool,
        malformed: &dyn Fn(DecodeError) -> Error,
    ) -> Option<Error>;
    /// Delivers `error`.
    fn fail(self: Box<Self>, error: Error);
}

struct Typed<T, Y> {
    deserializer: Deserializer<T>,
    trailing: TrailingLen,
    reply: Y,
}

impl<T: Send + 'static, Y: Reply<T>> Pending for Typed<T, Y> {
    fn complete(
        self: Box<Self>,
        frame: Bytes,
        (api, version): (ApiKey, i16),
        strict: bool,
        malformed: &dyn Fn(DecodeError) -> Error,
    ) -> Option<Error> {
        let decoded = match (self.deserializer)(api, version, frame.clone()) {
            Ok(response) if strict => match (self.trailing)(api, version, frame) {
                Some(n) if n > 0 => Err(DecodeError::new(DecodeErrorKind::TrailingBytes(n), "")),
                _ => Ok(response),
            },
            decoded => decoded,
        };
        match decoded {
            Ok((_header, response)) => {
                self.reply.reply(Ok(response));
                None
            }
            Err(e) => {
                let error = malformed(e);
                self.reply.reply(Err(error.clone()));
                Some(error)
            }
        }
    }

    fn fail(self: Box<Self>, error: Error) {
        self.reply.reply(Err(error))
    }
}

struct InFlight {
    correlation_id: i32,
    api: ApiKey,
    version: i16,
    pending: Box<dyn Pending>,
}

/// The state of one connection, without the connection.
pub struct Core {
    config: CoreConfig,
    next_correlation_id: i32,
    /// Requests awaiting a response, oldest first (Kafka answers in order).
    in_flight: VecDeque<InFlight>,
    /// Bytes received that do not yet form a whole frame.
    buf: BytesMut,
    broken: Option<Error>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("next_correlation_id", &self.next_correlation_id)
            .field("in_flight", &self.in_flight.len())
            .field("buffered", &self.buf.len())
            .field("broken", &self.broken)
            .finish()
    }
}

impl Core {
    /// A fresh connection state.
    pub fn new(config: CoreConfig) -> Self {
        Core { config, next_correlation_id: 0, in_flight: VecDeque::new(), buf: BytesMut::new(), broken: None }
    }

    /// The limits this core enforces.
    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// Encodes `request` under the next correlation id and returns the whole frame to write, as
    /// [`Chunks`] in which record sets and large byte fields are the request's own buffers
    /// (write it with a vectored write, e.g. tokio's `write_all_buf`).
    ///
    /// If the request expects a response, `reply` receives it (or the error that ends the
    /// request); otherwise (Produce with acks=0) `reply` is dropped unused. Frames must be
    /// written in the order `submit` returns them.
    pub fn submit<R: VersionedRequest>(
        &mut self,
        request: &R,
        reply: impl Reply<R::Response>,
    ) -> Result<Chunks, Error> {
        self.register(
            R::API_KEY,
            R::VERSION,
            request.expects_response(),
            |id, client| request.serialize_chunks(id, client),
            (versioned::<R::Response>, versioned_trailing::<R::Response>),
            reply,
        )
    }

    /// [`Core::submit`] for a version-free request, written at `version`; its response is
    /// read at that version. Fails with the encoding error if the request holds a value that
    /// version cannot carry.
    pub fn submit_at<R: VersionFreeRequest>(
        &mut self,
        request: &R,
        version: i16,
        reply: impl Reply<R::Response>,
    ) -> Result<Chunks, Error> {
        self.register(
            R::API_KEY,
            version,
            request.expects_response(version),
            |id, client| request.serialize_chunks(version, id, client),
            (version_free::<R::Response>, version_free_trailing::<R::Response>),
            reply,
        )
    }

    /// [`Core::submit`] for a request of any API and version.
    pub fn submit_any(&mut self, request: &AnyRequest, reply: impl Reply<AnyResponse>) -> Result<Chunks, Error> {
        self.register(
            request.api_key(),
            request.version(),
            request.expects_response(),
            |id, client| request.serialize_chunks(id, client),
            (any, any_trailing),
            reply,
        )
    }

    /// [`Core::submit_at`] for a version-free request of any API.
    pub fn submit_api(
        &mut self,
        request: &ApiRequest,
        version: i16,
        reply: impl Reply<ApiResponse>,
    ) -> Result<Chunks, Error> {
        self.register(
            request.api_key(),
            version,
            request.expects_response(version),
            |id, client| request.serialize_chunks(version, id, client),
            (api, api_trailing),
            reply,
        )
    }

    fn register<T: Send + 'static>(
        &mut self,
        api: ApiKey,
        version: i16,
        expects_response: bool,
        serialize: impl FnOnce(i32, Option<&str>) -> Result<Chunks, kafka_wire::EncodeError>,
        (deserializer, trailing): (Deserializer<T>, TrailingLen),
        reply: impl Reply<T>,
    ) -> Result<Chunks, Error> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        if expects_response && self.in_flight.len() >= self.config.max_in_flight {
            return Err(Error::TooManyInFlight { max: self.config.max_in_flight });
        }
        let correlation_id = self.next_correlation_id;
        let frame = serialize(correlation_id, self.config.client_id.as_deref())?;
        // Ids only need to be unique among the requests in flight, far fewer than 2^31.
        self.next_correlation_id = correlation_id.checked_add(1).unwrap_or(0);
        if expects_response {
            let pending = Box::new(Typed { deserializer, trailing, reply });
            self.in_flight.push_back(InFlight { correlation_id, api, version, pending });
        }
        Ok(frame)
    }

    /// Takes bytes read from the connection, in any split, and delivers every response they
    /// complete. Returns how many were delivered.
    ///
    /// On a framing or decoding error the connection is broken: every request in flight has
    /// been failed with the error, which is also returned (and returned again by every later
    /// call).
    pub fn receive(&mut self, data: &[u8]) -> Result<usize, Error> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        self.buf.extend_from_slice(data);
        let mut delivered = 0;
        while let Some(frame) = self.next_frame()? {
            self.deliver(frame)?;
            delivered += 1;
        }
        Ok(delivered)
    }

    /// Cuts the next whole frame off the buffer, checking its announced size before waiting
    /// for (or buffering) its bytes.
    fn next_frame(&mut self) -> Result<Option<Bytes>, Error> {
        let Some(prefix) = self.buf.get(..4) else { return Ok(None) };
        let size = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        // Every response header starts with a 4-byte correlation id.
        if size < 4 {
            return Err(self.fail(Error::InvalidFrameSize(size)));
        }
        let size = size as usize;
        if size > self.config.max_frame_size {
            return Err(self.fail(Error::FrameTooLarge { size, max: self.config.max_frame_size }));
        }
        if self.buf.len() < 4 + size {
            return Ok(None);
        }
        self.buf.advance(4);
        Ok(Some(self.buf.split_to(size).freeze()))
    }

    fn deliver(&mut self, frame: Bytes) -> Result<(), Error> {
        let received = kafka_wire::peek_correlation_id(&frame).unwrap_or(-1);
        let expected = self.in_flight.front().map(|f| f.correlation_id);
        if expected != Some(received) {
            return Err(self.fail(Error::UnexpectedCorrelationId { received, expected }));
        }
        let Some(InFlight { api, version, pending, .. }) = self.in_flight.pop_front() else {
            unreachable!("the front was just checked")
        };
        let malformed = |source| Error::Malformed { api, version, source };
        match pending.complete(frame, (api, version), self.config.reject_trailing_bytes, &malformed) {
            None => Ok(()),
            Some(error) => Err(self.fail(error)),
        }
    }

    /// Marks the connection broken (the first error wins) and fails every request in flight
    /// with the error. Returns the error the connection is broken with.
    pub fn fail(&mut self, error: Error) -> Error {
        let error = self.broken.get_or_insert(error).clone();
        self.buf = BytesMut::new();
        for f in self.in_flight.drain(..) {
            f.pending.fail(error.clone());
        }
        error
    }

    /// The error the connection is broken with, if it is.
    pub fn broken(&self) -> Option<&Error> {
        self.broken.as_ref()
    }

    /// How many requests await a response.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The correlation id the next request will get.
    pub fn next_correlation_id(&self) -> i32 {
        self.next_correlation_id
    }

    /// How many received bytes wait for the rest of their frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

impl Drop for Core {
    /// Nothing is silently dropped: requests still in flight when the core goes away fail.
    fn drop(&mut self) {
        if !self.in_flight.is_empty() {
            self.fail(Error::Closed);
        }
    }
}
