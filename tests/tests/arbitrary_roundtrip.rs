//! Property: for arbitrary messages of every API, version and direction (built by the generated
//! `arbitrary` support from pseudo-random input), `decode(encode(x)) == x`, the re-encoding is
//! byte-identical, and the encoded size is exact.

use arbitrary::Unstructured;
use kafka_wire::{AnyRequest, AnyResponse, ApiKey, Bytes, BytesMut};

/// xorshift64*: deterministic input bytes without a dependency.
fn input(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

const CASES_PER_VERSION: u64 = 24;

#[test]
fn arbitrary_messages_round_trip() {
    let (mut checked, mut cases) = (0, 0);
    for &api in ApiKey::ALL {
        let range = api.schema_versions();
        for v in range.min..=range.max {
            for case in 0..CASES_PER_VERSION {
                cases += 2;
                let data = input((api.code() as u64) << 32 | (v as u64) << 16 | case, 64 + 96 * case as usize);
                let mut u = Unstructured::new(&data);
                let req = AnyRequest::arbitrary_of(api, v, &mut u).unwrap().unwrap();
                let resp = AnyResponse::arbitrary_of(api, v, &mut u).unwrap().unwrap();

                let mut buf = BytesMut::with_capacity(req.encoded_len());
                if req.encode(&mut buf).is_ok() {
                    assert_eq!(buf.len(), req.encoded_len(), "{api} v{v} request size");
                    let bytes: Bytes = buf.freeze();
                    let mut b = bytes.clone();
                    let back = AnyRequest::decode(api.code(), v, &mut b).unwrap_or_else(|e| panic!("{api} v{v}: {e}"));
                    assert!(b.is_empty());
                    assert_eq!(back, req, "{api} v{v} request");
                    let mut again = BytesMut::new();
                    back.encode(&mut again).unwrap();
                    assert_eq!(again.freeze(), bytes);
                    let frame = req.serialize_chunks(1, None).unwrap().to_bytes();
                    assert_eq!(frame.slice(frame.len() - bytes.len()..), bytes, "{api} v{v} request chunks");
                    checked += 1;
                }

                let mut buf = BytesMut::with_capacity(resp.encoded_len());
                if resp.encode(&mut buf).is_ok() {
                    assert_eq!(buf.len(), resp.encoded_len(), "{api} v{v} response size");
                    let bytes: Bytes = buf.freeze();
                    let mut b = bytes.clone();
                    let back = AnyResponse::decode(api.code(), v, &mut b).unwrap_or_else(|e| panic!("{api} v{v}: {e}"));
                    assert!(b.is_empty());
                    assert_eq!(back, resp, "{api} v{v} response");
                    let frame = resp.serialize_chunks(1).unwrap().to_bytes();
                    assert_eq!(frame.slice(frame.len() - bytes.len()..), bytes, "{api} v{v} response chunks");
                    checked += 1;
                }
            }
        }
    }
    // Encoding only fails for strings longer than an int16 length allows; with these input
    // sizes that never happens, so every case is checked.
    assert_eq!(checked, cases);
    // Every (API, version, direction) of the pinned set: 618 with Kafka 4.4.0.
    assert_eq!(cases, 618 * CASES_PER_VERSION as usize);
}
