//! TLS with rustls (feature `tls`), ring as the crypto provider.
//!
//! ```no_run
//! use kafka_wire_client::tls::{rustls, TlsConfig};
//! use kafka_wire_client::ConnectionConfig;
//!
//! let mut roots = rustls::RootCertStore::empty();
//! # let ca_der: Vec<u8> = Vec::new();
//! roots.add(rustls::pki_types::CertificateDer::from(ca_der)).unwrap();
//! let config = ConnectionConfig::default().tls(TlsConfig::with_roots(roots).unwrap());
//! ```

use std::sync::Arc;

pub use rustls;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::error::{Error, Result};

/// How to set up TLS on every connection.
#[derive(Clone)]
pub struct TlsConfig {
    config: Arc<rustls::ClientConfig>,
    server_name: Option<String>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig").field("server_name", &self.server_name).finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// TLS with a rustls configuration of your own (client certificates, custom verifiers...).
    pub fn new(config: Arc<rustls::ClientConfig>) -> Self {
        TlsConfig { config, server_name: None }
    }

    /// TLS that trusts the certificates in `roots`, without a client certificate.
    pub fn with_roots(roots: rustls::RootCertStore) -> Result<Self> {
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self::new(Arc::new(config)))
    }

    /// The name to verify the broker's certificate against, instead of the host of its address.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }
}

/// The host part of `host:port` (`[v6]:port` too).
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _port)| host);
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

pub(crate) async fn connect(tls: &TlsConfig, addr: &str, tcp: TcpStream) -> Result<TlsStream<TcpStream>> {
    let name = tls.server_name.clone().unwrap_or_else(|| host_of(addr).to_owned());
    let name = ServerName::try_from(name).map_err(|e| Error::Tls(format!("invalid server name: {e}")))?;
    TlsConnector::from(tls.config.clone()).connect(name, tcp).await.map_err(|e| Error::Tls(e.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_of_address() {
        assert_eq!(super::host_of("broker-1.example:9093"), "broker-1.example");
        assert_eq!(super::host_of("127.0.0.1:9093"), "127.0.0.1");
        assert_eq!(super::host_of("[::1]:9093"), "::1");
        assert_eq!(super::host_of("localhost"), "localhost");
    }
}
