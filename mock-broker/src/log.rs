//! One partition's log, in memory: record batches with broker-assigned offsets, and the
//! idempotent producers' sequence state.

use std::collections::{HashMap, VecDeque};

use bytes::{Bytes, BytesMut};
use kafka_wire::records::{Batch, RecordBatch};
use kafka_wire::{ErrorCode, Records};

/// The default `max.message.bytes` of a topic.
pub(crate) const DEFAULT_MAX_MESSAGE_BYTES: usize = 1_048_588;

/// How many batches per producer Kafka remembers to recognise retried duplicates.
const DEDUP_WINDOW: usize = 5;

/// A rejected append, answered as Kafka answers it: an error code without a message, and the
/// partition's log start offset when the error is found while appending to the log (sequence,
/// epoch and record checks), -1 when it is found before (a batch that does not decode, is too
/// large, or is not exactly one batch of magic 2: Kafka's CorruptRecordException,
/// RecordTooLargeException and request validation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AppendError {
    pub(crate) code: ErrorCode,
    /// Found while appending: the answer carries the log start offset.
    pub(crate) in_log: bool,
}

/// An error found while appending (the reason is for the reader: Kafka sends none).
fn invalid(_reason: impl Into<String>) -> AppendError {
    AppendError { code: ErrorCode::INVALID_RECORD, in_log: true }
}

/// A request that Kafka rejects before the log: not exactly one batch of magic 2.
fn malformed(_reason: impl Into<String>) -> AppendError {
    AppendError { code: ErrorCode::INVALID_RECORD, in_log: false }
}

/// A batch or record that does not decode (Kafka's CorruptRecordException).
fn corrupt(_reason: impl Into<String>) -> AppendError {
    AppendError { code: ErrorCode::CORRUPT_MESSAGE, in_log: false }
}

/// A sequence or epoch error of an idempotent producer.
fn sequence(code: ErrorCode, _reason: impl Into<String>) -> AppendError {
    AppendError { code, in_log: true }
}

#[derive(Debug, Clone)]
struct Stored {
    base: i64,
    last: i64,
    epoch: i32,
    max_timestamp: i64,
    data: Bytes,
}

#[derive(Debug, Clone)]
struct ProducerState {
    epoch: i16,
    last_sequence: i32,
    /// (first sequence, last sequence, base offset, max timestamp) of the last few batches.
    recent: VecDeque<(i32, i32, i64, i64)>,
}

