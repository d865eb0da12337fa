//! A consumer group of two on a 4-partition topic, with each group protocol: the first member
//! takes every partition, the second joins and they split them 2/2, then the second leaves and
//! the first takes its partitions over from its commits. 1,200 records in three phases, each
//! read once, in order per partition.

use kafka_wire_harness::Listener;

use super::{mock_config, run_both, Outcome};

fn group(label: &str, protocol: &str) {
    let options = [("topic", label.replace('_', "-")), ("protocol", protocol.to_owned())];
    let check = |o: &Outcome| {
        o.expect(&[
            ("a_alone", "4"),
            ("a_shared", "2"),
            ("b_shared", "2"),
            ("b_read", "200"),
            ("a_after_leave", "4"),
            ("consumed", "1200"),
            ("duplicates", "0"),
            ("missing", "0"),
            ("out_of_order", "0"),
            ("committed", "0:300,1:300,2:300,3:300"),
        ]);
        if protocol == "classic" {
            // One rebalance for each membership change.
            o.expect(&[("a_generation_alone", "1"), ("generations_shared", "2,2"), ("a_generation_after_leave", "3")]);
        }
    };
    run_both(label, "group", mock_config(), Listener::Plaintext, &options, check);
}

#[test]
fn classic_group() {
    group("classic_group", "classic");
}

/// KIP-848: `group.protocol=consumer`, the assignment computed by the coordinator.
#[test]
fn consumer_protocol_group() {
    group("consumer_protocol_group", "consumer");
}
