//! The tokio connection against a small scripted broker written here (on 127.0.0.1, port 0):
//! what librdkafka's mock cannot do. SASL PLAIN and SCRAM (the server side computed here),
//! re-authentication, the ApiVersions v0-format fallback on one connection, Produce with
//! acks=0, and frames that break the connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use hmac::digest::core_api::BlockSizeUser;
use hmac::digest::Digest;
use hmac::{Mac, SimpleHmac};
use kafka_wire::{
    api_versions, heartbeat, metadata, produce, sasl_authenticate, sasl_handshake, AnyRequest, ApiKey, ErrorCode,
    RequestFrame, VersionedResponse,
};
use kafka_wire_client::sasl::{SaslConfig, SaslMechanism};
use kafka_wire_client::{Connection, ConnectionConfig, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the scripted broker does.
#[derive(Clone, Default)]
struct Script {
    /// SASL: mechanism, user, password; `None`: no authentication.
    sasl: Option<(&'static str, &'static str, &'static str)>,
    /// The session lifetime announced after authentication (0: none).
    session_lifetime_ms: i64,
    /// On a wrong password, close the connection instead of answering.
    close_on_auth_failure: bool,
}

/// Everything the broker saw: (connection number, API, version).
type Log = Arc<Mutex<Vec<(usize, ApiKey, i16)>>>;

struct Broker {
    addr: String,
    log: Log,
    /// One message per request, after it is logged.
    seen: mpsc::UnboundedReceiver<(usize, ApiKey)>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Broker {
    async fn start(script: Script) -> Broker {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let log: Log = Arc::default();
        let (tx, seen) = mpsc::unbounded_channel();
        let (log2, addr2) = (log.clone(), addr.clone());
        let task = tokio::spawn(async move {
            let mut tasks = tokio::task::JoinSet::new();
            for n in 0.. {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let conn = Conn { n, script: script.clone(), addr: addr2.clone(), scram: None };
                tasks.spawn(conn.serve(tcp, log2.clone(), tx.clone()));
            }
        });
        Broker { addr, log, seen, task }
    }

    fn requests(&self, api: ApiKey) -> Vec<(usize, i16)> {
        self.log.lock().unwrap().iter().filter(|r| r.1 == api).map(|r| (r.0, r.2)).collect()
    }
}

enum Out {
    Frame(Bytes),
    Close,
}

struct Conn {
    n: usize,
    script: Script,
    addr: String,
    scram: Option<ScramServer>,
}

impl Conn {
    async fn serve(mut self, mut tcp: TcpStream, log: Log, seen: mpsc::UnboundedSender<(usize, ApiKey)>) {
        loop {
            let Ok(size) = tcp.read_i32().await else { return };
            let mut frame = vec![0; size as usize];
            if tcp.read_exact(&mut frame).await.is_err() {
                return;
            }
            let request = RequestFrame::<kafka_wire::AnyRequest>::decode(Bytes::from(frame))
                .expect("the client sends valid frames");
            let api = request.request.api_key();
            log.lock().unwrap().push((self.n, api, request.request.version()));
            let out = self.answer(&request);
            let _ = seen.send((self.n, api));
            match out {
                Some(Out::Frame(bytes)) if tcp.write_all(&bytes).await.is_err() => return,
                Some(Out::Close) => return,
                _ => {}
            }
        }
    }

    fn answer(&mut self, frame: &RequestFrame) -> Option<Out> {
        let id = frame.header.correlation_id;
        let reply = |bytes: Bytes| Some(Out::Frame(bytes));
        match &frame.request {
            AnyRequest::ApiVersions(r) => {
                let keys = [(0, 0, 9), (3, 0, 12), (12, 0, 4), (17, 0, 1), (18, 0, 3), (36, 0, 2)];
                if r.version() > 3 {
                    // What a broker that knows only up to v3 answers: v0 format, its ranges.
                    let v0 = api_versions::v0::Response {
                        error_code: ErrorCode::UNSUPPORTED_VERSION,
                        api_keys: keys
                            .iter()
                            .map(|&(api_key, min_version, max_version)| api_versions::v0::ApiVersion {
                                api_key,
                                min_version,
                                max_version,
                            })
                            .collect(),
                    };
                    return reply(v0.serialize(id).unwrap());
                }
                let v3 = api_versions::v3::Response {
                    api_keys: keys
                        .iter()
                        .map(|&(api_key, min_version, max_version)| api_versions::v3::ApiVersion {
                            api_key,
                            min_version,
                            max_version,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                };
                let mut out = BytesMut::new();
                // v3 request, v3 answer; v0-v2 requests are not sent by the client here.
                assert_eq!(r.version(), 3);
                out.put(v3.serialize(id).unwrap());
                reply(out.freeze())
            }
            AnyRequest::SaslHandshake(sasl_handshake::AnyRequest::V1(r)) => {
                let (mechanism, ..) = self.script.sasl.expect("SASL configured");
                let error_code = if *r.mechanism == *mechanism { 0 } else { ErrorCode::UNSUPPORTED_SASL_MECHANISM.0 };
                let answer = sasl_handshake::v1::Response {
                    error_code: kafka_wire::ErrorCode(error_code),
                    mechanisms: vec![mechanism.into()],
                };
                reply(answer.serialize(id).unwrap())
            }
            AnyRequest::SaslAuthenticate(sasl_authenticate::AnyRequest::V2(r)) => {
                let (mechanism, user, password) = self.script.sasl.expect("SASL configured");
                let message = std::str::from_utf8(&r.auth_bytes).unwrap();
                let outcome: Result<String, String> = if mechanism == "PLAIN" {
                    if message == format!("\0{user}\0{password}") {
                        Ok(String::new())
                    } else {
                        Err("Invalid username or password".into())
                    }
                } else if let Some(scram) = self.scram.take() {
                    scram.last(message)
                } else {
                    let (server, first) = ScramServer::first(mechanism, user, password, message);
                    self.scram = Some(server);
                    Ok(first)
                };
                let answer = match outcome {
                    Ok(bytes) => sasl_authenticate::v2::Response {
                        auth_bytes: Bytes::from(bytes),
                        session_lifetime_ms: self.script.session_lifetime_ms,
                        ..Default::default()
                    },
                    Err(_) if self.script.close_on_auth_failure => return Some(Out::Close),
                    Err(message) => sasl_authenticate::v2::Response {
                        error_code: ErrorCode::SASL_AUTHENTICATION_FAILED,
                        error_message: Some(format!("Authentication failed: {message}").into()),
                        ..Default::default()
                    },
                };
                reply(answer.serialize(id).unwrap())
            }
            AnyRequest::Metadata(metadata::AnyRequest::V12(r)) => {
                let topics: Vec<String> =
                    r.topics.iter().flatten().filter_map(|t| t.name.as_ref().map(|n| n.to_string())).collect();
                match topics.first().map(String::as_str) {
                    // A frame with the right correlation id and a body that does not decode.
                    Some("garbage") => {
                        let mut out = BytesMut::new();
                        out.put_i32(4 + 1 + 3);
                        out.put_i32(id);
                        out.put_u8(0);
                        out.put_slice(&[0xff, 0xff, 0xff]);
                        return reply(out.freeze());
                    }
                    // A size no client should buffer.
                    Some("huge") => return reply(Bytes::from_static(&[0x40, 0, 0, 0])),
                    Some("close") => return Some(Out::Close),
                    _ => {}
                }
                let (host, port) = self.addr.rsplit_once(':').unwrap();
                let answer = metadata::v12::Response {
                    brokers: vec![metadata::v12::MetadataResponseBroker {
                        node_id: 1,
                        host: host.into(),
                        port: port.parse().unwrap(),
                        ..Default::default()
                    }],
                    topics: topics
                        .iter()
                        .map(|t| metadata::v12::MetadataResponseTopic {
                            name: Some(t.as_str().into()),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                };
                reply(answer.serialize(id).unwrap())
            }
            AnyRequest::Produce(produce::AnyRequest::V9(r)) => {
                if r.acks == 0 {
                    return None;
                }
                reply(produce::v9::Response::default().serialize(id).unwrap())
            }
            AnyRequest::Heartbeat(heartbeat::AnyRequest::V4(_)) => {
                reply(heartbeat::v4::Response::default().serialize(id).unwrap())
            }
            other => panic!("unexpected request {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SCRAM, server side (RFC 5802), computed independently of the client.

struct ScramServer {
    mechanism: &'static str,
    salted: Vec<u8>,
    auth_prefix: String,
    nonce: String,
}

fn hmac<D: Digest + BlockSizeUser + Clone>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <SimpleHmac<D> as Mac>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn salted<D: Digest + BlockSizeUser + Clone>(password: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut u = hmac::<D>(password.as_bytes(), &[salt, &1u32.to_be_bytes()].concat());
    let mut out = u.clone();
    for _ in 1..iterations {
        u = hmac::<D>(password.as_bytes(), &u);
        out.iter_mut().zip(&u).for_each(|(o, x)| *o ^= x);
    }
    out
}

/// (expected client proof, server signature)
fn expected<D: Digest + BlockSizeUser + Clone>(salted: &[u8], auth: &str) -> (Vec<u8>, Vec<u8>) {
    let client_key = hmac::<D>(salted, b"Client Key");
    let signature = hmac::<D>(&D::digest(&client_key), auth.as_bytes());
    let proof = client_key.iter().zip(signature).map(|(a, b)| a ^ b).collect();
    (proof, hmac::<D>(&hmac::<D>(salted, b"Server Key"), auth.as_bytes()))
}

impl ScramServer {
    fn first(mechanism: &'static str, user: &str, password: &str, client_first: &str) -> (ScramServer, String) {
        let bare = client_first.strip_prefix("n,,").expect("no channel binding");
        assert!(bare.starts_with(&format!("n={user},r=")), "{bare}");
        let client_nonce = bare.rsplit_once("r=").unwrap().1;
        let nonce = format!("{client_nonce}3rfcNHYJY1ZVvWVs7j");
        let salt = b"pepper and salt";
        let salted = if mechanism == "SCRAM-SHA-256" {
            salted::<sha2::Sha256>(password, salt, 4096)
        } else {
            salted::<sha2::Sha512>(password, salt, 4096)
        };
        let server_first = format!("r={nonce},s={},i=4096", BASE64.encode(salt));
        let server = ScramServer { mechanism, salted, auth_prefix: format!("{bare},{server_first}"), nonce };
        (server, server_first)
    }

    fn last(self, client_final: &str) -> Result<String, String> {
        let (without_proof, proof) = client_final.rsplit_once(",p=").ok_or("no proof")?;
        assert_eq!(without_proof, format!("c=biws,r={}", self.nonce));
        let auth = format!("{},{without_proof}", self.auth_prefix);
        let (want, signature) = if self.mechanism == "SCRAM-SHA-256" {
            expected::<sha2::Sha256>(&self.salted, &auth)
        } else {
            expected::<sha2::Sha512>(&self.salted, &auth)
        };
        if BASE64.decode(proof).ok() != Some(want) {
            return Err("Invalid credentials".into());
        }
        Ok(format!("v={}", BASE64.encode(signature)))
    }
}

// ---------------------------------------------------------------------------------------------

/// Failure guard: only a hang reaches it (every test here takes milliseconds alone).
const GUARD: Duration = Duration::from_secs(120);

/// A request timeout no test reaches unless something hangs; below `GUARD`, so a request
/// that hangs fails as a timeout, which tells it apart from the errors the tests expect.
fn config() -> ConnectionConfig {
    ConnectionConfig::default().request_timeout(Duration::from_secs(60))
}

fn metadata_request(topic: &str) -> metadata::v12::Request {
    metadata::v12::Request {
        topics: Some(vec![metadata::v12::MetadataRequestTopic { name: Some(topic.into()), ..Default::default() }]),
        ..Default::default()
    }
}

/// The broker answers the newest ApiVersions in v0 format with UNSUPPORTED_VERSION and its ranges:
/// the client asks again with the broker's highest version, on the same connection.
#[tokio::test]
async fn api_versions_v0_format_fallback_on_one_connection() {
    let broker = Broker::start(Script::default()).await;
    let connection = tokio::time::timeout(GUARD, Connection::connect(&broker.addr, config())).await.unwrap().unwrap();
    assert_eq!(broker.requests(ApiKey::ApiVersions), [(0, ApiKey::ApiVersions.versions().max), (0, 3)]);
    let versions = connection.versions().await.unwrap();
    assert_eq!(versions.get(ApiKey::Metadata), Some(12));
    assert_eq!(versions.get(ApiKey::ApiVersions), Some(3));
    assert!(connection.send_versioned(&metadata_request("t")).await.is_ok());
}

/// acks=0: no response comes, `send` resolves once the request is written, and the next
/// request on the connection is answered and matched as usual.
#[tokio::test]
async fn produce_with_acks_zero() {
    let mut broker = Broker::start(Script::default()).await;
    let connection = Connection::connect(&broker.addr, config()).await.unwrap();
    let silent = produce::v9::Request { acks: 0, timeout_ms: 1000, ..Default::default() };
    let r = tokio::time::timeout(GUARD, connection.send_versioned(&silent)).await.unwrap().unwrap();
    assert_eq!(r, produce::v9::Response::default());
    let r = connection.send_versioned(&metadata_request("after")).await.unwrap();
    assert_eq!(r.topics[0].name.as_deref(), Some("after"));
    // The broker saw the produce request before the metadata request.
    let mut apis = Vec::new();
    while let Ok((_, api)) = broker.seen.try_recv() {
        apis.push(api);
    }
    assert_eq!(apis, [ApiKey::ApiVersions, ApiKey::ApiVersions, ApiKey::Produce, ApiKey::Metadata]);
}

/// A frame that does not decode, one that is too large, a broker that closes: each fails
/// what is in flight with a typed error, at once, and the next request reconnects.
#[tokio::test]
async fn broken_frames_fail_fast_and_the_next_request_reconnects() {
    let broker = Broker::start(Script::default()).await;
    let connection = Connection::connect(&broker.addr, config().max_frame_size(1 << 20)).await.unwrap();

    let err = tokio::time::timeout(GUARD, connection.send_versioned(&metadata_request("garbage")))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Malformed { api: ApiKey::Metadata, version: 12, .. }), "{err:?}");
    assert!(connection.send_versioned(&metadata_request("ok")).await.is_ok());
    assert_eq!(connection.connections_opened(), 2);

    let err =
        tokio::time::timeout(GUARD, connection.send_versioned(&metadata_request("huge"))).await.unwrap().unwrap_err();
    assert!(matches!(err, Error::FrameTooLarge { size: 0x4000_0000, max: 0x10_0000 }), "{err:?}");
    assert!(connection.send_versioned(&metadata_request("ok")).await.is_ok());

    let err =
        tokio::time::timeout(GUARD, connection.send_versioned(&metadata_request("close"))).await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Closed), "{err:?}");
    assert!(connection.send_versioned(&metadata_request("ok")).await.is_ok());
    assert_eq!(connection.connections_opened(), 4);
}

/// Many requests in flight when the frame breaks: every one fails with the same error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_frame_fails_every_request_in_flight() {
    let broker = Broker::start(Script::default()).await;
    let connection = Connection::connect(&broker.addr, config()).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let connection = connection.clone();
        let topic = if i == 0 { "garbage".to_owned() } else { format!("t{i}") };
        tasks.spawn(async move { connection.send_versioned(&metadata_request(&topic)).await });
    }
    let (mut ok, mut malformed) = (0, 0);
    while let Some(result) = tokio::time::timeout(GUARD, tasks.join_next()).await.unwrap() {
        match result.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::Malformed { .. }) => malformed += 1,
            // Sent after the connection broke: on a new connection, which may be broken too
            // if "garbage" went after them.
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(malformed >= 1);
    assert_eq!(ok + malformed, 100);
}

fn sasl_config(mechanism: SaslMechanism, password: &str) -> ConnectionConfig {
    config().sasl(SaslConfig::new(mechanism, "alice", password))
}

#[tokio::test]
async fn sasl_plain() {
    let broker = Broker::start(Script { sasl: Some(("PLAIN", "alice", "secret")), ..Default::default() }).await;
    let connection = Connection::connect(&broker.addr, sasl_config(SaslMechanism::Plain, "secret")).await.unwrap();
    assert!(connection.send_versioned(&metadata_request("t")).await.is_ok());
    assert_eq!(broker.requests(ApiKey::SaslHandshake), [(0, 1)]);
    assert_eq!(broker.requests(ApiKey::SaslAuthenticate), [(0, 2)]);

    let connect = Connection::connect(&broker.addr, sasl_config(SaslMechanism::Plain, "wrong"));
    let err = tokio::time::timeout(GUARD, connect).await.unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Authentication { code: Some(ErrorCode::SASL_AUTHENTICATION_FAILED), message }
            if message.contains("Invalid username or password")),
        "{err:?}"
    );
}

#[tokio::test]
async fn sasl_scram_sha_256_and_512() {
    for (name, mechanism) in
        [("SCRAM-SHA-256", SaslMechanism::ScramSha256), ("SCRAM-SHA-512", SaslMechanism::ScramSha512)]
    {
        let broker = Broker::start(Script { sasl: Some((name, "alice", "pencil")), ..Default::default() }).await;
        let connection = Connection::connect(&broker.addr, sasl_config(mechanism, "pencil")).await.unwrap();
        assert!(connection.send_versioned(&metadata_request("t")).await.is_ok());
        // client-first, then client-final.
        assert_eq!(broker.requests(ApiKey::SaslAuthenticate).len(), 2);

        let connect = Connection::connect(&broker.addr, sasl_config(mechanism, "pen"));
        let err = tokio::time::timeout(GUARD, connect).await.unwrap().unwrap_err();
        assert!(
            matches!(&err, Error::Authentication { code: Some(ErrorCode::SASL_AUTHENTICATION_FAILED), .. }),
            "{name}: {err:?}"
        );
    }
}

/// A broker that just closes the connection on a wrong password: still an authentication
/// error, at once.
#[tokio::test]
async fn wrong_password_and_the_broker_hangs_up() {
    let script = Script { sasl: Some(("PLAIN", "alice", "secret")), close_on_auth_failure: true, ..Default::default() };
    let broker = Broker::start(script).await;
    let connect = Connection::connect(&broker.addr, sasl_config(SaslMechanism::Plain, "wrong"));
    let err = tokio::time::timeout(GUARD, connect).await.unwrap().unwrap_err();
    assert!(matches!(&err, Error::Authentication { code: None, message } if message.contains("closed")), "{err:?}");
}

#[tokio::test]
async fn sasl_mechanism_not_enabled() {
    let broker = Broker::start(Script { sasl: Some(("SCRAM-SHA-512", "alice", "secret")), ..Default::default() }).await;
    let err = Connection::connect(&broker.addr, sasl_config(SaslMechanism::Plain, "secret")).await.unwrap_err();
    assert!(
        matches!(&err, Error::SaslMechanism { mechanism, enabled } if mechanism == "PLAIN" && enabled == &["SCRAM-SHA-512"]),
        "{err:?}"
    );
}

/// The broker announces a session lifetime: once 85% of it has passed, the next request
/// re-authenticates on the same connection first (KIP-368).
#[tokio::test]
async fn reauthentication_when_the_session_lifetime_runs_out() {
    let script =
        Script { sasl: Some(("SCRAM-SHA-256", "alice", "pencil")), session_lifetime_ms: 20, ..Default::default() };
    let broker = Broker::start(script).await;
    let connection =
        Connection::connect(&broker.addr, sasl_config(SaslMechanism::ScramSha256, "pencil")).await.unwrap();
    assert_eq!(broker.requests(ApiKey::SaslHandshake).len(), 1);
    // Requests keep flowing; within the first few after the lifetime ran out, one
    // re-authenticates first. (The loop only lets time pass; it is bounded by the guard.)
    let reauthenticated = async {
        while broker.requests(ApiKey::SaslHandshake).len() < 2 {
            let r = connection.send_versioned(&heartbeat::v4::Request::default()).await.unwrap();
            assert_eq!(r.error_code, ErrorCode::NONE);
        }
    };
    tokio::time::timeout(GUARD, reauthenticated).await.unwrap();
    // Same connection, and the exchange was a whole one: handshake, client-first, client-final.
    assert_eq!(connection.connections_opened(), 1);
    assert_eq!(broker.requests(ApiKey::SaslAuthenticate), [(0, 2), (0, 2), (0, 2), (0, 2)]);
    assert!(connection.send_versioned(&metadata_request("t")).await.is_ok());
}
