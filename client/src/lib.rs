//! A Kafka client transport over [`kafka_wire`]: framing, correlation ids, pipelining, shared
//! connections, a cluster view, SASL and TLS.
//!
//! Layers, each usable on its own:
//! - [`core::Core`]: the sans-io state of one connection. Feed it bytes in any split; it yields
//!   each response as the typed value of the request that asked for it.
//! - [`handshake::Handshake`]: the sans-io handshake of a new connection: ApiVersions
//!   negotiation (with the v0 downgrade) or a configured version table, then SASL; and SASL
//!   re-authentication.
//! - [`Connection`]: a tokio connection to one broker address. Drives the handshake on
//!   connect, pipelines requests, times them out, fails fast when the connection breaks and
//!   reconnects on the next request.
//! - [`Client`]: bootstraps from a list of addresses, keeps a [`ClusterView`] of brokers,
//!   partition leaders and coordinators, and hands out logical connections ([`Handle`]) that
//!   share one socket per broker.
//!
//! ```no_run
//! use kafka_wire::metadata;
//! use kafka_wire_client::{Client, ConnectionConfig, Target};
//!
//! # async fn run() -> kafka_wire_client::Result<()> {
//! let client = Client::connect(["127.0.0.1:9092"], ConnectionConfig::default()).await?;
//! let leader = client.handle(Target::leader("orders", 0));
//! let coordinator = client.handle(Target::group_coordinator("billing"));
//! // Both may be the same broker: then they share one socket, and correlation ids never clash.
//! // A version-free request goes out at the version negotiated with that broker...
//! let answer = leader.send(&metadata::Request::default()).await?;
//! // ... a per-version one (feature `versioned`) at its own version.
//! #[cfg(feature = "versioned")]
//! let answer_v12 = leader.send_versioned(&metadata::v12::Request::default()).await?;
//! # let _ = (answer, coordinator);
//! # Ok(()) }
//! ```
//!
//! # Cargo features
//! - `sasl-plain`, `sasl-scram`: SASL PLAIN and SCRAM-SHA-256/512 ([`sasl`]).
//! - `tls`: TLS with rustls ([`tls`]).
//! - `all-apis`: every API of `kafka-wire` (the client itself needs only a few).
//! - `versioned`: requests of one fixed version (`send_versioned`, `send_any`,
//!   `Core::submit`), with `kafka-wire`'s per-version types. Default on; off, the client
//!   speaks through the version-free types alone and `kafka-wire` compiles without its
//!   per-version half.
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

mod cluster;
mod config;
mod conn;
pub mod core;
mod error;
pub mod handshake;
#[cfg(any(feature = "sasl-plain", feature = "sasl-scram"))]
pub mod sasl;
#[cfg(feature = "tls")]
pub mod tls;

pub use cluster::{BrokerInfo, Client, ClusterView, Handle, PartitionInfo, Target, TopicInfo};
pub use config::ConnectionConfig;
pub use conn::Connection;
pub use error::{is_stale_metadata, Error, Result};
