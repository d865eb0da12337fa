//! lz4: a frame of independent blocks, as Kafka's `Lz4BlockOutputStream` writes it and
//! `Lz4BlockInputStream` reads it.

use std::io::Write;

use super::limit::too_large;
use super::{corrupt, Compression, DecodeError};
use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};

const MAGIC: [u8; 4] = 0x184D_2204u32.to_le_bytes();

/// The header checksum: second byte of the xxHash32 of `bytes`.
fn header_checksum(bytes: &[u8]) -> u8 {
    (twox_hash::XxHash32::oneshot(0, bytes) >> 8) as u8
}

pub(super) fn compress(data: &[u8], magic0: bool) -> std::io::Result<Vec<u8>> {
    let info = FrameInfo::new().block_size(BlockSize::Max64KB).block_mode(BlockMode::Independent);
    let mut e = FrameEncoder::with_frame_info(info, Vec::with_capacity(data.len() / 2 + 64));
    e.write_all(data)?;
    let mut out = e.finish()?;
    if magic0 {
        // Magic, FLG, BD, HC: old Kafka hashed the magic number too.
        out[6] = header_checksum(&out[..6]);
    }
    Ok(out)
}

/// Decompresses an LZ4 frame as Kafka's `Lz4BlockInputStream` reads it: magic, a frame
/// descriptor of version 1 with independent blocks, no dictionary and no reserved bit
/// (anything else is refused), the header checksum (not checked in magic 0 message sets,
/// which hashed it wrongly), then blocks up to the end mark, each checked against its block
/// checksum when the frame has them. The content size is skipped and the content checksum
/// read but not checked, and whatever follows the end mark is ignored, as in Kafka; a frame
/// without its end mark is an error.
pub(super) fn decompress(data: &[u8], max_len: usize, magic0: bool) -> Result<Vec<u8>, DecodeError> {
    let bad = |what: &str| corrupt(Compression::Lz4, what);
    let (&[m0, m1, m2, m3, flg, bd], _) =
        data.split_first_chunk::<6>().ok_or_else(|| bad("stream ended prematurely"))?;
    if [m0, m1, m2, m3] != MAGIC {
        return Err(bad("invalid magic bytes"));
    }
    if flg & FLG_VERSION_MASK != FLG_VERSION_01 {
        return Err(bad("unsupported version"));
    }
    if flg & (FLG_RESERVED | FLG_DICTIONARY_ID) != 0 || bd & 0x8f != 0 {
        return Err(bad("reserved bits must be 0"));
    }
    if flg & FLG_INDEPENDENT_BLOCKS == 0 {
        return Err(bad("dependent block stream is unsupported"));
    }
    let block_max = match (bd >> 4) & 7 {
        id @ 4..=7 => 1usize << (8 + 2 * id),
        _ => return Err(bad("unsupported block size")),
    };
    let mut pos = 6;
    if flg & FLG_CONTENT_SIZE != 0 {
        // Skipped, as Kafka skips it.
        pos += 8;
    }
    let hc = *data.get(pos).ok_or_else(|| bad("stream ended prematurely"))?;
    if !magic0 && hc != header_checksum(&data[4..pos]) {
        return Err(bad("stream frame descriptor corrupted"));
    }
    pos += 1;
    let block_checksums = flg & FLG_BLOCK_CHECKSUMS != 0;
    let checksum_len = if block_checksums { 4 } else { 0 };

    // Walk the block lengths first, up to the end mark. What the blocks can hold bounds the
    // output (exact but for the last block).
    let mut at = pos;
    let mut bound = 0usize;
    loop {
        let size = u32_at(data, at).ok_or_else(|| bad("stream ended prematurely"))?;
        at += 4;
        if size == 0 {
            break;
        }
        let len = (size & !UNCOMPRESSED) as usize;
        if len > block_max {
            return Err(bad("block size exceeds the maximum"));
        }
        at = at
            .checked_add(len + checksum_len)
            .filter(|&end| end <= data.len())
            .ok_or_else(|| bad("stream ended prematurely"))?;
        bound = bound.saturating_add(if size & UNCOMPRESSED != 0 { len } else { block_max });
    }
    if flg & FLG_CONTENT_CHECKSUM != 0 && data.len() < at + 4 {
        // Kafka reads the content checksum (and ignores its value): it must be there.
        return Err(bad("stream ended prematurely"));
    }
    decode_blocks(data, pos, block_max, block_checksums, bound, max_len)
}

// The frame descriptor's FLG byte.
const FLG_VERSION_MASK: u8 = 0xc0;
const FLG_VERSION_01: u8 = 0x40;
const FLG_INDEPENDENT_BLOCKS: u8 = 0x20;
const FLG_BLOCK_CHECKSUMS: u8 = 0x10;
const FLG_CONTENT_SIZE: u8 = 0x08;
const FLG_CONTENT_CHECKSUM: u8 = 0x04;
const FLG_RESERVED: u8 = 0x02;
const FLG_DICTIONARY_ID: u8 = 0x01;
/// The block size bit of a block's length: the block is stored uncompressed.
const UNCOMPRESSED: u32 = 0x8000_0000;

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..)?.first_chunk::<4>().map(|b| u32::from_le_bytes(*b))
}

