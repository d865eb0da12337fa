//! The transaction coordinator: what Kafka's `TransactionCoordinator`,
//! `TransactionStateManager` and `TransactionMetadata` keep of each transactional id (KIP-98),
//! with the epoch bump on every end of a transaction for clients of transaction version 2
//! (KIP-890 part 2: EndTxn v5+; a Produce v12+ or TxnOffsetCommit v5+ adds its partition
//! itself).
//!
//! The markers are written to the partitions' logs while the EndTxn request is handled, so
//! Kafka's PrepareCommit / PrepareAbort states last no time here: the CONCURRENT_TRANSACTIONS
//! answers Kafka gives while markers are in flight never happen. Transactions that run past
//! their timeout are aborted by [`State::expire_transactions`], which the cluster's timer calls
//! (as Kafka's `abortTimedOutTransactions` does every `transaction.abort.timed.out.transaction.cleanup.interval.ms`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kafka_wire::ErrorCode;
use tokio::time::Instant;

use crate::group::Committed;
use crate::state::State;

/// Kafka's `transaction.max.timeout.ms` default: the longest `transaction.timeout.ms` a
/// producer may ask for in InitProducerId (INVALID_TRANSACTION_TIMEOUT otherwise).
pub(crate) const MAX_TRANSACTION_TIMEOUT_MS: i32 = 900_000;

/// The internal topic that holds committed offsets: AddOffsetsToTxn adds its partition for the
/// group to the transaction (Kafka's `Topic.GROUP_METADATA_TOPIC_NAME`).
pub(crate) const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// Kafka's `offsets.topic.num.partitions` default.
const OFFSETS_TOPIC_PARTITIONS: i32 = 50;

/// The largest offset metadata string (Kafka's `offset.metadata.max.bytes` default).
const MAX_OFFSET_METADATA: usize = 4096;

/// The coordinator epoch written into markers (the leader epoch of the `__transaction_state`
/// partition on a fresh Kafka cluster).
pub(crate) const COORDINATOR_EPOCH: i32 = 0;

/// The state of a transactional id (Kafka's `TransactionState`, with its names; PrepareCommit
/// and PrepareAbort last no time here, Dead and PrepareEpochFence are never seen outside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxnState {
    Empty,
    Ongoing,
    CompleteCommit,
    CompleteAbort,
}

impl TxnState {
    /// Kafka's name of the state (DescribeTransactions, ListTransactions).
    pub(crate) fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
        }
    }
}

/// Every state name Kafka knows (ListTransactions answers the others as unknown filters).
pub(crate) const STATE_NAMES: [&str; 8] = [
    "Empty",
    "Ongoing",
    "PrepareCommit",
    "PrepareAbort",
    "CompleteCommit",
    "CompleteAbort",
    "Dead",
    "PrepareEpochFence",
];

/// What the coordinator keeps of one transactional id (Kafka's `TransactionMetadata`).
#[derive(Debug, Clone)]
pub(crate) struct TxnMetadata {
    pub(crate) producer_id: i64,
    /// The producer id before the last rotation (epoch exhausted), -1 if none.
    pub(crate) previous_producer_id: i64,
    pub(crate) producer_epoch: i16,
    /// The epoch before the last bump, for retries (-1 if none).
    pub(crate) last_producer_epoch: i16,
    pub(crate) timeout_ms: i32,
    pub(crate) state: TxnState,
    /// The partitions in the open transaction (the offsets topic's partition of a group
    /// included, as Kafka lists it).
    pub(crate) partitions: BTreeSet<(String, i32)>,
    /// Offsets committed in the open transaction, by group, applied when it commits.
    pub(crate) pending_offsets: BTreeMap<String, BTreeMap<(String, i32), Committed>>,
    /// Wall-clock milliseconds when the open transaction started, -1 if none.
    pub(crate) start_ms: i64,
    pub(crate) last_update_ms: i64,
    /// When the open transaction times out.
    pub(crate) deadline: Option<Instant>,
}

