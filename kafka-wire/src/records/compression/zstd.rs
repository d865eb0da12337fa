//! zstd: one or more zstd frames (level 3 when writing, Kafka's default).

use super::limit::{default_capacity, grow_within, too_large, within};
use super::{corrupt, Compression, DecodeError};
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
            let mut dctx =
                zstd_safe::DCtx::try_create().ok_or_else(|| corrupt(Compression::Zstd, "cannot create a decoder"))?;
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
        grow_within(&mut out, max_len);
        let (in_before, out_before) = (input.pos(), out.len());
        let hint = {
            let mut output = zstd_safe::OutBuffer::around_pos(&mut out, out_before);
            dctx.decompress_stream(&mut output, &mut input).map_err(zstd_error)?
        };
        within(&out, max_len)?;
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

#[cfg(test)]
mod tests {
    use super::super::test_util::{same_outcomes, sample, variants};
    use super::super::{compress, decompress, Compression};
    use crate::error::DecodeErrorKind;

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
}
