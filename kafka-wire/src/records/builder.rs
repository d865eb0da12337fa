//! Building record batches (magic 2) for producing, and control records.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::batch::{attributes, put_record, Header, Record, RecordBatch, TimestampType};
use super::compression::{compress_framed, Compression};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};

/// A record to produce: what the producer chooses. Offsets are assigned by the
/// [`BatchBuilder`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewRecord {
    /// The create time in milliseconds since the epoch.
    pub timestamp: i64,
    /// The key (`None` is null).
    pub key: Option<Bytes>,
    /// The value (`None` is null).
    pub value: Option<Bytes>,
    /// The headers, in order; a key may repeat.
    pub headers: Vec<Header>,
}

impl NewRecord {
    /// A record with a value and a timestamp, no key, no headers.
    pub fn new(timestamp: i64, value: impl Into<Bytes>) -> Self {
        NewRecord { timestamp, key: None, value: Some(value.into()), headers: Vec::new() }
    }

    /// Sets the key.
    pub fn with_key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, key: &str, value: Option<Bytes>) -> Self {
        self.headers.push(Header::new(key, value));
        self
    }
}

/// Builds one record batch: records are encoded as they are pushed; [`BatchBuilder::build`]
/// compresses them and fills in the offset deltas, `lastOffsetDelta`, the base and max
/// timestamps and the record count.
///
/// ```
/// use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
///
/// let mut builder = BatchBuilder::new(Compression::None).producer(4000, 0, 17);
/// builder.push(&NewRecord::new(1_700_000_000_000, "hello").with_key("k")).unwrap();
/// builder.push(&NewRecord::new(1_700_000_000_005, "world")).unwrap();
/// let batch = builder.build().unwrap();
/// assert_eq!((batch.record_count(), batch.last_offset_delta, batch.max_timestamp), (2, 1, 1_700_000_000_005));
/// ```
#[derive(Debug, Clone)]
pub struct BatchBuilder {
    header: RecordBatch,
    compression: Compression,
    timestamp_type: TimestampType,
    transactional: bool,
    control: bool,
    body: BytesMut,
    count: i32,
}

impl BatchBuilder {
    /// A builder of a batch compressed with `compression`: base offset 0, no producer id
    /// (-1, -1, -1), partition leader epoch -1, create-time timestamps.
    pub fn new(compression: Compression) -> Self {
        BatchBuilder {
            header: RecordBatch {
                base_offset: 0,
                partition_leader_epoch: -1,
                last_offset_delta: -1,
                base_timestamp: -1,
                max_timestamp: -1,
                producer_id: -1,
                producer_epoch: -1,
                base_sequence: -1,
                attributes: 0,
                record_count: 0,
                records: Bytes::new(),
            },
            compression,
            timestamp_type: TimestampType::CreateTime,
            transactional: false,
            control: false,
            body: BytesMut::new(),
            count: 0,
        }
    }

    /// Sets the base offset (0 from producers; the broker assigns offsets).
    pub fn base_offset(mut self, base_offset: i64) -> Self {
        self.header.base_offset = base_offset;
        self
    }

    /// Sets the partition leader epoch.
    pub fn partition_leader_epoch(mut self, epoch: i32) -> Self {
        self.header.partition_leader_epoch = epoch;
        self
    }

    /// Sets the idempotent producer's id, epoch and the sequence number of the first record.
    pub fn producer(mut self, producer_id: i64, producer_epoch: i16, base_sequence: i32) -> Self {
        self.header.producer_id = producer_id;
        self.header.producer_epoch = producer_epoch;
        self.header.base_sequence = base_sequence;
        self
    }

    /// Marks the batch as part of a transaction.
    pub fn transactional(mut self, transactional: bool) -> Self {
        self.transactional = transactional;
        self
    }

    /// Marks the batch as a control batch: push one [`ControlRecord::to_record`] into it.
    /// Transaction markers are also `transactional`, with the transaction's producer id and
    /// epoch.
    pub fn control(mut self, control: bool) -> Self {
        self.control = control;
        self
    }

    /// Sets the timestamp type (brokers use `LogAppendTime`; set `max_timestamp` on the built
    /// batch to the append time).
    pub fn timestamp_type(mut self, timestamp_type: TimestampType) -> Self {
        self.timestamp_type = timestamp_type;
        self
    }

