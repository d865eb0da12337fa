//! How many heap allocations one decode makes, counted by a counting global allocator, next to
//! the number of arrays in the message (strings and record sets are zero-copy slices of the
//! input, so they should cost nothing). The target: at most one allocation per array.
//!
//! `cargo test -p kafka-wire-bench --test allocations -- --nocapture` prints the counts for
//! both crates.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::Bytes;
use kafka_protocol::messages as kp;
use kafka_protocol::protocol::Decodable;
use kafka_wire::records::{Compression, RecordBatch};
use kafka_wire::Message;
use kafka_wire_bench::cases;

/// Counts the allocations (and reallocations) of the current thread only, so that tests
/// running in parallel do not disturb each other.
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static REALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn bump(c: &'static std::thread::LocalKey<Cell<u64>>) {
    // `try_with`: the allocator may run while the thread's locals are being torn down.
    let _ = c.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// thread-local `Cell`s with a const initialiser, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump(&REALLOCS);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations and reallocations made by `f` on this thread (including freeing its result).
fn count<R>(f: impl FnOnce() -> R) -> (u64, u64) {
    let (a0, r0) = (ALLOCS.with(Cell::get), REALLOCS.with(Cell::get));
    drop(std::hint::black_box(f()));
    (ALLOCS.with(Cell::get) - a0, REALLOCS.with(Cell::get) - r0)
}

/// 1 for a non-empty array (an empty `Vec` allocates nothing).
fn arr<T>(v: &[T]) -> u64 {
    u64::from(!v.is_empty())
}

fn report(name: &str, ours: (u64, u64), arrays: u64, theirs: (u64, u64)) {
    println!(
        "{name}: kafka-wire {} allocations + {} reallocations for {arrays} non-empty arrays; \
         kafka-protocol {} + {}",
        ours.0, ours.1, theirs.0, theirs.1
    );
    assert_eq!(ours.1, 0, "{name}: decoding should size every buffer once");
    assert!(ours.0 <= arrays, "{name}: {} allocations for {arrays} arrays", ours.0);
}

#[test]
fn metadata_response_allocates_at_most_once_per_array() {
    let wire = cases::metadata_wire();
    let m = kafka_wire::metadata::v12::Response::from_bytes(wire.clone()).expect("decode");
    let arrays = arr(&m.brokers)
        + arr(&m.topics)
        + m.topics
            .iter()
            .map(|t| {
                arr(&t.partitions)
                    + t.partitions
                        .iter()
                        .map(|p| arr(&p.replica_nodes) + arr(&p.isr_nodes) + arr(&p.offline_replicas))
                        .sum::<u64>()
            })
            .sum::<u64>();
    assert_eq!(arrays, 2 + 1_000 + 20_000);
    let ours = count(|| kafka_wire::metadata::v12::Response::from_bytes(wire.clone()).expect("decode"));
    let theirs = count(|| kp::MetadataResponse::decode(&mut wire.clone(), 12).expect("decode"));
    report("metadata-decode", ours, arrays, theirs);
}

#[test]
fn fetch_response_allocates_at_most_once_per_array() {
    let wire = cases::fetch_wire();
    let m = kafka_wire::fetch::v16::Response::from_bytes(wire.clone()).expect("decode");
    let arrays = arr(&m.responses)
        + arr(&m.node_endpoints)
        + m.responses
            .iter()
            .map(|t| {
                arr(&t.partitions)
                    + t.partitions.iter().map(|p| p.aborted_transactions.as_deref().map_or(0, arr)).sum::<u64>()
            })
            .sum::<u64>();
    let ours = count(|| kafka_wire::fetch::v16::Response::from_bytes(wire.clone()).expect("decode"));
    let theirs = count(|| kp::FetchResponse::decode(&mut wire.clone(), 16).expect("decode"));
    report("fetch-decode (records as bytes)", ours, arrays, theirs);
}

#[test]
fn produce_request_allocates_at_most_once_per_array() {
    let wire = cases::produce_wire();
    let m = kafka_wire::produce::v11::Request::from_bytes(wire.clone()).expect("decode");
    let arrays = arr(&m.topic_data) + m.topic_data.iter().map(|t| arr(&t.partition_data)).sum::<u64>();
    let ours = count(|| kafka_wire::produce::v11::Request::from_bytes(wire.clone()).expect("decode"));
    let theirs = count(|| kp::ProduceRequest::decode(&mut wire.clone(), 11).expect("decode"));
    report("produce-decode (records as bytes)", ours, arrays, theirs);
}

#[test]
fn api_versions_response_allocates_at_most_once_per_array() {
    let wire = cases::api_versions_wire();
    let m = kafka_wire::api_versions::v3::Response::from_bytes(wire.clone()).expect("decode");
    let arrays = arr(&m.api_keys) + arr(&m.supported_features) + arr(&m.finalized_features);
    let ours = count(|| kafka_wire::api_versions::v3::Response::from_bytes(wire.clone()).expect("decode"));
    let theirs = count(|| kp::ApiVersionsResponse::decode(&mut wire.clone(), 3).expect("decode"));
    report("api-versions-decode", ours, arrays, theirs);
}

#[test]
fn heartbeat_request_decodes_without_allocating() {
    let frame = cases::heartbeat_frame();
    let ours = count(|| {
        let mut f = frame.clone();
        let (header, _) = kafka_wire::decode_request_header(&mut f).expect("header");
        (header, kafka_wire::heartbeat::v4::Request::from_bytes(f).expect("decode"))
    });
    let theirs = count(|| {
        let mut f = frame.clone();
        let header = kafka_protocol::protocol::decode_request_header_from_buffer(&mut f).expect("header");
        let body = kp::HeartbeatRequest::decode(&mut f, header.request_api_version).expect("decode");
        (header, body)
    });
    report("heartbeat-request-decode", ours, 0, theirs);
}

/// Decodes a batch and every record of it, keeping them (as a consumer handing them on would).
fn ours_batch(wire: &Bytes) -> Vec<kafka_wire::records::Record> {
    let batch = RecordBatch::decode(&mut wire.clone()).expect("batch");
    batch.records().expect("records").collect::<Result<Vec<_>, _>>().expect("record")
}

#[test]
fn record_batch_decode_allocates_a_constant_number_of_buffers() {
    for c in [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
        let wire = cases::batch_wire(c);
        // Warm up: codecs may set up process-wide state on first use.
        drop(ours_batch(&wire));
        // Records are slices of the (decompressed) batch; the Vec that collects them is the
        // caller's. Counted without it: iterating only.
        let ours = count(|| {
            let batch = RecordBatch::decode(&mut wire.clone()).expect("batch");
            batch.records().expect("records").map(|r| r.expect("record").offset).sum::<i64>()
        });
        let theirs = count(|| kafka_protocol::records::RecordBatchDecoder::decode(&mut wire.clone()).expect("batch"));
        println!(
            "batch-decode-{}: kafka-wire {} allocations + {} reallocations for 10,000 records; \
             kafka-protocol {} + {} (records collected into a Vec)",
            c.name(),
            ours.0,
            ours.1,
            theirs.0,
            theirs.1
        );
        // No allocation per record: the decompressed buffer and the codec's own state only.
        assert!(ours.0 + ours.1 <= 16, "batch-decode-{}: {ours:?}", c.name());
        if c == Compression::None {
            assert_eq!(ours, (0, 0), "an uncompressed batch decodes without allocating");
        }
    }
}
