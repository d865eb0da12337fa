//! The four compression codecs, framed the way Kafka clients frame them.
//!
//! - gzip: a gzip stream (several concatenated members are read as one stream).
//! - snappy: written in the xerial framing that Java clients use (`\x82SNAPPY\0`, two `int32`
//!   versions, then `int32 length | raw snappy block` per 32 KiB of input); read in that framing
//!   or as one raw snappy block (librdkafka writes those).
//! - lz4: an LZ4 frame with independent 64 KiB blocks and no checksums besides the header's,
//!   like Java's `Lz4BlockOutputStream`. Magic 0 message sets carry a header checksum computed
//!   over the wrong bytes (an old Kafka bug): it is written that way for magic 0 and ignored when
//!   reading magic 0.
//! - zstd: a zstd frame (level 3, Kafka's default).
//!
//! Every decompression is capped: output beyond the limit is an error, so a small compressed
//! bomb cannot exhaust memory.

use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};

/// The default cap on the decompressed size of one batch's records: 64 MiB.
pub const DEFAULT_MAX_DECOMPRESSED: usize = 64 << 20;

const FIELD: &str = "Records";

/// A compression codec: attribute bits 0-2 of a record batch or legacy message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Not compressed (code 0).
    #[default]
    None,
    /// gzip (code 1).
    Gzip,
    /// snappy (code 2).
    Snappy,
    /// lz4 (code 3; magic 1 and later, though magic 0 sets with lz4 exist too).
    Lz4,
    /// zstd (code 4; magic 2 only).
    Zstd,
}

impl Compression {
    /// Every codec, in code order.
    pub const ALL: [Compression; 5] =
        [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd];

