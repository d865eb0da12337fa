//! Every Apache Kafka protocol message, in every version, as plain Rust values.
//!
//! Generated from Kafka's own JSON schemas by `cargo xtask gen`. Each API has a module with
//! both halves of the protocol:
//!
//! - a **version-free** type with the fields of every version (`metadata::Request`), written
//!   and read at whatever version a connection negotiated, deciding per field as Kafka's Java
//!   classes do: a field the version lacks must hold its default unless the schema marks it
//!   ignorable ([`EncodeErrorKind::UnsupportedField`] otherwise);
//! - with the `versioned` feature, one module per version holding exactly that version's fields
//!   (`metadata::v12::Request`), with `From` and `TryFrom` to and from the version-free type.
//!
//! ```
//! use kafka_wire::{metadata, VersionFreeRequest, VersionFreeResponse};
//!
//! let request = metadata::Request {
//!     topics: Some(vec![metadata::MetadataRequestTopic { name: Some("orders".into()), ..Default::default() }]),
//!     ..Default::default()
//! };
//! // The same value written at two versions: request header v1 for v8, v2 for v12 (flexible).
//! for version in [8, 12] {
//!     let frame = request.serialize(version, 7, Some("my-client")).unwrap();
//!     assert_eq!(&frame[4..8], &[0, 3, 0, version as u8]); // API key 3, the version
//! }
//! // The broker's answer (here: built and encoded locally), read at the version sent.
//! let answer = metadata::Response { throttle_time_ms: 5, ..Default::default() };
//! let frame_in = answer.serialize(12, 7).unwrap();
//! let (header, response) = metadata::Response::decode_frame(12, frame_in.slice(4..)).unwrap();
//! assert_eq!((header.correlation_id, response.throttle_time_ms), (7, 5));
//!
//! // Exactly one version's fields, and the conversion between the halves (`versioned`).
//! #[cfg(feature = "versioned")]
//! {
//!     let v12: metadata::v12::Request = request.clone().try_into().unwrap();
//!     assert_eq!(metadata::Request::from(v12), request);
//! }
//! ```
//!
//! A broker or proxy goes the other way with [`RequestFrame::decode`] (version-free:
//! `RequestFrame::<ApiRequest>::decode`) and [`RequestFrame::respond`], which answers at the
//! request's version.
//!
//! # Cargo features
//! - one feature per API, named like its module (`fetch`, `api_versions`, ...); `all-apis`
//!   (default) enables all. Headers, data schemas, [`ApiKey`] and [`ErrorCode`] are always built.
//! - `versioned` (off by default): the per-version types (`metadata::v12::Request`),
//!   `AnyRequest`, `AnyResponse`, `VersionedRequest`/`VersionedResponse` and the conversions
//!   between the halves. Without it every API has only its version-free `Request`/`Response`,
//!   and a build of all APIs compiles about a third of the code (see the README's "Build
//!   cost"); [`RequestFrame`] then names its body type (`RequestFrame::<ApiRequest>`).
//! - `unstable`: the versions Kafka marks `latestVersionUnstable`.
//! - `gzip`, `snappy`, `lz4`, `zstd` (default): the compression codecs of record batches (see
//!   [`records`]); without one, batches using it decode but their records do not.
//! - `samples`: deterministic sample values of every message (for tests).
//! - `arbitrary`: `arbitrary::Arbitrary` for every message of every version (fuzzing, property tests).
//!
//! # Untrusted input
//! Decoding never panics and never allocates from a count it has not checked against the bytes
//! that remain. In numbers (bytes requested from the allocator in total, frees not subtracted,
//! whether decoding succeeds or fails; checked by `tests/tests/allocation_bound.rs` with a
//! counting allocator, and on every input of the fuzz targets):
//! - decoding an `n`-byte body or request frame ([`ApiRequest::decode`], [`ApiResponse::decode`],
//!   `AnyRequest::decode`, `AnyResponse::decode`, [`RequestFrame::decode`], and each message's
//!   `decode`) requests at most **`128 * n + 4096`** bytes; a response deserializer at most
//!   three times that (the ApiVersions v0 fallback may read the body three times). Strings,
//!   bytes and records are slices of the input; an array of `c` elements of type `T` reserves
//!   `c * size_of::<T>()` only once `c * T::MIN_LEN` bytes remain. A per-version struct's
//!   `size_of::<T>() / T::MIN_LEN` is at most 32 (a 32-byte string handle per 1-byte minimum);
//!   a version-free struct holds the fields of every version and its `MIN_LEN` is the least
//!   over its versions, so its ratio can be higher. Arrays nested up to 4 deep may each reserve
//!   against the same remaining bytes, and each unknown tagged field (at least 2 bytes) costs
//!   a 40-byte entry in a growing vector; the worst measured case is 87 bytes per input byte
//!   (nested counts in a version-free OffsetFetch v8 request).
//! - reading every record of an `n`-byte record set ([`Records::batches`], then
//!   `records_budgeted` on each batch with one [`records::DecompressionBudget`] of `cap` bytes
//!   for the whole set) requests at most **`40 * (n + cap) + 10 MiB`**: each compressed batch is
//!   charged its decoder's state and its decompressed size, whatever the ratio of its input,
//!   and a batch that does not fit fails. `records_capped(cap)` caps a single batch, so over a
//!   set of many compressed batches it allows `cap` per batch. zstd's window is limited to the
//!   larger of 8 MiB and twice the cap (zstd's own buffers are allocated by its C library,
//!   outside Rust's allocator).
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

