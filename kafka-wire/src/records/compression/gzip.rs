//! gzip, read as JDK 17's `GZIPInputStream` reads it (Kafka's `GzipCompression`).

use std::io::Write;

use flate2::{Decompress, FlushDecompress, Status};

use super::limit::{default_capacity, grow_within, within};
use super::{corrupt, Compression, DecodeError};

/// Decompresses gzip data as Kafka reads it, through JDK 17's `GZIPInputStream` (zlib's
/// gzip mode checks each member's header, CRC-32 and size), straight into the spare
/// capacity of the output: no copy of the input, no zeroing of the output.
///
/// After a member, what follows is read as the JDK reads it (`GZIPInputStream.readTrailer`):
/// when it looks at it at all (more input than its 8 KiB buffer held, or more than 26
/// bytes buffered past the deflate data) and it starts with a gzip header, it is the next
/// member; anything else (zero padding, garbage, a short or broken header) ends the data
/// and is ignored.
pub(super) fn decompress(data: &[u8], max_len: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(size_hint(data, max_len));
    let Some(header) = jdk_header_len(data) else {
        return Err(corrupt(Compression::Gzip, "not in GZIP format"));
    };
    // Where the JDK's reads of the underlying stream stand: after the first header, which
    // it reads before any buffering.
    let mut raw = header;
    let mut start = 0;
    loop {
        let end = start + decompress_member(&data[start..], &mut out, max_len)?;
        // The JDK buffers the input 8 KiB at a time from `raw` until the deflate data ends.
        let deflate_end = end - 8;
        let buffered_to = if deflate_end <= raw {
            raw
        } else {
            (raw + (deflate_end - raw).div_ceil(JDK_BUFFER) * JDK_BUFFER).min(data.len())
        };
        let buffered = buffered_to - deflate_end;
        raw = buffered_to.max(end);
        if !(data.len() > raw || buffered > 26) {
            return Ok(out);
        }
        match jdk_header_len(&data[end..]) {
            Some(h) => {
                start = end;
                raw = raw.max(end + h);
            }
            None => return Ok(out),
        }
    }
}

/// `GZIPInputStream`'s input buffer size as Kafka creates it (`GzipCompression`).
const JDK_BUFFER: usize = 8 << 10;

/// The length of the gzip header at the start of `data` as `GZIPInputStream.readHeader`
/// reads it (magic, method 8, flags, skipped fields, the header CRC when flagged), or `None`
/// where it throws.
fn jdk_header_len(data: &[u8]) -> Option<usize> {
    let (&[0x1f, 0x8b, 8, flags], _) = data.split_first_chunk::<4>()? else { return None };
    let mut n = 10;
    if flags & 4 != 0 {
        let xlen = u16::from_le_bytes(*data.get(n..)?.first_chunk::<2>()?) as usize;
        n += 2 + xlen;
    }
    for flag in [8, 16] {
        if flags & flag != 0 {
            n += data.get(n..)?.iter().position(|&b| b == 0)? + 1;
        }
    }
    if flags & 2 != 0 {
        let crc = u16::from_le_bytes(*data.get(n..)?.first_chunk::<2>()?);
        if crc != crc32fast::hash(&data[..n]) as u16 {
            return None;
        }
        n += 2;
    }
    (n <= data.len()).then_some(n)
}

/// Decompresses the gzip member at the start of `data` into `out`; returns its length.
fn decompress_member(data: &[u8], out: &mut Vec<u8>, max_len: usize) -> Result<usize, DecodeError> {
    let mut rest = data;
    let mut d = Decompress::new_gzip(15);
    loop {
        grow_within(out, max_len);
        let (in_before, out_before) = (d.total_in(), out.len());
        let status = d.decompress_vec(rest, out, FlushDecompress::None).map_err(|e| corrupt(Compression::Gzip, e))?;
        let consumed = (d.total_in() - in_before) as usize;
        rest = rest.get(consumed..).unwrap_or_default();
        within(out, max_len)?;
        match status {
            Status::StreamEnd => return Ok(d.total_in() as usize),
            // There is room for output: no progress means the input ended too soon.
            _ if consumed == 0 && out.len() == out_before => {
                return Err(corrupt(Compression::Gzip, "unexpected end of the gzip stream"));
            }
            _ => {}
        }
    }
}

