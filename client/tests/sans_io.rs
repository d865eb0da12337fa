//! The sans-io connection core under adversarial input: any split of the byte stream, frames
//! that are too large, negative, unsolicited, out of order or malformed.

use std::sync::mpsc;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_wire::{api_versions, find_coordinator, metadata, produce, AnyRequest, AnyResponse, VersionedResponse};
use kafka_wire_client::core::{Core, CoreConfig};
use kafka_wire_client::Error;

type Outcome<T> = mpsc::Receiver<Result<T, Error>>;

/// Submits `request` with a channel as its reply.
fn submit<R: kafka_wire::VersionedRequest>(core: &mut Core, request: &R) -> (Bytes, Outcome<R::Response>) {
    let (tx, rx) = mpsc::channel();
    let frame = core.submit(request, move |r| drop(tx.send(r))).unwrap().to_bytes();
    (frame, rx)
}

fn correlation_id(frame: &[u8]) -> i32 {
    // size(4) api key(2) api version(2) correlation id(4)
    i32::from_be_bytes(frame[8..12].try_into().unwrap())
}

fn metadata_answer(topic: &str) -> metadata::v12::Response {
    metadata::v12::Response {
        topics: vec![metadata::v12::MetadataResponseTopic { name: Some(topic.into()), ..Default::default() }],
        ..Default::default()
    }
}

fn metadata_request(topic: &str) -> metadata::v12::Request {
    metadata::v12::Request {
        topics: Some(vec![metadata::v12::MetadataRequestTopic { name: Some(topic.into()), ..Default::default() }]),
        ..Default::default()
    }
}

/// A tiny deterministic generator of split points.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

/// Three different APIs in flight; their answers, concatenated, fed one byte at a time: each
/// request gets its own typed response.
#[test]
fn one_byte_at_a_time_three_apis() {
    let mut core = Core::new(CoreConfig::default());
    let (f1, r1) = submit(&mut core, &api_versions::v3::Request::default());
    let (f2, r2) = submit(&mut core, &metadata_request("orders"));
    let (f3, r3) = submit(&mut core, &find_coordinator::v3::Request { key: "g".into(), ..Default::default() });
    assert_eq!(core.in_flight(), 3);

    let mut stream = BytesMut::new();
    let av = api_versions::v3::Response { throttle_time_ms: 11, ..Default::default() };
    stream.put(av.serialize(correlation_id(&f1)).unwrap());
    stream.put(metadata_answer("orders").serialize(correlation_id(&f2)).unwrap());
    let fc = find_coordinator::v3::Response { node_id: 3, host: "b3".into(), port: 9093, ..Default::default() };
    stream.put(fc.serialize(correlation_id(&f3)).unwrap());

    let mut delivered = 0;
    for byte in stream.iter() {
        delivered += core.receive(&[*byte]).unwrap();
    }
    assert_eq!(delivered, 3);
    assert_eq!(r1.recv().unwrap().unwrap(), av);
    assert_eq!(r2.recv().unwrap().unwrap(), metadata_answer("orders"));
    assert_eq!(r3.recv().unwrap().unwrap(), fc);
    assert_eq!((core.in_flight(), core.buffered()), (0, 0));
}

/// 200 requests, their answers in one read, then in random splits: every answer reaches the
/// request that asked for it, in order.
#[test]
fn many_frames_in_one_read_and_in_random_splits() {
    for seed in 0..20u64 {
        let mut core = Core::new(CoreConfig::default());
        let mut stream = BytesMut::new();
        let mut outcomes = Vec::new();
        for i in 0..200 {
            let topic = format!("topic-{i}");
            let (frame, rx) = submit(&mut core, &metadata_request(&topic));
            stream.put(metadata_answer(&topic).serialize(correlation_id(&frame)).unwrap());
            outcomes.push((topic, rx));
        }
        let stream = stream.freeze();
        if seed == 0 {
            assert_eq!(core.receive(&stream).unwrap(), 200);
        } else {
            let mut rng = Lcg(seed);
            let mut rest = &stream[..];
            while !rest.is_empty() {
                let n = 1 + rng.below(rest.len().min(300));
                core.receive(&rest[..n]).unwrap();
                rest = &rest[n..];
            }
        }
        for (topic, rx) in outcomes {
            let answer = rx.try_recv().unwrap().unwrap();
            assert_eq!(answer.topics[0].name.as_deref(), Some(topic.as_str()));
        }
        assert_eq!(core.in_flight(), 0);
    }
}

#[test]
fn correlation_ids_are_distinct_and_increasing() {
    let mut core = Core::new(CoreConfig::default());
    let ids: Vec<i32> = (0..5).map(|_| correlation_id(&submit(&mut core, &api_versions::v0::Request {}).0)).collect();
    assert_eq!(ids, [0, 1, 2, 3, 4]);
}

