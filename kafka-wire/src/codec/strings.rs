//! Strings and byte fields, plain and nullable: slices of the input when decoded, shared
//! chunks when encoded for a vectored write.

use bytes::Bytes;
use bytestring::ByteString;

use super::prefix::{get_prefix, non_null, prefix_len, put_prefix, Prefix, MAX_STRING_LEN};
use super::{take, Encoder, Field, Wire};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

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
/// (`java_utf8.rs`).
pub(crate) fn utf8_lossy(bytes: Bytes) -> ByteString {
    // The clone is a reference count: the bytes are needed again only when they are not UTF-8.
    match ByteString::try_from(bytes.clone()) {
        Ok(s) => s,
        Err(_) => ByteString::from(super::java_utf8::decode(&bytes)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_util::{dec, enc};
    use crate::error::EncodeErrorKind;

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
}
