//! The sans-io connection core: framing, correlation ids and the in-flight table of one
//! connection, with no socket inside.
//!
//! The owner of the socket hands every request to [`Core::submit_at`], writes the frame it gets
//! back, and feeds whatever bytes it reads to [`Core::receive`], in any split. The core cuts
//! them into frames, matches each frame to the request it answers, decodes it with the
//! deserializer that request handed out and delivers the typed response to that request's
//! [`Reply`].
//!
//! ```
//! use kafka_wire::{api_versions, VersionFreeResponse};
//! use kafka_wire_client::core::{Core, CoreConfig};
//! use std::sync::mpsc;
//!
//! let mut core = Core::new(CoreConfig::default());
//! let (tx, rx) = mpsc::channel();
//! let request = api_versions::Request::default();
//! let frame = core.submit_at(&request, 3, move |r| tx.send(r).unwrap()).unwrap();
//! // ... write `frame` (a `bytes::Buf` of chunks: record sets are not copied) to the broker;
//! // its answer comes back (at the version sent), a byte at a time if need be:
//! let answer = api_versions::Response { throttle_time_ms: 7, ..Default::default() };
//! for byte in answer.serialize(3, 0).unwrap().iter() {
//!     core.receive(&[*byte]).unwrap();
//! }
//! assert_eq!(rx.recv().unwrap().unwrap().throttle_time_ms, 7);
//! ```
//!
//! A frame above the configured maximum, a response that does not answer the oldest request
//! in flight, or a frame that does not decode breaks the connection: every request in flight
//! fails with that error, and later submits fail with it too.

use std::collections::VecDeque;

use bytes::Bytes;
#[cfg(feature = "versioned")]
use kafka_wire::{AnyRequest, AnyResponse, VersionedRequest, VersionedResponse};
use kafka_wire::{
    ApiKey, ApiRequest, ApiResponse, Chunks, DecodeError, DecodeErrorKind, FrameSplitter, VersionFreeRequest,
    VersionFreeResponse,
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

/// Reads the body of the answer to a request of the given API and version from the front of
/// the bytes, as a client reads it (the ApiVersions v0 fallback included), and leaves the bytes
/// after it: the one decoding path of every response.
type BodyReader<T> = fn(ApiKey, i16, &mut Bytes) -> Result<T, DecodeError>;

#[cfg(feature = "versioned")]
fn versioned<R: VersionedResponse>(_: ApiKey, _: i16, body: &mut Bytes) -> Result<R, DecodeError> {
    R::decode_body_from(body)
}

fn version_free<R: VersionFreeResponse>(_: ApiKey, version: i16, body: &mut Bytes) -> Result<R, DecodeError> {
    R::decode_body_from(version, body)
}

#[cfg(feature = "versioned")]
fn any(api: ApiKey, version: i16, body: &mut Bytes) -> Result<AnyResponse, DecodeError> {
    AnyResponse::decode_body(api.code(), version, body)
}

fn api(api: ApiKey, version: i16, body: &mut Bytes) -> Result<ApiResponse, DecodeError> {
    ApiResponse::decode_body(api.code(), version, body)
}

/// Decodes one response frame (header and body, without the size prefix) of a request of
/// `api` at `version`. Bytes after the body are ignored, as Kafka's Java client ignores them,
/// unless `strict`.
fn decode<T>(read: BodyReader<T>, api: ApiKey, version: i16, strict: bool, mut frame: Bytes) -> Result<T, DecodeError> {
    kafka_wire::decode_response_header(&mut frame, api.response_header_version(version))?;
    let response = read(api, version, &mut frame)?;
    if strict && !frame.is_empty() {
        return Err(DecodeError::new(DecodeErrorKind::TrailingBytes(frame.len()), ""));
    }
    Ok(response)
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
    read: BodyReader<T>,
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
        match decode(self.read, api, version, strict, frame) {
            Ok(response) => {
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
    /// Cuts the bytes received into frames.
    frames: FrameSplitter,
    broken: Option<Error>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("next_correlation_id", &self.next_correlation_id)
            .field("in_flight", &self.in_flight.len())
            .field("buffered", &self.frames.buffered())
            .field("broken", &self.broken)
            .finish()
    }
}

impl Core {
    /// A fresh connection state.
    pub fn new(config: CoreConfig) -> Self {
        Core {
            next_correlation_id: 0,
            in_flight: VecDeque::new(),
            frames: Self::splitter(&config),
            config,
            broken: None,
        }
    }

    /// Every response header starts with a 4-byte correlation id.
    fn splitter(config: &CoreConfig) -> FrameSplitter {
        FrameSplitter::new(config.max_frame_size).with_min_frame_size(4)
    }

    /// The limits this core enforces.
    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    #[cfg(feature = "versioned")]
    /// [`Core::submit_at`] for a request of one fixed version (feature `versioned`).
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
            versioned::<R::Response>,
            reply,
        )
    }

    /// Encodes a version-free `request` at `version` under the next correlation id and returns
    /// the whole frame to write, as [`Chunks`] in which record sets and large byte fields are
    /// the request's own buffers (write it with a vectored write, e.g. tokio's
    /// `write_all_buf`). Fails with the encoding error if the request holds a value that
    /// version cannot carry.
    ///
    /// If the request expects a response, `reply` receives it, read at that version (or the
    /// error that ends the request); otherwise (Produce with acks=0) `reply` is dropped unused.
    /// Frames must be written in the order the submit calls return them.
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
            version_free::<R::Response>,
            reply,
        )
    }

    #[cfg(feature = "versioned")]
    /// [`Core::submit_at`] for a request of any API and version (feature `versioned`).
    pub fn submit_any(&mut self, request: &AnyRequest, reply: impl Reply<AnyResponse>) -> Result<Chunks, Error> {
        self.register(
            request.api_key(),
            request.version(),
            request.expects_response(),
            |id, client| request.serialize_chunks(id, client),
            any,
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
            api,
            reply,
        )
    }

    fn register<T: Send + 'static>(
        &mut self,
        api: ApiKey,
        version: i16,
        expects_response: bool,
        serialize: impl FnOnce(i32, Option<&str>) -> Result<Chunks, kafka_wire::EncodeError>,
        read: BodyReader<T>,
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
            let pending = Box::new(Typed { read, reply });
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
        let mut input = data;
        let mut delivered = 0;
        loop {
            match self.frames.split(&mut input) {
                Ok(Some(frame)) => {
                    self.deliver(frame)?;
                    delivered += 1;
                }
                Ok(None) => return Ok(delivered),
                Err(e) => return Err(self.fail(e.into())),
            }
        }
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
        // What is buffered can no longer be read: free it.
        self.frames = Self::splitter(&self.config);
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
        self.frames.buffered()
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
