//! RecordBatch, the record format of magic 2 (Kafka 0.11 and later).

use std::borrow::Cow;
use std::ops::Range;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use bytestring::ByteString;

use super::compression::{decompress_framed, Compression, DEFAULT_MAX_DECOMPRESSED};
use crate::codec::{put_varint, put_varlong, slice_varint, slice_varlong, take, varint_len, varlong_len};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};

/// Bytes from the start of a batch to the end of `recordCount`.
pub(crate) const HEADER_LEN: usize = 61;
/// Where the CRC-covered part starts (the attributes).
const CRC_START: usize = 21;

const COMPRESSION_MASK: i16 = 0x07;
const TIMESTAMP_TYPE_BIT: i16 = 0x08;
const TRANSACTIONAL_BIT: i16 = 0x10;
const CONTROL_BIT: i16 = 0x20;
const DELETE_HORIZON_BIT: i16 = 0x40;

/// Which clock a batch's timestamps come from (attribute bit 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimestampType {
    /// Set by the producer.
    #[default]
    CreateTime,
    /// Set by the broker when it appended the batch (the batch's `max_timestamp`).
    LogAppendTime,
}

/// One record batch (magic 2).
///
/// The header fields are plain fields; the records stay in their wire form (compressed or not)
/// until [`RecordBatch::records`] reads them, so decoding and re-encoding a batch copies and
/// parses nothing but its 61-byte header. [`RecordBatch::encode`] computes the CRC; changing
/// `base_offset` or `partition_leader_epoch` (as a broker does) needs no other change.
///
/// Build new batches with [`BatchBuilder`](super::BatchBuilder).
#[derive(Clone, PartialEq, Eq)]
pub struct RecordBatch {
    /// The offset of the first record.
    pub base_offset: i64,
    /// The leader epoch of the partition when the batch was appended (-1 from producers).
    pub partition_leader_epoch: i32,
    /// The offset delta of the last record (kept even when compaction removed that record).
    pub last_offset_delta: i32,
    /// The timestamp of the first record (the delete horizon when that attribute is set).
    pub base_timestamp: i64,
    /// The largest timestamp of the batch (the append time for `LogAppendTime`).
    pub max_timestamp: i64,
    /// The producer id (-1 when not idempotent).
    pub producer_id: i64,
    /// The producer epoch (-1 when not idempotent).
    pub producer_epoch: i16,
    /// The sequence number of the first record (-1 when not idempotent).
    pub base_sequence: i32,
    pub(crate) attributes: i16,
    pub(crate) record_count: i32,
    /// Everything after `recordCount`, compressed or not, as on the wire.
    pub(crate) records: Bytes,
}

impl std::fmt::Debug for RecordBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordBatch")
            .field("base_offset", &self.base_offset)
            .field("partition_leader_epoch", &self.partition_leader_epoch)
            .field("attributes", &format_args!("{:#06x}", self.attributes))
            .field("last_offset_delta", &self.last_offset_delta)
            .field("base_timestamp", &self.base_timestamp)
            .field("max_timestamp", &self.max_timestamp)
            .field("producer_id", &self.producer_id)
            .field("producer_epoch", &self.producer_epoch)
            .field("base_sequence", &self.base_sequence)
            .field("record_count", &self.record_count)
            .field("records", &format_args!("{} bytes ({})", self.records.len(), self.compression()))
            .finish()
    }
}

