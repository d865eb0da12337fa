//! The client's tests as one test binary (one compile and one link instead of one per file); run
//! one module with a filter, e.g. `cargo test -p kafka-wire-client --test client sans_io::`.

mod config_defaults;
mod handshake;
mod sans_io;
mod scripted_broker;
mod support;
