//! Cross-implementation conformance against the `kafka-protocol` crate (0.18), which is
//! generated independently from Kafka's schemas (a newer Kafka than our pin).
//!
//! For every API and version that both know, requests and responses:
//! - **ours → theirs**: varied instances of our types (the sample plus arbitrary ones, with
//!   unknown tagged fields) are encoded by us, decoded by `kafka-protocol` at that version
//!   (consuming every byte) and re-encoded by it to the identical bytes;
//! - **theirs → ours**: varied instances of *their* types are encoded by them and decoded by
//!   us, and we re-encode the identical bytes. `kafka-protocol` has no random or sample
//!   constructor, so its instances come from decoding random, valid bodies written by a third,
//!   schema-interpreting writer (`support/schema_bytes.rs`: random values of every field,
//!   nulls, tagged fields set or left at their default, unknown tags); its own encoding of
//!   those instances is what we decode. Both implementations must also reproduce the writer's
//!   bytes.
//! - request and response headers the same way, and the header version of every API version.
//!
//! Every disagreement must be in [`KNOWN`], with its cause; the exact bytes of each are pinned
//! by a test below that says which side is wrong and why.

#[path = "support/schema_bytes.rs"]
#[allow(dead_code)]
mod schema_bytes;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use arbitrary::Unstructured;
use kafka_protocol::messages::{
    ApiKey as KpApiKey, RequestHeader as KpRequestHeader, RequestKind, ResponseHeader as KpResponseHeader, ResponseKind,
};
use kafka_protocol::protocol::{Decodable, Encodable};
use kafka_wire::{AnyRequest, AnyResponse, ApiKey, Bytes, BytesMut, Message};
use schema_bytes::{random_body, Rng, Schemas};
use xtask::schema::MessageKind;

