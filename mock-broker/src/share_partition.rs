//! One partition of a share group (KIP-932), as Kafka 4.4's `SharePartition` keeps it: the
//! share-partition start offset (SPSO), the offsets fetched so far (up to the next fetch
//! offset), and the state of each in-flight record between them.
//!
//! - a ShareFetch acquires records for a member: first the available ones below the next fetch
//!   offset (released or whose lock expired), then whole batches from the log; each
//!   acquisition increments the record's delivery count and locks it for the record lock
//!   duration (`group.share.record.lock.duration.ms`);
//! - an acknowledgement of acquired records accepts (ACKNOWLEDGED), releases (AVAILABLE again,
//!   or ARCHIVED once the delivery count reached `group.share.delivery.count.limit`) or rejects
//!   (ARCHIVED) them; a gap is archived; a renew (KIP-1222) extends the lock; records that are
//!   not acquired by that member are INVALID_RECORD_STATE, and nothing of the batch changes
//!   (offsets below the SPSO are ignored);
//! - a lock that expires releases the record as a release does;
//! - the SPSO moves past every acknowledged or archived record at its head.
//!
//! The partition starts at the log end offset when it is first fetched
//! (`share.auto.offset.reset` = latest, Kafka's default).

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use kafka_wire::ErrorCode;
use tokio::time::Instant;

use crate::log::Log;

/// Kafka's `group.share.record.lock.duration.ms` default.
pub(crate) const RECORD_LOCK_DURATION: Duration = Duration::from_millis(30_000);
/// Kafka's `group.share.delivery.count.limit` default.
pub(crate) const DELIVERY_COUNT_LIMIT: i16 = 5;
/// Kafka's `group.share.partition.max.record.locks` default: at most this many offsets in
/// flight (between the SPSO and the next fetch offset).
pub(crate) const MAX_IN_FLIGHT: i64 = 2000;

/// The state of an in-flight record (Kafka's `RecordState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordState {
    Available,
    Acquired,
    Acknowledged,
    Archived,
}

/// The acknowledgement types of ShareFetch and ShareAcknowledge (KIP-932, KIP-1222).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckType {
    Gap,
    Accept,
    Release,
    Reject,
    Renew,
}

impl AckType {
    /// The type with wire code `code` (0 gap, 1 accept, 2 release, 3 reject, 4 renew).
    pub(crate) fn from_code(code: i8) -> Option<AckType> {
        Some(match code {
            0 => AckType::Gap,
            1 => AckType::Accept,
            2 => AckType::Release,
            3 => AckType::Reject,
            4 => AckType::Renew,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
struct InFlight {
    state: RecordState,
    delivery_count: i16,
    owner: Option<String>,
    lock_until: Option<Instant>,
}

/// A range of acquired offsets with their delivery count (ShareFetch's `AcquiredRecords`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Acquired {
    pub(crate) first_offset: i64,
    pub(crate) last_offset: i64,
    pub(crate) delivery_count: i16,
}

/// How a ShareFetch bounds what it acquires (`ShareAcquireMode`, KIP-1206).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AcquireLimits {
    /// At most about this many records (`MaxRecords`).
    pub(crate) max_records: i64,
    /// At most about this many bytes (`MaxBytes`); the first batch comes whole.
    pub(crate) max_bytes: usize,
    /// Whether `max_records` is strict (record_limit) or rounded up to whole batches
    /// (batch_optimized, the default).
    pub(crate) strict: bool,
}

/// A share partition's state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SharePartition {
    /// The share-partition start offset: every record below it is done.
    pub(crate) start_offset: i64,
    /// The next offset to fetch from the log (the share-partition end offset + 1).
    pub(crate) next_offset: i64,
    records: BTreeMap<i64, InFlight>,
    /// How long an acquisition locks a record (`group.share.record.lock.duration.ms`).
    pub(crate) lock_duration: Duration,
    /// Deliveries before a released record is archived (`group.share.delivery.count.limit`).
    pub(crate) delivery_count_limit: i16,
}

/// A record batch in the log: its first and last offsets, whether it is a control batch, its
/// bytes.
struct BatchView {
    base: i64,
    last: i64,
    control: bool,
    data: Bytes,
}

fn batches(log: &Log) -> impl Iterator<Item = BatchView> + '_ {
    log.batches().filter_map(|b| {
        let mut buf = b.clone();
        let batch = kafka_wire::records::RecordBatch::decode(&mut buf).ok()?;
        Some(BatchView {
            base: batch.base_offset,
            last: batch.last_offset(),
            control: batch.is_control(),
            data: b.clone(),
        })
    })
}

