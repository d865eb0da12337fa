//! Record sets: the bytes of a `records` field (Produce requests, Fetch responses, ...).
//!
//! [`Records`] keeps the bytes exactly as received, so a proxy that only forwards them pays for
//! no parse and no copy. Reading them is explicit: [`Records::batches`] walks the batches
//! lazily, and each [`Batch`] hands out its records lazily too. For uncompressed batches keys,
//! values and header values are slices of the received buffer.
//!
//! - [`RecordBatch`]: magic 2 (Kafka 0.11+), with [`BatchBuilder`] to produce and
//!   [`ControlRecord`] for transaction markers;
//! - [`LegacyMessage`]: magic 0 and 1 message sets, compressed wrappers included;
//! - [`Compression`]: gzip, snappy, lz4 and zstd, each behind a cargo feature of the same name
//!   (all on by default). Decompression is capped ([`DEFAULT_MAX_DECOMPRESSED`], or a chosen
//!   limit with the `*_capped` methods).
//!
//! Collecting is one `collect` away: `batch.records()?.collect::<Result<Vec<_>, _>>()?`. To
//! only look at each record, [`RecordIter::borrowed`] costs less: its [`RecordRef`]s hold keys,
//! values and headers as slices of the batch's (decompressed) bytes, with no reference count
//! and no allocation per record.
//!
//! A Fetch response may end with a partial batch (the broker cuts at a byte limit): iteration
//! stops cleanly before it and [`Batches::truncated_len`] reports its size.
//!
//! # Reading a Fetch response
//! ```
//! use kafka_wire::fetch::{FetchableTopicResponse, PartitionData, Response};
//! # use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
//! # use kafka_wire::{Records, VersionFreeMessage};
//! # let mut b = BatchBuilder::new(Compression::None);
//! # b.push(&NewRecord::new(1_700_000_000_000, "v").with_key("k")).unwrap();
//! # let set = Records::from_batches(&[b.build().unwrap().into()]).unwrap();
//! # let response = Response { responses: vec![FetchableTopicResponse { partitions: vec![
//! #     PartitionData { records: Some(set), ..Default::default() }], ..Default::default() }],
//! #     ..Default::default() };
//! # let response = Response::from_bytes(12, response.to_bytes(12).unwrap()).unwrap();
//! for partition in response.responses.iter().flat_map(|t| &t.partitions) {
//!     let Some(records) = &partition.records else { continue };
//!     let mut batches = records.batches();
//!     for batch in &mut batches {
//!         let batch = batch?;
//!         for record in batch.records()? {
//!             let record = record?;
//!             println!("{} {:?} {:?}", record.offset, record.key, record.value);
//!         }
//!     }
//!     // A partial batch at the end is not an error; fetch again from after the last offset.
//!     let _cut_off_bytes = batches.truncated_len();
//! }
//! # Ok::<(), kafka_wire::DecodeError>(())
//! ```
//!
//! # Building a batch for a Produce request
//! ```
//! use kafka_wire::produce::{PartitionProduceData, Request, TopicProduceData};
//! use kafka_wire::records::{BatchBuilder, Compression, Header, NewRecord};
//! use kafka_wire::{Bytes, Records};
//!
//! let mut builder = BatchBuilder::new(Compression::Zstd).producer(7, 0, 0); // id, epoch, sequence
//! builder.push(&NewRecord {
//!     timestamp: 1_700_000_000_000,
//!     key: Some(Bytes::from("order-1")),
//!     value: Some(Bytes::from(r#"{"total": 42}"#)),
//!     headers: vec![Header::new("trace", Some(Bytes::from("abc")))],
//! })?;
//! let batch = builder.build()?;
//! let request = Request {
//!     acks: -1,
//!     timeout_ms: 30_000,
//!     topic_data: vec![TopicProduceData {
//!         name: "orders".into(),
//!         partition_data: vec![PartitionProduceData {
//!             index: 0,
//!             records: Some(Records::from_batches(&[batch.into()])?),
//!             ..Default::default()
//!         }],
//!         ..Default::default()
//!     }],
//!     ..Default::default()
//! };
//! # let _ = request;
//! # Ok::<(), kafka_wire::EncodeError>(())
//! ```

mod batch;
mod builder;
mod compression;
mod legacy;

use bytes::{Bytes, BytesMut};

