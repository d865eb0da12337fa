//! DeleteRecords on the partition leaders, as Kafka 4.4's `ReplicaManager.deleteRecords`
//! answers it: the log start offset moves up to the offset given (-1: the high watermark);
//! fetches below it then get OFFSET_OUT_OF_RANGE and ListOffsets' earliest offset is it.

use kafka_wire::delete_records::{self, DeleteRecordsPartitionResult, DeleteRecordsTopicResult};
use kafka_wire::ErrorCode;

use crate::context::Ctx;

pub(crate) fn delete_records(ctx: &Ctx<'_>, r: &delete_records::Request) -> delete_records::Response {
    let mut state = ctx.shared.state();
    let topics = r
        .topics
        .iter()
        .map(|t| DeleteRecordsTopicResult {
            name: t.name.clone(),
            partitions: t
                .partitions
                .iter()
                .map(|p| {
                    let outcome = match ctx.forced {
                        Some(code) => Err(code),
                        None => state.delete_records(&t.name, p.partition_index, p.offset, ctx.broker),
                    };
                    DeleteRecordsPartitionResult {
                        partition_index: p.partition_index,
                        low_watermark: *outcome.as_ref().unwrap_or(&-1),
                        error_code: outcome.err().unwrap_or(ErrorCode::NONE),
                        ..Default::default()
                    }
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    delete_records::Response { topics, ..Default::default() }
}
