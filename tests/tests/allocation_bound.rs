//! The allocation bound, checked with a counting global allocator (this file is its own test
//! binary, so the allocator affects nothing else).
//!
//! **Decoding.** Decoding any `n`-byte input — a message body with `AnyRequest::decode` /
//! `AnyResponse::decode` or the version-free `ApiRequest::decode` / `ApiResponse::decode`, a
//! request frame with `RequestFrame::decode` (either body type) — requests at most
//! `DECODE_K * n + DECODE_C` bytes from the allocator in total (every `alloc` and every `realloc`
//! counted at its full new size, nothing subtracted for frees), whether it succeeds or fails.
//!
//! Why a bound of this form holds: strings, bytes and records are slices of the input (no
//! copy); an array of `c` elements reserves `c * size_of::<T>()` only after checking
//! `c * T::MIN_LEN <= remaining`, so one array reserves at most `remaining * size_of::<T>() /
//! T::MIN_LEN`; nested arrays can each reserve from the same remaining bytes before failing, so
//! the worst case is the sum of that ratio along the deepest path of arrays in a schema. Unknown
//! tagged fields cost one `RawTaggedField` (40 bytes) per at least 3 input bytes, plus vector
//! growth. Errors are a constant-size box and message. The measured worst case over every input
//! family below is reported by the test; the constants leave a margin above it.
//!
//! **Reading records.** `Records::batches` and `records_budgeted(budget)` with one
//! `DecompressionBudget` of `cap` bytes for the whole `n`-byte record set request at most
//! `RECORDS_K * (n + cap) + RECORDS_C` bytes: every compressed batch is charged its decoder's
//! state (gzip's inflate state, lz4's block buffers as its frame declares them) and its
//! decompressed size against the budget, a decompressed vector growing by doubling requests
//! under `4 *` its final size, and a failure empties the budget. So decompression bombs, one or
//! many, cost at most the budget the caller chose. (`records_capped(cap)` caps one batch only:
//! a set of many compressed batches could cost `cap` per batch.) zstd allocates its context and
//! window through its C library, which this allocator does not see; the window is limited to
//! the larger of 8 MiB and twice the cap.

#[path = "support/schema_bytes.rs"]
#[allow(dead_code)]
mod schema_bytes;

use std::path::Path;

use arbitrary::Unstructured;
use kafka_wire::records::{BatchBuilder, Compression, DecompressionBudget, Header, LegacyMessage, NewRecord};
use kafka_wire::{
    AnyRequest, AnyResponse, ApiKey, ApiRequest, ApiResponse, Bytes, BytesMut, DecodeErrorKind, Records, RequestFrame,
};
use schema_bytes::{greedy_body, Rng, Schemas};
use xtask::schema::MessageKind;

/// Bytes requested per input byte when decoding messages and frames.
const DECODE_K: usize = checks::DECODE_K;
/// Bytes requested regardless of the input size when decoding messages and frames.
const DECODE_C: usize = checks::DECODE_C;
/// Bytes requested per input byte, and per byte of the decompression cap, when reading record
/// sets.
const RECORDS_K: usize = checks::RECORDS_K;
/// Constant part of reading record sets.
const RECORDS_C: usize = checks::RECORDS_C;

#[path = "../../fuzz/src/counting.rs"]
mod counting;

/// The checks of the fuzz targets, which assert the same bounds on every input.
#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod checks;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// The worst input seen: the largest `requested - k * n`, and the largest ratio.
#[derive(Default, Debug)]
struct Worst {
    inputs: usize,
    excess: Option<(isize, usize, usize, String)>,
    ratio: f64,
    ratio_at: String,
}

impl Worst {
    fn record(&mut self, k: usize, n: usize, requested: usize, what: impl Fn() -> String) {
        self.inputs += 1;
        let excess = requested as isize - (k * n) as isize;
        let ratio = requested as f64 / n.max(1) as f64;
        if n >= 256 && ratio > self.ratio {
            self.ratio = ratio;
            self.ratio_at = format!("{} ({requested} bytes for {n})", what());
        }
        if self.excess.as_ref().is_none_or(|e| excess > e.0) {
            self.excess = Some((excess, n, requested, what()));
        }
    }

    fn check(&self, c: usize, family: &str) {
        let (excess, n, requested, what) = self.excess.clone().unwrap();
        eprintln!(
            "{family}: {} inputs; largest excess over K*n: {excess} bytes ({requested} for {n} input bytes: {what}); \
             largest ratio for n >= 256: {:.1} at {}",
            self.inputs, self.ratio, self.ratio_at
        );
        assert!(excess <= c as isize, "{family}: {requested} bytes requested for {n} input bytes ({what})");
    }
}