pub use batch::{
    BorrowedRecords, Header, HeaderRef, HeaderRefs, Record, RecordBatch, RecordIter, RecordRef, TimestampType,
};
pub use builder::{BatchBuilder, ControlRecord, NewRecord};
pub use compression::{compress, decompress, Compression, DecompressionBudget, DEFAULT_MAX_DECOMPRESSED};
pub use legacy::LegacyMessage;

use crate::codec::{Encoder, Field, Wire};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

/// The content of a `records` field: a record set, held as the bytes on the wire.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Records(Bytes);

impl Records {
    /// An empty record set.
    pub const fn new() -> Self {
        Records(Bytes::new())
    }

    /// A record set from its encoded bytes (no copy, no validation).
    pub fn from_bytes(bytes: Bytes) -> Self {
        Records(bytes)
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// The encoded bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The encoded size in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set holds no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The batches, decoded lazily and without copying. A partial batch at the end ends the
    /// iteration cleanly ([`Batches::truncated_len`]); any other problem is an error, after
    /// which the iteration stops.
    pub fn batches(&self) -> Batches {
        Batches { rest: self.0.clone(), truncated: 0 }
    }

    /// Encodes batches one after the other.
    pub fn from_batches(batches: &[Batch]) -> Result<Records, EncodeError> {
        let mut buf = BytesMut::with_capacity(batches.iter().map(Batch::encoded_len).sum());
        for b in batches {
            b.encode(&mut buf)?;
        }
        Ok(Records(buf.freeze()))
    }
}

/// One entry of a record set: a record batch (magic 2) or a legacy message (magic 0 or 1, a
/// compressed wrapper standing for its inner messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Batch {
    /// Magic 2.
    V2(RecordBatch),
    /// Magic 0 or 1.
    Legacy(LegacyMessage),
}

impl Batch {
    /// Reads one whole entry from the front of `buf` (which must hold all of it).
    pub fn decode(buf: &mut Bytes) -> Result<Batch, DecodeError> {
        if buf.len() < HEADER_UP_TO_MAGIC {
            return Err(DecodeError::eof("RecordBatch.Magic", HEADER_UP_TO_MAGIC, buf.len()));
        }
        match buf[16] {
            2 => RecordBatch::decode(buf).map(Batch::V2),
            0 | 1 => LegacyMessage::decode(buf).map(Batch::Legacy),
            m => Err(DecodeError::new(DecodeErrorKind::Invalid(format!("unknown magic {m}")), "RecordBatch.Magic")),
        }
    }

    /// The magic byte: 0, 1 or 2.
    pub fn magic(&self) -> i8 {
        match self {
            Batch::V2(_) => 2,
            Batch::Legacy(m) => m.magic,
        }
    }

    /// The offset of the last record (the next fetch starts after it).
    pub fn last_offset(&self) -> i64 {
        match self {
            Batch::V2(b) => b.last_offset(),
            Batch::Legacy(m) => m.offset,
        }
    }

    /// The codec of the records.
    pub fn compression(&self) -> Compression {
        match self {
            Batch::V2(b) => b.compression(),
            Batch::Legacy(m) => m.compression(),
        }
    }

    /// The records, decompressed up to [`DEFAULT_MAX_DECOMPRESSED`] bytes. Legacy messages
    /// become records without headers.
    pub fn records(&self) -> Result<RecordIter, DecodeError> {
        self.records_capped(DEFAULT_MAX_DECOMPRESSED)
    }

    /// [`Batch::records`] with a chosen cap on the decompressed size.
    pub fn records_capped(&self, max_decompressed: usize) -> Result<RecordIter, DecodeError> {
        match self {
            Batch::V2(b) => b.records_capped(max_decompressed),
            Batch::Legacy(m) => m.records_capped(max_decompressed),
        }
    }

    /// The records, decompressed within what is left of a budget shared by the batches of a
    /// record set (see [`DecompressionBudget`]). A compressed batch is charged its decoder's
    /// state and its decompressed size. One that does not fit fails with
    /// [`DecodeErrorKind::DecompressedTooLarge`]; any failure to decompress empties the budget
    /// (what the decoder produced before failing is not known), so every later compressed batch
    /// of the set fails too. Uncompressed batches cost nothing.
    pub fn records_budgeted(&self, budget: &mut DecompressionBudget) -> Result<RecordIter, DecodeError> {
        let codec = self.compression();
        if codec == Compression::None {
            return self.records_capped(usize::MAX);
        }
        let data: &[u8] = match self {
            Batch::V2(b) => b.raw_records(),
            Batch::Legacy(m) => m.value.as_deref().unwrap_or_default(),
        };
        budget.spend(codec, data, |cap| self.records_capped(cap))
    }

