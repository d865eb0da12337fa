//! SCRAM-SHA-256 and SCRAM-SHA-512 over SASL_PLAINTEXT, TLS (SSL), and SCRAM inside TLS
//! (SASL_SSL): admin, idempotent producer and a consumer group work; a wrong password, or a
//! certificate the client does not trust, fails with the client's authentication error.

use std::sync::Arc;

use base64::Engine as _;
use kafka_wire_harness::Listener;
use kafka_wire_mock::{rustls, SaslConfig, SaslMechanism};

use super::{certificates, mock_config, run_both, Outcome, USER};

fn check(wrong: &'static str) -> impl Fn(&Outcome) {
    move |o: &Outcome| {
        o.expect(&[
            ("consumed", "200"),
            ("duplicates", "0"),
            ("committed", "0:100,1:100"),
            ("wrong_credentials", wrong),
        ])
    }
}

fn sasl() -> SaslConfig {
    SaslConfig::new([SaslMechanism::ScramSha256, SaslMechanism::ScramSha512], &[USER])
}

fn sasl_options(mechanism: SaslMechanism) -> Vec<(&'static str, String)> {
    vec![("mechanism", mechanism.name().into()), ("user", USER.0.into()), ("password", USER.1.into())]
}

/// The mock's TLS: the certificate Kafka's SSL listener has too.
fn tls() -> Arc<rustls::ServerConfig> {
    let certs = certificates();
    let key = rustls::pki_types::PrivateKeyDer::try_from(certs.key_der.clone()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certs.trusted_der.clone().into()], key)
        .unwrap();
    Arc::new(server)
}

/// The client's trust: the brokers' certificate, and one no broker has (DER in base64).
fn tls_options() -> Vec<(&'static str, String)> {
    let certs = certificates();
    let b64 = |der: &[u8]| base64::engine::general_purpose::STANDARD.encode(der);
    vec![("trust", b64(&certs.trusted_der)), ("other_trust", b64(&certs.other_der))]
}

fn scram(label: &str, mechanism: SaslMechanism) {
    let mut options = vec![("topic", label.replace('_', "-")), ("security", "SASL_PLAINTEXT".into())];
    options.extend(sasl_options(mechanism));
    run_both(
        label,
        "auth",
        mock_config().sasl(sasl()),
        Listener::SaslPlaintext,
        &options,
        check("SaslAuthenticationException"),
    );
}

#[test]
fn scram_sha_256() {
    scram("scram_sha_256", SaslMechanism::ScramSha256);
}

#[test]
fn scram_sha_512() {
    scram("scram_sha_512", SaslMechanism::ScramSha512);
}

#[test]
fn tls_only() {
    let mut options = vec![("topic", "tls".to_owned()), ("security", "SSL".into())];
    options.extend(tls_options());
    run_both("tls", "auth", mock_config().tls(tls()), Listener::Ssl, &options, check("SslAuthenticationException"));
}

/// SASL_SSL; the wrong password is the failure checked.
#[test]
fn scram_sha_512_over_tls() {
    let mut options = vec![("topic", "scram-tls".to_owned()), ("security", "SASL_SSL".into())];
    options.extend(sasl_options(SaslMechanism::ScramSha512));
    options.extend(tls_options());
    let mock = mock_config().sasl(sasl()).tls(tls());
    run_both("scram_sha_512_over_tls", "auth", mock, Listener::SaslSsl, &options, check("SaslAuthenticationException"));
}
