//! The tokio connection against a small scripted broker written here (on 127.0.0.1, port 0):
//! what librdkafka's mock cannot do. SASL PLAIN and SCRAM (the server side computed here),
//! re-authentication, the ApiVersions v0-format fallback on one connection, version caps, a
//! broker that predates ApiVersions, Produce with acks=0, frames that break the connection,
//! and the cluster view learning from the Metadata answers that pass through the client.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::scram::ScramServer;
use bytes::{BufMut, Bytes, BytesMut};
use kafka_wire::{
    api_versions, heartbeat, metadata, produce, sasl_authenticate, sasl_handshake, ApiKey, ApiRequest, ApiResponse,
    ErrorCode, FrameSplitter, RequestFrame, Uuid, VersionRange,
};
use kafka_wire_client::sasl::{SaslConfig, SaslMechanism};
use kafka_wire_client::{Client, Connection, ConnectionConfig, Error, Target};
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
    /// A broker older than Kafka 0.10.0: it reads ApiVersions requests and never answers them
    /// (the rest it answers).
    before_api_versions: bool,
}

/// The APIs the broker announces: (API key, min version, max version).
const RANGES: [(i16, i16, i16); 6] = [(0, 0, 9), (3, 0, 12), (12, 0, 4), (17, 0, 1), (18, 0, 3), (36, 0, 2)];

