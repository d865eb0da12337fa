//! The traits of the version-free types (`fetch::Request`, `request_header::RequestHeader`):
//! one value with the fields of every version, written and read at the version given, as
//! Kafka's own Java message classes are. The per-version types (`fetch::v12::Request`) and their
//! traits ([`Message`](crate::Message), [`VersionedRequest`](crate::VersionedRequest)) are the
//! other half; `From` and `TryFrom` convert between the two.
//!
//! Writing at a version follows Kafka's rule: a field the version does not have must hold its
//! default, unless the schema marks it `ignorable` (then it is dropped); otherwise the write
//! fails with [`EncodeErrorKind::UnsupportedField`] naming the field and version.

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};

use crate::body::{self, Frame, Header};
use crate::codec::{Chunks, Wire};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
use crate::frame::{self, ResponseHeader};
use crate::{ApiKey, VersionRange};

/// A message of any version: a request or response body, a header or a data schema.
pub trait VersionFreeMessage: Wire + Clone + Debug + PartialEq + Default + Send + Sync + 'static {
    /// The schema name, e.g. `FetchRequest`.
    const NAME: &'static str;

    /// The versions this build reads and writes (unstable ones only with the `unstable` feature).
    fn versions() -> VersionRange;

    /// The exact size of the encoding at `version`, in bytes.
    fn encoded_len(&self, version: i16) -> usize {
        self.wire_len(false, version)
    }

    /// Appends the encoding at `version` to `buf`.
    ///
    /// Errors: [`EncodeErrorKind::UnsupportedVersion`] for a version this build does not have;
    /// [`EncodeErrorKind::UnsupportedField`], [`EncodeErrorKind::NullNotAllowed`] or
    /// [`EncodeErrorKind::TaggedFieldsNotSupported`] for a value that version cannot carry;
    /// the errors of the per-version encoding (lengths).
    fn encode(&self, version: i16, buf: &mut BytesMut) -> Result<(), EncodeError> {
        body_frame(self, version)?.append_to(buf)
    }

    /// The encoding at `version` as [`Chunks`] for a vectored write (record sets and large byte
    /// fields referenced, not copied).
    fn encode_chunks(&self, version: i16) -> Result<Chunks, EncodeError> {
        body_frame(self, version)?.to_chunks()
    }

    /// The encoding at `version` as a new buffer of exactly the right size.
    fn to_bytes(&self, version: i16) -> Result<Bytes, EncodeError> {
        body_frame(self, version)?.to_bytes()
    }

    /// Reads a message of `version` from the front of `buf`, leaving any bytes after it.
    fn decode(version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
        if !Self::versions().contains(version) {
            return Err(DecodeError::new(DecodeErrorKind::UnsupportedMessageVersion { version }, "")
                .in_message(Self::NAME, version));
        }
        body::in_message(Self::wire_get(buf, false, version, ""), Self::NAME, version)
    }

    /// Reads a message of `version` that must fill `bytes` exactly.
    fn from_bytes(version: i16, mut bytes: Bytes) -> Result<Self, DecodeError> {
        let m = tri!(Self::decode(version, &mut bytes));
        tri!(body::check_consumed(&bytes, Self::NAME, version));
        Ok(m)
    }
}

/// A request of any version (`fetch::Request`).
pub trait VersionFreeRequest: VersionFreeMessage {
    /// The API this request belongs to.
    const API_KEY: ApiKey;
    /// The response to this request.
    type Response: VersionFreeResponse<Request = Self>;

    /// Whether the broker answers this request at all (`false` for Produce with acks=0).
    fn expects_response(&self, _version: i16) -> bool {
        true
    }

    /// The whole frame at `version`: `int32` size, the request header of that version and the
    /// body. Errors as [`VersionFreeMessage::encode`].
    fn serialize(&self, version: i16, correlation_id: i32, client_id: Option<&str>) -> Result<Bytes, EncodeError> {
        request_frame(self, version, correlation_id, client_id)?.to_bytes()
    }

