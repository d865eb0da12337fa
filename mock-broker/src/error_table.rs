// The table of `error_reply.rs`: every API, then each version as `Variant module number e|-`,
// where `e` marks a response with a top-level `error_code`. Derived from the generated messages
// of kafka-wire.
error_replies! {
    Produce produce { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 -, V4 v4 4 -, V5 v5 5 -, V6 v6 6 -, V7 v7 7 -, V8 v8 8 -, V9 v9 9 -, V10 v10 10 -, V11 v11 11 - }
    Fetch fetch { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 -, V4 v4 4 -, V5 v5 5 -, V6 v6 6 -, V7 v7 7 e, V8 v8 8 e, V9 v9 9 e, V10 v10 10 e, V11 v11 11 e, V12 v12 12 e, V13 v13 13 e, V14 v14 14 e, V15 v15 15 e, V16 v16 16 e, V17 v17 17 e }
    ListOffsets list_offsets { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 -, V4 v4 4 -, V5 v5 5 -, V6 v6 6 -, V7 v7 7 -, V8 v8 8 -, V9 v9 9 -, V10 v10 10 - }
    Metadata metadata { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 -, V4 v4 4 -, V5 v5 5 -, V6 v6 6 -, V7 v7 7 -, V8 v8 8 -, V9 v9 9 -, V10 v10 10 -, V11 v11 11 -, V12 v12 12 - }
    LeaderAndIsr leader_and_isr { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e, V5 v5 5 e, V6 v6 6 e, V7 v7 7 e }
    StopReplica stop_replica { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e }
    UpdateMetadata update_metadata { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e, V5 v5 5 e, V6 v6 6 e, V7 v7 7 e, V8 v8 8 e }
    ControlledShutdown controlled_shutdown { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e }
    OffsetCommit offset_commit { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 -, V4 v4 4 -, V5 v5 5 -, V6 v6 6 -, V7 v7 7 -, V8 v8 8 -, V9 v9 9 - }
    OffsetFetch offset_fetch { V0 v0 0 -, V1 v1 1 -, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e, V5 v5 5 e, V6 v6 6 e, V7 v7 7 e, V8 v8 8 -, V9 v9 9 - }
    FindCoordinator find_coordinator { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 -, V5 v5 5 -, V6 v6 6 - }
    JoinGroup join_group { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e, V5 v5 5 e, V6 v6 6 e, V7 v7 7 e, V8 v8 8 e, V9 v9 9 e }
    Heartbeat heartbeat { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e }
    LeaveGroup leave_group { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e, V5 v5 5 e }
    SyncGroup sync_group { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e, V5 v5 5 e }
    DescribeGroups describe_groups { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 -, V4 v4 4 -, V5 v5 5 - }
    ListGroups list_groups { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e, V5 v5 5 e }
    SaslHandshake sasl_handshake { V0 v0 0 e, V1 v1 1 e }
    ApiVersions api_versions { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e }
    CreateTopics create_topics { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 -, V4 v4 4 -, V5 v5 5 -, V6 v6 6 -, V7 v7 7 - }
    DeleteTopics delete_topics { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 -, V4 v4 4 -, V5 v5 5 -, V6 v6 6 - }
    DeleteRecords delete_records { V0 v0 0 -, V1 v1 1 -, V2 v2 2 - }
    InitProducerId init_producer_id { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e, V5 v5 5 e }
    OffsetForLeaderEpoch offset_for_leader_epoch { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 -, V4 v4 4 - }
    AddPartitionsToTxn add_partitions_to_txn { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 -, V4 v4 4 e, V5 v5 5 e }
    AddOffsetsToTxn add_offsets_to_txn { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e }
    EndTxn end_txn { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e, #[cfg(feature = "unstable")] V5 v5 5 e }
    WriteTxnMarkers write_txn_markers { V0 v0 0 -, V1 v1 1 - }
    TxnOffsetCommit txn_offset_commit { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 -, V4 v4 4 - }
    DescribeAcls describe_acls { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e }
    CreateAcls create_acls { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 - }
    DeleteAcls delete_acls { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 - }
    DescribeConfigs describe_configs { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 -, V4 v4 4 - }
    AlterConfigs alter_configs { V0 v0 0 -, V1 v1 1 -, V2 v2 2 - }
    AlterReplicaLogDirs alter_replica_log_dirs { V0 v0 0 -, V1 v1 1 -, V2 v2 2 - }
    DescribeLogDirs describe_log_dirs { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 e, V4 v4 4 e }
    SaslAuthenticate sasl_authenticate { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e }
    CreatePartitions create_partitions { V0 v0 0 -, V1 v1 1 -, V2 v2 2 -, V3 v3 3 - }
    CreateDelegationToken create_delegation_token { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e }
    RenewDelegationToken renew_delegation_token { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e }
    ExpireDelegationToken expire_delegation_token { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e }
    DescribeDelegationToken describe_delegation_token { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e }
    DeleteGroups delete_groups { V0 v0 0 -, V1 v1 1 -, V2 v2 2 - }
    ElectLeaders elect_leaders { V0 v0 0 -, V1 v1 1 e, V2 v2 2 e }
    IncrementalAlterConfigs incremental_alter_configs { V0 v0 0 -, V1 v1 1 - }
    AlterPartitionReassignments alter_partition_reassignments { V0 v0 0 e }
    ListPartitionReassignments list_partition_reassignments { V0 v0 0 e }
    OffsetDelete offset_delete { V0 v0 0 e }
    DescribeClientQuotas describe_client_quotas { V0 v0 0 e, V1 v1 1 e }
    AlterClientQuotas alter_client_quotas { V0 v0 0 -, V1 v1 1 - }
    DescribeUserScramCredentials describe_user_scram_credentials { V0 v0 0 e }
    AlterUserScramCredentials alter_user_scram_credentials { V0 v0 0 - }
    Vote vote { V0 v0 0 e, V1 v1 1 e }
    BeginQuorumEpoch begin_quorum_epoch { V0 v0 0 e, V1 v1 1 e }
    EndQuorumEpoch end_quorum_epoch { V0 v0 0 e, V1 v1 1 e }
    DescribeQuorum describe_quorum { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e }
    AlterPartition alter_partition { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e }
    UpdateFeatures update_features { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e }
    Envelope envelope { V0 v0 0 e }
    FetchSnapshot fetch_snapshot { V0 v0 0 e, V1 v1 1 e }
    DescribeCluster describe_cluster { V0 v0 0 e, V1 v1 1 e }
    DescribeProducers describe_producers { V0 v0 0 - }
    BrokerRegistration broker_registration { V0 v0 0 e, V1 v1 1 e, V2 v2 2 e, V3 v3 3 e, V4 v4 4 e }
    BrokerHeartbeat broker_heartbeat { V0 v0 0 e, V1 v1 1 e }
    UnregisterBroker unregister_broker { V0 v0 0 e }
    DescribeTransactions describe_transactions { V0 v0 0 - }
    ListTransactions list_transactions { V0 v0 0 e, V1 v1 1 e }
    AllocateProducerIds allocate_producer_ids { V0 v0 0 e }
    ConsumerGroupHeartbeat consumer_group_heartbeat { V0 v0 0 e, #[cfg(feature = "unstable")] V1 v1 1 e }
    ConsumerGroupDescribe consumer_group_describe { V0 v0 0 - }
    ControllerRegistration controller_registration { V0 v0 0 e }
    GetTelemetrySubscriptions get_telemetry_subscriptions { V0 v0 0 e }
    PushTelemetry push_telemetry { V0 v0 0 e }
    AssignReplicasToDirs assign_replicas_to_dirs { V0 v0 0 e }
    ListClientMetricsResources list_client_metrics_resources { V0 v0 0 e }
    DescribeTopicPartitions describe_topic_partitions { V0 v0 0 - }
    ShareGroupHeartbeat share_group_heartbeat { #[cfg(feature = "unstable")] V0 v0 0 e }
    ShareGroupDescribe share_group_describe { #[cfg(feature = "unstable")] V0 v0 0 - }
    ShareFetch share_fetch { #[cfg(feature = "unstable")] V0 v0 0 e }
    ShareAcknowledge share_acknowledge { #[cfg(feature = "unstable")] V0 v0 0 e }
    AddRaftVoter add_raft_voter { V0 v0 0 e }
    RemoveRaftVoter remove_raft_voter { V0 v0 0 e }
    UpdateRaftVoter update_raft_voter { V0 v0 0 e }
    InitializeShareGroupState initialize_share_group_state { #[cfg(feature = "unstable")] V0 v0 0 - }
    ReadShareGroupState read_share_group_state { #[cfg(feature = "unstable")] V0 v0 0 - }
    WriteShareGroupState write_share_group_state { #[cfg(feature = "unstable")] V0 v0 0 - }
    DeleteShareGroupState delete_share_group_state { #[cfg(feature = "unstable")] V0 v0 0 - }
    ReadShareGroupStateSummary read_share_group_state_summary { #[cfg(feature = "unstable")] V0 v0 0 - }
}
