//! ApiVersions: advertises exactly the versions the handlers serve.

use kafka_wire::{api_versions, AnyResponse, ApiKey, ErrorCode};

use crate::server::Ctx;

/// Every API the mock serves, with the versions it serves. The minimum versions follow Kafka
/// 4.0, which dropped the older ones (KIP-896); the maximum is the codec's.
pub(crate) const SERVED: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 11),
    (ApiKey::Fetch, 4, 17),
    (ApiKey::ListOffsets, 1, 10),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::OffsetCommit, 2, 9),
    (ApiKey::OffsetFetch, 1, 9),
    (ApiKey::FindCoordinator, 0, 6),
    (ApiKey::JoinGroup, 2, 9),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::SaslHandshake, 1, 1),
    (ApiKey::ApiVersions, 0, 4),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 6),
    (ApiKey::InitProducerId, 0, 5),
    (ApiKey::DescribeConfigs, 1, 4),
    (ApiKey::SaslAuthenticate, 0, 2),
];

/// (API key, min, max) of every served API, as ApiVersions advertises them: Produce from v0, as
/// Kafka 4 advertises it (for older clients that look for v0) although it serves only v3+ (a v0-2
/// request closes the connection, here as there).
pub(crate) fn ranges() -> impl Iterator<Item = (i16, i16, i16)> {
    SERVED.iter().map(|(api, min, max)| (api.code(), if *api == ApiKey::Produce { 0 } else { *min }, *max))
}

/// Whether this ApiVersions version is served.
pub(crate) fn served(version: i16) -> bool {
    (0..=4).contains(&version)
}

/// Kafka's rule for ClientSoftwareName and ClientSoftwareVersion.
fn valid_software_field(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.')
}

macro_rules! respond {
    ($v:ident, $code:expr, $keys:expr, [$($extra:ident)*]) => {{
        use api_versions::$v as m;
        let mut response = m::Response::default();
        response.error_code = $code.0;
        response.api_keys = $keys
            .map(|(api_key, min_version, max_version)| m::ApiVersion { api_key, min_version, max_version, ..Default::default() })
            .collect();
        $( respond!(@$extra response); )*
        AnyResponse::from(response)
    }};
    (@throttle $r:ident) => { $r.throttle_time_ms = 0; };
}

pub(crate) fn handle(ctx: &Ctx<'_>, request: &api_versions::AnyRequest) -> Option<AnyResponse> {
    let software = match request {
        api_versions::AnyRequest::V3(r) => Some((&r.client_software_name, &r.client_software_version)),
        api_versions::AnyRequest::V4(r) => Some((&r.client_software_name, &r.client_software_version)),
        _ => None,
    };
    let mut code = ctx.forced.unwrap_or(ErrorCode::NONE);
    if software.is_some_and(|(name, version)| !valid_software_field(name) || !valid_software_field(version)) {
        code = ErrorCode::INVALID_REQUEST;
    }
    let keys = ranges().filter(|_| code != ErrorCode::INVALID_REQUEST);
    Some(match request.version() {
        0 => respond!(v0, code, keys, []),
        1 => respond!(v1, code, keys, [throttle]),
        2 => respond!(v2, code, keys, [throttle]),
        3 => respond!(v3, code, keys, [throttle]),
        4 => respond!(v4, code, keys, [throttle]),
        _ => return None,
    })
}
