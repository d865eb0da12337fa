//! The idempotent producer writes 10,000 records to a 3-partition topic in each codec; a
//! consumer reads every one back once, in order per partition, and commits.

use kafka_wire::records::{Batch, Compression};
use kafka_wire::Records;
use kafka_wire_harness::Listener;

use super::{mock_config, run_both, Outcome};

const RECORDS: &str = "10000";
/// 10,000 records over 3 partitions, record i to partition i % 3.
const PER_PARTITION: &str = "0:3334,1:3333,2:3333";

fn produce_consume(codec: &str, compression: Compression) {
    let label = format!("produce_consume_{codec}");
    let topic = format!("records-{codec}");
    let options = [("topic", topic.clone()), ("codec", codec.to_owned()), ("records", RECORDS.to_owned())];
    let check = |o: &Outcome| {
        o.expect(&[
            ("produced", RECORDS),
            ("consumed", RECORDS),
            ("duplicates", "0"),
            ("missing", "0"),
            ("out_of_order", "0"),
            ("per_partition", PER_PARTITION),
            ("end_offsets", PER_PARTITION),
            ("committed", PER_PARTITION),
        ])
    };
    let both = run_both(&label, "produce_consume", mock_config(), Listener::Plaintext, &options, check);
    // The mock stored the producer's batches as they came: in the codec, with a producer id.
    let mock = both.mock;
    for p in 0..3 {
        for data in mock.batches(&topic, p).unwrap() {
            for batch in Records::from_bytes(data).batches() {
                let Batch::V2(b) = batch.unwrap() else { panic!("a legacy batch from the Java client") };
                assert_eq!(b.compression(), compression, "the codec of a stored batch");
                assert!(b.producer_id >= 0, "idempotent batches carry a producer id");
            }
        }
    }
}

#[test]
fn produce_consume_none() {
    produce_consume("none", Compression::None);
}

#[test]
fn produce_consume_gzip() {
    produce_consume("gzip", Compression::Gzip);
}

#[test]
fn produce_consume_snappy() {
    produce_consume("snappy", Compression::Snappy);
}

#[test]
fn produce_consume_lz4() {
    produce_consume("lz4", Compression::Lz4);
}

#[test]
fn produce_consume_zstd() {
    produce_consume("zstd", Compression::Zstd);
}
