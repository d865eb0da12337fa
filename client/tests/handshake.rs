//! The sans-io handshake without sockets: each branch of ApiVersions negotiation (the v0
//! downgrade, caps, a configured table, the probe timeout) and of SASL (PLAIN, SCRAM, an
//! unknown mechanism, a wrong password, a forged server signature, re-authentication).

use std::time::Duration;

use crate::support::scram::ScramServer;
use bytes::Bytes;
use kafka_wire::{
    api_versions, sasl_authenticate, sasl_handshake, ApiKey, ApiRequest, ApiResponse, DecodeError, DecodeErrorKind,
    ErrorCode, VersionRange,
};
use kafka_wire_client::handshake::{BrokerVersions, Established, Handshake, Outgoing, Step};
use kafka_wire_client::sasl::{SaslConfig, SaslMechanism};
use kafka_wire_client::{ConnectionConfig, Error};

/// The ranges of a broker that knows ApiVersions up to v3: Metadata, SaslHandshake,
/// ApiVersions, SaslAuthenticate.
const RANGES: [(i16, i16, i16); 4] = [(3, 0, 12), (17, 0, 1), (18, 0, 3), (36, 0, 2)];

fn api_versions_answer(error_code: ErrorCode, ranges: &[(i16, i16, i16)]) -> ApiResponse {
    let api_keys = ranges
        .iter()
        .map(|&(api_key, min_version, max_version)| api_versions::ApiVersion {
            api_key,
            min_version,
            max_version,
            ..Default::default()
        })
        .collect();
    api_versions::Response { error_code, api_keys, ..Default::default() }.into()
}