    /// The code in attribute bits 0-2.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The codec of a code, `None` for the unassigned codes 5-7.
    pub const fn from_code(code: u8) -> Option<Compression> {
        match code {
            0 => Some(Compression::None),
            1 => Some(Compression::Gzip),
            2 => Some(Compression::Snappy),
            3 => Some(Compression::Lz4),
            4 => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// Kafka's name of the codec (`none`, `gzip`, `snappy`, `lz4`, `zstd`).
    pub const fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// Whether this build can compress and decompress with the codec (its cargo feature is on).
    pub const fn is_enabled(self) -> bool {
        match self {
            Compression::None => true,
            Compression::Gzip => cfg!(feature = "gzip"),
            Compression::Snappy => cfg!(feature = "snappy"),
            Compression::Lz4 => cfg!(feature = "lz4"),
            Compression::Zstd => cfg!(feature = "zstd"),
        }
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Compresses `data` with `codec` in Kafka's framing (for lz4: the correct header checksum of
/// magic 1 and 2). `Compression::None` returns a copy.
pub fn compress(codec: Compression, data: &[u8]) -> Result<Vec<u8>, EncodeError> {
    compress_framed(codec, data, false)
}

/// Decompresses `data`, failing if the output would exceed `max_len` bytes. Snappy is accepted
/// in the xerial framing or as a raw block; lz4 frames must carry a correct header checksum
/// (magic 1 and 2).
pub fn decompress(codec: Compression, data: &[u8], max_len: usize) -> Result<Vec<u8>, DecodeError> {
    decompress_framed(codec, data, max_len, false)
}

/// `lz4_magic0`: write the broken lz4 header checksum of magic 0 message sets.
pub(crate) fn compress_framed(codec: Compression, data: &[u8], lz4_magic0: bool) -> Result<Vec<u8>, EncodeError> {
    let _ = lz4_magic0;
    match codec {
        Compression::None => Ok(data.to_vec()),
        #[cfg(feature = "gzip")]
        Compression::Gzip => gzip::compress(data).map_err(|e| io_encode(codec, e)),
        #[cfg(feature = "snappy")]
        Compression::Snappy => snappy::compress(data).map_err(|e| encode_failed(codec, e)),
        #[cfg(feature = "lz4")]
        Compression::Lz4 => lz4::compress(data, lz4_magic0).map_err(|e| io_encode(codec, e)),
        #[cfg(feature = "zstd")]
        Compression::Zstd => zstd::compress(data).map_err(|e| io_encode(codec, e)),
        #[allow(unreachable_patterns)]
        _ => Err(EncodeError::new(EncodeErrorKind::UnsupportedCompression(codec.code()), FIELD)),
    }
}

/// `lz4_magic0`: ignore the lz4 header checksum, which magic 0 message sets got wrong.
pub(crate) fn decompress_framed(
    codec: Compression,
    data: &[u8],
    max_len: usize,
    lz4_magic0: bool,
) -> Result<Vec<u8>, DecodeError> {
    let _ = lz4_magic0;
    match codec {
        Compression::None => {
            if data.len() > max_len {
                return Err(too_large(max_len));
            }
            Ok(data.to_vec())
        }
        #[cfg(feature = "gzip")]
        Compression::Gzip => gzip::decompress(data, max_len),
        #[cfg(feature = "snappy")]
        Compression::Snappy => snappy::decompress(data, max_len),
        #[cfg(feature = "lz4")]
        Compression::Lz4 => lz4::decompress(data, max_len, lz4_magic0),
        #[cfg(feature = "zstd")]
        Compression::Zstd => zstd::decompress(data, max_len),
        #[allow(unreachable_patterns)]
        _ => Err(DecodeError::new(DecodeErrorKind::UnsupportedCompression(codec.code()), FIELD)),
    }
}

/// What a decoder of `codec` allocates for its own state before any output, as far as
/// Rust's allocator sees it, for the compressed bytes `data`: gzip's inflate state, lz4's block
/// buffers (sized by the block size the frame header declares, up to 4 MiB, three times over).
/// zstd's context and window live in its C library (the window is limited by the cap, at least
/// 8 MiB; see `zstd::decompress`).
pub(crate) fn decoder_cost(codec: Compression, data: &[u8]) -> usize {
    const STATE: usize = 96 << 10;
    match codec {
        Compression::None | Compression::Snappy => 0,
        Compression::Gzip | Compression::Zstd => STATE,
        Compression::Lz4 => {
            // The BD byte follows the magic and FLG: block maximum size id in bits 4-6
            // (4: 64 KiB, 5: 256 KiB, 6: 1 MiB, 7: 4 MiB). Anything else is rejected by the
            // decoder before it allocates.
            let block = match data.get(5).map(|bd| (bd >> 4) & 7) {
                Some(id @ 4..=7) => 1usize << (8 + 2 * id),
                _ => 0,
            };
            3 * block + STATE
        }
    }
}

#[cold]
pub(crate) fn too_large(limit: usize) -> DecodeError {
    DecodeError::new(DecodeErrorKind::DecompressedTooLarge { limit }, FIELD)
}

#[cold]
#[allow(dead_code)]
fn corrupt(codec: Compression, reason: impl std::fmt::Display) -> DecodeError {
    DecodeError::new(DecodeErrorKind::Decompression { codec: codec.name(), reason: reason.to_string() }, FIELD)
}

#[cold]
#[allow(dead_code)]
fn encode_failed(codec: Compression, reason: impl std::fmt::Display) -> EncodeError {
    EncodeError::new(EncodeErrorKind::Invalid(format!("{codec} compression failed: {reason}")), FIELD)
}

#[cold]
#[allow(dead_code)]
fn io_encode(codec: Compression, e: std::io::Error) -> EncodeError {
    encode_failed(codec, e)
}

/// The first capacity of a decompression buffer when the format does not tell the size: a few
/// times the compressed size (a known, present length).
#[cfg(any(feature = "gzip", feature = "zstd"))]
fn default_capacity(compressed_len: usize, max_len: usize) -> usize {
    compressed_len.saturating_mul(4).min(max_len)
}

#[cfg(feature = "gzip")]
mod gzip {
    use std::io::Write;

    use flate2::{Decompress, FlushDecompress, Status};

    use super::{corrupt, too_large, Compression, DecodeError};

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
            if out.len() == out.capacity() {
                // One byte more than the cap, to tell a full output from a longer one.
                let room = max_len.saturating_add(1) - out.len();
                out.reserve_exact(out.capacity().max(32 << 10).min(room));
            }
            let (in_before, out_before) = (d.total_in(), out.len());
            let status =
                d.decompress_vec(rest, out, FlushDecompress::None).map_err(|e| corrupt(Compression::Gzip, e))?;
            let consumed = (d.total_in() - in_before) as usize;
            rest = rest.get(consumed..).unwrap_or_default();
            if out.len() > max_len {
                return Err(too_large(max_len));
            }
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
        let fallback = super::default_capacity(data.len(), max_len);
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
}

#[cfg(feature = "snappy")]
mod snappy {
    use super::{corrupt, too_large, Compression, DecodeError};

    /// The xerial framing: magic, then version 1 and "compatible version" 1 as `int32`s.
    pub(super) const XERIAL_HEADER: [u8; 16] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1];
    /// Java's `SnappyOutputStream` compresses its input in blocks of this size.
    const BLOCK: usize = 32 * 1024;

    pub(super) fn compress(data: &[u8]) -> Result<Vec<u8>, snap::Error> {
        let mut enc = snap::raw::Encoder::new();
        let blocks = data.len().div_ceil(BLOCK);
        let mut out =
            Vec::with_capacity(16 + blocks * 4 + snap::raw::max_compress_len(BLOCK) * blocks.min(2) + data.len() / 2);
        out.extend_from_slice(&XERIAL_HEADER);
        for block in data.chunks(BLOCK) {
            let at = out.len();
            out.extend_from_slice(&[0; 4]);
            out.resize(at + 4 + snap::raw::max_compress_len(block.len()), 0);
            let n = enc.compress(block, &mut out[at + 4..])?;
            out.truncate(at + 4 + n);
            out[at..at + 4].copy_from_slice(&(n as u32).to_be_bytes());
        }
        Ok(out)
    }

    /// Calls `f` with each raw snappy block of `data`: the blocks of the xerial framing, or
    /// `data` itself when it is one raw block.
    fn for_each_block<'a>(
        data: &'a [u8],
        mut f: impl FnMut(&'a [u8]) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        if !data.starts_with(&XERIAL_HEADER[..8]) {
            return f(data);
        }
        let mut rest = data.get(16..).ok_or_else(|| corrupt(Compression::Snappy, "truncated xerial header"))?;
        while !rest.is_empty() {
            let (len, tail) =
                rest.split_at_checked(4).ok_or_else(|| corrupt(Compression::Snappy, "truncated block length"))?;
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let (chunk, tail) =
                tail.split_at_checked(len).ok_or_else(|| corrupt(Compression::Snappy, "truncated block"))?;
            f(chunk)?;
            rest = tail;
        }
        Ok(())
    }

    /// The decompressed size of one raw block, from its header.
    fn block_len(block: &[u8]) -> Result<usize, DecodeError> {
        snap::raw::decompress_len(block).map_err(|e| corrupt(Compression::Snappy, e))
    }

    pub(super) fn decompress(data: &[u8], max_len: usize) -> Result<Vec<u8>, DecodeError> {
        // Every block's header tells its decompressed size: add them up, checking each against
        // the cap and against what its bytes can hold, before allocating the output once.
        let mut total = 0usize;
        for_each_block(data, |block| {
            let n = block_len(block)?;
            if n > max_len - total {
                return Err(too_large(max_len));
            }
            // No snappy element expands more than 64 bytes from 3: a larger claim is a lie, to
            // be refused before allocating.
            if n > block.len().saturating_mul(32) {
                return Err(corrupt(Compression::Snappy, "declared length exceeds what the block can hold"));
            }
            total += n;
            Ok(())
        })?;
        let mut out = vec![0; total];
        let mut at = 0;
        let mut dec = snap::raw::Decoder::new();
        for_each_block(data, |block| {
            let n = block_len(block)?;
            let dst = out.get_mut(at..at + n).ok_or_else(|| corrupt(Compression::Snappy, "block sizes changed"))?;
            let written = dec.decompress(block, dst).map_err(|e| corrupt(Compression::Snappy, e))?;
            if written != n {
                return Err(corrupt(Compression::Snappy, "block shorter than its header says"));
            }
            at += n;
            Ok(())
        })?;
        Ok(out)
    }
}

#[cfg(feature = "lz4")]
mod lz4 {
    use std::io::Write;

    use super::{corrupt, Compression, DecodeError};
    use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};

    const MAGIC: [u8; 4] = 0x184D_2204u32.to_le_bytes();

    /// The header checksum: second byte of the xxHash32 of `bytes`.
    fn header_checksum(bytes: &[u8]) -> u8 {
        (twox_hash::XxHash32::oneshot(0, bytes) >> 8) as u8
    }

    #[cfg(test)]
    pub(super) fn header_checksum_for_tests(bytes: &[u8]) -> u8 {
        header_checksum(bytes)
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
                    return Err(super::too_large(max_len));
                }
                out.extend_from_slice(block);
                continue;
            }
            let room = room.min(block_max);
            out.resize(at + room, 0);
            match lz4_flex::block::decompress_into(block, &mut out[at..]) {
                Ok(n) => out.truncate(at + n),
                Err(lz4_flex::block::DecompressError::OutputTooSmall { .. }) if room < block_max => {
                    return Err(super::too_large(max_len));
                }
                Err(e) => return Err(corrupt(Compression::Lz4, e)),
            }
        }
        Ok(out)
    }
}