/// Produce with acks=0 gets no response: it takes no place in flight, its reply is dropped,
/// and the next answer still matches the next request.
#[test]
fn produce_acks_zero_expects_no_response() {
    let mut core = Core::new(CoreConfig::default());
    let (_, silent) = submit(&mut core, &produce::v9::Request { acks: 0, ..Default::default() });
    assert_eq!(core.in_flight(), 0);
    assert!(matches!(silent.try_recv(), Err(mpsc::TryRecvError::Disconnected)));

    let (frame, rx) = submit(&mut core, &metadata_request("t"));
    core.receive(&metadata_answer("t").serialize(correlation_id(&frame)).unwrap()).unwrap();
    assert!(rx.try_recv().unwrap().is_ok());
}

/// The frame size is checked as soon as the 4-byte prefix is in, before any body byte is
/// buffered; every request in flight fails with the error, and so does everything after.
#[test]
fn oversized_frame_breaks_the_connection_and_fails_all_in_flight() {
    let mut core = Core::new(CoreConfig { max_frame_size: 1000, ..Default::default() });
    let outcomes: Vec<_> = (0..3).map(|_| submit(&mut core, &api_versions::v0::Request {}).1).collect();
    core.receive(&[0, 0]).unwrap();
    let err = core.receive(&[0x03, 0xE9]).unwrap_err(); // 1001
    assert!(matches!(err, Error::FrameTooLarge { size: 1001, max: 1000 }), "{err:?}");
    for rx in outcomes {
        assert!(matches!(rx.try_recv().unwrap(), Err(Error::FrameTooLarge { .. })));
    }
    assert_eq!(core.in_flight(), 0);
    assert!(matches!(core.receive(&[0; 8]), Err(Error::FrameTooLarge { .. })));
    let (tx, _rx) = mpsc::channel();
    let again = core.submit(&api_versions::v0::Request {}, move |r| drop(tx.send(r)));
    assert!(matches!(again, Err(Error::FrameTooLarge { .. })));
}

#[test]
fn negative_or_tiny_frame_size_breaks_the_connection() {
    for size in [-1i32, i32::MIN, 0, 3] {
        let mut core = Core::new(CoreConfig::default());
        let (_, rx) = submit(&mut core, &api_versions::v0::Request {});
        let err = core.receive(&size.to_be_bytes()).unwrap_err();
        assert!(matches!(err, Error::InvalidFrameSize(s) if s == size), "{err:?}");
        assert!(matches!(rx.try_recv().unwrap(), Err(Error::InvalidFrameSize(_))));
    }
}

#[test]
fn response_with_unknown_correlation_id_breaks_the_connection() {
    let mut core = Core::new(CoreConfig::default());
    let (f1, r1) = submit(&mut core, &metadata_request("a"));
    let (_f2, r2) = submit(&mut core, &metadata_request("b"));
    let id = correlation_id(&f1);
    let err = core.receive(&metadata_answer("x").serialize(id + 77).unwrap()).unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedCorrelationId { received, expected: Some(e) } if received == id + 77 && e == id),
        "{err:?}"
    );
    for rx in [r1, r2] {
        assert!(matches!(rx.try_recv().unwrap(), Err(Error::UnexpectedCorrelationId { .. })));
    }
}

/// Kafka answers in order: an answer to the second request before the first is an error too.
#[test]
fn out_of_order_response_breaks_the_connection() {
    let mut core = Core::new(CoreConfig::default());
    let (_f1, r1) = submit(&mut core, &metadata_request("a"));
    let (f2, _r2) = submit(&mut core, &metadata_request("b"));
    let err = core.receive(&metadata_answer("b").serialize(correlation_id(&f2)).unwrap()).unwrap_err();
    assert!(matches!(err, Error::UnexpectedCorrelationId { .. }));
    assert!(r1.try_recv().unwrap().is_err());
}

#[test]
fn unsolicited_response_breaks_the_connection() {
    let mut core = Core::new(CoreConfig::default());
    let err = core.receive(&metadata_answer("x").serialize(0).unwrap()).unwrap_err();
    assert!(matches!(err, Error::UnexpectedCorrelationId { received: 0, expected: None }));
}

