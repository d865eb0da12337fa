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

#[cfg(any(feature = "gzip", feature = "lz4", feature = "zstd"))]
use std::io::Read;

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
        Compression::Gzip => read_capped(codec, flate2::read::MultiGzDecoder::new(data), data.len(), max_len),
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

/// Reads all of `r`, but at most `max_len` bytes: more is an error. The buffer starts at a few
/// times the compressed size (a known, present length) and grows with the actual output.
#[cfg(any(feature = "gzip", feature = "lz4", feature = "zstd"))]
fn read_capped(
    codec: Compression,
    r: impl Read,
    compressed_len: usize,
    max_len: usize,
) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(compressed_len.saturating_mul(4).min(max_len));
    r.take(max_len as u64 + 1).read_to_end(&mut out).map_err(|e| corrupt(codec, e))?;
    if out.len() > max_len {
        return Err(too_large(max_len));
    }
    Ok(out)
}

#[cfg(feature = "gzip")]
mod gzip {
    use std::io::Write;

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

    pub(super) fn decompress(data: &[u8], max_len: usize) -> Result<Vec<u8>, DecodeError> {
        let mut dec = snap::raw::Decoder::new();
        let mut out = Vec::new();
        // One raw block appended to `out`; its size is known from its header before allocating.
        let mut block = |block: &[u8], out: &mut Vec<u8>| -> Result<(), DecodeError> {
            let n = snap::raw::decompress_len(block).map_err(|e| corrupt(Compression::Snappy, e))?;
            if n > max_len - out.len() {
                return Err(too_large(max_len));
            }
            // No snappy element expands more than 64 bytes from 3: a larger claim is a lie, to
            // be refused before allocating.
            if n > block.len().saturating_mul(32) {
                return Err(corrupt(Compression::Snappy, "declared length exceeds what the block can hold"));
            }
            let at = out.len();
            out.resize(at + n, 0);
            let written = dec.decompress(block, &mut out[at..]).map_err(|e| corrupt(Compression::Snappy, e))?;
            out.truncate(at + written);
            Ok(())
        };
        if data.starts_with(&XERIAL_HEADER[..8]) {
            let mut rest = data.get(16..).ok_or_else(|| corrupt(Compression::Snappy, "truncated xerial header"))?;
            while !rest.is_empty() {
                let (len, tail) =
                    rest.split_at_checked(4).ok_or_else(|| corrupt(Compression::Snappy, "truncated block length"))?;
                let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
                let (chunk, tail) =
                    tail.split_at_checked(len).ok_or_else(|| corrupt(Compression::Snappy, "truncated block"))?;
                block(chunk, &mut out)?;
                rest = tail;
            }
        } else {
            block(data, &mut out)?;
        }
        Ok(out)
    }
}

#[cfg(feature = "lz4")]
mod lz4 {
    use std::io::{Read, Write};

    use super::{corrupt, read_capped, Compression, DecodeError};
    use lz4_flex::frame::{BlockMode, BlockSize, FrameDecoder, FrameEncoder, FrameInfo};

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

    pub(super) fn decompress(data: &[u8], max_len: usize, magic0: bool) -> Result<Vec<u8>, DecodeError> {
        if !magic0 {
            return read_capped(Compression::Lz4, FrameDecoder::new(data), data.len(), max_len);
        }
        // Replace the (probably broken) header checksum by the right one, then decode the rest
        // of the frame in place.
        if data.len() < 7 || data[..4] != MAGIC {
            return Err(corrupt(Compression::Lz4, "not an LZ4 frame"));
        }
        let flg = data[4];
        let hc_at = 6 + if flg & 0x08 != 0 { 8 } else { 0 } + if flg & 0x01 != 0 { 4 } else { 0 };
        if data.len() <= hc_at {
            return Err(corrupt(Compression::Lz4, "truncated frame header"));
        }
        let mut header = data[..=hc_at].to_vec();
        header[hc_at] = header_checksum(&data[4..hc_at]);
        let r = FrameDecoder::new(header.as_slice().chain(&data[hc_at + 1..]));
        read_capped(Compression::Lz4, r, data.len(), max_len)
    }
}

#[cfg(feature = "zstd")]
mod zstd {
    use super::{corrupt, read_capped, Compression, DecodeError};

    /// Kafka's default zstd level.
    const LEVEL: i32 = 3;

    pub(super) fn compress(data: &[u8]) -> std::io::Result<Vec<u8>> {
        zstd::bulk::compress(data, LEVEL)
    }

    pub(super) fn decompress(data: &[u8], max_len: usize) -> Result<Vec<u8>, DecodeError> {
        let mut d = zstd::stream::read::Decoder::with_buffer(data).map_err(|e| corrupt(Compression::Zstd, e))?;
        // The window is memory the decoder allocates from what the frame header claims. Allow
        // what the output limit needs, and at least 8 MiB (what producers use up to level 19).
        let window_log = (usize::BITS - max_len.leading_zeros()).clamp(23, 31);
        d.window_log_max(window_log).map_err(|e| corrupt(Compression::Zstd, e))?;
        read_capped(Compression::Zstd, d, data.len(), max_len)
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
}
