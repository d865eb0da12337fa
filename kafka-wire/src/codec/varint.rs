//! Varints: unsigned LEB128 (compact lengths, counts and tags) and zig-zag (the record
//! format), as Kafka's `ByteUtils` reads and writes them.

use bytes::{Buf, Bytes, BytesMut};

use super::{put_array, Field};
use crate::error::{DecodeError, DecodeErrorKind};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
