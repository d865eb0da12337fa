//! Compression throughput of the candidate crates for Kafka's codecs, on a realistic 1 MB
//! record payload, in the framings Kafka uses (gzip stream, xerial snappy with 32 KiB blocks,
//! LZ4 frame with independent 64 KiB blocks, zstd frame at level 3).
//!
//! Run: `cargo run --release` (miniz_oxide), `--no-default-features --features zlib-rs`,
//! `--no-default-features --features zlib-c` (flate2 backends are exclusive: one per build),
//! add `--features cpp-snappy` for the C++ snappy library; without the default feature
//! `lz4-flex-safe`, lz4_flex uses its unsafe fast paths. `--no-default-features --features e2e`
//! measures kafka-wire's own batches end to end.

use std::hint::black_box;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// About 1 MiB of JSON events, like a typical topic: repeated field names, ids, timestamps, a
/// few words of text. Deterministic.
fn payload() -> Vec<u8> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const WORDS: &[&str] = &[
        "checkout", "cart", "payment", "login", "logout", "search", "view", "click", "refund", "shipping", "berlin",
        "paris", "lisbon", "oslo", "mobile", "desktop", "android", "ios", "chrome", "firefox",
    ];
    let mut out = Vec::with_capacity(1 << 20);
    let mut ts = 1_700_000_000_000u64;
    while out.len() < (1 << 20) {
        ts += rnd() % 50;
        let r = rnd();
        let line = format!(
            "{{\"event_id\":\"{:016x}\",\"ts\":{},\"user_id\":{},\"session\":\"{:08x}\",\"type\":\"{}\",\"city\":\"{}\",\"device\":\"{}\",\"amount\":{}.{:02},\"items\":[{},{},{}],\"note\":\"{} {} {}\"}}\n",
            rnd(),
            ts,
            r % 100_000,
            (r >> 20) as u32,
            WORDS[(r % 10) as usize],
            WORDS[10 + (r >> 8) as usize % 4],
            WORDS[14 + (r >> 12) as usize % 6],
            r % 500,
            (r >> 3) % 100,
            rnd() % 10_000,
            rnd() % 10_000,
            rnd() % 10_000,
            WORDS[(rnd() % 20) as usize],
            WORDS[(rnd() % 20) as usize],
            WORDS[(rnd() % 20) as usize],
        );
        out.extend_from_slice(line.as_bytes());
    }
    out.truncate(1 << 20);
    out
}

/// MB/s (of uncompressed bytes) of `f`, run repeatedly for at least `min` time.
fn rate(len: usize, min: Duration, mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < min {
        f();
        n += 1;
    }
    (len as f64 * n as f64) / start.elapsed().as_secs_f64() / 1e6
}

struct Codec {
    name: &'static str,
    compress: fn(&[u8]) -> Vec<u8>,
    decompress: fn(&[u8]) -> Vec<u8>,
}

fn gzip_c(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
fn gzip_d(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data).read_to_end(&mut out).unwrap();
    out
}

const XERIAL: [u8; 16] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1];

