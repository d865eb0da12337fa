//! The traits every generated message implements.

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};

use crate::body::{self, Frame, Header};
use crate::codec::{Chunks, Wire};
use crate::error::{DecodeError, EncodeError};
#[cfg(feature = "versioned")]
use crate::frame::{self, ResponseHeader};
#[cfg(feature = "versioned")]
use crate::ApiKey;

/// One version of one message: a request or response body, a header, or a data schema.
///
/// Encoding computes the exact size first and writes into a buffer of that capacity, so it
/// never reallocates. Decoding reads from [`Bytes`]: strings and byte fields share the input.
pub trait Message: Wire + Clone + Debug + PartialEq + Default + Send + Sync + 'static {
    /// The schema name, e.g. `FetchRequest`.
    const NAME: &'static str;
    /// The version this type encodes.
    const VERSION: i16;
    /// Whether Kafka marks this version deprecated (`deprecatedVersions`).
    const DEPRECATED: bool;

    /// The exact encoded size in bytes.
    fn encoded_len(&self) -> usize {
        self.wire_len(false, Self::VERSION)
    }

    /// Appends the encoding to `buf`.
    fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        body_frame(self).append_to(buf)
    }

    /// The encoding as [`Chunks`] for a vectored write: record sets and byte fields of at least
    /// [`SHARE_MIN_LEN`](crate::codec::SHARE_MIN_LEN) bytes are referenced, not copied. The
    /// bytes are those of [`Message::encode`].
    fn encode_chunks(&self) -> Result<Chunks, EncodeError> {
        body_frame(self).to_chunks()
    }

    /// The encoding as a new buffer of exactly the right size.
    fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        body_frame(self).to_bytes()
    }

    /// Reads one message from the front of `buf`, leaving any bytes after it.
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        body::in_message(Self::wire_get(buf, false, Self::VERSION, ""), Self::NAME, Self::VERSION)
    }

    /// Reads a message that must fill `bytes` exactly.
    fn from_bytes(mut bytes: Bytes) -> Result<Self, DecodeError> {
        let m = tri!(Self::decode(&mut bytes));
        tri!(body::check_consumed(&bytes, Self::NAME, Self::VERSION));
        Ok(m)
    }
}

/// Parses a whole response frame (header and body, without the size prefix).
#[cfg(feature = "versioned")]
pub type ResponseDeserializer<R> = fn(Bytes) -> Result<(ResponseHeader, R), DecodeError>;

/// One version of a request body (Kayrock style: `fetch::v12::Request`).
#[cfg(feature = "versioned")]
pub trait VersionedRequest: Message {
    /// The API this request belongs to.
    const API_KEY: ApiKey;
    /// The request header version that goes with this request version.
    const HEADER_VERSION: i16;
    /// The response to this request version.
    type Response: VersionedResponse<Request = Self>;

    /// Whether the broker answers this request at all (`false` for Produce with acks=0).
    fn expects_response(&self) -> bool {
        true
    }

    /// The whole frame: `int32` size, request header (of [`VersionedRequest::HEADER_VERSION`]) and body.
    fn serialize(&self, correlation_id: i32, client_id: Option<&str>) -> Result<Bytes, EncodeError> {
        request_frame(self, correlation_id, client_id).to_bytes()
    }

    /// The whole frame as [`Chunks`] for a vectored write: the bytes of [`VersionedRequest::serialize`],
    /// with record sets and byte fields of at least
    /// [`SHARE_MIN_LEN`](crate::codec::SHARE_MIN_LEN) bytes referenced instead of copied.
    fn serialize_chunks(&self, correlation_id: i32, client_id: Option<&str>) -> Result<Chunks, EncodeError> {
        request_frame(self, correlation_id, client_id).to_chunks()
    }

    /// This request in the enum of every API and version; what the generic
    /// `From<R> for AnyRequest` calls.
    #[doc(hidden)]
    fn into_any(self) -> crate::AnyRequest;

    /// A function that parses the response frame of this request (header and body, without the
    /// size prefix) into its typed response.
    fn response_deserializer(&self) -> ResponseDeserializer<Self::Response> {
        <Self::Response as VersionedResponse>::decode_frame
    }
}

/// One version of a response body.
#[cfg(feature = "versioned")]
pub trait VersionedResponse: Message {
    /// The API this response belongs to.
    const API_KEY: ApiKey;
    /// The response header version that goes with this response version.
    const HEADER_VERSION: i16;
    /// The request this responds to.
    type Request: VersionedRequest<Response = Self>;

    /// The whole frame: `int32` size, response header and body.
    fn serialize(&self, correlation_id: i32) -> Result<Bytes, EncodeError> {
        response_frame(self, correlation_id).to_bytes()
    }

    /// The whole frame as [`Chunks`] for a vectored write: the bytes of [`VersionedResponse::serialize`],
    /// with record sets and byte fields of at least
    /// [`SHARE_MIN_LEN`](crate::codec::SHARE_MIN_LEN) bytes referenced instead of copied.
    fn serialize_chunks(&self, correlation_id: i32) -> Result<Chunks, EncodeError> {
        response_frame(self, correlation_id).to_chunks()
    }

    /// This response in the enum of every API and version; what the generic
    /// `From<R> for AnyResponse` calls.
    #[doc(hidden)]
    fn into_any(self) -> crate::AnyResponse;

    /// Parses a response frame: header, then the body. Bytes after the body are ignored, as
    /// Kafka's client ignores them (`AbstractResponse.parseResponse` never looks at what is
    /// left).
    fn decode_frame(mut frame: Bytes) -> Result<(ResponseHeader, Self), DecodeError> {
        let header = tri!(frame::decode_response_header(&mut frame, Self::HEADER_VERSION));
        Ok((header, tri!(Self::decode_body_from(&mut frame))))
    }

    /// Parses a response body at the front of `body`, ignoring any bytes after it (see
    /// [`VersionedResponse::decode_body_from`]).
    fn decode_body(mut body: Bytes) -> Result<Self, DecodeError> {
        Self::decode_body_from(&mut body)
    }

    /// Reads the answer to a request of this version from the front of `body`, as a client
    /// reads it, and leaves `body` after it (what is left: bytes after the body, which Kafka's
    /// client ignores and a strict reader counts). ApiVersions overrides this to accept the
    /// v0-format reply a broker sends when it does not support the requested version
    /// (`crate::downgrade`).
    fn decode_body_from(body: &mut Bytes) -> Result<Self, DecodeError> {
        Self::decode(body)
    }
}

fn body_frame<M: Message>(m: &M) -> Frame<'_> {
    Frame { body: m, name: M::NAME, version: M::VERSION, header: Header::None }
}

#[cfg(feature = "versioned")]
fn request_frame<'a, R: VersionedRequest>(r: &'a R, correlation_id: i32, client_id: Option<&'a str>) -> Frame<'a> {
    let header =
        Header::Request { header_version: R::HEADER_VERSION, api_key: R::API_KEY.code(), correlation_id, client_id };
    Frame { body: r, name: R::NAME, version: R::VERSION, header }
}

#[cfg(feature = "versioned")]
fn response_frame<R: VersionedResponse>(r: &R, correlation_id: i32) -> Frame<'_> {
    Frame {
        body: r,
        name: R::NAME,
        version: R::VERSION,
        header: Header::Response { header_version: R::HEADER_VERSION, correlation_id },
    }
}
