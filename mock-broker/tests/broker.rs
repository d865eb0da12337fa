//! The broker's own behaviour: error replies to what it does not serve, the ApiVersions
//! downgrade, malformed frames, fault injection, brokers going down and up, SASL and TLS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_wire::records::{BatchBuilder, Compression, NewRecord};
use kafka_wire::{
    api_versions, describe_delegation_token, metadata, produce, ApiKey, ErrorCode, Records, VersionedRequest,
};
use kafka_wire_client::sasl::{SaslConfig as ClientSasl, SaslMechanism as ClientMechanism};
use kafka_wire_client::{Client, Connection, ConnectionConfig, Error, Target};
use kafka_wire_mock::{MockCluster, MockConfig, SaslMechanism};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Writes a frame and reads one answer frame (without its size prefix); `None` when the broker
/// closed the connection instead.
async fn exchange(stream: &mut TcpStream, frame: &[u8]) -> Option<Bytes> {
    stream.write_all(frame).await.unwrap();
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).await.ok()?;
    let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
    stream.read_exact(&mut body).await.ok()?;
    Some(Bytes::from(body))
}

async fn raw<R: VersionedRequest>(stream: &mut TcpStream, request: &R) -> R::Response {
    let frame = request.serialize(7, Some("raw")).unwrap();
    let answer = exchange(stream, &frame).await.expect("an answer");
    let (header, response) = request.response_deserializer()(answer).unwrap();
    assert_eq!(header.correlation_id, 7);
    response
}

/// Only a hang reaches this.
const HANG_GUARD: Duration = Duration::from_secs(120);

fn metadata_request() -> metadata::v12::Request {
    metadata::v12::Request { topics: None, ..Default::default() }
}