#[cfg(feature = "zstd")]
mod zstd {
    use super::{corrupt, default_capacity, too_large, Compression, DecodeError};
    use zstd::zstd_safe;

    /// Kafka's default zstd level.
    const LEVEL: i32 = 3;

    pub(super) fn compress(data: &[u8]) -> std::io::Result<Vec<u8>> {
        zstd::bulk::compress(data, LEVEL)
    }

    #[cold]
    fn zstd_error(code: zstd_safe::ErrorCode) -> DecodeError {
        corrupt(Compression::Zstd, zstd_safe::get_error_name(code))
    }

    pub(super) fn decompress(data: &[u8], max_len: usize) -> Result<Vec<u8>, DecodeError> {
        // One frame that declares its size (zstd's one-shot compression and librdkafka write
        // it): decoded in one call into a buffer of exactly that size, which zstd checks the
        // frame fills. (A one-shot decode keeps no window: the output is the window.)
        if let Ok(Some(size)) = zstd_safe::get_frame_content_size(data) {
            if zstd_safe::find_frame_compressed_size(data) == Ok(data.len()) {
                if size > max_len as u64 {
                    return Err(too_large(max_len));
                }
                let mut out = Vec::with_capacity(size as usize);
                let mut dctx = zstd_safe::DCtx::try_create()
                    .ok_or_else(|| corrupt(Compression::Zstd, "cannot create a decoder"))?;
                dctx.decompress(&mut out, data).map_err(zstd_error)?;
                if out.len() as u64 != size {
                    return Err(corrupt(Compression::Zstd, "content size differs from the frame's"));
                }
                return Ok(out);
            }
        }
        // Any other input (frames without a declared size, as Java's zstd-jni stream writes
        // them; several frames): streamed into the spare capacity of one growing buffer.
        let mut dctx =
            zstd_safe::DCtx::try_create().ok_or_else(|| corrupt(Compression::Zstd, "cannot create a decoder"))?;
        // The window is memory the decoder allocates from what the frame header claims. Allow
        // what the output limit needs, and at least 8 MiB (what producers use up to level 19).
        let window_log = (usize::BITS - max_len.leading_zeros()).clamp(23, 31);
        dctx.set_parameter(zstd_safe::DParameter::WindowLogMax(window_log)).map_err(zstd_error)?;
        let mut out = Vec::with_capacity(default_capacity(data.len(), max_len));
        let mut input = zstd_safe::InBuffer::around(data);
        loop {
            if out.len() == out.capacity() {
                // One byte more than the cap, to tell a full output from a longer one.
                let room = max_len.saturating_add(1) - out.len();
                out.reserve_exact(out.capacity().max(32 << 10).min(room));
            }
            let (in_before, out_before) = (input.pos(), out.len());
            let hint = {
                let mut output = zstd_safe::OutBuffer::around_pos(&mut out, out_before);
                dctx.decompress_stream(&mut output, &mut input).map_err(zstd_error)?
            };
            if out.len() > max_len {
                return Err(too_large(max_len));
            }
            // 0: a frame ended, with all its output written.
            if hint == 0 && input.pos() == data.len() {
                return Ok(out);
            }
            // There was room for output: no progress means the input ended inside a frame.
            if input.pos() == in_before && out.len() == out_before {
                return Err(corrupt(Compression::Zstd, "unexpected end of the zstd stream"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in Compression::ALL {
            assert_eq!(Compression::from_code(c.code()), Some(c));
        }
        assert_eq!(Compression::from_code(5), None);
    }

    #[test]
    fn every_enabled_codec_round_trips_and_respects_the_cap() {
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        for c in Compression::ALL.into_iter().filter(|c| c.is_enabled()) {
            let packed = compress(c, &data).unwrap();
            assert_eq!(decompress(c, &packed, data.len()).unwrap(), data, "{c}");
            let e = decompress(c, &packed, data.len() - 1).unwrap_err();
            assert_eq!(e.kind(), &DecodeErrorKind::DecompressedTooLarge { limit: data.len() - 1 }, "{c}");
        }
    }

    /// Some record-like bytes: compressible, not trivially.
    fn sample(len: usize) -> Vec<u8> {
        (0..len as u32).map(|i| ((i * 7) % 251) as u8 ^ ((i / 1000) as u8)).collect()
    }

    /// The input, nothing, the input cut and with one byte flipped every `step` bytes, and the
    /// input with bytes appended.
    fn variants(input: &[u8], step: usize) -> Vec<Vec<u8>> {
        let mut out = vec![input.to_vec(), Vec::new()];
        for at in (0..input.len()).step_by(step) {
            out.push(input[..at].to_vec());
            let mut flipped = input.to_vec();
            flipped[at] ^= 0x41;
            out.push(flipped);
        }
        let mut longer = input.to_vec();
        longer.extend_from_slice(b"trailing");
        out.push(longer);
        out
    }

    /// `new` must accept exactly what `old` (the plain streaming decoder) accepts, with the
    /// same output.
    fn same_outcomes(
        what: &str,
        inputs: &[Vec<u8>],
        new: impl Fn(&[u8]) -> Option<Vec<u8>>,
        old: impl Fn(&[u8]) -> Option<Vec<u8>>,
    ) {
        for (i, input) in inputs.iter().enumerate() {
            assert_eq!(new(input), old(input), "{what}: input {i} ({} bytes)", input.len());
        }
    }

    #[cfg(feature = "gzip")]
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

    #[cfg(feature = "lz4")]
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
        lying[14] = lz4::header_checksum_for_tests(&lying[4..14]);
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

    #[cfg(feature = "lz4")]
    fn read_capped(frame: &[u8], cap: usize) -> Result<Vec<u8>, DecodeError> {
        decompress(Compression::Lz4, frame, cap)
    }

    #[cfg(feature = "zstd")]
    #[test]
    fn zstd_decodes_like_the_streaming_decoder() {
        let data = sample(100_000);
        let sized = compress(Compression::Zstd, &data).unwrap();
        assert!(matches!(::zstd::zstd_safe::get_frame_content_size(&sized), Ok(Some(_))));
        let unsized_frame = ::zstd::stream::encode_all(data.as_slice(), 3).unwrap();
        let mut two = sized.clone();
        two.extend_from_slice(&compress(Compression::Zstd, b"second frame").unwrap());
        let mut inputs = variants(&sized, 1499);
        inputs.extend(variants(&unsized_frame, 1999));
        inputs.extend(variants(&two, 4001));
        let old = |b: &[u8]| ::zstd::stream::decode_all(b).ok();
        same_outcomes("zstd", &inputs, |b| decompress(Compression::Zstd, b, usize::MAX >> 1).ok(), old);
        // The streamed path (no declared size) keeps to the cap too.
        assert_eq!(decompress(Compression::Zstd, &unsized_frame, data.len()).unwrap(), data);
        let e = decompress(Compression::Zstd, &unsized_frame, data.len() - 1).unwrap_err();
        assert_eq!(e.kind(), &DecodeErrorKind::DecompressedTooLarge { limit: data.len() - 1 });
    }

    #[cfg(feature = "snappy")]
    #[test]
    fn snappy_sizes_its_output_from_the_block_headers() {
        let data = sample(200_000);
        let framed = compress(Compression::Snappy, &data).unwrap();
        let raw = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        for input in [&framed, &raw] {
            let out = decompress(Compression::Snappy, input, data.len()).unwrap();
            assert_eq!(out, data);
            assert_eq!(out.capacity(), data.len());
        }
        for input in variants(&framed, 1021) {
            let _ = decompress(Compression::Snappy, &input, usize::MAX);
        }
        let old = |b: &[u8]| snap::raw::Decoder::new().decompress_vec(b).ok();
        same_outcomes("snappy", &variants(&raw, 1021), |b| decompress(Compression::Snappy, b, usize::MAX).ok(), old);
    }
}