impl RecordBatch {
    /// Reads one whole batch: `buf` must start with a batch of magic 2 and hold all of it; the
    /// bytes after it are left in `buf`. Checks the CRC-32C.
    pub fn decode(buf: &mut Bytes) -> Result<RecordBatch, DecodeError> {
        const F: &str = "RecordBatch.BatchLength";
        if buf.len() < HEADER_LEN {
            return Err(DecodeError::eof(F, HEADER_LEN, buf.len()));
        }
        let batch_length = i32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
        if batch_length < (HEADER_LEN - 12) as i32 {
            return Err(DecodeError::new(DecodeErrorKind::InvalidLength(batch_length.into()), F));
        }
        let mut b = take(buf, 12 + batch_length as usize, F)?;
        let base_offset = b.get_i64();
        b.advance(4);
        let partition_leader_epoch = b.get_i32();
        let magic = b.get_i8();
        if magic != 2 {
            return Err(DecodeError::new(
                DecodeErrorKind::Invalid(format!("magic {magic} where a record batch (magic 2) was expected")),
                "RecordBatch.Magic",
            ));
        }
        let stored = b.get_u32();
        let computed = crc32c::crc32c(&b);
        if stored != computed {
            return Err(DecodeError::new(
                DecodeErrorKind::CrcMismatch { offset: base_offset, stored, computed },
                "RecordBatch.Crc",
            ));
        }
        let attributes = b.get_i16();
        let code = (attributes & COMPRESSION_MASK) as u8;
        if Compression::from_code(code).is_none() {
            return Err(DecodeError::new(DecodeErrorKind::UnsupportedCompression(code), "RecordBatch.Attributes"));
        }
        let last_offset_delta = b.get_i32();
        let base_timestamp = b.get_i64();
        let max_timestamp = b.get_i64();
        let producer_id = b.get_i64();
        let producer_epoch = b.get_i16();
        let base_sequence = b.get_i32();
        let record_count = b.get_i32();
        if record_count < 0 {
            return Err(DecodeError::new(
                DecodeErrorKind::InvalidLength(record_count.into()),
                "RecordBatch.RecordCount",
            ));
        }
        Ok(RecordBatch {
            base_offset,
            partition_leader_epoch,
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            attributes,
            record_count,
            records: b,
        })
    }

    /// The encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.records.len()
    }

    /// Appends the batch to `buf`, computing `batchLength` and the CRC.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let batch_length = self.encoded_len() - 12;
        if batch_length > i32::MAX as usize {
            return Err(EncodeError::new(
                EncodeErrorKind::TooLong { len: batch_length, max: i32::MAX as usize },
                "RecordBatch.BatchLength",
            ));
        }
        buf.reserve(self.encoded_len());
        let start = buf.len();
        buf.put_i64(self.base_offset);
        buf.put_i32(batch_length as i32);
        buf.put_i32(self.partition_leader_epoch);
        buf.put_i8(2);
        buf.put_u32(0); // the CRC, filled in below
        buf.put_i16(self.attributes);
        buf.put_i32(self.last_offset_delta);
        buf.put_i64(self.base_timestamp);
        buf.put_i64(self.max_timestamp);
        buf.put_i64(self.producer_id);
        buf.put_i16(self.producer_epoch);
        buf.put_i32(self.base_sequence);
        buf.put_i32(self.record_count);
        buf.put_slice(&self.records);
        let crc = crc32c::crc32c(&buf[start + CRC_START..]);
        buf[start + CRC_START - 4..start + CRC_START].copy_from_slice(&crc.to_be_bytes());
        Ok(())
    }

    /// The encoding as a new buffer.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut buf = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut buf)?;
        Ok(buf.freeze())
    }

    /// The raw attributes (bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control,
    /// 6 delete horizon).
    pub fn attributes(&self) -> i16 {
        self.attributes
    }

    /// The codec of the records.
    pub fn compression(&self) -> Compression {
        // Checked by `decode` and set by the builder.
        Compression::from_code((self.attributes & COMPRESSION_MASK) as u8).unwrap_or_default()
    }

    /// Where the timestamps come from.
    pub fn timestamp_type(&self) -> TimestampType {
        if self.attributes & TIMESTAMP_TYPE_BIT != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
    }

    /// Whether the batch belongs to a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_BIT != 0
    }

    /// Whether the batch holds control records (transaction markers); see
    /// [`ControlRecord`](super::ControlRecord).
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_BIT != 0
    }

    /// The delete horizon set by log compaction (then held in `base_timestamp`), if any.
    pub fn delete_horizon_ms(&self) -> Option<i64> {
        (self.attributes & DELETE_HORIZON_BIT != 0).then_some(self.base_timestamp)
    }

    /// The number of records the header declares.
    pub fn record_count(&self) -> i32 {
        self.record_count
    }

    /// The offset of the last record: `base_offset + last_offset_delta`.
    pub fn last_offset(&self) -> i64 {
        self.base_offset.wrapping_add(self.last_offset_delta.into())
    }

    /// The records section as on the wire: compressed with [`RecordBatch::compression`] or not.
    pub fn raw_records(&self) -> &Bytes {
        &self.records
    }

    /// The records, read lazily. An uncompressed batch is read in place (keys, values and
    /// header values share the input); a compressed one is first decompressed, up to
    /// [`DEFAULT_MAX_DECOMPRESSED`] bytes.
    pub fn records(&self) -> Result<RecordIter, DecodeError> {
        self.records_capped(DEFAULT_MAX_DECOMPRESSED)
    }

    /// [`RecordBatch::records`] with a chosen cap on the decompressed size.
    pub fn records_capped(&self, max_decompressed: usize) -> Result<RecordIter, DecodeError> {
        // A count of 0: no record, and nothing after the count is read, compressed or not
        // (Kafka's DefaultRecordBatch.iterator returns an empty iterator; a negative count is
        // refused by decode, as Kafka's iterator refuses it).
        let data = match self.compression() {
            _ if self.record_count == 0 => Bytes::new(),
            Compression::None => self.records.clone(),
            c => Bytes::from(decompress_framed(c, &self.records, max_decompressed, false)?),
        };
        let log_append_time = (self.timestamp_type() == TimestampType::LogAppendTime).then_some(self.max_timestamp);
        Ok(RecordIter(Source::V2(V2Records {
            data,
            left: self.record_count,
            base_offset: self.base_offset,
            base_timestamp: self.base_timestamp,
            log_append_time,
        })))
    }
}

