//! The ApiVersions downgrade, in one place: what a broker answers to an ApiVersions request of
//! a version it does not know, how that answer reads, and which version to ask with next.
//!
//! A broker answers such a request in the v0 format (the only one every client reads) with
//! error UNSUPPORTED_VERSION and its own ranges, among them its ApiVersions range (KIP-511;
//! Kafka's `ApiVersionsRequest.getErrorResponse`). The client reads the answer as v0 when the
//! error code says so, or when it does not read as the version asked for
//! (`ApiVersionsResponse.parse`), and asks again with the highest ApiVersions version both
//! sides have (`NetworkClient.handleApiVersionsResponse`).
//!
//! The generated `decode_body_from` of every ApiVersions response version calls the readers
//! here (the generator's `RESPONSE_V0_FALLBACK` table names the API);
//! [`api_versions::Response::downgrade_version`](crate::api_versions::Response::downgrade_version)
//! picks the version to ask with next.

use bytes::Bytes;

use crate::error::DecodeError;
#[cfg(feature = "versioned")]
use crate::Message;
use crate::{ErrorCode, VersionFreeMessage};

/// Whether a response body starts with error code UNSUPPORTED_VERSION (every ApiVersions
/// response version starts with its `int16` error code).
fn says_unsupported(body: &[u8]) -> bool {
    body.get(..2).is_some_and(|b| i16::from_be_bytes([b[0], b[1]]) == ErrorCode::UNSUPPORTED_VERSION.0)
}

/// Reads a response body of `M` from the front of `body` that may be the v0-format reply of
/// a broker that does not know `M`'s version: with error UNSUPPORTED_VERSION it is read as v0
/// first; otherwise as `M`, then as v0 if that fails. On success `body` is left after what was
/// read (bytes after the body, which Kafka ignores); on failure it is left as it was and the
/// error is that of reading `M`.
#[doc(hidden)]
#[cfg(feature = "versioned")]
pub fn decode_body_with_v0_fallback<M: Message, V0: Message>(
    body: &mut Bytes,
    from_v0: fn(V0) -> M,
) -> Result<M, DecodeError> {
    let as_v0 = |body: &mut Bytes| {
        let mut rest = body.clone();
        let v0 = V0::decode(&mut rest)?;
        *body = rest;
        Ok::<_, DecodeError>(from_v0(v0))
    };
    if says_unsupported(body) {
        if let Ok(m) = as_v0(body) {
            return Ok(m);
        }
    }
    let mut rest = body.clone();
    match M::decode(&mut rest) {
        Ok(m) => {
            *body = rest;
            Ok(m)
        }
        Err(e) => as_v0(body).map_err(|_| e),
    }
}

/// The version-free form of [`decode_body_with_v0_fallback`]: a body of `version`, or, with
/// error UNSUPPORTED_VERSION or when that fails, of version 0.
#[doc(hidden)]
pub fn decode_version_free_body_with_v0_fallback<M: VersionFreeMessage>(
    version: i16,
    body: &mut Bytes,
) -> Result<M, DecodeError> {
    let at = |version: i16, body: &mut Bytes| {
        let mut rest = body.clone();
        let m = M::decode(version, &mut rest)?;
        *body = rest;
        Ok::<_, DecodeError>(m)
    };
    if version != 0 && says_unsupported(body) {
        if let Ok(m) = at(0, body) {
            return Ok(m);
        }
    }
    match at(version, body) {
        Err(e) if version != 0 => at(0, body).map_err(|_| e),
        other => other,
    }
}

#[cfg(feature = "api_versions")]
impl crate::api_versions::Response {
    /// After this answer to an ApiVersions request of version `sent`: the version to ask again
    /// with, or `None` when the answer stands (a success, another error, or a downgrade that
    /// would not go below `sent`).
    ///
    /// An UNSUPPORTED_VERSION answer lists the broker's own ApiVersions range; the next
    /// request uses the highest version that both the broker and this build have
    /// (`NetworkClient.handleApiVersionsResponse`). Without an ApiVersions entry, version 0,
    /// which every broker that knows ApiVersions answers.
    pub fn downgrade_version(&self, sent: i16) -> Option<i16> {
        if self.error_code != ErrorCode::UNSUPPORTED_VERSION {
            return None;
        }
        let ours = crate::ApiKey::ApiVersions.versions();
        let theirs = self.api_keys.iter().find(|k| k.api_key == crate::ApiKey::ApiVersions.code());
        let next = theirs.map_or(0, |k| k.max_version).min(ours.max);
        (ours.min..sent).contains(&next).then_some(next)
    }
}

#[cfg(all(test, feature = "api_versions", feature = "versioned"))]
mod tests {
    use crate::api_versions::{v0, v3, ApiVersion, Response};
    use crate::{ApiKey, ErrorCode, Message, VersionFreeResponse, VersionedResponse};
    use bytes::{BufMut, Bytes, BytesMut};

    fn ranges(api_versions_max: Option<i16>) -> Vec<ApiVersion> {
        let mut keys = vec![ApiVersion { api_key: 3, min_version: 0, max_version: 12, ..Default::default() }];
        if let Some(max) = api_versions_max {
            keys.push(ApiVersion { api_key: 18, min_version: 0, max_version: max, ..Default::default() });
        }
        keys
    }

    #[test]
    fn the_version_to_ask_next() {
        let ours = ApiKey::ApiVersions.versions().max;
        let reply =
            |max| Response { error_code: ErrorCode::UNSUPPORTED_VERSION, api_keys: ranges(max), ..Default::default() };
        assert_eq!(reply(Some(3)).downgrade_version(ours), Some(3));
        assert_eq!(reply(None).downgrade_version(ours), Some(0));
        // A broker newer than this build: ours is the cap, and asking again with what was
        // already sent would loop.
        assert_eq!(reply(Some(ours + 3)).downgrade_version(ours), None);
        assert_eq!(reply(Some(ours + 3)).downgrade_version(ours + 1), Some(ours));
        assert_eq!(reply(Some(2)).downgrade_version(0), None);
        let ok = Response { api_keys: ranges(Some(3)), ..Default::default() };
        assert_eq!(ok.downgrade_version(ours), None);
    }

    #[test]
    fn the_v0_reply_reads_as_the_version_asked_and_leaves_what_follows() {
        let v0 = v0::Response {
            error_code: ErrorCode::UNSUPPORTED_VERSION,
            api_keys: vec![v0::ApiVersion { api_key: 18, min_version: 0, max_version: 2 }],
        };
        let mut body = BytesMut::new();
        body.put(v0.to_bytes().unwrap());
        body.put_slice(&[0xAB, 0xCD]);
        let body = body.freeze();

        let mut rest = body.clone();
        let read = v3::Response::decode_body_from(&mut rest).unwrap();
        assert_eq!((read.error_code, read.api_keys.len(), read.api_keys[0].max_version), (ErrorCode(35), 1, 2));
        assert_eq!(&rest[..], [0xAB, 0xCD]);

        let mut rest = body.clone();
        let read = Response::decode_body_from(3, &mut rest).unwrap();
        assert_eq!((read.error_code, read.api_keys[0].max_version), (ErrorCode(35), 2));
        assert_eq!(&rest[..], [0xAB, 0xCD]);

        // Nothing that reads: the error of the version asked, and the input untouched.
        let mut junk = Bytes::from_static(&[0, 35, 0xff]);
        assert!(v3::Response::decode_body_from(&mut junk).is_err());
        assert_eq!(junk.len(), 3);
    }
}
