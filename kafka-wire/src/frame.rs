//! Frames: the `int32` size prefix, request and response headers, and the server-side entry
//! point that decodes any request frame.
//!
//! Which header version goes with which message version is decided by one table in the
//! generator (`xtask/src/special.rs`), compiled into [`ApiKey::request_header_version`],
//! [`ApiKey::response_header_version`] and the `HEADER_VERSION` constants of every message.

use bytes::{Bytes, BytesMut};

use crate::codec::{put_array, Wire};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
use crate::VersionFreeMessage;
use crate::{request_header, response_header, ApiKey, ApiRequest, ApiResponse};
#[cfg(feature = "versioned")]
use crate::{AnyRequest, AnyResponse};

/// A response header of any version (the version-free type: v0 has no tagged fields).
pub type ResponseHeader = response_header::ResponseHeader;

/// A request header of any version (the version-free type: v0 has no client id, v0 and v1 no
/// tagged fields).
pub type RequestHeader = request_header::RequestHeader;

/// Checks that a frame of `len` bytes (after the size prefix) can be sized by an `int32`.
pub(crate) fn frame_len(len: usize) -> Result<usize, EncodeError> {
    if len > i32::MAX as usize {
        return Err(EncodeError::new(EncodeErrorKind::TooLong { len, max: i32::MAX as usize }, "frame"));
    }
    Ok(len)
}

/// Size of a request header of `version`.
pub(crate) fn request_header_len(version: i16, client_id: Option<&str>) -> usize {
    let client_id = 2 + client_id.map_or(0, str::len);
    match version {
        0 => 8,
        1 => 8 + client_id,
        _ => 8 + client_id + 1,
    }
}

/// Writes a request header of `version`. The client id is always a classic (int16-length)
/// nullable string, even in the flexible header v2.
pub(crate) fn put_request_header(
    buf: &mut BytesMut,
    version: i16,
    api_key: i16,
    api_version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
) -> Result<(), EncodeError> {
    put_array(buf, api_key.to_be_bytes());
    put_array(buf, api_version.to_be_bytes());
    put_array(buf, correlation_id.to_be_bytes());
    if version >= 1 {
        match client_id {
            None => put_array(buf, (-1i16).to_be_bytes()),
            Some(id) => {
                let len = i16::try_from(id.len()).map_err(|_| {
                    EncodeError::new(
                        EncodeErrorKind::TooLong { len: id.len(), max: i16::MAX as usize },
                        "RequestHeader.ClientId",
                    )
                })?;
                put_array(buf, len.to_be_bytes());
                buf.extend_from_slice(id.as_bytes());
            }
        }
    }
    if version >= 2 {
        put_array(buf, [0]); // no tagged fields
    }
    Ok(())
}

/// Size of a response header of `version`.
pub(crate) fn response_header_len(version: i16) -> usize {
    if version >= 1 {
        5
    } else {
        4
    }
}

/// Writes a response header of `version` (without tagged fields).
pub(crate) fn put_response_header(buf: &mut BytesMut, version: i16, correlation_id: i32) {
    put_array(buf, correlation_id.to_be_bytes());
    if version >= 1 {
        put_array(buf, [0]);
    }
}

/// Reads a response header of `version` from the front of a frame.
pub fn decode_response_header(frame: &mut Bytes, version: i16) -> Result<ResponseHeader, DecodeError> {
    ResponseHeader::decode(version, frame)
}

