//! CreatePartitions (any broker acts as the controller), as Kafka 4.4's `ControllerApis` and
//! `ReplicationControlManager.createPartitions` answer it.

use std::collections::HashMap;

use kafka_wire::create_partitions::{self, CreatePartitionsTopicResult};
use kafka_wire::ErrorCode;

use crate::context::Ctx;

/// Grows each topic to its new partition count; a name given twice is not touched, and
/// answered first with INVALID_REQUEST ("Duplicate topic name."). A success has a null
/// message, as have some errors (an unknown topic).
pub(crate) fn create_partitions(ctx: &Ctx<'_>, r: &create_partitions::Request) -> create_partitions::Response {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &r.topics {
        *counts.entry(&t.name).or_default() += 1;
    }
    let mut results: Vec<CreatePartitionsTopicResult> = Vec::new();
    for t in &r.topics {
        if counts[&*t.name] > 1 && !results.iter().any(|x| x.name == t.name) {
            results.push(CreatePartitionsTopicResult {
                name: t.name.clone(),
                error_code: ErrorCode::INVALID_REQUEST,
                error_message: Some("Duplicate topic name.".into()),
                ..Default::default()
            });
        }
    }
    let mut state = ctx.shared.state();
    let mut changed = false;
    for t in r.topics.iter().filter(|t| counts[&*t.name] == 1) {
        let assignments: Option<Vec<Vec<i32>>> =
            t.assignments.as_ref().map(|a| a.iter().map(|a| a.broker_ids.to_vec()).collect());
        let outcome = match ctx.forced {
            Some(code) => Err((code, Some(format!("injected failure: {code}")))),
            None => state.create_partitions(&t.name, t.count, assignments.as_deref(), r.validate_only),
        };
        changed |= outcome.is_ok() && !r.validate_only;
        let (error_code, error_message) = outcome.err().unwrap_or((ErrorCode::NONE, None));
        results.push(CreatePartitionsTopicResult {
            name: t.name.clone(),
            error_code,
            error_message: error_message.map(Into::into),
            ..Default::default()
        });
    }
    drop(state);
    if changed {
        ctx.shared.notify_changed();
    }
    create_partitions::Response { results, ..Default::default() }
}
