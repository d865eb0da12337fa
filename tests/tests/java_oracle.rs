//! Apache Kafka's own Java classes as the ground truth (`tests/java-oracle/`, one JVM for this
//! test binary, see `support/java_oracle.rs`).
//!
//! - Messages, every API, version and direction of the pin, the request and response headers
//!   and the data schemas: our values (samples and arbitrary ones, unknown tags included) →
//!   our bytes → Kafka's `*Data.read` at that version reads all of them → its `write` gives the
//!   same bytes back, and its reading agrees with ours field by field (its JsonConverter's tree
//!   against ours, `support/debug_tree.rs`); and the other way, random instances built from
//!   Kafka's own per-version schemas → Kafka's bytes → we decode → we re-encode the same bytes,
//!   and agree field by field.
//! - Record sets: Kafka's `MemoryRecordsBuilder` in every codec and magic, our `BatchBuilder`
//!   and legacy messages read by Kafka's `MemoryRecords` (`ensureValid()`), record for record.
//! - Error codes: every constant of Kafka's `Errors` enum.
//! - Leniency (`leniency` tests below): each place where the crate and Kafka disagreed, with
//!   the exact bytes, Kafka's verdict asked of Java and ours asserted to match.

#[path = "support/debug_tree.rs"]
mod debug_tree;
#[path = "support/java_oracle.rs"]
mod java;

use std::sync::atomic::{AtomicUsize, Ordering};

use arbitrary::Unstructured;
use kafka_wire::{
    aborted_txn, consumer_protocol_assignment, consumer_protocol_subscription, control_record_type_schema,
    default_principal_data, end_txn_marker, kraft_version_record, leader_change_message, request_header,
    response_header, snapshot_footer_record, snapshot_header_record, voters_record, AnyRequest, AnyResponse, ApiKey,
    Bytes, BytesMut, DecodeError, EncodeError, ErrorCode, Message,
};

use java::{java_read, oracle, unwire};

/// Arbitrary values per (kind, version), besides the sample.
const ARBITRARY_PER_VERSION: u64 = 12;
/// Java-built random values per (kind, version).
const JAVA_RANDOM_PER_VERSION: u64 = 16;

static CASES: AtomicUsize = AtomicUsize::new(0);

