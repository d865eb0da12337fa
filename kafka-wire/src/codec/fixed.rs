//! Fixed-width values: integers, `float64`, `bool`, error codes and UUIDs, big-endian.

use bytes::{Buf, Bytes, BytesMut};

use super::{Encoder, Field, Wire};
use crate::error::{DecodeError, EncodeError};
use crate::Uuid;

#[inline(always)]
pub(super) fn need(buf: &Bytes, n: usize, field: Field) -> Result<(), DecodeError> {
    if buf.len() < n {
        Err(DecodeError::eof(field, n, buf.len()))
    } else {
        Ok(())
    }
}

/// Appends bytes whose count is known at compile time.
///
/// `BytesMut::extend_from_slice` is inlined (so `N` stays a constant and the copy is a store);
/// `BufMut::put_slice`, which `put_u8`/`put_i32`/... go through, is not inlined across crates
/// and turns every integer into a `memcpy` call.
#[inline(always)]
pub fn put_array<const N: usize>(buf: &mut BytesMut, bytes: [u8; N]) {
    buf.extend_from_slice(&bytes);
}

/// Reads `N` bytes from the front of `buf`, checking that they are there.
#[inline(always)]
pub(super) fn get_array<const N: usize>(buf: &mut Bytes, field: Field) -> Result<[u8; N], DecodeError> {
    match buf.first_chunk::<N>() {
        Some(a) => {
            let a = *a;
            buf.advance(N);
            Ok(a)
        }
        None => Err(DecodeError::eof(field, N, buf.len())),
    }
}

/// Splits off the first `n` bytes of `buf`, checking that they are there.
#[inline]
pub fn take(buf: &mut Bytes, n: usize, field: Field) -> Result<Bytes, DecodeError> {
    need(buf, n, field)?;
    Ok(buf.split_to(n))
}

macro_rules! fixed {
    ($t:ty, $n:expr) => {
        impl Wire for $t {
            const MIN_LEN: usize = $n;
            #[inline]
            fn wire_len(&self, _: bool, _: i16) -> usize {
                $n
            }
            #[inline]
            fn wire_put(&self, buf: &mut Encoder, _: bool, _: i16, _: Field) -> Result<(), EncodeError> {
                put_array(buf, self.to_be_bytes());
                Ok(())
            }
            #[inline]
            fn wire_get(buf: &mut Bytes, _: bool, _: i16, field: Field) -> Result<Self, DecodeError> {
                get_array::<$n>(buf, field).map(<$t>::from_be_bytes)
            }
            #[inline]
            fn wire_put_all(items: &[Self], buf: &mut Encoder, _: bool, _: i16, _: Field) -> Result<(), EncodeError> {
                for v in items {
                    put_array(buf, v.to_be_bytes());
                }
                Ok(())
            }
            /// All elements in one pass: one bounds check, one exact allocation.
            #[inline]
            fn wire_get_many(
                buf: &mut Bytes,
                count: usize,
                _: bool,
                _: i16,
                field: Field,
            ) -> Result<Vec<Self>, DecodeError> {
                let n = count.checked_mul($n).unwrap_or(usize::MAX);
                need(buf, n, field)?;
                let mut v = Vec::with_capacity(count);
                for c in buf[..n].chunks_exact($n) {
                    v.push(<$t>::from_be_bytes(c.try_into().unwrap_or([0; $n])));
                }
                buf.advance(n);
                Ok(v)
            }
        }
    };
}

fixed!(i8, 1);
fixed!(i16, 2);
fixed!(i32, 4);
fixed!(i64, 8);
fixed!(u16, 2);
fixed!(u32, 4);
fixed!(f64, 8);

impl Wire for bool {
    const MIN_LEN: usize = 1;
    #[inline]
    fn wire_len(&self, _: bool, _: i16) -> usize {
        1
    }
    #[inline]
    fn wire_put(&self, buf: &mut Encoder, _: bool, _: i16, _: Field) -> Result<(), EncodeError> {
        put_array(buf, [*self as u8]);
        Ok(())
    }
    #[inline]
    fn wire_get(buf: &mut Bytes, _: bool, _: i16, field: Field) -> Result<Self, DecodeError> {
        // Kafka reads any non-zero byte as true.
        Ok(get_array::<1>(buf, field)?[0] != 0)
    }
}

/// An error code is an `int16` on the wire.
impl Wire for crate::ErrorCode {
    const MIN_LEN: usize = 2;
    #[inline]
    fn wire_len(&self, _: bool, _: i16) -> usize {
        2
    }
    #[inline]
    fn wire_put(&self, buf: &mut Encoder, _: bool, _: i16, _: Field) -> Result<(), EncodeError> {
        put_array(buf, self.0.to_be_bytes());
        Ok(())
    }
    #[inline]
    fn wire_get(buf: &mut Bytes, _: bool, _: i16, field: Field) -> Result<Self, DecodeError> {
        Ok(crate::ErrorCode(i16::from_be_bytes(get_array(buf, field)?)))
    }
}

impl Wire for Uuid {
    const MIN_LEN: usize = 16;
    #[inline]
    fn wire_len(&self, _: bool, _: i16) -> usize {
        16
    }
    #[inline]
    fn wire_put(&self, buf: &mut Encoder, _: bool, _: i16, _: Field) -> Result<(), EncodeError> {
        put_array(buf, *self.as_bytes());
        Ok(())
    }
    #[inline]
    fn wire_get(buf: &mut Bytes, _: bool, _: i16, field: Field) -> Result<Self, DecodeError> {
        get_array::<16>(buf, field).map(Uuid::from_bytes)
    }
}
