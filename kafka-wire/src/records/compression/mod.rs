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
//!
//! Every decompression is capped (`limit.rs`: the cap, the budget of a record set, and what a
//! decoder's state costs): output beyond the limit is an error, so a small compressed bomb
//! cannot exhaust memory. One file per codec: `gzip.rs`, `snappy.rs`, `lz4.rs`, `zstd.rs`.

#[cfg(feature = "gzip")]
mod gzip;
mod limit;
#[cfg(feature = "lz4")]
mod lz4;
#[cfg(feature = "snappy")]
mod snappy;
#[cfg(feature = "zstd")]
mod zstd;

pub(crate) use limit::too_large;
pub use limit::{DecompressionBudget, DEFAULT_MAX_DECOMPRESSED};

use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};

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

#[cfg(test)]
mod test_util {
    /// Some record-like bytes: compressible, not trivially.
    pub(super) fn sample(len: usize) -> Vec<u8> {
        (0..len as u32).map(|i| ((i * 7) % 251) as u8 ^ ((i / 1000) as u8)).collect()
    }

    /// The input, nothing, the input cut and with one byte flipped every `step` bytes, and the
    /// input with bytes appended.
    pub(super) fn variants(input: &[u8], step: usize) -> Vec<Vec<u8>> {
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
    pub(super) fn same_outcomes(
        what: &str,
        inputs: &[Vec<u8>],
        new: impl Fn(&[u8]) -> Option<Vec<u8>>,
        old: impl Fn(&[u8]) -> Option<Vec<u8>>,
    ) {
        for (i, input) in inputs.iter().enumerate() {
            assert_eq!(new(input), old(input), "{what}: input {i} ({} bytes)", input.len());
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
}
