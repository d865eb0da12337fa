//! Record sets: round trips over every codec and magic, layouts checked against the spec with
//! independent checksum implementations, truncation, and hostile input.

use kafka_wire::records::{
    compress, decompress, Batch, BatchBuilder, Compression, ControlRecord, Header, LegacyMessage, NewRecord, Record,
    RecordBatch, TimestampType, DEFAULT_MAX_DECOMPRESSED,
};
use kafka_wire::{fetch, produce, Bytes, BytesMut, DecodeErrorKind, Message, Records};

// ---- independent reference implementations -------------------------------------------------

/// CRC-32C (Castagnoli), bit by bit from the reflected polynomial.
fn ref_crc32c(data: &[u8]) -> u32 {
    ref_crc(data, 0x82F6_3B78)
}

/// CRC-32 (IEEE 802.3, as zlib and Java's `CRC32`), bit by bit.
fn ref_crc32(data: &[u8]) -> u32 {
    ref_crc(data, 0xEDB8_8320)
}

fn ref_crc(data: &[u8], poly: u32) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ poly } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn reference_checksums_match_known_answers() {
    // The catalogue check values, and the iSCSI vectors of RFC 3720 B.4.
    assert_eq!(ref_crc32c(b"123456789"), 0xE306_9283);
    assert_eq!(ref_crc32c(&[0u8; 32]), 0x8A91_36AA);
    assert_eq!(ref_crc32c(&[0xFFu8; 32]), 0x62A8_AB43);
    assert_eq!(ref_crc32c(&(0u8..32).collect::<Vec<_>>()), 0x46DD_794E);
    assert_eq!(ref_crc32c(&(0u8..32).rev().collect::<Vec<_>>()), 0x113F_DB5C);
    assert_eq!(ref_crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(ref_crc32(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
}

// ---- helpers ---------------------------------------------------------------------------------

const T0: i64 = 1_700_000_000_000;

/// `n` records; keys, values and headers present or not.
fn sample(n: usize, keys: bool, values: bool, headers: bool) -> Vec<NewRecord> {
    (0..n)
        .map(|i| NewRecord {
            // Not monotonic: deltas go negative too.
            timestamp: T0 + (i as i64 * 7919) % 1000 - 300,
            key: keys.then(|| Bytes::from(format!("key-{i}"))),
            value: values.then(|| Bytes::from(format!("value {i} {}", "lorem ipsum ".repeat(i % 13)))),
            headers: if headers {
                vec![
                    Header::new("trace", Some(Bytes::from(format!("t{i}")))),
                    Header::new("dup", Some(Bytes::from_static(b"first"))),
                    Header::new("empty", Some(Bytes::new())),
                    Header::new("null", None),
                    Header::new("dup", Some(Bytes::from_static(b"second"))),
                ]
            } else {
                Vec::new()
            },
        })
        .collect()
}

fn build(
    codec: Compression,
    records: &[NewRecord],
    configure: impl FnOnce(BatchBuilder) -> BatchBuilder,
) -> RecordBatch {
    let mut b = configure(BatchBuilder::new(codec));
    for r in records {
        b.push(r).unwrap();
    }
    b.build().unwrap()
}

fn set_of(batches: &[Batch]) -> Records {
    Records::from_batches(batches).unwrap()
}

/// Every batch of a set and every record of each, plus the size of a truncated tail.
/// The batches of a set with their records, and the size of a truncated tail.
type Decoded = (Vec<(Batch, Vec<Record>)>, usize);

fn read_all(records: &Records) -> Result<Decoded, kafka_wire::DecodeError> {
    let mut batches = records.batches();
    let mut out = Vec::new();
    for b in &mut batches {
        let b = b?;
        let recs = b.records()?.collect::<Result<Vec<_>, _>>()?;
        out.push((b, recs));
    }
    Ok((out, batches.truncated_len()))
}

fn assert_same_records(got: &[Record], want: &[NewRecord], base_offset: i64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.offset, base_offset + i as i64, "offset of record {i}");
        assert_eq!(
            (g.timestamp, &g.key, &g.value, &g.headers),
            (w.timestamp, &w.key, &w.value, &w.headers),
            "record {i}"
        );
    }
}

// ---- magic 2 ---------------------------------------------------------------------------------

#[test]
fn v2_batches_round_trip_with_every_codec_and_shape() {
    let mut cases = 0;
    for codec in Compression::ALL {
        for (keys, values, headers) in
            [(true, true, true), (false, true, false), (true, false, false), (false, false, true)]
        {
            for n in [0, 1, 3, 250] {
                let want = sample(n, keys, values, headers);
                let batch = build(codec, &want, |b| b.base_offset(1000).partition_leader_epoch(5).producer(77, 3, 40));
                let bytes = set_of(&[batch.clone().into()]);
                let (got, truncated) = read_all(&bytes).unwrap_or_else(|e| panic!("{codec} {n}: {e}"));
                assert_eq!(truncated, 0);
                assert_eq!(got.len(), 1);
                let Batch::V2(b) = &got[0].0 else { panic!("not a v2 batch") };
                assert_eq!(b, &batch, "{codec}: decoded header differs");
                assert_eq!(b.compression(), codec);
                assert_eq!((b.base_offset, b.partition_leader_epoch), (1000, 5));
                assert_eq!((b.producer_id, b.producer_epoch, b.base_sequence), (77, 3, 40));
                assert_eq!(b.record_count(), n as i32);
                assert_eq!(b.last_offset_delta, n as i32 - 1);
                let max_ts = want.iter().map(|r| r.timestamp).max().unwrap_or(-1);
                let base_ts = want.first().map_or(-1, |r| r.timestamp);
                assert_eq!((b.base_timestamp, b.max_timestamp), (base_ts, max_ts));
                assert!(!b.is_transactional() && !b.is_control());
                assert_eq!(b.timestamp_type(), TimestampType::CreateTime);
                assert_same_records(&got[0].1, &want, 1000);
                // Re-encoding what was decoded gives the same bytes.
                assert_eq!(set_of(&[got[0].0.clone()]), bytes);
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 5 * 4 * 4);
}

#[test]
fn transactional_and_control_batches_round_trip() {
    let want = sample(3, true, true, true);
    let data = build(Compression::Lz4, &want, |b| b.producer(9, 1, 0).transactional(true));
    let markers = [
        ControlRecord::Commit { coordinator_epoch: 12 },
        ControlRecord::Abort { coordinator_epoch: -1 },
        ControlRecord::Other { kind: 3, value: Some(Bytes::from_static(b"\x00\x01snapshot")) },
    ];
    let mut batches = vec![Batch::from(data.clone())];
    for (i, m) in markers.iter().enumerate() {
        let control = build(Compression::None, &[m.to_record(T0 + i as i64)], |b| {
            b.base_offset(3 + i as i64).producer(9, 1, -1).transactional(true).control(true)
        });
        batches.push(control.into());
    }
    let (got, _) = read_all(&set_of(&batches)).unwrap();
    assert_eq!(got.len(), 4);
    let Batch::V2(b) = &got[0].0 else { panic!() };
    assert!(b.is_transactional() && !b.is_control());
    assert_same_records(&got[0].1, &want, 0);
    for (i, m) in markers.iter().enumerate() {
        let Batch::V2(b) = &got[i + 1].0 else { panic!() };
        assert!(b.is_transactional() && b.is_control());
        assert_eq!(b.base_offset, 3 + i as i64);
        assert_eq!(got[i + 1].1.len(), 1);
        assert_eq!(&ControlRecord::parse(&got[i + 1].1[0]).unwrap(), m);
    }
    // The marker layout: key `version int16, type int16`, value `version int16, epoch int32`.
    let commit = markers[0].to_record(0);
    assert_eq!(commit.key.as_deref(), Some(&[0, 0, 0, 1][..]));
    assert_eq!(commit.value.as_deref(), Some(&[0, 0, 0, 0, 0, 12][..]));
}

#[test]
fn log_append_time_batches_report_the_append_time() {
    let want = sample(3, true, true, false);
    let mut batch = build(Compression::None, &want, |b| b.timestamp_type(TimestampType::LogAppendTime));
    batch.max_timestamp = T0 + 99_999;
    let (got, _) = read_all(&set_of(&[batch.into()])).unwrap();
    assert!(got[0].1.iter().all(|r| r.timestamp == T0 + 99_999));
    let Batch::V2(b) = &got[0].0 else { panic!() };
    assert_eq!(b.timestamp_type(), TimestampType::LogAppendTime);
}

/// A batch laid out byte by byte from the spec; its CRC from the reference implementation.
fn hand_made_batch() -> Vec<u8> {
    let mut rec = vec![
        0x00, // attributes
        0x06, // timestampDelta 3
        0x02, // offsetDelta 1
        0x02, b'k', // key length 1
        0x04, b'v', b'!', // value length 2
        0x04, // 2 headers
        0x02, b'h', 0x01, // "h": null
        0x02, b'h', 0x00, // "h": empty
    ]
    .to_vec();
    rec.insert(0, (rec.len() as u8) << 1); // length varint
    let mut b = Vec::new();
    b.extend_from_slice(&41i64.to_be_bytes()); // baseOffset
    b.extend_from_slice(&0i32.to_be_bytes()); // batchLength, below
    b.extend_from_slice(&7i32.to_be_bytes()); // partitionLeaderEpoch
    b.push(2); // magic
    b.extend_from_slice(&0u32.to_be_bytes()); // crc, below
    b.extend_from_slice(&0x0010i16.to_be_bytes()); // attributes: transactional
    b.extend_from_slice(&1i32.to_be_bytes()); // lastOffsetDelta
    b.extend_from_slice(&T0.to_be_bytes());
    b.extend_from_slice(&(T0 + 3).to_be_bytes());
    b.extend_from_slice(&5i64.to_be_bytes()); // producerId
    b.extend_from_slice(&2i16.to_be_bytes()); // producerEpoch
    b.extend_from_slice(&100i32.to_be_bytes()); // baseSequence
    b.extend_from_slice(&1i32.to_be_bytes()); // recordCount
    b.extend_from_slice(&rec);
    let len = (b.len() - 12) as i32;
    b[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = ref_crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b
}

#[test]
fn a_batch_laid_out_from_the_spec_decodes() {
    let bytes = Bytes::from(hand_made_batch());
    let (got, _) = read_all(&Records::from_bytes(bytes.clone())).unwrap();
    let Batch::V2(b) = &got[0].0 else { panic!() };
    assert_eq!((b.base_offset, b.partition_leader_epoch, b.last_offset_delta), (41, 7, 1));
    assert_eq!((b.producer_id, b.producer_epoch, b.base_sequence), (5, 2, 100));
    assert!(b.is_transactional());
    let r = &got[0].1[0];
    assert_eq!((r.offset, r.timestamp), (42, T0 + 3));
    assert_eq!((r.key.as_deref(), r.value.as_deref()), (Some(&b"k"[..]), Some(&b"v!"[..])));
    assert_eq!(r.headers, vec![Header::new("h", None), Header::new("h", Some(Bytes::new()))]);
    // Encoding writes the same bytes, CRC included.
    assert_eq!(got[0].0.clone().encoded_len(), bytes.len());
    assert_eq!(set_of(&[got[0].0.clone()]).into_bytes(), bytes);
}

#[test]
fn encoded_crcs_agree_with_the_reference_implementations() {
    for codec in Compression::ALL {
        let b = build(codec, &sample(20, true, true, true), |b| b).to_bytes().unwrap();
        assert_eq!(u32::from_be_bytes(b[17..21].try_into().unwrap()), ref_crc32c(&b[21..]), "{codec}");
    }
    for magic in [0, 1] {
        let m = LegacyMessage::new(magic, 3, T0, Some(Bytes::from("k")), Some(Bytes::from("v"))).to_bytes().unwrap();
        assert_eq!(u32::from_be_bytes(m[12..16].try_into().unwrap()), ref_crc32(&m[16..]), "magic {magic}");
    }
}

#[test]
fn a_crc_mismatch_names_the_base_offset() {
    let batch = build(Compression::None, &sample(2, true, true, false), |b| b.base_offset(123_456));
    let mut bytes = batch.to_bytes().unwrap().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x20;
    let err = Records::from(Bytes::from(bytes)).batches().next().unwrap().unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::CrcMismatch { offset: 123_456, .. }), "{err:?}");
    assert!(err.to_string().contains("123456"), "{err}");
}

#[test]
fn uncompressed_records_share_the_input_buffer_and_iterate_lazily() {
    let records = set_of(&[build(Compression::None, &sample(50, true, true, true), |b| b).into()]);
    let input = records.as_bytes().as_ptr_range();
    let within = |b: &Bytes| input.contains(&b.as_ptr()) && b.as_ptr_range().end <= input.end;
    let batch = records.batches().next().unwrap().unwrap();
    let mut iter = batch.records().unwrap();
    // Lazily: one record at a time, no collection needed.
    let first = iter.next().unwrap().unwrap();
    assert!(within(first.key.as_ref().unwrap()) && within(first.value.as_ref().unwrap()));
    assert!(within(first.headers[0].value.as_ref().unwrap()));
    assert_eq!(iter.count(), 49);
}

#[test]
fn records_inside_fetch_and_produce_messages_round_trip() {
    let want = sample(10, true, true, true);
    let set = set_of(&[build(Compression::Gzip, &want, |b| b.base_offset(500)).into()]);
    let response = fetch::v12::Response {
        responses: vec![fetch::v12::FetchableTopicResponse {
            topic: "t".into(),
            partitions: vec![fetch::v12::PartitionData { records: Some(set.clone()), ..Default::default() }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let back = fetch::v12::Response::from_bytes(response.to_bytes().unwrap()).unwrap();
    let records = back.responses[0].partitions[0].records.as_ref().unwrap();
    assert_eq!(records, &set);
    let (got, _) = read_all(records).unwrap();
    assert_same_records(&got[0].1, &want, 500);

    let request = produce::v9::Request {
        topic_data: vec![produce::v9::TopicProduceData {
            name: "t".into(),
            partition_data: vec![produce::v9::PartitionProduceData {
                index: 0,
                records: Some(set.clone()),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let back = produce::v9::Request::from_bytes(request.to_bytes().unwrap()).unwrap();
    assert_eq!(back.topic_data[0].partition_data[0].records.as_ref(), Some(&set));
}

#[test]
fn records_that_are_not_batches_still_forward_as_opaque_bytes() {
    let junk = Records::from_bytes(Bytes::from_static(b"definitely not a record batch"));
    let response = fetch::v12::Response {
        responses: vec![fetch::v12::FetchableTopicResponse {
            partitions: vec![fetch::v12::PartitionData { records: Some(junk.clone()), ..Default::default() }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let back = fetch::v12::Response::from_bytes(response.to_bytes().unwrap()).unwrap();
    assert_eq!(back.responses[0].partitions[0].records.as_ref(), Some(&junk));
    // Read as batches, they look like the cut-off start of a huge batch...
    let mut batches = junk.batches();
    assert!(batches.next().is_none());
    assert_eq!(batches.truncated_len(), junk.len());
    // ... or are an error, never a panic.
    let junk = Records::from_bytes(Bytes::from_static(b"\0\0\0\0\0\0\0\0\0\0\0\x14 not a record batch: bad magic"));
    assert!(junk.batches().next().unwrap().is_err());
}

// ---- legacy message sets ---------------------------------------------------------------------

fn legacy_sample(magic: i8, base: i64, n: usize) -> Vec<LegacyMessage> {
    (0..n)
        .map(|i| {
            let key = (i % 3 != 0).then(|| Bytes::from(format!("k{i}")));
            let value = (i % 4 != 1).then(|| Bytes::from(format!("legacy value {i} {}", "xyz".repeat(i))));
            LegacyMessage::new(magic, base + i as i64, T0 + i as i64, key, value)
        })
        .collect()
}

#[test]
fn legacy_message_sets_round_trip_with_every_codec_and_magic() {
    for magic in [0i8, 1] {
        // Plain messages.
        let plain = legacy_sample(magic, 10, 5);
        let set = set_of(&plain.iter().cloned().map(Batch::from).collect::<Vec<_>>());
        let (got, _) = read_all(&set).unwrap();
        assert_eq!(got.len(), 5);
        for ((b, recs), m) in got.iter().zip(&plain) {
            assert_eq!(b, &Batch::Legacy(m.clone()));
            assert_eq!(b.magic(), magic);
            assert_eq!(recs.len(), 1);
            assert_eq!((recs[0].offset, &recs[0].key, &recs[0].value), (m.offset, &m.key, &m.value));
            assert_eq!(recs[0].timestamp, if magic == 0 { -1 } else { m.timestamp });
        }
        // Compressed wrappers.
        for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4] {
            let inner = legacy_sample(magic, 2000, 40);
            let wrapper = LegacyMessage::compressed(magic, codec, &inner).unwrap();
            assert_eq!(wrapper.offset, 2039, "the wrapper carries the last inner offset");
            assert_eq!(wrapper.compression(), codec);
            let set = set_of(&[wrapper.clone().into()]);
            let (got, _) = read_all(&set).unwrap();
            assert_eq!(got[0].0, Batch::Legacy(wrapper.clone()));
            assert_eq!(got[0].0.last_offset(), 2039);
            let Batch::Legacy(w) = &got[0].0 else { panic!() };
            assert_eq!(w.inner_messages().unwrap(), inner, "magic {magic} {codec}");
            let offsets: Vec<i64> = got[0].1.iter().map(|r| r.offset).collect();
            assert_eq!(offsets, (2000..2040).collect::<Vec<_>>());
            // On the wire: relative inner offsets in magic 1, absolute in magic 0.
            let raw = kafka_wire::records::decompress(codec, w.value.as_ref().unwrap(), 1 << 20);
            if magic == 0 && codec == Compression::Lz4 {
                assert!(raw.is_err(), "magic 0 lz4 must carry the broken header checksum");
            } else {
                let raw = raw.unwrap();
                let first = i64::from_be_bytes(raw[..8].try_into().unwrap());
                assert_eq!(first, if magic == 1 { 0 } else { 2000 }, "magic {magic} {codec}");
            }
        }
    }
}

#[test]
fn magic0_lz4_reads_both_the_broken_and_the_correct_header_checksum() {
    let inner = legacy_sample(0, 0, 10);
    let broken = LegacyMessage::compressed(0, Compression::Lz4, &inner).unwrap();
    let value = broken.value.clone().unwrap();
    // Old Kafka hashed the magic number too: xxh32 over bytes 0..6 instead of 4..6. The frame
    // is otherwise standard, so its descriptor equals that of a correct frame of the same data.
    let mut payload = BytesMut::new();
    for m in &inner {
        m.encode(&mut payload).unwrap();
    }
    let correct = compress(Compression::Lz4, &payload).unwrap();
    assert_eq!(value[..6], correct[..6]);
    assert_ne!(value[6], correct[6]);
    assert_eq!(value[7..], correct[7..]);
    let mut fixed = broken.clone();
    fixed.value = Some(Bytes::from(correct));
    for m in [broken, fixed] {
        let set = set_of(&[m.into()]);
        let (got, _) = read_all(&set).unwrap();
        let Batch::Legacy(w) = &got[0].0 else { panic!() };
        assert_eq!(w.inner_messages().unwrap(), inner);
    }
}

#[test]
fn a_set_may_mix_magic_0_1_and_2() {
    let v0 = LegacyMessage::compressed(0, Compression::Gzip, &legacy_sample(0, 0, 3)).unwrap();
    let v1 = LegacyMessage::new(1, 3, T0, None, Some(Bytes::from("one")));
    let want = sample(4, true, true, true);
    let v2 = build(Compression::Snappy, &want, |b| b.base_offset(4));
    let (got, _) = read_all(&set_of(&[v0.into(), v1.into(), v2.into()])).unwrap();
    assert_eq!(got.iter().map(|(b, _)| b.magic()).collect::<Vec<_>>(), [0, 1, 2]);
    let offsets: Vec<i64> = got.iter().flat_map(|(_, r)| r.iter().map(|r| r.offset)).collect();
    assert_eq!(offsets, (0..8).collect::<Vec<_>>());
}

// ---- truncation and hostile input -------------------------------------------------------------

#[test]
fn a_truncated_trailing_batch_ends_the_set_cleanly() {
    let a = build(Compression::None, &sample(3, true, true, false), |b| b);
    let b = build(Compression::Zstd, &sample(3, true, true, false), |b| b.base_offset(3));
    let c = LegacyMessage::new(1, 6, T0, None, Some(Bytes::from("legacy")));
    let full = set_of(&[a.into(), b.into(), c.into()]).into_bytes();
    let ends = {
        let mut ends = Vec::new();
        let mut rest = Records::from(full.clone()).batches();
        while rest.next().is_some() {
            ends.push(full.len() - rest.remaining().len());
        }
        ends
    };
    assert_eq!(ends.len(), 3);
    for cut in 0..full.len() {
        let (got, truncated) = read_all(&Records::from(full.slice(..cut))).unwrap();
        let complete = ends.iter().filter(|&&e| e <= cut).count();
        assert_eq!(got.len(), complete, "cut at {cut}");
        let last_end = if complete == 0 { 0 } else { ends[complete - 1] };
        assert_eq!(truncated, cut - last_end, "cut at {cut}");
    }
}

/// Samples of every kind, each a whole record set.
fn hostile_samples() -> Vec<(String, Bytes)> {
    let mut out = Vec::new();
    for codec in Compression::ALL {
        let b = build(codec, &sample(4, true, true, true), |b| b.base_offset(10).producer(1, 1, 1));
        out.push((format!("v2 {codec}"), b.to_bytes().unwrap()));
    }
    let control = build(Compression::None, &[ControlRecord::Commit { coordinator_epoch: 3 }.to_record(T0)], |b| {
        b.transactional(true).control(true)
    });
    out.push(("control".into(), control.to_bytes().unwrap()));
    for magic in [0, 1] {
        let plain = LegacyMessage::new(magic, 5, T0, Some(Bytes::from("k")), Some(Bytes::from("v")));
        out.push((format!("magic {magic} plain"), plain.to_bytes().unwrap()));
        for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4] {
            let w = LegacyMessage::compressed(magic, codec, &legacy_sample(magic, 0, 4)).unwrap();
            out.push((format!("magic {magic} {codec}"), w.to_bytes().unwrap()));
        }
    }
    out
}

/// Decodes everything, with a small decompression cap; must not panic.
fn read_capped(bytes: Bytes) -> Result<Decoded, kafka_wire::DecodeError> {
    let records = Records::from(bytes);
    let mut batches = records.batches();
    let mut out = Vec::new();
    for b in &mut batches {
        let b = b?;
        let recs = b.records_capped(1 << 16)?.collect::<Result<Vec<_>, _>>()?;
        out.push((b, recs));
    }
    Ok((out, batches.truncated_len()))
}

#[test]
fn every_prefix_is_an_error_or_a_clean_truncation() {
    for (name, bytes) in hostile_samples() {
        for n in 0..bytes.len() {
            // An error, or nothing but a truncated tail.
            if let Ok((batches, truncated)) = read_capped(bytes.slice(..n)) {
                assert!(batches.is_empty() && truncated == n, "{name}: the {n}-byte prefix decoded");
            }
            // Decoding a prefix as a whole batch is an error.
            assert!(Batch::decode(&mut bytes.slice(..n)).is_err(), "{name}: {n}-byte prefix");
        }
    }
}

#[test]
fn every_single_byte_corruption_is_an_error_or_a_clean_truncation() {
    for (name, bytes) in hostile_samples() {
        let magic = bytes[16];
        let original = read_capped(bytes.clone()).unwrap();
        for at in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xFF] {
                let mut bad = bytes.to_vec();
                bad[at] ^= flip;
                let result = read_capped(Bytes::from(bad));
                // Outside any checksum: the offset (and in magic 2 the partition leader epoch).
                let unchecked = at < 8 || (magic == 2 && (12..16).contains(&at));
                match result {
                    Err(_) => {}
                    Ok((batches, truncated)) if batches.is_empty() => {
                        assert_eq!(truncated, bytes.len(), "{name}: byte {at}")
                    }
                    Ok((batches, _)) => {
                        assert!(unchecked, "{name}: byte {at} ^ {flip:#x} went unnoticed");
                        assert_eq!(batches.len(), 1);
                        assert_ne!(batches[0].0, original.0[0].0, "{name}: byte {at}");
                    }
                }
            }
        }
    }
}

#[test]
fn corrupted_compressed_data_behind_a_valid_crc_never_panics() {
    // The CRC catches corruption first; recomputing it puts the decompressors and the record
    // parser in front of arbitrary bytes.
    for (name, bytes) in hostile_samples() {
        let magic = bytes[16];
        for at in 17..bytes.len() {
            for flip in [0x01u8, 0x55, 0xFF] {
                let mut bad = bytes.to_vec();
                bad[at] ^= flip;
                if magic == 2 {
                    if at < 21 {
                        continue;
                    }
                    let crc = ref_crc32c(&bad[21..]);
                    bad[17..21].copy_from_slice(&crc.to_be_bytes());
                } else {
                    let crc = ref_crc32(&bad[16..]);
                    bad[12..16].copy_from_slice(&crc.to_be_bytes());
                }
                let _ = read_capped(Bytes::from(bad)); // whatever it says, it must say it
            }
        }
        let _ = name;
    }
}

/// A v2 batch with the given records section and header values, CRC from the reference.
fn raw_batch(attributes: i16, record_count: i32, records: &[u8]) -> Bytes {
    let mut b = Vec::new();
    b.extend_from_slice(&0i64.to_be_bytes());
    b.extend_from_slice(&((49 + records.len()) as i32).to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.push(2);
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&attributes.to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes());
    b.extend_from_slice(&T0.to_be_bytes());
    b.extend_from_slice(&T0.to_be_bytes());
    b.extend_from_slice(&(-1i64).to_be_bytes());
    b.extend_from_slice(&(-1i16).to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.extend_from_slice(&record_count.to_be_bytes());
    b.extend_from_slice(records);
    let crc = ref_crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(b)
}

fn records_of(batch: Bytes) -> Result<Vec<Record>, kafka_wire::DecodeError> {
    let b = Batch::decode(&mut batch.clone())?;
    b.records()?.collect()
}

type RecordResult = Result<Record, kafka_wire::DecodeError>;

/// Every record of `iter`, owned, and every record of its borrowed view, made owned: both
/// iterations must yield the same records and the same errors.
fn owned_and_borrowed(iter: kafka_wire::records::RecordIter) -> (Vec<RecordResult>, Vec<RecordResult>) {
    let borrowed = iter
        .borrowed()
        .map(|r| {
            r.map(|r| {
                let owned = r.to_record();
                assert_eq!(r.header_count(), owned.headers.len());
                assert_eq!(r.headers().len(), owned.headers.len());
                owned
            })
        })
        .collect();
    (iter.collect(), borrowed)
}

#[test]
fn borrowed_records_are_the_owned_ones() {
    let mut batches: Vec<Batch> = Vec::new();
    for codec in Compression::ALL {
        for (keys, values, headers) in [(true, true, true), (false, true, false), (true, false, true)] {
            let records = sample(40, keys, values, headers);
            batches.push(build(codec, &records, |b| b.base_offset(1000)).into());
            let lat = build(codec, &records, |b| b.timestamp_type(TimestampType::LogAppendTime));
            batches.push(lat.into());
        }
    }
    for magic in [0, 1] {
        batches.push(LegacyMessage::new(magic, 7, T0, None, Some(Bytes::from_static(b"plain"))).into());
        let wrapper = LegacyMessage::compressed(magic, Compression::Gzip, &legacy_sample(magic, 10, 5)).unwrap();
        batches.push(wrapper.into());
    }
    for batch in &batches {
        let (owned, borrowed) = owned_and_borrowed(batch.records().unwrap());
        assert!(owned.iter().all(Result::is_ok) && !owned.is_empty(), "{batch:?}");
        assert_eq!(borrowed, owned, "{batch:?}");
        // The view starts where the owned iteration stands, and leaves it there.
        let mut iter = batch.records().unwrap();
        iter.next();
        assert_eq!(iter.borrowed().count(), owned.len() - 1);
        assert_eq!(iter.count(), owned.len() - 1);
    }
    // Headers, in order, null values and repeated keys included.
    let records = sample(3, true, true, true);
    let batch = build(Compression::None, &records, |b| b);
    let iter = batch.records().unwrap();
    let first = iter.borrowed().next().unwrap().unwrap();
    let headers: Vec<(String, Option<&[u8]>)> = first.headers().map(|h| (h.key.into_owned(), h.value)).collect();
    let want: Vec<(String, Option<&[u8]>)> =
        records[0].headers.iter().map(|h| (h.key.to_string(), h.value.as_deref())).collect();
    assert_eq!(headers, want);
    assert_eq!(first.key, Some(&b"key-0"[..]));
}

#[test]
fn borrowed_records_fail_exactly_where_owned_ones_do() {
    let records = sample(6, true, true, true);
    let section = build(Compression::None, &records, |b| b).raw_records().clone();
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for at in 0..section.len() {
        inputs.push(section[..at].to_vec());
        for flip in [0x01, 0x80, 0xff] {
            let mut v = section.to_vec();
            v[at] ^= flip;
            inputs.push(v);
        }
    }
    // A header key that is not UTF-8: a record of 9 bytes, null key and value, one header of
    // key 0xff and null value.
    let bad_key = [0x12, 0, 0, 0, 1, 1, 2, 2, 0xff, 1];
    inputs.push(bad_key.to_vec());
    let mut errors = 0;
    for input in &inputs {
        let (owned, borrowed) =
            owned_and_borrowed(Batch::decode(&mut raw_batch(0, 6, input)).unwrap().records().unwrap());
        assert_eq!(borrowed, owned);
        errors += owned.iter().filter(|r| r.is_err()).count();
    }
    // Cuts are all errors; flipped bits in keys and values are not.
    assert!(errors > inputs.len() / 3, "{errors} errors in {} inputs", inputs.len());
    // The key is read as Kafka reads it (U+FFFD), not an error (java_oracle.rs has Kafka's verdict).
    let (owned, _) = owned_and_borrowed(Batch::decode(&mut raw_batch(0, 1, &bad_key)).unwrap().records().unwrap());
    assert_eq!(&*owned[0].as_ref().unwrap().headers[0].key, "\u{FFFD}", "{owned:?}");
}

#[test]
fn hostile_counts_and_lengths_are_errors() {
    // A record count far beyond what the bytes hold.
    let one = {
        let mut b = BatchBuilder::new(Compression::None);
        b.push(&NewRecord::new(T0, "v")).unwrap();
        b.build().unwrap().raw_records().clone()
    };
    let e = records_of(raw_batch(0, i32::MAX, &one)).unwrap_err();
    assert!(matches!(e.kind(), DecodeErrorKind::UnexpectedEof { .. }), "{e:?}");
    // Negative counts and lengths.
    assert!(matches!(records_of(raw_batch(0, -5, &one)).unwrap_err().kind(), DecodeErrorKind::InvalidLength(-5)));
    // Record: length 6; attributes, ts, offset, key -1, value -1, header count 2^31-1.
    let huge_headers = [0x0C, 0, 0, 0, 1, 1, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F];
    let e = records_of(raw_batch(0, 1, &huge_headers)).unwrap_err();
    assert!(!matches!(e.kind(), DecodeErrorKind::CrcMismatch { .. }), "{e:?}");
    // A key claiming 1 GiB.
    let huge_key = [0x10, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x08, 1, 0];
    assert!(records_of(raw_batch(0, 1, &huge_key)).is_err());
    // A varint that never ends.
    assert!(matches!(records_of(raw_batch(0, 1, &[0xFF; 12])).unwrap_err().kind(), DecodeErrorKind::VarintTooLong));
    // Bytes after the declared records.
    let mut extra = one.to_vec();
    extra.push(0);
    assert!(matches!(records_of(raw_batch(0, 1, &extra)).unwrap_err().kind(), DecodeErrorKind::TrailingBytes(1)));
    // Compression codes 5-7 do not exist.
    assert!(matches!(
        Batch::decode(&mut raw_batch(5, 1, &one)).unwrap_err().kind(),
        DecodeErrorKind::UnsupportedCompression(5)
    ));
    // A batch length below the header size, a size below the smallest legacy message.
    let mut short = raw_batch(0, 1, &one).to_vec();
    short[8..12].copy_from_slice(&20i32.to_be_bytes());
    assert!(Records::from(Bytes::from(short)).batches().next().unwrap().is_err());
    let mut tiny = raw_batch(0, 1, &one).to_vec();
    tiny[8..12].copy_from_slice(&3i32.to_be_bytes());
    assert!(Records::from(Bytes::from(tiny)).batches().next().unwrap().is_err());
}

#[test]
fn compression_bombs_hit_the_cap() {
    // 16 MiB of zeros compress to little; a 1 MiB cap stops each codec.
    let zeros = vec![0u8; 16 << 20];
    for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
        let bomb = compress(codec, &zeros).unwrap();
        assert!(bomb.len() < zeros.len() / 10, "{codec}");
        let e = decompress(codec, &bomb, 1 << 20).unwrap_err();
        assert_eq!(e.kind(), &DecodeErrorKind::DecompressedTooLarge { limit: 1 << 20 }, "{codec}");
        // The same inside a batch.
        let batch = raw_batch(codec.code() as i16, 1, &bomb);
        let b = Batch::decode(&mut batch.clone()).unwrap();
        let e = b.records_capped(1 << 20).unwrap_err();
        assert_eq!(e.kind(), &DecodeErrorKind::DecompressedTooLarge { limit: 1 << 20 }, "{codec}");
    }
    // A raw snappy block that declares 1 GiB of output is refused before anything is allocated,
    // with the default cap.
    let liar = [0x80, 0x80, 0x80, 0x80, 0x04, 0x00];
    let b = Batch::decode(&mut raw_batch(2, 1, &liar)).unwrap();
    let e = b.records().unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::DecompressedTooLarge { limit: DEFAULT_MAX_DECOMPRESSED });
    // Below the cap, a claim no snappy block of that size could back is refused as corrupt.
    let liar = [0x80, 0x80, 0x40, 0x00, 0x00, 0x00]; // 1 MiB from 6 bytes
    let e = decompress(Compression::Snappy, &liar, DEFAULT_MAX_DECOMPRESSED).unwrap_err();
    assert!(matches!(e.kind(), DecodeErrorKind::Decompression { codec: "snappy", .. }), "{e:?}");
}

#[test]
fn builder_rejects_nothing_it_can_encode_and_counts_sizes() {
    let mut b = BatchBuilder::new(Compression::None);
    assert!(b.is_empty());
    b.push(&NewRecord::new(T0, "abc").with_key("k").with_header("h", None)).unwrap();
    assert_eq!(b.len(), 1);
    let expected = b.uncompressed_len();
    let batch = b.build().unwrap();
    assert_eq!(batch.encoded_len(), expected);
    // The empty batch.
    let empty = BatchBuilder::new(Compression::Gzip).build().unwrap();
    assert_eq!((empty.record_count(), empty.last_offset_delta, empty.max_timestamp), (0, -1, -1));
    assert_eq!(empty.records().unwrap().count(), 0);
}
