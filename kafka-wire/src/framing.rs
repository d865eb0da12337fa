//! Cutting a byte stream into Kafka frames, without I/O.
//!
//! Every Kafka request and response travels as a frame: an `int32` size (big-endian, the
//! number of bytes that follow it) and that many bytes. [`FrameSplitter`] takes the bytes a
//! connection yields, in whatever pieces they arrive, and gives back each whole frame without
//! its size prefix, ready for [`RequestFrame::decode`](crate::RequestFrame::decode) (a broker)
//! or a response deserializer (a client). It is what a transport of one's own needs between
//! the socket and the codec; the client crate and the mock broker use it.
//!
//! ```
//! use kafka_wire::{api_versions, FrameSplitter, VersionFreeRequest};
//!
//! // Two requests written back to back, arriving in pieces of 5 bytes.
//! let mut stream = Vec::new();
//! for id in [1, 2] {
//!     stream.extend_from_slice(&api_versions::Request::default().serialize(3, id, Some("me")).unwrap());
//! }
//! let mut splitter = FrameSplitter::new(100 * 1024 * 1024);
//! let mut frames = Vec::new();
//! for read in stream.chunks(5) {
//!     let mut input = read;
//!     // Each call takes bytes off the front of `input`, up to the end of one frame at most.
//!     while let Some(frame) = splitter.split(&mut input)? {
//!         frames.push(frame);
//!     }
//!     assert!(input.is_empty()); // `Ok(None)`: everything was taken, the frame is incomplete
//! }
//! assert_eq!(frames.len(), 2);
//! assert_eq!(&frames[1][..], &stream[4 + frames[0].len() + 4..]);
//! splitter.finish()?; // the stream ended on a frame boundary
//! # Ok::<(), kafka_wire::FrameError>(())
//! ```
//!
//! The announced size is checked against the maximum (and the minimum) as soon as its four
//! bytes are in, before any byte of the frame is kept; the buffer of a frame then grows with
//! the bytes that arrive, never with the size the peer claims. After an error the stream is out
//! of step: every later call returns the same error.

use bytes::Bytes;

/// Bytes of the size prefix in front of every frame.
pub const SIZE_PREFIX_LEN: usize = 4;

/// Why a byte stream does not split into frames. Any of these leaves the stream out of step:
/// Kafka closes such a connection, and so should its peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The size prefix announces more bytes than the maximum this splitter accepts (an HTTP
    /// or TLS peer on a Kafka port shows up like this too: `GET ` reads as 1,195,725,856).
    #[error("frame of {size} bytes exceeds the maximum of {max} bytes")]
    TooLarge { size: usize, max: usize },
    /// The size prefix is negative, or smaller than the least a frame of this stream holds
    /// (a response header is at least its 4-byte correlation id).
    #[error("invalid frame size {size}: a frame here holds at least {min} bytes")]
    InvalidSize { size: i32, min: usize },
    /// The stream ended inside a frame ([`FrameSplitter::finish`]): `received` bytes of it,
    /// size prefix included, had arrived.
    #[error("the stream ended inside a frame ({received} bytes of it had arrived)")]
    Truncated { received: usize },
}

/// A sans-io frame splitter: bytes in, in any split, whole frames (without their size prefix)
/// out. See the [module docs](crate::framing) for an example.
#[derive(Debug, Clone)]
pub struct FrameSplitter {
    max_frame_size: usize,
    min_frame_size: usize,
    /// The size prefix of the next frame, as far as it has arrived.
    prefix: [u8; SIZE_PREFIX_LEN],
    prefix_len: usize,
    /// The announced size of the frame being gathered, once its prefix is complete.
    size: Option<usize>,
    /// The bytes of that frame gathered so far.
    frame: Vec<u8>,
    error: Option<FrameError>,
}

impl FrameSplitter {
    /// A splitter that accepts frames of `0..=max_frame_size` bytes (after the size prefix).
    pub fn new(max_frame_size: usize) -> Self {
        FrameSplitter {
            max_frame_size,
            min_frame_size: 0,
            prefix: [0; SIZE_PREFIX_LEN],
            prefix_len: 0,
            size: None,
            frame: Vec::new(),
            error: None,
        }
    }

