//! snappy: the xerial framing of Java clients, or one raw block (librdkafka).

use super::limit::too_large;
use super::{corrupt, Compression, DecodeError};

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

#[cfg(test)]
mod tests {
    use super::super::test_util::{same_outcomes, sample, variants};
    use super::super::{compress, decompress, Compression};

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
