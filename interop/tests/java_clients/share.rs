//! A share group (KIP-932) of one `KafkaShareConsumer` with explicit acknowledgements: 200
//! records, every tenth released on its first delivery and delivered again with delivery
//! count 2, every record accepted once.

use kafka_wire_harness::Listener;

use super::{mock_config, run_both, Outcome};

#[test]
fn share_group() {
    let check = |o: &Outcome| {
        o.expect(&[
            ("accepted", "200"),
            ("released", "20"),
            ("delivered_twice", "20"),
            ("delivered_more", "0"),
            ("max_delivery_count", "2"),
        ])
    };
    run_both("share_group", "share", mock_config(), Listener::Plaintext, &[("topic", "share".into())], check);
}