impl TxnMetadata {
    /// Kafka's `isProducerEpochExhausted`: the coordinator keeps `i16::MAX` to fence with.
    fn epoch_exhausted(&self) -> bool {
        self.producer_epoch >= i16::MAX - 1
    }
}

/// Wall-clock milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The partition of the offsets topic that holds group `group`'s offsets (Kafka's
/// `partitionFor`: Java's `String.hashCode`, made non-negative, modulo the partition count).
pub(crate) fn offsets_partition(group: &str) -> i32 {
    let hash = group.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
    (hash & i32::MAX) % OFFSETS_TOPIC_PARTITIONS
}

/// How a broker reports a failed check that a partition is in a transaction (Kafka's
/// `AddPartitionsToTxnManager`): PRODUCER_FENCED as INVALID_PRODUCER_EPOCH, and
/// TRANSACTION_ABORTABLE as INVALID_TXN_STATE to clients that predate it (KIP-890).
pub(crate) fn verification_error(code: ErrorCode, abortable_supported: bool) -> ErrorCode {
    match code {
        ErrorCode::PRODUCER_FENCED => ErrorCode::INVALID_PRODUCER_EPOCH,
        ErrorCode::TRANSACTION_ABORTABLE if !abortable_supported => ErrorCode::INVALID_TXN_STATE,
        other => other,
    }
}

/// An offset of a TxnOffsetCommit: topic, partition, offset, leader epoch, metadata.
pub(crate) type TxnOffset = (String, i32, i64, i32, Option<String>);

impl State {
    /// InitProducerId with a transactional id (Kafka's `handleInitProducerId` and
    /// `prepareInitProducerIdTransit`): `expected` is the request's producer id and epoch (v3+,
    /// `None` when both are -1). An open transaction is aborted with a fenced epoch and the
    /// answer is CONCURRENT_TRANSACTIONS: the producer retries and gets the next epoch.
    pub(crate) fn txn_init_producer_id(
        &mut self,
        transactional_id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
    ) -> Result<(i64, i16), ErrorCode> {
        if transactional_id.is_empty() {
            return Err(ErrorCode::INVALID_REQUEST);
        }
        if timeout_ms <= 0 || timeout_ms > MAX_TRANSACTION_TIMEOUT_MS {
            return Err(ErrorCode::INVALID_TRANSACTION_TIMEOUT);
        }
        if !self.transactions.contains_key(transactional_id) {
            let producer_id = self.new_producer_id();
            let meta = TxnMetadata {
                producer_id,
                previous_producer_id: -1,
                producer_epoch: -1,
                last_producer_epoch: -1,
                timeout_ms,
                state: TxnState::Empty,
                partitions: BTreeSet::new(),
                pending_offsets: BTreeMap::new(),
                start_ms: -1,
                last_update_ms: now_ms(),
                deadline: None,
            };
            self.transactions.insert(transactional_id.to_owned(), meta);
        }
        let Some(meta) = self.transactions.get(transactional_id) else { return Err(ErrorCode::UNKNOWN_SERVER_ERROR) };
        let valid = |(pid, epoch): (i64, i16)| {
            meta.producer_epoch == -1
                || pid == meta.producer_id
                || (pid == meta.previous_producer_id && epoch >= i16::MAX - 1)
        };
        if !expected.is_none_or(valid) {
            return Err(ErrorCode::PRODUCER_FENCED);
        }
        match meta.state {
            TxnState::Ongoing => {
                // Kafka's prepareFenceProducerEpoch, then an abort the client never sees.
                let meta = self.transactions.get_mut(transactional_id).ok_or(ErrorCode::UNKNOWN_SERVER_ERROR)?;
                meta.producer_epoch = meta.producer_epoch.saturating_add(1);
                meta.last_producer_epoch = -1;
                // The abort keeps the fenced epoch, for transaction version 2 too (Kafka 4.4,
                // checked by the differential test).
                self.end_transaction(transactional_id, false, false);
                Err(ErrorCode::CONCURRENT_TRANSACTIONS)
            }
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => {
                let rotate = meta.epoch_exhausted() && expected.is_none_or(|(_, e)| e == meta.producer_epoch);
                let (epoch, last_epoch) = meta.producer_epoch_after_init(expected.map(|(_, e)| e))?;
                let new_id = if rotate { Some(self.new_producer_id()) } else { None };
                let meta = self.transactions.get_mut(transactional_id).ok_or(ErrorCode::UNKNOWN_SERVER_ERROR)?;
                if let Some(new_id) = new_id {
                    meta.last_producer_epoch = if expected.is_some() { meta.producer_epoch } else { -1 };
                    meta.previous_producer_id = meta.producer_id;
                    meta.producer_id = new_id;
                    meta.producer_epoch = 0;
                } else {
                    meta.producer_epoch = epoch;
                    meta.last_producer_epoch = last_epoch;
                }
                meta.timeout_ms = timeout_ms;
                meta.state = TxnState::Empty;
                meta.partitions.clear();
                meta.pending_offsets.clear();
                meta.start_ms = -1;
                meta.deadline = None;
                meta.last_update_ms = now_ms();
                Ok((meta.producer_id, meta.producer_epoch))
            }
        }
    }

