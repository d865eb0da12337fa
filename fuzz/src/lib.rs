//! What the fuzz targets check, shared with the regression tests of the test suite
//! (`tests/tests/fuzz_regressions.rs` includes this file): each function takes one fuzzer
//! input, must never panic on its own account, and panics (which the fuzzer reports as a crash)
//! when a property fails.
//!
//! `requested` reads the number of bytes the current thread has requested from the allocator
//! so far (a counting global allocator in the fuzz targets and in the allocation-bound test;
//! a function returning 0 elsewhere, which turns the allocation checks off).

use std::sync::{Arc, Mutex};

use arbitrary::Unstructured;
use bytes::{Bytes, BytesMut};
use kafka_wire::records::{compress, decompress, Batch, Compression, DecompressionBudget};
use kafka_wire::{AnyRequest, AnyResponse, ApiKey, Records, RequestFrame};

/// Bytes requested per input byte by any decode (see `tests/tests/allocation_bound.rs`).
pub const DECODE_K: usize = 128;
/// Bytes requested regardless of the input size by any decode.
pub const DECODE_C: usize = 4096;
/// Reading record sets: per input byte and per byte of the decompression cap.
pub const RECORDS_K: usize = 40;
/// Reading record sets: the constant part.
pub const RECORDS_C: usize = 10 << 20;
/// The decompression cap the record targets use.
pub const CAP: usize = 1 << 20;

/// The thread's allocation counter.
pub type Requested = fn() -> usize;

/// A target's check of one input.
pub type Check = fn(&[u8], Requested);

/// Every target, by name (the name of its `fuzz_targets/` file and corpus directories).
pub const TARGETS: [(&str, Check); 5] = [
    ("request_frame", request_frame),
    ("response", response),
    ("records", records),
    ("frame_reader", frame_reader),
    ("arbitrary_messages", arbitrary_messages),
];

/// No counting: allocation checks off.
pub fn not_counted() -> usize {
    0
}

fn check_bound(what: &str, n: usize, used: usize, k: usize, c: usize) {
    assert!(used <= k * n + c, "{what}: {used} bytes requested for {n} input bytes (bound {k}*n + {c})");
}

/// Encodes a request, checking that the size it announces is the size it writes.
fn encode_request(r: &AnyRequest) -> Bytes {
    let mut buf = BytesMut::with_capacity(r.encoded_len());
    r.encode(&mut buf).expect("a decoded request encodes");
    assert_eq!(buf.len(), r.encoded_len(), "encoded_len of {:?} v{}", r.api_key(), r.version());
    buf.freeze()
}

fn encode_response(r: &AnyResponse) -> Bytes {
    let mut buf = BytesMut::with_capacity(r.encoded_len());
    r.encode(&mut buf).expect("a decoded response encodes");
    assert_eq!(buf.len(), r.encoded_len(), "encoded_len of {:?} v{}", r.api_key(), r.version());
    buf.freeze()
}

/// Any request frame (header and body, no size prefix), as a broker reads it: decoding stays
/// within the allocation bound; what decodes re-encodes to bytes that decode to a value that
/// re-encodes to the same bytes (the canonical form is a fixed point).
pub fn request_frame(data: &[u8], requested: Requested) {
    let frame = Bytes::copy_from_slice(data);
    let before = requested();
    let decoded = RequestFrame::<AnyRequest>::decode(frame.clone());
    check_bound("RequestFrame::decode", data.len(), requested() - before, DECODE_K, DECODE_C);
    let Ok(decoded) = decoded else { return };
    let (api, v) = (decoded.request.api_key(), decoded.request.version());
    let once = encode_request(&decoded.request);
    let again = AnyRequest::decode(api.code(), v, &mut once.clone())
        .unwrap_or_else(|e| panic!("{api} v{v}: re-encoded request does not decode: {e}"));
    assert_eq!(encode_request(&again), once, "{api} v{v}: canonical form is not a fixed point");
    // A request that came in answers with a frame of its correlation id.
    if let Some(sample) = AnyResponse::arbitrary_of(api, v, &mut Unstructured::new(&[])).ok().flatten() {
        let reply = decoded.respond(&sample).expect("a default response encodes");
        assert_eq!(&reply[4..8], &decoded.header.correlation_id.to_be_bytes());
    }
}

/// The API and version named by the first four bytes (reduced into range).
fn api_version(data: &[u8]) -> Option<(ApiKey, i16, &[u8])> {
    let (head, rest) = data.split_at_checked(4)?;
    let api = ApiKey::ALL[u16::from_be_bytes([head[0], head[1]]) as usize % ApiKey::ALL.len()];
    let range = api.schema_versions();
    let span = (range.max - range.min + 1) as u16;
    let v = range.min + (u16::from_be_bytes([head[2], head[3]]) % span) as i16;
    Some((api, v, rest))
}

