//! The traits every generated message implements.

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};

use crate::codec::{put_array, Chunks, Encoder, Wire};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::frame::{self, ResponseHeader};
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
        Encoder::contiguous(buf, |e| put_body(self, e))
    }

    /// The encoding as [`Chunks`] for a vectored write: record sets and byte fields of at least
    /// [`SHARE_MIN_LEN`](crate::codec::SHARE_MIN_LEN) bytes are referenced, not copied. The
    /// bytes are those of [`Message::encode`].
    fn encode_chunks(&self) -> Result<Chunks, EncodeError> {
        let mut e = Encoder::chunked_for(self.encoded_len());
        put_body(self, &mut e)?;
        Ok(e.finish())
    }

    /// The encoding as a new buffer of exactly the right size.
    fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut e = Encoder::with_capacity(self.encoded_len());
        put_body(self, &mut e)?;
        Ok(e.into_buf().freeze())
    }

    /// Reads one message from the front of `buf`, leaving any bytes after it.
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        Self::wire_get(buf, false, Self::VERSION, "").map_err(|e| e.in_message(Self::NAME, Self::VERSION))
    }

    /// Reads a message that must fill `bytes` exactly.
    fn from_bytes(mut bytes: Bytes) -> Result<Self, DecodeError> {
        let m = Self::decode(&mut bytes)?;
        if !bytes.is_empty() {
            return Err(
                DecodeError::new(DecodeErrorKind::TrailingBytes(bytes.len()), "").in_message(Self::NAME, Self::VERSION)
            );
        }
        Ok(m)
    }
}

/// Parses a whole response frame (header and body, without the size prefix).
pub type ResponseDeserializer<R> = fn(Bytes) -> Result<(ResponseHeader, R), DecodeError>;

/// One version of a request body (Kayrock style: `fetch::v12::Request`).
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
        let len = request_frame_len(self, client_id)?;
        let mut e = Encoder::with_capacity(len);
        put_request_frame(self, &mut e, len, correlation_id, client_id)?;
        debug_assert_eq!(e.len(), len);
        Ok(e.into_buf().freeze())
    }

    /// The whole frame as [`Chunks`] for a vectored write: the bytes of [`VersionedRequest::serialize`],
    /// with record sets and byte fields of at least
    /// [`SHARE_MIN_LEN`](crate::codec::SHARE_MIN_LEN) bytes referenced instead of copied.
    fn serialize_chunks(&self, correlation_id: i32, client_id: Option<&str>) -> Result<Chunks, EncodeError> {
        let len = request_frame_len(self, client_id)?;
        let mut e = Encoder::chunked_for(len);
        put_request_frame(self, &mut e, len, correlation_id, client_id)?;
        Ok(e.finish())
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
pub trait VersionedResponse: Message {
    /// The API this response belongs to.
    const API_KEY: ApiKey;
    /// The response header version that goes with this response version.
    const HEADER_VERSION: i16;
    /// The request this responds to.
    type Request: VersionedRequest<Response = Self>;

    /// The whole frame: `int32` size, response header and body.
    fn serialize(&self, correlation_id: i32) -> Result<Bytes, EncodeError> {
        let len = response_frame_len(self)?;
        let mut e = Encoder::with_capacity(len);
        put_response_frame(self, &mut e, len, correlation_id)?;
        debug_assert_eq!(e.len(), len);
        Ok(e.into_buf().freeze())
    }

    /// The whole frame as [`Chunks`] for a vectored write: the bytes of [`VersionedResponse::serialize`],
    /// with record sets and byte fields of at least
    /// [`SHARE_MIN_LEN`](crate::codec::SHARE_MIN_LEN) bytes referenced instead of copied.
    fn serialize_chunks(&self, correlation_id: i32) -> Result<Chunks, EncodeError> {
        let len = response_frame_len(self)?;
        let mut e = Encoder::chunked_for(len);
        put_response_frame(self, &mut e, len, correlation_id)?;
        Ok(e.finish())
    }

    /// This response in the enum of every API and version; what the generic
    /// `From<R> for AnyResponse` calls.
    #[doc(hidden)]
    fn into_any(self) -> crate::AnyResponse;

    /// Parses a response frame: header, then the body. Bytes after the body are ignored, as
    /// Kafka's client ignores them (`AbstractResponse.parseResponse` never looks at what is
    /// left).
    fn decode_frame(mut frame: Bytes) -> Result<(ResponseHeader, Self), DecodeError> {
        let header = frame::decode_response_header(&mut frame, Self::HEADER_VERSION)?;
        Ok((header, Self::decode_body(frame)?))
    }

    /// Parses a response body at the front of `body`, ignoring any bytes after it. ApiVersions
    /// overrides this to accept the v0-format reply a broker sends when it does not support the
    /// requested version.
    fn decode_body(mut body: Bytes) -> Result<Self, DecodeError> {
        Self::decode(&mut body)
    }
}

/// The size of a request frame, its 4-byte size prefix included.
fn request_frame_len<R: VersionedRequest>(r: &R, client_id: Option<&str>) -> Result<usize, EncodeError> {
    let header_len = frame::request_header_len(R::HEADER_VERSION, client_id);
    Ok(4 + frame::frame_len(header_len + r.encoded_len())?)
}

fn put_request_frame<R: VersionedRequest>(
    r: &R,
    e: &mut Encoder,
    len: usize,
    correlation_id: i32,
    client_id: Option<&str>,
) -> Result<(), EncodeError> {
    put_array(e, (len as i32 - 4).to_be_bytes());
    frame::put_request_header(e, R::HEADER_VERSION, R::API_KEY.code(), R::VERSION, correlation_id, client_id)?;
    put_body(r, e)
}

/// The size of a response frame, its 4-byte size prefix included.
fn response_frame_len<R: VersionedResponse>(r: &R) -> Result<usize, EncodeError> {
    Ok(4 + frame::frame_len(frame::response_header_len(R::HEADER_VERSION) + r.encoded_len())?)
}

fn put_response_frame<R: VersionedResponse>(
    r: &R,
    e: &mut Encoder,
    len: usize,
    correlation_id: i32,
) -> Result<(), EncodeError> {
    put_array(e, (len as i32 - 4).to_be_bytes());
    frame::put_response_header(e, R::HEADER_VERSION, correlation_id);
    put_body(r, e)
}

/// Writes the body of `m`, naming its message and version in an error.
#[inline]
fn put_body<M: Message>(m: &M, e: &mut Encoder) -> Result<(), EncodeError> {
    m.wire_put(e, false, M::VERSION, "").map_err(|err| err.in_message(M::NAME, M::VERSION))
}