#[derive(Clone, Copy, Debug)]
enum Dir {
    Request,
    Response,
}

/// Decodes a body (and, for requests, the frame around it), measuring each.
fn measure_body(worst: &mut Worst, api: ApiKey, v: i16, dir: Dir, body: &Bytes, what: &dyn Fn() -> String) {
    let n = body.len();
    let requested = counting::requested_by(|| match dir {
        Dir::Request => AnyRequest::decode(api.code(), v, &mut body.clone()).map(|_| ()),
        Dir::Response => AnyResponse::decode(api.code(), v, &mut body.clone()).map(|_| ()),
    });
    worst.record(DECODE_K, n, requested, || format!("{api} v{v} {dir:?} {}", what()));
    // The same bytes through the version-free types (the default build's only decoders).
    let requested = counting::requested_by(|| match dir {
        Dir::Request => ApiRequest::decode(api.code(), v, &mut body.clone()).map(|_| ()),
        Dir::Response => ApiResponse::decode(api.code(), v, &mut body.clone()).map(|_| ()),
    });
    worst.record(DECODE_K, n, requested, || format!("{api} v{v} {dir:?} version-free {}", what()));
    if let Dir::Request = dir {
        let mut frame = BytesMut::new();
        frame.extend_from_slice(&api.code().to_be_bytes());
        frame.extend_from_slice(&v.to_be_bytes());
        frame.extend_from_slice(&7i32.to_be_bytes());
        if api.request_header_version(v) >= 1 {
            frame.extend_from_slice(b"\x00\x06client");
        }
        if api.request_header_version(v) >= 2 {
            frame.extend_from_slice(b"\x00");
        }
        frame.extend_from_slice(body);
        let frame = frame.freeze();
        let n = frame.len();
        let requested = counting::requested_by(|| RequestFrame::<AnyRequest>::decode(frame.clone()).map(|_| ()));
        worst.record(DECODE_K, n, requested, || format!("{api} v{v} request frame {}", what()));
        let requested = counting::requested_by(|| RequestFrame::<ApiRequest>::decode(frame.clone()).map(|_| ()));
        worst.record(DECODE_K, n, requested, || format!("{api} v{v} version-free request frame {}", what()));
    }
}

fn every_version() -> impl Iterator<Item = (ApiKey, i16, Dir)> {
    ApiKey::ALL.iter().flat_map(|&api| {
        let r = api.schema_versions();
        (r.min..=r.max).flat_map(move |v| [(api, v, Dir::Request), (api, v, Dir::Response)])
    })
}

fn sample(api: ApiKey, v: i16, dir: Dir) -> Bytes {
    let mut buf = BytesMut::new();
    match dir {
        Dir::Request => AnyRequest::sample(api, v).unwrap().encode(&mut buf).unwrap(),
        Dir::Response => AnyResponse::sample(api, v).unwrap().encode(&mut buf).unwrap(),
    }
    buf.freeze()
}

#[test]
fn decoding_samples_and_arbitrary_messages_stays_within_the_bound() {
    let mut worst = Worst::default();
    for (api, v, dir) in every_version() {
        let body = sample(api, v, dir);
        measure_body(&mut worst, api, v, dir, &body, &|| "sample".into());
        for case in 0..4u64 {
            let data = Rng::new((api.code() as u64) << 32 | (v as u64) << 8 | case).bytes(200 + 1500 * case as usize);
            let mut u = Unstructured::new(&data);
            let mut buf = BytesMut::new();
            let ok = match dir {
                Dir::Request => AnyRequest::arbitrary_of(api, v, &mut u).unwrap().unwrap().encode(&mut buf),
                Dir::Response => AnyResponse::arbitrary_of(api, v, &mut u).unwrap().unwrap().encode(&mut buf),
            };
            if ok.is_ok() {
                measure_body(&mut worst, api, v, dir, &buf.freeze(), &|| format!("arbitrary {case}"));
            }
        }
    }
    worst.check(DECODE_C, "samples and arbitrary messages");
}

#[test]
fn hostile_counts_lengths_and_truncations_stay_within_the_bound() {
    let mut worst = Worst::default();
    for (api, v, dir) in every_version() {
        let body = sample(api, v, dir).to_vec();
        // Every position overwritten with a count or length of 2^31 - 1 (int32), -2, and the
        // largest compact varint, and every truncation.
        for at in 0..body.len() {
            for patch in [&[0x7f, 0xff, 0xff, 0xff][..], &[0xff, 0xff, 0xff, 0xff, 0x0f]] {
                let mut b = body.clone();
                let end = (at + patch.len()).min(b.len());
                b[at..end].copy_from_slice(&patch[..end - at]);
                measure_body(&mut worst, api, v, dir, &Bytes::from(b), &|| format!("patched at {at}"));
            }
            measure_body(&mut worst, api, v, dir, &Bytes::from(body[..at].to_vec()), &|| format!("cut at {at}"));
        }
    }
    worst.check(DECODE_C, "hostile counts, lengths and truncations");
}