/// Arbitrary instances of our types per (API, version, direction), besides the sample.
const OURS_CASES: u64 = 12;
/// Random bodies decoded into instances of theirs per (API, version, direction).
const THEIRS_CASES: u64 = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Dir {
    Request,
    Response,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Way {
    /// Our instance, our bytes, their decode and re-encode.
    OursToTheirs,
    /// Their instance (decoded from the schema writer's bytes), their bytes, our decode and re-encode.
    TheirsToOurs,
}

/// The primary set's message schemas (`cargo xtask schemas fetch`).
fn schemas_dir() -> PathBuf {
    xtask::sets::require(None).join("message")
}

/// xorshift64*: deterministic input bytes for `arbitrary`.
fn input(seed: u64, len: usize) -> Vec<u8> {
    Rng::new(seed).bytes(len)
}

/// The (API, version range) pairs both implementations know.
fn shared_versions() -> Vec<(ApiKey, KpApiKey, i16, i16)> {
    let mut out = Vec::new();
    for &api in ApiKey::ALL {
        let Ok(kp) = KpApiKey::try_from(api.code()) else { continue };
        let (ours, theirs) = (api.schema_versions(), kp.valid_versions());
        let (min, max) = (ours.min.max(theirs.min), ours.max.min(theirs.max));
        if min <= max {
            out.push((api, kp, min, max));
        }
    }
    out
}

fn theirs_round_trip(api: KpApiKey, v: i16, dir: Dir, bytes: &Bytes) -> Result<Bytes, String> {
    let mut b = bytes.clone();
    let mut out = BytesMut::new();
    match dir {
        Dir::Request => {
            let m = RequestKind::decode(api, &mut b, v).map_err(|e| format!("their decode: {e:#}"))?;
            m.encode(&mut out, v).map_err(|e| format!("their encode: {e:#}"))?;
        }
        Dir::Response => {
            let m = ResponseKind::decode(api, &mut b, v).map_err(|e| format!("their decode: {e:#}"))?;
            m.encode(&mut out, v).map_err(|e| format!("their encode: {e:#}"))?;
        }
    }
    if !b.is_empty() {
        return Err(format!("their decode left {} of {} bytes", b.len(), bytes.len()));
    }
    Ok(out.freeze())
}

fn ours_round_trip(api: ApiKey, v: i16, dir: Dir, bytes: &Bytes) -> Result<Bytes, String> {
    let mut b = bytes.clone();
    let mut out = BytesMut::new();
    match dir {
        Dir::Request => {
            let m = AnyRequest::decode(api.code(), v, &mut b).map_err(|e| format!("our decode: {e}"))?;
            m.encode(&mut out).map_err(|e| format!("our encode: {e}"))?;
        }
        Dir::Response => {
            let m = AnyResponse::decode(api.code(), v, &mut b).map_err(|e| format!("our decode: {e}"))?;
            m.encode(&mut out).map_err(|e| format!("our encode: {e}"))?;
        }
    }
    if !b.is_empty() {
        return Err(format!("our decode left {} of {} bytes", b.len(), bytes.len()));
    }
    Ok(out.freeze())
}

/// Our encoding of the sample and of arbitrary instances.
fn our_instances(api: ApiKey, v: i16, dir: Dir) -> Vec<Bytes> {
    let mut out = Vec::new();
    let encode = |r: Result<(), kafka_wire::EncodeError>, buf: BytesMut| r.ok().map(|()| buf.freeze());
    let sample = match dir {
        Dir::Request => AnyRequest::sample(api, v).map(|m| {
            let mut buf = BytesMut::new();
            encode(m.encode(&mut buf), buf)
        }),
        Dir::Response => AnyResponse::sample(api, v).map(|m| {
            let mut buf = BytesMut::new();
            encode(m.encode(&mut buf), buf)
        }),
    };
    out.extend(sample.flatten());
    for case in 0..OURS_CASES {
        let data =
            input((api.code() as u64) << 40 | (v as u64) << 24 | (dir as u64) << 16 | case, 48 + 80 * case as usize);
        let mut u = Unstructured::new(&data);
        let mut buf = BytesMut::new();
        let r = match dir {
            Dir::Request => AnyRequest::arbitrary_of(api, v, &mut u).unwrap().unwrap().encode(&mut buf),
            Dir::Response => AnyResponse::arbitrary_of(api, v, &mut u).unwrap().unwrap().encode(&mut buf),
        };
        if r.is_ok() {
            out.push(buf.freeze());
        }
    }
    out
}

/// One disagreement: where, which way, what happened, and the bytes.
#[derive(Debug, Clone)]
struct Finding {
    api: ApiKey,
    version: i16,
    dir: Dir,
    way: Way,
    what: String,
    bytes: Bytes,
}

/// The cases both sides agree on, and every disagreement.
struct Outcome {
    agreed: BTreeSet<(i16, i16, Dir, Way)>,
    cases: usize,
    findings: Vec<Finding>,
}

fn check_all() -> Outcome {
    let schemas = Schemas::load(&schemas_dir());
    let mut agreed = BTreeSet::new();
    let mut findings = Vec::new();
    let mut cases = 0;
    for (api, kp, min, max) in shared_versions() {
        for v in min..=max {
            for dir in [Dir::Request, Dir::Response] {
                let mut ok = true;
                // Ours → theirs.
                for bytes in our_instances(api, v, dir) {
                    cases += 1;
                    match theirs_round_trip(kp, v, dir, &bytes) {
                        Ok(again) if again == bytes => {}
                        Ok(again) => {
                            ok = false;
                            findings.push(Finding {
                                api,
                                version: v,
                                dir,
                                way: Way::OursToTheirs,
                                what: format!("their re-encoding differs: {}", hex::encode(&again)),
                                bytes,
                            });
                        }
                        Err(what) => {
                            ok = false;
                            findings.push(Finding { api, version: v, dir, way: Way::OursToTheirs, what, bytes });
                        }
                    }
                }
                if ok {
                    agreed.insert((api.code(), v, dir, Way::OursToTheirs));
                }
                // Theirs → ours.
                let kind = match dir {
                    Dir::Request => MessageKind::Request,
                    Dir::Response => MessageKind::Response,
                };
                let spec = schemas.get(api.code(), kind);
                let mut ok = true;
                for case in 0..THEIRS_CASES {
                    cases += 1;
                    let mut rng = Rng::new((api.code() as u64) << 40 | (v as u64) << 24 | (dir as u64) << 16 | case);
                    let written = Bytes::from(random_body(spec, v, &mut rng));
                    let mut fail = |what: String, bytes: &Bytes| {
                        ok = false;
                        findings.push(Finding {
                            api,
                            version: v,
                            dir,
                            way: Way::TheirsToOurs,
                            what,
                            bytes: bytes.clone(),
                        });
                    };
                    let theirs = match theirs_round_trip(kp, v, dir, &written) {
                        Ok(theirs) => theirs,
                        Err(what) => {
                            fail(what, &written);
                            continue;
                        }
                    };
                    match ours_round_trip(api, v, dir, &theirs) {
                        Ok(ours) if ours == theirs => {}
                        Ok(ours) => fail(format!("our re-encoding differs: {}", hex::encode(&ours)), &theirs),
                        Err(what) => fail(what, &theirs),
                    }
                    if theirs != written {
                        fail(
                            format!("their encoding differs from the schema writer's: {}", hex::encode(&written)),
                            &theirs,
                        );
                    }
                }
                if ok {
                    agreed.insert((api.code(), v, dir, Way::TheirsToOurs));
                }
            }
        }
    }
    Outcome { agreed, cases, findings }
}

/// Every known disagreement: (API key, version, direction, way) → cause. Each is pinned with
/// its bytes by a test below.
const KNOWN: &[(i16, i16, Dir, Way, &str)] = &[
    (8, 10, Dir::Request, Way::OursToTheirs, THEIR_UNDECODABLE_VERSION),
    (8, 10, Dir::Request, Way::TheirsToOurs, THEIR_UNDECODABLE_VERSION),
    (9, 10, Dir::Request, Way::OursToTheirs, THEIR_UNDECODABLE_VERSION),
    (9, 10, Dir::Request, Way::TheirsToOurs, THEIR_UNDECODABLE_VERSION),
    (22, 6, Dir::Request, Way::OursToTheirs, THEIR_UNDECODABLE_VERSION),
    (22, 6, Dir::Request, Way::TheirsToOurs, THEIR_UNDECODABLE_VERSION),
];

/// kafka-protocol 0.18's `ApiKey::valid_versions` lists OffsetCommit v10, OffsetFetch v10 and
/// InitProducerId v6, but its request types refuse to decode or encode them ("specified version
/// not supported by this message type"): in the schemas it was generated from, those versions
/// were still `latestVersionUnstable`. A disagreement of theirs with themselves, not of bytes;
/// see `their_api_keys_advertise_request_versions_their_types_refuse`.
const THEIR_UNDECODABLE_VERSION: &str = "kafka-protocol advertises a request version its type cannot decode";

#[test]
fn both_implementations_agree_on_every_shared_api_version_and_direction() {
    let outcome = check_all();
    let mut by_triple: BTreeMap<(i16, i16, Dir, Way), Vec<&Finding>> = BTreeMap::new();
    for f in &outcome.findings {
        by_triple.entry((f.api.code(), f.version, f.dir, f.way)).or_default().push(f);
    }
    let mut report = String::new();
    for ((_, _, _, _), fs) in &by_triple {
        let f = fs[0];
        report += &format!(
            "{} v{} {:?} {:?}: {} of them; first: {}\n    bytes: {}\n",
            f.api,
            f.version,
            f.dir,
            f.way,
            fs.len(),
            f.what,
            hex::encode(&f.bytes)
        );
    }
    let triples: BTreeSet<(i16, i16, Dir)> = outcome.agreed.iter().map(|&(a, v, d, _)| (a, v, d)).collect();
    let both_ways = outcome
        .agreed
        .iter()
        .filter(|&&(a, v, d, w)| w == Way::OursToTheirs && outcome.agreed.contains(&(a, v, d, Way::TheirsToOurs)))
        .count();
    eprintln!(
        "conformance: {} cases; (API, version, direction) triples agreeing both ways: {both_ways}; \
         agreeing at least one way: {}; disagreeing (triple, way): {}\n{report}",
        outcome.cases,
        triples.len(),
        by_triple.len()
    );
    // What was not compared: versions only one side knows.
    let shared: usize = shared_versions().iter().map(|&(_, _, min, max)| (max - min + 1) as usize).sum();
    let ours_total: usize =
        ApiKey::ALL.iter().map(|a| (a.schema_versions().max - a.schema_versions().min + 1) as usize).sum();
    let theirs_total: usize =
        KpApiKey::iter().map(|k| (k.valid_versions().max - k.valid_versions().min + 1) as usize).sum();
    let mut only = Vec::new();
    for &api in ApiKey::ALL {
        let ours = api.schema_versions();
        match KpApiKey::try_from(api.code()) {
            Err(_) => only.push(format!("{api} v{}-{} ours only", ours.min, ours.max)),
            Ok(kp) => {
                let theirs = kp.valid_versions();
                if ours.min < theirs.min {
                    only.push(format!("{api} v{}-{} ours only", ours.min, (theirs.min - 1).min(ours.max)));
                }
                if ours.max > theirs.max {
                    only.push(format!("{api} v{}-{} ours only", (theirs.max + 1).max(ours.min), ours.max));
                }
                if theirs.max > ours.max {
                    only.push(format!("{api} v{}-{} theirs only", (ours.max + 1).max(theirs.min), theirs.max));
                }
            }
        }
    }
    for kp in KpApiKey::iter() {
        if ApiKey::ALL.iter().all(|a| a.code() != kp as i16) {
            let theirs = kp.valid_versions();
            only.push(format!("{kp:?} (key {}) v{}-{} theirs only", kp as i16, theirs.min, theirs.max));
        }
    }
    eprintln!("not compared (one side only): {}", only.join("; "));
    eprintln!(
        "shared (API, version) pairs: {shared} of our {ours_total} and their {theirs_total}; triples: {}; \
         schema writer: {} known tagged fields set, {} unknown tags, {} nulls, {} array elements",
        2 * shared,
        schema_bytes::KNOWN_TAGS.load(std::sync::atomic::Ordering::Relaxed),
        schema_bytes::UNKNOWN_TAGS.load(std::sync::atomic::Ordering::Relaxed),
        schema_bytes::NULLS.load(std::sync::atomic::Ordering::Relaxed),
        schema_bytes::ELEMENTS.load(std::sync::atomic::Ordering::Relaxed),
    );
    // The coverage this suite claims (update with the schemas or kafka-protocol).
    assert_eq!(2 * shared, 580, "triples compared");
    assert_eq!(both_ways, 2 * shared - 3, "triples agreeing both ways");
    assert!(schema_bytes::KNOWN_TAGS.load(std::sync::atomic::Ordering::Relaxed) > 1000);
    assert!(schema_bytes::UNKNOWN_TAGS.load(std::sync::atomic::Ordering::Relaxed) > 1000);
    let found: BTreeSet<(i16, i16, Dir, Way)> = by_triple.keys().copied().collect();
    let known: BTreeSet<(i16, i16, Dir, Way)> = KNOWN.iter().map(|&(a, v, d, w, _)| (a, v, d, w)).collect();
    assert_eq!(found, known, "disagreements differ from the documented ones:\n{report}");
}

#[test]
fn headers_agree() {
    // Header versions of every shared API version.
    for (api, kp, min, max) in shared_versions() {
        for v in min..=max {
            assert_eq!(api.request_header_version(v), kp.request_header_version(v), "{api} v{v} request header");
            assert_eq!(api.response_header_version(v), kp.response_header_version(v), "{api} v{v} response header");
        }
    }
    // The headers themselves, both ways.
    for case in 0..200u64 {
        let data = input(0xdead_0000 | case, 64 + 8 * case as usize);
        let mut u = Unstructured::new(&data);
        // Request header v1 and v2 (kafka-protocol dropped v0 with ControlledShutdown v0).
        let h: kafka_wire::request_header::v1::RequestHeader = u.arbitrary().unwrap();
        let bytes = h.to_bytes().unwrap();
        let theirs = KpRequestHeader::decode(&mut bytes.clone(), 1).unwrap();
        let mut again = BytesMut::new();
        theirs.encode(&mut again, 1).unwrap();
        assert_eq!(again.freeze(), bytes, "request header v1");
        let h: kafka_wire::request_header::v2::RequestHeader = u.arbitrary().unwrap();
        let bytes = h.to_bytes().unwrap();
        let theirs = KpRequestHeader::decode(&mut bytes.clone(), 2).unwrap();
        let mut again = BytesMut::new();
        theirs.encode(&mut again, 2).unwrap();
        assert_eq!(again.freeze(), bytes, "request header v2");
        assert_eq!(kafka_wire::request_header::v2::RequestHeader::from_bytes(again_bytes(&theirs, 2)).unwrap(), h);
        let h: kafka_wire::response_header::v0::ResponseHeader = u.arbitrary().unwrap();
        let bytes = h.to_bytes().unwrap();
        let theirs = KpResponseHeader::decode(&mut bytes.clone(), 0).unwrap();
        let mut again = BytesMut::new();
        theirs.encode(&mut again, 0).unwrap();
        assert_eq!(again.freeze(), bytes, "response header v0");
        let h: kafka_wire::response_header::v1::ResponseHeader = u.arbitrary().unwrap();
        let bytes = h.to_bytes().unwrap();
        let theirs = KpResponseHeader::decode(&mut bytes.clone(), 1).unwrap();
        let mut again = BytesMut::new();
        theirs.encode(&mut again, 1).unwrap();
        assert_eq!(again.freeze(), bytes, "response header v1");
    }
}

fn again_bytes(h: &KpRequestHeader, v: i16) -> Bytes {
    let mut b = BytesMut::new();
    h.encode(&mut b, v).unwrap();
    b.freeze()
}

// ---- record batches -----------------------------------------------------------------------

mod records {
    use super::*;
    use kafka_protocol::indexmap::IndexMap;
    use kafka_protocol::protocol::StrBytes;
    use kafka_protocol::records::{
        Compression as KpCompression, Record as KpRecord, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
        TimestampType as KpTimestampType,
    };
    use kafka_wire::records::{Batch, BatchBuilder, Compression, Header, NewRecord, Record, RecordBatch};
    use kafka_wire::Records;

    pub fn kp_codec(c: Compression) -> KpCompression {
        match c {
            Compression::None => KpCompression::None,
            Compression::Gzip => KpCompression::Gzip,
            Compression::Snappy => KpCompression::Snappy,
            Compression::Lz4 => KpCompression::Lz4,
            Compression::Zstd => KpCompression::Zstd,
        }
    }

    fn maybe_bytes(rng: &mut Rng, max: u64) -> Option<Bytes> {
        if rng.chance(1, 5) {
            None
        } else {
            let n = rng.below(max) as usize;
            // Compressible now and then, so that codecs do real work.
            Some(Bytes::from(if rng.chance(1, 2) { vec![b'x'; n] } else { rng.bytes(n) }))
        }
    }

    /// Varied records with distinct header keys and non-decreasing timestamps.
    pub fn our_records(rng: &mut Rng) -> Vec<NewRecord> {
        let mut ts = (rng.next_u64() >> 24) as i64;
        (0..1 + rng.below(6))
            .map(|_| {
                ts += rng.below(5000) as i64;
                NewRecord {
                    timestamp: ts,
                    key: maybe_bytes(rng, 20),
                    value: maybe_bytes(rng, 300),
                    headers: (0..rng.below(4)).map(|i| Header::new(format!("h{i}-é"), maybe_bytes(rng, 8))).collect(),
                }
            })
            .collect()
    }

    pub fn our_batch(rng: &mut Rng, c: Compression) -> RecordBatch {
        let mut b = BatchBuilder::new(c)
            .base_offset((rng.next_u64() >> 20) as i64)
            .partition_leader_epoch(rng.below(100) as i32 - 1)
            .transactional(rng.chance(1, 3));
        if rng.chance(1, 2) {
            b = b.producer((rng.next_u64() >> 16) as i64, rng.below(10) as i16, rng.below(1000) as i32);
        }
        for r in our_records(rng) {
            b.push(&r).unwrap();
        }
        b.build().unwrap()
    }

    fn headers_of(h: &IndexMap<StrBytes, Option<Bytes>>) -> Vec<Header> {
        h.iter().map(|(k, v)| Header::new(k.as_str(), v.clone())).collect()
    }

    /// Their record as ours (CreateTime batches: the timestamps mean the same).
    pub fn as_ours(r: &KpRecord) -> Record {
        Record {
            offset: r.offset,
            timestamp: r.timestamp,
            attributes: 0,
            key: r.key.clone(),
            value: r.value.clone(),
            headers: headers_of(&r.headers),
        }
    }

    pub fn decode_ours(bytes: &Bytes) -> Vec<(RecordBatch, Vec<Record>)> {
        let set = Records::from_bytes(bytes.clone());
        let mut batches = set.batches();
        let out = (&mut batches)
            .map(|b| match b.unwrap() {
                Batch::V2(b) => {
                    let records = b.records().unwrap().collect::<Result<Vec<_>, _>>().unwrap();
                    (b, records)
                }
                Batch::Legacy(_) => panic!("legacy"),
            })
            .collect();
        assert_eq!(batches.truncated_len(), 0);
        out
    }

    pub fn encode_theirs(records: &[KpRecord], c: Compression) -> Bytes {
        let mut buf = BytesMut::new();
        RecordBatchEncoder::encode(&mut buf, records, &RecordEncodeOptions { version: 2, compression: kp_codec(c) })
            .unwrap();
        buf.freeze()
    }

    /// Varied records of theirs: one batch's worth (shared producer and flags, consecutive
    /// offsets), timestamps in any order, distinct header keys.
    pub fn their_records(rng: &mut Rng) -> Vec<KpRecord> {
        let base = (rng.next_u64() >> 20) as i64;
        let (pid, epoch, seq) = if rng.chance(1, 2) {
            ((rng.next_u64() >> 16) as i64, rng.below(10) as i16, rng.below(1000) as i32)
        } else {
            (-1, -1, -1)
        };
        let (transactional, leader_epoch) = (rng.chance(1, 3), rng.below(100) as i32 - 1);
        let t0 = (rng.next_u64() >> 24) as i64;
        (0..1 + rng.below(6))
            .map(|i| {
                let mut headers = IndexMap::new();
                for h in 0..rng.below(4) {
                    headers.insert(StrBytes::from_string(format!("k{h}")), maybe_bytes(rng, 8));
                }
                let mut r = KpRecord {
                    transactional,
                    control: false,
                    delete_horizon: false,
                    partition_leader_epoch: leader_epoch,
                    producer_id: pid,
                    producer_epoch: epoch,
                    timestamp_type: KpTimestampType::Creation,
                    offset: base + i as i64,
                    sequence: seq.wrapping_add(i as i32),
                    timestamp: t0 + rng.below(10_000) as i64,
                    key: maybe_bytes(rng, 20),
                    value: maybe_bytes(rng, 300),
                    headers,
                };
                if pid == -1 {
                    r.sequence = (-1i32).wrapping_add(i as i32);
                }
                r
            })
            .collect()
    }

    pub fn decode_theirs(bytes: &Bytes) -> Vec<kafka_protocol::records::RecordSet> {
        let mut b = bytes.clone();
        let sets = RecordBatchDecoder::decode_all(&mut b).unwrap();
        assert!(b.is_empty());
        sets
    }
}

#[test]
fn record_batches_agree_for_every_codec() {
    use kafka_wire::records::Compression;
    use kafka_wire::Records;
    use records::*;

    let mut checked = 0;
    for c in Compression::ALL {
        for case in 0..40u64 {
            let mut rng = Rng::new(0x5eed_0000 | (c.code() as u64) << 8 | case);

            // Ours → theirs: a set of one to three batches.
            let batches: Vec<_> = (0..1 + rng.below(3)).map(|_| our_batch(&mut rng, c)).collect();
            let ours = Records::from_batches(&batches.iter().cloned().map(Into::into).collect::<Vec<_>>()).unwrap();
            let ours = ours.into_bytes();
            let our_view = decode_ours(&ours);
            let sets = decode_theirs(&ours);
            assert_eq!(sets.len(), batches.len(), "{c}");
            for ((batch, records), set) in our_view.iter().zip(&sets) {
                assert_eq!((set.version, set.compression), (2, kp_codec(c)));
                let theirs: Vec<_> = set.records.iter().map(as_ours).collect();
                assert_eq!(&theirs, records, "{c} case {case}: records");
                for r in &set.records {
                    assert_eq!(
                        (r.transactional, r.control, r.partition_leader_epoch, r.producer_id, r.producer_epoch),
                        (
                            batch.is_transactional(),
                            batch.is_control(),
                            batch.partition_leader_epoch,
                            batch.producer_id,
                            batch.producer_epoch
                        )
                    );
                    assert_eq!(r.sequence, batch.base_sequence.wrapping_add((r.offset - batch.base_offset) as i32));
                }
                // Their re-encoding: identical bytes without compression; with compression the
                // same batch header and records (the compressors differ), which we read back.
                let again = encode_theirs(&set.records, c);
                if c == Compression::None {
                    assert_eq!(again, batch.to_bytes().unwrap(), "{c} case {case}: their re-encoding");
                } else {
                    let back = decode_ours(&again);
                    assert_eq!(back.len(), 1);
                    assert_eq!(&back[0].1, records, "{c} case {case}: their re-encoding, read by us");
                    let (b, _) = &back[0];
                    assert_eq!(
                        (b.base_offset, b.last_offset_delta, b.base_timestamp, b.max_timestamp, b.attributes()),
                        (
                            batch.base_offset,
                            batch.last_offset_delta,
                            batch.base_timestamp,
                            batch.max_timestamp,
                            batch.attributes()
                        )
                    );
                    assert_eq!(b.to_bytes().unwrap(), again, "our re-encoding of their batch");
                }
            }

            // Theirs → ours.
            let records = their_records(&mut rng);
            let theirs = encode_theirs(&records, c);
            let view = decode_ours(&theirs);
            assert_eq!(
                view.len(),
                1,
                "{c} case {case}: {:?} -> {:?}",
                records,
                decode_theirs(&theirs).iter().map(|s| s.records.len()).collect::<Vec<_>>()
            );
            let (batch, decoded) = &view[0];
            assert_eq!(decoded, &records.iter().map(as_ours).collect::<Vec<_>>(), "{c} case {case}: their records");
            assert_eq!(batch.compression(), c);
            assert_eq!(batch.base_sequence, records[0].sequence);
            assert_eq!(batch.producer_id, records[0].producer_id);
            assert_eq!(batch.to_bytes().unwrap(), theirs, "{c} case {case}: our re-encoding of their batch");
            // And their decoding of their own bytes gives back what they encoded.
            assert_eq!(decode_theirs(&theirs)[0].records, records);
            checked += 1;
        }
    }
    assert_eq!(checked, 5 * 40);
}

// ---- the documented disagreements, with their exact bytes ---------------------------------

fn unhex(s: &str) -> Bytes {
    Bytes::from(hex::decode(s.replace([' ', '\n'], "")).unwrap())
}

/// See [`THEIR_UNDECODABLE_VERSION`]: an empty body of each such version, which we read (every
/// field at its default), is refused by their request type although their API key lists it.
#[test]
fn their_api_keys_advertise_request_versions_their_types_refuse() {
    for (api, v) in [(ApiKey::OffsetCommit, 10), (ApiKey::OffsetFetch, 10), (ApiKey::InitProducerId, 6)] {
        let kp = KpApiKey::try_from(api.code()).unwrap();
        assert!(kp.valid_versions().max >= v, "{api}: they no longer list v{v}");
        let ours = AnyRequest::sample(api, v).unwrap();
        let mut bytes = BytesMut::new();
        ours.encode(&mut bytes).unwrap();
        let err = RequestKind::decode(kp, &mut bytes.freeze(), v).unwrap_err();
        assert!(format!("{err:#}").contains("version not supported"), "{api} v{v}: {err:#}");
    }
}

/// A tag that the schema assigns to a field only in later versions (Fetch request tag 1,
/// `ReplicaState`, tagged from v15) arriving in an earlier version (v12). **Acceptance differs,
/// bytes of valid messages do not.** `kafka-protocol` rejects it ("Tag 1 is not valid for
/// version 12"), as generators that port Kafka's Java generator do (we have not checked a Java
/// broker); we keep it as an unknown tagged field and write it back unchanged, as the rule for
/// unknown tags says. No conforming peer sends this; a proxy built on us forwards it to a broker
/// that decides.
#[test]
fn documented_tag_of_a_later_version_is_kept_by_us_and_rejected_by_them() {
    use kafka_wire::fetch::v12::Request;
    // Fetch v12 request body, all defaults, with a tagged section holding tag 1 (3 bytes).
    let bytes = unhex("ffffffff 00000000 00000000 7fffffff 00 00000000 ffffffff 01 01 01 01 01 03 aabbcc");
    let ours = Request::from_bytes(bytes.clone()).unwrap();
    assert_eq!(ours.unknown_tagged_fields.get(1).unwrap().as_ref(), b"\xaa\xbb\xcc");
    assert_eq!(ours.to_bytes().unwrap(), bytes);
    let e = RequestKind::decode(KpApiKey::Fetch, &mut bytes.clone(), 12).unwrap_err();
    assert!(format!("{e:#}").contains("Tag 1 is not valid for version 12"), "{e:#}");
}

mod record_disagreements {
    use super::records::*;
    use super::*;
    use kafka_wire::records::{BatchBuilder, Compression, Header, NewRecord, RecordBatch, TimestampType};

    fn one_batch(b: RecordBatch) -> Bytes {
        b.to_bytes().unwrap()
    }

    fn their_round_trip(bytes: &Bytes) -> Bytes {
        let sets = decode_theirs(bytes);
        let mut out = BytesMut::new();
        for s in &sets {
            let mut b = BytesMut::new();
            kafka_protocol::records::RecordBatchEncoder::encode(
                &mut b,
                &s.records,
                &kafka_protocol::records::RecordEncodeOptions { version: 2, compression: s.compression },
            )
            .unwrap();
            out.extend_from_slice(&b);
        }
        out.freeze()
    }

    /// Repeated header keys: **theirs is wrong.** Kafka's record headers are an ordered list in
    /// which a key may repeat (KIP-82; Java's `RecordHeaders`); `kafka-protocol` keeps headers in
    /// an `IndexMap`, so decoding keeps only the last value of a repeated key and re-encoding
    /// drops the others.
    #[test]
    fn repeated_header_keys_are_lost_by_them() {
        let mut b = BatchBuilder::new(Compression::None);
        b.push(&NewRecord {
            timestamp: 1000,
            key: None,
            value: Some(Bytes::from_static(b"v")),
            headers: vec![
                Header::new("a", Some(Bytes::from_static(b"1"))),
                Header::new("a", Some(Bytes::from_static(b"2"))),
            ],
        })
        .unwrap();
        let ours = one_batch(b.build().unwrap());
        assert_eq!(
            ours,
            unhex(
                "0000000000000000 00000041 ffffffff 02 fde220c2 0000 00000000 00000000000003e8 00000000000003e8
                 ffffffffffffffff ffff ffffffff 00000001
                 1e 00 00 00 01 02 76 04 02 61 02 31 02 61 02 32"
            )
        );
        let sets = decode_theirs(&ours);
        let headers: Vec<_> =
            sets[0].records[0].headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.clone())).collect();
        assert_eq!(headers, [("a".to_owned(), Some(Bytes::from_static(b"2")))]);
        let theirs = their_round_trip(&ours);
        assert_eq!(theirs.len(), ours.len() - 4, "one header (key and value, 2 bytes each) dropped");
        // We keep both, in order.
        let view = decode_ours(&ours);
        assert_eq!(view[0].1[0].headers.len(), 2);
    }

    /// LogAppendTime batches: **theirs is wrong**, twice. Attribute bit 3 says the broker
    /// stamped the batch: every record's timestamp is the batch's `maxTimestamp` (Java's
    /// `DefaultRecordBatch` reports it so). `kafka-protocol` reports `baseTimestamp + delta`
    /// (the producer's create times) and its encoder never writes bit 3, so its re-encoding
    /// turns the batch into a CreateTime batch (different attributes, CRC and meaning).
    #[test]
    fn log_append_time_is_lost_by_them() {
        let mut b = BatchBuilder::new(Compression::None).timestamp_type(TimestampType::LogAppendTime);
        b.push(&NewRecord::new(1000, "a")).unwrap();
        b.push(&NewRecord::new(1001, "b")).unwrap();
        let mut batch = b.build().unwrap();
        batch.max_timestamp = 5000; // the append time
        let ours = one_batch(batch);
        assert_eq!(
            ours,
            unhex(
                "0000000000000000 00000041 ffffffff 02 fd76815a 0008 00000001 00000000000003e8 0000000000001388
                 ffffffffffffffff ffff ffffffff 00000002
                 0e 00 00 00 01 02 61 00 0e 00 02 02 01 02 62 00"
            )
        );
        let view = decode_ours(&ours);
        assert_eq!(view[0].1.iter().map(|r| r.timestamp).collect::<Vec<_>>(), [5000, 5000]);
        let sets = decode_theirs(&ours);
        assert_eq!(sets[0].records.iter().map(|r| r.timestamp).collect::<Vec<_>>(), [1000, 1001]);
        let theirs = their_round_trip(&ours);
        assert_eq!(i16::from_be_bytes([theirs[21], theirs[22]]) & 0x08, 0, "bit 3 dropped");
        assert_eq!(&theirs[27..43], &unhex("00000000000003e8 00000000000003e9")[..], "max timestamp 1001, not 5000");
    }

    /// Timestamps out of order within a batch: **both valid, bytes differ.** Java's producer
    /// (and our builder) stores the first record's timestamp as `baseTimestamp`, so later
    /// deltas may be negative; `kafka-protocol` stores the minimum. Each reads the other's bytes
    /// to the same absolute timestamps; only the bytes differ.
    #[test]
    fn out_of_order_timestamps_encode_differently_and_decode_the_same() {
        let mut b = BatchBuilder::new(Compression::None);
        b.push(&NewRecord::new(2000, "a")).unwrap();
        b.push(&NewRecord::new(1000, "b")).unwrap();
        let ours = one_batch(b.build().unwrap());
        assert_eq!(
            &ours[27..43],
            &unhex("00000000000007d0 00000000000007d0")[..],
            "base = first record's timestamp, max = 2000"
        );
        assert_eq!(
            &ours[61..],
            &unhex("0e 00 00 00 01 02 61 00 10 00 cf0f 02 01 02 62 00")[..],
            "second delta is -1000"
        );
        let theirs = their_round_trip(&ours);
        assert_eq!(&theirs[27..43], &unhex("00000000000003e8 00000000000007d0")[..], "base = minimum");
        let times = |v: &[(RecordBatch, Vec<kafka_wire::records::Record>)]| -> Vec<i64> {
            v[0].1.iter().map(|r| r.timestamp).collect()
        };
        assert_eq!(times(&decode_ours(&ours)), [2000, 1000]);
        assert_eq!(times(&decode_ours(&theirs)), [2000, 1000]);
        assert_eq!(decode_theirs(&ours)[0].records, decode_theirs(&theirs)[0].records);
    }

    /// Empty batches and batches whose last records were compacted away: **theirs is wrong.**
    /// Log compaction keeps a batch whose records are all gone (to retain the producer's id,
    /// epoch and sequence) and keeps `lastOffsetDelta` when the last records go. `kafka-protocol`
    /// models a record set as a list of records, so an empty batch decodes to nothing and
    /// re-encodes to no bytes, and `lastOffsetDelta` is recomputed from the records left.
    #[test]
    fn empty_and_compacted_batches_are_lost_by_them() {
        let empty = BatchBuilder::new(Compression::None).producer(42, 1, 7).build().unwrap();
        let ours = one_batch(empty);
        assert_eq!(
            ours,
            unhex(
                "0000000000000000 00000031 ffffffff 02 fe01a5ea 0000 ffffffff ffffffffffffffff ffffffffffffffff
                 000000000000002a 0001 00000007 00000000"
            )
        );
        assert_eq!(decode_theirs(&ours)[0].records.len(), 0);
        assert!(their_round_trip(&ours).is_empty(), "the batch is gone");

        let mut b = BatchBuilder::new(Compression::None);
        b.push(&NewRecord::new(1000, "a")).unwrap();
        let mut compacted = b.build().unwrap();
        compacted.last_offset_delta = 4; // records 1-4 were removed by compaction
        let ours = one_batch(compacted);
        let theirs = their_round_trip(&ours);
        assert_eq!(&ours[23..27], &[0, 0, 0, 4]);
        assert_eq!(&theirs[23..27], &[0, 0, 0, 0], "lastOffsetDelta recomputed");
        assert_eq!(decode_ours(&ours)[0].0.last_offset(), 4);
    }
}

