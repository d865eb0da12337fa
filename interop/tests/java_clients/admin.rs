//! The admin client: topics (create, validate-only, list, describe, configs, delete, and the
//! errors for an existing, invalid or unknown topic), partitions added to a topic, and consumer
//! groups (list, describe, offsets listed, altered and deleted, the group deleted).

use kafka_wire_harness::Listener;

use super::{mock_config, run_both, Outcome};

#[test]
fn admin_topics() {
    let check = |o: &Outcome| {
        o.expect(&[
            ("listed_after_validate_only", "-"),
            ("create_again", "TopicExistsException"),
            ("create_invalid", "InvalidPartitionsException"),
            ("listed", "admin-topics-a,admin-topics-b"),
            ("a_partitions", "3"),
            ("a_replicas", "0:1/1,1:1/1,2:1/1"),
            ("a_internal", "false"),
            ("a_has_id", "true"),
            ("a_id_matches", "true"),
            ("b_partitions", "1"),
            ("b_cleanup_policy", "compact"),
            ("b_retention_ms", "123456"),
            ("describe_unknown", "UnknownTopicOrPartitionException"),
            ("listed_after_delete", "admin-topics-b"),
            ("delete_unknown", "UnknownTopicOrPartitionException"),
            ("listed_at_end", "-"),
        ])
    };
    run_both(
        "admin_topics",
        "admin_topics",
        mock_config(),
        Listener::Plaintext,
        &[("prefix", "admin-topics".into())],
        check,
    );
}

#[test]
fn admin_partitions() {
    let check = |o: &Outcome| {
        o.expect(&[
            ("validate_only", "none"),
            ("after_validate_only", "1"),
            ("partitions", "3"),
            ("shrink", "InvalidPartitionsException"),
            ("same", "InvalidPartitionsException"),
            ("unknown", "UnknownTopicOrPartitionException"),
            ("end_offsets", "0:10,1:10,2:10"),
        ])
    };
    run_both(
        "admin_partitions",
        "admin_partitions",
        mock_config(),
        Listener::Plaintext,
        &[("topic", "admin-grow".into())],
        check,
    );
}

#[test]
fn admin_groups() {
    let check = |o: &Outcome| {
        o.expect(&[
            ("listed_live", "Classic/consumer/Stable"),
            ("described_live", "Classic/Stable/range/members:member:2;"),
            ("delete_live", "GroupNotEmptyException"),
            ("delete_offset_live", "GroupSubscribedToTopicException"),
            ("described_empty", "Classic/Empty//members:"),
            ("listed_empty", "Classic/consumer/Empty"),
            ("offsets", "0:50,1:50"),
            ("offsets_altered", "0:10,1:50"),
            ("offsets_after_delete", "0:10"),
            ("listed_deleted", "-"),
            ("described_deleted", "GroupIdNotFoundException"),
            ("delete_again", "GroupIdNotFoundException"),
            ("offsets_deleted_group", "-"),
        ])
    };
    run_both(
        "admin_groups",
        "admin_groups",
        mock_config(),
        Listener::Plaintext,
        &[("topic", "admin-groups".into())],
        check,
    );
}