    /// The encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        match self {
            Batch::V2(b) => b.encoded_len(),
            Batch::Legacy(m) => m.encoded_len(),
        }
    }

    /// Appends the encoding to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Batch::V2(b) => b.encode(buf),
            Batch::Legacy(m) => m.encode(buf),
        }
    }
}

impl From<RecordBatch> for Batch {
    fn from(b: RecordBatch) -> Self {
        Batch::V2(b)
    }
}

impl From<LegacyMessage> for Batch {
    fn from(m: LegacyMessage) -> Self {
        Batch::Legacy(m)
    }
}

/// `baseOffset`/`offset`, length, and the 5 bytes before the magic byte.
const HEADER_UP_TO_MAGIC: usize = 17;

/// The batches of a record set; see [`Records::batches`].
#[derive(Debug, Clone)]
pub struct Batches {
    rest: Bytes,
    truncated: usize,
}

impl Batches {
    /// The size of the partial batch that ended the set (0 if none). Known once the iteration
    /// has ended.
    pub fn truncated_len(&self) -> usize {
        self.truncated
    }

    /// The bytes not yet read.
    pub fn remaining(&self) -> &Bytes {
        &self.rest
    }
}

impl Iterator for Batches {
    type Item = Result<Batch, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = &self.rest;
        if rest.is_empty() {
            return None;
        }
        // Like the Java client: the size must be plausible; a batch that does not fit in what
        // remains is the cut-off end of the set.
        let complete = rest.len() >= HEADER_UP_TO_MAGIC && {
            let size = i32::from_be_bytes([rest[8], rest[9], rest[10], rest[11]]);
            if size < legacy::MIN_MESSAGE_SIZE as i32 {
                self.rest.clear();
                return Some(Err(DecodeError::new(
                    DecodeErrorKind::InvalidLength(size.into()),
                    "RecordBatch.BatchLength",
                )));
            }
            rest.len() - 12 >= size as usize
        };
        if !complete {
            self.truncated = rest.len();
            self.rest.clear();
            return None;
        }
        let r = Batch::decode(&mut self.rest);
        if r.is_err() {
            self.rest.clear();
        }
        Some(r)
    }
}

impl std::iter::FusedIterator for Batches {}

impl From<Bytes> for Records {
    fn from(bytes: Bytes) -> Self {
        Records(bytes)
    }
}

impl From<Records> for Bytes {
    fn from(r: Records) -> Self {
        r.0
    }
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Records({} bytes)", self.0.len())
    }
}

/// On the wire a `records` field is exactly a `bytes` field of the same version.
impl Wire for Records {
    const MIN_LEN: usize = 1;
    #[inline]
    fn wire_len(&self, compact: bool, version: i16) -> usize {
        self.0.wire_len(compact, version)
    }
    #[inline]
    fn wire_put(&self, buf: &mut Encoder, compact: bool, version: i16, field: Field) -> Result<(), EncodeError> {
        self.0.wire_put(buf, compact, version, field)
    }
    #[inline]
    fn wire_get(buf: &mut Bytes, compact: bool, version: i16, field: Field) -> Result<Self, DecodeError> {
        Bytes::wire_get(buf, compact, version, field).map(Records)
    }
}

impl Wire for Option<Records> {
    const MIN_LEN: usize = 1;
    #[inline]
    fn wire_len(&self, compact: bool, version: i16) -> usize {
        match self {
            Some(r) => r.wire_len(compact, version),
            None => None::<Bytes>.wire_len(compact, version),
        }
    }
    #[inline]
    fn wire_put(&self, buf: &mut Encoder, compact: bool, version: i16, field: Field) -> Result<(), EncodeError> {
        match self {
            Some(r) => r.wire_put(buf, compact, version, field),
            None => None::<Bytes>.wire_put(buf, compact, version, field),
        }
    }
    #[inline]
    fn wire_get(buf: &mut Bytes, compact: bool, version: i16, field: Field) -> Result<Self, DecodeError> {
        Ok(Option::<Bytes>::wire_get(buf, compact, version, field)?.map(Records))
    }
}