/// Any response to a request of a given API and version: 4 bytes choose them, the rest is the
/// response frame (header and body). Read with the deserializer that the request hands out
/// (which knows the header version and the ApiVersions v0 fallback) and as a bare body.
pub fn response(data: &[u8], requested: Requested) {
    let Some((api, v, frame)) = api_version(data) else { return };
    let request = AnyRequest::arbitrary_of(api, v, &mut Unstructured::new(&[])).unwrap().expect("compiled in");
    let frame = Bytes::copy_from_slice(frame);

    let before = requested();
    let body = AnyResponse::decode(api.code(), v, &mut frame.clone());
    check_bound("AnyResponse::decode", frame.len(), requested() - before, DECODE_K, DECODE_C);
    if let Ok(body) = body {
        let once = encode_response(&body);
        let again = AnyResponse::decode(api.code(), v, &mut once.clone())
            .unwrap_or_else(|e| panic!("{api} v{v}: re-encoded response does not decode: {e}"));
        assert_eq!(encode_response(&again), once, "{api} v{v}: canonical form is not a fixed point");
    }

    // The deserializer may read the body up to three times (ApiVersions: as v0, as the asked
    // version, as v0 again).
    let before = requested();
    let parsed = (request.response_deserializer())(frame.clone());
    check_bound("response deserializer", frame.len(), requested() - before, 3 * DECODE_K, 3 * DECODE_C);
    if let Ok((header, response)) = parsed {
        assert_eq!(response.api_key(), api);
        assert_eq!(response.version(), v, "the deserializer answers in the version asked");
        assert_eq!(i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]), header.correlation_id);
        let once = encode_response(&response);
        let again = AnyResponse::decode(api.code(), v, &mut once.clone())
            .unwrap_or_else(|e| panic!("{api} v{v}: re-encoded response does not decode: {e}"));
        assert_eq!(encode_response(&again), once);
    }
}

/// Rewrites the CRC of every batch or legacy message of a record set so that mutations reach
/// the parsers behind the checksum. Stops at the first entry whose size does not fit.
pub fn fix_crcs(set: &mut [u8]) {
    let mut at = 0;
    while set.len() >= at + 17 {
        let size = i32::from_be_bytes([set[at + 8], set[at + 9], set[at + 10], set[at + 11]]);
        if size < 0 || set.len() - at - 12 < size as usize {
            return;
        }
        let end = at + 12 + size as usize;
        match set[at + 16] {
            2 if end >= at + 21 => {
                let crc = crc32c::crc32c(&set[at + 21..end]);
                set[at + 17..at + 21].copy_from_slice(&crc.to_be_bytes());
            }
            0 | 1 if end >= at + 16 => {
                let crc = crc32fast::hash(&set[at + 16..end]);
                set[at + 12..at + 16].copy_from_slice(&crc.to_be_bytes());
            }
            _ => {}
        }
        at = end;
    }
}

/// Record sets with every codec. First byte even: a record set (CRCs fixed up first): every
/// batch that decodes re-encodes to exactly its bytes, and every record is read with one
/// decompression budget for the whole set. First byte odd: the second byte picks a codec and the rest is
/// decompressed (capped); what decompresses survives our own compress/decompress round trip.
pub fn records(data: &[u8], requested: Requested) {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 1 {
        let Some((&codec, payload)) = rest.split_first() else { return };
        let codec = Compression::ALL[codec as usize % Compression::ALL.len()];
        let before = requested();
        let out = decompress(codec, payload, CAP);
        check_bound("decompress", payload.len(), requested() - before, RECORDS_K, RECORDS_K * CAP + RECORDS_C);
        if let Ok(out) = out {
            assert!(out.len() <= CAP);
            let packed = compress(codec, &out).expect("compresses");
            assert_eq!(decompress(codec, &packed, CAP).expect("own output decompresses"), out, "{codec}");
        }
        return;
    }
    let mut set = rest.to_vec();
    fix_crcs(&mut set);
    let set = Bytes::from(set);
    let n = set.len();
    let before = requested();
    let mut batches = Records::from_bytes(set.clone()).batches();
    let mut budget = DecompressionBudget::new(CAP);
    let mut consumed = 0;
    for batch in &mut batches {
        let Ok(batch) = batch else { break };
        let len = batch.encoded_len();
        let mut buf = BytesMut::new();
        batch.encode(&mut buf).expect("a decoded batch encodes");
        assert_eq!(buf.len(), len);
        assert_eq!(&buf[..], &set[consumed..consumed + len], "a batch re-encodes to its bytes");
        consumed += len;
        let magic = batch.magic();
        let compression = batch.compression();
        let Ok(iter) = batch.records_budgeted(&mut budget) else { continue };
        // The borrowed view reads the same records and stops at the same error.
        let mut view = (0usize, None);
        for r in iter.borrowed() {
            match r {
                Ok(r) => {
                    assert_eq!(r.headers().count(), r.header_count(), "the checked headers read again");
                    view.0 += 1;
                }
                Err(e) => view.1 = Some(e),
            }
        }
        let mut count = 0usize;
        let mut error = None;
        for r in iter {
            match r {
                Ok(_) => count += 1,
                Err(e) => error = Some(e),
            }
        }
        assert_eq!(view, (count, error), "borrowed and owned records of a magic {magic} {compression} batch");
        if let Batch::V2(b) = &batch {
            assert!(count <= b.record_count() as usize, "magic {magic} {compression}");
        }
    }
    assert!(consumed + batches.truncated_len() <= n);
    check_bound("records", n, requested() - before, RECORDS_K, RECORDS_K * CAP + RECORDS_C);
}