fn schemas() -> Schemas {
    Schemas::load(&xtask::sets::require(None).join("message"))
}

#[test]
fn greedy_nested_counts_stay_within_the_bound() {
    // Arrays at every depth claiming as many elements as the remaining bytes allow, each
    // reserving from the same bytes before the decode fails (or succeeds, on padding that
    // decodes as minimal elements).
    let schemas = schemas();
    let mut worst = Worst::default();
    for (api, v, dir) in every_version() {
        let kind = match dir {
            Dir::Request => MessageKind::Request,
            Dir::Response => MessageKind::Response,
        };
        let spec = schemas.get(api.code(), kind);
        for len in [48, 700, 4096] {
            for pad in [0x00, 0x01] {
                for seed in 0..8u64 {
                    let mut rng = Rng::new((api.code() as u64) << 40 | (v as u64) << 24 | (len as u64) << 4 | seed);
                    let body = Bytes::from(greedy_body(spec, v, len, pad, &mut rng));
                    measure_body(&mut worst, api, v, dir, &body, &|| format!("greedy len {len} pad {pad} seed {seed}"));
                }
            }
        }
    }
    worst.check(DECODE_C, "greedy nested counts");
}

#[test]
fn many_unknown_tagged_fields_stay_within_the_bound() {
    let schemas = schemas();
    let mut worst = Worst::default();
    for (api, v, dir) in every_version() {
        let kind = match dir {
            Dir::Request => MessageKind::Request,
            Dir::Response => MessageKind::Response,
        };
        let spec = schemas.get(api.code(), kind);
        if !spec.flexible_versions().contains(v) {
            continue;
        }
        for n_tags in [1usize, 100, 5000] {
            // A body of empty arrays and no tags: its last byte is the top-level tag count (0).
            let mut b = schema_bytes::untagged_body(spec, v, &mut Rng::new(n_tags as u64));
            assert_eq!(b.pop(), Some(0));
            let mut count = BytesMut::new();
            put_uvarint(&mut count, n_tags as u32);
            b.extend_from_slice(&count);
            for i in 0..n_tags {
                let mut t = BytesMut::new();
                put_uvarint(&mut t, 10_000 + i as u32);
                b.extend_from_slice(&t);
                b.push(0);
            }
            measure_body(&mut worst, api, v, dir, &Bytes::from(b), &|| format!("{n_tags} unknown tags"));
        }
    }
    worst.check(DECODE_C, "many unknown tagged fields");
}

fn put_uvarint(out: &mut BytesMut, mut v: u32) {
    while v >= 0x80 {
        out.extend_from_slice(&[v as u8 | 0x80]);
        v >>= 7;
    }
    out.extend_from_slice(&[v as u8]);
}

// ---- record sets ----------------------------------------------------------------------------

const CAP: usize = checks::CAP;

/// Reads every record of a set, with one decompression budget of `CAP` for the whole set.
fn read_records(set: &Bytes) -> usize {
    counting::requested_by(|| {
        let records = Records::from_bytes(set.clone());
        let mut budget = DecompressionBudget::new(CAP);
        for batch in records.batches() {
            let Ok(batch) = batch else { break };
            let Ok(iter) = batch.records_budgeted(&mut budget) else { continue };
            for r in iter {
                if r.is_err() {
                    break;
                }
            }
        }
    })
}