// ---- the data schemas both know -------------------------------------------------------------

/// One data schema: its name, our round trip and arbitrary encoding at a version, theirs.
struct DataSchema {
    name: &'static str,
    versions: (i16, i16),
    ours: fn(i16, &Bytes) -> Result<Bytes, String>,
    arbitrary: fn(i16, &mut Unstructured) -> Bytes,
    theirs: fn(i16, &Bytes) -> Result<Bytes, String>,
}

macro_rules! data_schemas {
    ($($name:literal => $ours:ident $min:literal..=$max:literal, $theirs:ty;)*) => {
        [$(DataSchema {
            name: $name,
            versions: {
                let theirs = <$theirs as kafka_protocol::protocol::Message>::VERSIONS;
                (theirs.min.max($min), theirs.max.min($max))
            },
            ours: |v, bytes| {
                let mut b = bytes.clone();
                let m = kafka_wire::$ours::AnyVersion::decode(v, &mut b).map_err(|e| format!("our decode: {e}"))?;
                if !b.is_empty() {
                    return Err(format!("our decode left {} bytes", b.len()));
                }
                let mut out = BytesMut::new();
                m.encode(&mut out).map_err(|e| format!("our encode: {e}"))?;
                Ok(out.freeze())
            },
            arbitrary: |v, u| {
                let m = kafka_wire::$ours::AnyVersion::arbitrary_of(v, u).unwrap().unwrap();
                let mut out = BytesMut::new();
                m.encode(&mut out).unwrap();
                out.freeze()
            },
            theirs: |v, bytes| {
                let mut b = bytes.clone();
                let m = <$theirs>::decode(&mut b, v).map_err(|e| format!("their decode: {e:#}"))?;
                if !b.is_empty() {
                    return Err(format!("their decode left {} bytes", b.len()));
                }
                let mut out = BytesMut::new();
                m.encode(&mut out, v).map_err(|e| format!("their encode: {e:#}"))?;
                Ok(out.freeze())
            },
        }),*]
    };
}