    /// [`VersionFreeRequest::serialize`] as [`Chunks`] for a vectored write.
    fn serialize_chunks(
        &self,
        version: i16,
        correlation_id: i32,
        client_id: Option<&str>,
    ) -> Result<Chunks, EncodeError> {
        request_frame(self, version, correlation_id, client_id)?.to_chunks()
    }
}

/// A response of any version (`fetch::Response`).
pub trait VersionFreeResponse: VersionFreeMessage {
    /// The API this response belongs to.
    const API_KEY: ApiKey;
    /// The request this responds to.
    type Request: VersionFreeRequest<Response = Self>;

    /// The whole frame at `version`: `int32` size, the response header of that version (with
    /// `correlation_id`) and the body.
    fn serialize(&self, version: i16, correlation_id: i32) -> Result<Bytes, EncodeError> {
        response_frame(self, version, correlation_id)?.to_bytes()
    }

    /// [`VersionFreeResponse::serialize`] as [`Chunks`] for a vectored write.
    fn serialize_chunks(&self, version: i16, correlation_id: i32) -> Result<Chunks, EncodeError> {
        response_frame(self, version, correlation_id)?.to_chunks()
    }

    /// Parses a response frame of a request sent at `version` (header and body, without the
    /// size prefix): the header of that version, then the body. Bytes after the body are
    /// ignored, as Kafka's client ignores them (`AbstractResponse.parseResponse`).
    fn decode_frame(version: i16, mut frame: Bytes) -> Result<(ResponseHeader, Self), DecodeError> {
        let header = frame::decode_response_header(&mut frame, Self::API_KEY.response_header_version(version))?;
        Ok((header, tri!(Self::decode_body_from(version, &mut frame))))
    }

    /// Parses a response body of `version` at the front of `body`, ignoring any bytes after
    /// it (see [`VersionFreeResponse::decode_body_from`]).
    fn decode_body(version: i16, mut body: Bytes) -> Result<Self, DecodeError> {
        Self::decode_body_from(version, &mut body)
    }

    /// Reads the answer to a request of `version` from the front of `body`, as a client reads
    /// it, and leaves `body` after it (what is left: bytes after the body, which Kafka's client
    /// ignores and a strict reader counts). ApiVersions overrides this to accept the v0 reply
    /// a broker sends when it does not support the requested version (`crate::downgrade`).
    fn decode_body_from(version: i16, body: &mut Bytes) -> Result<Self, DecodeError> {
        Self::decode(version, body)
    }
}

/// The error for a `version` this build does not have, naming `name`.
fn check_version(versions: VersionRange, name: &'static str, version: i16) -> Result<(), EncodeError> {
    if versions.contains(version) {
        Ok(())
    } else {
        Err(EncodeError::new(EncodeErrorKind::UnsupportedVersion { version }, "").in_message(name, version))
    }
}

fn body_frame<M: VersionFreeMessage>(m: &M, version: i16) -> Result<Frame<'_>, EncodeError> {
    check_version(M::versions(), M::NAME, version)?;
    Ok(Frame { body: m, name: M::NAME, version, header: Header::None })
}

fn request_frame<'a, R: VersionFreeRequest>(
    r: &'a R,
    version: i16,
    correlation_id: i32,
    client_id: Option<&'a str>,
) -> Result<Frame<'a>, EncodeError> {
    check_version(R::versions(), R::NAME, version)?;
    let header_version = R::API_KEY.request_header_version(version);
    let header = Header::Request { header_version, api_key: R::API_KEY.code(), correlation_id, client_id };
    Ok(Frame { body: r, name: R::NAME, version, header })
}

fn response_frame<R: VersionFreeResponse>(r: &R, version: i16, correlation_id: i32) -> Result<Frame<'_>, EncodeError> {
    check_version(R::versions(), R::NAME, version)?;
    let header = Header::Response { header_version: R::API_KEY.response_header_version(version), correlation_id };
    Ok(Frame { body: r, name: R::NAME, version, header })
}