    /// Also refuses frames smaller than `min` bytes ([`FrameError::InvalidSize`]): 4 for
    /// responses (the correlation id), 8 for requests (API key, version, correlation id).
    pub fn with_min_frame_size(mut self, min: usize) -> Self {
        self.min_frame_size = min;
        self
    }

    /// The largest frame accepted, in bytes after the size prefix.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// Changes the largest frame accepted from the next size prefix on (a broker accepts
    /// smaller frames before SASL authentication, Kafka's `sasl.server.max.receive.size`).
    /// A frame whose prefix was already checked is not checked again.
    pub fn set_max_frame_size(&mut self, max: usize) {
        self.max_frame_size = max;
    }

    /// Takes bytes off the front of `input` up to the end of the next frame and returns that
    /// frame (without its size prefix) once it is whole. `Ok(None)` means that all of `input`
    /// was taken and the frame is not complete yet; call again with the next bytes. Bytes
    /// after a returned frame stay in `input`: call again to take the next one.
    ///
    /// Errors: [`FrameError::TooLarge`] or [`FrameError::InvalidSize`] as soon as a size
    /// prefix is complete (nothing of that frame is kept); after an error, every call returns
    /// it again and takes nothing.
    pub fn split(&mut self, input: &mut &[u8]) -> Result<Option<Bytes>, FrameError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let size = match self.size {
            Some(size) => size,
            None => {
                let take = (SIZE_PREFIX_LEN - self.prefix_len).min(input.len());
                let (head, rest) = input.split_at(take);
                self.prefix[self.prefix_len..self.prefix_len + take].copy_from_slice(head);
                self.prefix_len += take;
                *input = rest;
                if self.prefix_len < SIZE_PREFIX_LEN {
                    return Ok(None);
                }
                self.prefix_len = 0;
                let size = self.check(i32::from_be_bytes(self.prefix))?;
                self.size = Some(size);
                size
            }
        };
        if self.frame.is_empty() && input.len() >= size {
            // The whole frame is in this read: one copy, no growing.
            let (frame, rest) = input.split_at(size);
            *input = rest;
            self.size = None;
            return Ok(Some(Bytes::copy_from_slice(frame)));
        }
        let take = (size - self.frame.len()).min(input.len());
        let (head, rest) = input.split_at(take);
        self.reserve(size, take);
        self.frame.extend_from_slice(head);
        *input = rest;
        if self.frame.len() < size {
            return Ok(None);
        }
        self.size = None;
        // The last reservation ends at `size` exactly: this takes the buffer without a copy.
        Ok(Some(Bytes::from(std::mem::take(&mut self.frame))))
    }

    /// Makes room for `more` bytes of a frame of `size`: the buffer at least doubles, so that
    /// a frame arriving in many reads is moved a bounded number of times, but never beyond
    /// `size`, nor beyond twice the bytes that arrived.
    fn reserve(&mut self, size: usize, more: usize) {
        let needed = self.frame.len() + more;
        if needed <= self.frame.capacity() {
            return;
        }
        let target = needed.max(2 * self.frame.len()).min(size);
        self.frame.reserve_exact(target - self.frame.len());
    }

    fn check(&mut self, size: i32) -> Result<usize, FrameError> {
        let error = match usize::try_from(size) {
            Ok(n) if n > self.max_frame_size => FrameError::TooLarge { size: n, max: self.max_frame_size },
            Ok(n) if n >= self.min_frame_size => return Ok(n),
            _ => FrameError::InvalidSize { size, min: self.min_frame_size },
        };
        self.error = Some(error.clone());
        Err(error)
    }

    /// How many bytes of an incomplete frame are held (size prefix included).
    pub fn buffered(&self) -> usize {
        match self.size {
            Some(_) => SIZE_PREFIX_LEN + self.frame.len(),
            None => self.prefix_len,
        }
    }

    /// At the end of the stream: `Ok` if it ended between frames, [`FrameError::Truncated`]
    /// if it ended inside one (or the error the stream already failed with).
    pub fn finish(&self) -> Result<(), FrameError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.buffered() {
            0 => Ok(()),
            received => Err(FrameError::Truncated { received }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(bodies: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for b in bodies {
            out.extend_from_slice(&(b.len() as i32).to_be_bytes());
            out.extend_from_slice(b);
        }
        out
    }

    fn split_all(s: &mut FrameSplitter, mut input: &[u8]) -> Result<Vec<Bytes>, FrameError> {
        let mut out = Vec::new();
        while let Some(f) = s.split(&mut input)? {
            out.push(f);
        }
        assert!(input.is_empty());
        Ok(out)
    }

    #[test]
    fn every_split_gives_the_same_frames() {
        let bodies: [&[u8]; 4] = [b"first", b"", b"x", &[7; 300]];
        let stream = framed(&bodies);
        for piece in 1..=stream.len() {
            let mut s = FrameSplitter::new(1000);
            let mut frames = Vec::new();
            for read in stream.chunks(piece) {
                frames.extend(split_all(&mut s, read).unwrap());
            }
            assert_eq!(frames, bodies, "pieces of {piece}");
            assert_eq!(s.buffered(), 0);
            s.finish().unwrap();
        }
    }

    #[test]
    fn the_size_is_checked_before_anything_is_kept() {
        let mut s = FrameSplitter::new(10);
        let mut input: &[u8] = &[0, 0, 0, 11, 1, 2, 3];
        assert_eq!(s.split(&mut input), Err(FrameError::TooLarge { size: 11, max: 10 }));
        assert_eq!(input, [1, 2, 3], "nothing of the frame was taken");
        assert_eq!(s.buffered(), 0);
        // Out of step from now on.
        let mut more: &[u8] = &[0, 0, 0, 1, 9];
        assert_eq!(s.split(&mut more), Err(FrameError::TooLarge { size: 11, max: 10 }));
        assert_eq!(more.len(), 5);
        assert!(s.finish().is_err());
    }

    #[test]
    fn negative_and_too_small_sizes() {
        for size in [-1, i32::MIN, 0, 3] {
            let mut s = FrameSplitter::new(100).with_min_frame_size(4);
            let mut input: &[u8] = &size.to_be_bytes();
            assert_eq!(s.split(&mut input), Err(FrameError::InvalidSize { size, min: 4 }));
        }
        // Without a minimum an empty frame is a frame (SASL tokens after SaslHandshake v0).
        let mut s = FrameSplitter::new(100);
        assert_eq!(split_all(&mut s, &[0, 0, 0, 0]).unwrap(), [Bytes::new()]);
    }

    #[test]
    fn memory_grows_with_what_arrives_not_with_what_is_claimed() {
        let mut s = FrameSplitter::new(i32::MAX as usize);
        assert_eq!(split_all(&mut s, &[0x7f, 0xff, 0xff, 0xff, 1, 2]).unwrap(), Vec::<Bytes>::new());
        assert_eq!(s.buffered(), 6);
        assert!(s.frame.capacity() < 1024, "{}", s.frame.capacity());

        // A frame in many reads: the buffer stays within twice what arrived and ends exactly
        // at the frame's size.
        let stream = framed(&[&[5; 1000]]);
        let mut s = FrameSplitter::new(1000);
        let mut frames = Vec::new();
        for read in stream.chunks(10) {
            frames.extend(split_all(&mut s, read).unwrap());
            assert!(s.frame.capacity() <= 2 * s.buffered(), "{} for {}", s.frame.capacity(), s.buffered());
        }
        assert_eq!(frames, [Bytes::from(vec![5; 1000])]);
    }

    #[test]
    fn a_stream_that_ends_inside_a_frame() {
        let mut s = FrameSplitter::new(100);
        split_all(&mut s, &[0, 0]).unwrap();
        assert_eq!(s.finish(), Err(FrameError::Truncated { received: 2 }));
        split_all(&mut s, &[0, 3, 1]).unwrap();
        assert_eq!(s.finish(), Err(FrameError::Truncated { received: 5 }));
        assert_eq!(split_all(&mut s, &[2, 3]).unwrap(), [Bytes::from_static(&[1, 2, 3])]);
        assert_eq!(s.finish(), Ok(()));
    }

    #[test]
    fn the_limit_can_change_between_frames() {
        let stream = framed(&[&[1; 20], &[2; 20]]);
        let mut s = FrameSplitter::new(10);
        let mut input = &stream[..];
        s.set_max_frame_size(20);
        assert_eq!(s.split(&mut input).unwrap().unwrap().len(), 20);
        s.set_max_frame_size(19);
        assert_eq!(s.split(&mut input), Err(FrameError::TooLarge { size: 20, max: 19 }));
    }
}
