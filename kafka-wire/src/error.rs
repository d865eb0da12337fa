//! Typed errors for decoding and encoding.
//!
//! Every error names where it happened: the message and version (when the failure happened
//! inside a whole message) and the field, as `StructName.FieldName` in Kafka's own spelling.

use std::fmt;

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended before the value did.
    #[error("needed {needed} more bytes, {remaining} remain")]
    UnexpectedEof { needed: usize, remaining: usize },
    /// A length or count was negative (and not the null marker of a nullable field).
    #[error("invalid length {0}")]
    InvalidLength(i64),
    /// A count claims more elements than the remaining bytes could hold.
    #[error("count {count} exceeds what the remaining {remaining} bytes can hold")]
    CountTooLarge { count: usize, remaining: usize },
    /// A non-nullable field was encoded as null.
    #[error("null in a non-nullable field")]
    UnexpectedNull,
    /// A string was not valid UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A varint ran past its maximum length.
    #[error("varint is too long")]
    VarintTooLong,
    /// A known tagged field's value did not fill exactly the size its header declared (`used`:
    /// what the value took, or when it ran past the declared bytes, at least that many).
    #[error("tagged field {tag} declares {declared} bytes but its value used {used}")]
    TaggedFieldSize { tag: u32, declared: usize, used: usize },
    /// Bytes were left over after a complete message.
    #[error("{0} unexpected trailing bytes")]
    TrailingBytes(usize),
    /// An API key this crate does not know.
    #[error("unknown API key {0}")]
    UnknownApiKey(i16),
    /// An API version this build does not support (unknown, or behind a disabled cargo feature).
    #[error("API key {api_key} version {version} is not supported by this build")]
    UnsupportedVersion { api_key: i16, version: i16 },
    /// A version-free message read at a version this build does not have.
    #[error("version {version} is not supported by this build")]
    UnsupportedMessageVersion { version: i16 },
    /// A value that the format forbids (e.g. a bad magic byte in a record batch).
    #[error("{0}")]
    Invalid(String),
    /// A record batch (magic 2, CRC-32C) or legacy message (magic 0/1, CRC-32) does not match
    /// its checksum. `offset` is the batch's base offset (the message's offset for legacy).
    #[error("CRC mismatch in the batch at offset {offset}: stored {stored:#010x}, computed {computed:#010x}")]
    CrcMismatch { offset: i64, stored: u32, computed: u32 },
    /// Record data uses a compression codec that is unknown or whose cargo feature is disabled.
    #[error("compression codec {0} is unknown or not enabled in this build")]
    UnsupportedCompression(u8),
    /// Decompressed record data would exceed the configured limit.
    #[error("decompressed data exceeds the limit of {limit} bytes")]
    DecompressedTooLarge { limit: usize },
    /// Compressed record data is corrupt.
    #[error("{codec} data is corrupt: {reason}")]
    Decompression { codec: &'static str, reason: String },
}

/// A decoding failure: what went wrong, in which field, in which message and version.
#[derive(Clone, PartialEq, Eq)]
pub struct DecodeError(Box<DecodeErrorInner>);

#[derive(Clone, PartialEq, Eq)]
struct DecodeErrorInner {
    kind: DecodeErrorKind,
    field: &'static str,
    message: Option<(&'static str, i16)>,
}

impl DecodeError {
    /// A new error of `kind` at `field` (`""` when no field applies).
    #[cold]
    pub fn new(kind: DecodeErrorKind, field: &'static str) -> Self {
        DecodeError(Box::new(DecodeErrorInner { kind, field, message: None }))
    }

    #[cold]
    pub(crate) fn eof(field: &'static str, needed: usize, remaining: usize) -> Self {
        Self::new(DecodeErrorKind::UnexpectedEof { needed, remaining }, field)
    }

    /// Attaches the message name and version, unless an inner message already did.
    #[cold]
    pub fn in_message(mut self, name: &'static str, version: i16) -> Self {
        if self.0.message.is_none() {
            self.0.message = Some((name, version));
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.0.kind
    }

    /// The field being decoded, as `Struct.Field` (empty when not inside a field).
    pub fn field(&self) -> &'static str {
        self.0.field
    }

    /// The message name (e.g. `FetchRequest`) and version being decoded, if known.
    pub fn message(&self) -> Option<(&'static str, i16)> {
        self.0.message
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("decoding ")?;
        if let Some((name, version)) = self.0.message {
            write!(f, "{name} v{version} ")?;
        }
        if !self.0.field.is_empty() {
            write!(f, "field {} ", self.0.field)?;
        }
        write!(f, "failed: {}", self.0.kind)
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("kind", &self.0.kind)
            .field("field", &self.0.field)
            .field("message", &self.0.message)
            .finish()
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.kind)
    }
}

