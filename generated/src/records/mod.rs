//! Record sets: the bytes of a `records` field (Produce requests, Fetch responses, ...).
//!
//! [`Records`] keeps the bytes exactly as received, so a proxy that only forwards them pays for
//! no parse and no copy.

use bytes::{Bytes, BytesMut};

use crate::codec::{Field, Wire};
use crate::error::{DecodeError, EncodeError};

/// The content of a `records` field: a record set, held as the bytes on the wire.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Records(Bytes);

impl Records {
    /// An empty record set.
    pub const fn new() -> Self {
        Records(Bytes::new())
    }

    /// A record set from its encoded bytes (no copy, no validation).
    pub fn from_bytes(bytes: Bytes) -> Self {
        Records(bytes)
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// The encoded bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The encoded size in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set holds no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Bytes> for Records {
    fn from(bytes: Bytes) -> Self {
        Records(bytes)
    }
}

impl From<Records> for Bytes {
    fn from(r: Records) -> Self {
        r.0
    }
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Records({} bytes)", self.0.len())
    }
}

/// On the wire a `records` field is exactly a `bytes` field of the same version.
impl Wire for Records {
    const MIN_LEN: usize = 1;
    #[inline]
    fn wire_len(&self, compact: bool) -> usize {
        self.0.wire_len(compact)
    }
    #[inline]
    fn wire_put(&self, buf: &mut BytesMut, compact: bool, field: Field) -> Result<(), EncodeError> {
        self.0.wire_put(buf, compact, field)
    }
    #[inline]
    fn wire_get(buf: &mut Bytes, compact: bool, field: Field) -> Result<Self, DecodeError> {
        Bytes::wire_get(buf, compact, field).map(Records)
    }
}

impl Wire for Option<Records> {
    const MIN_LEN: usize = 1;
    #[inline]
    fn wire_len(&self, compact: bool) -> usize {
        match self {
            Some(r) => r.wire_len(compact),
            None => None::<Bytes>.wire_len(compact),
        }
    }
    #[inline]
    fn wire_put(&self, buf: &mut BytesMut, compact: bool, field: Field) -> Result<(), EncodeError> {
        match self {
            Some(r) => r.wire_put(buf, compact, field),
            None => None::<Bytes>.wire_put(buf, compact, field),
        }
    }
    #[inline]
    fn wire_get(buf: &mut Bytes, compact: bool, field: Field) -> Result<Self, DecodeError> {
        Ok(Option::<Bytes>::wire_get(buf, compact, field)?.map(Records))
    }
}