fn record_sets() -> Vec<(String, Bytes)> {
    let mut out = Vec::new();
    let mut rng = Rng::new(99);
    for c in Compression::ALL {
        for n_records in [0usize, 1, 10, 300] {
            let mut b = BatchBuilder::new(c).producer(1, 2, 3);
            for i in 0..n_records {
                let value = if i % 2 == 0 { vec![b'v'; i] } else { rng.bytes(i) };
                b.push(&NewRecord {
                    timestamp: i as i64,
                    key: (i % 3 == 0).then(|| Bytes::from(vec![b'k'; i % 7])),
                    value: Some(Bytes::from(value)),
                    headers: (0..i % 4).map(|h| Header::new(format!("h{h}"), None)).collect(),
                })
                .unwrap();
            }
            let batch = b.build().unwrap();
            out.push((format!("{c} batch of {n_records}"), batch.to_bytes().unwrap()));
        }
        if c != Compression::Zstd {
            for magic in [0i8, 1] {
                let inner: Vec<_> = (0..20)
                    .map(|i| LegacyMessage::new(magic, i, 1000 + i, None, Some(Bytes::from(vec![b'x'; i as usize]))))
                    .collect();
                let m = if c == Compression::None {
                    inner[3].clone()
                } else {
                    LegacyMessage::compressed(magic, c, &inner).unwrap()
                };
                out.push((format!("{c} magic {magic} message"), m.to_bytes().unwrap()));
            }
        }
        // Records of many empty headers (2 bytes each), uncompressed and compressed.
        let mut b = BatchBuilder::new(c);
        let headers: Vec<_> = (0..20_000).map(|_| Header::new("", None)).collect();
        b.push(&NewRecord { timestamp: 0, key: None, value: None, headers }).unwrap();
        out.push((format!("{c} record of 20000 headers"), b.build().unwrap().to_bytes().unwrap()));
        // Many tiny records.
        let mut b = BatchBuilder::new(c);
        for _ in 0..20_000 {
            b.push(&NewRecord::default()).unwrap();
        }
        out.push((format!("{c} batch of 20000 empty records"), b.build().unwrap().to_bytes().unwrap()));
        // Decompression bombs: 32 MiB of zeros, far past the cap, in a few hundred bytes.
        if c != Compression::None {
            let zeros = vec![0u8; 32 << 20];
            let mut b = BatchBuilder::new(c);
            b.push(&NewRecord::new(0, Bytes::from(zeros))).unwrap();
            let bomb = b.build().unwrap().to_bytes().unwrap();
            out.push((format!("{c} bomb of {} bytes", bomb.len()), bomb));
        }
    }
    // Sets of many small compressed batches, each of which alone stays under the cap: bombs
    // (a batch cap alone would allow CAP per batch), and lz4 frames declaring 4 MiB blocks
    // (12 MiB of decoder buffers each).
    for c in [Compression::Gzip, Compression::Lz4, Compression::Zstd] {
        let mut b = BatchBuilder::new(c);
        b.push(&NewRecord::new(0, Bytes::from(vec![0u8; CAP - 100]))).unwrap();
        let one = b.build().unwrap().to_bytes().unwrap();
        let set: Vec<u8> = (0..64).flat_map(|_| one.iter().copied()).collect();
        out.push((format!("64 {c} bombs of {} bytes each under the cap", one.len()), Bytes::from(set)));
    }
    let inner = [LegacyMessage::new(0, 0, 0, None, Some(Bytes::from_static(b"x")))];
    let mut one = LegacyMessage::compressed(0, Compression::Lz4, &inner).unwrap().to_bytes().unwrap().to_vec();
    let frame = one.windows(4).position(|w| w == [0x04, 0x22, 0x4d, 0x18]).unwrap();
    one[frame + 5] = 0x70; // BD: 4 MiB blocks (magic 0 frames get their header checksum fixed)
    let mut set: Vec<u8> = (0..200).flat_map(|_| one.iter().copied()).collect();
    checks::fix_crcs(&mut set);
    out.push((format!("200 lz4 magic 0 messages of {} bytes declaring 4 MiB blocks", one.len()), Bytes::from(set)));
    // A legacy compressed wrapper of many tiny inner messages.
    let inner: Vec<_> = (0..20_000).map(|i| LegacyMessage::new(1, i, 0, None, None)).collect();
    let m = LegacyMessage::compressed(1, Compression::Gzip, &inner).unwrap();
    out.push(("gzip magic 1 wrapper of 20000 messages".into(), m.to_bytes().unwrap()));
    // A zstd frame of 10 bytes that claims an 8 MiB window (one RLE block of one byte), and
    // one that claims 2 GiB.
    for (what, window) in [("8 MiB", 0x68u8), ("2 GiB", 0xa8)] {
        let frame = [0x28, 0xb5, 0x2f, 0xfd, 0x00, window, 0x0b, 0x00, 0x00, b'x'];
        out.push((format!("zstd frame claiming a {what} window"), raw_batch(Compression::Zstd, &frame)));
    }
    out
}

/// A batch of one record whose records section is `raw` (compressed with `c`).
fn raw_batch(c: Compression, raw: &[u8]) -> Bytes {
    let mut b = BatchBuilder::new(Compression::None);
    b.push(&NewRecord::new(0, "x")).unwrap();
    let mut bytes = b.build().unwrap().to_bytes().unwrap().to_vec();
    bytes.truncate(61);
    bytes.extend_from_slice(raw);
    let len = (bytes.len() - 12) as i32;
    bytes[8..12].copy_from_slice(&len.to_be_bytes());
    bytes[22] = c.code();
    fix_crc(&mut bytes);
    Bytes::from(bytes)
}