/// `?` for the generated code, as a `match`: `?` calls `Try::branch` and `FromResidual`, two
/// functions instantiated for every result type, and the generated code has thousands of types
/// (serde_json's `tri!` exists for the same reason). Defined before the modules that use it.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Err(::core::convert::From::from(e)),
        }
    };
}

#[cfg(feature = "arbitrary")]
pub mod arbitrary_support;
mod body;
pub mod codec;
mod convert;
mod downgrade;
mod encoder;
mod error;
mod frame;
pub mod framing;
mod message;
mod negotiate;
pub mod records;
#[cfg(feature = "samples")]
#[doc(hidden)]
pub mod samples;
mod uuid;
mod version_free;

#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic)]
mod messages;

pub use ::smallvec::{self, smallvec, SmallVec};
pub use bytes::{Buf, Bytes, BytesMut};
pub use bytestring::ByteString;

pub use codec::{Chunks, RawTaggedField, UnknownTaggedFields};
pub use error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
#[cfg(feature = "versioned")]
pub use frame::AnyResponseDeserializer;
pub use frame::{
    decode_request_header, decode_response_header, peek_correlation_id, FrameRequest, RequestFrame, RequestHeader,
    ResponseHeader,
};
pub use framing::{FrameError, FrameSplitter, SIZE_PREFIX_LEN};
pub use message::Message;
#[cfg(feature = "versioned")]
pub use message::{ResponseDeserializer, VersionedRequest, VersionedResponse};
pub use messages::*;
pub use negotiate::{negotiate, NegotiatedVersions, VersionRange};
pub use records::Records;
pub use uuid::{ParseUuidError, Uuid};
pub use version_free::{VersionFreeMessage, VersionFreeRequest, VersionFreeResponse};

/// Names the generated code uses, in one place.
#[doc(hidden)]
pub mod __gen {
    pub use crate::codec::{self, Encoder, Field, UnknownTaggedFields, Wire, WireStruct};
    pub use crate::convert::{vec_from, vec_to};
    #[cfg(feature = "versioned")]
    pub use crate::downgrade::decode_body_with_v0_fallback;
    pub use crate::downgrade::decode_version_free_body_with_v0_fallback;
    #[cfg(feature = "versioned")]
    pub use crate::frame::decode_any_response;
    pub use crate::{
        ApiKey, DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind, ErrorCode, Message, Records, Uuid,
    };
    pub use ::smallvec::{smallvec, SmallVec};
    pub use bytes::{Bytes, BytesMut};
    pub use bytestring::ByteString;
}
