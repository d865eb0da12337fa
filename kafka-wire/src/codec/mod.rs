//! Wire primitives: how each schema type is laid out in bytes.
//!
//! Generated code is a list of calls into this module, one per field. Decoding reads from a
//! [`Bytes`] so that strings and byte fields are zero-copy slices of the input.
//! Every length and count is checked against the bytes that remain before anything is
//! allocated; nothing here panics on any input.
//!
//! One concern per file: [`Wire`] itself (here), fixed-width values (`fixed.rs`), varints
//! (`varint.rs`), length prefixes (`prefix.rs`), strings and byte fields (`strings.rs`, with the
//! JDK's UTF-8 decoding in `java_utf8.rs`), arrays (`array.rs`), nullable structs
//! (`nullable.rs`), tagged-field sections (`tagged_reader.rs`, `tagged_writer.rs`) and the
//! unknown tagged fields kept from decoding (`unknown_tagged.rs`).

use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};

mod array;
mod fixed;
pub(crate) mod java_utf8;
mod nullable;
mod prefix;
mod strings;
mod tagged_reader;
mod tagged_writer;
mod unknown_tagged;
mod varint;

pub use crate::encoder::{Chunks, Encoder, SHARE_MIN_LEN};
pub use fixed::{put_array, take};
pub use nullable::WireStruct;
pub use prefix::MAX_STRING_LEN;
pub(crate) use strings::utf8_lossy;
pub use tagged_reader::{get_tagged, TaggedReader, MAX_TAGGED_FIELDS};
pub use tagged_writer::{tagged_field_len, TaggedWriter};
pub use unknown_tagged::{RawTaggedField, UnknownTaggedFields};
pub use varint::{
    get_uvarint, get_uvarlong, get_varint, get_varlong, put_uvarint, put_uvarlong, put_varint, put_varlong,
    uvarint_len, uvarlong_len, varint_len, varlong_len,
};
pub(crate) use varint::{slice_varint, slice_varlong};

/// The field being decoded or encoded, as `Struct.Field`; named in errors.
pub type Field = &'static str;

/// The least of `lens`: the [`Wire::MIN_LEN`] of a version-free struct, whose fields differ by
/// version (one sum of its fields' minimums per distinct version layout).
#[doc(hidden)]
pub const fn min_len_of(lens: &[usize]) -> usize {
    let mut least = usize::MAX;
    let mut i = 0;
    while i < lens.len() {
        if lens[i] < least {
            least = lens[i];
        }
        i += 1;
    }
    if lens.is_empty() {
        0
    } else {
        least
    }
}

/// A type with a Kafka wire encoding.
///
/// `compact` selects the flexible-version ("compact") form of strings, bytes and arrays; types
/// whose encoding does not depend on it ignore it. Generated structs implement this trait with a
/// fixed layout, so a struct ignores `compact` too.
pub trait Wire: Sized {
    /// A lower bound on the encoded size of any value of this type (in either form). Used to
    /// reject element counts that the remaining input cannot hold before allocating.
    const MIN_LEN: usize;

    /// The exact number of bytes [`Wire::wire_put`] writes.
    fn wire_len(&self, compact: bool, version: i16) -> usize;

    /// Appends the encoding to `buf`.
    fn wire_put(&self, buf: &mut Encoder, compact: bool, version: i16, field: Field) -> Result<(), EncodeError>;

    /// Reads one value from the front of `buf`.
    fn wire_get(buf: &mut Bytes, compact: bool, version: i16, field: Field) -> Result<Self, DecodeError>;

    /// Appends the encodings of `items` (the elements of an array). Fixed-size primitives
    /// override it with infallible writes.
    #[doc(hidden)]
    #[inline]
    fn wire_put_all(
        items: &[Self],
        buf: &mut Encoder,
        compact: bool,
        version: i16,
        field: Field,
    ) -> Result<(), EncodeError> {
        // A slice pattern: nothing (no iterator, no bounds check) instantiated per element type
        // but this function.
        let mut rest = items;
        while let [e, tail @ ..] = rest {
            tri!(e.wire_put(buf, compact, version, field));
            rest = tail;
        }
        Ok(())
    }

    /// Reads `count` values (the elements of an array whose count was checked against the
    /// remaining bytes). Fixed-size primitives override it to read them all in one pass.
    #[doc(hidden)]
    #[inline]
    fn wire_get_many(
        buf: &mut Bytes,
        count: usize,
        compact: bool,
        version: i16,
        field: Field,
    ) -> Result<Vec<Self>, DecodeError> {
        let mut v = Vec::with_capacity(count);
        for _ in 0..count {
            match Self::wire_get(buf, compact, version, field) {
                Ok(e) => v.push(e),
                Err(e) => return Err(e),
            }
        }
        Ok(v)
    }
}

#[cfg(test)]
mod test_util {
    use super::*;

    /// The encoding of `v`, checking that `wire_len` predicted its size.
    pub(super) fn enc<T: Wire>(v: &T, compact: bool) -> Vec<u8> {
        let mut b = Encoder::default();
        v.wire_put(&mut b, compact, 0, "t").unwrap();
        assert_eq!(b.len(), v.wire_len(compact, 0));
        b.to_vec()
    }

    pub(super) fn dec<T: Wire>(bytes: &[u8], compact: bool) -> Result<T, DecodeError> {
        let mut b = Bytes::copy_from_slice(bytes);
        T::wire_get(&mut b, compact, 0, "t")
    }
}
