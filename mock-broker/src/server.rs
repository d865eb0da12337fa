//! One connection: TLS if configured, request frames in, each handled in turn (Kafka answers a
//! connection's requests in order, `request`), responses out, until the connection closes;
//! why it closed is logged, whatever the reason.

use std::net::SocketAddr;
use std::sync::Arc;
#[cfg(feature = "tls")]
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::authenticator::Authenticator;
use crate::cluster::{OpenGuard, Shared};
use crate::frame_reader::{FrameReader, ReadError};
use crate::request::{handle, Next};

/// Why a connection closed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Closed {
    /// The client closed it between two requests.
    #[error("the client closed the connection")]
    ByClient,
    /// The broker was stopped or taken down.
    #[error("the broker stopped")]
    Stopped,
    /// A frame size out of bounds, the stream ending inside a frame, or a read error.
    #[error("reading a request frame: {0}")]
    Read(#[from] ReadError),
    /// Writing a response failed.
    #[error("writing a response: {0}")]
    Write(std::io::Error),
    /// The TLS handshake failed or did not end in time.
    #[cfg(feature = "tls")]
    #[error("TLS handshake: {0}")]
    Tls(String),
    /// The broker closes it after (or instead of answering) a request: a header or body that
    /// does not decode, an unknown API, a request before authentication, a failed SASL
    /// exchange, ...
    #[error("{0}")]
    Request(String),
}

/// Logs why a connection closed (on stderr: the mock has no logger of its own, and a client
/// whose connection drops needs to know why).
fn log_close(broker: i32, peer: SocketAddr, closed: &Closed) {
    eprintln!("kafka-wire-mock: broker {broker}: connection from {peer} closed: {closed}");
}

/// Serves the connection `tcp` from `peer` to broker `broker` until it closes (`kill` changes
/// when the broker stops), and logs why it closed.
pub(crate) async fn connection(
    guard: OpenGuard,
    broker: i32,
    tcp: TcpStream,
    peer: SocketAddr,
    kill: watch::Receiver<u64>,
) {
    let shared = guard.shared().clone();
    let closed = open(&shared, broker, tcp, peer, kill).await;
    log_close(broker, peer, &closed);
}

async fn open(
    shared: &Arc<Shared>,
    broker: i32,
    tcp: TcpStream,
    peer: SocketAddr,
    kill: watch::Receiver<u64>,
) -> Closed {
    #[cfg(feature = "tls")]
    if let Some(acceptor) = shared.tls.clone() {
        let mut kill = kill;
        let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.0.accept(tcp));
        let stream = tokio::select! {
            _ = kill.changed() => return Closed::Stopped,
            s = handshake => match s {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return Closed::Tls(e.to_string()),
                Err(_) => return Closed::Tls("none within 10 s".into()),
            },
        };
        return serve(shared, broker, stream, peer, kill).await;
    }
    serve(shared, broker, tcp, peer, kill).await
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Arc<Shared>,
    broker: i32,
    mut stream: S,
    peer: SocketAddr,
    mut kill: watch::Receiver<u64>,
) -> Closed {
    let mut auth = Authenticator::default();
    let mut frames = FrameReader::new();
    let host = peer.ip().to_string();
    loop {
        let limit = auth.max_frame_size(shared);
        let frame = tokio::select! {
            _ = kill.changed() => return Closed::Stopped,
            f = frames.next(&mut stream, limit) => match f {
                Ok(Some(f)) => f,
                Ok(None) => return Closed::ByClient,
                Err(e) => return Closed::Read(e),
            },
        };
        let next = tokio::select! {
            _ = kill.changed() => return Closed::Stopped,
            next = handle(shared, broker, &host, &mut auth, frame) => next,
        };
        let (bytes, close) = match next {
            Next::Write(b) => (Some(b), None),
            Next::Nothing => (None, None),
            Next::Close(b, reason) => (b, Some(reason)),
        };
        if let Some(mut bytes) = bytes {
            if let Err(e) = async {
                stream.write_all_buf(&mut bytes).await?;
                stream.flush().await
            }
            .await
            {
                return Closed::Write(e);
            }
        }
        if let Some(reason) = close {
            let _ = stream.shutdown().await;
            return Closed::Request(reason);
        }
    }
}