/// One record of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// The absolute offset: the batch's base offset plus the record's offset delta.
    pub offset: i64,
    /// The timestamp: the batch's base timestamp plus the record's delta, or the batch's max
    /// timestamp when the batch uses `LogAppendTime` (as the Java client reports it).
    pub timestamp: i64,
    /// The record's attribute byte (no bits are defined); for a legacy message, its attributes.
    pub attributes: i8,
    /// The key (`None` is null).
    pub key: Option<Bytes>,
    /// The value (`None` is null, a tombstone on compacted topics).
    pub value: Option<Bytes>,
    /// The headers, in order; a key may repeat.
    pub headers: Vec<Header>,
}

/// One record header. Keys may repeat within a record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Header {
    /// The key (UTF-8).
    pub key: ByteString,
    /// The value (`None` is null).
    pub value: Option<Bytes>,
}

impl Header {
    /// A header with a key and a value.
    pub fn new(key: impl Into<ByteString>, value: Option<Bytes>) -> Self {
        Header { key: key.into(), value }
    }
}

/// The records of one batch, decoded one at a time. Ends after the declared number of records;
/// bytes left after them are an error. Stops after the first error.
///
/// For a legacy message set entry it yields the message itself, or the inner messages of a
/// compressed wrapper, as records without headers.
#[derive(Debug, Clone)]
pub struct RecordIter(Source);

#[derive(Debug, Clone)]
enum Source {
    V2(V2Records),
    Legacy(std::vec::IntoIter<super::LegacyMessage>),
}

#[derive(Debug, Clone)]
struct V2Records {
    data: Bytes,
    left: i32,
    base_offset: i64,
    base_timestamp: i64,
    log_append_time: Option<i64>,
}

impl RecordIter {
    pub(crate) fn legacy(messages: Vec<super::LegacyMessage>) -> Self {
        RecordIter(Source::Legacy(messages.into_iter()))
    }

    /// The bytes of records not yet read (the decompressed size, before any is read).
    pub(crate) fn unread_len(&self) -> usize {
        match &self.0 {
            Source::V2(r) => r.data.len(),
            Source::Legacy(m) => m.as_slice().iter().map(super::LegacyMessage::encoded_len).sum(),
        }
    }
}

/// Where the parts of one record lie in the bytes it was read from (offsets from their start).
struct RawRecord {
    /// Where the record ends, its length prefix included: where the next one starts.
    end: usize,
    attributes: u8,
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<Range<usize>>,
    value: Option<Range<usize>>,
    /// The headers after their count (checked: `header_count` well-formed headers, UTF-8 keys).
    headers: Range<usize>,
    header_count: usize,
}