/// xorshift64*: deterministic input bytes for `arbitrary`.
fn input(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

type Decode = dyn Fn(i16, &mut Bytes) -> Result<Value, DecodeError>;

/// One kind of message as the oracle names it, with our codec for it.
struct Kind {
    /// `request:3`, `header:response`, `data:VotersRecord`, ...
    java: String,
    min: i16,
    max: i16,
    /// A deterministic value of a version: the sample for case 0, arbitrary ones after.
    value: Box<dyn Fn(i16, u64) -> Option<Value>>,
    /// Decodes a whole body of a version.
    decode: Box<Decode>,
}

/// A decoded or built value: its encoding and its `Debug` text.
struct Value {
    encoded: Result<Bytes, EncodeError>,
    debug: String,
}

fn value_of<T: std::fmt::Debug>(
    v: &T,
    len: usize,
    encode: impl Fn(&T, &mut BytesMut) -> Result<(), EncodeError>,
) -> Value {
    let mut buf = BytesMut::with_capacity(len);
    let encoded = encode(v, &mut buf).map(|()| buf.freeze());
    Value { encoded, debug: format!("{v:?}") }
}

fn arbitrary_input(java: &str, v: i16, case: u64) -> Vec<u8> {
    let h = java.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    input(h ^ (v as u64) << 40 ^ case, 48 + 80 * case as usize)
}

macro_rules! api_kinds {
    ($kinds:ident, $any:ident, $dir:literal) => {
        for &api in ApiKey::ALL {
            let range = api.schema_versions();
            let java = format!("{}:{}", $dir, api.code());
            let name = java.clone();
            $kinds.push(Kind {
                java,
                min: range.min,
                max: range.max,
                value: Box::new(move |v, case| {
                    let m = if case == 0 {
                        $any::sample(api, v)?
                    } else {
                        let data = arbitrary_input(&name, v, case);
                        $any::arbitrary_of(api, v, &mut Unstructured::new(&data)).ok()??
                    };
                    Some(value_of(&m, m.encoded_len(), |m, b| m.encode(b)))
                }),
                decode: Box::new(move |v, b| {
                    let m = $any::decode(api.code(), v, b)?;
                    Ok(value_of(&m, m.encoded_len(), |m, b| m.encode(b)))
                }),
            });
        }
    };
}

macro_rules! standalone_kinds {
    ($kinds:ident, $($java:literal => $m:ident),* $(,)?) => {$({
        let java = $java.to_owned();
        let name = java.clone();
        $kinds.push(Kind {
            java,
            min: $m::AnyVersion::MIN_VERSION,
            max: $m::AnyVersion::MAX_VERSION,
            value: Box::new(move |v, case| {
                let m = if case == 0 {
                    $m::AnyVersion::sample(v)?
                } else {
                    let data = arbitrary_input(&name, v, case);
                    $m::AnyVersion::arbitrary_of(v, &mut Unstructured::new(&data)).ok()??
                };
                Some(value_of(&m, m.encoded_len(), |m, b| m.encode(b)))
            }),
            decode: Box::new(|v, b| {
                let m = $m::AnyVersion::decode(v, b)?;
                Ok(value_of(&m, m.encoded_len(), |m, b| m.encode(b)))
            }),
        });
    })*};
}

/// Every message kind of the pin: 91 APIs × 2 directions, 2 headers, 11 data schemas.
fn kinds() -> Vec<Kind> {
    let mut kinds = Vec::new();
    api_kinds!(kinds, AnyRequest, "request");
    api_kinds!(kinds, AnyResponse, "response");
    standalone_kinds!(
        kinds,
        "header:request" => request_header,
        "header:response" => response_header,
        "data:AbortedTxn" => aborted_txn,
        "data:ControlRecordTypeSchema" => control_record_type_schema,
        "data:EndTxnMarker" => end_txn_marker,
        "data:ConsumerProtocolAssignment" => consumer_protocol_assignment,
        "data:ConsumerProtocolSubscription" => consumer_protocol_subscription,
        "data:DefaultPrincipalData" => default_principal_data,
        "data:KRaftVersionRecord" => kraft_version_record,
        "data:LeaderChangeMessage" => leader_change_message,
        "data:SnapshotFooterRecord" => snapshot_footer_record,
        "data:SnapshotHeaderRecord" => snapshot_header_record,
        "data:VotersRecord" => voters_record,
    );
    kinds
}

#[test]
fn java_knows_exactly_our_kinds_and_versions() {
    let answer = {
        let mut o = oracle();
        eprintln!("Java oracle: classpath and javac {:?}, JVM start to first answer {:?}", o.setup_cost, o.start_cost);
        o.ask("versions").unwrap()
    };
    // ApiMessageType still lists the four inter-broker APIs Kafka 4.0 removed, with no version
    // (highest -1); the crate does not generate them either.
    let mut java: Vec<String> =
        answer.split(';').filter(|s| !s.is_empty() && !s.ends_with(":-1")).map(str::to_owned).collect();
    let mut ours: Vec<String> = kinds().iter().map(|k| format!("{}:{}:{}", k.java, k.min, k.max)).collect();
    java.sort();
    ours.sort();
    assert_eq!(ours, java);
    let triples: i32 = kinds().iter().map(|k| (k.max - k.min + 1) as i32).sum();
    // 618 (API, version, direction) triples, RequestHeader v1-2, ResponseHeader v0-1 and 18
    // versions of the 11 data schemas.
    assert_eq!(triples, 618 + 2 + 2 + 18);
}

/// Our value → our bytes → Java reads them all and writes the same bytes, and its JSON agrees
/// with our `Debug` tree.
#[test]
fn java_reads_our_messages() {
    let mut cases = 0;
    let mut failures = Vec::new();
    for kind in kinds() {
        for v in kind.min..=kind.max {
            for case in 0..=ARBITRARY_PER_VERSION {
                let Some(value) = (kind.value)(v, case) else { continue };
                // Only strings longer than an int16 length can fail to encode; none here.
                let bytes = value.encoded.unwrap_or_else(|e| panic!("{} v{v} case {case}: {e}", kind.java));
                cases += 1;
                let what = format!("{} v{v} case {case}", kind.java);
                let read = match java_read(&kind.java, v, &bytes) {
                    Ok(r) => r,
                    Err(e) => {
                        failures.push(format!("{what}: Java cannot read our bytes {}: {e}", hex::encode(&bytes)));
                        continue;
                    }
                };
                if read.left != 0 {
                    failures.push(format!("{what}: Java left {} of our bytes unread", read.left));
                }
                match &read.written {
                    Ok(w) if w[..] == bytes[..] => {}
                    Ok(w) => failures.push(format!(
                        "{what}: Java wrote back other bytes\n ours {}\n java {}",
                        hex::encode(&bytes),
                        hex::encode(w)
                    )),
                    Err(e) => failures.push(format!("{what}: Java read but could not write back: {e}")),
                }
                if let Err(e) = debug_tree::agree(&read.json, &value.debug) {
                    failures.push(format!("{what}: fields differ: {e}\n java {}\n ours {}", read.json, value.debug));
                }
            }
        }
    }
    CASES.fetch_add(cases, Ordering::Relaxed);
    eprintln!(
        "java_reads_our_messages: {cases} cases; {} field values compared so far",
        debug_tree::COMPARED.load(Ordering::Relaxed)
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases disagree:\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
}

/// Java builds a random value from Kafka's schema of the version and writes it → we decode →
/// we re-encode the same bytes, and agree with Java's JSON field by field.
#[test]
fn we_read_java_messages() {
    let mut cases = 0;
    let mut failures = Vec::new();
    for kind in kinds() {
        for v in kind.min..=kind.max {
            for seed in 0..JAVA_RANDOM_PER_VERSION {
                let what = format!("{} v{v} seed {seed}", kind.java);
                let answer = oracle()
                    .ask(&format!("random {} {v} {seed}", kind.java))
                    .unwrap_or_else(|e| panic!("{what}: Java could not build a value: {e}"));
                let (hex_bytes, json) = answer.split_once(' ').unwrap();
                let bytes = Bytes::from(unwire(hex_bytes));
                cases += 1;
                let mut input = bytes.clone();
                let value = match (kind.decode)(v, &mut input) {
                    Ok(value) => value,
                    Err(e) => {
                        failures.push(format!("{what}: we cannot read Java's bytes {hex_bytes}: {e}"));
                        continue;
                    }
                };
                if !input.is_empty() {
                    failures.push(format!("{what}: we left {} of Java's bytes unread", input.len()));
                }
                match &value.encoded {
                    Ok(ours) if ours == &bytes => {}
                    Ok(ours) => failures.push(format!(
                        "{what}: we wrote back other bytes\n java {hex_bytes}\n ours {}",
                        hex::encode(ours)
                    )),
                    Err(e) => failures.push(format!("{what}: we read but could not write back: {e}")),
                }
                if let Err(e) = debug_tree::agree(json, &value.debug) {
                    failures.push(format!("{what}: fields differ: {e}\n java {json}\n ours {}", value.debug));
                }
            }
        }
    }
    CASES.fetch_add(cases, Ordering::Relaxed);
    eprintln!(
        "we_read_java_messages: {cases} cases; {} field values compared so far",
        debug_tree::COMPARED.load(Ordering::Relaxed)
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases disagree:\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
}

#[test]
fn error_codes_match_kafkas_errors_enum() {
    let answer = oracle().ask("errors").unwrap();
    let mut java = Vec::new();
    for entry in answer.split(';').filter(|s| !s.is_empty()) {
        let mut p = entry.split(':');
        let code: i16 = p.next().unwrap().parse().unwrap();
        let name = p.next().unwrap().to_owned();
        let retriable = p.next().unwrap() == "1";
        java.push((code, name, retriable));
    }
    let ours: Vec<(i16, String, bool)> =
        ErrorCode::ALL.iter().map(|e| (e.code(), e.name().unwrap().to_owned(), e.is_retriable())).collect();
    assert_eq!(ours, java);
    // Kafka 4.4.0's Errors enum.
    assert_eq!(java.len(), 138);
}

// ---- record sets -------------------------------------------------------------------------------

use kafka_wire::records::{
    Batch, BatchBuilder, Compression, ControlRecord, LegacyMessage, NewRecord, Records, TimestampType,
};

const CODECS: [Compression; 5] =
    [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd];

fn dump_bytes(b: Option<&[u8]>) -> String {
    match b {
        None => "-".into(),
        Some(b) => format!(".{}", hex::encode(b)),
    }
}

/// Our reading of a record set, in the form of the oracle's `records` dump: per batch `B magic
/// base last codec tstype maxts txn control pid epoch seq leaderEpoch count |`, then per
/// record `R offset timestamp key value headers |`.
fn our_dump(bytes: &[u8]) -> Result<String, String> {
    let mut out = Vec::new();
    for batch in Records::from_bytes(Bytes::copy_from_slice(bytes)).batches() {
        let batch = batch.map_err(|e| e.to_string())?;
        let records: Vec<_> =
            batch.records().map_err(|e| e.to_string())?.collect::<Result<_, _>>().map_err(|e| e.to_string())?;
        let head = match &batch {
            Batch::V2(b) => {
                let tt = match b.timestamp_type() {
                    TimestampType::CreateTime => 0,
                    TimestampType::LogAppendTime => 1,
                };
                format!(
                    "B 2 {} {} {} {tt} {} {} {} {} {} {} {} {}",
                    b.base_offset,
                    b.last_offset(),
                    b.compression().code(),
                    b.max_timestamp,
                    b.is_transactional() as u8,
                    b.is_control() as u8,
                    b.producer_id,
                    b.producer_epoch,
                    b.base_sequence,
                    b.partition_leader_epoch,
                    records.len()
                )
            }
            Batch::Legacy(m) => {
                let (tt, ts) = match (m.magic, m.timestamp_type()) {
                    (0, _) => (-1, -1),
                    (_, TimestampType::CreateTime) => (0, m.timestamp),
                    (_, TimestampType::LogAppendTime) => (1, m.timestamp),
                };
                let base = records.first().map_or(m.offset, |r| r.offset);
                format!(
                    "B {} {base} {} {} {tt} {ts} 0 0 -1 -1 -1 -1 {}",
                    m.magic,
                    batch.last_offset(),
                    m.compression().code(),
                    records.len()
                )
            }
        };
        out.push(head);
        for r in &records {
            let headers = if r.headers.is_empty() {
                "-".to_owned()
            } else {
                r.headers
                    .iter()
                    .map(|h| format!("{}={}", hex::encode(h.key.as_bytes()), dump_bytes(h.value.as_deref())))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            out.push(format!(
                "R {} {} {} {} {headers}",
                r.offset,
                r.timestamp,
                dump_bytes(r.key.as_deref()),
                dump_bytes(r.value.as_deref())
            ));
        }
    }
    Ok(out.join(" | "))
}

/// Java's reading of a record set (every batch `ensureValid()`ed, every record read).
fn java_dump(bytes: &[u8]) -> Result<String, String> {
    oracle().ask(&format!("records {}", java::wire(bytes)))
}

fn codec_name(c: Compression) -> &'static str {
    c.name()
}

#[test]
fn we_read_record_sets_kafka_builds() {
    let mut cases = 0;
    let mut failures = Vec::new();
    let mut seed = 0;
    for magic in [0, 1, 2] {
        for codec in CODECS {
            for log_append in [false, true] {
                // zstd needs magic 2 (KIP-110); magic 0 has no timestamps.
                if (magic == 0 && log_append) || (magic < 2 && codec == Compression::Zstd) {
                    continue;
                }
                for (pid, epoch, seq, txn) in [(-1i64, -1i16, -1, false), (4000, 3, 17, false), (4001, 0, 0, true)] {
                    if magic < 2 && pid != -1 {
                        continue;
                    }
                    for n in [1, 4, 60] {
                        seed += 1;
                        let base = [0i64, 5, 1 << 33][seed % 3];
                        let tt = if log_append { "log" } else { "create" };
                        let question = format!(
                            "build {magic} {} {tt} {base} {pid} {epoch} {seq} {} {n} {seed}",
                            codec_name(codec),
                            txn as u8
                        );
                        let bytes =
                            java::unwire(&oracle().ask(&question).unwrap_or_else(|e| panic!("{question}: {e}")));
                        cases += 1;
                        let java = java_dump(&bytes)
                            .unwrap_or_else(|e| panic!("{question}: Java cannot read its own batch: {e}"));
                        match our_dump(&bytes) {
                            Ok(ours) if ours == java => {}
                            Ok(ours) => failures.push(format!("{question}:\n java {java}\n ours {ours}")),
                            Err(e) => failures.push(format!("{question}: we cannot read it: {e}")),
                        }
                    }
                }
            }
        }
    }
    for (kind, coordinator_epoch, offset) in [("commit", 5, 0), ("abort", 0, 77), ("commit", -1, 1i64 << 40)] {
        let question = format!("control {kind} 4000 2 {coordinator_epoch} {offset}");
        let bytes = java::unwire(&oracle().ask(&question).unwrap());
        cases += 1;
        let java = java_dump(&bytes).unwrap();
        assert_eq!(our_dump(&bytes).unwrap(), java, "{question}");
        // And the control record itself.
        let batch = match Records::from_bytes(Bytes::from(bytes)).batches().next().unwrap().unwrap() {
            Batch::V2(b) => b,
            Batch::Legacy(_) => unreachable!(),
        };
        let record = batch.records().unwrap().next().unwrap().unwrap();
        let control = ControlRecord::parse(&record).unwrap();
        let expected = match kind {
            "commit" => ControlRecord::Commit { coordinator_epoch },
            _ => ControlRecord::Abort { coordinator_epoch },
        };
        assert_eq!(control, expected);
    }
    eprintln!("we_read_record_sets_kafka_builds: {cases} cases");
    assert!(failures.is_empty(), "{} of {cases} record sets disagree:\n{}", failures.len(), failures.join("\n"));
}

/// Records with keys, null keys and values, empty values, headers with null values and
/// non-ASCII keys, and values large enough to span compression blocks.
fn our_records(n: usize, seed: u64) -> Vec<NewRecord> {
    let data = input(seed, 16 * n + 64);
    (0..n)
        .map(|i| {
            let b = data[i % data.len()];
            let value: Option<Bytes> = match b % 5 {
                0 => None,
                1 => Some(Bytes::new()),
                2 => Some(Bytes::from(vec![b'x'; 3000 + i])),
                _ => Some(Bytes::copy_from_slice(&data[i..i + (b as usize % 16)])),
            };
            let mut r = NewRecord {
                timestamp: 1_700_000_000_000 + (i as i64 * 7) - (b as i64 % 5),
                key: None,
                value,
                headers: Vec::new(),
            };
            if !b.is_multiple_of(3) {
                r.key = Some(Bytes::copy_from_slice(&data[i + 1..i + 1 + (b as usize % 7)]));
            }
            for h in 0..(b % 3) {
                r = r.with_header(
                    ["trace", "grüße", ""][h as usize],
                    if h == 1 { None } else { Some(Bytes::from_static(b"v")) },
                );
            }
            r
        })
        .collect()
}

#[test]
fn kafka_reads_record_sets_we_build() {
    let mut cases = 0;
    let mut failures = Vec::new();
    let mut seed = 100;
    let check = |what: String, bytes: Bytes, failures: &mut Vec<String>| {
        let ours = our_dump(&bytes).unwrap_or_else(|e| panic!("{what}: we cannot read our own set: {e}"));
        match java_dump(&bytes) {
            Ok(java) if java == ours => {}
            Ok(java) => failures.push(format!("{what}:\n java {java}\n ours {ours}")),
            Err(e) => failures.push(format!("{what}: Java rejects it: {e}")),
        }
    };
    for codec in CODECS {
        for (pid, epoch, seq, txn) in [(-1i64, -1i16, -1, false), (4000, 3, 17, false), (4001, 0, 0, true)] {
            for log_append in [false, true] {
                for n in [1, 3, 50] {
                    seed += 1;
                    let mut b = BatchBuilder::new(codec)
                        .base_offset([0, 9, 1 << 35][seed as usize % 3])
                        .partition_leader_epoch([-1, 0, 12][seed as usize % 3])
                        .producer(pid, epoch, seq)
                        .transactional(txn);
                    if log_append {
                        b = b.timestamp_type(TimestampType::LogAppendTime);
                    }
                    for r in our_records(n, seed) {
                        b.push(&r).unwrap();
                    }
                    let mut batch = b.build().unwrap();
                    if log_append {
                        batch.max_timestamp = 1_750_000_000_000;
                    }
                    cases += 1;
                    check(
                        format!("BatchBuilder {codec} pid {pid} txn {txn} log_append {log_append} n {n}"),
                        batch.to_bytes().unwrap(),
                        &mut failures,
                    );
                }
            }
        }
        // Legacy message sets: uncompressed entries and compressed wrappers, magic 0 and 1,
        // written as Kafka's builder writes them (wrapper offset = the last inner offset).
        for magic in [0i8, 1] {
            if codec == Compression::Zstd {
                // zstd needs magic 2 (KIP-110), in Kafka's builder and ours.
                continue;
            }
            let inner: Vec<LegacyMessage> = (0..5)
                .map(|i| {
                    let ts = if magic == 0 { -1 } else { 1_700_000_000_000 + i };
                    let key = (i % 2 == 0).then(|| Bytes::from(format!("k{i}")));
                    let value = (i != 3).then(|| Bytes::from(vec![b'a' + i as u8; 10 + 100 * i as usize]));
                    LegacyMessage::new(
                        magic,
                        if magic == 1 && codec != Compression::None { i } else { 40 + i },
                        ts,
                        key,
                        value,
                    )
                })
                .collect();
            let set = if codec == Compression::None {
                Records::from_batches(&inner.into_iter().map(Batch::Legacy).collect::<Vec<_>>()).unwrap()
            } else {
                let mut wrapper = LegacyMessage::compressed(magic, codec, &inner).unwrap();
                wrapper.offset = 44;
                Records::from_batches(&[Batch::Legacy(wrapper)]).unwrap()
            };
            cases += 1;
            check(format!("legacy magic {magic} {codec}"), set.into_bytes(), &mut failures);
        }
    }
    // Control batches.
    for control in [ControlRecord::Commit { coordinator_epoch: 3 }, ControlRecord::Abort { coordinator_epoch: 0 }] {
        let mut b = BatchBuilder::new(Compression::None)
            .producer(4000, 1, -1)
            .transactional(true)
            .control(true)
            .base_offset(31);
        b.push(&control.to_record(1_700_000_000_000)).unwrap();
        cases += 1;
        check(format!("control {control:?}"), b.build().unwrap().to_bytes().unwrap(), &mut failures);
    }
    eprintln!("kafka_reads_record_sets_we_build: {cases} cases");
    assert!(failures.is_empty(), "{} of {cases} record sets disagree:\n{}", failures.len(), failures.join("\n"));
}

// ---- leniency: where the crate and Kafka disagreed, with Kafka's verdict asked each time ------

/// Hex with spaces and comments allowed (`#` to the end of a line).
fn unhex(s: &str) -> Vec<u8> {
    let digits: String =
        s.lines().map(|l| l.split('#').next().unwrap()).collect::<String>().split_whitespace().collect();
    hex::decode(digits).unwrap()
}

fn encode_of<M: kafka_wire::Message>(m: &M) -> Vec<u8> {
    m.to_bytes().unwrap().to_vec()
}

/// Replaces the last byte (an empty top-level tagged-field section) of an encoding by `tags`.
fn with_tags(encoding: &[u8], tags: &str) -> Vec<u8> {
    assert_eq!(encoding.last(), Some(&0));
    let mut v = encoding[..encoding.len() - 1].to_vec();
    v.extend(unhex(tags));
    v
}

#[test]
fn tagged_fields_in_any_order_or_repeated_are_read_as_kafka_reads_them() {
    use kafka_wire::{api_versions, fetch, metadata};
    // Response header v1, unknown tags 5 then 2; then 2 twice.
    for (bytes, kept) in [
        ("00000007 02 05 01aa 02 01bb", vec![(2, vec![0xbb]), (5, vec![0xaa])]),
        ("00000007 02 02 01aa 02 01bb", vec![(2, vec![0xbb])]),
    ] {
        let bytes = unhex(bytes);
        let java = java_read("header:response", 1, &bytes).expect("Kafka reads it");
        assert_eq!(java.left, 0);
        // Kafka keeps the unknown tags in arrival order and then cannot write them back.
        assert!(java.written.as_ref().unwrap_err().contains("Invalid raw tag field list"), "{:?}", java.written);
        let ours = response_header::v1::ResponseHeader::from_bytes(Bytes::from(bytes)).unwrap();
        let got: Vec<(u32, Vec<u8>)> = ours.unknown_tagged_fields.iter().map(|f| (f.tag, f.data.to_vec())).collect();
        assert_eq!(got, kept);
    }

    // A Metadata v12 response and an ApiVersions v3 request with top-level tags 5, 2.
    let body = with_tags(&encode_of(&metadata::v12::Response::default()), "02 05 01aa 02 01bb");
    let java = java_read("response:3", 12, &body).expect("Kafka reads it");
    assert_eq!(java.left, 0);
    let ours = metadata::v12::Response::from_bytes(Bytes::from(body)).unwrap();
    assert_eq!(ours.unknown_tagged_fields.len(), 2);
    let body = with_tags(&encode_of(&api_versions::v3::Request::default()), "02 05 01aa 02 01bb");
    let java = java_read("request:18", 3, &body).expect("Kafka reads it");
    assert_eq!(java.left, 0);
    let ours = api_versions::v3::Request::from_bytes(Bytes::from(body)).unwrap();
    assert_eq!(ours.unknown_tagged_fields.len(), 2);

    // Known tags: Fetch v15's ReplicaState (tag 1) before ClusterId (tag 0), then ClusterId
    // twice ("a" then "b": the later wins).
    let fetch = encode_of(&fetch::v15::Request::default());
    let replica_state = "01 0d 00000003 0000000000000004 00"; // replica id 3, epoch 4, no tags
    for (tags, cluster) in
        [(format!("02 {replica_state} 00 02 0261"), "a"), ("02 00 02 0261 00 02 0262".to_owned(), "b")]
    {
        let body = with_tags(&fetch, &tags);
        let java = java_read("request:1", 15, &body).expect("Kafka reads it");
        assert_eq!(java.left, 0);
        assert!(java.json.contains(&format!("\"clusterId\":\"{cluster}\"")), "{}", java.json);
        let ours = fetch::v15::Request::from_bytes(Bytes::from(body)).unwrap();
        assert_eq!(ours.cluster_id.as_deref(), Some(cluster));
        // Written back in ascending order, as Kafka writes them.
        assert_eq!(java.written.unwrap(), encode_of(&ours));
    }
}

#[test]
fn tagged_field_counts_kafka_refuses() {
    // More than 10,000 tagged fields (each an empty unknown tag): Kafka refuses the section.
    let mut many = unhex("00000007 914e"); // 10001 as a varint
    for tag in 0..10_001u32 {
        let mut t = Vec::new();
        let mut v = tag + 100;
        while v >= 0x80 {
            t.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        t.push(v as u8);
        many.extend(t);
        many.push(0);
    }
    let java = java_read("header:response", 1, &many).unwrap_err();
    assert!(java.contains("tagged fields"), "{java}");
    assert!(response_header::v1::ResponseHeader::from_bytes(Bytes::from(many.clone())).is_err());
    // Exactly 10,000 are read.
    let mut ok = unhex("00000007 904e");
    ok.extend_from_slice(&many[6..many.len() - 3]);
    let java = java_read("header:response", 1, &ok).unwrap();
    assert_eq!(java.left, 0);
    assert_eq!(
        response_header::v1::ResponseHeader::from_bytes(Bytes::from(ok)).unwrap().unknown_tagged_fields.len(),
        10_000
    );
    // A count larger than the bytes left.
    let short = unhex("00000007 05 0100");
    assert!(java_read("header:response", 1, &short).is_err());
    assert!(response_header::v1::ResponseHeader::from_bytes(Bytes::from(short)).is_err());
}

/// Kafka ignores the size a known tagged field declares and reads the value from the stream:
/// a wrong size makes it read what follows as the next field. We refuse the section
/// (`TaggedFieldSize`) instead: Java is lenient here in a way that misreads, not in a way a
/// writer relies on (no writer puts a wrong size on a field it knows).
#[test]
fn known_tagged_field_with_a_wrong_size() {
    use kafka_wire::fetch;
    let fetch = encode_of(&fetch::v12::Request::default());
    // ClusterId "a" (2 bytes) declared as 3 bytes, count 1: Kafka reads "a" and leaves one
    // byte of the field unread after the message.
    let body = with_tags(&fetch, "01 00 03 0261 00");
    let java = java_read("request:1", 12, &body).expect("Kafka reads it");
    assert_eq!(java.left, 1);
    let err = fetch::v12::Request::from_bytes(Bytes::from(body)).unwrap_err();
    assert!(
        matches!(err.kind(), kafka_wire::DecodeErrorKind::TaggedFieldSize { tag: 0, declared: 3, used: 2 }),
        "{err}"
    );
}

#[test]
fn strings_as_kafka_reads_them() {
    use kafka_wire::{api_versions, metadata};
    // ClientSoftwareName of ApiVersions v3: not UTF-8. Kafka decodes it with U+FFFD for each
    // malformed sequence (new String(bytes, UTF_8)); so do we, with the same replacements.
    for bad in ["ff", "c328", "e282", "f09f98", "eda080", "c0af", "61ff62fe63", "f4908080", "e0808080"] {
        let raw = unhex(bad);
        let mut body = vec![raw.len() as u8 + 1];
        body.extend(&raw);
        body.extend(unhex("01 00"));
        let java = java_read("request:18", 3, &body).unwrap_or_else(|e| panic!("{bad}: {e}"));
        let java_json: serde_json::Value = serde_json::from_str(&java.json).unwrap();
        let ours = api_versions::v3::Request::from_bytes(Bytes::from(body)).unwrap();
        assert_eq!(&*ours.client_software_name, java_json["clientSoftwareName"].as_str().unwrap(), "{bad}");
        assert_eq!(java.written.unwrap(), encode_of(&ours), "{bad}");
    }
    // Malformed UTF-8 of every shape: random strings over the bytes that matter to a decoder,
    // decoded by the JDK and by us (a protocol string field and a record header key).
    let alphabet = [
        0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf1, 0xf4,
        0xf5, 0xf8, 0xff,
    ];
    let noise = input(77, 4 * 3000);
    for case in 0..3000 {
        let n = 1 + noise[4 * case] as usize % 6;
        let raw: Vec<u8> =
            (0..n).map(|i| alphabet[noise[4 * case + i % 4] as usize * (i + 1) % alphabet.len()]).collect();
        let java = java::unwire(&oracle().ask(&format!("utf8 {}", hex::encode(&raw))).unwrap());
        let mut body = vec![raw.len() as u8 + 1];
        body.extend(&raw);
        body.extend(unhex("01 00"));
        let ours = api_versions::v3::Request::from_bytes(Bytes::from(body)).unwrap();
        assert_eq!(ours.client_software_name.as_bytes(), &java[..], "{raw:02x?}");
    }

    // A compact string longer than 32,767 bytes: Kafka refuses it (strings keep their int16
    // bound in flexible versions), and so do we, reading and writing.
    let long = "x".repeat(32_768);
    let mut body = vec![0x81, 0x80, 0x02]; // 32769 = length + 1
    body.extend(long.as_bytes());
    body.extend(unhex("01 00"));
    assert!(java_read("request:18", 3, &body).unwrap_err().contains("string field"));
    assert!(api_versions::v3::Request::from_bytes(Bytes::from(body)).is_err());
    let too_long = api_versions::v3::Request { client_software_name: long.into(), ..Default::default() };
    assert!(too_long.to_bytes().is_err());
    let longest = metadata::v12::Request {
        topics: Some(vec![metadata::v12::MetadataRequestTopic {
            name: Some("y".repeat(32_767).into()),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let bytes = encode_of(&longest);
    assert_eq!(java_read("request:3", 12, &bytes).unwrap().written.unwrap(), bytes);
}

#[test]
fn bytes_after_a_request_or_response_body_are_ignored_as_kafka_ignores_them() {
    use kafka_wire::{metadata, VersionedRequest, VersionedResponse};
    // librdkafka's "all topics" Metadata v12 request, as it sends it: three bytes after the
    // body. Kafka's broker parses it and answers; so does RequestFrame::decode.
    let frame = unhex(
        "0003 000c 00000001 0007 7264 6b61 666b 61 00 # header v2: Metadata v12, id 1, client rdkafka
         00 01 00 00                                  # topics null, auto-create, no authorized ops, no tags
         000000                                       # 3 bytes more",
    );
    let java = oracle().ask(&format!("request-frame {}", hex::encode(&frame))).unwrap();
    assert_eq!(java, "3 3 12 1");
    let ours = kafka_wire::RequestFrame::<kafka_wire::AnyRequest>::decode(Bytes::from(frame)).unwrap();
    let AnyRequest::Metadata(metadata::AnyRequest::V12(request)) = &ours.request else { panic!("{ours:?}") };
    assert_eq!(request.topics, None);

    // A response frame with bytes after its body: Kafka's client parses it.
    let answer = metadata::v12::Response::default().serialize(9).unwrap();
    let mut frame = answer[4..].to_vec();
    frame.extend(unhex("00 ff 17"));
    let java = oracle().ask(&format!("response-frame 3 12 9 {}", hex::encode(&frame))).unwrap();
    assert_eq!(java, "3");
    let parse = metadata::v12::Request::default().response_deserializer();
    let (header, response) = parse(Bytes::from(frame)).unwrap();
    assert_eq!((header.correlation_id, response), (9, metadata::v12::Response::default()));
}

#[test]
fn respond_refuses_a_response_of_another_api_or_version() {
    use kafka_wire::{api_versions, metadata, VersionedRequest};
    let frame = metadata::v12::Request::default().serialize(5, Some("c")).unwrap();
    let request = kafka_wire::RequestFrame::<kafka_wire::AnyRequest>::decode(frame.slice(4..)).unwrap();
    for wrong in [
        AnyResponse::from(api_versions::v3::Response::default()),
        AnyResponse::from(metadata::v11::Response::default()),
    ] {
        let err = request.respond(&wrong).unwrap_err();
        assert!(matches!(err.kind(), kafka_wire::EncodeErrorKind::ResponseMismatch { request: (3, 12), .. }), "{err}");
    }
    assert!(request.respond(&AnyResponse::from(metadata::v12::Response::default())).is_ok());
}

/// A magic 2 batch (one, with its 61-byte header) with its records part replaced: the batch
/// length and CRC-32C are written anew, the record count kept.
fn with_records_part(batch: &[u8], records: &[u8]) -> Vec<u8> {
    let mut out = batch[..61].to_vec();
    out.extend_from_slice(records);
    let len = (out.len() - 12) as i32;
    out[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c::crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

/// Both verdicts on a record set: Java's dump or error, ours.
fn verdicts(bytes: &[u8]) -> (Result<String, String>, Result<String, String>) {
    (java_dump(bytes), our_dump(bytes))
}

/// Kafka's batch of `n` records in `codec` (seeded), and its records part.
fn kafka_batch(codec: &str, n: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let bytes = java::unwire(&oracle().ask(&format!("build 2 {codec} create 0 -1 -1 -1 0 {n} {seed}")).unwrap());
    let records = bytes[61..].to_vec();
    (bytes, records)
}

#[test]
fn compressed_payloads_with_bytes_after_them() {
    let gzip_header = "1f8b 0800 0000 0000 00ff";
    for codec in ["gzip", "snappy", "lz4", "zstd"] {
        let (batch, payload) = kafka_batch(codec, 4, 3);
        let expected = java_dump(&batch).unwrap();
        let mut cases: Vec<(&str, Vec<u8>)> = vec![
            ("8 zero bytes", vec![0; 8]),
            ("100 zero bytes", vec![0; 100]),
            ("garbage", b"trailing garbage".to_vec()),
            ("the payload again", payload.clone()),
        ];
        if codec == "gzip" {
            // JDK 17's GZIPInputStream: trailer plus what follows up to 26 buffered bytes is not
            // looked at; beyond, a valid header starts a member, which here is broken.
            cases.push(("gzip header and 8 bytes", [unhex(gzip_header), vec![0xff; 8]].concat()));
            cases.push(("gzip header and 9 bytes", [unhex(gzip_header), vec![0xff; 9]].concat()));
        }
        for (what, tail) in cases {
            let bytes = with_records_part(&batch, &[&payload[..], &tail[..]].concat());
            let (java, ours) = verdicts(&bytes);
            match (&java, &ours) {
                (Ok(j), Ok(o)) => {
                    assert_eq!(o, j, "{codec} + {what}");
                    assert_eq!(j, &expected, "{codec} + {what}");
                }
                (Err(_), Err(_)) => {}
                _ => panic!("{codec} + {what}: Java {java:?}, ours {ours:?}"),
            }
            eprintln!("{codec} + {what}: Kafka {}", if java.is_ok() { "reads it" } else { "refuses it" });
        }
    }
}

#[test]
fn lz4_frames_as_kafka_reads_them() {
    let (batch, frame) = kafka_batch("lz4", 30, 9);
    let expected = java_dump(&batch).unwrap();
    let flg = frame[4];
    let with_flg = |f: &[u8], flg: u8| {
        let mut f = f.to_vec();
        f[4] = flg;
        let hc_at = 6 + if flg & 0x08 != 0 { 8 } else { 0 };
        f[hc_at] = (twox(&f[4..hc_at]) >> 8) as u8;
        f
    };
    let no_end_mark = frame[..frame.len() - 4].to_vec();
    assert_eq!(&frame[frame.len() - 4..], &[0, 0, 0, 0], "Kafka writes no content checksum");
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("data after the end mark", [&frame[..], b"after the end"].concat(), true),
        ("a second frame", [&frame[..], &frame[..]].concat(), true),
        ("no end mark", no_end_mark.clone(), false),
        ("dependent blocks", with_flg(&frame, flg & !0x20), false),
        ("content checksum flagged, not there", with_flg(&frame, flg | 0x04), false),
        ("content checksum flagged, wrong", [&with_flg(&frame, flg | 0x04)[..], &[1, 2, 3, 4]].concat(), true),
        ("reserved bit", with_flg(&frame, flg | 0x02), false),
        (
            "header checksum wrong",
            {
                let mut f = frame.clone();
                f[6] ^= 1;
                f
            },
            false,
        ),
    ];
    for (what, f, kafka_reads) in cases {
        let bytes = with_records_part(&batch, &f);
        let (java, ours) = verdicts(&bytes);
        assert_eq!(java.is_ok(), kafka_reads, "{what}: Java {java:?}");
        assert_eq!(ours.is_ok(), kafka_reads, "{what}: ours {ours:?}");
        if let (Ok(j), Ok(o)) = (&java, &ours) {
            assert_eq!(o, j, "{what}");
            assert_eq!(j, &expected, "{what}");
        }
    }
    // Records split over two concatenated frames: Kafka reads the first frame only, so the
    // records of the second are missing: an error for both.
    let (batch70, _) = kafka_batch("none", 70, 11);
    let raw = &batch70[61..];
    let cut = raw.len() / 2;
    let split = [
        &kafka_wire::records::compress(Compression::Lz4, &raw[..cut]).unwrap()[..],
        &kafka_wire::records::compress(Compression::Lz4, &raw[cut..]).unwrap()[..],
    ]
    .concat();
    let mut lz4_batch = batch70.clone();
    lz4_batch[22] |= 3; // attributes: lz4
    let bytes = with_records_part(&lz4_batch, &split);
    let (java, ours) = verdicts(&bytes);
    assert!(java.is_err() && ours.is_err(), "Java {java:?}, ours {ours:?}");
}

fn twox(bytes: &[u8]) -> u32 {
    // xxHash32 with seed 0, for the lz4 header checksum.
    const P1: u32 = 0x9E37_79B1;
    const P2: u32 = 0x85EB_CA77;
    const P3: u32 = 0xC2B2_AE3D;
    const P4: u32 = 0x27D4_EB2F;
    const P5: u32 = 0x1656_67B1;
    assert!(bytes.len() < 16);
    let mut h = P5.wrapping_add(bytes.len() as u32);
    let mut chunks = bytes.chunks_exact(4);
    for c in &mut chunks {
        h = h.wrapping_add(u32::from_le_bytes(c.try_into().unwrap()).wrapping_mul(P3)).rotate_left(17).wrapping_mul(P4);
    }
    for &b in chunks.remainder() {
        h = h.wrapping_add((b as u32).wrapping_mul(P5)).rotate_left(11).wrapping_mul(P1);
    }
    h ^= h >> 15;
    h = h.wrapping_mul(P2);
    h ^= h >> 13;
    h = h.wrapping_mul(P3);
    h ^ (h >> 16)
}

#[test]
fn header_keys_that_are_not_utf8_are_read_as_kafka_reads_them() {
    // Three records; the second has a header key "ab" made not UTF-8 in place.
    let mut b = BatchBuilder::new(Compression::None);
    b.push(&NewRecord::new(1, "one")).unwrap();
    b.push(&NewRecord::new(2, "two").with_header("ab", Some(Bytes::from_static(b"v")))).unwrap();
    b.push(&NewRecord::new(3, "three").with_header("ok", None)).unwrap();
    let good = b.build().unwrap().to_bytes().unwrap().to_vec();
    let at = good.windows(2).position(|w| w == b"ab").unwrap();
    for bad in [[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0]] {
        let mut records = good[61..].to_vec();
        records[at - 61..at - 61 + 2].copy_from_slice(&bad);
        let bytes = with_records_part(&good, &records);
        let (java, ours) = verdicts(&bytes);
        let java = java.unwrap_or_else(|e| panic!("{bad:02x?}: Kafka refuses it: {e}"));
        assert_eq!(ours.unwrap(), java, "{bad:02x?}");
        assert!(java.contains("R 2 3 - .7468726565"), "the third record is read: {java}");
        // The borrowed records give the same key.
        let batch = match Records::from_bytes(Bytes::from(bytes)).batches().next().unwrap().unwrap() {
            Batch::V2(b) => b,
            Batch::Legacy(_) => unreachable!(),
        };
        let records = batch.records().unwrap();
        let keys: Vec<String> = records
            .borrowed()
            .flat_map(|r| r.unwrap().headers().map(|h| h.key.into_owned()).collect::<Vec<_>>())
            .collect();
        let owned: Vec<String> =
            batch.records().unwrap().flat_map(|r| r.unwrap().headers).map(|h| h.key.to_string()).collect();
        assert_eq!(keys, owned);
    }
}

#[test]
fn legacy_wrappers_and_their_offsets() {
    // A magic 1 gzip wrapper over three messages with relative offsets 0, 1, 2, the wrapper at
    // the absolute offset of the last (as Kafka writes it: 10), and at 0 (as some producers
    // write it before the broker assigns offsets).
    let inner: Vec<LegacyMessage> = (0..3)
        .map(|i| LegacyMessage::new(1, i, 1_700_000_000_000 + i, None, Some(Bytes::from(format!("m{i}")))))
        .collect();
    for wrapper_offset in [10, 0] {
        let mut wrapper = LegacyMessage::compressed(1, Compression::Gzip, &inner).unwrap();
        wrapper.offset = wrapper_offset;
        let bytes = Records::from_batches(&[Batch::Legacy(wrapper)]).unwrap().into_bytes();
        let (java, ours) = verdicts(&bytes);
        let java = java.unwrap();
        eprintln!("wrapper offset {wrapper_offset}: Kafka reads {java}");
        assert_eq!(ours.unwrap(), java, "wrapper offset {wrapper_offset}");
        // Kafka's AbstractLegacyRecordBatch: the records are 8-10 under wrapper 10 and 0-2
        // under wrapper 0 (relative offsets kept), and lastOffset() is the wrapper's offset in
        // both, 0 included; Batch::last_offset() says the same.
        let first = if wrapper_offset == 0 { 0 } else { 8 };
        assert!(java.starts_with(&format!("B 1 {first} {wrapper_offset} ")), "{java}");
        assert!(java.contains(&format!("R {} ", first + 2)), "{java}");
    }
}

#[test]
fn batches_with_no_records_are_not_read_further() {
    // DefaultRecordBatch.iterator(): a count of 0 (or less) yields no record without reading
    // what follows the count, compressed or not.
    let (batch, _) = kafka_batch("none", 1, 5);
    let with_count = |count: i32, attributes: u8, records: &[u8]| {
        let mut b = batch.clone();
        b[22] = attributes;
        b[57..61].copy_from_slice(&count.to_be_bytes());
        with_records_part(&b, records)
    };
    for (what, bytes) in [
        ("count 0, uncompressed, 5 bytes after", with_count(0, 0, b"extra")),
        ("count 0, gzip, not gzip", with_count(0, 1, b"not gzip")),
        ("count 0, lz4, nothing", with_count(0, 3, b"")),
    ] {
        let (java, ours) = verdicts(&bytes);
        let java = java.unwrap_or_else(|e| panic!("{what}: Kafka refuses it: {e}"));
        assert!(java.ends_with(" 0"), "{what}: {java}");
        assert_eq!(ours.unwrap_or_else(|e| panic!("{what}: we refuse it: {e}")), java, "{what}");
    }
    // A negative count: Kafka's iterator refuses it ("Found invalid record count"), and so do we.
    let (java, ours) = verdicts(&with_count(-5, 0, &batch[61..]));
    assert!(java.unwrap_err().contains("invalid record count -5"));
    assert!(ours.is_err());
}

#[test]
fn overlong_varints_are_truncated_as_kafka_truncates_them() {
    // ByteUtils.readUnsignedVarint keeps 32 bits: a fifth byte of 0x10 adds nothing, so
    // `80 80 80 80 10` is 0 (here the tagged-field count of a response header); a fifth byte
    // with the continuation bit is refused.
    for (bytes, kafka_reads) in [("00000007 8080808010", true), ("00000007 808080808f00", false)] {
        let bytes = unhex(bytes);
        let java = java_read("header:response", 1, &bytes);
        assert_eq!(java.is_ok(), kafka_reads, "{java:?}");
        let ours = response_header::v1::ResponseHeader::from_bytes(Bytes::from(bytes));
        assert_eq!(ours.is_ok(), kafka_reads, "{ours:?}");
        if let (Ok(java), Ok(ours)) = (java, ours) {
            assert_eq!(java.written.unwrap(), encode_of(&ours));
        }
    }
    // In a record: the offset delta `81 80 80 80 10` (zig-zag 1: -1 after dropping the bits
    // above 32) and a timestamp delta of ten bytes whose last carries more than one bit.
    let mut b = BatchBuilder::new(Compression::None).base_offset(100);
    b.push(&NewRecord::new(1_700_000_000_000, "v")).unwrap();
    let good = b.build().unwrap().to_bytes().unwrap().to_vec();
    // The record: length, attributes, timestamp delta 0, offset delta 0, key -1, value "v", 0 headers.
    assert_eq!(&good[61..], &unhex("0e 00 00 00 01 02 76 00")[..]);
    for (what, record) in [
        ("offset delta of five bytes", "16 00 00 8180808010 01 02 76 00"),
        ("timestamp delta of ten bytes", "20 00 80808080808080808002 00 01 02 76 00"),
    ] {
        let bytes = with_records_part(&good, &unhex(record));
        let (java, ours) = verdicts(&bytes);
        let java = java.unwrap_or_else(|e| panic!("{what}: Kafka refuses it: {e}"));
        assert_eq!(ours.unwrap_or_else(|e| panic!("{what}: we refuse it: {e}")), java, "{what}");
    }
}

#[test]
fn every_negative_length_is_null_as_in_kafka() {
    use kafka_wire::{api_versions, produce};
    // Produce v3 (classic): TransactionalId with length -2, acks 1, timeout 1000, no topics.
    let body = unhex("fffe 0001 000003e8 00000000");
    let java = java_read("request:0", 3, &body).expect("Kafka reads it");
    assert!(java.json.contains("\"transactionalId\":null"), "{}", java.json);
    let ours = produce::v3::Request::from_bytes(Bytes::from(body)).unwrap();
    assert_eq!(ours.transactional_id, None);
    assert_eq!(java.written.unwrap(), encode_of(&ours));
    // Produce v9 (compact): TransactionalId length varint 2^31 + 1, minus one in int arithmetic:
    // negative, so null.
    let body = unhex("8180808008 0001 000003e8 01 00");
    let java = java_read("request:0", 9, &body).expect("Kafka reads it");
    assert!(java.json.contains("\"transactionalId\":null"), "{}", java.json);
    let ours = produce::v9::Request::from_bytes(Bytes::from(body)).unwrap();
    assert_eq!(ours.transactional_id, None);
    // A string that is not nullable (ApiVersions v3 ClientSoftwareName) with such a length:
    // refused by both.
    let body = unhex("8180808008 01 00");
    assert!(java_read("request:18", 3, &body).unwrap_err().contains("non-nullable"));
    assert!(api_versions::v3::Request::from_bytes(Bytes::from(body)).is_err());

    // A record whose key size is -5 and whose header value size is -3: nulls
    // (DefaultRecord.readFrom); a legacy message with key size -7: null (LegacyRecord.key).
    let mut b = BatchBuilder::new(Compression::None);
    b.push(&NewRecord::new(1_700_000_000_000, "v")).unwrap();
    let good = b.build().unwrap().to_bytes().unwrap().to_vec();
    // length 10: attributes, timestamp delta 0, offset delta 0, key -5, value "v", 1 header:
    // key "h", value -3.
    let bytes = with_records_part(&good, &unhex("14 00 00 00 09 02 76 02 02 68 05"));
    let (java, ours) = verdicts(&bytes);
    let java = java.unwrap_or_else(|e| panic!("Kafka refuses it: {e}"));
    assert!(java.ends_with("R 0 1700000000000 - .76 68=-"), "{java}");
    assert_eq!(ours.unwrap(), java);
    let mut legacy =
        Records::from_batches(&[Batch::Legacy(LegacyMessage::new(1, 3, 5, None, Some(Bytes::from_static(b"v"))))])
            .unwrap()
            .into_bytes()
            .to_vec();
    // offset 8, size 4, crc 4, magic 1, attributes 1, timestamp 8: the key size at 26.
    assert_eq!(&legacy[26..30], &(-1i32).to_be_bytes());
    legacy[26..30].copy_from_slice(&(-7i32).to_be_bytes());
    let crc = crc32fast::hash(&legacy[16..]);
    legacy[12..16].copy_from_slice(&crc.to_be_bytes());
    let (java, ours) = verdicts(&legacy);
    let java = java.unwrap_or_else(|e| panic!("Kafka refuses the legacy message: {e}"));
    assert_eq!(ours.unwrap(), java);
}

/// Mutated encodings (a byte changed, the end cut, bytes appended) of every kind and version:
/// Kafka's `*Data.read` and our decoder must agree on whether they read, on how many bytes they
/// leave, and on what they read (Kafka's re-encoding against ours). The one known difference
/// — a known tagged field whose declared size is wrong (see `known_tagged_field_with_a_wrong_size`)
/// — is counted, not failed; the count is printed.
#[test]
fn mutated_messages_get_kafkas_verdict() {
    const PER_VERSION: u64 = 32;
    let (mut cases, mut tagged_size, mut failures) = (0, 0, Vec::new());
    for kind in kinds() {
        for v in kind.min..=kind.max {
            for m in 0..PER_VERSION {
                // The sample, then arbitrary values.
                let Some(value) = (kind.value)(v, m % 4) else { continue };
                let original = value.encoded.unwrap();
                let noise = input(((v as u64) << 32) ^ m ^ (kind.java.len() as u64 * 7919), 8);
                let mut bytes = original.to_vec();
                let at = u64::from_le_bytes(noise.clone().try_into().unwrap()) as usize % bytes.len().max(1);
                match m % 4 {
                    0 | 1 if !bytes.is_empty() => bytes[at] = noise[m as usize % 8],
                    2 => bytes.truncate(at),
                    _ => bytes.extend_from_slice(&noise[..1 + m as usize % 3]),
                }
                cases += 1;
                let what = format!("{} v{v} mutation {m}: {}", kind.java, hex::encode(&bytes));
                let java = java_read(&kind.java, v, &bytes);
                let mut input_bytes = Bytes::from(bytes.clone());
                let ours = (kind.decode)(v, &mut input_bytes);
                match (&java, &ours) {
                    (Ok(j), Ok(o)) => {
                        if j.left != input_bytes.len() {
                            failures.push(format!(
                                "{what}: Kafka leaves {} bytes, we leave {}",
                                j.left,
                                input_bytes.len()
                            ));
                        } else if let (Ok(jw), Ok(ow)) = (&j.written, &o.encoded) {
                            if jw[..] != ow[..] {
                                failures.push(format!(
                                    "{what}: read differently\n java {}\n ours {}",
                                    hex::encode(jw),
                                    hex::encode(ow)
                                ));
                            }
                        }
                    }
                    (Err(_), Err(_)) => {}
                    // The declared size of a known tag that Kafka ignores: the value takes more or
                    // fewer bytes (TaggedFieldSize), or the size runs past the end (the bytes of
                    // a field are taken before its tag is looked at). Unknown tags need their size
                    // in Kafka too, so with an unknown tag both refuse.
                    (Ok(_), Err(e))
                        if matches!(
                            e.kind(),
                            kafka_wire::DecodeErrorKind::TaggedFieldSize { .. }
                                | kafka_wire::DecodeErrorKind::UnexpectedEof { .. }
                        ) =>
                    {
                        tagged_size += 1
                    }
                    (Ok(j), Err(e)) => {
                        failures.push(format!("{what}: Kafka reads it (left {}), we refuse it: {e}", j.left))
                    }
                    (Err(e), Ok(_)) => failures.push(format!("{what}: we read it, Kafka refuses it: {e}")),
                }
            }
        }
    }
    CASES.fetch_add(cases, Ordering::Relaxed);
    eprintln!("mutated_messages_get_kafkas_verdict: {cases} cases, {tagged_size} with a known tag's wrong size");
    assert!(
        failures.is_empty(),
        "{} of {cases} mutations disagree:\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
}

/// Mutated record batches (a byte of the batch header or of the records changed, the CRC written
/// anew so that the change reaches the parsers): Kafka's `MemoryRecords` and we agree on whether the
/// batch reads and on every record read.
#[test]
fn mutated_record_batches_get_kafkas_verdict() {
    let (mut cases, mut read, mut failures) = (0, 0, Vec::new());
    for (i, codec) in ["none", "none", "none", "gzip", "snappy", "lz4", "zstd"].iter().enumerate() {
        for seed in 0..3u64 {
            let (batch, records) = kafka_batch(codec, 3 + seed as usize, 40 + seed);
            let noise = input(i as u64 * 100 + seed, 3 * 64);
            for m in 0..64 {
                // Every other one in the batch header after the CRC (attributes, last offset
                // delta, timestamps, producer fields, record count) or the leader epoch.
                let mut head = batch[..61].to_vec();
                let mut mutated = records.clone();
                let pick = noise[3 * m] as usize * 256 + noise[3 * m + 1] as usize;
                let at = if m % 2 == 0 {
                    let at = [12, 13, 14, 15].into_iter().chain(21..61).nth(pick % 44).unwrap();
                    head[at] = noise[3 * m + 2];
                    at
                } else {
                    let at = pick % mutated.len();
                    mutated[at] = noise[3 * m + 2];
                    61 + at
                };
                let bytes = with_records_part(&head, &mutated);
                cases += 1;
                match verdicts(&bytes) {
                    (Ok(j), Ok(o)) if j == o => read += 1,
                    (Err(_), Err(_)) => {}
                    (java, ours) => failures.push(format!(
                        "{codec} seed {seed}, byte {at} of the batch set to {:02x}:\n java {java:?}\n ours {ours:?}",
                        noise[3 * m + 2]
                    )),
                }
            }
        }
    }
    eprintln!("mutated_record_batches_get_kafkas_verdict: {cases} cases, {read} read alike by both");
    assert!(
        failures.is_empty(),
        "{} of {cases} disagree:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}
