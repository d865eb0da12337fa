//! The mock broker's tests as one test binary (one compile and one link instead of one per
//! file); run one module with a filter, e.g. `cargo test -p kafka-wire-mock --test mock groups::`.

mod acls;
mod admin;
mod apis;
mod binary;
mod broker;
mod client_interop;
mod connections;
mod consumer_admin;
mod groups;
mod share_groups;
mod smoke;
mod txn;
