//! Compression checked against independent implementations: frames made by the `gzip`, `lz4`
//! and `zstd` command-line tools decode (inside record batches too), and what we compress those
//! tools decompress. Snappy has no standard tool: the xerial framing and raw blocks are written
//! byte by byte here, and our output is read back by a small decoder written from the format
//! description.
//!
//! The tools must be installed (Debian packages `gzip`, `lz4`, `zstd`); a missing tool fails
//! the test with the package to install.

use std::io::Write;
use std::process::{Command, Stdio};

use kafka_wire::records::{compress, decompress, Batch, BatchBuilder, Compression, NewRecord, Record};
use kafka_wire::{Bytes, Records};

const T0: i64 = 1_700_000_000_000;

/// Runs `tool args`, feeding `input` on stdin; returns stdout.
fn run(tool: &str, package: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `{tool}` ({e}): install the Debian package `{package}`"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "`{tool} {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// About 600 KB of record-like text: compressible, several lz4 and snappy blocks long.
fn payload() -> Vec<u8> {
    (0..6000)
        .flat_map(|i| {
            format!("{{\"id\":{i},\"user\":\"u{}\",\"event\":\"click\",\"pad\":\"{}\"}}\n", i % 97, "x".repeat(i % 40))
                .into_bytes()
        })
        .collect()
}

/// The records section of an uncompressed batch of `n` records, and those records.
fn records_section(n: usize) -> (Bytes, Vec<NewRecord>) {
    let records: Vec<NewRecord> = (0..n)
        .map(|i| NewRecord::new(T0 + i as i64, format!("value {i} {}", "abc".repeat(i % 50))).with_key(format!("k{i}")))
        .collect();
    let mut b = BatchBuilder::new(Compression::None);
    for r in &records {
        b.push(r).unwrap();
    }
    (b.build().unwrap().raw_records().clone(), records)
}

/// A v2 batch whose records section is `body`, compressed by someone else with `codec`.
fn batch_around(codec: Compression, count: i32, body: &[u8]) -> Bytes {
    let mut b = BatchBuilder::new(Compression::None).build().unwrap().to_bytes().unwrap().to_vec();
    b.truncate(61);
    b[21..23].copy_from_slice(&(codec.code() as i16).to_be_bytes());
    b[23..27].copy_from_slice(&(count - 1).to_be_bytes());
    b[27..35].copy_from_slice(&T0.to_be_bytes()); // base timestamp: the records hold deltas
    b[57..61].copy_from_slice(&count.to_be_bytes());
    b.extend_from_slice(body);
    let len = (b.len() - 12) as i32;
    b[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c_bitwise(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(b)
}

fn crc32c_bitwise(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x82F6_3B78 } else { crc >> 1 };
        }
    }
    !crc
}

fn decode_batch(bytes: Bytes) -> Vec<Record> {
    let mut batches = Records::from(bytes).batches();
    let b: Batch = batches.next().unwrap().unwrap();
    assert!(batches.next().is_none());
    b.records().unwrap().collect::<Result<_, _>>().unwrap()
}

/// Tool-compressed frames decode, alone and as the records of a batch; ours decompress with the
/// tool.
fn check_tool(codec: Compression, tool: &str, package: &str, compress_args: &[&[&str]], decompress_args: &[&str]) {
    let data = payload();
    for args in compress_args {
        let framed = run(tool, package, args, &data);
        assert_eq!(decompress(codec, &framed, data.len()).unwrap(), data, "{tool} {args:?}");
        let (section, records) = records_section(300);
        let framed = run(tool, package, args, &section);
        let got = decode_batch(batch_around(codec, records.len() as i32, &framed));
        assert_eq!(got.len(), records.len());
        for (g, r) in got.iter().zip(&records) {
            assert_eq!((&g.key, &g.value, g.timestamp), (&r.key, &r.value, r.timestamp), "{tool} {args:?}");
        }
    }
    let ours = compress(codec, &data).unwrap();
    assert_eq!(run(tool, package, decompress_args, &ours), data, "{tool} reading our {codec}");
    // A whole batch we build: its records section is a frame the tool reads.
    let (section, records) = records_section(300);
    let mut b = BatchBuilder::new(codec);
    for r in &records {
        b.push(r).unwrap();
    }
    let batch = b.build().unwrap();
    assert_eq!(run(tool, package, decompress_args, batch.raw_records()), section);
}

#[test]
fn gzip_interoperates_with_the_gzip_tool() {
    check_tool(Compression::Gzip, "gzip", "gzip", &[&["-c"], &["-c", "-1"], &["-c", "-9"]], &["-dc"]);
    // Concatenated members are one stream, as for Java's GZIPInputStream.
    let mut two = run("gzip", "gzip", &["-c"], b"hello ");
    two.extend(run("gzip", "gzip", &["-c"], b"world"));
    assert_eq!(decompress(Compression::Gzip, &two, 100).unwrap(), b"hello world");
}

#[test]
fn lz4_interoperates_with_the_lz4_tool() {
    // Defaults (content checksum, 4 MiB blocks), 64 KiB blocks, linked blocks, block checksums,
    // content size in the header.
    check_tool(
        Compression::Lz4,
        "lz4",
        "lz4",
        &[&["-c"], &["-c", "-B4"], &["-c", "-BD"], &["-c", "-BX", "-B4"], &["-c", "--content-size"], &["-c", "-9"]],
        &["-dc"],
    );
    // Our frames are what Java's Lz4BlockOutputStream writes: FLG version 1 + independent
    // blocks, BD 64 KiB, no content size, no checksums beyond the header's.
    let ours = compress(Compression::Lz4, &payload()).unwrap();
    assert_eq!(&ours[..6], &[0x04, 0x22, 0x4D, 0x18, 0x60, 0x40]);
}

#[test]
fn zstd_interoperates_with_the_zstd_tool() {
    check_tool(
        Compression::Zstd,
        "zstd",
        "zstd",
        &[&["-c"], &["-c", "-19"], &["-c", "--no-check"], &["-c", "-1"]],
        &["-dc"],
    );
}

// ---- snappy -----------------------------------------------------------------------------------

/// A raw snappy block written by hand: the uncompressed length as a varint, then elements.
fn hand_snappy_block() -> (Vec<u8>, Vec<u8>) {
    let mut block = vec![
        40,           // uncompressed length 40
        (8 - 1) << 2, // literal of 8 bytes
    ];
    block.extend_from_slice(b"kafka-ab");
    // copy with 1-byte offset: tag bits 01, length 4..11 in bits 2-4, offset bits 8-10 in 5-7.
    block.push(((8 - 4) << 2) | 0b01); // copy 8 bytes from 8 back
    block.push(8);
    // copy with 2-byte offset: tag bits 10, length-1 in bits 2-7, little-endian offset.
    block.push(((16 - 1) << 2) | 0b10); // copy 16 bytes from 16 back
    block.extend_from_slice(&16u16.to_le_bytes());
    block.push((8 - 1) << 2); // literal of 8 bytes
    block.extend_from_slice(b"-stream!");
    let mut expected = b"kafka-ab".repeat(4);
    expected.extend_from_slice(b"-stream!");
    (block, expected)
}

#[test]
fn snappy_reads_the_xerial_framing_and_raw_blocks_written_by_hand() {
    let (block, expected) = hand_snappy_block();
    assert_eq!(expected.len(), 40);
    // Raw, as librdkafka writes.
    assert_eq!(decompress(Compression::Snappy, &block, 1000).unwrap(), expected);
    // Xerial: magic, version 1, compatible version 1, then length-prefixed blocks.
    let mut xerial = vec![0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0x00, 0, 0, 0, 1, 0, 0, 0, 1];
    for _ in 0..3 {
        xerial.extend_from_slice(&(block.len() as u32).to_be_bytes());
        xerial.extend_from_slice(&block);
    }
    assert_eq!(decompress(Compression::Snappy, &xerial, 1000).unwrap(), expected.repeat(3));
    // And as the records of a batch.
    let (section, records) = records_section(50);
    let mut framed = xerial[..16].to_vec();
    for chunk in section.chunks(1000) {
        let mut raw = varint(chunk.len());
        for piece in chunk.chunks(60) {
            raw.push(((piece.len() - 1) as u8) << 2);
            raw.extend_from_slice(piece);
        }
        framed.extend_from_slice(&(raw.len() as u32).to_be_bytes());
        framed.extend_from_slice(&raw);
    }
    let got = decode_batch(batch_around(Compression::Snappy, records.len() as i32, &framed));
    assert_eq!(
        got.iter().map(|r| r.value.clone()).collect::<Vec<_>>(),
        records.iter().map(|r| r.value.clone()).collect::<Vec<_>>()
    );
}

fn varint(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out
}

/// A raw snappy block decoder following the format description, for checking our output.
fn reference_snappy_decode(mut b: &[u8]) -> Vec<u8> {
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let byte = b[0];
        b = &b[1..];
        len |= ((byte & 0x7F) as usize) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let mut out: Vec<u8> = Vec::with_capacity(len);
    while !b.is_empty() {
        let tag = b[0];
        b = &b[1..];
        let (n, offset) = match tag & 3 {
            0 => {
                let mut n = (tag >> 2) as usize + 1;
                if n > 60 {
                    let extra = n - 60;
                    n = b[..extra].iter().rev().fold(0, |acc, &x| (acc << 8) | x as usize) + 1;
                    b = &b[extra..];
                }
                out.extend_from_slice(&b[..n]);
                b = &b[n..];
                continue;
            }
            1 => {
                let n = ((tag >> 2) & 7) as usize + 4;
                let offset = (((tag >> 5) as usize) << 8) | b[0] as usize;
                b = &b[1..];
                (n, offset)
            }
            2 => {
                let n = (tag >> 2) as usize + 1;
                let offset = u16::from_le_bytes([b[0], b[1]]) as usize;
                b = &b[2..];
                (n, offset)
            }
            _ => {
                let n = (tag >> 2) as usize + 1;
                let offset = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
                b = &b[4..];
                (n, offset)
            }
        };
        let start = out.len() - offset;
        for i in 0..n {
            out.push(out[start + i]);
        }
    }
    assert_eq!(out.len(), len);
    out
}

#[test]
fn snappy_writes_the_xerial_framing_java_reads() {
    let data = payload();
    let ours = compress(Compression::Snappy, &data).unwrap();
    assert_eq!(&ours[..16], &[0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    let mut rest = &ours[16..];
    let mut out = Vec::new();
    let mut blocks = 0;
    while !rest.is_empty() {
        let n = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        let block = reference_snappy_decode(&rest[4..4 + n]);
        assert!(block.len() <= 32 * 1024, "blocks hold at most 32 KiB, as snappy-java writes");
        out.extend(block);
        rest = &rest[4 + n..];
        blocks += 1;
    }
    assert_eq!(out, data);
    assert_eq!(blocks, data.len().div_ceil(32 * 1024));
}