/// The client's connection core, fed a response stream: the first bytes choose up to four
/// requests in flight (default values of any API and version) and how to split the stream;
/// the rest is the stream (size-prefixed response frames, correlation ids from 0). Fed whole or in pieces, the core delivers the same outcomes, one
/// per request expecting a response, and never more than the stream holds.
pub fn frame_reader(data: &[u8], _requested: Requested) {
    use kafka_wire_client::core::{Core, CoreConfig};

    // Layout: n (1 + byte % 4), n times 4 bytes (API and version), a byte m (% 17), m piece
    // sizes, then the stream.
    let Some((&n, mut rest)) = data.split_first() else { return };
    let mut requests = Vec::new();
    for _ in 0..1 + n % 4 {
        let Some((api, v, tail)) = api_version(rest) else { return };
        rest = tail;
        requests.push(AnyRequest::arbitrary_of(api, v, &mut Unstructured::new(&[])).unwrap().expect("compiled in"));
    }
    let Some((&m, rest)) = rest.split_first() else { return };
    let Some((pieces, stream)) = rest.split_at_checked((m % 17) as usize) else { return };

    let run = |split: bool| -> Vec<String> {
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        let config = CoreConfig { max_frame_size: 1 << 20, ..CoreConfig::default() };
        let mut core = Core::new(config);
        let mut expecting = 0;
        for (i, r) in requests.iter().enumerate() {
            let out = outcomes.clone();
            let frame = core
                .submit_any(r, move |res: Result<AnyResponse, kafka_wire_client::Error>| {
                    out.lock().unwrap().push(format!("{i}: {res:?}"));
                })
                .expect("a default request encodes")
                .to_bytes();
            assert_eq!(&frame[8..12], &(i as i32).to_be_bytes(), "correlation ids count from 0");
            expecting += usize::from(r.expects_response());
        }
        let mut delivered = 0;
        if split {
            let mut rest = stream;
            for &p in pieces.iter().cycle().take(if pieces.is_empty() { 0 } else { 4096 }) {
                if rest.is_empty() {
                    break;
                }
                let (chunk, tail) = rest.split_at((p as usize % 17).min(rest.len()));
                rest = tail;
                match core.receive(chunk) {
                    Ok(d) => delivered += d,
                    Err(_) => break,
                }
            }
            if let Ok(d) = core.receive(rest) {
                delivered += d;
            }
        } else if let Ok(d) = core.receive(stream) {
            delivered += d;
        }
        assert!(delivered <= expecting);
        if core.broken().is_some() {
            assert_eq!(core.in_flight(), 0, "a broken connection fails every request in flight");
        } else {
            assert_eq!(core.in_flight(), expecting - delivered);
        }
        drop(core);
        let outcomes = Arc::try_unwrap(outcomes).unwrap().into_inner().unwrap();
        assert_eq!(outcomes.len(), expecting, "every request gets exactly one outcome");
        outcomes
    };
    let whole = run(false);
    let split = run(true);
    assert_eq!(whole, split, "outcomes depend on how the stream was split");
}

/// Structure-aware: 4 bytes choose an API and version, the rest builds a request and a
/// response of it with the generated `arbitrary` support; each encodes to exactly its
/// `encoded_len` and decodes back to itself, consuming every byte.
pub fn arbitrary_messages(data: &[u8], _requested: Requested) {
    let Some((api, v, rest)) = api_version(data) else { return };
    let mut u = Unstructured::new(rest);
    if let Ok(Some(req)) = AnyRequest::arbitrary_of(api, v, &mut u) {
        let mut buf = BytesMut::new();
        if req.encode(&mut buf).is_ok() {
            assert_eq!(buf.len(), req.encoded_len());
            let mut bytes = buf.freeze();
            let back = AnyRequest::decode(api.code(), v, &mut bytes).unwrap_or_else(|e| panic!("{api} v{v}: {e}"));
            assert!(bytes.is_empty());
            assert_eq!(back, req, "{api} v{v} request");
        }
    }
    if let Ok(Some(resp)) = AnyResponse::arbitrary_of(api, v, &mut u) {
        let mut buf = BytesMut::new();
        if resp.encode(&mut buf).is_ok() {
            assert_eq!(buf.len(), resp.encoded_len());
            let mut bytes = buf.freeze();
            let back = AnyResponse::decode(api.code(), v, &mut bytes).unwrap_or_else(|e| panic!("{api} v{v}: {e}"));
            assert!(bytes.is_empty());
            assert_eq!(back, resp, "{api} v{v} response");
        }
    }
}
