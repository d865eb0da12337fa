//! Where encoding writes: one contiguous buffer, or a list of chunks in which large byte fields
//! (record sets above all) are referenced instead of copied.
//!
//! Kafka's own clients send a produce request's record sets straight from the buffers that hold
//! them; [`Chunks`] does the same for a vectored write (`writev`, tokio's `write_all_buf`):
//! [`Message::encode_chunks`](crate::Message::encode_chunks) and the `serialize_chunks` methods
//! copy only the small fields around the shared parts.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::ops::{Deref, DerefMut};

use bytes::{Buf, Bytes, BytesMut};

/// Byte and record fields at least this long are referenced, not copied, by
/// [`Encoder::put_shared`] when collecting [`Chunks`]. Below it, a copy costs less than one more
/// chunk in the write.
pub const SHARE_MIN_LEN: usize = 1024;

/// The destination of [`Wire::wire_put`](crate::codec::Wire::wire_put): a growing buffer (it
/// dereferences to the [`BytesMut`]) and, when encoding into [`Chunks`], the chunks finished
/// before it.
#[derive(Debug, Default)]
pub struct Encoder {
    buf: BytesMut,
    chunks: Option<Vec<Bytes>>,
}

impl Encoder {
    /// Runs `f` with an encoder that appends everything to `buf`, copying byte fields.
    #[inline]
    pub fn contiguous<R>(buf: &mut BytesMut, f: impl FnOnce(&mut Encoder) -> R) -> R {
        let mut e = Encoder { buf: std::mem::take(buf), chunks: None };
        let r = f(&mut e);
        *buf = e.buf;
        r
    }

    /// An encoder that writes everything into one new buffer of `capacity` bytes.
    #[inline]
    pub fn with_capacity(capacity: usize) -> Self {
        Encoder { buf: BytesMut::with_capacity(capacity), chunks: None }
    }

    /// The buffer written so far, without the chunks finished before it (for an encoder made
    /// by [`Encoder::with_capacity`], everything).
    #[inline]
    pub fn into_buf(self) -> BytesMut {
        self.buf
    }

    /// An encoder that collects [`Chunks`], with `capacity` bytes reserved for the copied parts.
    pub fn chunked(capacity: usize) -> Self {
        Encoder { buf: BytesMut::with_capacity(capacity), chunks: Some(Vec::new()) }
    }

    /// An encoder that collects [`Chunks`] of an encoding of `total_len` bytes: it reserves room
    /// for the copied parts (up to 16 KiB; the shared parts need none) and grows if they are
    /// larger.
    pub fn chunked_for(total_len: usize) -> Self {
        Self::chunked(total_len.min(16 * 1024))
    }

    /// Appends `bytes`: as a chunk of its own (no copy) when collecting chunks and `bytes` is at
    /// least [`SHARE_MIN_LEN`] long, copied into the buffer otherwise.
    #[inline]
    pub fn put_shared(&mut self, bytes: &Bytes) {
        match &mut self.chunks {
            Some(chunks) if bytes.len() >= SHARE_MIN_LEN => {
                if !self.buf.is_empty() {
                    chunks.push(self.buf.split().freeze());
                }
                chunks.push(bytes.clone());
            }
            _ => self.buf.extend_from_slice(bytes),
        }
    }

    /// Everything written so far, as chunks (one chunk for a contiguous encoder).
    pub fn finish(self) -> Chunks {
        let mut chunks = self.chunks.unwrap_or_default();
        if !self.buf.is_empty() {
            chunks.push(self.buf.freeze());
        }
        Chunks::from_vec(chunks)
    }
}

impl Deref for Encoder {
    type Target = BytesMut;
    #[inline]
    fn deref(&self) -> &BytesMut {
        &self.buf
    }
}

impl DerefMut for Encoder {
    #[inline]
    fn deref_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }
}

/// Encoded bytes as a sequence of chunks, some of them shared with the message they came from.
///
/// It is a [`Buf`], so `tokio::io::AsyncWriteExt::write_all_buf` sends it with vectored writes
/// where the writer supports them; [`Chunks::to_bytes`] joins it into one buffer.
#[derive(Debug, Clone, Default)]
pub struct Chunks {
    chunks: VecDeque<Bytes>,
    remaining: usize,
}

impl Chunks {
    fn from_vec(chunks: Vec<Bytes>) -> Self {
        let remaining = chunks.iter().map(Bytes::len).sum();
        Chunks { chunks: chunks.into_iter().filter(|c| !c.is_empty()).collect(), remaining }
    }

