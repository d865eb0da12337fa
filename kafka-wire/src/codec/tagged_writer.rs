//! Writing a tagged-field section (flexible versions, KIP-482): the known fields of a struct
//! merged with its unknown ones, in ascending tag order.

use bytes::BytesMut;

use super::unknown_tagged::{RawTaggedField, UnknownTaggedFields};
use super::{put_uvarint, uvarint_len, Encoder, Field, Wire};
use crate::error::{EncodeError, EncodeErrorKind};

/// The size of one known tagged field whose value takes `value_len` bytes.
#[inline]
pub const fn tagged_field_len(tag: u32, value_len: usize) -> usize {
    uvarint_len(tag) + uvarint_len(value_len as u32) + value_len
}

/// Writes a tagged-field section, merging known fields (written by the generated code in
/// ascending tag order) with the unknown ones kept from decoding.
#[derive(Debug)]
pub struct TaggedWriter<'a> {
    unknown: std::slice::Iter<'a, RawTaggedField>,
    next_unknown: Option<&'a RawTaggedField>,
    field: Field,
}

impl<'a> TaggedWriter<'a> {
    /// Writes the count: `known` fields that will be written plus every unknown one.
    #[inline]
    pub fn begin(
        buf: &mut BytesMut,
        known: usize,
        unknown: &'a UnknownTaggedFields,
        field: Field,
    ) -> Result<Self, EncodeError> {
        put_uvarint(buf, (known + unknown.len()) as u32);
        let mut it = unknown.iter();
        let next_unknown = it.next();
        Ok(TaggedWriter { unknown: it, next_unknown, field })
    }

    #[inline]
    fn flush_below(&mut self, buf: &mut BytesMut, tag: u32) -> Result<(), EncodeError> {
        while let Some(f) = self.next_unknown {
            if f.tag > tag {
                break;
            }
            if f.tag == tag {
                return Err(EncodeError::new(EncodeErrorKind::TagConflict(tag), self.field));
            }
            f.put(buf);
            self.next_unknown = self.unknown.next();
        }
        Ok(())
    }

    /// Writes known field `tag` (after any unknown fields with smaller tags).
    #[inline]
    pub fn field<T: Wire>(
        &mut self,
        buf: &mut Encoder,
        tag: u32,
        value: &T,
        version: i16,
        field: Field,
    ) -> Result<(), EncodeError> {
        self.flush_below(buf, tag)?;
        put_uvarint(buf, tag);
        put_uvarint(buf, value.wire_len(true, version) as u32);
        value.wire_put(buf, true, version, field)
    }

    /// Writes the remaining unknown fields.
    #[inline]
    pub fn finish(mut self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        while let Some(f) = self.next_unknown {
            f.put(buf);
            self.next_unknown = self.unknown.next();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::TaggedReader;
    use bytes::Bytes;

    #[test]
    fn tagged_sections_merge_known_and_unknown_in_order() {
        let mut unknown = UnknownTaggedFields::new();
        unknown.insert(5, Bytes::from_static(b"\x01"));
        unknown.insert(0, Bytes::from_static(b"\x02\x03"));
        let mut b = Encoder::default();
        let mut w = TaggedWriter::begin(&mut b, 1, &unknown, "t").unwrap();
        w.field(&mut b, 3, &7i32, 0, "t").unwrap();
        w.finish(&mut b).unwrap();
        assert_eq!(b.to_vec(), [3, 0, 2, 2, 3, 3, 4, 0, 0, 0, 7, 5, 1, 1]);

        let mut buf = b.finish().to_bytes();
        let mut r = TaggedReader::new(&mut buf, "t").unwrap();
        let mut seen = vec![];
        while let Some((tag, data)) = r.next(&mut buf).unwrap() {
            seen.push((tag, data.to_vec()));
        }
        assert_eq!(seen, [(0, vec![2, 3]), (3, vec![0, 0, 0, 7]), (5, vec![1])]);

        let mut b = Encoder::default();
        let mut w = TaggedWriter::begin(&mut b, 1, &unknown, "t").unwrap();
        assert_eq!(w.field(&mut b, 5, &1i8, 0, "t").unwrap_err().kind(), &EncodeErrorKind::TagConflict(5));
    }
}
