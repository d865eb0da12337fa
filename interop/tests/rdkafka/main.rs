//! Every test that runs librdkafka (through the `rdkafka` crate), in one binary: librdkafka is
//! built from C source and linked once, here, and nowhere else in the workspace.

mod client_on_librdkafka_mock;
mod consumer_protocol;
mod librdkafka_on_our_mock;
mod records;
mod transactions;