/// Reads the correlation id at the front of a response frame without consuming it: every
/// response header version starts with it.
pub fn peek_correlation_id(frame: &[u8]) -> Option<i32> {
    frame.get(..4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Reads the request header at the front of a request frame. Returns the header and the header
/// version that was on the wire, which follows from the API key and version in its first four
/// bytes.
///
/// A frame that still starts with its own size prefix (its first four bytes equal the number
/// of bytes after them) and does not decode fails with an error that says so.
pub fn decode_request_header(frame: &mut Bytes) -> Result<(RequestHeader, i16), DecodeError> {
    let prefixed = SizePrefixed::check(frame);
    read_request_header(frame).map_err(|e| prefixed.explain(e))
}

fn read_request_header(frame: &mut Bytes) -> Result<(RequestHeader, i16), DecodeError> {
    let mut peek = frame.clone();
    let key = <i16 as Wire>::wire_get(&mut peek, false, 0, "RequestHeader.RequestApiKey")?;
    let version = <i16 as Wire>::wire_get(&mut peek, false, 0, "RequestHeader.RequestApiVersion")?;
    let api = ApiKey::from_code(key)
        .ok_or_else(|| DecodeError::new(DecodeErrorKind::UnknownApiKey(key), "RequestHeader.RequestApiKey"))?;
    let header_version = api.request_header_version(version);
    Ok((RequestHeader::decode(header_version, frame)?, header_version))
}

/// Whether a request frame still starts with its own size prefix: its first four bytes, read
/// as an `int32`, equal the number of bytes after them. A stripped frame starts with the API
/// key and version instead, which match its length only by accident (API key 0 with a version
/// of its length minus 4, or a frame of 64 KiB or more); the check is consulted only when the
/// frame does not decode, and the error it gives keeps the decoding error too.
#[derive(Debug, Clone, Copy)]
struct SizePrefixed(Option<usize>);

impl SizePrefixed {
    fn check(frame: &[u8]) -> Self {
        let size = frame.get(..4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        SizePrefixed(size.and_then(|s| usize::try_from(s).ok()).filter(|&s| s == frame.len() - 4))
    }

    /// `e`, or, for a frame that still has its prefix, an error naming that mistake.
    fn explain(self, e: DecodeError) -> DecodeError {
        match self.0 {
            None => e,
            Some(size) => DecodeError::new(
                DecodeErrorKind::Invalid(format!(
                    "the frame starts with its own size prefix ({size}, the number of bytes after it): \
                     strip the 4-byte size before decoding (FrameSplitter does); read as it is, it fails \
                     with: {e}"
                )),
                "RequestHeader",
            ),
        }
    }
}

/// The body of a [`RequestFrame`]: [`ApiRequest`] (version-free, with the version in the
/// header) or, with the `versioned` feature, `AnyRequest` (the per-version type the header
/// names).
pub trait FrameRequest: Sized {
    /// Reads the body of API `api_key` at `version`.
    fn decode_body(api_key: i16, version: i16, buf: &mut Bytes) -> Result<Self, DecodeError>;
}

#[cfg(feature = "versioned")]
impl FrameRequest for AnyRequest {
    fn decode_body(api_key: i16, version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
        AnyRequest::decode(api_key, version, buf)
    }
}

impl FrameRequest for ApiRequest {
    fn decode_body(api_key: i16, version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
        ApiRequest::decode(api_key, version, buf)
    }
}

/// A decoded request frame: what a broker or proxy reads off a connection. The body is the
/// per-version [`AnyRequest`] by default, or the version-free [`ApiRequest`]
/// (`RequestFrame::<ApiRequest>::decode`), answered at the request's version.
#[cfg(feature = "versioned")]
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFrame<R = AnyRequest> {
    /// The header.
    pub header: RequestHeader,
    /// The header version that was on the wire.
    pub header_version: i16,
    /// The typed request body.
    pub request: R,
}

/// A decoded request frame: what a broker or proxy reads off a connection, with the
/// version-free [`ApiRequest`] (`RequestFrame::<ApiRequest>::decode`), answered at the
/// request's version. (Without the `versioned` feature there is no per-version `AnyRequest`
/// to default to, so the body type is always named.)
#[cfg(not(feature = "versioned"))]
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFrame<R> {
    /// The header.
    pub header: RequestHeader,
    /// The header version that was on the wire.
    pub header_version: i16,
    /// The typed request body.
    pub request: R,
}

impl<R: FrameRequest> RequestFrame<R> {
    /// Decodes a request frame (without its size prefix): header, then the body of the API and
    /// version the header names. Bytes after the body are ignored, as Kafka's broker ignores
    /// them (`RequestContext.parseRequest` and `AbstractRequest.parseRequest` never look at
    /// what is left; librdkafka's Metadata requests carry such bytes).
    ///
    /// An unknown API key or a version this build does not support is
    /// [`DecodeErrorKind::UnknownApiKey`] or [`DecodeErrorKind::UnsupportedVersion`]; a server
    /// that wants to answer those (as brokers answer ApiVersions) reads the header first with
    /// [`decode_request_header`].
    ///
    /// A frame passed with its 4-byte size prefix still in front (the prefix equals the number
    /// of bytes after it) fails with an error that says so, instead of whatever its bytes
    /// misread as; [`FrameSplitter`](crate::FrameSplitter) strips the prefix.
    pub fn decode(mut frame: Bytes) -> Result<Self, DecodeError> {
        let prefixed = SizePrefixed::check(&frame);
        let decoded = read_request_header(&mut frame)
            .and_then(|(header, header_version)| Self::decode_after_header(header, header_version, frame));
        decoded.map_err(|e| prefixed.explain(e))
    }

    /// The rest of [`RequestFrame::decode`] for a server that read the header first with
    /// [`decode_request_header`] (to answer an unknown version, or check authentication):
    /// decodes the body in `body` (the frame after its header) without reading the header
    /// again. Bytes after the body are ignored, as in [`RequestFrame::decode`].
    pub fn decode_after_header(
        header: RequestHeader,
        header_version: i16,
        mut body: Bytes,
    ) -> Result<Self, DecodeError> {
        let request = R::decode_body(header.request_api_key, header.request_api_version, &mut body)?;
        Ok(RequestFrame { header, header_version, request })
    }

    /// The API version of the request.
    pub fn version(&self) -> i16 {
        self.header.request_api_version
    }
}

#[cfg(feature = "versioned")]
impl RequestFrame<AnyRequest> {
    /// Encodes `response` as the answer to this request: a size-prefixed frame with this
    /// request's correlation id and the response header version that goes with it.
    ///
    /// The response must be of this request's API and version (Kafka's broker builds the
    /// answer from the request's own header, `RequestContext.buildResponseSend`); another is
    /// [`EncodeErrorKind::ResponseMismatch`], since the client could not parse it.
    pub fn respond(&self, response: &AnyResponse) -> Result<Bytes, EncodeError> {
        let (api_key, version) = (response.api_key().code(), response.version());
        if (api_key, version) != (self.header.request_api_key, self.header.request_api_version) {
            return Err(EncodeError::new(
                EncodeErrorKind::ResponseMismatch {
                    request: (self.header.request_api_key, self.header.request_api_version),
                    response: (api_key, version),
                },
                "frame",
            ));
        }
        response.serialize(self.header.correlation_id)
    }

    /// The same frame with the version-free request.
    pub fn into_version_free(self) -> RequestFrame<ApiRequest> {
        RequestFrame { header: self.header, header_version: self.header_version, request: self.request.into() }
    }
}

impl RequestFrame<ApiRequest> {
    /// Encodes `response` at this request's version as the answer to it: a size-prefixed frame
    /// with this request's correlation id and the response header of that version. A response
    /// of another API is [`EncodeErrorKind::ResponseMismatch`].
    pub fn respond(&self, response: &ApiResponse) -> Result<Bytes, EncodeError> {
        self.check_api(response)?;
        response.serialize(self.version(), self.header.correlation_id)
    }

    /// [`RequestFrame::respond`] as [`crate::Chunks`] for a vectored write.
    pub fn respond_chunks(&self, response: &ApiResponse) -> Result<crate::Chunks, EncodeError> {
        self.check_api(response)?;
        response.serialize_chunks(self.version(), self.header.correlation_id)
    }

    fn check_api(&self, response: &ApiResponse) -> Result<(), EncodeError> {
        let api_key = response.api_key().code();
        if api_key != self.header.request_api_key {
            let request = (self.header.request_api_key, self.header.request_api_version);
            let response = (api_key, self.header.request_api_version);
            return Err(EncodeError::new(EncodeErrorKind::ResponseMismatch { request, response }, "frame"));
        }
        Ok(())
    }
}

/// Parses a whole response frame (header and body, without the size prefix) into the
/// any-API response type.
#[cfg(feature = "versioned")]
pub type AnyResponseDeserializer = fn(Bytes) -> Result<(ResponseHeader, AnyResponse), DecodeError>;

/// The [`AnyResponseDeserializer`] of response type `R`.
#[doc(hidden)]
#[cfg(feature = "versioned")]
#[allow(unreachable_code)] // with no API compiled in, `AnyResponse` has no value
pub fn decode_any_response<R: crate::VersionedResponse>(
    frame: Bytes,
) -> Result<(ResponseHeader, AnyResponse), DecodeError>
where
    AnyResponse: From<R>,
{
    match R::decode_frame(frame) {
        Ok((header, response)) => Ok((header, response.into_any())),
        Err(e) => Err(e),
    }
}

#[cfg(all(test, feature = "metadata", feature = "versioned"))]
mod tests {
    use super::*;
    use crate::{metadata, VersionFreeRequest};

    fn frame() -> Bytes {
        let request = metadata::Request { topics: None, ..Default::default() };
        request.serialize(12, 7, Some("me")).unwrap()
    }

    /// A frame handed over with its size prefix: the error says so (and keeps what decoding it
    /// as it is gave), instead of only "null in a non-nullable field".
    #[test]
    fn a_frame_that_still_has_its_size_prefix_is_named() {
        let with_prefix = frame();
        for e in [
            RequestFrame::<ApiRequest>::decode(with_prefix.clone()).unwrap_err(),
            RequestFrame::<AnyRequest>::decode(with_prefix.clone()).unwrap_err(),
        ] {
            assert!(matches!(e.kind(), DecodeErrorKind::Invalid(m) if m.contains("strip the 4-byte size")), "{e}");
            assert!(e.to_string().contains(&format!("its own size prefix ({},", with_prefix.len() - 4)), "{e}");
        }
        let stripped = RequestFrame::<ApiRequest>::decode(with_prefix.slice(4..)).unwrap();
        assert_eq!((stripped.header.correlation_id, stripped.version()), (7, 12));
        // Any other malformed frame keeps its own error.
        let e = RequestFrame::<ApiRequest>::decode(with_prefix.slice(4..9)).unwrap_err();
        assert!(!matches!(e.kind(), DecodeErrorKind::Invalid(_)), "{e}");
    }

    /// The header read first, the body after it: the same frame as decoding it whole.
    #[test]
    fn header_then_body() {
        let mut body = frame().slice(4..);
        let whole = RequestFrame::<ApiRequest>::decode(body.clone()).unwrap();
        let (header, header_version) = decode_request_header(&mut body).unwrap();
        assert_eq!(RequestFrame::<ApiRequest>::decode_after_header(header, header_version, body).unwrap(), whole);
    }
}
