//! Connections next to Kafka 4.4: bytes after a request body (librdkafka's all-topics Metadata
//! request), and SASL at every version of SaslHandshake and SaslAuthenticate the codec has (the
//! bare tokens after a v0 handshake included), with good and bad passwords, and the requests
//! Kafka refuses before authentication. SASL runs against a one-node Kafka of its own with a
//! `SASL_PLAINTEXT` listener (the shared cluster has none), started on first use.

use std::sync::OnceLock;

use kafka_wire::{sasl_authenticate, sasl_handshake, VersionFreeRequest, VersionFreeResponse};
use kafka_wire_client::sasl::scram::{ScramClient, ScramHash};
use kafka_wire_harness::Listener;
use kafka_wire_mock::{SaslConfig, SaslMechanism};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

/// librdkafka's all-topics Metadata v12 request as it sends it (header v2, correlation id 1,
/// client id `rdkafka`; topics null, auto-create on, no authorized operations, no tags) and
/// the three bytes after the body. The same bytes are in tests/tests/java_oracle.rs, where
/// Kafka's own parser reads them.
const LIBRDKAFKA_ALL_TOPICS: &[u8] = &[
    0x00, 0x03, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, b'r', b'd', b'k', b'a', b'f', b'k', b'a',
    0x00, // header
    0x00, 0x01, 0x00, 0x00, // body
    0x00, 0x00, 0x00, // after the body
];

/// One connection driven frame by frame.
struct Wire(TcpStream);

impl Wire {
    async fn connect(addr: &str) -> Wire {
        Wire(TcpStream::connect(addr).await.unwrap())
    }

    /// Writes `payload` with its size prefix and reads one answer frame (without its prefix),
    /// or sees the connection close.
    async fn exchange(&mut self, payload: &[u8]) -> Outcome {
        let mut frame = (payload.len() as i32).to_be_bytes().to_vec();
        frame.extend_from_slice(payload);
        self.exchange_frame(&frame).await
    }

    /// Writes `frame` as it is and reads one answer frame, or sees the connection close.
    async fn exchange_frame(&mut self, frame: &[u8]) -> Outcome {
        if self.0.write_all(frame).await.is_err() {
            return Outcome::Closed;
        }
        let read = async {
            let mut size = [0u8; 4];
            self.0.read_exact(&mut size).await.ok()?;
            let mut body = vec![0u8; usize::try_from(i32::from_be_bytes(size)).ok()?];
            self.0.read_exact(&mut body).await.ok()?;
            Some(Bytes::from(body))
        };
        match tokio::time::timeout(PATIENCE, read).await.expect("an answer or a close within PATIENCE") {
            Some(b) => Outcome::Answered(b),
            None => Outcome::Closed,
        }
    }