/// The id the broker gives topic `name`.
fn topic_id(name: &str) -> Uuid {
    let mut id = [7u8; 16];
    for (i, b) in name.bytes().enumerate().take(16) {
        id[i] = b;
    }
    Uuid::from(id)
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
        let mut frames = FrameSplitter::new(1 << 20).with_min_frame_size(8);
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let mut input = &buf[..n];
            while let Some(frame) = frames.split(&mut input).expect("the client sends valid frames") {
                let request = RequestFrame::<ApiRequest>::decode(frame).expect("the client sends valid frames");
                let api = request.request.api_key();
                log.lock().unwrap().push((self.n, api, request.version()));
                let out = self.answer(&request);
                let _ = seen.send((self.n, api));
                match out {
                    Some(Out::Frame(bytes)) if tcp.write_all(&bytes).await.is_err() => return,
                    Some(Out::Close) => return,
                    _ => {}
                }
            }
        }
    }

    fn answer(&mut self, frame: &RequestFrame<ApiRequest>) -> Option<Out> {
        let (id, version) = (frame.header.correlation_id, frame.version());
        let reply = |response: ApiResponse| Some(Out::Frame(frame.respond(&response).unwrap()));
        match &frame.request {
            ApiRequest::ApiVersions(_) if self.script.before_api_versions => None,
            ApiRequest::ApiVersions(_) => {
                let api_keys = RANGES
                    .iter()
                    .map(|&(api_key, min_version, max_version)| api_versions::ApiVersion {
                        api_key,
                        min_version,
                        max_version,
                        ..Default::default()
                    })
                    .collect();
                if version > 3 {
                    // What a broker that knows only up to v3 answers: v0 format, its ranges.
                    let v0 = api_versions::Response {
                        error_code: ErrorCode::UNSUPPORTED_VERSION,
                        api_keys,
                        ..Default::default()
                    };
                    return Some(Out::Frame(ApiResponse::from(v0).serialize(0, id).unwrap()));
                }
                reply(api_versions::Response { api_keys, ..Default::default() }.into())
            }
            ApiRequest::SaslHandshake(r) => {
                let (mechanism, ..) = self.script.sasl.expect("SASL configured");
                let error_code =
                    if *r.mechanism == *mechanism { ErrorCode::NONE } else { ErrorCode::UNSUPPORTED_SASL_MECHANISM };
                reply(sasl_handshake::Response { error_code, mechanisms: vec![mechanism.into()] }.into())
            }
            ApiRequest::SaslAuthenticate(r) => {
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
                let lifetime_versions = sasl_authenticate::Response::SESSION_LIFETIME_MS_VERSIONS;
                let answer = match outcome {
                    Ok(bytes) => sasl_authenticate::Response {
                        auth_bytes: Bytes::from(bytes),
                        session_lifetime_ms: if lifetime_versions.contains(version) {
                            self.script.session_lifetime_ms
                        } else {
                            0
                        },
                        ..Default::default()
                    },
                    Err(_) if self.script.close_on_auth_failure => return Some(Out::Close),
                    Err(message) => sasl_authenticate::Response {
                        error_code: ErrorCode::SASL_AUTHENTICATION_FAILED,
                        error_message: Some(format!("Authentication failed: {message}").into()),
                        ..Default::default()
                    },
                };
                reply(answer.into())
            }
            ApiRequest::Metadata(r) => {
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
                        return Some(Out::Frame(out.freeze()));
                    }
                    // A size no client should buffer.
                    Some("huge") => return Some(Out::Frame(Bytes::from_static(&[0x40, 0, 0, 0]))),
                    Some("close") => return Some(Out::Close),
                    _ => {}
                }
                let (host, port) = self.addr.rsplit_once(':').unwrap();
                let with_ids = metadata::MetadataResponseTopic::TOPIC_ID_VERSIONS.contains(version);
                let answer = metadata::Response {
                    brokers: vec![metadata::MetadataResponseBroker {
                        node_id: 1,
                        host: host.into(),
                        port: port.parse().unwrap(),
                        ..Default::default()
                    }],
                    topics: topics
                        .iter()
                        .map(|t| metadata::MetadataResponseTopic {
                            name: Some(t.as_str().into()),
                            topic_id: if with_ids { topic_id(t) } else { Uuid::ZERO },
                            partitions: vec![metadata::MetadataResponsePartition {
                                partition_index: 0,
                                leader_id: 1,
                                replica_nodes: kafka_wire::smallvec![1],
                                isr_nodes: kafka_wire::smallvec![1],
                                ..Default::default()
                            }],
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                };
                reply(answer.into())
            }
            ApiRequest::Produce(r) if r.acks == 0 => None,
            ApiRequest::Produce(_) => reply(produce::Response::default().into()),
            ApiRequest::Heartbeat(_) => reply(heartbeat::Response::default().into()),
            other => panic!("unexpected request {other:?}"),
        }
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

fn metadata_for(topic: &str) -> metadata::Request {
    metadata::Request {
        topics: Some(vec![metadata::MetadataRequestTopic { name: Some(topic.into()), ..Default::default() }]),
        ..Default::default()
    }
}

/// `max_versions` caps every version-free request: the handshake's own (ApiVersions,
/// SaslHandshake, SaslAuthenticate), `send` and `send_api`; a cap below what the broker
/// supports leaves the API unusable, with a typed error.
#[tokio::test]
async fn version_caps_apply_to_the_handshake_and_to_every_version_free_send() {
    let broker = Broker::start(Script { sasl: Some(("PLAIN", "alice", "secret")), ..Default::default() }).await;
    let config = sasl_config(SaslMechanism::Plain, "secret")
        .max_version(ApiKey::ApiVersions, 2)
        .max_version(ApiKey::SaslAuthenticate, 1)
        .max_version(ApiKey::Metadata, 9)
        .max_version(ApiKey::Heartbeat, -1);
    let connection = tokio::time::timeout(GUARD, Connection::connect(&broker.addr, config)).await.unwrap().unwrap();
    assert_eq!(broker.requests(ApiKey::ApiVersions), [(0, 2)]);
    assert_eq!(broker.requests(ApiKey::SaslHandshake), [(0, 1)]);
    assert_eq!(broker.requests(ApiKey::SaslAuthenticate), [(0, 1)]);

    let versions = connection.versions().await.unwrap();
    assert_eq!(versions.get(ApiKey::Metadata), Some(9));
    assert_eq!(versions.get(ApiKey::Heartbeat), None);
    assert_eq!(connection.version_for(ApiKey::Metadata).await.unwrap(), 9);
    connection.send(&metadata_for("a")).await.unwrap();
    connection.send_api(&ApiRequest::Metadata(metadata_for("b"))).await.unwrap();
    assert_eq!(broker.requests(ApiKey::Metadata), [(0, 9), (0, 9)]);
    let err = connection.send(&heartbeat::Request::default()).await.unwrap_err();
    assert!(matches!(err, Error::VersionCapped { api: ApiKey::Heartbeat, cap: -1, .. }), "{err:?}");
    // A request of a version of its own is not capped.
    connection.send_versioned(&metadata_request("c")).await.unwrap();
    assert_eq!(broker.requests(ApiKey::Metadata).last(), Some(&(0, 12)));
}

/// A broker older than Kafka 0.10.0 reads ApiVersions and never answers: the connection fails
/// after the short probe timeout (not the request timeout) with an error that names the likely
/// cause and the setting that fixes it.
#[tokio::test]
async fn a_broker_that_predates_api_versions_is_named_after_the_probe_timeout() {
    let broker = Broker::start(Script { before_api_versions: true, ..Default::default() }).await;
    let probe = Duration::from_millis(300);
    let config = config().request_timeout(Duration::from_secs(600)).api_versions_timeout(probe);
    let err = tokio::time::timeout(GUARD, Connection::connect(&broker.addr, config)).await.unwrap().unwrap_err();
    match &err {
        Error::NoApiVersionsAnswer { cause } => {
            assert!(
                matches!(**cause, Error::Timeout { api: ApiKey::ApiVersions, after } if after == probe),
                "{cause:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("older than Kafka 0.10.0") && message.contains("ConnectionConfig::broker_versions"));
    assert!(err.is_connection_error());
    assert_eq!(broker.requests(ApiKey::ApiVersions).len(), 1);
}

/// With a configured version table no ApiVersions is sent: the same old broker serves
/// Metadata v0, to a connection and to a client; APIs outside the table are unsupported.
#[tokio::test]
async fn configured_broker_versions_skip_api_versions() {
    let broker = Broker::start(Script { before_api_versions: true, ..Default::default() }).await;
    let config = config().broker_versions([(ApiKey::Metadata, VersionRange::new(0, 0))]);
    let connection =
        tokio::time::timeout(GUARD, Connection::connect(&broker.addr, config.clone())).await.unwrap().unwrap();
    assert_eq!(connection.broker_versions(ApiKey::Metadata).await.unwrap(), VersionRange::new(0, 0));
    let answer = connection.send(&metadata_for("orders")).await.unwrap();
    assert_eq!(answer.topics[0].name.as_deref(), Some("orders"));
    let err = connection.send(&heartbeat::Request::default()).await.unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { api: ApiKey::Heartbeat, .. }), "{err:?}");

    let client = tokio::time::timeout(GUARD, Client::connect([broker.addr.as_str()], config)).await.unwrap().unwrap();
    let leader = client.connection(&Target::leader("orders", 0)).await.unwrap();
    assert_eq!(leader.addr(), broker.addr);
    assert!(broker.requests(ApiKey::ApiVersions).is_empty());
    assert!(broker.requests(ApiKey::Metadata).iter().all(|&(_, v)| v == 0));
    // Metadata v0 has no topic ids.
    assert_eq!(client.view().topic_id("orders"), None);
}

/// Metadata answers the user fetches through the client update its view, whichever way they
/// are sent (version-free, of one version, any API): the topic ids among them, with a lookup by
/// id; a leader they name needs no reload.
#[tokio::test]
async fn the_cluster_view_learns_from_metadata_sent_through_the_client() {
    let broker = Broker::start(Script::default()).await;
    let client = tokio::time::timeout(GUARD, Client::connect([broker.addr.as_str()], config())).await.unwrap().unwrap();
    assert!(client.view().topics.is_empty());

    client.send(&Target::AnyBroker, &metadata_for("orders")).await.unwrap();
    client.send_versioned(&Target::AnyBroker, &metadata_request("payments")).await.unwrap();
    let any = client.handle(Target::AnyBroker);
    any.send_api(&ApiRequest::Metadata(metadata_for("refunds"))).await.unwrap();
    any.send_any(&metadata_request("returns").into()).await.unwrap();

    let view = client.view();
    for topic in ["orders", "payments", "refunds", "returns"] {
        let id = topic_id(topic);
        assert_eq!(view.topics[topic].id, id, "{topic}");
        assert_eq!(view.topic_id(topic), Some(id));
        let (name, info) = view.topic_by_id(id).unwrap();
        assert_eq!((name, info.partitions[&0].leader), (topic, 1));
    }
    assert_eq!(view.topic_by_id(topic_id("unknown")), None);
    assert_eq!(view.topic_by_id(Uuid::ZERO), None);

    let loaded = broker.requests(ApiKey::Metadata).len();
    let leader = client.connection(&Target::leader("orders", 0)).await.unwrap();
    assert_eq!(leader.addr(), broker.addr);
    assert_eq!(broker.requests(ApiKey::Metadata).len(), loaded, "the view knew the leader");
}