/// A frame whose body does not decode fails its own request with `Malformed` (naming the API
/// and version) and every other request in flight with the same error.
#[test]
fn malformed_frame_breaks_the_connection() {
    let mut core = Core::new(CoreConfig::default());
    let (f1, r1) = submit(&mut core, &metadata_request("a"));
    let (_f2, r2) = submit(&mut core, &metadata_request("b"));
    let good = metadata_answer("a").serialize(correlation_id(&f1)).unwrap();
    // Same correlation id, body cut short (the size prefix adjusted to match).
    let cut = &good[4..good.len() - 3];
    let mut frame = BytesMut::new();
    frame.put_i32(cut.len() as i32);
    frame.put_slice(cut);
    let err = core.receive(&frame).unwrap_err();
    assert!(matches!(&err, Error::Malformed { api: kafka_wire::ApiKey::Metadata, version: 12, .. }), "{err:?}");
    assert!(matches!(r1.try_recv().unwrap(), Err(Error::Malformed { .. })));
    assert!(matches!(r2.try_recv().unwrap(), Err(Error::Malformed { .. })));
}

#[test]
fn in_flight_limit_is_enforced() {
    let mut core = Core::new(CoreConfig { max_in_flight: 2, ..Default::default() });
    let (f1, r1) = submit(&mut core, &metadata_request("a"));
    let _second = submit(&mut core, &metadata_request("b"));
    let (tx, _rx) = mpsc::channel();
    let third = core.submit(&metadata_request("c"), move |r| drop(tx.send(r)));
    assert!(matches!(third, Err(Error::TooManyInFlight { max: 2 })));
    // acks=0 requests do not count.
    assert!(core.submit(&produce::v9::Request { acks: 0, ..Default::default() }, |_| {}).is_ok());
    core.receive(&metadata_answer("a").serialize(correlation_id(&f1)).unwrap()).unwrap();
    assert!(r1.try_recv().unwrap().is_ok());
    let _ = submit(&mut core, &metadata_request("c"));
}

/// A broker that does not support the requested ApiVersions version answers in v0 format
/// with UNSUPPORTED_VERSION and its ranges: the v3 request still gets a typed v3 answer.
#[test]
fn api_versions_v0_fallback_answer() {
    let mut core = Core::new(CoreConfig::default());
    let (frame, rx) = submit(&mut core, &api_versions::v3::Request::default());
    let v0 = api_versions::v0::Response {
        error_code: kafka_wire::ErrorCode(35),
        api_keys: vec![api_versions::v0::ApiVersion { api_key: 18, min_version: 0, max_version: 2 }],
    };
    let answer = v0.serialize(correlation_id(&frame)).unwrap();
    for chunk in answer.chunks(3) {
        core.receive(chunk).unwrap();
    }
    let r = rx.try_recv().unwrap().unwrap();
    assert_eq!((r.error_code.code(), r.api_keys.len(), r.api_keys[0].max_version), (35, 1, 2));
}

#[test]
fn any_request_gets_any_response() {
    let mut core = Core::new(CoreConfig { client_id: Some("me".into()), ..Default::default() });
    let (tx, rx) = mpsc::channel();
    let request = AnyRequest::from(metadata_request("t"));
    let frame = core.submit_any(&request, move |r| drop(tx.send(r))).unwrap().to_bytes();
    core.receive(&metadata_answer("t").serialize(correlation_id(&frame)).unwrap()).unwrap();
    let answer = rx.try_recv().unwrap().unwrap();
    assert_eq!(answer, AnyResponse::from(metadata_answer("t")));
}

/// Requests still in flight when the core goes away are failed, not forgotten.
#[test]
fn dropping_the_core_fails_what_is_in_flight() {
    let mut core = Core::new(CoreConfig::default());
    let (_, rx) = submit(&mut core, &api_versions::v0::Request {});
    drop(core);
    assert!(matches!(rx.try_recv().unwrap(), Err(Error::Closed)));
}

/// Bytes after a complete body inside its frame (librdkafka's mock broker sends one extra
/// byte after flexible Metadata answers) are ignored by default, as Kafka's Java client and
/// librdkafka do, and malformed when the configuration says so.
#[test]
fn trailing_bytes_inside_a_frame() {
    for reject in [false, true] {
        let mut core = Core::new(CoreConfig { reject_trailing_bytes: reject, ..Default::default() });
        let (frame, rx) = submit(&mut core, &metadata_request("a"));
        let good = metadata_answer("a").serialize(correlation_id(&frame)).unwrap();
        let mut padded = BytesMut::new();
        padded.put_i32(good.len() as i32 - 4 + 1);
        padded.put_slice(&good[4..]);
        padded.put_u8(0);
        let result = core.receive(&padded);
        if reject {
            assert!(matches!(result, Err(Error::Malformed { .. })), "{result:?}");
            assert!(rx.try_recv().unwrap().is_err());
        } else {
            assert_eq!(result.unwrap(), 1);
            assert_eq!(rx.try_recv().unwrap().unwrap(), metadata_answer("a"));
        }
    }
}
