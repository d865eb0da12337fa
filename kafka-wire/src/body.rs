//! Writing a body or a whole frame: the code behind the `encode`, `to_bytes` and `serialize`
//! methods of every message, per-version and version-free, compiled once.
//!
//! The trait methods are generic over the message type; each only builds a [`Frame`] around a
//! `&dyn Body` and calls in here, so the size computation, the buffer handling and the header
//! exist once in the binary instead of once per message version (a fifth of the crate's LLVM IR
//! when they were generic). The body's own `Wire` code is reached through one virtual call.

use bytes::{Bytes, BytesMut};

use crate::codec::{put_array, Chunks, Encoder, Wire};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::frame;

/// A message body as an object: its size and its encoding at a version.
pub(crate) trait Body {
    fn body_len(&self, version: i16) -> usize;
    fn put_body(&self, e: &mut Encoder, version: i16) -> Result<(), EncodeError>;
}

impl<T: Wire> Body for T {
    fn body_len(&self, version: i16) -> usize {
        self.wire_len(false, version)
    }

    fn put_body(&self, e: &mut Encoder, version: i16) -> Result<(), EncodeError> {
        self.wire_put(e, false, version, "")
    }
}

/// The header in front of a body.
#[derive(Clone, Copy)]
pub(crate) enum Header<'a> {
    /// No header: the body alone.
    None,
    Request {
        header_version: i16,
        api_key: i16,
        correlation_id: i32,
        client_id: Option<&'a str>,
    },
    Response {
        header_version: i16,
        correlation_id: i32,
    },
}

/// What is written: a body of message `name` at `version`, after `header`.
pub(crate) struct Frame<'a> {
    pub body: &'a dyn Body,
    pub name: &'static str,
    pub version: i16,
    pub header: Header<'a>,
}

impl Frame<'_> {
    /// The size of everything written: the body, or for a frame its size prefix, header and body.
    fn len(&self) -> Result<usize, EncodeError> {
        let body = self.body.body_len(self.version);
        let header = match self.header {
            Header::None => return Ok(body),
            Header::Request { header_version, client_id, .. } => frame::request_header_len(header_version, client_id),
            Header::Response { header_version, .. } => frame::response_header_len(header_version),
        };
        Ok(4 + frame::frame_len(header + body)?)
    }

    fn put(&self, e: &mut Encoder, len: usize) -> Result<(), EncodeError> {
        match self.header {
            Header::None => {}
            Header::Request { header_version, api_key, correlation_id, client_id } => {
                put_array(e, (len as i32 - 4).to_be_bytes());
                frame::put_request_header(e, header_version, api_key, self.version, correlation_id, client_id)?;
            }
            Header::Response { header_version, correlation_id } => {
                put_array(e, (len as i32 - 4).to_be_bytes());
                frame::put_response_header(e, header_version, correlation_id);
            }
        }
        match self.body.put_body(e, self.version) {
            Ok(()) => Ok(()),
            Err(err) => Err(err.in_message(self.name, self.version)),
        }
    }

    /// The encoding in a new buffer of exactly the right size.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let len = self.len()?;
        let mut e = Encoder::with_capacity(len);
        self.put(&mut e, len)?;
        debug_assert_eq!(e.len(), len);
        Ok(e.into_buf().freeze())
    }

    /// The encoding as [`Chunks`] for a vectored write.
    pub fn to_chunks(&self) -> Result<Chunks, EncodeError> {
        let len = self.len()?;
        let mut e = Encoder::chunked_for(len);
        self.put(&mut e, len)?;
        Ok(e.finish())
    }

    /// Appends the encoding to `buf`.
    pub fn append_to(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let len = self.len()?;
        Encoder::contiguous(buf, |e| self.put(e, len))
    }
}

/// Adds message `name` and `version` to a decoding error.
pub(crate) fn in_message<T>(r: Result<T, DecodeError>, name: &'static str, version: i16) -> Result<T, DecodeError> {
    match r {
        Ok(v) => Ok(v),
        Err(e) => Err(e.in_message(name, version)),
    }
}

/// The error for `bytes` left after a message that must fill its input, if any are.
pub(crate) fn check_consumed(bytes: &Bytes, name: &'static str, version: i16) -> Result<(), DecodeError> {
    if bytes.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::new(DecodeErrorKind::TrailingBytes(bytes.len()), "").in_message(name, version))
    }
}
