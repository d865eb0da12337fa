//! kafka-wire next to the `kafka-protocol` crate, on the same logical messages.
//!
//! Each [`Case`] holds one piece of work done both ways: `ours` with kafka-wire, `theirs` with
//! kafka-protocol, from the same input (the same wire bytes, or values that encode to the same
//! wire bytes; [`Case::check`] verifies it). The Criterion bench (`benches/compare.rs`), the
//! callgrind driver (`src/bin/drive.rs`) and the allocation test (`tests/allocations.rs`) all
//! run these bodies, so they measure exactly the same thing.
//!
//! The rules, identical for both sides:
//! - decoding starts from a `Bytes` holding the message (a clone of it: a reference count, no
//!   copy) and ends with the decoded value dropped (freeing is part of the cost);
//! - encoding a message computes its exact size, reserves it in a reused `BytesMut` (cleared
//!   each time, so it allocates only once per run) and writes the message. The small request
//!   (header + Heartbeat) is the exception: a whole size-prefixed frame in a new buffer, the way
//!   a client sends it;
//! - "records" cases visit every record: offset, timestamp, key and value lengths.
//!
//! `cargo xtask bench` runs the bench and prints the table.
#![forbid(unsafe_code)]

pub mod cases;
pub mod data;

pub use cases::{all, builders, Case, Throughput};

/// Runs `body` `n` times; the callgrind driver counts instructions inside this function only
/// (`--toggle-collect=*measured_loop*`), leaving out building the input.
#[inline(never)]
pub fn measured_loop(body: &mut dyn FnMut() -> u64, n: u64) -> u64 {
    let mut acc = 0u64;
    for _ in 0..n {
        acc = acc.wrapping_add(std::hint::black_box(body()));
    }
    acc
}
