//! Legacy message sets: magic 0 (Kafka 0.8) and magic 1 (0.10, with timestamps).
//!
//! `offset int64 | messageSize int32 | crc uint32 | magic int8 | attributes int8 |
//! timestamp int64 (magic 1) | key bytes | value bytes`, the CRC-32 covering magic to the end.
//! A compressed message ("wrapper") holds a whole inner message set, compressed, as its value;
//! its offset is the offset of the last inner message. In magic 1 the inner offsets are relative
//! (0, 1, ...), in magic 0 absolute.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::batch::{RecordIter, TimestampType};
use super::compression::{compress_framed, decompress_framed, Compression, DEFAULT_MAX_DECOMPRESSED};
use crate::codec::take;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};

/// The smallest message: CRC, magic, attributes, and two null lengths (magic 0).
pub(crate) const MIN_MESSAGE_SIZE: usize = 14;

/// One message of a legacy message set (magic 0 or 1): a plain message, or a compressed
/// wrapper whose value holds inner messages (see [`LegacyMessage::inner_messages`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyMessage {
    /// The offset (for a wrapper: the offset of its last inner message).
    pub offset: i64,
    /// 0 or 1.
    pub magic: i8,
    /// The timestamp (magic 1); magic 0 has none and reads as -1.
    pub timestamp: i64,
    /// The key (`None` is null).
    pub key: Option<Bytes>,
    /// The value (`None` is null); for a wrapper, the compressed inner message set.
    pub value: Option<Bytes>,
    attributes: i8,
}

impl LegacyMessage {
    /// An uncompressed message with create-time timestamp (`timestamp` is not written for magic
    /// 0).
    pub fn new(magic: i8, offset: i64, timestamp: i64, key: Option<Bytes>, value: Option<Bytes>) -> Self {
        LegacyMessage { offset, magic, timestamp: if magic == 0 { -1 } else { timestamp }, key, value, attributes: 0 }
    }

    /// A wrapper message holding `inner` (uncompressed messages of the same magic, with
    /// absolute offsets) compressed with `codec`. Its offset is the last inner offset, its
    /// timestamp (magic 1) the largest inner timestamp. Magic 1 writes the inner offsets
    /// relative to the first one; magic 0 writes them as they are.
    pub fn compressed(magic: i8, codec: Compression, inner: &[LegacyMessage]) -> Result<LegacyMessage, EncodeError> {
        let invalid = |what: String| EncodeError::new(EncodeErrorKind::Invalid(what), "Message.Value");
        if magic != 0 && magic != 1 {
            return Err(invalid(format!("legacy magic must be 0 or 1, not {magic}")));
        }
        if codec == Compression::None || codec == Compression::Zstd {
            return Err(invalid(format!("a legacy wrapper cannot use compression {codec}")));
        }
        let (Some(first), Some(last)) = (inner.first(), inner.last()) else {
            return Err(invalid("a compressed message needs at least one inner message".into()));
        };
        let mut set = BytesMut::with_capacity(inner.iter().map(LegacyMessage::encoded_len).sum());
        for m in inner {
            if m.magic != magic || m.compression() != Compression::None {
                return Err(invalid("inner messages must be uncompressed and of the wrapper's magic".into()));
            }
            let offset = if magic == 1 { m.offset.wrapping_sub(first.offset) } else { m.offset };
            m.encode_at(offset, &mut set)?;
        }
        let value = compress_framed(codec, &set, magic == 0)?;
        Ok(LegacyMessage {
            offset: last.offset,
            magic,
            timestamp: if magic == 0 { -1 } else { inner.iter().map(|m| m.timestamp).max().unwrap_or(-1) },
            key: None,
            value: Some(Bytes::from(value)),
            attributes: codec.code() as i8,
        })
    }

    /// The raw attributes (bits 0-2 compression, bit 3 timestamp type in magic 1).
    pub fn attributes(&self) -> i8 {
        self.attributes
    }

    /// The codec of a wrapper's value (`None` for a plain message).
    pub fn compression(&self) -> Compression {
        // Checked by `decode` and set by the constructors.
        Compression::from_code((self.attributes & 0x07) as u8).unwrap_or_default()
    }

    /// The timestamp type (magic 1; always create time in magic 0).
    pub fn timestamp_type(&self) -> TimestampType {
        if self.magic > 0 && self.attributes & 0x08 != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
    }

    /// Reads one whole message: `buf` must start with a message of magic 0 or 1 and hold all of
    /// it; the bytes after it are left in `buf`. Checks the CRC-32.
    pub fn decode(buf: &mut Bytes) -> Result<LegacyMessage, DecodeError> {
        const F: &str = "Message.MessageSize";
        if buf.len() < 12 {
            return Err(DecodeError::eof(F, 12, buf.len()));
        }
        let size = i32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
        if size < MIN_MESSAGE_SIZE as i32 {
            return Err(DecodeError::new(DecodeErrorKind::InvalidLength(size.into()), F));
        }
        let mut m = take(buf, 12 + size as usize, F)?;
        let offset = m.get_i64();
        m.advance(4);
        let stored = m.get_u32();
        let computed = crc32fast::hash(&m);
        let magic = m.get_i8();
        if magic != 0 && magic != 1 {
            return Err(DecodeError::new(
                DecodeErrorKind::Invalid(format!("magic {magic} where a legacy message (magic 0 or 1) was expected")),
                "Message.Magic",
            ));
        }
        if stored != computed {
            return Err(DecodeError::new(DecodeErrorKind::CrcMismatch { offset, stored, computed }, "Message.Crc"));
        }
        let attributes = m.get_i8();
        let code = (attributes & 0x07) as u8;
        if code > 3 {
            return Err(DecodeError::new(DecodeErrorKind::UnsupportedCompression(code), "Message.Attributes"));
        }
        let timestamp = if magic == 1 {
            if m.len() < 8 {
                return Err(DecodeError::eof("Message.Timestamp", 8, m.len()));
            }
            m.get_i64()
        } else {
            -1
        };
        let key = get_bytes(&mut m, "Message.Key")?;
        let value = get_bytes(&mut m, "Message.Value")?;
        if !m.is_empty() {
            return Err(DecodeError::new(DecodeErrorKind::TrailingBytes(m.len()), F));
        }
        Ok(LegacyMessage { offset, magic, timestamp, key, value, attributes })
    }

