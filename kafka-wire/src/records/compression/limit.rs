//! The limits of decompression, in one place: the cap on one batch's decompressed size, the
//! budget shared by the batches of a record set, what each decoder's own state costs, and how
//! an output buffer grows without passing the cap.

use super::Compression;
use crate::error::{DecodeError, DecodeErrorKind};
use crate::records::RecordIter;

/// The default cap on the decompressed size of one batch's records: 64 MiB.
pub const DEFAULT_MAX_DECOMPRESSED: usize = 64 << 20;

/// Where decompression errors point.
const FIELD: &str = "Records";

/// What a decoder of `codec` allocates for its own state before any output, as far as
/// Rust's allocator sees it, for the compressed bytes `data`: gzip's inflate state, lz4's block
/// buffers (sized by the block size the frame header declares, up to 4 MiB, three times over).
/// zstd's context and window live in its C library (the window is limited by the cap, at least
/// 8 MiB; see `zstd::decompress`).
fn decoder_cost(codec: Compression, data: &[u8]) -> usize {
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

/// The first capacity of a decompression buffer when the format does not tell the size: a few
/// times the compressed size (a known, present length).
#[cfg(any(feature = "gzip", feature = "zstd"))]
pub(super) fn default_capacity(compressed_len: usize, max_len: usize) -> usize {
    compressed_len.saturating_mul(4).min(max_len)
}

/// Makes room in a full `out` for a streaming decoder: doubling (at least 32 KiB), up to one
/// byte more than `max_len`, so that an output of exactly the cap can be told from a longer one.
/// The caller checks [`within`] after each step.
#[cfg(any(feature = "gzip", feature = "zstd"))]
#[inline]
pub(super) fn grow_within(out: &mut Vec<u8>, max_len: usize) {
    if out.len() == out.capacity() {
        let room = max_len.saturating_add(1) - out.len();
        out.reserve_exact(out.capacity().max(32 << 10).min(room));
    }
}

/// `Ok` while `out` holds at most `max_len` bytes, else [`DecodeErrorKind::DecompressedTooLarge`].
#[cfg(any(feature = "gzip", feature = "zstd"))]
#[inline]
pub(super) fn within(out: &[u8], max_len: usize) -> Result<(), DecodeError> {
    if out.len() > max_len {
        return Err(too_large(max_len));
    }
    Ok(())
}

/// A limit on what decompressing the batches of one record set may cost in total, for
/// [`Batch::records_budgeted`](crate::records::Batch::records_budgeted): the decompressed bytes
/// plus each decoder's own state.
///
/// [`Batch::records_capped`](crate::records::Batch::records_capped) caps one batch; a record set
/// of many small compressed batches (a decompression bomb each, or lz4 frames declaring 4 MiB
/// blocks) would cost that cap once per batch, far more than its own size. With one budget for
/// the whole set, reading an `n`-byte record set requests at most `40 * n + 40 * budget + 10 MiB`
/// bytes from the allocator in total (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecompressionBudget {
    left: usize,
}

impl DecompressionBudget {
    /// A budget of `bytes`.
    pub const fn new(bytes: usize) -> Self {
        DecompressionBudget { left: bytes }
    }

    /// What is left.
    pub const fn remaining(&self) -> usize {
        self.left
    }

    /// Decompresses one batch of `codec` whose compressed records are `data` through `read`
    /// (given the cap: what is left once the decoder's state is charged), and charges its
    /// decompressed size. A batch that does not fit fails; any failure empties the budget
    /// (what the decoder produced before failing is not known, up to the cap).
    pub(crate) fn spend(
        &mut self,
        codec: Compression,
        data: &[u8],
        read: impl FnOnce(usize) -> Result<RecordIter, DecodeError>,
    ) -> Result<RecordIter, DecodeError> {
        let Some(cap) = self.left.checked_sub(decoder_cost(codec, data)) else {
            let limit = self.left;
            self.left = 0;
            return Err(too_large(limit));
        };
        match read(cap) {
            Ok(records) => {
                self.left = cap.saturating_sub(records.unread_len());
                Ok(records)
            }
            Err(e) => {
                self.left = 0;
                Err(e)
            }
        }
    }
}

impl Default for DecompressionBudget {
    /// [`DEFAULT_MAX_DECOMPRESSED`].
    fn default() -> Self {
        DecompressionBudget::new(DEFAULT_MAX_DECOMPRESSED)
    }
}
