//! SCRAM-SHA-256 and SCRAM-SHA-512 over SASL_PLAINTEXT, and TLS: admin, idempotent producer and
//! a consumer group work; a wrong password, or a certificate the client does not trust, fails
//! with the client's authentication error.

use base64::Engine as _;
use kafka_wire_harness::Listener;
use kafka_wire_mock::{SaslConfig, SaslMechanism};

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

fn scram(label: &str, mechanism: SaslMechanism) {
    let mock = mock_config().sasl(SaslConfig::new([SaslMechanism::ScramSha256, SaslMechanism::ScramSha512], &[USER]));
    let options = [
        ("topic", label.replace('_', "-")),
        ("security", "SASL_PLAINTEXT".into()),
        ("mechanism", mechanism.name().into()),
        ("user", USER.0.into()),
        ("password", USER.1.into()),
    ];
    run_both(label, "auth", mock, Listener::SaslPlaintext, &options, check("SaslAuthenticationException"));
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
fn tls() {
    use kafka_wire_mock::rustls;
    let certs = certificates();
    let key = rustls::pki_types::PrivateKeyDer::try_from(certs.key_der.clone()).unwrap();
    let server =
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certs.trusted_der.clone().into()], key)
            .unwrap();
    let mock = mock_config().tls(std::sync::Arc::new(server));
    let b64 = |der: &[u8]| base64::engine::general_purpose::STANDARD.encode(der);
    let options = [
        ("topic", "tls".to_owned()),
        ("security", "SSL".into()),
        ("trust", b64(&certs.trusted_der)),
        ("other_trust", b64(&certs.other_der)),
    ];
    run_both("tls", "auth", mock, Listener::Ssl, &options, check("SslAuthenticationException"));
}
