//! The request handlers: each takes the version-free request, does its work on the cluster
//! state, and returns the version-free response, which the connection writes at the request's
//! version (`Ctx::version`).

mod acl_checks;
mod acls;
mod alter_configs;
pub(crate) mod api_versions;
mod cluster_admin;
mod configs;
mod consumer_groups;
mod coordinator;
mod fetch;
mod groups;
mod groups_admin;
mod list_offsets;
mod metadata;
mod partitions;
mod produce;
mod records_admin;
mod scram_admin;
pub(crate) mod share;
mod topics;
mod txn;

use kafka_wire::ApiRequest;

pub(crate) use acl_checks::authorized_dispatch;

use crate::context::{Ctx, Handled};

/// Handles a decoded request (SASL requests are handled by the connection), without the
/// authorizer's checks ([`authorized_dispatch`] makes them).
async fn dispatch(ctx: &Ctx<'_>, request: &ApiRequest) -> Handled {
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
        ApiRequest::JoinGroup(r) => groups_admin::join_group(ctx, r).await.into(),
        ApiRequest::SyncGroup(r) => groups::sync_group(ctx, r).await.into(),
        ApiRequest::Heartbeat(r) => groups::heartbeat(ctx, r).into(),
        ApiRequest::LeaveGroup(r) => groups::leave_group(ctx, r).into(),
        ApiRequest::OffsetCommit(r) => groups::offset_commit(ctx, r).into(),
        ApiRequest::OffsetFetch(r) => txn::offset_fetch(ctx, r).into(),
        ApiRequest::AddPartitionsToTxn(r) => txn::add_partitions_to_txn(ctx, r).into(),
        ApiRequest::AddOffsetsToTxn(r) => txn::add_offsets_to_txn(ctx, r).into(),
        ApiRequest::TxnOffsetCommit(r) => txn::txn_offset_commit(ctx, r).into(),
        ApiRequest::EndTxn(r) => txn::end_txn(ctx, r).into(),
        ApiRequest::DescribeProducers(r) => txn::describe_producers(ctx, r).into(),
        ApiRequest::ListTransactions(r) => txn::list_transactions(ctx, r).into(),
        ApiRequest::DescribeTransactions(r) => txn::describe_transactions(ctx, r).into(),
        ApiRequest::ListGroups(r) => groups_admin::list_groups(ctx, r).into(),
        ApiRequest::DescribeGroups(r) => groups_admin::describe_groups(ctx, r).into(),
        ApiRequest::DeleteGroups(r) => groups_admin::delete_groups(ctx, r).into(),
        ApiRequest::OffsetDelete(r) => groups_admin::offset_delete(ctx, r).into(),
        ApiRequest::CreatePartitions(r) => partitions::create_partitions(ctx, r).into(),
        ApiRequest::DescribeCluster(r) => cluster_admin::describe_cluster(ctx, r).into(),
        ApiRequest::DescribeLogDirs(r) => cluster_admin::describe_log_dirs(ctx, r).into(),
        ApiRequest::ElectLeaders(r) => cluster_admin::elect_leaders(ctx, r).into(),
        ApiRequest::DeleteRecords(r) => records_admin::delete_records(ctx, r).into(),
        ApiRequest::IncrementalAlterConfigs(r) => alter_configs::incremental_alter_configs(ctx, r).into(),
        ApiRequest::AlterConfigs(r) => alter_configs::alter_configs(ctx, r).into(),
        ApiRequest::DescribeUserScramCredentials(r) => scram_admin::describe_user_scram_credentials(ctx, r).into(),
        ApiRequest::AlterUserScramCredentials(r) => scram_admin::alter_user_scram_credentials(ctx, r).into(),
        ApiRequest::CreateAcls(r) => acls::create_acls(ctx, r).into(),
        ApiRequest::DescribeAcls(r) => acls::describe_acls(ctx, r).into(),
        ApiRequest::DeleteAcls(r) => acls::delete_acls(ctx, r).into(),
        ApiRequest::ConsumerGroupHeartbeat(r) => consumer_groups::consumer_group_heartbeat(ctx, r).into(),
        ApiRequest::ConsumerGroupDescribe(r) => consumer_groups::consumer_group_describe(ctx, r).into(),
        ApiRequest::ShareGroupHeartbeat(r) => share::share_group_heartbeat(ctx, r).into(),
        ApiRequest::ShareGroupDescribe(r) => share::share_group_describe(ctx, r).into(),
        ApiRequest::ShareFetch(r) => share::share_fetch(ctx, r).await.into(),
        ApiRequest::ShareAcknowledge(r) => share::share_acknowledge(ctx, r).into(),
        _ => Handled::Unsupported,
    }
}
