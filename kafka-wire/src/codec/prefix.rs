//! Length prefixes of strings, byte fields and arrays: `int16` (classic strings), `int32`
//! (classic bytes and arrays), or an unsigned varint of length + 1 (compact forms), `None`
//! standing for null.

use bytes::{Bytes, BytesMut};

use super::{get_uvarint, put_array, put_uvarint, uvarint_len, Field, Wire};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};

/// Length prefixes: classic strings use int16, classic bytes and arrays int32, compact forms an
/// unsigned varint of N+1. `None` stands for null.
#[derive(Clone, Copy)]
pub(super) enum Prefix {
    /// int16 length (classic string)
    I16,
    /// int32 length (classic bytes and arrays)
    I32,
}

#[inline]
pub(super) fn prefix_len(p: Prefix, compact: bool, len: Option<usize>) -> usize {
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
pub(super) fn put_prefix(
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
pub(super) fn get_prefix(
    buf: &mut Bytes,
    p: Prefix,
    compact: bool,
    field: Field,
) -> Result<Option<usize>, DecodeError> {
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
pub(super) fn non_null<T>(v: Option<T>, field: Field) -> Result<T, DecodeError> {
    v.ok_or_else(|| DecodeError::new(DecodeErrorKind::UnexpectedNull, field))
}

/// The longest string Kafka reads or writes, compact ones included (the generated `read()`
/// and `write()` methods check it: strings keep their `int16` bound in flexible versions).
pub const MAX_STRING_LEN: usize = i16::MAX as usize;