    /// The number of bytes left.
    pub fn len(&self) -> usize {
        self.remaining
    }

    /// Whether no bytes are left.
    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }

    /// The chunks left, in order (none of them empty).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Bytes> {
        self.chunks.iter()
    }

    /// The bytes left in one buffer: the chunk itself if there is only one, else a copy.
    pub fn to_bytes(&self) -> Bytes {
        match self.chunks.len() {
            0 => Bytes::new(),
            1 => self.chunks[0].clone(),
            _ => {
                let mut out = BytesMut::with_capacity(self.remaining);
                for c in &self.chunks {
                    out.extend_from_slice(c);
                }
                out.freeze()
            }
        }
    }
}

impl From<Bytes> for Chunks {
    fn from(b: Bytes) -> Self {
        Chunks::from_vec(vec![b])
    }
}

impl Buf for Chunks {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.chunks.front().map_or(&[], |c| c)
    }

    fn advance(&mut self, mut cnt: usize) {
        assert!(cnt <= self.remaining, "advance past the end of Chunks");
        self.remaining -= cnt;
        while cnt > 0 {
            let Some(front) = self.chunks.front_mut() else { break };
            if cnt < front.len() {
                front.advance(cnt);
                return;
            }
            cnt -= front.len();
            self.chunks.pop_front();
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, c) in dst.iter_mut().zip(&self.chunks) {
            *slot = IoSlice::new(c);
            n += 1;
        }
        n
    }

    fn copy_to_bytes(&mut self, len: usize) -> Bytes {
        match self.chunks.front() {
            Some(front) if len <= front.len() => {
                let b = front.slice(..len);
                self.advance(len);
                b
            }
            _ => {
                assert!(len <= self.remaining, "copy_to_bytes past the end of Chunks");
                let mut out = BytesMut::with_capacity(len);
                while out.len() < len {
                    let take = (len - out.len()).min(self.chunk().len());
                    out.extend_from_slice(&self.chunk()[..take]);
                    self.advance(take);
                }
                out.freeze()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(n: usize, fill: u8) -> Bytes {
        Bytes::from(vec![fill; n])
    }

    #[test]
    fn large_fields_are_shared_small_ones_copied() {
        let shared = big(SHARE_MIN_LEN, 7);
        let mut e = Encoder::chunked(64);
        e.extend_from_slice(b"head");
        e.put_shared(&shared);
        e.put_shared(&big(SHARE_MIN_LEN - 1, 1));
        e.extend_from_slice(b"tail");
        let chunks = e.finish();
        let parts: Vec<&Bytes> = chunks.iter().collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(&parts[0][..], b"head");
        assert_eq!(parts[1].as_ptr(), shared.as_ptr(), "the large field is not copied");
        assert_eq!(parts[2].len(), SHARE_MIN_LEN - 1 + 4);
        assert_eq!(chunks.len(), 4 + 2 * SHARE_MIN_LEN - 1 + 4);
    }

    #[test]
    fn a_contiguous_encoder_copies_into_the_callers_buffer() {
        let mut buf = BytesMut::from(&b"x"[..]);
        Encoder::contiguous(&mut buf, |e| e.put_shared(&big(4 * SHARE_MIN_LEN, 3)));
        assert_eq!(buf.len(), 1 + 4 * SHARE_MIN_LEN);
    }

    #[test]
    fn chunks_read_as_one_buffer() {
        let mut e = Encoder::chunked(0);
        e.extend_from_slice(b"ab");
        e.put_shared(&big(SHARE_MIN_LEN, 9));
        e.extend_from_slice(b"cd");
        let mut chunks = e.finish();
        let joined = chunks.to_bytes();
        assert_eq!(joined.len(), SHARE_MIN_LEN + 4);
        assert_eq!(&joined[..3], &[b'a', b'b', 9]);

        let mut slices = [IoSlice::new(&[]); 8];
        assert_eq!(chunks.chunks_vectored(&mut slices), 3);

        // Reading across chunk boundaries gives the same bytes.
        assert_eq!(chunks.copy_to_bytes(3), joined.slice(..3));
        chunks.advance(SHARE_MIN_LEN - 1);
        assert_eq!(chunks.remaining(), 2);
        assert_eq!(chunks.copy_to_bytes(2), Bytes::from_static(b"cd"));
        assert!(chunks.is_empty());
    }
}