/// What went wrong while encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeErrorKind {
    /// A string, byte string or array is longer than its length prefix can express.
    #[error("length {len} exceeds the maximum {max} of this encoding")]
    TooLong { len: usize, max: usize },
    /// An unknown tagged field uses the tag of a field this version knows.
    #[error("unknown tagged field {0} collides with a known tag")]
    TagConflict(u32),
    /// A value that the format cannot express.
    #[error("{0}")]
    Invalid(String),
    /// A compression codec this build does not support (its cargo feature is disabled).
    #[error("compression codec {0} is not enabled in this build")]
    UnsupportedCompression(u8),
    /// A version-free value holds a non-default value in a field that `version` does not have
    /// and that the schema does not mark `ignorable` (Kafka's `UnsupportedVersionException`
    /// rule for writing a message at a version).
    #[error("version {version} has no such field and the value is not its default (the field is not ignorable)")]
    UnsupportedField { version: i16 },
    /// A version-free value holds null in a field that is not nullable in `version`.
    #[error("null in a field that version {version} does not allow to be null")]
    NullNotAllowed { version: i16 },
    /// A version-free value holds unknown tagged fields, and `version` is not flexible.
    #[error("version {version} has no tagged fields, but unknown tagged fields are set")]
    TaggedFieldsNotSupported { version: i16 },
    /// The message has no such version in this build (outside the schema's valid versions,
    /// or unstable without the `unstable` feature).
    #[error("version {version} is not supported by this build")]
    UnsupportedVersion { version: i16 },
    /// A response of another API or version than the request it answers, as `(API key,
    /// version)` pairs.
    #[error("response of API {} v{} to a request of API {} v{}", response.0, response.1, request.0, request.1)]
    ResponseMismatch { request: (i16, i16), response: (i16, i16) },
}

impl EncodeErrorKind {
    /// [`EncodeErrorKind::UnsupportedField`] at `field`.
    #[cold]
    #[doc(hidden)]
    pub fn unsupported_field(version: i16, field: &'static str) -> EncodeError {
        EncodeError::new(EncodeErrorKind::UnsupportedField { version }, field)
    }

    /// [`EncodeErrorKind::NullNotAllowed`] at `field`.
    #[cold]
    #[doc(hidden)]
    pub fn null_not_allowed(version: i16, field: &'static str) -> EncodeError {
        EncodeError::new(EncodeErrorKind::NullNotAllowed { version }, field)
    }

    /// [`EncodeErrorKind::TaggedFieldsNotSupported`] at `field`.
    #[cold]
    #[doc(hidden)]
    pub fn tagged_fields_not_supported(version: i16, field: &'static str) -> EncodeError {
        EncodeError::new(EncodeErrorKind::TaggedFieldsNotSupported { version }, field)
    }
}

/// An encoding failure: what went wrong, in which field, in which message and version.
#[derive(Clone, PartialEq, Eq)]
pub struct EncodeError(Box<EncodeErrorInner>);

#[derive(Clone, PartialEq, Eq)]
struct EncodeErrorInner {
    kind: EncodeErrorKind,
    field: &'static str,
    message: Option<(&'static str, i16)>,
}

impl EncodeError {
    /// A new error of `kind` at `field`.
    #[cold]
    pub fn new(kind: EncodeErrorKind, field: &'static str) -> Self {
        EncodeError(Box::new(EncodeErrorInner { kind, field, message: None }))
    }

    /// Attaches the message name and version, unless an inner message already did.
    #[cold]
    pub fn in_message(mut self, name: &'static str, version: i16) -> Self {
        if self.0.message.is_none() {
            self.0.message = Some((name, version));
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &EncodeErrorKind {
        &self.0.kind
    }

    /// The field being encoded, as `Struct.Field`.
    pub fn field(&self) -> &'static str {
        self.0.field
    }

    /// The message name and version being encoded, if known.
    pub fn message(&self) -> Option<(&'static str, i16)> {
        self.0.message
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("encoding ")?;
        if let Some((name, version)) = self.0.message {
            write!(f, "{name} v{version} ")?;
        }
        if !self.0.field.is_empty() {
            write!(f, "field {} ", self.0.field)?;
        }
        write!(f, "failed: {}", self.0.kind)
    }
}

impl fmt::Debug for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncodeError")
            .field("kind", &self.0.kind)
            .field("field", &self.0.field)
            .field("message", &self.0.message)
            .finish()
    }
}

impl std::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_message_version_and_field() {
        let e = DecodeError::eof("FetchPartition.FetchOffset", 8, 3).in_message("FetchRequest", 12);
        assert_eq!(
            e.to_string(),
            "decoding FetchRequest v12 field FetchPartition.FetchOffset failed: needed 8 more bytes, 3 remain"
        );
        // The innermost message wins.
        let e = e.in_message("Outer", 1);
        assert_eq!(e.message(), Some(("FetchRequest", 12)));
    }

    #[test]
    fn errors_are_small() {
        assert_eq!(std::mem::size_of::<DecodeError>(), std::mem::size_of::<usize>());
        assert_eq!(std::mem::size_of::<EncodeError>(), std::mem::size_of::<usize>());
    }
}