/// A partition's log.
#[derive(Debug, Clone, Default)]
pub(crate) struct Log {
    batches: Vec<Stored>,
    /// The log start offset.
    pub(crate) start: i64,
    /// The log end offset (= high watermark: every replica is in sync).
    pub(crate) end: i64,
    producers: HashMap<i64, ProducerState>,
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Appended {
    pub(crate) base_offset: i64,
    /// Whether the batch was a retry of one already in the log (nothing was appended).
    pub(crate) duplicate: bool,
    /// The log append time Kafka answers: -1, except for a duplicate, where it is the max
    /// timestamp of the batch in the log (Kafka's cached batch metadata).
    pub(crate) log_append_time: i64,
}

impl Log {
    /// Validates the record set of one partition of a Produce request (v3+: exactly one
    /// record batch of magic 2), assigns offsets and appends it.
    pub(crate) fn append(
        &mut self,
        records: Option<&Records>,
        leader_epoch: i32,
        max_message_bytes: usize,
    ) -> Result<Appended, AppendError> {
        let records = records.ok_or_else(|| malformed("null record set"))?;
        if records.len() > max_message_bytes {
            // The record batch is larger than max.message.bytes.
            return Err(AppendError { code: ErrorCode::MESSAGE_TOO_LARGE, in_log: false });
        }
        let mut batches = records.batches();
        let batch = match batches.next() {
            None => return Err(malformed("a produce request must hold exactly one record batch; it holds none")),
            Some(Err(e)) => return Err(corrupt(format!("undecodable record batch: {e}"))),
            Some(Ok(Batch::Legacy(_))) => {
                return Err(malformed("produce requests of version 3 and later take record batches of magic 2 only"))
            }
            Some(Ok(Batch::V2(b))) => b,
        };
        if batches.truncated_len() > 0 || batches.next().is_some() {
            return Err(malformed("a produce request must hold exactly one record batch per partition"));
        }
        validate(&batch)?;
        let count = batch.record_count();
        if batch.producer_id >= 0 {
            if let Some((offset, max_timestamp)) = self.check_sequence(&batch, count)? {
                return Ok(Appended { base_offset: offset, duplicate: true, log_append_time: max_timestamp });
            }
        }
        let base = self.end;
        let last = base + i64::from(batch.last_offset_delta);
        let mut stored = batch.clone();
        stored.base_offset = base;
        stored.partition_leader_epoch = leader_epoch;
        let data = stored.to_bytes().map_err(|e| corrupt(format!("cannot re-encode the batch: {e}")))?;
        self.batches.push(Stored { base, last, epoch: leader_epoch, max_timestamp: batch.max_timestamp, data });
        self.end = last + 1;
        if batch.producer_id >= 0 {
            let last_sequence = batch.base_sequence.wrapping_add(count - 1) & i32::MAX;
            let state = self.producers.entry(batch.producer_id).or_insert_with(|| ProducerState {
                epoch: batch.producer_epoch,
                last_sequence,
                recent: VecDeque::new(),
            });
            if state.epoch != batch.producer_epoch {
                state.recent.clear();
            }
            state.epoch = batch.producer_epoch;
            state.last_sequence = last_sequence;
            state.recent.push_back((batch.base_sequence, last_sequence, base, batch.max_timestamp));
            if state.recent.len() > DEDUP_WINDOW {
                state.recent.pop_front();
            }
        }
        Ok(Appended { base_offset: base, duplicate: false, log_append_time: -1 })
    }

    /// The idempotent producer checks (Kafka's ProducerAppendInfo): `Some((base offset, max
    /// timestamp))` for a duplicate of a recent batch.
    fn check_sequence(&self, batch: &RecordBatch, count: i32) -> Result<Option<(i64, i64)>, AppendError> {
        if batch.producer_epoch < 0 || batch.base_sequence < 0 {
            return Err(invalid("idempotent batch without producer epoch or sequence"));
        }
        let last_sequence = batch.base_sequence.wrapping_add(count - 1) & i32::MAX;
        match self.producers.get(&batch.producer_id) {
            Some(state) if batch.producer_epoch < state.epoch => Err(sequence(
                ErrorCode::INVALID_PRODUCER_EPOCH,
                format!("producer epoch {} is older than {}", batch.producer_epoch, state.epoch),
            )),
            Some(state) if batch.producer_epoch == state.epoch => {
                if let Some(&(_, _, offset, max_timestamp)) = state
                    .recent
                    .iter()
                    .find(|&&(first, last, ..)| first == batch.base_sequence && last == last_sequence)
                {
                    return Ok(Some((offset, max_timestamp)));
                }
                let expected = state.last_sequence.wrapping_add(1) & i32::MAX;
                if batch.base_sequence != expected {
                    return Err(sequence(
                        ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
                        format!("sequence {} where {expected} was expected", batch.base_sequence),
                    ));
                }
                Ok(None)
            }
            // A new epoch: sequences start over.
            Some(_) if batch.base_sequence != 0 => Err(sequence(
                ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
                format!("sequence {} where 0 was expected (new epoch)", batch.base_sequence),
            )),
            // A producer this partition does not know yet may start at any sequence (Kafka
            // accepts it: its records may have been removed by retention or DeleteRecords).
            _ => Ok(None),
        }
    }