fn produce_request(topic: &str, partition: i32, text: &str) -> produce::v9::Request {
    let mut b = BatchBuilder::new(Compression::None);
    b.push(&NewRecord::new(1, text.to_owned())).unwrap();
    produce::v9::Request {
        acks: -1,
        timeout_ms: 1000,
        topic_data: vec![produce::v9::TopicProduceData {
            name: topic.into(),
            partition_data: vec![produce::v9::PartitionProduceData {
                index: partition,
                records: Some(Records::from(b.build().unwrap().to_bytes().unwrap())),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn unserved_api_gets_its_error_reply_and_the_connection_stays_open() {
    let cluster = MockCluster::start(MockConfig::new()).await.unwrap();
    let mut stream = TcpStream::connect(cluster.broker_addrs()[0]).await.unwrap();
    // DescribeDelegationToken is not served: its reply in the requested version,
    // UNSUPPORTED_VERSION.
    let r = raw(&mut stream, &describe_delegation_token::v3::Request::default()).await;
    assert_eq!(r.error_code, ErrorCode::UNSUPPORTED_VERSION);
    assert!(r.tokens.is_empty());
    // A served API still works on the same connection.
    let r = raw(&mut stream, &metadata_request()).await;
    assert_eq!(r.brokers.len(), 1);
    assert!(!kafka_wire_mock::served_versions().any(|(api, ..)| api == ApiKey::DescribeDelegationToken));
    cluster.shutdown().await;
}

#[tokio::test]
async fn api_versions_of_an_unknown_version_gets_the_v0_reply() {
    let cluster = MockCluster::start(MockConfig::new()).await.unwrap();
    let mut stream = TcpStream::connect(cluster.broker_addrs()[0]).await.unwrap();
    let request = api_versions::v4::Request {
        client_software_name: "raw".into(),
        client_software_version: "1".into(),
        ..Default::default()
    };
    let mut frame = request.serialize(9, Some("raw")).unwrap().to_vec();
    frame[6..8].copy_from_slice(&99i16.to_be_bytes()); // request_api_version
    let answer = exchange(&mut stream, &frame).await.expect("an answer");
    let (header, r) = api_versions::v0::Request::default().response_deserializer()(answer).unwrap();
    assert_eq!(header.correlation_id, 9);
    assert_eq!(r.error_code, ErrorCode::UNSUPPORTED_VERSION);
    let av = r.api_keys.iter().find(|k| k.api_key == ApiKey::ApiVersions.code()).unwrap();
    assert_eq!(kafka_wire::VersionRange::new(av.min_version, av.max_version), ApiKey::ApiVersions.versions());
    assert_eq!(r.api_keys.len(), kafka_wire_mock::served_versions().count());
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_malformed_frame_closes_only_its_connection() {
    let cluster = MockCluster::start(MockConfig::new()).await.unwrap();
    let addr = cluster.broker_addrs()[0];
    let mut good = TcpStream::connect(addr).await.unwrap();
    raw(&mut good, &metadata_request()).await;

    // Metadata v12 with a body that does not decode.
    let mut bad = TcpStream::connect(addr).await.unwrap();
    let mut frame = metadata_request().serialize(1, Some("bad")).unwrap().to_vec();
    let len = frame.len();
    frame[len - 3..].copy_from_slice(&[0xff, 0xff, 0xff]);
    assert!(exchange(&mut bad, &frame).await.is_none(), "closed without an answer");
    // A negative frame size.
    let mut bad = TcpStream::connect(addr).await.unwrap();
    assert!(exchange(&mut bad, &(-5i32).to_be_bytes()).await.is_none());
    // An unknown API key.
    let mut bad = TcpStream::connect(addr).await.unwrap();
    let mut frame = metadata_request().serialize(1, Some("bad")).unwrap().to_vec();
    frame[4..6].copy_from_slice(&30_000i16.to_be_bytes());
    assert!(exchange(&mut bad, &frame).await.is_none());

    // The other connection is unaffected.
    let r = raw(&mut good, &metadata_request()).await;
    assert_eq!(r.brokers.len(), 1);
    cluster.shutdown().await;
}

#[tokio::test]
async fn injected_failures_and_delays() {
    let cluster = MockCluster::start(MockConfig::new().topic("t", 1)).await.unwrap();
    let client = Client::connect([cluster.bootstrap_servers()], ConnectionConfig::default()).await.unwrap();
    let leader = client.handle(Target::leader("t", 0));

    cluster.fail_next(ApiKey::Produce, 2, ErrorCode::NOT_ENOUGH_REPLICAS);
    for _ in 0..2 {
        let r = leader.send_versioned(&produce_request("t", 0, "x")).await.unwrap();
        assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NOT_ENOUGH_REPLICAS);
    }
    assert_eq!(cluster.end_offset("t", 0), Some(0), "failed requests have no effect");
    let r = leader.send_versioned(&produce_request("t", 0, "x")).await.unwrap();
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);
    assert_eq!(cluster.end_offset("t", 0), Some(1));

    // A delayed answer takes at least the delay (a lower bound: a slow machine only adds).
    cluster.delay_responses(ApiKey::Metadata, Duration::from_millis(150));
    let started = Instant::now();
    leader.send_versioned(&metadata_request()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150), "{:?}", started.elapsed());
    // Cleared faults delay nothing: with a delay of an hour set and cleared, the answer comes
    // (the guard is reached only if the delay were still applied).
    cluster.delay_responses(ApiKey::Metadata, Duration::from_secs(3600));
    cluster.clear_faults();
    tokio::time::timeout(HANG_GUARD, leader.send_versioned(&metadata_request())).await.expect("not delayed").unwrap();
    assert!(cluster.stats().requests(ApiKey::Produce) >= 3);
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_broker_goes_down_and_comes_back() {
    let cluster = MockCluster::start(MockConfig::new().brokers(2).topic("t", 2)).await.unwrap();
    let addrs = cluster.broker_addrs();
    let connection = Connection::connect(addrs[1].to_string(), ConnectionConfig::default()).await.unwrap();
    connection.send_versioned(&metadata_request()).await.unwrap();

    cluster.broker_down(1).unwrap();
    // Its connections are closed and its port refuses new ones.
    assert!(connection.send_versioned(&metadata_request()).await.is_err());
    assert!(TcpStream::connect(addrs[1]).await.is_err());
    // The other broker reports the partitions broker 1 led moved to broker 0.
    let mut stream = TcpStream::connect(addrs[0]).await.unwrap();
    let r = raw(&mut stream, &metadata_request()).await;
    assert_eq!(r.brokers.len(), 1);
    let t = &r.topics[0];
    assert!(t.partitions.iter().all(|p| p.leader_id == 0), "{t:?}");
    assert_eq!(t.partitions.iter().find(|p| p.partition_index == 1).unwrap().leader_epoch, 1);

    cluster.broker_up(1).unwrap();
    let r = connection.send_versioned(&metadata_request()).await.unwrap();
    assert_eq!(r.brokers.len(), 2);
    assert_eq!(r.topics[0].partitions.iter().find(|p| p.partition_index == 1).unwrap().leader_id, 1);
    cluster.shutdown().await;
}

#[tokio::test]
async fn sasl_plain_and_scram_with_this_projects_client() {
    let config = MockConfig::new()
        .topic("t", 1)
        .sasl_user(SaslMechanism::Plain, "alice", "alice-secret")
        .sasl_user(SaslMechanism::ScramSha256, "bob", "bob-secret")
        .sasl_user(SaslMechanism::ScramSha512, "carol", "carol-secret");
    let cluster = MockCluster::start(config).await.unwrap();
    let addr = cluster.bootstrap_servers();
    for (mechanism, user, password) in [
        (ClientMechanism::Plain, "alice", "alice-secret"),
        (ClientMechanism::ScramSha256, "bob", "bob-secret"),
        (ClientMechanism::ScramSha512, "carol", "carol-secret"),
    ] {
        let config = ConnectionConfig::default().sasl(ClientSasl::new(mechanism, user, password));
        let connection = Connection::connect(addr.clone(), config).await.unwrap();
        let r = connection.send_versioned(&produce_request("t", 0, user)).await.unwrap();
        assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE, "{mechanism:?}");

        let config = ConnectionConfig::default().sasl(ClientSasl::new(mechanism, user, "wrong"));
        let err = Connection::connect(addr.clone(), config).await.unwrap_err();
        assert!(matches!(err, Error::Authentication { .. }), "{mechanism:?}: {err:?}");
    }
    // Without authentication only ApiVersions and the SASL requests are allowed.
    let mut stream = TcpStream::connect(cluster.broker_addrs()[0]).await.unwrap();
    let frame = metadata_request().serialize(1, None).unwrap();
    assert!(exchange(&mut stream, &frame).await.is_none());
    let stats = cluster.stats();
    assert_eq!((stats.authentications, stats.failed_authentications), (3, 3));
    assert_eq!(cluster.end_offset("t", 0), Some(3));
    cluster.shutdown().await;
}

/// KIP-368: the broker announces a session lifetime and closes a connection whose session ran
/// out; the client re-authenticates on the same connection once 85% of the lifetime passed.
///
/// Time has to pass for that: the sleeps are the subject of the test, not a synchronisation.
/// Each request goes out only after the client's re-authentication point (85% of the lifetime
/// after the previous authentication, which ended before the previous `send` returned), so
/// each one re-authenticates first however slow the machine is; a request the client let
/// through unauthenticated after the broker's session ran out would close the connection.
#[tokio::test]
async fn the_client_reauthenticates_before_its_session_runs_out() {
    let lifetime = Duration::from_millis(600);
    let sasl = kafka_wire_mock::SaslConfig::new([SaslMechanism::ScramSha256], &[("bob", "bob-secret")])
        .session_lifetime(lifetime);
    let cluster = MockCluster::start(MockConfig::new().topic("t", 1).sasl(sasl)).await.unwrap();
    let config = ConnectionConfig::default().sasl(ClientSasl::new(ClientMechanism::ScramSha256, "bob", "bob-secret"));
    let connection = Connection::connect(cluster.bootstrap_servers(), config).await.unwrap();
    let mut authenticated_by = Instant::now();
    for round in 1..=2 {
        let due = authenticated_by + lifetime * 85 / 100 + Duration::from_millis(1);
        tokio::time::sleep(due.saturating_duration_since(Instant::now())).await;
        connection.send_versioned(&metadata_request()).await.unwrap();
        authenticated_by = Instant::now();
        assert_eq!(cluster.stats().authentications, 1 + round, "round {round} re-authenticated first");
    }
    let stats = cluster.stats();
    assert_eq!(stats.connections, 1, "re-authentication happens on the one connection");
    assert_eq!(stats.failed_authentications, 0);
    cluster.shutdown().await;
}

#[tokio::test]
async fn tls_listener() {
    use kafka_wire_client::tls::TlsConfig;
    use kafka_wire_mock::rustls;

    let cert = rcgen::generate_simple_self_signed(vec!["broker.test".into()]).unwrap();
    let cert_der = cert.cert.der().clone();
    let key_der = rustls::pki_types::PrivateKeyDer::try_from(cert.key_pair.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key_der)
        .unwrap();
    let cluster = MockCluster::start(MockConfig::new().topic("t", 1).tls(Arc::new(server))).await.unwrap();
    let addr = cluster.bootstrap_servers();

    let mut roots = kafka_wire_client::tls::rustls::RootCertStore::empty();
    roots.add(cert_der).unwrap();
    let tls = TlsConfig::with_roots(roots).unwrap().server_name("broker.test");
    let connection = Connection::connect(addr.clone(), ConnectionConfig::default().tls(tls)).await.unwrap();
    let r = connection.send_versioned(&produce_request("t", 0, "over tls")).await.unwrap();
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE);
    assert_eq!(cluster.records("t", 0).unwrap()[0].value.as_deref(), Some(&b"over tls"[..]));

    // Plaintext on the TLS port gets no Kafka answer.
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    assert!(exchange(&mut stream, &metadata_request().serialize(1, None).unwrap()).await.is_none());
    cluster.shutdown().await;
}
