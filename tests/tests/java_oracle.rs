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
    let answer = oracle().ask("versions").unwrap();
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