    /// Appends a record. Its offset delta is the number of records before it; its timestamp is
    /// stored relative to the first record's.
    pub fn push(&mut self, record: &NewRecord) -> Result<(), EncodeError> {
        if self.count == i32::MAX {
            return Err(EncodeError::new(
                EncodeErrorKind::TooLong { len: self.count as usize + 1, max: i32::MAX as usize },
                "RecordBatch.RecordCount",
            ));
        }
        if self.count == 0 {
            self.header.base_timestamp = record.timestamp;
            self.header.max_timestamp = record.timestamp;
        }
        put_record(
            &mut self.body,
            record.timestamp.wrapping_sub(self.header.base_timestamp),
            self.count,
            record.key.as_deref(),
            record.value.as_deref(),
            &record.headers,
        )?;
        self.header.max_timestamp = self.header.max_timestamp.max(record.timestamp);
        self.count += 1;
        Ok(())
    }

    /// The number of records pushed.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether no record was pushed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The size of the batch so far if it were not compressed (to decide when a batch is full).
    pub fn uncompressed_len(&self) -> usize {
        super::batch::HEADER_LEN + self.body.len()
    }

    /// The batch. With no records, `lastOffsetDelta` is -1 and both timestamps are -1.
    pub fn build(self) -> Result<RecordBatch, EncodeError> {
        let records = match self.compression {
            Compression::None => self.body.freeze(),
            c => Bytes::from(compress_framed(c, &self.body, false)?),
        };
        Ok(RecordBatch {
            last_offset_delta: self.count - 1,
            attributes: attributes(self.compression, self.timestamp_type, self.transactional, self.control),
            record_count: self.count,
            records,
            ..self.header
        })
    }
}

/// A control record: the single record of a control batch. Its key is `version int16, type
/// int16`; for transaction markers the value is `version int16, coordinatorEpoch int32`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlRecord {
    /// The transaction was aborted (type 0).
    Abort {
        /// The epoch of the transaction coordinator that wrote the marker.
        coordinator_epoch: i32,
    },
    /// The transaction was committed (type 1).
    Commit {
        /// The epoch of the transaction coordinator that wrote the marker.
        coordinator_epoch: i32,
    },
    /// Another type (KRaft uses 2 and up for its own records); the value is kept as is.
    Other {
        /// The type from the key.
        kind: i16,
        /// The value.
        value: Option<Bytes>,
    },
}

impl ControlRecord {
    /// Reads the control record held in `record` (a record of a control batch).
    pub fn parse(record: &Record) -> Result<ControlRecord, DecodeError> {
        let invalid = |what: &str, field| DecodeError::new(DecodeErrorKind::Invalid(what.to_string()), field);
        let mut key = record.key.clone().ok_or_else(|| invalid("control record without key", "ControlRecord.Key"))?;
        if key.len() < 4 {
            return Err(DecodeError::eof("ControlRecord.Key", 4, key.len()));
        }
        let version = key.get_i16();
        if version < 0 {
            return Err(invalid("negative control record key version", "ControlRecord.Key"));
        }
        let kind = key.get_i16();
        if kind != 0 && kind != 1 {
            return Ok(ControlRecord::Other { kind, value: record.value.clone() });
        }
        let mut value =
            record.value.clone().ok_or_else(|| invalid("transaction marker without value", "ControlRecord.Value"))?;
        if value.len() < 6 {
            return Err(DecodeError::eof("ControlRecord.Value", 6, value.len()));
        }
        let _version = value.get_i16();
        let coordinator_epoch = value.get_i32();
        Ok(if kind == 0 {
            ControlRecord::Abort { coordinator_epoch }
        } else {
            ControlRecord::Commit { coordinator_epoch }
        })
    }

    /// The record to push into a control batch (key and value of version 0).
    pub fn to_record(&self, timestamp: i64) -> NewRecord {
        let (kind, value) = match self {
            ControlRecord::Abort { coordinator_epoch } => (0, Some(marker_value(*coordinator_epoch))),
            ControlRecord::Commit { coordinator_epoch } => (1, Some(marker_value(*coordinator_epoch))),
            ControlRecord::Other { kind, value } => (*kind, value.clone()),
        };
        let mut key = BytesMut::with_capacity(4);
        key.put_i16(0);
        key.put_i16(kind);
        NewRecord { timestamp, key: Some(key.freeze()), value, headers: Vec::new() }
    }
}

fn marker_value(coordinator_epoch: i32) -> Bytes {
    let mut v = BytesMut::with_capacity(6);
    v.put_i16(0);
    v.put_i32(coordinator_epoch);
    v.freeze()
}
