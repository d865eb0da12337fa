//! Reading a tagged-field section (flexible versions, KIP-482).

use bytes::Bytes;

use super::{get_uvarint, take, Field, Wire};
use crate::error::{DecodeError, DecodeErrorKind};

/// The most tagged fields one section may hold: Kafka's generated `read()` methods refuse a
/// section that declares more (`RuntimeException: ... tagged fields` in every `*Data.read`).
pub const MAX_TAGGED_FIELDS: u32 = 10_000;

/// Reads a tagged-field section: the count, then `(tag, value bytes)` pairs.
///
/// As Kafka's generated `read()` methods, it takes the tags in any order and any repeats (some
/// clients write them unordered): the decoder lets a later value of a known tag replace an
/// earlier one and keeps unknown ones sorted, a repeat replacing (Kafka keeps both in its list,
/// and then cannot write them back). A count above [`MAX_TAGGED_FIELDS`] or above the bytes
/// left is an error, as in Kafka.
#[derive(Debug)]
pub struct TaggedReader {
    remaining: u32,
    field: Field,
}

impl TaggedReader {
    /// Reads the count of tagged fields.
    #[inline]
    pub fn new(buf: &mut Bytes, field: Field) -> Result<Self, DecodeError> {
        let remaining = get_uvarint(buf, field)?;
        if remaining as usize > buf.len() {
            // Every field takes at least two bytes (tag and size); Kafka compares with one.
            return Err(DecodeError::new(
                DecodeErrorKind::CountTooLarge { count: remaining as usize, remaining: buf.len() },
                field,
            ));
        }
        if remaining > MAX_TAGGED_FIELDS {
            return Err(DecodeError::new(
                DecodeErrorKind::Invalid(format!(
                    "{remaining} tagged fields, more than the {MAX_TAGGED_FIELDS} Kafka reads"
                )),
                field,
            ));
        }
        Ok(TaggedReader { remaining, field })
    }

    /// The next tag and its value bytes, or `None` after the last one.
    #[inline]
    pub fn next(&mut self, buf: &mut Bytes) -> Result<Option<(u32, Bytes)>, DecodeError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        let tag = get_uvarint(buf, self.field)?;
        let size = get_uvarint(buf, self.field)? as usize;
        Ok(Some((tag, take(buf, size, self.field)?)))
    }
}

/// Decodes the value of a known tagged field from exactly its declared bytes. A value that
/// needs more or fewer bytes is [`DecodeErrorKind::TaggedFieldSize`] (Kafka ignores the declared
/// size of a field it knows and reads on; see `tests/CONFORMANCE.md`).
#[inline]
pub fn get_tagged<T: Wire>(tag: u32, mut data: Bytes, version: i16, field: Field) -> Result<T, DecodeError> {
    let declared = data.len();
    // `match` rather than `map_err` and `?`: the error handling below is not generic, so it is
    // compiled once rather than once per value type.
    match T::wire_get(&mut data, true, version, field) {
        Ok(v) if data.is_empty() => Ok(v),
        Ok(_) => Err(DecodeError::new(
            DecodeErrorKind::TaggedFieldSize { tag, declared, used: declared - data.len() },
            field,
        )),
        Err(e) => Err(tagged_value_error(e, tag, declared, field)),
    }
}

/// A value that ran past its declared bytes needed at least `needed - remaining` more.
fn tagged_value_error(e: DecodeError, tag: u32, declared: usize, field: Field) -> DecodeError {
    match *e.kind() {
        DecodeErrorKind::UnexpectedEof { needed, remaining } => DecodeError::new(
            DecodeErrorKind::TaggedFieldSize { tag, declared, used: declared + needed.saturating_sub(remaining) },
            field,
        ),
        _ => e,
    }
}