impl SharePartition {
    /// A share partition that starts at `start_offset`, with Kafka's default lock duration and
    /// delivery count limit.
    pub(crate) fn new(start_offset: i64) -> SharePartition {
        SharePartition {
            start_offset,
            next_offset: start_offset,
            records: BTreeMap::new(),
            lock_duration: RECORD_LOCK_DURATION,
            delivery_count_limit: DELIVERY_COUNT_LIMIT,
        }
    }

    /// Acquires records for `member` (see the module docs); returns the acquired ranges and
    /// the bytes of the batches holding them.
    pub(crate) fn acquire(
        &mut self,
        member: &str,
        log: &Log,
        limits: AcquireLimits,
        now: Instant,
    ) -> (Vec<Acquired>, Bytes) {
        // Records removed from the log (DeleteRecords) are done.
        if self.start_offset < log.start {
            self.records = self.records.split_off(&log.start);
            self.start_offset = log.start;
            self.next_offset = self.next_offset.max(log.start);
        }
        let lock_until = Some(now + self.lock_duration);
        let mut offsets: Vec<(i64, i16)> = Vec::new();
        for (offset, r) in self.records.iter_mut() {
            if offsets.len() as i64 >= limits.max_records {
                break;
            }
            if r.state == RecordState::Available {
                r.state = RecordState::Acquired;
                r.delivery_count = r.delivery_count.saturating_add(1);
                r.owner = Some(member.to_owned());
                r.lock_until = lock_until;
                offsets.push((*offset, r.delivery_count));
            }
        }
        let mut bytes = 0usize;
        for b in batches(log) {
            if b.last < self.next_offset {
                continue;
            }
            let count = offsets.len() as i64;
            if count >= limits.max_records
                || (count > 0 && bytes + b.data.len() > limits.max_bytes)
                || self.next_offset - self.start_offset >= MAX_IN_FLIGHT
            {
                break;
            }
            let mut last = b.last;
            if limits.strict {
                last = last.min(self.next_offset + (limits.max_records - count) - 1);
            }
            for offset in self.next_offset.max(b.base)..=last {
                let state = if b.control { RecordState::Archived } else { RecordState::Acquired };
                let acquired = !b.control;
                self.records.insert(
                    offset,
                    InFlight {
                        state,
                        delivery_count: i16::from(acquired),
                        owner: acquired.then(|| member.to_owned()),
                        lock_until: if acquired { lock_until } else { None },
                    },
                );
                if acquired {
                    offsets.push((offset, 1));
                }
            }
            bytes += b.data.len();
            self.next_offset = last + 1;
        }
        self.advance();
        offsets.sort_unstable();
        let mut ranges: Vec<Acquired> = Vec::new();
        for (offset, count) in offsets {
            match ranges.last_mut() {
                Some(r) if r.last_offset + 1 == offset && r.delivery_count == count => r.last_offset = offset,
                _ => ranges.push(Acquired { first_offset: offset, last_offset: offset, delivery_count: count }),
            }
        }
        let records = match (ranges.first(), ranges.last()) {
            (Some(first), Some(last)) => {
                let (lo, hi) = (first.first_offset, last.last_offset);
                let mut out = bytes::BytesMut::new();
                for b in batches(log).filter(|b| b.last >= lo && b.base <= hi) {
                    out.extend_from_slice(&b.data);
                }
                out.freeze()
            }
            _ => Bytes::new(),
        };
        (ranges, records)
    }