#[test]
fn reading_record_sets_stays_within_the_bound() {
    // The bound is RECORDS_K * (n + CAP) + RECORDS_C: checked as an excess over RECORDS_K * n.
    let mut worst = Worst::default();
    let records_c = RECORDS_K * CAP + RECORDS_C;
    for (what, set) in record_sets() {
        let requested = read_records(&set);
        eprintln!("  {what}: {} bytes -> {requested} requested", set.len());
        worst.record(RECORDS_K, set.len(), requested, || what.clone());
        // Corruptions: huge header counts, lengths and record counts at every position of
        // small sets (CRCs are recomputed so that the corruption reaches the parser).
        if set.len() < 4096 {
            for at in (0..set.len()).step_by(if set.len() > 600 { 7 } else { 1 }) {
                for patch in [&[0x7f, 0xff, 0xff, 0xff][..], &[0xff, 0xff, 0xff, 0xff, 0x0f], &[0x00]] {
                    let mut b = set.to_vec();
                    let end = (at + patch.len()).min(b.len());
                    b[at..end].copy_from_slice(&patch[..end - at]);
                    fix_crc(&mut b);
                    let b = Bytes::from(b);
                    worst.record(RECORDS_K, b.len(), read_records(&b), || format!("{what} patched at {at}"));
                }
            }
        }
        for cut in [1, 17, 61, set.len() / 2, set.len().saturating_sub(1)] {
            let b = set.slice(..cut.min(set.len()));
            worst.record(RECORDS_K, b.len(), read_records(&b), || format!("{what} cut at {cut}"));
        }
    }
    worst.check(records_c, "record sets");
}

/// Recomputes the CRC of a magic 2 batch at the front of `b` (if it is one).
fn fix_crc(b: &mut [u8]) {
    if b.len() >= 61 && b[16] == 2 {
        let crc = crc32c_of(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
    }
}

/// CRC-32C (Castagnoli), bitwise: enough for a test.
fn crc32c_of(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x82F6_3B78 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn the_fuzz_corpus_and_every_fuzzer_finding_stay_within_the_bound() {
    // The fuzz targets' checks assert the bounds themselves when given the counter.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut n = 0;
    for (target, check) in checks::TARGETS {
        for dir in [root.join("fuzz/seeds").join(target), root.join("tests/fuzz-regressions").join(target)] {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries {
                let data = std::fs::read(e.unwrap().path()).unwrap();
                check(&data, counting::requested);
                n += 1;
            }
        }
    }
    assert!(n >= 300);
}

#[test]
fn one_budget_per_record_set_bounds_what_a_cap_per_batch_cannot() {
    // 128 zstd batches of about 80 bytes, each decompressing to half the cap (into a buffer of
    // exactly that size: the frames declare it).
    let mut b = BatchBuilder::new(Compression::Zstd);
    b.push(&NewRecord::new(0, Bytes::from(vec![0u8; CAP / 2]))).unwrap();
    let one = b.build().unwrap().to_bytes().unwrap();
    let set = Bytes::from((0..128).flat_map(|_| one.iter().copied()).collect::<Vec<u8>>());
    let bound = RECORDS_K * (set.len() + CAP) + RECORDS_C;

    // A cap per batch: every batch decompresses, 64 times the cap in all.
    let per_batch = counting::requested_by(|| {
        for batch in Records::from_bytes(set.clone()).batches() {
            assert_eq!(batch.unwrap().records_capped(CAP).unwrap().count(), 1);
        }
    });
    assert!(per_batch > bound, "{per_batch} bytes for a cap per batch, bound {bound}");

    // One budget: the first batch fits; every later one fails, without decompressing.
    let mut outcomes = Vec::new();
    let budgeted = counting::requested_by(|| {
        let mut budget = DecompressionBudget::new(CAP);
        for batch in Records::from_bytes(set.clone()).batches() {
            outcomes.push(batch.unwrap().records_budgeted(&mut budget).map(Iterator::count));
        }
    });
    eprintln!("{} bytes: {per_batch} requested with a cap per batch, {budgeted} with one budget", set.len());
    assert!(budgeted <= bound);
    assert_eq!(outcomes.len(), 128);
    assert_eq!(outcomes[0].as_ref().ok(), Some(&1));
    for o in &outcomes[1..] {
        assert!(matches!(o.as_ref().map_err(|e| e.kind()), Err(DecodeErrorKind::DecompressedTooLarge { .. })), "{o:?}");
    }
}