/// Decodes the blocks from `pos` (already walked by `decompress`) straight into one output
/// buffer, no copy of the input.
fn decode_blocks(
    data: &[u8],
    mut pos: usize,
    block_max: usize,
    block_checksums: bool,
    bound: usize,
    max_len: usize,
) -> Result<Vec<u8>, DecodeError> {
    let walked = || corrupt(Compression::Lz4, "truncated frame");
    // Never more than a few times the compressed size before the output is there.
    let capacity = bound.min(max_len).min(data.len().saturating_mul(8));
    let mut out: Vec<u8> = Vec::with_capacity(capacity);
    loop {
        let size = u32_at(data, pos).ok_or_else(walked)?;
        pos += 4;
        if size == 0 {
            break;
        }
        let len = (size & !UNCOMPRESSED) as usize;
        let block = data.get(pos..pos + len).ok_or_else(walked)?;
        pos += len;
        if block_checksums {
            let expected = u32_at(data, pos).ok_or_else(walked)?;
            pos += 4;
            if twox_hash::XxHash32::oneshot(0, block) != expected {
                return Err(corrupt(Compression::Lz4, "block checksum mismatch"));
            }
        }
        let at = out.len();
        // `out` never holds more than `max_len` bytes.
        let room = max_len - at;
        if size & UNCOMPRESSED != 0 {
            if len > room {
                return Err(too_large(max_len));
            }
            out.extend_from_slice(block);
            continue;
        }
        let room = room.min(block_max);
        out.resize(at + room, 0);
        match lz4_flex::block::decompress_into(block, &mut out[at..]) {
            Ok(n) => out.truncate(at + n),
            Err(lz4_flex::block::DecompressError::OutputTooSmall { .. }) if room < block_max => {
                return Err(too_large(max_len));
            }
            Err(e) => return Err(corrupt(Compression::Lz4, e)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{same_outcomes, sample, variants};
    use super::super::{compress, decompress, Compression};
    use crate::error::{DecodeError, DecodeErrorKind};

    fn read_capped(frame: &[u8], cap: usize) -> Result<Vec<u8>, DecodeError> {
        decompress(Compression::Lz4, frame, cap)
    }

    #[test]
    fn lz4_reads_frames_as_kafka_does() {
        use lz4_flex::frame::{BlockMode, BlockSize, FrameDecoder, FrameEncoder, FrameInfo};
        use std::io::{Read as _, Write};
        let data = sample(150_000);
        let frame_of = |size, mode, block_sums, content_sum, content_size: Option<u64>| {
            let info = FrameInfo::new()
                .block_size(size)
                .block_mode(mode)
                .block_checksums(block_sums)
                .content_checksum(content_sum)
                .content_size(content_size);
            let mut e = FrameEncoder::with_frame_info(info, Vec::new());
            e.write_all(&data).unwrap();
            e.finish().unwrap()
        };
        let read = |b: &[u8]| decompress(Compression::Lz4, b, usize::MAX);
        // Frames without content checksum or size: the same outcomes as the frame decoder for
        // every truncation and corruption.
        let mut inputs = Vec::new();
        for (size, block_sums) in [(BlockSize::Max64KB, false), (BlockSize::Max256KB, true), (BlockSize::Max4MB, false)]
        {
            inputs.extend(variants(&frame_of(size, BlockMode::Independent, block_sums, false, None), 2003));
        }
        // Random bytes are stored as uncompressed blocks.
        let noise: Vec<u8> = (0..70_000u64).map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8).collect();
        inputs.extend(variants(&compress(Compression::Lz4, &noise).unwrap(), 4099));
        // (Kafka refuses empty input, which the frame decoder takes for no frame at all.)
        inputs.retain(|i| !i.ends_with(b"trailing") && !i.is_empty());
        assert!(read(&[]).is_err());
        let old = |b: &[u8]| {
            let mut out = Vec::new();
            FrameDecoder::new(b).read_to_end(&mut out).ok().map(|_| out)
        };
        same_outcomes("lz4", &inputs, |b| read(b).ok(), old);
        // Lz4BlockInputStream: the content size is skipped and the content checksum not
        // checked; bytes after the end mark (a second frame too) are ignored; a frame without
        // its end mark, or with dependent blocks, is refused.
        let full = frame_of(BlockSize::Max64KB, BlockMode::Independent, true, true, Some(data.len() as u64));
        assert_eq!(read(&full).unwrap(), data);
        let mut lying = full.clone();
        lying[6..14].copy_from_slice(&7u64.to_le_bytes());
        lying[14] = super::header_checksum(&lying[4..14]);
        let n = lying.len();
        lying[n - 1] ^= 0xff;
        assert_eq!(read(&lying).unwrap(), data);
        assert!(read(&full[..full.len() - 4]).is_err(), "the content checksum is missing");
        let plain = frame_of(BlockSize::Max64KB, BlockMode::Independent, false, false, None);
        assert_eq!(read(&[&plain[..], b"trailing"].concat()).unwrap(), data);
        assert_eq!(read(&[&plain[..], &plain[..]].concat()).unwrap(), data);
        assert!(read(&plain[..plain.len() - 4]).is_err(), "no end mark");
        assert!(read(&frame_of(BlockSize::Max64KB, BlockMode::Linked, false, false, None)).is_err());
        let e = read_capped(&plain, data.len() - 1).unwrap_err();
        assert_eq!(e.kind(), &DecodeErrorKind::DecompressedTooLarge { limit: data.len() - 1 });
    }
}
