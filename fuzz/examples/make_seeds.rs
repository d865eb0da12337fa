//! Writes the seed corpus of every fuzz target into `fuzz/seeds/<target>/` (committed; small):
//! valid inputs that reach deep into each parser, for the fuzzer to mutate.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example make_seeds` (`fuzz/run.sh seeds`).

use std::path::Path;

use kafka_wire::records::{BatchBuilder, Compression, Header, LegacyMessage, NewRecord};
use kafka_wire::{AnyRequest, AnyResponse, ApiKey, Bytes, Records};

fn write(dir: &Path, name: &str, data: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), data).unwrap();
}

/// The 4 bytes that `api_version` in the checks maps back to `api` and `v`.
fn head(api: ApiKey, v: i16) -> [u8; 4] {
    let i = ApiKey::ALL.iter().position(|&a| a == api).unwrap() as u16;
    let off = (v - api.schema_versions().min) as u16;
    let [a, b] = i.to_be_bytes();
    let [c, d] = off.to_be_bytes();
    [a, b, c, d]
}

fn main() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let _ = std::fs::remove_dir_all(&seeds);
    for &api in ApiKey::ALL {
        let r = api.schema_versions();
        for v in [r.min, r.max] {
            let req = AnyRequest::sample(api, v).unwrap();
            let frame = req.serialize(7, Some("seed")).unwrap();
            write(&seeds.join("request_frame"), &format!("{api}-v{v}"), &frame[4..]);
            let resp = AnyResponse::sample(api, v).unwrap();
            let frame = resp.serialize(7).unwrap();
            let mut data = head(api, v).to_vec();
            data.extend_from_slice(&frame[4..]);
            write(&seeds.join("response"), &format!("{api}-v{v}"), &data);
        }
    }

    for c in Compression::ALL {
        let mut b = BatchBuilder::new(c).producer(5, 1, 0);
        for i in 0..3 {
            b.push(&NewRecord {
                timestamp: 1_700_000_000_000 + i,
                key: (i != 1).then(|| Bytes::from(format!("key-{i}"))),
                value: Some(Bytes::from("value ".repeat(i as usize + 1))),
                headers: vec![Header::new("h", Some(Bytes::from_static(b"1"))), Header::new("h", None)],
            })
            .unwrap();
        }
        let batch = b.build().unwrap();
        let set = Records::from_batches(&[batch.clone().into(), batch.into()]).unwrap();
        let mut data = vec![0];
        data.extend_from_slice(set.as_bytes());
        write(&seeds.join("records"), &format!("batch-{c}"), &data);
        if c != Compression::Zstd {
            for magic in [0i8, 1] {
                let inner: Vec<_> = (0..3)
                    .map(|i| LegacyMessage::new(magic, i, 1000 + i, Some(Bytes::from("k")), Some(Bytes::from("v"))))
                    .collect();
                let m = if c == Compression::None {
                    inner[0].clone()
                } else {
                    LegacyMessage::compressed(magic, c, &inner).unwrap()
                };
                let mut data = vec![0];
                data.extend_from_slice(&m.to_bytes().unwrap());
                write(&seeds.join("records"), &format!("legacy-magic{magic}-{c}"), &data);
            }
        }
        let mut data = vec![1, c.code()];
        data.extend_from_slice(&kafka_wire::records::compress(c, b"hello hello hello hello, world").unwrap());
        write(&seeds.join("records"), &format!("compressed-{c}"), &data);
    }

    // Arbitrary messages: every API at its lowest and highest version, with some input.
    for &api in ApiKey::ALL {
        let r = api.schema_versions();
        for v in [r.min, r.max] {
            let mut data = head(api, v).to_vec();
            data.extend((0..200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
            write(&seeds.join("arbitrary_messages"), &format!("{api}-v{v}"), &data);
        }
    }

    // Frame reader: two or three requests in flight and their answers, split in pieces.
    let scenarios: &[&[(ApiKey, i16)]] = &[
        &[(ApiKey::ApiVersions, 3), (ApiKey::Metadata, 12)],
        &[(ApiKey::ApiVersions, 0), (ApiKey::FindCoordinator, 4), (ApiKey::Fetch, 12)],
        &[(ApiKey::Produce, 9)],
    ];
    for (i, apis) in scenarios.iter().enumerate() {
        let mut data = vec![apis.len() as u8 - 1];
        for &(api, v) in *apis {
            data.extend_from_slice(&head(api, v));
        }
        data.extend_from_slice(&[3, 1, 5, 16]);
        for (id, &(api, v)) in apis.iter().enumerate() {
            data.extend_from_slice(&AnyResponse::sample(api, v).unwrap().serialize(id as i32).unwrap());
        }
        write(&seeds.join("frame_reader"), &format!("scenario-{i}"), &data);
    }
}
