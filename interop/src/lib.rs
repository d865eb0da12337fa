//! Interoperability tests against librdkafka live in `tests/rdkafka/`; this crate has no code.
#![forbid(unsafe_code)]