fn sent(step: Step) -> Outgoing {
    match step {
        Step::Send(out) => out,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn done(step: Step) -> Established {
    match step {
        Step::Done(established) => established,
        other => panic!("expected the end, got {other:?}"),
    }
}

fn failed(step: Step) -> Error {
    match step {
        Step::Failed(e) => e,
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn config() -> ConnectionConfig {
    ConnectionConfig::default().request_timeout(Duration::from_secs(30)).api_versions_timeout(Duration::from_secs(3))
}

fn sasl(mechanism: SaslMechanism, password: &str) -> ConnectionConfig {
    config().sasl(SaslConfig::new(mechanism, "alice", password))
}

/// Through ApiVersions with the usual broker; the next step.
fn negotiated(handshake: &mut Handshake) -> Step {
    let out = sent(handshake.start());
    assert_eq!(out.request.api_key(), ApiKey::ApiVersions);
    if out.version > 3 {
        let again = sent(handshake.receive(Ok(api_versions_answer(ErrorCode::UNSUPPORTED_VERSION, &RANGES))));
        assert_eq!(again.version, 3);
    }
    handshake.receive(Ok(api_versions_answer(ErrorCode::NONE, &RANGES)))
}

fn auth_bytes(out: &Outgoing) -> String {
    match &out.request {
        ApiRequest::SaslAuthenticate(r) => String::from_utf8(r.auth_bytes.to_vec()).unwrap(),
        other => panic!("expected SaslAuthenticate, got {other:?}"),
    }
}

fn authenticate_answer(auth_bytes: &str, session_lifetime_ms: i64) -> ApiResponse {
    sasl_authenticate::Response {
        auth_bytes: Bytes::from(auth_bytes.to_owned()),
        session_lifetime_ms,
        ..Default::default()
    }
    .into()
}

fn handshake_answer(error_code: ErrorCode, enabled: &str) -> ApiResponse {
    sasl_handshake::Response { error_code, mechanisms: vec![enabled.into()] }.into()
}

#[test]
fn the_newest_version_first_then_the_brokers_versions() {
    let mut handshake = Handshake::new(config());
    let out = sent(handshake.start());
    let ApiRequest::ApiVersions(request) = &out.request else { panic!("{out:?}") };
    assert_eq!(out.version, ApiKey::ApiVersions.versions().max);
    assert_eq!(out.timeout, Duration::from_secs(3), "the first ApiVersions is the probe");
    assert_eq!(&*request.client_software_name, "kafka-wire-client");

    let ranges = [(3, 0, 12), (18, 0, 9), (9999, 0, 1)];
    let established = done(handshake.receive(Ok(api_versions_answer(ErrorCode::NONE, &ranges))));
    assert_eq!(established.api_versions_version, Some(out.version));
    assert_eq!(established.versions.version_for(ApiKey::Metadata).unwrap(), 12);
    assert_eq!(established.versions.broker_range(ApiKey::Metadata), VersionRange::new(0, 12));
    assert_eq!(established.versions.version_for(ApiKey::ApiVersions).unwrap(), ApiKey::ApiVersions.versions().max);
    let err = established.versions.version_for(ApiKey::Fetch).unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { api: ApiKey::Fetch, supported: VersionRange::EMPTY, .. }));
    assert!(established.authenticated.is_none());
    // The handshake is over: another answer is a misuse, not a panic.
    assert!(matches!(
        failed(handshake.receive(Ok(api_versions_answer(ErrorCode::NONE, &ranges)))),
        Error::Handshake(_)
    ));
    assert!(matches!(failed(handshake.start()), Error::Handshake(_)));
}

/// KIP-511: a broker that does not know the version asked answers in v0 format with
/// UNSUPPORTED_VERSION and its ranges; the handshake asks again with the broker's highest
/// version (or v0 without an ApiVersions entry), on the same connection, with the request
/// timeout (the broker has shown it speaks Kafka).
#[test]
fn the_v0_downgrade() {
    for (entry, expected) in [(Some((18, 0, 2)), 2), (None, 0)] {
        let mut handshake = Handshake::new(config());
        let first = sent(handshake.start());
        let ranges: Vec<_> = [(3, 0, 12)].into_iter().chain(entry).collect();
        let again = sent(handshake.receive(Ok(api_versions_answer(ErrorCode::UNSUPPORTED_VERSION, &ranges))));
        assert_eq!((again.request.api_key(), again.version), (ApiKey::ApiVersions, expected));
        assert!(again.version < first.version);
        assert_eq!(again.timeout, Duration::from_secs(30));
        let established = done(handshake.receive(Ok(api_versions_answer(ErrorCode::NONE, &ranges))));
        assert_eq!(established.api_versions_version, Some(expected));
    }
    // UNSUPPORTED_VERSION to a version the broker claims to have: the error stands (no loop).
    let mut handshake = Handshake::new(config()).starting_at(2);
    assert_eq!(sent(handshake.start()).version, 2);
    let err = failed(handshake.receive(Ok(api_versions_answer(ErrorCode::UNSUPPORTED_VERSION, &[(18, 0, 3)]))));
    assert!(matches!(err, Error::Broker { api: ApiKey::ApiVersions, code: ErrorCode::UNSUPPORTED_VERSION, .. }));
}

/// `max_versions` caps the ApiVersions version asked, the versions negotiated, and the SASL
/// versions; an API capped below the broker's minimum is unusable.
#[test]
fn version_caps() {
    let config = sasl(SaslMechanism::Plain, "secret")
        .max_version(ApiKey::ApiVersions, 1)
        .max_version(ApiKey::Metadata, 9)
        .max_version(ApiKey::SaslAuthenticate, 0)
        .max_version(ApiKey::Heartbeat, 2);
    let mut handshake = Handshake::new(config).starting_at(3);
    let out = sent(handshake.start());
    assert_eq!(out.version, 1);
    let ranges = [(3, 0, 12), (12, 3, 4), (17, 0, 1), (18, 0, 3), (36, 0, 2)];
    let out = sent(handshake.receive(Ok(api_versions_answer(ErrorCode::NONE, &ranges))));
    assert_eq!((out.request.api_key(), out.version), (ApiKey::SaslHandshake, 1));
    let out = sent(handshake.receive(Ok(handshake_answer(ErrorCode::NONE, "PLAIN"))));
    assert_eq!((out.request.api_key(), out.version), (ApiKey::SaslAuthenticate, 0));
    let established = done(handshake.receive(Ok(authenticate_answer("", 0))));
    let versions = &established.versions;
    assert_eq!(versions.version_for(ApiKey::Metadata).unwrap(), 9);
    assert_eq!(versions.negotiated().get(ApiKey::Metadata), Some(9));
    assert_eq!(versions.broker_range(ApiKey::Metadata), VersionRange::new(0, 12));
    let err = versions.version_for(ApiKey::Heartbeat).unwrap_err();
    assert!(
        matches!(err, Error::VersionCapped { api: ApiKey::Heartbeat, cap: 2, shared } if shared == VersionRange::new(3, 4))
    );
    assert!(err.to_string().contains("max_versions"), "{err}");
    // A request of a version of its own is checked against the broker only.
    assert!(versions.check(ApiKey::Metadata, 12).is_ok());
    assert!(versions.check(ApiKey::Metadata, 13).is_err());

    // SaslHandshake capped at v0 leaves no SaslAuthenticate: refused before anything is sent.
    let config = sasl(SaslMechanism::Plain, "secret").max_version(ApiKey::SaslHandshake, 0);
    let err = failed(negotiated(&mut Handshake::new(config)));
    assert!(
        matches!(&err, Error::Authentication { code: None, message } if message.contains("SaslHandshake is capped at v0")),
        "{err}"
    );
}

/// A configured version table: no ApiVersions at all.
#[test]
fn a_configured_version_table_skips_api_versions() {
    let table = [(ApiKey::Metadata, VersionRange::new(0, 0)), (ApiKey::SaslHandshake, VersionRange::new(0, 1))];
    let established = done(Handshake::new(config().broker_versions(table)).start());
    assert_eq!(established.api_versions_version, None);
    assert_eq!(established.versions.version_for(ApiKey::Metadata).unwrap(), 0);
    assert!(established.versions.version_for(ApiKey::ApiVersions).is_err());

    // With SASL, the handshake starts with SaslHandshake.
    let config = sasl(SaslMechanism::Plain, "secret")
        .broker_versions(table.into_iter().chain([(ApiKey::SaslAuthenticate, VersionRange::new(0, 2))]));
    let out = sent(Handshake::new(config).start());
    assert_eq!((out.request.api_key(), out.version), (ApiKey::SaslHandshake, 1));
}

/// No answer to the first ApiVersions within the probe timeout, or the connection dropped, or
/// bytes that are no Kafka frame: the error names a broker older than 0.10 (or no Kafka
/// broker) and the setting. Later failures are reported as they are.
#[test]
fn the_probe_timeout_names_the_likely_cause() {
    for cause in [
        Error::Timeout { api: ApiKey::ApiVersions, after: Duration::from_secs(3) },
        Error::Closed,
        Error::FrameTooLarge { size: 0x4745_5420, max: 100 << 20 },
    ] {
        let mut handshake = Handshake::new(config());
        sent(handshake.start());
        let err = failed(handshake.receive(Err(cause.clone())));
        let Error::NoApiVersionsAnswer { cause: inner } = &err else { panic!("{err:?}") };
        assert_eq!(inner.to_string(), cause.to_string());
        let message = err.to_string();
        assert!(message.contains("older than Kafka 0.10.0"), "{message}");
        assert!(message.contains("not a Kafka broker"), "{message}");
        assert!(message.contains("ConnectionConfig::broker_versions"), "{message}");
    }
    // After a downgrade reply the broker speaks Kafka: a timeout is just a timeout.
    let mut handshake = Handshake::new(config());
    sent(handshake.start());
    sent(handshake.receive(Ok(api_versions_answer(ErrorCode::UNSUPPORTED_VERSION, &RANGES))));
    let timeout = Error::Timeout { api: ApiKey::ApiVersions, after: Duration::from_secs(30) };
    assert!(matches!(failed(handshake.receive(Err(timeout))), Error::Timeout { .. }));
    // A malformed answer is passed on as it is (the connection retries with v0 on a new socket).
    let mut handshake = Handshake::new(config());
    let out = sent(handshake.start());
    let source = DecodeError::new(DecodeErrorKind::InvalidLength(-7), "");
    let malformed = Error::Malformed { api: ApiKey::ApiVersions, version: out.version, source };
    assert!(matches!(failed(handshake.receive(Err(malformed))), Error::Malformed { .. }));
}

#[test]
fn sasl_plain_and_a_wrong_password() {
    let mut handshake = Handshake::new(sasl(SaslMechanism::Plain, "secret"));
    let out = sent(negotiated(&mut handshake));
    let ApiRequest::SaslHandshake(request) = &out.request else { panic!("{out:?}") };
    assert_eq!((&*request.mechanism, out.version), ("PLAIN", 1));
    let out = sent(handshake.receive(Ok(handshake_answer(ErrorCode::NONE, "PLAIN"))));
    assert_eq!((auth_bytes(&out).as_str(), out.version), ("\0alice\0secret", 2));
    let established = done(handshake.receive(Ok(authenticate_answer("", 0))));
    let authenticated = established.authenticated.unwrap();
    assert_eq!((authenticated.mechanism, authenticated.session_lifetime), (SaslMechanism::Plain, None));
    assert_eq!(established.api_versions_version, Some(3));

    let mut handshake = Handshake::new(sasl(SaslMechanism::Plain, "wrong"));
    sent(negotiated(&mut handshake));
    sent(handshake.receive(Ok(handshake_answer(ErrorCode::NONE, "PLAIN"))));
    let refusal = sasl_authenticate::Response {
        error_code: ErrorCode::SASL_AUTHENTICATION_FAILED,
        error_message: Some("Invalid username or password".into()),
        ..Default::default()
    };
    let err = failed(handshake.receive(Ok(refusal.into())));
    assert!(
        matches!(&err, Error::Authentication { code: Some(ErrorCode::SASL_AUTHENTICATION_FAILED), message }
            if message.contains("Invalid username or password")),
        "{err:?}"
    );

    // The connection drops mid-exchange: an authentication error naming the cause.
    let mut handshake = Handshake::new(sasl(SaslMechanism::Plain, "wrong"));
    sent(negotiated(&mut handshake));
    sent(handshake.receive(Ok(handshake_answer(ErrorCode::NONE, "PLAIN"))));
    let err = failed(handshake.receive(Err(Error::Closed)));
    assert!(matches!(&err, Error::Authentication { code: None, message } if message.contains("closed")), "{err:?}");
}

#[test]
fn a_mechanism_the_broker_does_not_enable() {
    let mut handshake = Handshake::new(sasl(SaslMechanism::Plain, "secret"));
    sent(negotiated(&mut handshake));
    let err = failed(handshake.receive(Ok(handshake_answer(ErrorCode::UNSUPPORTED_SASL_MECHANISM, "SCRAM-SHA-512"))));
    assert!(
        matches!(&err, Error::SaslMechanism { mechanism, enabled } if mechanism == "PLAIN" && enabled == &["SCRAM-SHA-512"]),
        "{err:?}"
    );
}

/// The SCRAM exchange against a server computed independently; with a session lifetime, the
/// re-authentication point at 85% of it.
fn scram_exchange(handshake: &mut Handshake, first: Step, mechanism: &'static str, lifetime_ms: i64) -> Step {
    let out = sent(first);
    assert_eq!(out.request.api_key(), ApiKey::SaslHandshake);
    let client_first = auth_bytes(&sent(handshake.receive(Ok(handshake_answer(ErrorCode::NONE, mechanism)))));
    let (server, server_first) = ScramServer::first(mechanism, "alice", "pencil", &client_first);
    let client_final = auth_bytes(&sent(handshake.receive(Ok(authenticate_answer(&server_first, 0)))));
    let server_final = server.last(&client_final).unwrap();
    handshake.receive(Ok(authenticate_answer(&server_final, lifetime_ms)))
}

#[test]
fn sasl_scram_and_a_forged_server_signature() {
    for (name, mechanism) in
        [("SCRAM-SHA-256", SaslMechanism::ScramSha256), ("SCRAM-SHA-512", SaslMechanism::ScramSha512)]
    {
        let mut handshake = Handshake::new(sasl(mechanism, "pencil"));
        let first = negotiated(&mut handshake);
        let established = done(scram_exchange(&mut handshake, first, name, 0));
        assert_eq!(established.authenticated.unwrap().mechanism, mechanism);
    }

    // A server that does not know the password cannot sign the exchange.
    let mut handshake = Handshake::new(sasl(SaslMechanism::ScramSha256, "pencil"));
    sent(negotiated(&mut handshake));
    let client_first = auth_bytes(&sent(handshake.receive(Ok(handshake_answer(ErrorCode::NONE, "SCRAM-SHA-256")))));
    let (server, server_first) = ScramServer::first("SCRAM-SHA-256", "alice", "pencil", &client_first);
    let client_final = auth_bytes(&sent(handshake.receive(Ok(authenticate_answer(&server_first, 0)))));
    let genuine = server.last(&client_final).unwrap();
    let forged = format!("v={}", "A".repeat(genuine.len() - 2 - 1) + "=");
    assert_ne!(forged, genuine);
    let err = failed(handshake.receive(Ok(authenticate_answer(&forged, 0))));
    assert!(
        matches!(&err, Error::Authentication { code: None, message } if message.contains("server signature does not match")),
        "{err:?}"
    );
}

/// KIP-368: the session lifetime sets the re-authentication point; re-authentication on the
/// open connection is SaslHandshake and the whole exchange again, with the versions already
/// negotiated.
#[test]
fn reauthentication() {
    let config = sasl(SaslMechanism::ScramSha512, "pencil");
    let mut handshake = Handshake::new(config.clone());
    let first = negotiated(&mut handshake);
    let established = done(scram_exchange(&mut handshake, first, "SCRAM-SHA-512", 10_000));
    let authenticated = established.authenticated.unwrap();
    assert_eq!(authenticated.session_lifetime, Some(Duration::from_secs(10)));
    assert_eq!(authenticated.reauthenticate_after, Some(Duration::from_millis(8_500)));

    let mut again = Handshake::reauthenticate(config, established.versions.clone());
    let first = again.start();
    let renewed = done(scram_exchange(&mut again, first, "SCRAM-SHA-512", 60_000));
    assert_eq!(renewed.versions, established.versions);
    assert_eq!(renewed.authenticated.unwrap().reauthenticate_after, Some(Duration::from_millis(51_000)));

    // A refused re-authentication is an authentication error.
    let versions = BrokerVersions::new(RANGES, &Default::default());
    let mut again = Handshake::reauthenticate(sasl(SaslMechanism::Plain, "old"), versions);
    sent(again.start());
    sent(again.receive(Ok(handshake_answer(ErrorCode::NONE, "PLAIN"))));
    let refusal =
        sasl_authenticate::Response { error_code: ErrorCode::SASL_AUTHENTICATION_FAILED, ..Default::default() };
    assert!(matches!(failed(again.receive(Ok(refusal.into()))), Error::Authentication { .. }));
}

/// An answer of another API than the request's is a typed error, not a panic.
#[test]
fn an_answer_of_another_api() {
    let mut handshake = Handshake::new(config());
    sent(handshake.start());
    let err = failed(handshake.receive(Ok(handshake_answer(ErrorCode::NONE, "PLAIN"))));
    assert!(matches!(&err, Error::Handshake(m) if m.contains("SaslHandshake")), "{err:?}");
}
