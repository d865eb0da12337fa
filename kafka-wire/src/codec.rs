//! Wire primitives: how each schema type is laid out in bytes.
//!
//! Generated code is a list of calls into this module, one per field. Decoding reads from a
//! [`Bytes`] so that strings and byte fields are zero-copy slices of the input. Every length and
//! count is checked against the bytes that remain before anything is allocated; nothing here
//! panics on any input.

use bytes::{Buf, Bytes, BytesMut};
use bytestring::ByteString;
use smallvec::SmallVec;
use std::ops::Deref;

pub use crate::encoder::{Chunks, Encoder, SHARE_MIN_LEN};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
use crate::Uuid;

/// The field being decoded or encoded, as `Struct.Field`; named in errors.
pub type Field = &'static str;

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
        for e in items {
            e.wire_put(buf, compact, version, field)?;
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
            v.push(Self::wire_get(buf, compact, version, field)?);
        }
        Ok(v)
    }
}

#[inline(always)]
fn need(buf: &Bytes, n: usize, field: Field) -> Result<(), DecodeError> {
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
fn get_array<const N: usize>(buf: &mut Bytes, field: Field) -> Result<[u8; N], DecodeError> {
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

// ---- varints ---------------------------------------------------------------------------------

/// The size of `v` as an unsigned varint.
#[inline]
pub const fn uvarint_len(v: u32) -> usize {
    match v {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        0x4000..=0x1f_ffff => 3,
        0x20_0000..=0xfff_ffff => 4,
        _ => 5,
    }
}

/// Writes an unsigned varint (LEB128, at most 5 bytes).
#[inline]
pub fn put_uvarint(buf: &mut BytesMut, v: u32) {
    if v < 0x80 {
        put_array(buf, [v as u8]);
    } else {
        put_uvarint_long(buf, v);
    }
}

fn put_uvarint_long(buf: &mut BytesMut, mut v: u32) {
    let mut out = [0u8; 5];
    let mut n = 0;
    while v >= 0x80 {
        out[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    out[n] = v as u8;
    buf.extend_from_slice(&out[..=n]);
}

/// Reads an unsigned varint of at most 5 bytes.
#[inline]
pub fn get_uvarint(buf: &mut Bytes, field: Field) -> Result<u32, DecodeError> {
    // One byte: lengths and counts below 127, empty tagged-field sections.
    if let Some(&b) = buf.first() {
        if b < 0x80 {
            buf.advance(1);
            return Ok(b as u32);
        }
    }
    get_uvarint_long(buf, field)
}

fn get_uvarint_long(buf: &mut Bytes, field: Field) -> Result<u32, DecodeError> {
    // Multi-byte: the lengths of record sets and large byte fields. `slice_uvarint` reads them
    // from a fixed-size chunk when 5 bytes remain; on error nothing is consumed.
    let mut pos = 0;
    let v = slice_uvarint(buf, &mut pos, field)?;
    buf.advance(pos);
    Ok(v)
}

/// The size of `v` as an unsigned 64-bit varint.
#[inline]
pub const fn uvarlong_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Writes an unsigned 64-bit varint (at most 10 bytes).
#[inline]
pub fn put_uvarlong(buf: &mut BytesMut, mut v: u64) {
    if v < 0x80 {
        put_array(buf, [v as u8]);
        return;
    }
    let mut out = [0u8; 10];
    let mut n = 0;
    while v >= 0x80 {
        out[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    out[n] = v as u8;
    buf.extend_from_slice(&out[..=n]);
}

/// Reads an unsigned 64-bit varint of at most 10 bytes.
#[inline]
pub fn get_uvarlong(buf: &mut Bytes, field: Field) -> Result<u64, DecodeError> {
    let mut pos = 0;
    let v = slice_uvarlong(buf, &mut pos, field);
    buf.advance(pos);
    v
}

/// The size of `v` as a zig-zag varint (record format).
#[inline]
pub const fn varint_len(v: i32) -> usize {
    uvarint_len(((v << 1) ^ (v >> 31)) as u32)
}

/// Writes a zig-zag varint (record format).
#[inline]
pub fn put_varint(buf: &mut BytesMut, v: i32) {
    put_uvarint(buf, ((v << 1) ^ (v >> 31)) as u32)
}

/// Reads a zig-zag varint (record format).
#[inline]
pub fn get_varint(buf: &mut Bytes, field: Field) -> Result<i32, DecodeError> {
    let u = get_uvarint(buf, field)?;
    Ok(((u >> 1) as i32) ^ -((u & 1) as i32))
}

/// The size of `v` as a zig-zag varlong (record format).
#[inline]
pub const fn varlong_len(v: i64) -> usize {
    uvarlong_len(((v << 1) ^ (v >> 63)) as u64)
}

/// Writes a zig-zag varlong (record format).
#[inline]
pub fn put_varlong(buf: &mut BytesMut, v: i64) {
    put_uvarlong(buf, ((v << 1) ^ (v >> 63)) as u64)
}

/// Reads a zig-zag varlong (record format).
#[inline]
pub fn get_varlong(buf: &mut Bytes, field: Field) -> Result<i64, DecodeError> {
    let u = get_uvarlong(buf, field)?;
    Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
}

/// Reads an unsigned varint at `*pos` of `data`, moving `*pos` past it: the same checks and
/// errors as [`get_uvarint`], for parsers that walk a slice and cut `Bytes` out of it only
/// where they keep something (record batches).
///
/// Where at least 5 bytes remain (all but the last few bytes of a record) the bytes are read
/// from a fixed-size array, with no bounds check per byte; only the tail of the input takes the
/// byte-by-byte loop.
#[inline(always)]
pub(crate) fn slice_uvarint(data: &[u8], pos: &mut usize, field: Field) -> Result<u32, DecodeError> {
    let p = *pos;
    let Some(rest) = data.get(p..) else { return slice_uvarint_long(data, pos, field) };
    if let Some(&b) = rest.first() {
        if b < 0x80 {
            *pos = p + 1;
            return Ok(b as u32);
        }
    }
    let Some(&[b0, b1, b2, b3, b4]) = rest.first_chunk::<5>() else { return slice_uvarint_long(data, pos, field) };
    // Unrolled: each byte adds 7 bits until one without the continuation bit; the fifth may
    // carry only the 4 bits that are left of 32.
    let mut v = (b0 & 0x7f) as u32 | ((b1 & 0x7f) as u32) << 7;
    if b1 < 0x80 {
        *pos = p + 2;
        return Ok(v);
    }
    v |= ((b2 & 0x7f) as u32) << 14;
    if b2 < 0x80 {
        *pos = p + 3;
        return Ok(v);
    }
    v |= ((b3 & 0x7f) as u32) << 21;
    if b3 < 0x80 {
        *pos = p + 4;
        return Ok(v);
    }
    if b4 >= 0x80 {
        return Err(DecodeError::new(DecodeErrorKind::VarintTooLong, field));
    }
    *pos = p + 5;
    // As Kafka's ByteUtils.readUnsignedVarint: the fifth byte's bits above the 32 are dropped.
    Ok(v | (b4 as u32) << 28)
}

fn slice_uvarint_long(data: &[u8], pos: &mut usize, field: Field) -> Result<u32, DecodeError> {
    let mut v: u32 = 0;
    for i in 0..5 {
        let Some(&b) = data.get(*pos) else { return Err(DecodeError::eof(field, 1, 0)) };
        *pos += 1;
        // The fifth byte's bits above the 32 are dropped, as in Kafka.
        v |= ((b & 0x7f) as u32) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(DecodeError::new(DecodeErrorKind::VarintTooLong, field))
}

/// Reads an unsigned 64-bit varint at `*pos` of `data` (see [`slice_uvarint`]).
#[inline(always)]
pub(crate) fn slice_uvarlong(data: &[u8], pos: &mut usize, field: Field) -> Result<u64, DecodeError> {
    let p = *pos;
    if let Some(&b) = data.get(p) {
        if b < 0x80 {
            *pos = p + 1;
            return Ok(b as u64);
        }
    }
    if let Some(c) = data.get(p..).and_then(<[u8]>::first_chunk::<10>) {
        let mut v: u64 = 0;
        for (i, &b) in c.iter().enumerate() {
            // The tenth byte's bits above the 64 are dropped, as in Kafka's readUnsignedVarlong.
            v |= ((b & 0x7f) as u64) << (7 * i);
            if b < 0x80 {
                *pos = p + i + 1;
                return Ok(v);
            }
        }
        return Err(DecodeError::new(DecodeErrorKind::VarintTooLong, field));
    }
    slice_uvarlong_long(data, pos, field)
}

fn slice_uvarlong_long(data: &[u8], pos: &mut usize, field: Field) -> Result<u64, DecodeError> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some(&b) = data.get(*pos) else { return Err(DecodeError::eof(field, 1, 0)) };
        *pos += 1;
        v |= ((b & 0x7f) as u64) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(DecodeError::new(DecodeErrorKind::VarintTooLong, field))
}

/// Reads a zig-zag varint at `*pos` of `data` (record format).
#[inline(always)]
pub(crate) fn slice_varint(data: &[u8], pos: &mut usize, field: Field) -> Result<i32, DecodeError> {
    let u = slice_uvarint(data, pos, field)?;
    Ok(((u >> 1) as i32) ^ -((u & 1) as i32))
}

/// Reads a zig-zag varlong at `*pos` of `data` (record format).
#[inline(always)]
pub(crate) fn slice_varlong(data: &[u8], pos: &mut usize, field: Field) -> Result<i64, DecodeError> {
    let u = slice_uvarlong(data, pos, field)?;
    Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
}

// ---- lengths of strings, bytes and arrays ----------------------------------------------------

/// Length prefixes: classic strings use int16, classic bytes and arrays int32, compact forms an
/// unsigned varint of N+1. `None` stands for null.
#[derive(Clone, Copy)]
enum Prefix {
    /// int16 length (classic string)
    I16,
    /// int32 length (classic bytes and arrays)
    I32,
}

#[inline]
fn prefix_len(p: Prefix, compact: bool, len: Option<usize>) -> usize {
    if compact {
        uvarint_len(len.map_or(0, |l| (l as u32).saturating_add(1)))
    } else {
        match p {
            Prefix::I16 => 2,
            Prefix::I32 => 4,
        }
    }
}

#[inline(always)]
fn put_prefix(
    buf: &mut BytesMut,
    p: Prefix,
    compact: bool,
    len: Option<usize>,
    field: Field,
) -> Result<(), EncodeError> {
    // The common cases inline: a compact length below 127 (one byte), a classic length in range.
    match (len, compact, p) {
        (Some(l), true, _) if l < 0x7f => put_array(buf, [l as u8 + 1]),
        (Some(l), false, Prefix::I16) if l <= i16::MAX as usize => put_array(buf, (l as i16).to_be_bytes()),
        (Some(l), false, Prefix::I32) if l <= i32::MAX as usize => put_array(buf, (l as i32).to_be_bytes()),
        _ => return put_prefix_general(buf, p, compact, len, field),
    }
    Ok(())
}

fn put_prefix_general(
    buf: &mut BytesMut,
    p: Prefix,
    compact: bool,
    len: Option<usize>,
    field: Field,
) -> Result<(), EncodeError> {
    let max = match p {
        Prefix::I16 => MAX_STRING_LEN,
        Prefix::I32 if compact => u32::MAX as usize - 1,
        Prefix::I32 => i32::MAX as usize,
    };
    if let Some(len) = len {
        if len > max {
            return Err(EncodeError::new(EncodeErrorKind::TooLong { len, max }, field));
        }
    }
    if compact {
        put_uvarint(buf, len.map_or(0, |l| l as u32 + 1));
    } else {
        let v = len.map_or(-1, |l| l as i32);
        match p {
            Prefix::I16 => put_array(buf, (v as i16).to_be_bytes()),
            Prefix::I32 => put_array(buf, v.to_be_bytes()),
        }
    }
    Ok(())
}

/// Reads a length prefix; `Ok(None)` is null. As in Kafka's generated `read()` methods, every
/// negative length is null (`if (length < 0)`), and a compact length is the varint minus one in
/// `int` arithmetic (a varint of 2^31 and more is negative); a field that is not nullable then
/// refuses it (`non_null`).
#[inline(always)]
fn get_prefix(buf: &mut Bytes, p: Prefix, compact: bool, field: Field) -> Result<Option<usize>, DecodeError> {
    let v: i32 = if compact {
        (get_uvarint(buf, field)? as i32).wrapping_sub(1)
    } else {
        match p {
            Prefix::I16 => <i16 as Wire>::wire_get(buf, false, 0, field)? as i32,
            Prefix::I32 => <i32 as Wire>::wire_get(buf, false, 0, field)?,
        }
    };
    Ok(usize::try_from(v).ok())
}

#[inline]
fn non_null<T>(v: Option<T>, field: Field) -> Result<T, DecodeError> {
    v.ok_or_else(|| DecodeError::new(DecodeErrorKind::UnexpectedNull, field))
}

/// The longest string Kafka reads or writes, compact ones included (the generated `read()`
/// and `write()` methods check it: strings keep their `int16` bound in flexible versions).
pub const MAX_STRING_LEN: usize = i16::MAX as usize;

/// Reads a string of `len` bytes. Bytes that are not UTF-8 are decoded as Kafka decodes them
/// (`new String(bytes, UTF_8)` in `ByteBufferAccessor.readString`): each malformed sequence
/// becomes U+FFFD, in a new buffer; valid strings share the input. Longer than
/// [`MAX_STRING_LEN`] is an error, as in Kafka.
#[inline]
fn get_str(buf: &mut Bytes, len: usize, field: Field) -> Result<ByteString, DecodeError> {
    if len > MAX_STRING_LEN {
        return Err(DecodeError::new(DecodeErrorKind::InvalidLength(len as i64), field));
    }
    let bytes = take(buf, len, field)?;
    Ok(utf8_lossy(bytes))
}

/// `bytes` as a string, malformed UTF-8 replaced as Java's decoder replaces it
/// ([`crate::java_utf8`]).
pub(crate) fn utf8_lossy(bytes: Bytes) -> ByteString {
    // The clone is a reference count: the bytes are needed again only when they are not UTF-8.
    match ByteString::try_from(bytes.clone()) {
        Ok(s) => s,
        Err(_) => ByteString::from(crate::java_utf8::decode(&bytes)),
    }
}

impl Wire for ByteString {
    const MIN_LEN: usize = 1;
    #[inline]
    fn wire_len(&self, compact: bool, _version: i16) -> usize {
        prefix_len(Prefix::I16, compact, Some(self.len())) + self.len()
    }
    #[inline]
    fn wire_put(&self, buf: &mut Encoder, compact: bool, _version: i16, field: Field) -> Result<(), EncodeError> {
        put_prefix(buf, Prefix::I16, compact, Some(self.len()), field)?;
        buf.extend_from_slice(self.as_bytes());
        Ok(())
    }
    #[inline]
    fn wire_get(buf: &mut Bytes, compact: bool, _version: i16, field: Field) -> Result<Self, DecodeError> {
        let len = non_null(get_prefix(buf, Prefix::I16, compact, field)?, field)?;
        get_str(buf, len, field)
    }
}

impl Wire for Option<ByteString> {
    const MIN_LEN: usize = 1;
    #[inline]
    fn wire_len(&self, compact: bool, _version: i16) -> usize {
        let len = self.as_ref().map(|s| s.len());
        prefix_len(Prefix::I16, compact, len) + len.unwrap_or(0)
    }
    #[inline]
    fn wire_put(&self, buf: &mut Encoder, compact: bool, _version: i16, field: Field) -> Result<(), EncodeError> {
        put_prefix(buf, Prefix::I16, compact, self.as_ref().map(|s| s.len()), field)?;
        if let Some(s) = self {
            buf.extend_from_slice(s.as_bytes());
        }
        Ok(())
    }
    #[inline]
    fn wire_get(buf: &mut Bytes, compact: bool, _version: i16, field: Field) -> Result<Self, DecodeError> {
        match get_prefix(buf, Prefix::I16, compact, field)? {
            None => Ok(None),
            Some(len) => get_str(buf, len, field).map(Some),
        }
    }
}

impl Wire for Bytes {
    const MIN_LEN: usize = 1;
    #[inline]
    fn wire_len(&self, compact: bool, _version: i16) -> usize {
        prefix_len(Prefix::I32, compact, Some(self.len())) + self.len()
    }
    #[inline]
    fn wire_put(&self, buf: &mut Encoder, compact: bool, _version: i16, field: Field) -> Result<(), EncodeError> {
        put_prefix(buf, Prefix::I32, compact, Some(self.len()), field)?;
        buf.put_shared(self);
        Ok(())
    }
    #[inline]
    fn wire_get(buf: &mut Bytes, compact: bool, _version: i16, field: Field) -> Result<Self, DecodeError> {
        let len = non_null(get_prefix(buf, Prefix::I32, compact, field)?, field)?;
        take(buf, len, field)
    }
}

impl Wire for Option<Bytes> {
    const MIN_LEN: usize = 1;
    #[inline]
    fn wire_len(&self, compact: bool, _version: i16) -> usize {
        let len = self.as_ref().map(|s| s.len());
        prefix_len(Prefix::I32, compact, len) + len.unwrap_or(0)
    }
    #[inline]
    fn wire_put(&self, buf: &mut Encoder, compact: bool, _version: i16, field: Field) -> Result<(), EncodeError> {
        put_prefix(buf, Prefix::I32, compact, self.as_ref().map(|s| s.len()), field)?;
        if let Some(s) = self {
            buf.put_shared(s);
        }
        Ok(())
    }
    #[inline]
    fn wire_get(buf: &mut Bytes, compact: bool, _version: i16, field: Field) -> Result<Self, DecodeError> {
        match get_prefix(buf, Prefix::I32, compact, field)? {
            None => Ok(None),
            Some(len) => take(buf, len, field).map(Some),
        }
    }
}

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

/// A generated struct. Nullable struct fields (not arrays) are written with a leading `int8`:
/// -1 for null, 1 for present.
pub trait WireStruct: Wire {}

impl<T: WireStruct> Wire for Option<T> {
    const MIN_LEN: usize = 1;
    #[inline]
    fn wire_len(&self, compact: bool, version: i16) -> usize {
        1 + self.as_ref().map_or(0, |s| s.wire_len(compact, version))
    }
    fn wire_put(&self, buf: &mut Encoder, compact: bool, version: i16, field: Field) -> Result<(), EncodeError> {
        match self {
            None => {
                put_array(buf, [0xff]);
                Ok(())
            }
            Some(s) => {
                put_array(buf, [1]);
                s.wire_put(buf, compact, version, field)
            }
        }
    }
    fn wire_get(buf: &mut Bytes, compact: bool, version: i16, field: Field) -> Result<Self, DecodeError> {
        // Kafka's reader treats any negative marker as null.
        if <i8 as Wire>::wire_get(buf, false, 0, field)? < 0 {
            Ok(None)
        } else {
            T::wire_get(buf, compact, version, field).map(Some)
        }
    }
}

// ---- tagged fields ---------------------------------------------------------------------------

/// One tagged field that the decoding version does not know: its tag and raw value bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawTaggedField {
    /// The tag number.
    pub tag: u32,
    /// The value exactly as it was on the wire (without tag and size).
    pub data: Bytes,
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
    pub fn encode_section(&self, buf: &mut BytesMut, field: Field) -> Result<(), EncodeError> {
        if self.is_empty() {
            put_array(buf, [0]);
            return Ok(());
        }
        self.encode_section_slow(buf, field)
    }

    fn encode_section_slow(&self, buf: &mut BytesMut, field: Field) -> Result<(), EncodeError> {
        let w = TaggedWriter::begin(buf, 0, self, field)?;
        w.finish(buf)
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

/// The size of one known tagged field whose value takes `value_len` bytes.
#[inline]
pub const fn tagged_field_len(tag: u32, value_len: usize) -> usize {
    uvarint_len(tag) + uvarint_len(value_len as u32) + value_len
}

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
    let v = T::wire_get(&mut data, true, version, field).map_err(|e| match *e.kind() {
        // The value runs past the declared bytes: at least `needed - remaining` more.
        DecodeErrorKind::UnexpectedEof { needed, remaining } => DecodeError::new(
            DecodeErrorKind::TaggedFieldSize { tag, declared, used: declared + needed.saturating_sub(remaining) },
            field,
        ),
        _ => e,
    })?;
    if !data.is_empty() {
        return Err(DecodeError::new(
            DecodeErrorKind::TaggedFieldSize { tag, declared, used: declared - data.len() },
            field,
        ));
    }
    Ok(v)
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
            put_uvarint(buf, f.tag);
            put_uvarint(buf, f.data.len() as u32);
            buf.extend_from_slice(&f.data);
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
            put_uvarint(buf, f.tag);
            put_uvarint(buf, f.data.len() as u32);
            buf.extend_from_slice(&f.data);
            self.next_unknown = self.unknown.next();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc<T: Wire>(v: &T, compact: bool) -> Vec<u8> {
        let mut b = Encoder::default();
        v.wire_put(&mut b, compact, 0, "t").unwrap();
        assert_eq!(b.len(), v.wire_len(compact, 0));
        b.to_vec()
    }

    fn dec<T: Wire>(bytes: &[u8], compact: bool) -> Result<T, DecodeError> {
        let mut b = Bytes::copy_from_slice(bytes);
        T::wire_get(&mut b, compact, 0, "t")
    }

    #[test]
    fn uvarint_known_answers() {
        for (v, bytes) in [
            (0u32, vec![0x00]),
            (1, vec![0x01]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (300, vec![0xac, 0x02]),
            (16383, vec![0xff, 0x7f]),
            (16384, vec![0x80, 0x80, 0x01]),
            (u32::MAX, vec![0xff, 0xff, 0xff, 0xff, 0x0f]),
        ] {
            let mut b = BytesMut::new();
            put_uvarint(&mut b, v);
            assert_eq!(b.to_vec(), bytes, "{v}");
            assert_eq!(uvarint_len(v), bytes.len());
            // With bytes after it (the unrolled path reads 5 at once) and without.
            let mut padded = Bytes::from([&bytes[..], &[0xaa; 5]].concat());
            assert_eq!(get_uvarint(&mut padded, "t").unwrap(), v);
            assert_eq!(padded.len(), 5, "{v}: consumed exactly its bytes");
            assert_eq!(get_uvarint(&mut Bytes::from(bytes), "t").unwrap(), v);
        }
        // A fifth byte with more than 4 bits: the bits above the 32 are dropped, as Kafka's
        // ByteUtils.readUnsignedVarint drops them (java_oracle.rs has Kafka's verdict).
        for input in [&[0xff, 0xff, 0xff, 0xff, 0x1f, 0, 0][..], &[0xff, 0xff, 0xff, 0xff, 0x1f]] {
            let mut b = Bytes::copy_from_slice(input);
            assert_eq!(get_uvarint(&mut b, "t").unwrap(), u32::MAX);
            assert_eq!(b.len(), input.len() - 5);
        }
        assert_eq!(get_uvarint(&mut Bytes::from_static(&[0x80, 0x80, 0x80, 0x80, 0x10]), "t").unwrap(), 0);
        // A sixth byte is too long.
        let e = get_uvarint(&mut Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0x8f, 0]), "t");
        assert_eq!(e.unwrap_err().kind(), &DecodeErrorKind::VarintTooLong);
        let e = get_uvarint(&mut Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0x8f]), "t");
        assert_eq!(e.unwrap_err().kind(), &DecodeErrorKind::VarintTooLong);
        let e = get_uvarint(&mut Bytes::from_static(&[0x80]), "t");
        assert!(matches!(e.unwrap_err().kind(), DecodeErrorKind::UnexpectedEof { .. }));
    }

    #[test]
    fn zigzag_known_answers() {
        for (v, bytes) in [(0i32, vec![0u8]), (-1, vec![1]), (1, vec![2]), (-64, vec![0x7f]), (64, vec![0x80, 0x01])] {
            let mut b = BytesMut::new();
            put_varint(&mut b, v);
            assert_eq!(b.to_vec(), bytes);
            assert_eq!(varint_len(v), bytes.len());
            assert_eq!(get_varint(&mut Bytes::from(bytes), "t").unwrap(), v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, 1 << 40] {
            let mut b = BytesMut::new();
            put_varlong(&mut b, v);
            assert_eq!(b.len(), varlong_len(v));
            assert_eq!(get_varlong(&mut b.freeze(), "t").unwrap(), v);
        }
        assert_eq!(varlong_len(i64::MIN), 10);
    }

    #[test]
    fn strings_classic_and_compact() {
        let s = ByteString::from_static("abc");
        assert_eq!(enc(&s, false), b"\x00\x03abc");
        assert_eq!(enc(&s, true), b"\x04abc");
        assert_eq!(enc(&None::<ByteString>, false), b"\xff\xff");
        assert_eq!(enc(&None::<ByteString>, true), b"\x00");
        assert_eq!(enc(&Some(ByteString::new()), true), b"\x01");
        assert_eq!(dec::<Option<ByteString>>(b"\x00", true).unwrap(), None);
        assert_eq!(dec::<Option<ByteString>>(b"\x01", true).unwrap(), Some(ByteString::new()));
        assert_eq!(dec::<ByteString>(b"\x00", true).unwrap_err().kind(), &DecodeErrorKind::UnexpectedNull);
        // Any negative length is null, as in Kafka; not allowed where the field is not nullable.
        assert_eq!(dec::<ByteString>(b"\xff\xfe", false).unwrap_err().kind(), &DecodeErrorKind::UnexpectedNull);
        assert_eq!(dec::<Option<ByteString>>(b"\xff\xfe", false).unwrap(), None);
        assert_eq!(dec::<Option<ByteString>>(b"\x81\x80\x80\x80\x08", true).unwrap(), None);
        // Not UTF-8: decoded as Kafka decodes it.
        assert_eq!(dec::<ByteString>(b"\x00\x01\xff", false).unwrap(), "\u{FFFD}");
        // Longer than an int16 allows, in both forms (Kafka keeps the bound in compact strings).
        let long = ByteString::from("x".repeat(40_000));
        let mut b = Encoder::default();
        for compact in [false, true] {
            let e = long.wire_put(&mut b, compact, 0, "t").unwrap_err();
            assert_eq!(e.kind(), &EncodeErrorKind::TooLong { len: 40_000, max: 32767 });
        }
        let mut input = vec![0xc1, 0xb8, 0x02]; // 40,001: the length plus one
        input.extend(std::iter::repeat_n(b'x', 40_000));
        assert_eq!(dec::<ByteString>(&input, true).unwrap_err().kind(), &DecodeErrorKind::InvalidLength(40_000));
    }

    #[test]
    fn decoded_strings_share_the_input() {
        let input = Bytes::from_static(b"\x00\x05hello");
        let mut b = input.clone();
        let s = ByteString::wire_get(&mut b, false, 0, "t").unwrap();
        assert_eq!(s.as_bytes().as_ptr(), input[2..].as_ptr());
    }

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
