//! The request frames of one connection: the bytes read, cut by the codec's frame splitter.

use bytes::Bytes;
use kafka_wire::{FrameError, FrameSplitter};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Why no further frame comes.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// A size out of bounds (negative, or above the limit), or the stream ended inside a frame.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// Reading the socket failed.
    #[error("reading the socket failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Splits a connection's bytes into request frames.
pub(crate) struct FrameReader {
    splitter: FrameSplitter,
    buf: Box<[u8]>,
    /// The bytes of `buf` read but not yet handed to the splitter.
    unread: std::ops::Range<usize>,
}

impl FrameReader {
    pub(crate) fn new() -> Self {
        FrameReader { splitter: FrameSplitter::new(0), buf: vec![0; 64 * 1024].into_boxed_slice(), unread: 0..0 }
    }

    /// The next frame (without its size prefix); `None` at a clean end of stream (between two
    /// frames). A size that is negative or above `max` is an error (the connection closes)
    /// before any byte of the frame is kept: memory grows with the bytes that actually arrive,
    /// not with the size the peer claims. Bytes after a frame (pipelined requests) wait for
    /// the next call.
    pub(crate) async fn next<R: AsyncRead + Unpin>(
        &mut self,
        r: &mut R,
        max: usize,
    ) -> Result<Option<Bytes>, ReadError> {
        self.splitter.set_max_frame_size(max);
        loop {
            let mut input = &self.buf[self.unread.clone()];
            let split = self.splitter.split(&mut input);
            self.unread.start = self.unread.end - input.len();
            if let Some(frame) = split? {
                return Ok(Some(frame));
            }
            let n = r.read(&mut self.buf).await?;
            if n == 0 {
                self.splitter.finish()?;
                return Ok(None);
            }
            self.unread = 0..n;
        }
    }
}