/// What [`read_record`] does with each header it has read.
trait HeaderSink {
    /// Called once before the first header with a bound on their number (at most what the
    /// record's bytes can hold).
    fn reserve(&mut self, n: usize);
    /// One header: its key (not yet checked to be UTF-8) and value, as ranges of `record`.
    fn header(&mut self, record: &[u8], key: Range<usize>, value: Option<Range<usize>>) -> Result<(), DecodeError>;
}

/// Reads and checks the record at the start of `data`: its length must fit in `data`, and its
/// fields must fill exactly that length. Nothing is read past the record's end.
#[inline(always)]
fn read_record(data: &[u8], sink: &mut impl HeaderSink) -> Result<RawRecord, DecodeError> {
    let mut pos = 0;
    let len = slice_varint(data, &mut pos, "Record.Length")?;
    if len < 0 {
        return Err(DecodeError::new(DecodeErrorKind::InvalidLength(len.into()), "Record.Length"));
    }
    let len = len as usize;
    let Some(r) = data.get(..pos + len) else {
        return Err(DecodeError::eof("Record.Length", len, data.len() - pos));
    };
    // The record is r; nothing below reads past it.
    let end = r.len();
    let Some(&attributes) = r.get(pos) else { return Err(DecodeError::eof("Record.Attributes", 1, 0)) };
    pos += 1;
    let timestamp_delta = slice_varlong(r, &mut pos, "Record.TimestampDelta")?;
    let offset_delta = slice_varint(r, &mut pos, "Record.OffsetDelta")?;
    let key = slice_bytes(r, &mut pos, "Record.Key")?;
    let value = slice_bytes(r, &mut pos, "Record.Value")?;
    let count = slice_varint(r, &mut pos, "Record.HeaderCount")?;
    if count < 0 {
        return Err(DecodeError::new(DecodeErrorKind::InvalidLength(count.into()), "Record.HeaderCount"));
    }
    let headers_start = pos;
    if count > 0 {
        // A header takes at least two bytes: never reserve more than the record could hold.
        sink.reserve((count as usize).min((end - pos) / 2));
        for _ in 0..count {
            let Some(key) = slice_bytes(r, &mut pos, "Header.Key")? else {
                return Err(DecodeError::new(DecodeErrorKind::InvalidLength(-1), "Header.Key"));
            };
            let value = slice_bytes(r, &mut pos, "Header.Value")?;
            sink.header(r, key, value)?;
        }
    }
    if pos != end {
        return Err(DecodeError::new(DecodeErrorKind::TrailingBytes(end - pos), "Record.Length"));
    }
    Ok(RawRecord {
        end,
        attributes,
        timestamp_delta,
        offset_delta,
        key,
        value,
        headers: headers_start..end,
        header_count: count as usize,
    })
}

/// Collects the headers of a record as [`Header`]s cut out of the batch's buffer.
struct OwnedHeaders<'b> {
    data: &'b Bytes,
    headers: Vec<Header>,
}

impl HeaderSink for OwnedHeaders<'_> {
    #[inline]
    fn reserve(&mut self, n: usize) {
        self.headers.reserve_exact(n);
    }

    #[inline]
    fn header(&mut self, _: &[u8], key: Range<usize>, value: Option<Range<usize>>) -> Result<(), DecodeError> {
        // A key that is not UTF-8 is decoded as Kafka decodes it (DefaultRecord.readFrom:
        // new String(bytes, UTF_8), U+FFFD for malformed sequences).
        let key = crate::codec::utf8_lossy(self.data.slice(key));
        self.headers.push(Header { key, value: value.map(|v| self.data.slice(v)) });
        Ok(())
    }
}

/// Only checks the headers (for [`RecordRef`], which reads them again when asked).
struct CheckHeaders;

impl HeaderSink for CheckHeaders {
    #[inline]
    fn reserve(&mut self, _: usize) {}

    #[inline]
    fn header(&mut self, _: &[u8], _: Range<usize>, _: Option<Range<usize>>) -> Result<(), DecodeError> {
        // Any key bytes are read (see OwnedHeaders).
        Ok(())
    }
}