    /// The record bytes a fetch at `offset` gets: whole batches from the one holding `offset`,
    /// cut at `limit` bytes like a log segment slice (so the last batch may be partial). With
    /// `min_one`, a first batch larger than `limit` is returned whole (KIP-74).
    pub(crate) fn read(&self, offset: i64, limit: usize, min_one: bool) -> Result<Bytes, ErrorCode> {
        if offset < self.start || offset > self.end {
            return Err(ErrorCode::OFFSET_OUT_OF_RANGE);
        }
        let first = self.batches.partition_point(|b| b.last < offset);
        let Some(head) = self.batches.get(first) else { return Ok(Bytes::new()) };
        let limit = if min_one { limit.max(head.data.len()) } else { limit };
        if head.data.len() >= limit {
            return Ok(head.data.slice(..limit));
        }
        let mut out = BytesMut::new();
        for b in &self.batches[first..] {
            let room = limit - out.len();
            if room == 0 {
                break;
            }
            out.extend_from_slice(&b.data[..b.data.len().min(room)]);
        }
        Ok(out.freeze())
    }

    /// ListOffsets: (timestamp, offset, leader epoch) for a timestamp or one of the special
    /// values -1 (latest), -2 (earliest), -3 (max timestamp), -4 (earliest local), -5 (latest
    /// tiered) and -6 (earliest pending upload; no tiered storage here).
    pub(crate) fn offset_for(&self, timestamp: i64, current_epoch: i32) -> (i64, i64, i32) {
        let epoch_of = |offset: i64| {
            let i = self.batches.partition_point(|b| b.last < offset);
            self.batches.get(i).map_or(current_epoch, |b| b.epoch)
        };
        match timestamp {
            -1 => (-1, self.end, current_epoch),
            -2 | -4 => (-1, self.start, epoch_of(self.start)),
            // Latest tiered, earliest pending upload: no tiered storage here, as on a Kafka
            // cluster without it.
            -5 | -6 => (-1, -1, -1),
            -3 => {
                let Some(batch) = self.batches.iter().max_by_key(|b| (b.max_timestamp, std::cmp::Reverse(b.base)))
                else {
                    return (-1, -1, -1);
                };
                let offset = record_offsets(&batch.data)
                    .into_iter()
                    .find(|&(_, ts)| ts == batch.max_timestamp)
                    .map_or(batch.last, |(o, _)| o);
                (batch.max_timestamp, offset, batch.epoch)
            }
            ts => {
                for b in self.batches.iter().filter(|b| b.max_timestamp >= ts) {
                    if let Some((offset, found)) = record_offsets(&b.data).into_iter().find(|&(_, t)| t >= ts) {
                        return (found, offset, b.epoch);
                    }
                }
                (-1, -1, -1)
            }
        }
    }

    /// Every record batch in the log, in order.
    pub(crate) fn batches(&self) -> impl Iterator<Item = &Bytes> {
        self.batches.iter().map(|b| &b.data)
    }
}

/// Checks what a broker checks of a producer's batch before appending it.
fn validate(batch: &RecordBatch) -> Result<(), AppendError> {
    if batch.is_control() {
        return Err(invalid("producers may not write control batches"));
    }
    let count = batch.record_count();
    if count <= 0 {
        return Err(invalid("record batch without records"));
    }
    if batch.last_offset_delta != count - 1 {
        return Err(invalid(format!("lastOffsetDelta {} does not match {count} records", batch.last_offset_delta)));
    }
    let records = batch.records().map_err(|e| corrupt(format!("cannot read the records: {e}")))?;
    let mut n = 0i32;
    for record in records {
        let record = record.map_err(|e| corrupt(format!("record {n}: {e}")))?;
        if record.offset != batch.base_offset + i64::from(n) {
            return Err(invalid(format!("record {n} has offset delta {}", record.offset - batch.base_offset)));
        }
        n += 1;
        if n > count {
            break;
        }
    }
    if n != count {
        return Err(corrupt(format!("the batch claims {count} records and holds {n}")));
    }
    Ok(())
}

/// (offset, timestamp) of every record of a stored batch.
fn record_offsets(data: &Bytes) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut buf = data.clone();
    let Ok(batch) = RecordBatch::decode(&mut buf) else { return out };
    let Ok(records) = batch.records() else { return out };
    for r in records.flatten() {
        out.push((r.offset, r.timestamp));
    }
    out
}
