//! FindCoordinator v0-6 (group and transaction coordinators: a live broker picked by a
//! stable hash of the key) and InitProducerId v0-5 (a new producer id for every idempotent
//! producer's request, as Kafka; transactional ids keep theirs and bump the epoch, KIP-360).
#![allow(clippy::field_reassign_with_default)]

use kafka_wire::{find_coordinator, init_producer_id, AnyResponse, ErrorCode};

use crate::compat::owned;
use crate::server::Ctx;

struct Found {
    key: String,
    error: ErrorCode,
    node: (i32, String, i32),
}

fn find(ctx: &Ctx<'_>, key_type: i8, keys: Vec<String>) -> Vec<Found> {
    let state = ctx.shared.state();
    keys.into_iter()
        .map(|key| {
            let none = (-1, String::new(), -1);
            let (error, node) = if let Some(code) = ctx.forced {
                (code, none)
            } else if !(0..=2).contains(&key_type) || (key_type != 0 && key.is_empty()) {
                (ErrorCode::INVALID_REQUEST, none)
            } else {
                match state.coordinator(&key) {
                    Some(b) => (ErrorCode::NONE, (b.id, b.host.clone(), b.port)),
                    None => (ErrorCode::COORDINATOR_NOT_AVAILABLE, none),
                }
            };
            Found { key, error, node }
        })
        .collect()
}

macro_rules! write_single {
    ($v:ident, $found:ident, [$($f:ident)*]) => {{
        use find_coordinator::$v as m;
        let mut out = m::Response::default();
        if let Some(f) = $found.first() {
            out.error_code = f.error.0;
            out.node_id = f.node.0;
            out.host = f.node.1.as_str().into();
            out.port = f.node.2;
            $( write_single!(@top $f out f); )*
        }
        AnyResponse::from(out)
    }};
    (@top v1 $out:ident $x:ident) => {
        $out.throttle_time_ms = 0;
        $out.error_message = $x.error.is_err().then(|| $x.error.to_string().into());
    };
}

macro_rules! write_batch {
    ($v:ident, $found:ident) => {{
        use find_coordinator::$v as m;
        let mut out = m::Response::default();
        out.throttle_time_ms = 0;
        out.coordinators = $found
            .iter()
            .map(|f| m::Coordinator {
                key: f.key.as_str().into(),
                node_id: f.node.0,
                host: f.node.1.as_str().into(),
                port: f.node.2,
                error_code: f.error.0,
                // Kafka answers a found coordinator with an empty message, not a null one.
                error_message: Some(if f.error.is_err() { f.error.to_string().into() } else { "".into() }),
                ..Default::default()
            })
            .collect();
        AnyResponse::from(out)
    }};
}

pub(crate) fn find_coordinator(ctx: &Ctx<'_>, request: &find_coordinator::AnyRequest) -> Option<AnyResponse> {
    use find_coordinator::AnyRequest as A;
    let (key_type, keys) = match request {
        A::V0(r) => (0, vec![r.key.to_string()]),
        A::V1(r) => (r.key_type, vec![r.key.to_string()]),
        A::V2(r) => (r.key_type, vec![r.key.to_string()]),
        A::V3(r) => (r.key_type, vec![r.key.to_string()]),
        A::V4(r) => (r.key_type, r.coordinator_keys.iter().map(|k| k.to_string()).collect()),
        A::V5(r) => (r.key_type, r.coordinator_keys.iter().map(|k| k.to_string()).collect()),
        A::V6(r) => (r.key_type, r.coordinator_keys.iter().map(|k| k.to_string()).collect()),
        _ => return None,
    };
    let found = find(ctx, key_type, keys);
    Some(match request.version() {
        0 => write_single!(v0, found, []),
        1 => write_single!(v1, found, [v1]),
        2 => write_single!(v2, found, [v1]),
        3 => write_single!(v3, found, [v1]),
        4 => write_batch!(v4, found),
        5 => write_batch!(v5, found),
        6 => write_batch!(v6, found),
        _ => return None,
    })
}

macro_rules! read_init {
    ($r:ident, bump) => {
        (owned(&$r.transactional_id), $r.producer_id, $r.producer_epoch)
    };
    ($r:ident) => {
        (owned(&$r.transactional_id), -1, -1)
    };
}

macro_rules! write_init {
    ($v:ident, $result:ident) => {{
        let (error, (producer_id, producer_epoch)) = $result;
        AnyResponse::from(init_producer_id::$v::Response {
            throttle_time_ms: 0,
            error_code: error.0,
            producer_id,
            producer_epoch,
            ..Default::default()
        })
    }};
}

pub(crate) fn init_producer_id(ctx: &Ctx<'_>, request: &init_producer_id::AnyRequest) -> Option<AnyResponse> {
    use init_producer_id::AnyRequest as A;
    let (transactional_id, producer_id, producer_epoch) = match request {
        A::V0(r) => read_init!(r),
        A::V1(r) => read_init!(r),
        A::V2(r) => read_init!(r),
        A::V3(r) => read_init!(r, bump),
        A::V4(r) => read_init!(r, bump),
        A::V5(r) => read_init!(r, bump),
        _ => return None,
    };
    let mut state = ctx.shared.state();
    let failed = |code: ErrorCode| (code, (-1i64, -1i16));
    let result = if let Some(code) = ctx.forced {
        failed(code)
    } else if transactional_id.as_ref().is_some_and(|t| t.is_empty()) {
        failed(ErrorCode::INVALID_REQUEST)
    } else if transactional_id.as_ref().is_some_and(|t| state.coordinator(t).map(|b| b.id) != Some(ctx.broker)) {
        failed(ErrorCode::NOT_COORDINATOR)
    } else {
        match state.init_producer_id(transactional_id.as_deref(), producer_id, producer_epoch) {
            Ok(ids) => (ErrorCode::NONE, ids),
            Err(code) => failed(code),
        }
    };
    drop(state);
    Some(match request.version() {
        0 => write_init!(v0, result),
        1 => write_init!(v1, result),
        2 => write_init!(v2, result),
        3 => write_init!(v3, result),
        4 => write_init!(v4, result),
        5 => write_init!(v5, result),
        _ => return None,
    })
}