#[test]
fn data_schemas_agree() {
    use kafka_protocol::messages as kp;
    let all = data_schemas! {
        "ConsumerProtocolAssignment" => consumer_protocol_assignment 0..=3, kp::ConsumerProtocolAssignment;
        "ConsumerProtocolSubscription" => consumer_protocol_subscription 0..=3, kp::ConsumerProtocolSubscription;
        "DefaultPrincipalData" => default_principal_data 0..=0, kp::DefaultPrincipalData;
        "KRaftVersionRecord" => kraft_version_record 0..=0, kp::KRaftVersionRecord;
        "LeaderChangeMessage" => leader_change_message 0..=1, kp::LeaderChangeMessage;
        "SnapshotFooterRecord" => snapshot_footer_record 0..=0, kp::SnapshotFooterRecord;
        "SnapshotHeaderRecord" => snapshot_header_record 0..=0, kp::SnapshotHeaderRecord;
        "VotersRecord" => voters_record 0..=0, kp::VotersRecord;
    };
    let schemas = Schemas::load(&schemas_dir());
    let mut versions = 0;
    for d in &all {
        let (min, max) = d.versions;
        for v in min..=max {
            versions += 1;
            // `kafka-protocol` decodes the nested structs of LeaderChangeMessage and VotersRecord
            // at the version held in their `Version` field rather than at the schema version
            // (see `disagreement_version_field_shadows_the_schema_version`): give that field the
            // schema version here so that the rest is compared.
            let fix = |b: Bytes| -> Bytes {
                if d.name != "LeaderChangeMessage" && d.name != "VotersRecord" {
                    return b;
                }
                let mut b = b.to_vec();
                b[..2].copy_from_slice(&v.to_be_bytes());
                Bytes::from(b)
            };
            for case in 0..40u64 {
                // Ours → theirs.
                let data = input(0xda7a_0000 | (v as u64) << 8 | case, 32 + 40 * case as usize);
                let ours = fix((d.arbitrary)(v, &mut Unstructured::new(&data)));
                assert_eq!((d.theirs)(v, &ours).as_ref(), Ok(&ours), "{} v{v}: ours → theirs", d.name);
                // Theirs → ours.
                let mut rng = Rng::new(0xda7a_0000 | (v as u64) << 8 | case);
                let written = fix(Bytes::from(random_body(schemas.named(d.name), v, &mut rng)));
                let theirs = (d.theirs)(v, &written).unwrap_or_else(|e| panic!("{} v{v}: {e}", d.name));
                assert_eq!(theirs, written, "{} v{v}: their encoding of the writer's body", d.name);
                assert_eq!((d.ours)(v, &theirs).as_ref(), Ok(&theirs), "{} v{v}: theirs → ours", d.name);
            }
        }
    }
    assert_eq!(versions, 15, "(data schema, version) pairs both know");
}

