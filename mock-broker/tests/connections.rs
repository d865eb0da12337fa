//! Connections over real sockets: bytes after a request body, and SASL at every version of
//! SaslHandshake and SaslAuthenticate the codec has (this project's client at a capped
//! version; raw frames for the bare tokens after a SaslHandshake v0, which the client does not
//! speak). What Kafka 4.4 does with the same bytes is checked in tests/differential/connections.rs.

use bytes::Bytes;
use kafka_wire::{metadata, sasl_handshake, ApiKey, ErrorCode, VersionFreeRequest, VersionFreeResponse};
use kafka_wire_client::sasl::scram::{ScramClient, ScramHash};
use kafka_wire_client::sasl::{SaslConfig as ClientSasl, SaslMechanism as ClientMechanism};
use kafka_wire_client::{Connection, ConnectionConfig, Error};
use kafka_wire_mock::{MockCluster, MockConfig, SaslConfig, SaslMechanism};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// librdkafka's all-topics Metadata v12 request as it sends it (header v2, correlation id 1,
/// client id `rdkafka`; topics null, auto-create on, no authorized operations, no tags) and the
/// three bytes after the body; Kafka 4.4 answers it (tests/differential/connections.rs).
const LIBRDKAFKA_ALL_TOPICS: &[u8] = &[
    0x00, 0x00, 0x00, 0x19, // size
    0x00, 0x03, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, b'r', b'd', b'k', b'a', b'f', b'k', b'a',
    0x00, // header
    0x00, 0x01, 0x00, 0x00, // body
    0x00, 0x00, 0x00, // after the body
];

/// Writes `frame` (with its size prefix) and reads one answer frame without its prefix; `None`
/// when the broker closed the connection instead.
async fn exchange(stream: &mut TcpStream, frame: &[u8]) -> Option<Bytes> {
    stream.write_all(frame).await.ok()?;
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).await.ok()?;
    let mut body = vec![0u8; usize::try_from(i32::from_be_bytes(size)).ok()?];
    stream.read_exact(&mut body).await.ok()?;
    Some(Bytes::from(body))
}

