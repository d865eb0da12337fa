//! Arrays: `Vec` for strings and structs, `SmallVec` for fixed-width values, plain and
//! nullable, with the element count checked against the remaining bytes before allocating.

use std::ops::Deref;

use bytes::{Buf, Bytes};
use smallvec::SmallVec;

use super::prefix::{get_prefix, non_null, prefix_len, put_prefix, Prefix};
use super::{Encoder, Field, Wire};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

/// Reads an array count and checks that the remaining input can hold that many elements of at
/// least `min_len` bytes each (at least one byte each, as Kafka's own reader requires).
#[inline(always)]
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

/// An array container: `Vec`, or `SmallVec` for arrays of fixed-width values. The four array
/// `Wire` impls below (each container, plain and nullable) share the functions after it.
trait ArrayOf: Deref<Target = [Self::Elem]> + Sized {
    type Elem: Wire;
    /// Reads `count` elements, already checked against the remaining bytes.
    fn read(buf: &mut Bytes, count: usize, compact: bool, version: i16, field: Field) -> Result<Self, DecodeError>;
}

impl<T: Wire> ArrayOf for Vec<T> {
    type Elem = T;
    #[inline]
    fn read(buf: &mut Bytes, count: usize, compact: bool, version: i16, field: Field) -> Result<Self, DecodeError> {
        match count {
            0 => Ok(Vec::new()),
            _ => T::wire_get_many(buf, count, compact, version, field),
        }
    }
}

/// Arrays of fixed-width values (`[]int32`, `[]int64`, `[]uuid`, ...) keep up to 16 bytes of
/// elements inline, so the typical short list (the 3 replicas of a partition) costs no
/// allocation; longer ones allocate once, exactly like a `Vec`.
impl<A: smallvec::Array> ArrayOf for SmallVec<A>
where
    A::Item: Wire,
{
    type Elem = A::Item;
    #[inline]
    fn read(buf: &mut Bytes, count: usize, compact: bool, version: i16, field: Field) -> Result<Self, DecodeError> {
        let mut v = SmallVec::with_capacity(count);
        for _ in 0..count {
            v.push(A::Item::wire_get(buf, compact, version, field)?);
        }
        Ok(v)
    }
}

#[inline]
fn array_len<V: ArrayOf>(v: Option<&V>, compact: bool, version: i16) -> usize {
    prefix_len(Prefix::I32, compact, v.map(|v| v.len()))
        + v.map_or(0, |v| v.iter().map(|e| e.wire_len(compact, version)).sum::<usize>())
}

#[inline]
fn array_put<V: ArrayOf>(
    v: Option<&V>,
    buf: &mut Encoder,
    compact: bool,
    version: i16,
    field: Field,
) -> Result<(), EncodeError> {
    put_prefix(buf, Prefix::I32, compact, v.map(|v| v.len()), field)?;
    match v {
        Some(v) => V::Elem::wire_put_all(v, buf, compact, version, field),
        None => Ok(()),
    }
}

/// A nullable array (`None`: the null marker).
#[inline]
fn array_get<V: ArrayOf>(buf: &mut Bytes, compact: bool, version: i16, field: Field) -> Result<Option<V>, DecodeError> {
    match get_count(buf, compact, V::Elem::MIN_LEN, field)? {
        None => Ok(None),
        Some(count) => V::read(buf, count, compact, version, field).map(Some),
    }
}

/// The `Wire` impls of an array container, plain (null is an error) and nullable.
macro_rules! array_wire {
    (impl<$g:ident> for $ty:ty where $($bounds:tt)*) => {
        impl<$g> Wire for $ty where $($bounds)* {
            const MIN_LEN: usize = 1;
            #[inline]
            fn wire_len(&self, compact: bool, version: i16) -> usize {
                array_len(Some(self), compact, version)
            }
            #[inline]
            fn wire_put(&self, buf: &mut Encoder, compact: bool, version: i16, field: Field) -> Result<(), EncodeError> {
                array_put(Some(self), buf, compact, version, field)
            }
            #[inline]
            fn wire_get(buf: &mut Bytes, compact: bool, version: i16, field: Field) -> Result<Self, DecodeError> {
                non_null(array_get(buf, compact, version, field)?, field)
            }
        }

        impl<$g> Wire for Option<$ty> where $($bounds)* {
            const MIN_LEN: usize = 1;
            #[inline]
            fn wire_len(&self, compact: bool, version: i16) -> usize {
                array_len(self.as_ref(), compact, version)
            }
            #[inline]
            fn wire_put(&self, buf: &mut Encoder, compact: bool, version: i16, field: Field) -> Result<(), EncodeError> {
                array_put(self.as_ref(), buf, compact, version, field)
            }
            #[inline]
            fn wire_get(buf: &mut Bytes, compact: bool, version: i16, field: Field) -> Result<Self, DecodeError> {
                array_get(buf, compact, version, field)
            }
        }
    };
}

array_wire!(impl<T> for Vec<T> where T: Wire);
array_wire!(impl<A> for SmallVec<A> where A: smallvec::Array, A::Item: Wire);

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
