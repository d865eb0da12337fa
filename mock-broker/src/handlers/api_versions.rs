//! ApiVersions: advertises every version this build has of the APIs the handlers serve.

use kafka_wire::api_versions::{ApiVersion, Request, Response};
use kafka_wire::{ApiKey, ErrorCode};

use crate::context::Ctx;

/// Every API the mock serves (at every version the codec has: Kafka 4's minimums, KIP-896).
pub(crate) const SERVED: &[ApiKey] = &[
    ApiKey::Produce,
    ApiKey::Fetch,
    ApiKey::ListOffsets,
    ApiKey::Metadata,
    ApiKey::OffsetCommit,
    ApiKey::OffsetFetch,
    ApiKey::FindCoordinator,
    ApiKey::JoinGroup,
    ApiKey::Heartbeat,
    ApiKey::LeaveGroup,
    ApiKey::SyncGroup,
    ApiKey::SaslHandshake,
    ApiKey::ApiVersions,
    ApiKey::CreateTopics,
    ApiKey::DeleteTopics,
    ApiKey::InitProducerId,
    ApiKey::DescribeConfigs,
    ApiKey::SaslAuthenticate,
    ApiKey::AddPartitionsToTxn,
    ApiKey::AddOffsetsToTxn,
    ApiKey::EndTxn,
    ApiKey::TxnOffsetCommit,
    ApiKey::DescribeProducers,
    ApiKey::DescribeTransactions,
    ApiKey::ListTransactions,
    ApiKey::ListGroups,
    ApiKey::DescribeGroups,
    ApiKey::DeleteGroups,
    ApiKey::OffsetDelete,
    ApiKey::CreatePartitions,
    ApiKey::DescribeCluster,
    ApiKey::DescribeLogDirs,
    ApiKey::ElectLeaders,
    ApiKey::DeleteRecords,
    ApiKey::IncrementalAlterConfigs,
    ApiKey::AlterConfigs,
    ApiKey::DescribeUserScramCredentials,
    ApiKey::AlterUserScramCredentials,
    ApiKey::CreateAcls,
    ApiKey::DescribeAcls,
    ApiKey::DeleteAcls,
    ApiKey::ConsumerGroupHeartbeat,
    ApiKey::ConsumerGroupDescribe,
    ApiKey::ShareGroupHeartbeat,
    ApiKey::ShareGroupDescribe,
    ApiKey::ShareFetch,
    ApiKey::ShareAcknowledge,
];

/// (API key, min, max) of every served API.
pub(crate) fn ranges() -> impl Iterator<Item = (ApiKey, i16, i16)> {
    SERVED.iter().map(|api| (*api, api.versions().min, api.versions().max))
}

/// Kafka's rule for ClientSoftwareName and ClientSoftwareVersion.
fn valid_software_field(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.')
}

/// The advertised ranges with `error_code`: the served ones, but Produce from v0, as Kafka 4
/// advertises it (for older clients that look for v0) although it serves only v3+ (a v0-2
/// request closes the connection, here as there).
pub(crate) fn response(error_code: ErrorCode) -> Response {
    let api_keys = ranges()
        .filter(|_| error_code != ErrorCode::INVALID_REQUEST)
        .map(|(api, min_version, max_version)| ApiVersion {
            api_key: api.code(),
            min_version: if api == ApiKey::Produce { 0 } else { min_version },
            max_version,
            ..Default::default()
        })
        .collect();
    Response { error_code, api_keys, ..Default::default() }
}

pub(crate) fn handle(ctx: &Ctx<'_>, r: &Request) -> Response {
    let mut code = ctx.forced.unwrap_or(ErrorCode::NONE);
    let checks_software = Request::CLIENT_SOFTWARE_NAME_VERSIONS.contains(ctx.version);
    if checks_software
        && !(valid_software_field(&r.client_software_name) && valid_software_field(&r.client_software_version))
    {
        code = ErrorCode::INVALID_REQUEST;
    }
    response(code)
}