    /// The transaction of `transactional_id` if `producer_id` and `producer_epoch` are its
    /// current ones (INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED otherwise).
    fn current_txn(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
    ) -> Result<&mut TxnMetadata, ErrorCode> {
        if transactional_id.is_empty() {
            return Err(ErrorCode::INVALID_REQUEST);
        }
        let meta = self.transactions.get_mut(transactional_id).ok_or(ErrorCode::INVALID_PRODUCER_ID_MAPPING)?;
        if meta.producer_id != producer_id {
            return Err(ErrorCode::INVALID_PRODUCER_ID_MAPPING);
        }
        if meta.producer_epoch != producer_epoch {
            return Err(ErrorCode::PRODUCER_FENCED);
        }
        Ok(meta)
    }

    /// AddPartitionsToTxn (and AddOffsetsToTxn, which adds the group's offsets partition):
    /// Kafka's `handleAddPartitionsToTransaction`. The transaction starts (Ongoing, its timeout
    /// running) with its first partition.
    pub(crate) fn txn_add_partitions(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partitions: &[(String, i32)],
        now: Instant,
    ) -> Result<(), ErrorCode> {
        let meta = self.current_txn(transactional_id, producer_id, producer_epoch)?;
        if meta.state != TxnState::Ongoing {
            meta.state = TxnState::Ongoing;
            meta.start_ms = now_ms();
            meta.deadline = Some(now + Duration::from_millis(u64::try_from(meta.timeout_ms).unwrap_or(0)));
        }
        meta.partitions.extend(partitions.iter().cloned());
        meta.last_update_ms = now_ms();
        Ok(())
    }

    /// The verify-only form of AddPartitionsToTxn (v4+, what brokers send before appending a
    /// transactional batch, KIP-890 part 1): per partition, NONE if it is in the transaction,
    /// TRANSACTION_ABORTABLE if not; or an error for them all.
    pub(crate) fn txn_verify_partitions(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partitions: &[(String, i32)],
    ) -> Result<Vec<ErrorCode>, ErrorCode> {
        let meta = self.current_txn(transactional_id, producer_id, producer_epoch)?;
        Ok(partitions
            .iter()
            .map(|p| if meta.partitions.contains(p) { ErrorCode::NONE } else { ErrorCode::TRANSACTION_ABORTABLE })
            .collect())
    }

