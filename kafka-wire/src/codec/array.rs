//! Arrays: `Vec` for strings and structs, `SmallVec` for fixed-width values, plain and
//! nullable, with the element count checked against the remaining bytes before allocating.

use bytes::{Buf, Bytes};
use smallvec::SmallVec;

use super::prefix::{get_prefix, prefix_len, put_prefix, Prefix};
use super::{Encoder, Field, Wire};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

/// Reads an array count and checks that the remaining input can hold that many elements of at
/// least `min_len` bytes each (at least one byte each, as Kafka's own reader requires). Not
/// generic: compiled once for every element type.
#[inline]
fn get_count(buf: &mut Bytes, compact: bool, min_len: usize, field: Field) -> Result<Option<usize>, DecodeError> {
    // The common case first: a compact count below 127, in one byte.
    let count = match buf.first() {
        Some(&b) if compact && b < 0x80 => {
            buf.advance(1);
            match b {
                0 => return Ok(None),
                b => (b - 1) as usize,
            }
        }
        _ => match get_prefix(buf, Prefix::I32, compact, field)? {
            None => return Ok(None),
            Some(count) => count,
        },
    };
    if count.saturating_mul(min_len.max(1)) > buf.len() {
        return Err(count_too_large(count, buf.len(), field));
    }
    Ok(Some(count))
}

#[cold]
fn count_too_large(count: usize, remaining: usize, field: Field) -> DecodeError {
    DecodeError::new(DecodeErrorKind::CountTooLarge { count, remaining }, field)
}

/// The encoded size of the elements of an array (not its count).
///
/// One copy per element type: a slice pattern walks the elements, so nothing else (no iterator,
/// no bounds check) is instantiated per element type.
#[inline]
fn items_len<T: Wire>(items: &[T], compact: bool, version: i16) -> usize {
    let mut n = 0;
    let mut rest = items;
    while let [e, tail @ ..] = rest {
        n += e.wire_len(compact, version);
        rest = tail;
    }
    n
}

/// Writes an array's count (`None`: null).
#[inline(always)]
fn put_count(buf: &mut Encoder, compact: bool, len: Option<usize>, field: Field) -> Result<(), EncodeError> {
    put_prefix(buf, Prefix::I32, compact, len, field)
}

/// The count of an array that is not nullable: null is [`DecodeErrorKind::UnexpectedNull`].
#[inline]
fn get_non_null_count(buf: &mut Bytes, compact: bool, min_len: usize, field: Field) -> Result<usize, DecodeError> {
    match get_count(buf, compact, min_len, field)? {
        Some(count) => Ok(count),
        None => Err(null_array(field)),
    }
}

#[cold]
fn null_array(field: Field) -> DecodeError {
    DecodeError::new(DecodeErrorKind::UnexpectedNull, field)
}

/// Reads `count` elements (checked against the remaining bytes) into a `SmallVec`.
#[inline]
fn read_smallvec<A: smallvec::Array>(
    buf: &mut Bytes,
    count: usize,
    compact: bool,
    version: i16,
    field: Field,
) -> Result<SmallVec<A>, DecodeError>
where
    A::Item: Wire,
{
    let mut v = SmallVec::with_capacity(count);
    for _ in 0..count {
        match A::Item::wire_get(buf, compact, version, field) {
            Ok(e) => v.push(e),
            Err(e) => return Err(e),
        }
    }
    Ok(v)
}

/// The `Wire` impls of an array container, plain (null is an error) and nullable: thin
/// wrappers over the count functions above (not generic) and one loop per element type
/// (`items_len`, [`Wire::wire_put_all`], `$read`). `match` rather than `?` where the result
/// type is generic, so that no `Try` glue is instantiated per element type.
///
/// `Vec` holds strings and structs; `SmallVec` arrays of fixed-width values (`[]int32`,
/// `[]int64`, `[]uuid`, ...), keeping up to 16 bytes of elements inline, so the typical short
/// list (the 3 replicas of a partition) costs no allocation; longer ones allocate once,
/// exactly like a `Vec`.
macro_rules! array_wire {
    (impl<$g:ident> for $ty:ty, elem $elem:ty, read $read:expr, where $($bounds:tt)*) => {
        impl<$g> Wire for $ty where $($bounds)* {
            const MIN_LEN: usize = 1;
            #[inline]
            fn wire_len(&self, compact: bool, version: i16) -> usize {
                let items: &[$elem] = self;
                prefix_len(Prefix::I32, compact, Some(items.len())) + items_len(items, compact, version)
            }
            #[inline]
            fn wire_put(&self, buf: &mut Encoder, compact: bool, version: i16, field: Field) -> Result<(), EncodeError> {
                let items: &[$elem] = self;
                put_count(buf, compact, Some(items.len()), field)?;
                <$elem>::wire_put_all(items, buf, compact, version, field)
            }
            #[inline]
            fn wire_get(buf: &mut Bytes, compact: bool, version: i16, field: Field) -> Result<Self, DecodeError> {
                match get_non_null_count(buf, compact, <$elem>::MIN_LEN, field) {
                    Ok(count) => $read(buf, count, compact, version, field),
                    Err(e) => Err(e),
                }
            }
        }

        impl<$g> Wire for Option<$ty> where $($bounds)* {
            const MIN_LEN: usize = 1;
            #[inline]
            fn wire_len(&self, compact: bool, version: i16) -> usize {
                match self {
                    Some(v) => v.wire_len(compact, version),
                    None => prefix_len(Prefix::I32, compact, None),
                }
            }
            #[inline]
            fn wire_put(&self, buf: &mut Encoder, compact: bool, version: i16, field: Field) -> Result<(), EncodeError> {
                match self {
                    Some(v) => v.wire_put(buf, compact, version, field),
                    None => put_count(buf, compact, None, field),
                }
            }
            #[inline]
            fn wire_get(buf: &mut Bytes, compact: bool, version: i16, field: Field) -> Result<Self, DecodeError> {
                match get_count(buf, compact, <$elem>::MIN_LEN, field) {
                    Ok(Some(count)) => match $read(buf, count, compact, version, field) {
                        Ok(v) => Ok(Some(v)),
                        Err(e) => Err(e),
                    },
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    };
}

array_wire!(impl<T> for Vec<T>, elem T, read T::wire_get_many, where T: Wire);
array_wire!(impl<A> for SmallVec<A>, elem A::Item, read read_smallvec::<A>, where A: smallvec::Array, A::Item: Wire);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_util::dec;

    #[test]
    fn hostile_counts_are_rejected_before_allocating() {
        // 2^31-1 elements claimed, 4 bytes present.
        let e = dec::<Vec<i32>>(b"\x7f\xff\xff\xff\x00\x00\x00\x01", false).unwrap_err();
        assert!(matches!(e.kind(), DecodeErrorKind::CountTooLarge { count: 2147483647, remaining: 4 }));
        // Two int64 claimed, 9 bytes present.
        let e = dec::<Vec<i64>>(b"\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00", true).unwrap_err();
        assert!(matches!(e.kind(), DecodeErrorKind::CountTooLarge { count: 2, remaining: 9 }));
        assert_eq!(dec::<Option<Vec<i32>>>(b"\xff\xff\xff\xff", false).unwrap(), None);
        assert_eq!(dec::<Vec<i32>>(b"\xff\xff\xff\xff", false).unwrap_err().kind(), &DecodeErrorKind::UnexpectedNull);
        let e = dec::<Bytes>(b"\x7f\xff\xff\xff", false).unwrap_err();
        assert!(matches!(e.kind(), DecodeErrorKind::UnexpectedEof { .. }));
    }
}