    /// Applies one acknowledgement batch of `member`: `types` has one type for the whole range
    /// or one per offset. Offsets below the SPSO are done already and ignored (as Kafka 4.4
    /// does); nothing changes unless every other offset is acquired by `member` (else
    /// INVALID_RECORD_STATE).
    pub(crate) fn acknowledge(
        &mut self,
        member: &str,
        first: i64,
        last: i64,
        types: &[AckType],
        now: Instant,
    ) -> Result<(), ErrorCode> {
        let per_offset = types.len() > 1;
        let limit = self.delivery_count_limit;
        for offset in first.max(self.start_offset)..=last {
            let Some(r) = self.records.get(&offset) else { return Err(ErrorCode::INVALID_RECORD_STATE) };
            if r.state != RecordState::Acquired || r.owner.as_deref() != Some(member) {
                return Err(ErrorCode::INVALID_RECORD_STATE);
            }
        }
        for offset in first.max(self.start_offset)..=last {
            // The index of `offset` in `types` (per offset, `types` has one for each).
            let i = usize::try_from(i128::from(offset) - i128::from(first)).unwrap_or(usize::MAX);
            let Some(&ack) = (if per_offset { types.get(i) } else { types.first() }) else { continue };
            if let Some(r) = self.records.get_mut(&offset) {
                match ack {
                    AckType::Accept => finish(r, RecordState::Acknowledged),
                    AckType::Gap | AckType::Reject => finish(r, RecordState::Archived),
                    AckType::Release => release(r, limit),
                    AckType::Renew => r.lock_until = Some(now + self.lock_duration),
                }
            }
        }
        self.advance();
        Ok(())
    }

    /// Releases every record `member` holds (its share session closed or it left the group).
    pub(crate) fn release_member(&mut self, member: &str) {
        let limit = self.delivery_count_limit;
        for r in self.records.values_mut() {
            if r.state == RecordState::Acquired && r.owner.as_deref() == Some(member) {
                release(r, limit);
            }
        }
        self.advance();
    }

    /// Releases the records whose lock expired at `now`; whether any did.
    pub(crate) fn expire_locks(&mut self, now: Instant) -> bool {
        let mut any = false;
        let limit = self.delivery_count_limit;
        for r in self.records.values_mut() {
            if r.state == RecordState::Acquired && r.lock_until.is_some_and(|t| t <= now) {
                release(r, limit);
                any = true;
            }
        }
        if any {
            self.advance();
        }
        any
    }

    /// Moves the SPSO past the acknowledged and archived records at the head.
    fn advance(&mut self) {
        while let Some(entry) = self.records.first_entry() {
            if *entry.key() != self.start_offset
                || !matches!(entry.get().state, RecordState::Acknowledged | RecordState::Archived)
            {
                break;
            }
            entry.remove();
            self.start_offset += 1;
        }
        if self.records.is_empty() {
            self.start_offset = self.next_offset;
        }
    }

    /// The state and delivery count of the record at `offset`, if it is in flight.
    #[cfg(test)]
    fn record(&self, offset: i64) -> Option<(RecordState, i16)> {
        self.records.get(&offset).map(|r| (r.state, r.delivery_count))
    }
}

fn finish(r: &mut InFlight, state: RecordState) {
    r.state = state;
    r.owner = None;
    r.lock_until = None;
}

