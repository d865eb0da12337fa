//! The request handlers: each takes the version-free request, does its work on the cluster
//! state, and returns the version-free response, which the connection writes at the request's
//! version (`Ctx::version`).

pub(crate) mod api_versions;
mod configs;
mod consumer_groups;
mod coordinator;
mod fetch;
mod groups;
mod list_offsets;
mod metadata;
mod produce;
mod topics;

use kafka_wire::ApiRequest;

use crate::server::{Ctx, Handled};

/// Handles a decoded request (SASL requests are handled by the connection).
pub(crate) async fn dispatch(ctx: &Ctx<'_>, request: &ApiRequest) -> Handled {
    match request {
        ApiRequest::ApiVersions(r) => api_versions::handle(ctx, r).into(),
        ApiRequest::Metadata(r) => metadata::handle(ctx, r).into(),
        ApiRequest::Produce(r) => produce::handle(ctx, r),
        ApiRequest::Fetch(r) => fetch::handle(ctx, r).await.into(),
        ApiRequest::ListOffsets(r) => list_offsets::handle(ctx, r).into(),
        ApiRequest::CreateTopics(r) => topics::create_topics(ctx, r).into(),
        ApiRequest::DeleteTopics(r) => topics::delete_topics(ctx, r).into(),
        ApiRequest::DescribeConfigs(r) => configs::describe_configs(ctx, r).into(),
        ApiRequest::FindCoordinator(r) => coordinator::find_coordinator(ctx, r).into(),
        ApiRequest::InitProducerId(r) => coordinator::init_producer_id(ctx, r).into(),
        ApiRequest::JoinGroup(r) => groups::join_group(ctx, r).await.into(),
        ApiRequest::SyncGroup(r) => groups::sync_group(ctx, r).await.into(),
        ApiRequest::Heartbeat(r) => groups::heartbeat(ctx, r).into(),
        ApiRequest::LeaveGroup(r) => groups::leave_group(ctx, r).into(),
        ApiRequest::OffsetCommit(r) => groups::offset_commit(ctx, r).into(),
        ApiRequest::OffsetFetch(r) => groups::offset_fetch(ctx, r).into(),
        ApiRequest::ConsumerGroupHeartbeat(r) => consumer_groups::consumer_group_heartbeat(ctx, r).into(),
        ApiRequest::ConsumerGroupDescribe(r) => consumer_groups::consumer_group_describe(ctx, r).into(),
        _ => Handled::Unsupported,
    }
}