impl V2Records {
    /// Decodes the next record. It walks the bytes as a slice and cuts `Bytes` (a reference
    /// count each) only for the key, the value and the headers it returns.
    #[inline]
    fn next(&mut self) -> Option<Result<Record, DecodeError>> {
        if self.left == 0 {
            if self.data.is_empty() {
                return None;
            }
            let e = DecodeError::new(DecodeErrorKind::TrailingBytes(self.data.len()), "RecordBatch.Records");
            self.data.clear();
            return Some(Err(e));
        }
        self.left -= 1;
        let mut sink = OwnedHeaders { data: &self.data, headers: Vec::new() };
        match read_record(&self.data, &mut sink) {
            Ok(raw) => {
                let headers = sink.headers;
                let key = raw.key.map(|k| self.data.slice(k));
                let value = raw.value.map(|v| self.data.slice(v));
                self.data.advance(raw.end);
                Some(Ok(Record {
                    offset: self.base_offset.wrapping_add(raw.offset_delta.into()),
                    timestamp: self.log_append_time.unwrap_or(self.base_timestamp.wrapping_add(raw.timestamp_delta)),
                    attributes: raw.attributes as i8,
                    key,
                    value,
                    headers,
                }))
            }
            Err(e) => {
                self.left = 0;
                self.data.clear();
                Some(Err(e))
            }
        }
    }
}

impl Iterator for RecordIter {
    type Item = Result<Record, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Source::V2(r) => r.next(),
            Source::Legacy(m) => m.next().map(|m| {
                Ok(Record {
                    offset: m.offset,
                    timestamp: m.timestamp,
                    attributes: m.attributes(),
                    key: m.key,
                    value: m.value,
                    headers: Vec::new(),
                })
            }),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            // Every record takes at least 7 bytes; +1 for a possible trailing-bytes error.
            Source::V2(r) => (0, Some((r.left as usize).min(r.data.len() / 7) + 1)),
            Source::Legacy(m) => m.size_hint(),
        }
    }
}

impl std::iter::FusedIterator for RecordIter {}

/// One record borrowed from the buffer of a [`RecordIter`]: what [`RecordIter::borrowed`]
/// yields. The same fields as [`Record`], with slices instead of `Bytes`; the headers were
/// checked when the record was read and are read again, without allocating, by
/// [`RecordRef::headers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// The absolute offset (see [`Record::offset`]).
    pub offset: i64,
    /// The timestamp (see [`Record::timestamp`]).
    pub timestamp: i64,
    /// The record's attribute byte; for a legacy message, its attributes.
    pub attributes: i8,
    /// The key (`None` is null).
    pub key: Option<&'a [u8]>,
    /// The value (`None` is null).
    pub value: Option<&'a [u8]>,
    headers: &'a [u8],
    header_count: usize,
}

impl<'a> RecordRef<'a> {
    /// The headers, in order.
    pub fn headers(&self) -> HeaderRefs<'a> {
        HeaderRefs { data: self.headers, left: self.header_count }
    }

    /// The number of headers.
    pub fn header_count(&self) -> usize {
        self.header_count
    }

    /// An owned copy (keys, values and headers are copied into new buffers).
    pub fn to_record(&self) -> Record {
        Record {
            offset: self.offset,
            timestamp: self.timestamp,
            attributes: self.attributes,
            key: self.key.map(Bytes::copy_from_slice),
            value: self.value.map(Bytes::copy_from_slice),
            headers: self.headers().map(|h| Header::new(&*h.key, h.value.map(Bytes::copy_from_slice))).collect(),
        }
    }
}

/// One header of a [`RecordRef`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HeaderRef<'a> {
    /// The key: borrowed when it is UTF-8, else decoded as Kafka decodes it (U+FFFD for each
    /// malformed sequence, `DefaultRecord.readFrom`).
    pub key: Cow<'a, str>,
    /// The value (`None` is null).
    pub value: Option<&'a [u8]>,
}

/// The headers of a [`RecordRef`], in order.
#[derive(Debug, Clone)]
pub struct HeaderRefs<'a> {
    data: &'a [u8],
    left: usize,
}

impl<'a> Iterator for HeaderRefs<'a> {
    type Item = HeaderRef<'a>;

