//! The tagged fields that the decoding version does not know, kept to be written back.

use bytes::{Buf, Bytes, BytesMut};

use super::tagged_reader::TaggedReader;
use super::{put_array, put_uvarint, uvarint_len, Field};
use crate::error::{DecodeError, EncodeError};

/// One tagged field that the decoding version does not know: its tag and raw value bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawTaggedField {
    /// The tag number.
    pub tag: u32,
    /// The value exactly as it was on the wire (without tag and size).
    pub data: Bytes,
}

impl RawTaggedField {
    /// Writes the field: tag, size, value.
    #[inline]
    pub(super) fn put(&self, buf: &mut BytesMut) {
        put_uvarint(buf, self.tag);
        put_uvarint(buf, self.data.len() as u32);
        buf.extend_from_slice(&self.data);
    }
}

/// Tagged fields unknown to the version that decoded them, kept in ascending tag order so that
/// re-encoding writes them back unchanged.
///
/// Nearly always empty, and present in every struct of a flexible version: the empty value is
/// one null pointer, so that it costs next to nothing to move and to drop. Never holds an empty
/// list (so that the derived comparisons hold).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
// The box is the point: one pointer instead of a `Vec`'s three words in every struct.
#[allow(clippy::box_collection)]
pub struct UnknownTaggedFields(Option<Box<Vec<RawTaggedField>>>);

impl UnknownTaggedFields {
    /// No unknown tagged fields.
    pub const fn new() -> Self {
        UnknownTaggedFields(None)
    }

    #[inline]
    fn fields(&self) -> &[RawTaggedField] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }

    /// Sets the raw value of `tag`, replacing an earlier value of the same tag.
    pub fn insert(&mut self, tag: u32, data: Bytes) {
        let v = self.0.get_or_insert_with(Default::default);
        match v.binary_search_by_key(&tag, |f| f.tag) {
            Ok(i) => v[i].data = data,
            Err(i) => v.insert(i, RawTaggedField { tag, data }),
        }
    }

    /// The raw value of `tag`, if present.
    pub fn get(&self, tag: u32) -> Option<&Bytes> {
        let v = self.fields();
        v.binary_search_by_key(&tag, |f| f.tag).ok().map(|i| &v[i].data)
    }

    /// Removes and returns the raw value of `tag`.
    pub fn remove(&mut self, tag: u32) -> Option<Bytes> {
        let v = self.0.as_mut()?;
        let i = v.binary_search_by_key(&tag, |f| f.tag).ok()?;
        let data = v.remove(i).data;
        if v.is_empty() {
            self.0 = None;
        }
        Some(data)
    }

    /// The fields in ascending tag order.
    pub fn iter(&self) -> std::slice::Iter<'_, RawTaggedField> {
        self.fields().iter()
    }

    /// How many unknown tagged fields there are.
    pub fn len(&self) -> usize {
        self.fields().len()
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// Encoded size of these fields (tag, size and value each), without the count.
    #[inline]
    pub fn body_len(&self) -> usize {
        self.iter().map(|f| uvarint_len(f.tag) + uvarint_len(f.data.len() as u32) + f.data.len()).sum()
    }

    /// Decodes a whole tagged-field section of which this version knows no tag.
    #[inline]
    pub fn decode_section(buf: &mut Bytes, field: Field) -> Result<Self, DecodeError> {
        // Almost always empty: a single zero byte.
        if buf.first() == Some(&0) {
            buf.advance(1);
            return Ok(UnknownTaggedFields::new());
        }
        Self::decode_section_slow(buf, field)
    }

    fn decode_section_slow(buf: &mut Bytes, field: Field) -> Result<Self, DecodeError> {
        let mut out = UnknownTaggedFields::new();
        let mut reader = TaggedReader::new(buf, field)?;
        while let Some((tag, data)) = reader.next(buf)? {
            out.push_sorted(tag, data);
        }
        Ok(out)
    }

    /// Encodes a whole tagged-field section holding only these fields.
    #[inline]
    pub fn encode_section(&self, buf: &mut BytesMut, _field: Field) -> Result<(), EncodeError> {
        if self.is_empty() {
            put_array(buf, [0]);
            return Ok(());
        }
        self.encode_section_slow(buf);
        Ok(())
    }

    fn encode_section_slow(&self, buf: &mut BytesMut) {
        put_uvarint(buf, self.len() as u32);
        for f in self.iter() {
            f.put(buf);
        }
    }

    /// Size of a tagged-field section holding only these fields.
    #[inline]
    pub fn section_len(&self) -> usize {
        if self.is_empty() {
            return 1;
        }
        uvarint_len(self.len() as u32) + self.body_len()
    }

    /// Adds a field read from the wire, keeping the fields sorted: tags may come in any order,
    /// and a later field of a tag already present replaces it (used by the decoder; see
    /// [`TaggedReader`]).
    #[doc(hidden)]
    #[inline]
    pub fn push_sorted(&mut self, tag: u32, data: Bytes) {
        if let Some(v) = self.0.as_deref_mut() {
            // In order, as writers put them: an append.
            if v.last().is_some_and(|f| f.tag < tag) {
                v.push(RawTaggedField { tag, data });
                return;
            }
        }
        self.insert(tag, data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::get_tagged;
    use crate::error::DecodeErrorKind;

    #[test]
    fn tagged_sections_take_any_order_and_reject_size_mismatch() {
        // Tags 4, 3, 4: kept sorted, the later 4 replacing the first.
        let mut buf = Bytes::from_static(&[3, 4, 1, 0xa, 3, 1, 0xb, 4, 1, 0xc]);
        let u = UnknownTaggedFields::decode_section(&mut buf, "t").unwrap();
        let tags: Vec<(u32, &[u8])> = u.iter().map(|f| (f.tag, f.data.as_ref())).collect();
        assert_eq!(tags, [(3, &[0xb][..]), (4, &[0xc][..])]);
        assert!(buf.is_empty());

        let e = get_tagged::<i8>(1, Bytes::from_static(&[1, 2]), 0, "t").unwrap_err();
        assert_eq!(e.kind(), &DecodeErrorKind::TaggedFieldSize { tag: 1, declared: 2, used: 1 });
    }
}