    /// The encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        let len = |b: &Option<Bytes>| 4 + b.as_ref().map_or(0, Bytes::len);
        12 + MIN_MESSAGE_SIZE - 8 + if self.magic == 1 { 8 } else { 0 } + len(&self.key) + len(&self.value)
    }

    /// Appends the message to `buf`, computing its size and CRC.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.encode_at(self.offset, buf)
    }

    /// The encoding as a new buffer.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut buf = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut buf)?;
        Ok(buf.freeze())
    }

    fn encode_at(&self, offset: i64, buf: &mut BytesMut) -> Result<(), EncodeError> {
        if self.magic != 0 && self.magic != 1 {
            return Err(EncodeError::new(
                EncodeErrorKind::Invalid(format!("legacy magic must be 0 or 1, not {}", self.magic)),
                "Message.Magic",
            ));
        }
        let size = self.encoded_len() - 12;
        if size > i32::MAX as usize {
            return Err(EncodeError::new(
                EncodeErrorKind::TooLong { len: size, max: i32::MAX as usize },
                "Message.MessageSize",
            ));
        }
        buf.reserve(12 + size);
        buf.put_i64(offset);
        buf.put_i32(size as i32);
        let crc_at = buf.len();
        buf.put_u32(0);
        buf.put_i8(self.magic);
        buf.put_i8(self.attributes);
        if self.magic == 1 {
            buf.put_i64(self.timestamp);
        }
        for b in [&self.key, &self.value] {
            match b {
                None => buf.put_i32(-1),
                Some(b) => {
                    buf.put_i32(b.len() as i32);
                    buf.put_slice(b);
                }
            }
        }
        let crc = crc32fast::hash(&buf[crc_at + 4..]);
        buf[crc_at..crc_at + 4].copy_from_slice(&crc.to_be_bytes());
        Ok(())
    }

    /// The messages this entry stands for, with absolute offsets: itself when uncompressed,
    /// else the inner messages of the wrapper (decompressed up to [`DEFAULT_MAX_DECOMPRESSED`]
    /// bytes). In magic 1, inner timestamps are the wrapper's when it uses `LogAppendTime`.
    pub fn inner_messages(&self) -> Result<Vec<LegacyMessage>, DecodeError> {
        self.inner_messages_capped(DEFAULT_MAX_DECOMPRESSED)
    }

    /// [`LegacyMessage::inner_messages`] with a chosen cap on the decompressed size.
    pub fn inner_messages_capped(&self, max_decompressed: usize) -> Result<Vec<LegacyMessage>, DecodeError> {
        let codec = self.compression();
        if codec == Compression::None {
            return Ok(vec![self.clone()]);
        }
        let invalid = |what: &str| DecodeError::new(DecodeErrorKind::Invalid(what.to_string()), "Message.Value");
        let value = self.value.as_ref().ok_or_else(|| invalid("compressed message with a null value"))?;
        let lz4_magic0 = self.magic == 0 && codec == Compression::Lz4;
        let mut data = Bytes::from(decompress_framed(codec, value, max_decompressed, lz4_magic0)?);
        let mut inner = Vec::new();
        while !data.is_empty() {
            let mut m = LegacyMessage::decode(&mut data)?;
            if m.compression() != Compression::None {
                return Err(invalid("inner messages must not be compressed"));
            }
            if m.magic == 1 && self.magic == 1 && self.timestamp_type() == TimestampType::LogAppendTime {
                m.timestamp = self.timestamp;
            }
            inner.push(m);
        }
        let Some(last) = inner.last() else {
            return Err(invalid("compressed message without inner messages"));
        };
        if self.magic == 1 {
            // Inner offsets are relative; the wrapper holds the absolute offset of the last one
            // (or 0, as some old librdkafka versions produced).
            let base = if self.offset == 0 {
                0
            } else if self.offset < last.offset {
                return Err(invalid("wrapper offset is less than the last relative inner offset"));
            } else {
                self.offset - last.offset
            };
            for m in &mut inner {
                m.offset = base.wrapping_add(m.offset);
            }
        }
        Ok(inner)
    }

    /// The messages as records (see [`LegacyMessage::inner_messages`]).
    pub fn records_capped(&self, max_decompressed: usize) -> Result<RecordIter, DecodeError> {
        Ok(RecordIter::legacy(self.inner_messages_capped(max_decompressed)?))
    }
}

/// An `int32`-length byte string; every negative length is null, as in Kafka's `LegacyRecord`.
fn get_bytes(buf: &mut Bytes, field: &'static str) -> Result<Option<Bytes>, DecodeError> {
    if buf.len() < 4 {
        return Err(DecodeError::eof(field, 4, buf.len()));
    }
    match buf.get_i32() {
        n if n < 0 => Ok(None),
        n => take(buf, n as usize, field).map(Some),
    }
}