/// The first capacity for decompressing `data`: the size its trailer records (ISIZE, the
/// last four bytes: the size of the last member modulo 2^32), which is exact for the single
/// member Kafka clients write. Only a hint: a wrong one costs a reallocation, and it is never
/// taken above the cap or above 32 times the compressed size (so that a lying trailer cannot
/// make a small batch allocate much more than it is charged for).
fn size_hint(data: &[u8], max_len: usize) -> usize {
    let fallback = default_capacity(data.len(), max_len);
    // A gzip member takes at least 18 bytes (10 of header, 8 of trailer).
    let trailer = data.last_chunk::<4>().filter(|_| data.len() >= 18);
    match trailer.map(|t| u32::from_le_bytes(*t) as usize) {
        Some(n) if n > 0 => n.min(max_len).min(data.len().saturating_mul(32)),
        _ => fallback,
    }
}

pub(super) fn compress(data: &[u8]) -> std::io::Result<Vec<u8>> {
    // Level 6: the default of zlib, Java's Deflater and librdkafka.
    let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 2 + 64), flate2::Compression::new(6));
    e.write_all(data)?;
    e.finish()
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{same_outcomes, sample, variants};
    use super::super::{compress, decompress, Compression};
    use crate::error::DecodeErrorKind;

    #[test]
    fn gzip_reads_members_and_trailing_bytes_as_the_jdk_does() {
        let data = sample(100_000);
        let one = compress(Compression::Gzip, &data).unwrap();
        let empty = compress(Compression::Gzip, b"").unwrap();
        // Without anything after the member, the same outcomes as the streaming decoder.
        let mut inputs: Vec<Vec<u8>> = variants(&one, 97);
        inputs.extend(variants(&empty, 1));
        inputs.retain(|i| !i.ends_with(b"trailing"));
        use std::io::Read as _;
        let old = |b: &[u8]| {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(b).read_to_end(&mut out).ok().map(|_| out)
        };
        same_outcomes("gzip", &inputs, |b| decompress(Compression::Gzip, b, usize::MAX).ok(), old);
        let with = |tail: &[u8]| [&one[..], tail].concat();
        // A second member is read; zero padding and garbage are not a header, or not looked at
        // (GZIPInputStream.readTrailer); a gzip header followed by a broken deflate stream is an
        // error.
        let second = compress(Compression::Gzip, &sample(300)).unwrap();
        let read = |b: &[u8]| decompress(Compression::Gzip, b, usize::MAX);
        assert_eq!(read(&with(&second)).unwrap(), [&data[..], &sample(300)].concat());
        // A gzip header and a broken deflate stream: not looked at when the 8-byte trailer and
        // it make at most 26 buffered bytes, an error when one byte longer.
        let small = compress(Compression::Gzip, &data[..1000]).unwrap();
        let header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        let ignored = [&small[..], &header, &[0xff; 8]].concat();
        assert_eq!(read(&ignored).unwrap(), &data[..1000]);
        assert!(read(&[&ignored[..], &[0xff]].concat()).is_err());
        for tail in [&[0u8; 8][..], &[0; 100], b"trailing garbage", &[0x1f, 0x8b]] {
            assert_eq!(read(&with(tail)).unwrap(), data, "{tail:02x?}");
        }
        let mut broken = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        broken.extend([0u8; 40]);
        assert!(read(&with(&broken)).is_err());
        // A lying size in the trailer is only a hint.
        let mut lying = one.clone();
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decompress(Compression::Gzip, &lying, usize::MAX).is_err());
        let two = with(&second);
        let total = data.len() + 300;
        assert_eq!(decompress(Compression::Gzip, &two, total).unwrap().len(), total);
        let e = decompress(Compression::Gzip, &two, total - 1).unwrap_err();
        assert_eq!(e.kind(), &DecodeErrorKind::DecompressedTooLarge { limit: total - 1 });
    }
}
