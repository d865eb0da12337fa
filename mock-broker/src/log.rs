//! One partition's log, in memory: record batches with broker-assigned offsets, the
//! idempotent producers' sequence state, and the transactions of the partition (Kafka's
//! ProducerStateManager and transaction index): the open transaction of each producer, the
//! aborted ones, transaction markers, and the last stable offset (KIP-98).

use std::collections::{BTreeMap, HashMap, VecDeque};

use bytes::{Bytes, BytesMut};
use kafka_wire::records::{Batch, BatchBuilder, Compression, ControlRecord, RecordBatch};
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
    /// The max timestamp of its last batch (or marker).
    last_timestamp: i64,
    /// The coordinator epoch of its last transaction marker, -1 before any.
    coordinator_epoch: i32,
}

/// A transaction aborted in this partition (Kafka's `AbortedTxn` of the transaction index):
/// its producer, the offset of its first batch here and the offset of its ABORT marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AbortedTxn {
    pub(crate) producer_id: i64,
    pub(crate) first_offset: i64,
    pub(crate) last_offset: i64,
}

/// One producer as DescribeProducers shows it (Kafka's `ProducerStateEntry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProducerView {
    pub(crate) producer_id: i64,
    pub(crate) epoch: i16,
    pub(crate) last_sequence: i32,
    pub(crate) last_timestamp: i64,
    pub(crate) coordinator_epoch: i32,
    /// The first offset of its open transaction, -1 when none is open.
    pub(crate) current_txn_start_offset: i64,
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
    /// Open transactions: producer id → offset of its first batch in the transaction.
    ongoing: BTreeMap<i64, i64>,
    /// Aborted transactions, in the order of their markers.
    aborted: Vec<AbortedTxn>,
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
            // Kafka's ProducerAppendInfo: a producer with an open transaction here writes
            // transactional batches only.
            if !batch.is_transactional() && self.ongoing.contains_key(&batch.producer_id) {
                return Err(sequence(ErrorCode::INVALID_TXN_STATE, "non-transactional write in a transaction"));
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
                last_timestamp: -1,
                coordinator_epoch: -1,
            });
            state.last_timestamp = batch.max_timestamp;
            if batch.is_transactional() {
                self.ongoing.entry(batch.producer_id).or_insert(base);
            }
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
        self.read_below(offset, limit, min_one, self.end).map(|(bytes, _)| bytes)
    }

    /// A read_committed fetch at `offset`: as [`Log::read`], but only batches below the last
    /// stable offset, and the aborted transactions that overlap the offsets read (Kafka's
    /// `collectAbortedTransactions`: last offset at or after `offset`, first offset below the
    /// end of the last batch read).
    pub(crate) fn read_committed(
        &self,
        offset: i64,
        limit: usize,
        min_one: bool,
    ) -> Result<(Bytes, Vec<AbortedTxn>), ErrorCode> {
        let (bytes, upper) = self.read_below(offset, limit, min_one, self.last_stable_offset())?;
        let aborted =
            self.aborted.iter().filter(|a| a.last_offset >= offset && a.first_offset < upper).copied().collect();
        Ok((bytes, aborted))
    }

    /// The bytes of the batches from the one holding `offset` that start below `max_offset`,
    /// cut at `limit`; and the offset after the last batch read (even partly).
    fn read_below(&self, offset: i64, limit: usize, min_one: bool, max_offset: i64) -> Result<(Bytes, i64), ErrorCode> {
        if offset < self.start || offset > self.end {
            return Err(ErrorCode::OFFSET_OUT_OF_RANGE);
        }
        let first = self.batches.partition_point(|b| b.last < offset);
        let Some(head) = self.batches.get(first).filter(|b| b.base < max_offset) else {
            return Ok((Bytes::new(), offset));
        };
        let limit = if min_one { limit.max(head.data.len()) } else { limit };
        if head.data.len() >= limit {
            return Ok((head.data.slice(..limit), head.last + 1));
        }
        let mut out = BytesMut::new();
        let mut upper = offset;
        for b in self.batches[first..].iter().take_while(|b| b.base < max_offset) {
            let room = limit - out.len();
            if room == 0 {
                break;
            }
            out.extend_from_slice(&b.data[..b.data.len().min(room)]);
            upper = b.last + 1;
        }
        Ok((out.freeze(), upper))
    }

    /// The last stable offset: the first offset of the oldest open transaction, else the end.
    pub(crate) fn last_stable_offset(&self) -> i64 {
        self.ongoing.values().copied().min().unwrap_or(self.end).min(self.end)
    }

    /// Whether `producer_id` has an open transaction in this partition.
    pub(crate) fn in_transaction(&self, producer_id: i64) -> bool {
        self.ongoing.contains_key(&producer_id)
    }

    /// Appends a transaction marker (a control batch of one COMMIT or ABORT record, base
    /// sequence -1, written with the producer's id and the epoch the coordinator ends the
    /// transaction with), closes the producer's transaction here, and records it as aborted.
    /// A marker with a newer epoch fences older ones: their batches get INVALID_PRODUCER_EPOCH
    /// and sequences start again at 0 (Kafka's `ProducerStateManager`).
    pub(crate) fn append_marker(
        &mut self,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
        coordinator_epoch: i32,
        leader_epoch: i32,
        timestamp: i64,
    ) -> Result<i64, AppendError> {
        let control = if commit {
            ControlRecord::Commit { coordinator_epoch }
        } else {
            ControlRecord::Abort { coordinator_epoch }
        };
        let mut builder = BatchBuilder::new(Compression::None)
            .producer(producer_id, producer_epoch, -1)
            .transactional(true)
            .control(true);
        builder.push(&control.to_record(timestamp)).map_err(|e| corrupt(format!("cannot build a marker: {e}")))?;
        let mut batch = builder.build().map_err(|e| corrupt(format!("cannot build a marker: {e}")))?;
        let base = self.end;
        batch.base_offset = base;
        batch.partition_leader_epoch = leader_epoch;
        let data = batch.to_bytes().map_err(|e| corrupt(format!("cannot encode a marker: {e}")))?;
        self.batches.push(Stored { base, last: base, epoch: leader_epoch, max_timestamp: timestamp, data });
        self.end = base + 1;
        if let Some(first_offset) = self.ongoing.remove(&producer_id) {
            if !commit {
                self.aborted.push(AbortedTxn { producer_id, first_offset, last_offset: base });
            }
        }
        let state = self.producers.entry(producer_id).or_insert_with(|| ProducerState {
            epoch: producer_epoch,
            last_sequence: -1,
            recent: VecDeque::new(),
            last_timestamp: -1,
            coordinator_epoch: -1,
        });
        if state.epoch != producer_epoch {
            state.epoch = producer_epoch;
            state.last_sequence = -1;
            state.recent.clear();
        }
        state.last_timestamp = timestamp;
        state.coordinator_epoch = coordinator_epoch;
        Ok(base)
    }

    /// The producers this partition knows, by producer id.
    pub(crate) fn producers(&self) -> Vec<ProducerView> {
        let mut out: Vec<ProducerView> = self
            .producers
            .iter()
            .map(|(&producer_id, s)| ProducerView {
                producer_id,
                epoch: s.epoch,
                last_sequence: if s.recent.is_empty() { -1 } else { s.last_sequence },
                last_timestamp: s.last_timestamp,
                coordinator_epoch: s.coordinator_epoch,
                current_txn_start_offset: self.ongoing.get(&producer_id).copied().unwrap_or(-1),
            })
            .collect();
        out.sort_by_key(|p| p.producer_id);
        out
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

    /// ListOffsets with isolation level read_committed (Kafka's `fetchOffsetForTimestamp` with
    /// the last stable offset as the last fetchable offset): latest is the last stable offset,
    /// and an offset found by timestamp at or after it is not answered.
    pub(crate) fn offset_for_committed(&self, timestamp: i64, current_epoch: i32) -> (i64, i64, i32) {
        let lso = self.last_stable_offset();
        match timestamp {
            -1 => (-1, lso, current_epoch),
            ts if ts >= 0 => match self.offset_for(ts, current_epoch) {
                (_, offset, _) if offset >= lso => (-1, -1, -1),
                found => found,
            },
            ts => self.offset_for(ts, current_epoch),
        }
    }

    /// Every record batch in the log, in order.
    pub(crate) fn batches(&self) -> impl Iterator<Item = &Bytes> {
        self.batches.iter().map(|b| &b.data)
    }
}

/// The producer id and epoch of a Produce record set whose (first) batch is transactional.
pub(crate) fn transactional_producer(records: Option<&Records>) -> Option<(i64, i16)> {
    match records?.batches().next()? {
        Ok(Batch::V2(b)) if b.is_transactional() && !b.is_control() => Some((b.producer_id, b.producer_epoch)),
        _ => None,
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