/// A bare token (after a SaslHandshake v0): a size prefix and the bytes.
fn bare(token: &[u8]) -> Vec<u8> {
    let mut frame = (token.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(token);
    frame
}

#[tokio::test]
async fn bytes_after_a_request_body_are_ignored_as_kafka_ignores_them() {
    let cluster = MockCluster::start(MockConfig::new().topic("t", 2)).await.unwrap();
    let mut stream = TcpStream::connect(cluster.broker_addrs()[0]).await.unwrap();
    assert_eq!(LIBRDKAFKA_ALL_TOPICS.len(), 4 + 0x19);
    // Twice on one connection: the connection stays in step after the extra bytes.
    for _ in 0..2 {
        let answer = exchange(&mut stream, LIBRDKAFKA_ALL_TOPICS).await.expect("an answer, not a close");
        let (header, r) = metadata::Response::decode_frame(12, answer).unwrap();
        assert_eq!(header.correlation_id, 1);
        assert_eq!(r.topics.len(), 1);
        assert_eq!(r.topics[0].partitions.len(), 2);
    }
    cluster.shutdown().await;
}

fn sasl_cluster() -> MockConfig {
    MockConfig::new().topic("t", 1).sasl(SaslConfig::new(SaslMechanism::ALL, &[("alice", "alice-secret")]))
}

const MECHANISMS: [ClientMechanism; 3] =
    [ClientMechanism::Plain, ClientMechanism::ScramSha256, ClientMechanism::ScramSha512];

/// SaslHandshake v1 then SaslAuthenticate at each of its versions, every mechanism, with the
/// right and a wrong password: this project's client, capped at the version.
#[tokio::test]
async fn sasl_authenticate_at_every_version() {
    let cluster = MockCluster::start(sasl_cluster()).await.unwrap();
    let addr = cluster.bootstrap_servers();
    let versions = ApiKey::SaslAuthenticate.versions();
    let mut rounds = 0;
    for version in versions.min..=versions.max {
        for mechanism in MECHANISMS {
            let config = |password: &str| {
                ConnectionConfig::default()
                    .max_version(ApiKey::SaslAuthenticate, version)
                    .sasl(ClientSasl::new(mechanism, "alice", password))
            };
            let connection = Connection::connect(addr.clone(), config("alice-secret")).await.unwrap();
            assert_eq!(connection.version_for(ApiKey::SaslAuthenticate).await.unwrap(), version);
            let r = connection.send(&metadata::Request { topics: None, ..Default::default() }).await.unwrap();
            assert_eq!(r.topics.len(), 1, "v{version} {mechanism:?}");
            let err = Connection::connect(addr.clone(), config("wrong")).await.unwrap_err();
            assert!(matches!(err, Error::Authentication { .. }), "v{version} {mechanism:?}: {err:?}");
            rounds += 1;
        }
    }
    let stats = cluster.stats();
    assert_eq!((stats.authentications, stats.failed_authentications), (rounds, rounds));
    cluster.shutdown().await;
}

/// The SCRAM exchange over bare tokens: client-first, server-first, client-final, server-final.
async fn scram_bare(stream: &mut TcpStream, hash: ScramHash, password: &str) -> Option<()> {
    let mut client = ScramClient::new(hash, "alice", password).unwrap();
    let server_first = exchange(stream, &bare(client.client_first().as_bytes())).await?;
    let client_final = client.client_final(std::str::from_utf8(&server_first).unwrap()).unwrap();
    let server_final = exchange(stream, &bare(client_final.as_bytes())).await?;
    client.verify_server_final(std::str::from_utf8(&server_final).unwrap()).unwrap();
    Some(())
}

/// SaslHandshake v0 (the version before SaslAuthenticate): the tokens follow as bare
/// size-prefixed frames, as Kafka takes them from clients such as kafka-python 2.0.2; then the
/// connection serves requests. A wrong password closes the connection (no error field).
#[tokio::test]
async fn sasl_handshake_v0_then_bare_tokens() {
    let cluster = MockCluster::start(sasl_cluster()).await.unwrap();
    let addr = cluster.broker_addrs()[0];
    let handshake_versions = ApiKey::SaslHandshake.versions();
    let v0 = (handshake_versions.min..=handshake_versions.max)
        .find(|v| !sasl_handshake::Request::SASL_AUTHENTICATE_VERSIONS.contains(*v))
        .expect("a SaslHandshake version without SaslAuthenticate");
    let metadata = metadata::Request { topics: None, ..Default::default() }.serialize(12, 3, Some("raw")).unwrap();
    for mechanism in SaslMechanism::ALL {
        for password in ["alice-secret", "wrong"] {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let request = sasl_handshake::Request { mechanism: mechanism.name().into() };
            let answer = exchange(&mut stream, &request.serialize(v0, 1, Some("raw")).unwrap()).await.unwrap();
            let (header, r) = sasl_handshake::Response::decode_frame(v0, answer).unwrap();
            assert_eq!((header.correlation_id, r.error_code), (1, ErrorCode::NONE));
            assert_eq!(r.mechanisms.len(), 3);
            let authenticated = match mechanism {
                SaslMechanism::Plain => {
                    let reply = exchange(&mut stream, &bare(format!("\0alice\0{password}").as_bytes())).await;
                    // PLAIN's last message is empty: a bare frame of size 0.
                    reply.map(|r| assert!(r.is_empty()))
                }
                SaslMechanism::ScramSha256 => scram_bare(&mut stream, ScramHash::Sha256, password).await,
                _ => scram_bare(&mut stream, ScramHash::Sha512, password).await,
            };
            let after = exchange(&mut stream, &metadata).await;
            if password == "wrong" {
                assert!(authenticated.is_none() && after.is_none(), "{mechanism:?}: closed after the failure");
            } else {
                assert!(authenticated.is_some(), "{mechanism:?}");
                let (_, r) = metadata::Response::decode_frame(12, after.expect("served after authentication")).unwrap();
                assert_eq!(r.topics.len(), 1);
            }
        }
    }
    let stats = cluster.stats();
    assert_eq!((stats.authentications, stats.failed_authentications), (3, 3));
    cluster.shutdown().await;
}

/// ApiVersions advertises every version of the SASL APIs the codec has.
#[test]
fn every_sasl_version_is_advertised() {
    for api in [ApiKey::SaslHandshake, ApiKey::SaslAuthenticate] {
        let served = kafka_wire_mock::served_versions().find(|(a, ..)| *a == api).unwrap();
        assert_eq!((served.1, served.2), (api.versions().min, api.versions().max), "{api:?}");
    }
}

/// KIP-368 with a client told no lifetime (SaslAuthenticate v0 has no field for it): its
/// session expires all the same, and its first request after the lifetime closes the
/// connection, as in Kafka 4.4 (tests/differential/connections.rs); it may re-authenticate.
/// The sleep is the subject of the test: any time at least the lifetime makes the session
/// expire.
#[tokio::test]
async fn a_session_without_an_announced_lifetime_expires_too() {
    use kafka_wire::sasl_authenticate;
    let lifetime = std::time::Duration::from_millis(300);
    let sasl = SaslConfig::new([SaslMechanism::Plain], &[("alice", "alice-secret")]).session_lifetime(lifetime);
    let cluster = MockCluster::start(MockConfig::new().topic("t", 1).sasl(sasl)).await.unwrap();
    let mut stream = TcpStream::connect(cluster.broker_addrs()[0]).await.unwrap();
    let handshake = sasl_handshake::Request { mechanism: "PLAIN".into() };
    let answer = exchange(&mut stream, &handshake.serialize(1, 1, None).unwrap()).await.unwrap();
    assert_eq!(sasl_handshake::Response::decode_frame(1, answer).unwrap().1.error_code, ErrorCode::NONE);
    let authenticate =
        sasl_authenticate::Request { auth_bytes: Bytes::from_static(b"\0alice\0alice-secret"), ..Default::default() };
    let answer = exchange(&mut stream, &authenticate.serialize(0, 2, None).unwrap()).await.unwrap();
    let (_, r) = sasl_authenticate::Response::decode_frame(0, answer).unwrap();
    assert_eq!((r.error_code, r.session_lifetime_ms), (ErrorCode::NONE, 0));
    tokio::time::sleep(lifetime).await;
    let metadata = metadata::Request { topics: None, ..Default::default() }.serialize(12, 4, None).unwrap();
    assert!(exchange(&mut stream, &metadata).await.is_none(), "closed after the session expired");
    cluster.shutdown().await;
}