/// LeaderChangeMessage and VotersRecord (KRaft control records whose first field is named
/// `Version`): **theirs is wrong.** `kafka-protocol`'s decoder reads the `Version` field into a variable that shadows
/// the schema version it was asked for, and decodes the nested `Voter` structs at that field's
/// value: a v1 message whose `Version` field says 0 has its voters read without their
/// `VoterDirectoryId`, and any `Version` value other than 0 or 1 fails to decode at all. The
/// field is data; the layout is fixed by the schema version the reader was asked for. The same
/// holds for VotersRecord's voters (checked by `data_schemas_agree`, which works around it).
#[test]
fn disagreement_version_field_shadows_the_schema_version() {
    use kafka_protocol::messages::LeaderChangeMessage as Theirs;
    use kafka_wire::leader_change_message::v1 as ours;

    let value = ours::LeaderChangeMessage {
        version: 0,
        leader_id: 1,
        voters: vec![ours::Voter {
            voter_id: 2,
            voter_directory_id: kafka_wire::Uuid::from_bytes([0xab; 16]),
            ..Default::default()
        }],
        granting_voters: vec![],
        ..Default::default()
    };
    let bytes = value.to_bytes().unwrap();
    assert_eq!(bytes, unhex("0000 00000001 02 00000002 abababababababababababababababab 00 01 00"));
    // Read at v1 by them: the voter is read as v0 (no directory id), so the directory id's
    // bytes become the voter's tagged fields and what follows.
    match Theirs::decode(&mut bytes.clone(), 1) {
        Err(_) => {}
        Ok(theirs) => {
            let mut again = BytesMut::new();
            theirs.encode(&mut again, 1).unwrap();
            assert_ne!(again.freeze(), bytes);
        }
    }
    // With the field equal to the schema version they agree.
    let aligned = ours::LeaderChangeMessage { version: 1, ..value };
    let bytes = aligned.to_bytes().unwrap();
    let theirs = Theirs::decode(&mut bytes.clone(), 1).unwrap();
    let mut again = BytesMut::new();
    theirs.encode(&mut again, 1).unwrap();
    assert_eq!(again.freeze(), bytes);
    // Any other field value: they cannot decode it.
    let odd = ours::LeaderChangeMessage { version: 7, ..aligned }.to_bytes().unwrap();
    assert!(Theirs::decode(&mut odd.clone(), 1).is_err());
    assert!(ours::LeaderChangeMessage::from_bytes(odd).is_ok());
}
