//! Deterministic sample values for tests (feature `samples`): every field set to a value that
//! differs from its default, tagged fields included, and an unknown tagged field in every
//! flexible struct. The test suite encodes them for every API and version.

use bytes::Bytes;

use crate::codec::UnknownTaggedFields;

/// A value of every field that differs from the field's default.
pub trait Sample {
    /// The sample value.
    fn sample() -> Self;
}

/// The unknown tag put into every flexible struct of a sample (a two-byte varint).
pub const UNKNOWN_TAG: u32 = 200;

/// One unknown tagged field, as a decoder would keep it.
pub fn unknown_tagged_fields() -> UnknownTaggedFields {
    let mut u = UnknownTaggedFields::new();
    u.insert(UNKNOWN_TAG, Bytes::from_static(&[0xab, 0xcd]));
    u
}