    fn next(&mut self) -> Option<HeaderRef<'a>> {
        if self.left == 0 {
            return None;
        }
        // The headers were checked when the record was read: none of these can fail, and if
        // one did the iteration would just end.
        let mut pos = 0;
        let header = (|| {
            let key = slice_bytes(self.data, &mut pos, "Header.Key").ok()??;
            let value = slice_bytes(self.data, &mut pos, "Header.Value").ok()?;
            let key = self.data.get(key)?;
            let key = match std::str::from_utf8(key) {
                Ok(k) => Cow::Borrowed(k),
                Err(_) => Cow::Owned(crate::java_utf8::decode(key)),
            };
            let value = match value {
                Some(v) => Some(self.data.get(v)?),
                None => None,
            };
            Some(HeaderRef { key, value })
        })();
        match header {
            Some(h) => {
                self.left -= 1;
                self.data = self.data.get(pos..).unwrap_or_default();
                Some(h)
            }
            None => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for HeaderRefs<'_> {}

impl std::iter::FusedIterator for HeaderRefs<'_> {}

impl RecordIter {
    /// The records not yet read, borrowed from this iterator's buffer instead of cut out of it:
    /// keys and values are `&[u8]`, and no reference count is touched and nothing allocated per
    /// record, which makes visiting every record of a batch cheaper than with the owned
    /// [`Record`]s. It reads and checks exactly what the owned iteration does, with the same
    /// errors, and stops after the first; `self` is left where it was.
    ///
    /// ```
    /// # use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
    /// # let mut b = BatchBuilder::new(Compression::None);
    /// # b.push(&NewRecord::new(1_700_000_000_000, "v").with_key("k")).unwrap();
    /// # let batch = b.build().unwrap();
    /// let mut bytes = 0;
    /// for record in batch.records()?.borrowed() {
    ///     let record = record?;
    ///     bytes += record.value.map_or(0, <[u8]>::len);
    ///     for header in record.headers() {
    ///         println!("{}: {:?}", header.key, header.value);
    ///     }
    /// }
    /// # assert_eq!(bytes, 1);
    /// # Ok::<(), kafka_wire::DecodeError>(())
    /// ```
    pub fn borrowed(&self) -> BorrowedRecords<'_> {
        BorrowedRecords(match &self.0 {
            Source::V2(r) => BorrowedSource::V2 {
                data: &r.data,
                left: r.left,
                base_offset: r.base_offset,
                base_timestamp: r.base_timestamp,
                log_append_time: r.log_append_time,
            },
            Source::Legacy(m) => BorrowedSource::Legacy(m.as_slice().iter()),
        })
    }
}

/// The records of a [`RecordIter`] as [`RecordRef`]s; see [`RecordIter::borrowed`].
#[derive(Debug, Clone)]
pub struct BorrowedRecords<'a>(BorrowedSource<'a>);

#[derive(Debug, Clone)]
enum BorrowedSource<'a> {
    V2 { data: &'a [u8], left: i32, base_offset: i64, base_timestamp: i64, log_append_time: Option<i64> },
    Legacy(std::slice::Iter<'a, super::LegacyMessage>),
}

impl<'a> Iterator for BorrowedRecords<'a> {
    type Item = Result<RecordRef<'a>, DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            BorrowedSource::V2 { data, left, base_offset, base_timestamp, log_append_time } => {
                if *left == 0 {
                    if data.is_empty() {
                        return None;
                    }
                    let e = DecodeError::new(DecodeErrorKind::TrailingBytes(data.len()), "RecordBatch.Records");
                    *data = &[];
                    return Some(Err(e));
                }
                *left -= 1;
                let d: &'a [u8] = data;
                match read_record(d, &mut CheckHeaders) {
                    Ok(raw) => {
                        let slice = |r: Range<usize>| d.get(r).unwrap_or_default();
                        *data = d.get(raw.end..).unwrap_or_default();
                        Some(Ok(RecordRef {
                            offset: base_offset.wrapping_add(raw.offset_delta.into()),
                            timestamp: log_append_time.unwrap_or(base_timestamp.wrapping_add(raw.timestamp_delta)),
                            attributes: raw.attributes as i8,
                            key: raw.key.map(slice),
                            value: raw.value.map(slice),
                            headers: slice(raw.headers),
                            header_count: raw.header_count,
                        }))
                    }
                    Err(e) => {
                        *left = 0;
                        *data = &[];
                        Some(Err(e))
                    }
                }
            }
            BorrowedSource::Legacy(m) => m.next().map(|m| {
                Ok(RecordRef {
                    offset: m.offset,
                    timestamp: m.timestamp,
                    attributes: m.attributes(),
                    key: m.key.as_deref(),
                    value: m.value.as_deref(),
                    headers: &[],
                    header_count: 0,
                })
            }),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            BorrowedSource::V2 { data, left, .. } => (0, Some((*left as usize).min(data.len() / 7) + 1)),
            BorrowedSource::Legacy(m) => m.size_hint(),
        }
    }
}