    /// The check a broker makes before appending a transactional batch of `producer_id` to a
    /// partition: with `add` (Produce v12+, transaction version 2) the partition joins the
    /// transaction, otherwise it must be in it already. The error is the coordinator's (see
    /// [`verification_error`] for what the producer gets).
    pub(crate) fn txn_check_produce(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partition: (String, i32),
        add: bool,
        now: Instant,
    ) -> Result<(), ErrorCode> {
        let partitions = [partition];
        if add {
            return self.txn_add_partitions(transactional_id, producer_id, producer_epoch, &partitions, now);
        }
        let errors = self.txn_verify_partitions(transactional_id, producer_id, producer_epoch, &partitions)?;
        match errors.first() {
            Some(code) if code.is_err() => Err(*code),
            _ => Ok(()),
        }
    }

    /// TxnOffsetCommit: checks the producer and that the group's offsets partition is in the
    /// transaction (with `add`, TxnOffsetCommit v5+, it joins it), checks the member and
    /// generation as Kafka's `validateTransactionalOffsetCommit` does when they are given, and
    /// keeps the offsets pending until the transaction ends. One error for the request, or one
    /// per offset.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn txn_offset_commit(
        &mut self,
        transactional_id: &str,
        group: &str,
        producer_id: i64,
        producer_epoch: i16,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        offsets: &[TxnOffset],
        add: bool,
        now: Instant,
    ) -> Result<Vec<ErrorCode>, ErrorCode> {
        let offsets_partition = (OFFSETS_TOPIC.to_owned(), offsets_partition(group));
        self.txn_check_produce(transactional_id, producer_id, producer_epoch, offsets_partition, add, now)?;
        // Kafka's `validateTransactionalOffsetCommit`: an unknown group is created (empty) by a
        // commit without a generation, and ILLEGAL_GENERATION otherwise.
        if !self.groups.contains_key(group) {
            if generation >= 0 {
                return Err(ErrorCode::ILLEGAL_GENERATION);
            }
            self.group_or_new(group);
        }
        if generation >= 0 || !member_id.is_empty() || instance_id.is_some() {
            let Some(g) = self.groups.get(group) else { return Err(ErrorCode::ILLEGAL_GENERATION) };
            if !g.member_ids().iter().any(|m| m == member_id) {
                return Err(ErrorCode::UNKNOWN_MEMBER_ID);
            }
            if generation != g.generation {
                return Err(ErrorCode::ILLEGAL_GENERATION);
            }
        }
        let meta = self.current_txn(transactional_id, producer_id, producer_epoch)?;
        let pending = meta.pending_offsets.entry(group.to_owned()).or_default();
        Ok(offsets
            .iter()
            .map(|(topic, partition, offset, leader_epoch, metadata)| {
                if metadata.as_ref().is_some_and(|m| m.len() > MAX_OFFSET_METADATA) {
                    return ErrorCode::OFFSET_METADATA_TOO_LARGE;
                }
                let committed = Committed { offset: *offset, leader_epoch: *leader_epoch, metadata: metadata.clone() };
                pending.insert((topic.clone(), *partition), committed);
                ErrorCode::NONE
            })
            .collect())
    }

    /// Whether an open transaction holds an offset of group `group` for a partition (OffsetFetch
    /// with `require_stable` answers UNSTABLE_OFFSET_COMMIT for it).
    pub(crate) fn txn_offset_pending(&self, group: &str, topic: &str, partition: i32) -> bool {
        self.transactions
            .values()
            .any(|t| t.pending_offsets.get(group).is_some_and(|o| o.contains_key(&(topic.to_owned(), partition))))
    }

    /// EndTxn (Kafka's `endTransaction`, or `endTransactionWithTV1` for `bump == false`):
    /// commits or aborts. Returns the producer id and epoch the producer goes on with (the
    /// bumped epoch for transaction version 2).
    pub(crate) fn txn_end(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
        bump: bool,
    ) -> Result<(i64, i16), ErrorCode> {
        if transactional_id.is_empty() {
            return Err(ErrorCode::INVALID_REQUEST);
        }
        let meta = self.transactions.get(transactional_id).ok_or(ErrorCode::INVALID_PRODUCER_ID_MAPPING)?;
        let current = (meta.producer_id, meta.producer_epoch);
        let retry_on_overflow = bump
            && meta.previous_producer_id == producer_id
            && producer_epoch == i16::MAX - 1
            && meta.producer_epoch == 0;
        if meta.producer_id != producer_id && !retry_on_overflow {
            return Err(ErrorCode::INVALID_PRODUCER_ID_MAPPING);
        }
        let retry = bump && (meta.producer_epoch == producer_epoch.saturating_add(1) || retry_on_overflow);
        let valid_epoch = if !bump {
            producer_epoch == meta.producer_epoch
        } else {
            match meta.state {
                TxnState::Ongoing | TxnState::Empty => producer_epoch == meta.producer_epoch,
                TxnState::CompleteCommit | TxnState::CompleteAbort => retry || producer_epoch == meta.producer_epoch,
            }
        };
        if !valid_epoch {
            return Err(ErrorCode::PRODUCER_FENCED);
        }
        let done = if bump { current } else { (-1, -1) };
        match (meta.state, commit) {
            (TxnState::Ongoing, _) => {}
            // A retry of an end that completed.
            (TxnState::CompleteCommit, true) | (TxnState::CompleteAbort, false) if !bump || retry => return Ok(done),
            // Transaction version 2 may abort without partitions.
            (TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort, false) if bump && !retry => {}
            _ => return Err(ErrorCode::INVALID_TXN_STATE),
        }
        let (id, epoch) = self.end_transaction(transactional_id, commit, bump);
        Ok(if bump { (id, epoch) } else { (-1, -1) })
    }

    /// Ends the transaction of `transactional_id` at once: the epoch bump of transaction
    /// version 2 (a new producer id when the epoch is exhausted), a marker in each of its
    /// partitions, its pending offsets applied (commit) or dropped, Complete{Commit,Abort}.
    /// Returns the producer id and epoch after it.
    fn end_transaction(&mut self, transactional_id: &str, commit: bool, bump: bool) -> (i64, i16) {
        let new_id = match self.transactions.get(transactional_id) {
            Some(meta) if bump && meta.epoch_exhausted() => Some(self.new_producer_id()),
            Some(_) => None,
            None => return (-1, -1),
        };
        let Some(meta) = self.transactions.get_mut(transactional_id) else { return (-1, -1) };
        if bump {
            meta.last_producer_epoch = meta.producer_epoch;
            meta.producer_epoch = meta.producer_epoch.saturating_add(1);
        }
        let (producer_id, producer_epoch) = (meta.producer_id, meta.producer_epoch);
        let partitions = std::mem::take(&mut meta.partitions);
        let pending = std::mem::take(&mut meta.pending_offsets);
        meta.state = if commit { TxnState::CompleteCommit } else { TxnState::CompleteAbort };
        meta.deadline = None;
        meta.last_update_ms = now_ms();
        if let Some(new_id) = new_id {
            meta.previous_producer_id = meta.producer_id;
            meta.producer_id = new_id;
            meta.producer_epoch = 0;
            meta.last_producer_epoch = -1;
        }
        let after = (meta.producer_id, meta.producer_epoch);
        let timestamp = now_ms();
        for (topic, index) in &partitions {
            let partition = self
                .topics
                .get_mut(topic)
                .and_then(|t| usize::try_from(*index).ok().and_then(|i| t.partitions.get_mut(i)));
            if let Some(p) = partition {
                // Cannot fail: the marker is built here, not read from a client.
                let _ = p.log.append_marker(
                    producer_id,
                    producer_epoch,
                    commit,
                    COORDINATOR_EPOCH,
                    p.leader_epoch,
                    timestamp,
                );
            }
        }
        if commit {
            for (group, offsets) in pending {
                self.group_or_new(&group).offsets.extend(offsets);
            }
        }
        after
    }

    /// Aborts the open transactions whose timeout passed at `now` (Kafka's
    /// `abortTimedOutTransactions`: the producer's epoch is fenced, then the transaction is
    /// aborted). Returns whether any was.
    pub(crate) fn expire_transactions(&mut self, now: Instant) -> bool {
        let expired: Vec<String> = self
            .transactions
            .iter()
            .filter(|(_, t)| t.state == TxnState::Ongoing && t.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in &expired {
            if let Some(meta) = self.transactions.get_mut(id) {
                if !meta.epoch_exhausted() {
                    meta.producer_epoch += 1;
                    meta.last_producer_epoch = -1;
                }
            }
            // As for a fencing InitProducerId: the abort keeps the fenced epoch.
            self.end_transaction(id, false, false);
        }
        !expired.is_empty()
    }
}

