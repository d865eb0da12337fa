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

#[path = "support/java_oracle.rs"]
mod java;
#[path = "support/debug_tree.rs"]
mod debug_tree;

use std::sync::atomic::{AtomicUsize, Ordering};

use arbitrary::Unstructured;
use kafka_wire::{
    aborted_txn, consumer_protocol_assignment, consumer_protocol_subscription, control_record_type_schema,
    default_principal_data, end_txn_marker, kraft_version_record, leader_change_message, request_header,
    response_header, snapshot_footer_record, snapshot_header_record, voters_record, AnyRequest, AnyResponse, ApiKey,
    Bytes, BytesMut, DecodeError, EncodeError, ErrorCode,
};

use java::{java_read, oracle, unwire};

/// Arbitrary values per (kind, version), besides the sample.
const ARBITRARY_PER_VERSION: u64 = 6;
/// Java-built random values per (kind, version).
const JAVA_RANDOM_PER_VERSION: u64 = 8;

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

/// One kind of message as the oracle names it, with our codec for it.
struct Kind {
    /// `request:3`, `header:response`, `data:VotersRecord`, ...
    java: String,
    min: i16,
    max: i16,
    /// A deterministic value of a version: the sample for case 0, arbitrary ones after.
    value: Box<dyn Fn(i16, u64) -> Option<Value>>,
    /// Decodes a whole body of a version.
    decode: Box<dyn Fn(i16, &mut Bytes) -> Result<Value, DecodeError>>,
}

/// A decoded or built value: its encoding and its `Debug` text.
struct Value {
    encoded: Result<Bytes, EncodeError>,
    debug: String,
}

fn value_of<T: std::fmt::Debug>(v: &T, len: usize, encode: impl Fn(&T, &mut BytesMut) -> Result<(), EncodeError>) -> Value {
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
        eprintln!("Java oracle: JVM start to first answer {:?}", o.start_cost);
        o.ask("versions").unwrap()
    };
    // ApiMessageType still lists the four inter-broker APIs Kafka 4.0 removed, with no version
    // (highest -1); the crate does not generate them either.
    let mut java: Vec<String> = answer
        .split(';')
        .filter(|s| !s.is_empty() && !s.ends_with(":-1"))
        .map(str::to_owned)
        .collect();
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
    eprintln!("java_reads_our_messages: {cases} cases");
    assert!(failures.is_empty(), "{} of {cases} cases disagree:\n{}", failures.len(), failures[..failures.len().min(40)].join("\n"));
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
    eprintln!("we_read_java_messages: {cases} cases");
    assert!(failures.is_empty(), "{} of {cases} cases disagree:\n{}", failures.len(), failures[..failures.len().min(40)].join("\n"));
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
    let ours: Vec<(i16, String, bool)> = ErrorCode::ALL
        .iter()
        .map(|e| (e.code(), e.name().unwrap().to_owned(), e.is_retriable()))
        .collect();
    assert_eq!(ours, java);
    // Kafka 4.4.0's Errors enum.
    assert_eq!(java.len(), 138);
}

// ---- record sets -------------------------------------------------------------------------------

use kafka_wire::records::{Batch, BatchBuilder, Compression, ControlRecord, LegacyMessage, NewRecord, Records, TimestampType};

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
        let records: Vec<_> = batch.records().map_err(|e| e.to_string())?.collect::<Result<_, _>>().map_err(|e| e.to_string())?;
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
                        let bytes = java::unwire(&oracle().ask(&question).unwrap_or_else(|e| panic!("{question}: {e}")));
                        cases += 1;
                        let java = java_dump(&bytes).unwrap_or_else(|e| panic!("{question}: Java cannot read its own batch: {e}"));
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
            let mut r = NewRecord { timestamp: 1_700_000_000_000 + (i as i64 * 7) - (b as i64 % 5), key: None, value, headers: Vec::new() };
            if b % 3 != 0 {
                r.key = Some(Bytes::copy_from_slice(&data[i + 1..i + 1 + (b as usize % 7)]));
            }
            for h in 0..(b % 3) {
                r = r.with_header(["trace", "grüße", ""][h as usize], if h == 1 { None } else { Some(Bytes::from_static(b"v")) });
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
                    check(format!("BatchBuilder {codec} pid {pid} txn {txn} log_append {log_append} n {n}"), batch.to_bytes().unwrap(), &mut failures);
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
                    LegacyMessage::new(magic, if magic == 1 && codec != Compression::None { i } else { 40 + i }, ts, key, value)
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
        let mut b = BatchBuilder::new(Compression::None).producer(4000, 1, -1).transactional(true).control(true).base_offset(31);
        b.push(&control.to_record(1_700_000_000_000)).unwrap();
        cases += 1;
        check(format!("control {control:?}"), b.build().unwrap().to_bytes().unwrap(), &mut failures);
    }
    eprintln!("kafka_reads_record_sets_we_build: {cases} cases");
    assert!(failures.is_empty(), "{} of {cases} record sets disagree:\n{}", failures.len(), failures.join("\n"));
}