fn xerial_c(data: &[u8], mut block: impl FnMut(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut out = XERIAL.to_vec();
    for chunk in data.chunks(32 * 1024) {
        let c = block(chunk);
        out.extend_from_slice(&(c.len() as u32).to_be_bytes());
        out.extend_from_slice(&c);
    }
    out
}
fn xerial_d(data: &[u8], mut block: impl FnMut(&[u8], &mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = &data[16..];
    while !rest.is_empty() {
        let n = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        block(&rest[4..4 + n], &mut out);
        rest = &rest[4 + n..];
    }
    out
}
fn snap_c(data: &[u8]) -> Vec<u8> {
    let mut enc = snap::raw::Encoder::new();
    xerial_c(data, |b| enc.compress_vec(b).unwrap())
}
fn snap_d(data: &[u8]) -> Vec<u8> {
    let mut dec = snap::raw::Decoder::new();
    xerial_d(data, |b, out| {
        let start = out.len();
        out.resize(start + snap::raw::decompress_len(b).unwrap(), 0);
        dec.decompress(b, &mut out[start..]).unwrap();
    })
}
#[cfg(feature = "cpp-snappy")]
fn cpp_snappy_c(data: &[u8]) -> Vec<u8> {
    xerial_c(data, snappy::compress)
}
#[cfg(feature = "cpp-snappy")]
fn cpp_snappy_d(data: &[u8]) -> Vec<u8> {
    xerial_d(data, |b, out| out.extend_from_slice(&snappy::uncompress(b).unwrap()))
}

fn lz4_flex_c(data: &[u8]) -> Vec<u8> {
    let info = lz4_flex::frame::FrameInfo::new()
        .block_size(lz4_flex::frame::BlockSize::Max64KB)
        .block_mode(lz4_flex::frame::BlockMode::Independent);
    let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
fn lz4_flex_d(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    lz4_flex::frame::FrameDecoder::new(data).read_to_end(&mut out).unwrap();
    out
}
fn lz4_c_c(data: &[u8]) -> Vec<u8> {
    let mut e = lz4::EncoderBuilder::new()
        .block_size(lz4::BlockSize::Max64KB)
        .block_mode(lz4::BlockMode::Independent)
        .checksum(lz4::ContentChecksum::NoChecksum)
        .build(Vec::new())
        .unwrap();
    e.write_all(data).unwrap();
    let (out, r) = e.finish();
    r.unwrap();
    out
}
fn lz4_c_d(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    lz4::Decoder::new(data).unwrap().read_to_end(&mut out).unwrap();
    out
}

fn zstd_c(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}
fn zstd_d(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(data)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}
fn ruzstd_c(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}
fn ruzstd_d(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    ruzstd::decoding::StreamingDecoder::new(data)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// kafka-wire end to end: 1 MiB of record values in batches of ~1 MiB, built and encoded, then
/// decoded and every record read.
#[cfg(feature = "e2e")]
fn e2e(min: Duration) {
    use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
    use kafka_wire::{Bytes, Records};
    let data = payload();
    let records: Vec<NewRecord> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, l)| NewRecord::new(1_700_000_000_000 + i as i64, Bytes::copy_from_slice(l)).with_key(format!("user-{}", i % 1000)))
        .collect();
    let bytes: usize = records.iter().map(|r| r.value.as_ref().unwrap().len() + r.key.as_ref().unwrap().len()).sum();
    println!();
    println!("kafka-wire batches: {} records, {} bytes of keys and values; MB/s of those bytes", records.len(), bytes);
    println!("{:<32} {:>8} {:>12} {:>14}", "codec", "ratio", "build+encode", "decode+read");
    for codec in Compression::ALL {
        let build = || {
            let mut b = BatchBuilder::new(codec);
            for r in &records {
                b.push(r).unwrap();
            }
            Records::from_batches(&[b.build().unwrap().into()]).unwrap()
        };
        let set = build();
        let read = |set: &Records| {
            let mut n = 0;
            for batch in set.batches() {
                for r in batch.unwrap().records().unwrap() {
                    n += r.unwrap().value.map_or(0, |v| v.len());
                }
            }
            n
        };
        assert!(read(&set) > 0);
        let enc = rate(bytes, min, || {
            black_box(build());
        });
        let dec = rate(bytes, min, || {
            black_box(read(black_box(&set)));
        });
        println!("{:<32} {:>8.2} {:>8.0} MB/s {:>9.0} MB/s", codec.name(), bytes as f64 / set.len() as f64, enc, dec);
    }
}

fn main() {
    let data = payload();
    let min = Duration::from_millis(
        std::env::var("BENCH_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1500),
    );
    let gzip_name = if cfg!(feature = "zlib-rs") {
        "gzip   flate2/zlib-rs (Rust)"
    } else if cfg!(feature = "zlib-c") {
        "gzip   flate2/zlib (C)"
    } else {
        "gzip   flate2/miniz_oxide (Rust)"
    };
    let mut codecs = vec![
        Codec {
            name: gzip_name,
            compress: gzip_c,
            decompress: gzip_d,
        },
        Codec {
            name: "snappy snap (Rust)",
            compress: snap_c,
            decompress: snap_d,
        },
        Codec {
            name: if cfg!(feature = "lz4-flex-safe") {
                "lz4    lz4_flex (Rust, safe)"
            } else {
                "lz4    lz4_flex (Rust, unsafe)"
            },
            compress: lz4_flex_c,
            decompress: lz4_flex_d,
        },
        Codec {
            name: "lz4    lz4 (C)",
            compress: lz4_c_c,
            decompress: lz4_c_d,
        },
        Codec {
            name: "zstd   zstd (C) level 3",
            compress: zstd_c,
            decompress: zstd_d,
        },
        Codec {
            name: "zstd   ruzstd (Rust) fastest",
            compress: ruzstd_c,
            decompress: ruzstd_d,
        },
    ];
    #[cfg(feature = "cpp-snappy")]
    codecs.insert(
        2,
        Codec {
            name: "snappy snappy (C++)",
            compress: cpp_snappy_c,
            decompress: cpp_snappy_d,
        },
    );
    if let Some(only) = std::env::args().nth(1) {
        codecs.retain(|c| c.name.contains(&only));
    }
    println!(
        "payload: {} bytes of JSON events; MB/s of uncompressed bytes",
        data.len()
    );
    println!("{:<32} {:>8} {:>12} {:>14}", "codec", "ratio", "compress", "decompress");
    for c in &codecs {
        let packed = (c.compress)(&data);
        assert_eq!((c.decompress)(&packed), data, "{} does not round-trip", c.name);
        let comp = rate(data.len(), min, || {
            black_box((c.compress)(black_box(&data)));
        });
        let decomp = rate(data.len(), min, || {
            black_box((c.decompress)(black_box(&packed)));
        });
        println!(
            "{:<32} {:>8.2} {:>8.0} MB/s {:>9.0} MB/s",
            c.name,
            data.len() as f64 / packed.len() as f64,
            comp,
            decomp
        );
    }
    #[cfg(feature = "e2e")]
    e2e(min);
}
