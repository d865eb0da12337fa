//! FindCoordinator (group and transaction coordinators: a live broker picked by a stable hash
//! of the key; one key, or a batch from the version that has `CoordinatorKeys`) and
//! InitProducerId (a new producer id for every idempotent producer's request, as Kafka;
//! transactional ids keep theirs and bump the epoch, fencing the previous one, and abort its
//! open transaction: `crate::txn`).

use kafka_wire::find_coordinator::{self, Coordinator};
use kafka_wire::{init_producer_id, ErrorCode};

use crate::context::Ctx;

pub(crate) fn find_coordinator(ctx: &Ctx<'_>, r: &find_coordinator::Request) -> find_coordinator::Response {
    let batched = find_coordinator::Request::COORDINATOR_KEYS_VERSIONS.contains(ctx.version);
    let keys: Vec<&str> = if batched { r.coordinator_keys.iter().map(|k| &**k).collect() } else { vec![&*r.key] };
    let state = ctx.shared.state();
    let mut found: Vec<Coordinator> = keys
        .into_iter()
        .map(|key| {
            let mut c = Coordinator { key: key.into(), node_id: -1, port: -1, ..Default::default() };
            c.error_code = if let Some(code) = ctx.forced {
                code
            } else if !(0..=2).contains(&r.key_type) || (r.key_type != 0 && key.is_empty()) {
                ErrorCode::INVALID_REQUEST
            } else {
                match state.coordinator(key) {
                    Some(b) => {
                        (c.node_id, c.host, c.port) = (b.id, b.host.as_str().into(), b.port);
                        ErrorCode::NONE
                    }
                    None => ErrorCode::COORDINATOR_NOT_AVAILABLE,
                }
            };
            // Kafka answers a found coordinator with an empty message, not a null one.
            c.error_message = Some(if c.error_code.is_err() { c.error_code.to_string().into() } else { "".into() });
            c
        })
        .collect();
    if batched {
        return find_coordinator::Response { coordinators: found, ..Default::default() };
    }
    let c = found.remove(0);
    find_coordinator::Response {
        error_code: c.error_code,
        error_message: c.error_message,
        node_id: c.node_id,
        host: c.host,
        port: c.port,
        ..Default::default()
    }
}

pub(crate) fn init_producer_id(ctx: &Ctx<'_>, r: &init_producer_id::Request) -> init_producer_id::Response {
    let transactional_id = r.transactional_id.as_deref();
    let mut state = ctx.shared.state();
    let result = if let Some(code) = ctx.forced {
        Err(code)
    } else if transactional_id.is_some_and(str::is_empty) {
        Err(ErrorCode::INVALID_REQUEST)
    } else if transactional_id.is_some_and(|t| state.coordinator(t).map(|b| b.id) != Some(ctx.broker)) {
        Err(ErrorCode::NOT_COORDINATOR)
    } else if let Some(tid) = transactional_id {
        // Kafka's KafkaApis: both -1 (or absent, before v3) is a new producer; one of them -1
        // is INVALID_REQUEST.
        match (r.producer_id, r.producer_epoch) {
            (-1, -1) => state.txn_init_producer_id(tid, r.transaction_timeout_ms, None),
            (-1, _) | (_, -1) => Err(ErrorCode::INVALID_REQUEST),
            expected => state.txn_init_producer_id(tid, r.transaction_timeout_ms, Some(expected)),
        }
    } else {
        state.init_producer_id(transactional_id, r.producer_id, r.producer_epoch)
    };
    drop(state);
    if transactional_id.is_some() {
        // An open transaction may have been aborted: its markers wake waiting fetches.
        ctx.shared.notify_changed();
    }
    let (error_code, (producer_id, producer_epoch)) = match result {
        Ok(ids) => (ErrorCode::NONE, ids),
        Err(code) => (code, (-1, -1)),
    };
    init_producer_id::Response { error_code, producer_id, producer_epoch, ..Default::default() }
}
