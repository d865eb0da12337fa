//! Fuzz target: see `kafka_wire_fuzz::records`. Every input also checks the allocation bound.
#![no_main]

#[path = "../src/counting.rs"]
mod counting;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| kafka_wire_fuzz::records(data, counting::requested));