    /// Sends `request` at `version` and decodes the answer at that version.
    async fn send<R: VersionFreeRequest>(&mut self, request: &R, version: i16) -> Result<R::Response, &'static str> {
        let frame = request.serialize(version, 11, Some("diff")).unwrap();
        match self.exchange_frame(&frame).await {
            Outcome::Answered(bytes) => {
                let (header, response) = R::Response::decode_frame(version, bytes).unwrap();
                assert_eq!(header.correlation_id, 11);
                Ok(response)
            }
            Outcome::Closed => Err("closed"),
        }
    }

    /// Whether the connection still answers (an ApiVersions v0 round trip).
    async fn open(&mut self) -> &'static str {
        match self.send(&api_versions::Request::default(), 0).await {
            Ok(_) => "open",
            Err(closed) => closed,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bytes after a request body

async fn bytes_after_the_body_script(s: &Sys, t: &mut Transcript) {
    let mut wire = Wire::connect(&s.addr(s.ids[0])).await;
    for round in ["first", "second on the same connection"] {
        let answer = match wire.exchange(LIBRDKAFKA_ALL_TOPICS).await {
            Outcome::Answered(bytes) => {
                let (header, r) = metadata::Response::decode_frame(12, bytes).unwrap();
                format!("answered: correlation id {}, {} brokers", header.correlation_id, r.brokers.len())
            }
            Outcome::Closed => "closed".into(),
        };
        t.step(format!("librdkafka's all-topics Metadata v12, 3 bytes after the body ({round})"), answer);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_after_a_request_body() {
    differential!("bytes_after_a_request_body", bytes_after_the_body_script);
}

// ---------------------------------------------------------------------------------------------
// SASL

const USER: &str = "alice";
const PASSWORD: &str = "alice-secret";

fn sasl_kafka() -> &'static KafkaCluster {
    static KAFKA: OnceLock<KafkaCluster> = OnceLock::new();
    KAFKA.get_or_init(|| {
        let cluster = KafkaCluster::start(KafkaConfig::new().sasl_user(USER, PASSWORD)).unwrap();
        println!("1 SASL node: JVM start to ApiVersions answered in {:?}", cluster.startup_time());
        cluster
    })
}

/// The mechanisms Kafka's SASL listener enables (the harness enables these three).
const MECHANISMS: [&str; 3] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

/// One side of a SASL exchange: the client's messages for one mechanism.
enum ClientMechanism {
    Plain { password: String, sent: bool },
    Scram(ScramClient),
}

impl ClientMechanism {
    fn new(mechanism: &str, password: &str) -> Self {
        match mechanism {
            "PLAIN" => ClientMechanism::Plain { password: password.into(), sent: false },
            "SCRAM-SHA-256" => ClientMechanism::Scram(ScramClient::new(ScramHash::Sha256, USER, password).unwrap()),
            _ => ClientMechanism::Scram(ScramClient::new(ScramHash::Sha512, USER, password).unwrap()),
        }
    }

    fn first(&mut self) -> Vec<u8> {
        match self {
            ClientMechanism::Plain { password, sent } => {
                *sent = true;
                format!("\0{USER}\0{password}").into_bytes()
            }
            ClientMechanism::Scram(c) => c.client_first().into_bytes(),
        }
    }

    /// The next message after the server's `challenge`; `None` when the exchange is over.
    fn next(&mut self, challenge: &[u8]) -> Option<Vec<u8>> {
        match self {
            ClientMechanism::Plain { .. } => None,
            ClientMechanism::Scram(c) if c.awaits_server_first() => {
                Some(c.client_final(std::str::from_utf8(challenge).unwrap()).unwrap().into_bytes())
            }
            ClientMechanism::Scram(c) => {
                c.verify_server_final(std::str::from_utf8(challenge).unwrap()).unwrap();
                None
            }
        }
    }
}

/// A server SASL message with what must differ between two brokers (nonces, salts, proofs)
/// replaced by its shape: `r=<client nonce>+<n chars>,s=<salt>,i=4096`, `v=<signature>`.
fn token_shape(token: &[u8]) -> String {
    let Ok(text) = std::str::from_utf8(token) else { return format!("{} bytes", token.len()) };
    text.split(',')
        .map(|attr| match attr.split_once('=') {
            Some(("r", _)) => "r=<nonce>".to_string(),
            Some(("s", _)) => "s=<salt>".to_string(),
            Some(("v", v)) => format!("v=<{} chars>", v.len()),
            _ => attr.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A SaslHandshake answer, mechanisms sorted (their order is the broker's configuration's).
fn handshake_answer(r: Result<sasl_handshake::Response, &'static str>) -> String {
    match r {
        Ok(r) => {
            let mut mechanisms: Vec<String> = r.mechanisms.iter().map(|m| m.to_string()).collect();
            mechanisms.sort();
            format!("{} {mechanisms:?}", r.error_code)
        }
        Err(closed) => closed.into(),
    }
}

/// One SASL authentication at SaslHandshake `hv` and (from v1) SaslAuthenticate `av`, each
/// answer recorded; then whether the connection serves a Metadata request.
async fn authenticate(t: &mut Transcript, addr: &str, mechanism: &str, password: &str, hv: i16, av: Option<i16>) {
    let label = match av {
        Some(av) => format!("{mechanism}, password {password}, SaslHandshake v{hv}, SaslAuthenticate v{av}"),
        None => format!("{mechanism}, password {password}, SaslHandshake v{hv}, bare tokens"),
    };
    let mut wire = Wire::connect(addr).await;
    let handshake = wire.send(&sasl_handshake::Request { mechanism: mechanism.into() }, hv).await;
    let ok = handshake.as_ref().is_ok_and(|r| r.error_code == ErrorCode::NONE);
    t.step(format!("{label}: handshake"), handshake_answer(handshake));
    if !ok {
        return;
    }
    let mut client = ClientMechanism::new(mechanism, password);
    let mut message = Some(client.first());
    let mut round = 0;
    while let Some(token) = message.take() {
        round += 1;
        let step = format!("{label}: token {round}");
        let challenge = match av {
            Some(av) => {
                let request = sasl_authenticate::Request { auth_bytes: token.into(), ..Default::default() };
                match wire.send(&request, av).await {
                    Ok(r) => {
                        let answer = format!(
                            "{} {:?} {} lifetime {}",
                            r.error_code,
                            r.error_message.as_deref(),
                            token_shape(&r.auth_bytes),
                            r.session_lifetime_ms
                        );
                        t.step(step, answer);
                        if r.error_code != ErrorCode::NONE {
                            t.step(format!("{label}: after the failure"), wire.open().await);
                            return;
                        }
                        r.auth_bytes.to_vec()
                    }
                    Err(closed) => {
                        t.step(step, closed);
                        return;
                    }
                }
            }
            None => match wire.exchange(&token).await {
                Outcome::Answered(reply) => {
                    t.step(step, format!("bare reply {}", token_shape(&reply)));
                    reply.to_vec()
                }
                Outcome::Closed => {
                    t.step(step, "closed");
                    return;
                }
            },
        };
        message = client.next(&challenge);
    }
    let metadata = wire.send(&metadata::Request { topics: Some(Vec::new()), ..Default::default() }, 12).await;
    t.step(format!("{label}: Metadata v12"), metadata.map(|r| format!("{} brokers", r.brokers.len())));
}

/// HMAC-SHA-256.
fn hmac256(key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// A SCRAM-SHA-256 exchange whose client-final message carries `client nonce + server nonce`
/// (the server nonce starts with the client nonce already), as librdkafka before 2.6.1 sends
/// it (librdkafka#4895), with a proof that is right for that message: the answer to it.
async fn repeated_nonce(addr: &str, version: i16) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut wire = Wire::connect(addr).await;
    let handshake = sasl_handshake::Request { mechanism: "SCRAM-SHA-256".into() };
    wire.send(&handshake, ApiKey::SaslHandshake.versions().max).await.unwrap();
    let client_nonce = "fyko+d2lbbFgONRv9qkxdawL";
    let first_bare = format!("n={USER},r={client_nonce}");
    let request =
        sasl_authenticate::Request { auth_bytes: format!("n,,{first_bare}").into_bytes().into(), ..Default::default() };
    let server_first = wire.send(&request, version).await.unwrap().auth_bytes;
    let server_first = std::str::from_utf8(&server_first).unwrap().to_owned();
    let attr = |name: &str| server_first.split(',').find_map(|a| a.strip_prefix(name)).unwrap().to_owned();
    let (nonce, salt, iterations) = (attr("r="), b64.decode(attr("s=")).unwrap(), attr("i=").parse::<u32>().unwrap());
    let mut u = hmac256(PASSWORD.as_bytes(), &[salt.as_slice(), &1u32.to_be_bytes()].concat());
    let mut salted = u.clone();
    for _ in 1..iterations {
        u = hmac256(PASSWORD.as_bytes(), &u);
        salted.iter_mut().zip(&u).for_each(|(s, x)| *s ^= x);
    }
    let client_key = hmac256(&salted, b"Client Key");
    let stored_key = <sha2::Sha256 as sha2::Digest>::digest(&client_key);
    let without_proof = format!("c=biws,r={client_nonce}{nonce}");
    let signature = hmac256(&stored_key, format!("{first_bare},{server_first},{without_proof}").as_bytes());
    let proof: Vec<u8> = client_key.iter().zip(&signature).map(|(k, s)| k ^ s).collect();
    let request = sasl_authenticate::Request {
        auth_bytes: format!("{without_proof},p={}", b64.encode(proof)).into_bytes().into(),
        ..Default::default()
    };
    let answer = wire.send(&request, version).await.map(|r| (r.error_code, r.error_message));
    format!("{answer:?}, then {}", wire.open().await)
}

async fn sasl_script(t: &mut Transcript, addr: &str) {
    // What ApiVersions advertises for the SASL APIs.
    let mut wire = Wire::connect(addr).await;
    let request = api_versions::Request {
        client_software_name: "diff".into(),
        client_software_version: "1".into(),
        ..Default::default()
    };
    let r = wire.send(&request, 3).await.unwrap();
    for api in [ApiKey::SaslHandshake, ApiKey::SaslAuthenticate] {
        let range = r.api_keys.iter().find(|k| k.api_key == api.code()).map(|k| (k.min_version, k.max_version));
        t.step(format!("ApiVersions v3: {api:?}"), range);
    }

    // Every mechanism at every version, with the right and a wrong password.
    let handshakes = ApiKey::SaslHandshake.versions();
    let authenticates = ApiKey::SaslAuthenticate.versions();
    for mechanism in MECHANISMS {
        for password in [PASSWORD, "wrong"] {
            for hv in handshakes.min..=handshakes.max {
                if sasl_handshake::Request::SASL_AUTHENTICATE_VERSIONS.contains(hv) {
                    for av in authenticates.min..=authenticates.max {
                        authenticate(t, addr, mechanism, password, hv, Some(av)).await;
                    }
                } else {
                    authenticate(t, addr, mechanism, password, hv, None).await;
                }
            }
        }
    }

    // librdkafka before 2.6.1 (kcat 1.7) repeats its nonce in front of the server's in the
    // client-final message, with a proof computed over that message.
    t.step("SCRAM-SHA-256 final with the client nonce repeated", repeated_nonce(addr, authenticates.max).await);

    // Out of order: before authentication, only ApiVersions and the SASL requests.
    let mut wire = Wire::connect(addr).await;
    let metadata = wire.send(&metadata::Request { topics: Some(Vec::new()), ..Default::default() }, 12).await;
    t.step("Metadata before authentication", metadata.map(|r| r.brokers.len()));
    let mut wire = Wire::connect(addr).await;
    let request = sasl_authenticate::Request { auth_bytes: Bytes::from_static(b"\0alice\0x"), ..Default::default() };
    let answer = wire.send(&request, authenticates.max).await.map(|r| (r.error_code, r.error_message));
    t.step("SaslAuthenticate before SaslHandshake", format!("{answer:?}"));
    t.step("SaslAuthenticate before SaslHandshake: then", wire.open().await);
    let mut wire = Wire::connect(addr).await;
    let answer = wire.send(&sasl_handshake::Request { mechanism: "GSSAPI".into() }, handshakes.max).await;
    t.step("SaslHandshake of a mechanism not enabled", handshake_answer(answer));
    t.step("SaslHandshake of a mechanism not enabled: then", wire.open().await);
    let mut wire = Wire::connect(addr).await;
    let request = sasl_handshake::Request { mechanism: "PLAIN".into() };
    let first = wire.send(&request, handshakes.max).await;
    let second = wire.send(&request, handshakes.max).await;
    t.step("SaslHandshake twice", format!("{}, then {}", handshake_answer(first), handshake_answer(second)));
    t.step("SaslHandshake twice: then", wire.open().await);

    // After authentication: SaslAuthenticate alone, then a SaslHandshake and a SaslAuthenticate
    // (re-authentication, KIP-368), then a request.
    let mut wire = Wire::connect(addr).await;
    let handshake = sasl_handshake::Request { mechanism: "PLAIN".into() };
    let plain = sasl_authenticate::Request {
        auth_bytes: format!("\0{USER}\0{PASSWORD}").into_bytes().into(),
        ..Default::default()
    };
    let summary = |r: Result<sasl_authenticate::Response, &'static str>| {
        format!("{:?}", r.map(|r| (r.error_code, r.error_message, r.session_lifetime_ms)))
    };
    wire.send(&handshake, handshakes.max).await.unwrap();
    t.step("authenticated", summary(wire.send(&plain, authenticates.max).await));
    t.step("then SaslAuthenticate", summary(wire.send(&plain, authenticates.max).await));
    t.step("then SaslHandshake", handshake_answer(wire.send(&handshake, handshakes.max).await));
    t.step("then SaslAuthenticate again", summary(wire.send(&plain, authenticates.max).await));
    t.step("then", wire.open().await);
}

/// The SASL requests on a listener without SASL.
async fn without_sasl_script(t: &mut Transcript, addr: &str) {
    let handshakes = ApiKey::SaslHandshake.versions();
    for hv in handshakes.min..=handshakes.max {
        let mut wire = Wire::connect(addr).await;
        let answer = wire.send(&sasl_handshake::Request { mechanism: "PLAIN".into() }, hv).await;
        t.step(format!("SaslHandshake v{hv} without SASL"), handshake_answer(answer));
        t.step(format!("SaslHandshake v{hv} without SASL: then"), wire.open().await);
    }
    let authenticates = ApiKey::SaslAuthenticate.versions();
    for av in authenticates.min..=authenticates.max {
        let mut wire = Wire::connect(addr).await;
        let request =
            sasl_authenticate::Request { auth_bytes: Bytes::from_static(b"\0alice\0x"), ..Default::default() };
        let answer = wire.send(&request, av).await.map(|r| (r.error_code, r.error_message, r.session_lifetime_ms));
        t.step(format!("SaslAuthenticate v{av} without SASL"), format!("{answer:?}"));
        t.step(format!("SaslAuthenticate v{av} without SASL: then"), wire.open().await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_versions() {
    let kafka = tokio::task::spawn_blocking(sasl_kafka).await.unwrap();
    let _logs = kafka.log_guard();
    let users = MECHANISMS.iter().map(|m| SaslMechanism::from_name(m).unwrap());
    let mock = MockCluster::start(MockConfig::new().sasl(SaslConfig::new(users, &[(USER, PASSWORD)]))).await.unwrap();
    let (mut on_mock, mut on_kafka) = (Transcript::default(), Transcript::default());
    let kafka_addr = kafka.bootstrap_servers_of(Listener::SaslPlaintext);
    let mock_addr = mock.bootstrap_servers();
    tokio::join!(sasl_script(&mut on_mock, &mock_addr), sasl_script(&mut on_kafka, &kafka_addr));
    compare("sasl_versions", &on_mock, &on_kafka);
    mock.shutdown().await;

    let mock = MockCluster::start(MockConfig::new()).await.unwrap();
    let (mut on_mock, mut on_kafka) = (Transcript::default(), Transcript::default());
    let kafka_addr = kafka.bootstrap_servers_of(Listener::Plaintext);
    let mock_addr = mock.bootstrap_servers();
    tokio::join!(without_sasl_script(&mut on_mock, &mock_addr), without_sasl_script(&mut on_kafka, &kafka_addr));
    compare("sasl_versions_without_sasl", &on_mock, &on_kafka);
    mock.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// SASL with a session lifetime (KIP-368)

/// The session lifetime of the re-authentication scenario: long enough that a step right after
/// authentication is inside it on a loaded machine; the script sleeps it once.
const LIFETIME_MS: u64 = 5_000;

fn reauth_kafka() -> &'static KafkaCluster {
    static KAFKA: OnceLock<KafkaCluster> = OnceLock::new();
    KAFKA.get_or_init(|| {
        let config = KafkaConfig::new()
            .sasl_user(USER, PASSWORD)
            .broker_property("connections.max.reauth.ms", LIFETIME_MS.to_string());
        let cluster = KafkaCluster::start(config).unwrap();
        println!("1 SASL node with re-authentication: started in {:?}", cluster.startup_time());
        cluster
    })
}

/// SaslHandshake v1 and PLAIN at SaslAuthenticate `av` on a new connection: the answer.
async fn plain_session(wire: &mut Wire, av: i16) -> String {
    let handshake = sasl_handshake::Request { mechanism: "PLAIN".into() };
    let plain = sasl_authenticate::Request {
        auth_bytes: format!("\0{USER}\0{PASSWORD}").into_bytes().into(),
        ..Default::default()
    };
    let h = wire.send(&handshake, 1).await.map(|r| r.error_code);
    let a = wire.send(&plain, av).await.map(|r| (r.error_code, r.session_lifetime_ms));
    format!("{h:?} {a:?}")
}

/// SaslHandshake v0 and a bare PLAIN token on a new connection: the answers.
async fn bare_session(wire: &mut Wire) -> String {
    let answer = wire.send(&sasl_handshake::Request { mechanism: "PLAIN".into() }, 0).await.map(|r| r.error_code);
    format!("{answer:?} {:?}", wire.exchange(format!("\0{USER}\0{PASSWORD}").as_bytes()).await)
}

async fn reauth_script(t: &mut Transcript, addr: &str) {
    let handshake = sasl_handshake::Request { mechanism: "PLAIN".into() };
    let plain = sasl_authenticate::Request {
        auth_bytes: format!("\0{USER}\0{PASSWORD}").into_bytes().into(),
        ..Default::default()
    };
    let metadata = metadata::Request { topics: Some(Vec::new()), ..Default::default() };
    let authenticates = ApiKey::SaslAuthenticate.versions();
    let mut kept = Vec::new();
    for av in authenticates.min..=authenticates.max {
        let mut wire = Wire::connect(addr).await;
        t.step(format!("SaslAuthenticate v{av}"), plain_session(&mut wire, av).await);
        // Re-authentication on the same connection.
        let again = wire.send(&handshake, 1).await;
        t.step(format!("SaslAuthenticate v{av}: SaslHandshake again"), handshake_answer(again));
        let answer = wire.send(&plain, av).await.map(|r| (r.error_code, r.session_lifetime_ms));
        t.step(format!("SaslAuthenticate v{av}: SaslAuthenticate again"), format!("{answer:?}"));
        let answer = wire.send(&metadata, 12).await.map(|r| r.brokers.len());
        t.step(format!("SaslAuthenticate v{av}: Metadata"), format!("{answer:?}"));
        // A session left alone until its lifetime is over.
        let mut wire = Wire::connect(addr).await;
        plain_session(&mut wire, av).await;
        kept.push((format!("SaslAuthenticate v{av}"), wire));
    }
    // Bare tokens after SaslHandshake v0, then a SaslHandshake; and a session left alone.
    let mut wire = Wire::connect(addr).await;
    t.step("bare tokens", bare_session(&mut wire).await);
    t.step("bare tokens: SaslHandshake again", handshake_answer(wire.send(&handshake, 1).await));
    let mut wire = Wire::connect(addr).await;
    bare_session(&mut wire).await;
    kept.push(("bare tokens".to_string(), wire));
    // Past the lifetime: every session expired.
    tokio::time::sleep(Duration::from_millis(LIFETIME_MS)).await;
    for (name, mut wire) in kept {
        let answer = wire.send(&metadata, 12).await.map(|r| r.brokers.len());
        t.step(format!("{name}: Metadata after the lifetime"), format!("{answer:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_session_lifetime() {
    let kafka = tokio::task::spawn_blocking(reauth_kafka).await.unwrap();
    let _logs = kafka.log_guard();
    let sasl =
        SaslConfig::new(SaslMechanism::ALL, &[(USER, PASSWORD)]).session_lifetime(Duration::from_millis(LIFETIME_MS));
    let mock = MockCluster::start(MockConfig::new().sasl(sasl)).await.unwrap();
    let (mut on_mock, mut on_kafka) = (Transcript::default(), Transcript::default());
    let kafka_addr = kafka.bootstrap_servers_of(Listener::SaslPlaintext);
    let mock_addr = mock.bootstrap_servers();
    tokio::join!(reauth_script(&mut on_mock, &mock_addr), reauth_script(&mut on_kafka, &kafka_addr));
    compare("sasl_session_lifetime", &on_mock, &on_kafka);
    mock.shutdown().await;
}