impl std::iter::FusedIterator for BorrowedRecords<'_> {}

/// A varint-length byte string of the record format at `*pos` of `record`; -1 is null. Returns
/// where it lies in `record`.
#[inline(always)]
fn slice_bytes(record: &[u8], pos: &mut usize, field: &'static str) -> Result<Option<Range<usize>>, DecodeError> {
    match slice_varint(record, pos, field)? {
        // Every negative size is null, as in DefaultRecord.readFrom (`if (size >= 0)`).
        n if n < 0 => Ok(None),
        n => {
            let (start, n) = (*pos, n as usize);
            if record.len() - start < n {
                return Err(DecodeError::eof(field, n, record.len() - start));
            }
            *pos = start + n;
            Ok(Some(start..start + n))
        }
    }
}

fn bytes_len(b: Option<&[u8]>) -> usize {
    match b {
        None => varint_len(-1),
        Some(b) => varint_len(b.len() as i32) + b.len(),
    }
}

fn put_bytes(buf: &mut BytesMut, b: Option<&[u8]>) {
    match b {
        None => put_varint(buf, -1),
        Some(b) => {
            put_varint(buf, b.len() as i32);
            buf.put_slice(b);
        }
    }
}

/// Appends one record (its length prefix included); lengths must have been checked to fit an
/// `i32` by the caller.
pub(crate) fn put_record(
    buf: &mut BytesMut,
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[Header],
) -> Result<(), EncodeError> {
    let too_long =
        |len: usize, field| EncodeError::new(EncodeErrorKind::TooLong { len, max: i32::MAX as usize }, field);
    for (b, field) in [(key, "Record.Key"), (value, "Record.Value")] {
        if let Some(b) = b {
            if b.len() > i32::MAX as usize {
                return Err(too_long(b.len(), field));
            }
        }
    }
    if headers.len() > i32::MAX as usize {
        return Err(too_long(headers.len(), "Record.HeaderCount"));
    }
    let mut len = 1 + varlong_len(timestamp_delta) + varint_len(offset_delta) + bytes_len(key) + bytes_len(value);
    len += varint_len(headers.len() as i32);
    for h in headers {
        if h.key.len() > i32::MAX as usize {
            return Err(too_long(h.key.len(), "Header.Key"));
        }
        if h.value.as_ref().is_some_and(|v| v.len() > i32::MAX as usize) {
            return Err(too_long(h.value.as_ref().map_or(0, |v| v.len()), "Header.Value"));
        }
        len = len.saturating_add(bytes_len(Some(h.key.as_bytes())) + bytes_len(h.value.as_deref()));
    }
    if len > i32::MAX as usize {
        return Err(too_long(len, "Record.Length"));
    }
    buf.reserve(5 + len);
    put_varint(buf, len as i32);
    buf.put_i8(0);
    put_varlong(buf, timestamp_delta);
    put_varint(buf, offset_delta);
    put_bytes(buf, key);
    put_bytes(buf, value);
    put_varint(buf, headers.len() as i32);
    for h in headers {
        put_bytes(buf, Some(h.key.as_bytes()));
        put_bytes(buf, h.value.as_deref());
    }
    Ok(())
}

/// Attribute bits for the builder.
pub(crate) fn attributes(compression: Compression, ts: TimestampType, transactional: bool, control: bool) -> i16 {
    let mut a = compression.code() as i16;
    if ts == TimestampType::LogAppendTime {
        a |= TIMESTAMP_TYPE_BIT;
    }
    if transactional {
        a |= TRANSACTIONAL_BIT;
    }
    if control {
        a |= CONTROL_BIT;
    }
    a
}
