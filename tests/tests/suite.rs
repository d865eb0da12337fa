//! The test suite of kafka-wire as one test binary: one compile and one link instead of one per
//! file. Each module is one concern, named by its file; run one with a filter, e.g.
//! `cargo test -p kafka-wire-tests --test suite java_oracle::`. `allocation_bound` is its own
//! binary: it installs a counting global allocator.

mod arbitrary_roundtrip;
mod chunks;
mod conformance_kafka_protocol;
mod fuzz_regressions;
mod generator;
mod java_oracle;
mod records;
mod records_cli;
mod roundtrip;
mod schema_update;
mod test_targets;
mod version_free;
mod wire_vectors;