impl TxnMetadata {
    /// Kafka's `prepareIncrementProducerEpoch`: (new epoch, last epoch) for an InitProducerId
    /// that expects `expected` (a retry of the last bump keeps the epoch).
    fn producer_epoch_after_init(&self, expected: Option<i16>) -> Result<(i16, i16), ErrorCode> {
        let bumped = self.producer_epoch.saturating_add(1);
        match expected {
            None => Ok((bumped, -1)),
            Some(e) if self.producer_epoch == -1 || e == self.producer_epoch => Ok((bumped, self.producer_epoch)),
            Some(e) if e == self.last_producer_epoch => Ok((self.producer_epoch, self.last_producer_epoch)),
            Some(_) => Err(ErrorCode::PRODUCER_FENCED),
        }
    }
}

/// The coordinator's rules on their own, with the clock in the test's hands. Each test pins a
/// rule of Kafka's `TransactionCoordinator` (the transaction version 2 table of
/// `endTransaction`, KIP-360's retried InitProducerId, producer id rotation, timeouts).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MockConfig, TopicSpec};

    const ID: &str = "t-id";

    fn state() -> State {
        let mut state = State::new(&MockConfig::new(), &[9092]);
        state.create_from_spec(&TopicSpec::new("t", 1)).unwrap();
        state
    }

    fn init(state: &mut State, expected: Option<(i64, i16)>) -> Result<(i64, i16), ErrorCode> {
        state.txn_init_producer_id(ID, 60_000, expected)
    }

    fn add(state: &mut State, (pid, epoch): (i64, i16)) -> Result<(), ErrorCode> {
        state.txn_add_partitions(ID, pid, epoch, &[("t".to_owned(), 0)], Instant::now())
    }

    /// Transaction version 2 (EndTxn v5+): PF = PRODUCER_FENCED, ITS = INVALID_TXN_STATE,
    /// "retry" = the epoch before the last bump.
    #[test]
    fn end_txn_of_transaction_version_2() {
        let mut s = state();
        let p = init(&mut s, None).unwrap();
        // Empty: abort bumps, commit is ITS, a retry epoch is PF.
        assert_eq!(s.txn_end(ID, p.0, p.1, true, true), Err(ErrorCode::INVALID_TXN_STATE));
        assert_eq!(s.txn_end(ID, p.0, p.1 - 1, false, true), Err(ErrorCode::PRODUCER_FENCED));
        let q = s.txn_end(ID, p.0, p.1, false, true).unwrap();
        assert_eq!(q, (p.0, p.1 + 1));
        // CompleteAbort: a retried abort is NONE without a bump; commit is ITS.
        assert_eq!(s.txn_end(ID, p.0, p.1, false, true), Ok(q));
        assert_eq!(s.txn_end(ID, q.0, q.1, true, true), Err(ErrorCode::INVALID_TXN_STATE));
        // Ongoing → commit bumps; a retried commit is NONE; a retried abort is ITS.
        add(&mut s, q).unwrap();
        let r = s.txn_end(ID, q.0, q.1, true, true).unwrap();
        assert_eq!(r, (q.0, q.1 + 1));
        assert_eq!(s.txn_end(ID, q.0, q.1, true, true), Ok(r));
        assert_eq!(s.txn_end(ID, q.0, q.1, false, true), Err(ErrorCode::INVALID_TXN_STATE));
        // Another producer id.
        assert_eq!(s.txn_end(ID, r.0 + 1, r.1, true, true), Err(ErrorCode::INVALID_PRODUCER_ID_MAPPING));
    }

    /// Transaction version 1: the epoch stays, ends of an Empty transaction are ITS, a
    /// repeated end of the same kind is NONE.
    #[test]
    fn end_txn_of_transaction_version_1() {
        let mut s = state();
        let p = init(&mut s, None).unwrap();
        assert_eq!(s.txn_end(ID, p.0, p.1, false, false), Err(ErrorCode::INVALID_TXN_STATE));
        add(&mut s, p).unwrap();
        assert_eq!(s.txn_end(ID, p.0, p.1, true, false), Ok((-1, -1)));
        assert_eq!(s.txn_end(ID, p.0, p.1, true, false), Ok((-1, -1)));
        assert_eq!(s.txn_end(ID, p.0, p.1, false, false), Err(ErrorCode::INVALID_TXN_STATE));
        assert_eq!(s.txn_end(ID, p.0, p.1 + 1, true, false), Err(ErrorCode::PRODUCER_FENCED));
    }

    /// KIP-360: an InitProducerId with the current id and epoch bumps; a retry of it (with the
    /// epoch before the bump) gets the same epoch; an older epoch is fenced.
    #[test]
    fn init_producer_id_retries() {
        let mut s = state();
        let p = init(&mut s, None).unwrap();
        assert_eq!(p.1, 0);
        let q = init(&mut s, Some(p)).unwrap();
        assert_eq!(q, (p.0, 1));
        assert_eq!(init(&mut s, Some(p)), Ok(q), "a retry of the bump");
        let r = init(&mut s, Some(q)).unwrap();
        assert_eq!(r, (p.0, 2));
        assert_eq!(init(&mut s, Some(p)), Err(ErrorCode::PRODUCER_FENCED));
        assert_eq!(init(&mut s, Some((p.0 + 7, 0))), Err(ErrorCode::PRODUCER_FENCED));
        assert_eq!(s.txn_init_producer_id(ID, 0, None), Err(ErrorCode::INVALID_TRANSACTION_TIMEOUT));
        assert_eq!(
            s.txn_init_producer_id(ID, MAX_TRANSACTION_TIMEOUT_MS + 1, None),
            Err(ErrorCode::INVALID_TRANSACTION_TIMEOUT)
        );
    }

    /// An exhausted epoch gets a new producer id at epoch 0; the old id is accepted once more
    /// as the expected one (a retry).
    #[test]
    fn exhausted_epoch_rotates_the_producer_id() {
        let mut s = state();
        let p = init(&mut s, None).unwrap();
        s.transactions.get_mut(ID).unwrap().producer_epoch = i16::MAX - 1;
        let q = init(&mut s, Some((p.0, i16::MAX - 1))).unwrap();
        assert_ne!(q.0, p.0);
        assert_eq!(q.1, 0);
        assert_eq!(s.transactions[ID].previous_producer_id, p.0);
    }

    /// A transaction open past its timeout is aborted at the next check: fenced epoch, ABORT
    /// marker, the producer's later requests fenced.
    #[test]
    fn timeouts_abort() {
        let mut s = state();
        let start = Instant::now();
        let p = s.txn_init_producer_id(ID, 1000, None).unwrap();
        s.txn_add_partitions(ID, p.0, p.1, &[("t".to_owned(), 0)], start).unwrap();
        assert!(!s.expire_transactions(start + Duration::from_millis(999)));
        assert!(s.expire_transactions(start + Duration::from_millis(1000)));
        let meta = &s.transactions[ID];
        assert_eq!((meta.state, meta.producer_epoch), (TxnState::CompleteAbort, p.1 + 1));
        assert_eq!(s.topics["t"].partitions[0].log.end, 1, "the ABORT marker");
        assert_eq!(add(&mut s, p), Err(ErrorCode::PRODUCER_FENCED));
    }
}
