//! The test suite of kafka-wire as one test binary: one compile and one link instead of one per
//! file. Each module is one concern, named by its file; run one with a filter, e.g.
//! `cargo test -p kafka-wire-tests --test suite roundtrip::`. Apart: `allocation_bound` (it
//! installs a counting global allocator) and `java_oracle` (Apache Kafka's classes, one JVM).

mod arbitrary_roundtrip;
mod chunks;
mod conformance_kafka_protocol;
mod fuzz_regressions;
mod generator;
mod records;
mod records_cli;
mod roundtrip;
mod schema_update;
mod test_targets;
mod version_free;
mod wire_vectors;