/// A release: available again, or archived once delivered `limit` times.
fn release(r: &mut InFlight, limit: i16) {
    let state = if r.delivery_count >= limit { RecordState::Archived } else { RecordState::Available };
    finish(r, state);
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
    use kafka_wire::Records;

    fn log_with(batches: &[usize]) -> Log {
        let mut log = Log::default();
        for n in batches {
            let mut b = BatchBuilder::new(Compression::None);
            for i in 0..*n {
                b.push(&NewRecord::new(0, vec![i as u8])).unwrap();
            }
            let records = Records::from_bytes(b.build().unwrap().to_bytes().unwrap());
            log.append(Some(&records), 0, 1_000_000).unwrap();
        }
        log
    }

    const ALL: AcquireLimits = AcquireLimits { max_records: 500, max_bytes: usize::MAX, strict: false };

    #[test]
    fn acknowledgements_move_the_start_offset_and_releases_redeliver() {
        let log = log_with(&[3, 2]);
        let now = Instant::now();
        let mut sp = SharePartition::new(0);
        let (acquired, bytes) = sp.acquire("a", &log, ALL, now);
        assert_eq!(acquired, vec![Acquired { first_offset: 0, last_offset: 4, delivery_count: 1 }]);
        assert!(!bytes.is_empty());
        assert_eq!(sp.acquire("b", &log, ALL, now).0, vec![]);
        // b cannot acknowledge a's records.
        assert_eq!(sp.acknowledge("b", 0, 0, &[AckType::Accept], now), Err(ErrorCode::INVALID_RECORD_STATE));
        sp.acknowledge("a", 0, 2, &[AckType::Accept, AckType::Release, AckType::Reject], now).unwrap();
        assert_eq!(sp.start_offset, 1);
        assert_eq!(sp.record(1), Some((RecordState::Available, 1)));
        let (again, _) = sp.acquire("b", &log, ALL, now);
        assert_eq!(again, vec![Acquired { first_offset: 1, last_offset: 1, delivery_count: 2 }]);
        sp.acknowledge("b", 1, 1, &[AckType::Accept], now).unwrap();
        sp.acknowledge("a", 3, 4, &[AckType::Accept], now).unwrap();
        assert_eq!((sp.start_offset, sp.next_offset), (5, 5));
    }

    #[test]
    fn expired_locks_redeliver_until_the_delivery_count_limit() {
        let log = log_with(&[1]);
        let mut now = Instant::now();
        let mut sp = SharePartition::new(0);
        for count in 1..=DELIVERY_COUNT_LIMIT {
            let (acquired, _) = sp.acquire("a", &log, ALL, now);
            assert_eq!(acquired, vec![Acquired { first_offset: 0, last_offset: 0, delivery_count: count }]);
            assert!(!sp.expire_locks(now));
            now += RECORD_LOCK_DURATION;
            assert!(sp.expire_locks(now));
        }
        // Archived after the fifth delivery: the start offset moves on.
        assert_eq!(sp.acquire("a", &log, ALL, now).0, vec![]);
        assert_eq!(sp.start_offset, 1);
    }

    #[test]
    fn acknowledgements_of_huge_ranges_stop_at_the_first_offset_not_in_flight() {
        let log = log_with(&[2]);
        let now = Instant::now();
        let mut sp = SharePartition::new(0);
        sp.acquire("a", &log, ALL, now);
        sp.acknowledge("a", 0, 0, &[AckType::Accept], now).unwrap();
        assert_eq!(
            sp.acknowledge("a", i64::MIN, i64::MAX, &[AckType::Accept], now),
            Err(ErrorCode::INVALID_RECORD_STATE)
        );
        // Offsets below the start offset are done: ignored.
        assert_eq!(sp.acknowledge("a", i64::MIN, 1, &[AckType::Accept], now), Ok(()));
        assert_eq!((sp.start_offset, sp.next_offset), (2, 2));
    }

    #[test]
    fn strict_record_limits_split_batches() {
        let log = log_with(&[4]);
        let now = Instant::now();
        let mut sp = SharePartition::new(0);
        let strict = AcquireLimits { max_records: 3, strict: true, ..ALL };
        assert_eq!(sp.acquire("a", &log, strict, now).0[0].last_offset, 2);
        assert_eq!(sp.acquire("a", &log, strict, now).0[0].first_offset, 3);
        let mut sp = SharePartition::new(0);
        let batch = AcquireLimits { max_records: 3, ..ALL };
        assert_eq!(sp.acquire("a", &log, batch, now).0[0].last_offset, 3);
    }
}
