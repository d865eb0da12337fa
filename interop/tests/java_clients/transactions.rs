//! The transactional producer copies 1,000 records from one topic to another, committing the
//! consumer's offsets in each transaction; every third transaction is aborted and redone. With
//! read_committed every record is read once, in order; with read_uncommitted the aborted
//! copies show too; each transaction left one control marker per partition it wrote; a second
//! producer with the same transactional id fences the first.

use kafka_wire_harness::Listener;

use super::{mock_config, run_both, Outcome};

#[test]
fn transactional_copy() {
    let check = |o: &Outcome| {
        o.expect(&[
            ("copied", "1000"),
            ("some_committed", "true"),
            ("some_aborted", "true"),
            ("group_offsets", "0:500,1:500"),
            ("read_committed", "1000"),
            ("read_committed_duplicates", "0"),
            ("read_committed_missing", "0"),
            ("read_committed_out_of_order", "0"),
            ("read_uncommitted_is_all_sent", "true"),
            ("read_uncommitted_missing", "0"),
            ("end_offsets_count_markers", "true"),
            ("fenced", "true"),
            ("second_empty_commit", "ok"),
        ])
    };
    run_both(
        "transactional_copy",
        "transactions",
        mock_config(),
        Listener::Plaintext,
        &[("prefix", "txn".into())],
        check,
    );
}
