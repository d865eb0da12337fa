//! `ConnectionConfig::default()` sends an ApiVersions request that a broker accepts: from v3 on,
//! Kafka refuses (INVALID_REQUEST) a `ClientSoftwareName` or `ClientSoftwareVersion` that does
//! not match `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?` (KIP-511; `ApiVersionsRequest.isValid`),
//! and the protocol type's `Default` leaves both empty.

use bytes::Bytes;
use kafka_wire::{ApiRequest, RequestFrame};
use kafka_wire_client::{Connection, ConnectionConfig};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// Kafka's `ApiVersionsRequest.SOFTWARE_NAME_VERSION_PATTERN`: letters and digits at both
/// ends, letters, digits, `-` and `.` between.
fn kafka_accepts(s: &str) -> bool {
    let edge = |c: char| c.is_ascii_alphanumeric();
    let inner = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    match (s.chars().next(), s.chars().last()) {
        (Some(first), Some(last)) => edge(first) && edge(last) && s.chars().all(inner),
        _ => false,
    }
}

#[test]
fn the_pattern_is_kafkas() {
    for ok in ["a", "kafka-wire-client", "0.1.0", "librdkafka", "1.0.0-rc.1"] {
        assert!(kafka_accepts(ok), "{ok}");
    }
    for bad in ["", "-a", "a-", "a.", ".a", "a b", "a_b", "é"] {
        assert!(!kafka_accepts(bad), "{bad:?}");
    }
}

#[test]
fn the_default_software_name_and_version_are_valid() {
    let config = ConnectionConfig::default();
    assert!(kafka_accepts(&config.software_name), "{:?}", config.software_name);
    assert!(kafka_accepts(&config.software_version), "{:?}", config.software_version);
}

/// The first request of a connection with the default config, as a broker reads it.
#[tokio::test]
async fn the_first_api_versions_request_carries_them() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let client = tokio::spawn(Connection::connect(addr, ConnectionConfig::default()));

    let (mut tcp, _) = listener.accept().await.unwrap();
    let size = tcp.read_i32().await.unwrap();
    let mut frame = vec![0; usize::try_from(size).unwrap()];
    tcp.read_exact(&mut frame).await.unwrap();
    let frame = RequestFrame::<ApiRequest>::decode(Bytes::from(frame)).unwrap();
    let ApiRequest::ApiVersions(request) = &frame.request else {
        panic!("the first request is {:?}", frame.request.api_key())
    };
    assert!(frame.header.request_api_version >= 3, "a version with the software fields");
    let config = ConnectionConfig::default();
    assert_eq!(request.client_software_name, config.software_name.as_str());
    assert_eq!(request.client_software_version, config.software_version.as_str());

    // Closing the socket ends the client's attempt; only what it sent matters here.
    drop(tcp);
    client.abort();
}
