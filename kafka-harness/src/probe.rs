//! The start-up check: one ApiVersions round trip over a blocking socket.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_wire::{api_versions, VersionFreeRequest, VersionFreeResponse};

/// Sends ApiVersions v3 to `addr` and reads the answer, all before `deadline`. `Ok(n)`: the
/// broker answered without error and listed `n` APIs.
pub(crate) fn api_versions(addr: &str, deadline: Instant) -> Result<usize, String> {
    let left = || deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    let sock: std::net::SocketAddr = addr.parse().map_err(|e| format!("address {addr}: {e}"))?;
    let mut stream = TcpStream::connect_timeout(&sock, left()).map_err(|e| format!("connect to {addr}: {e}"))?;
    let request = api_versions::Request {
        client_software_name: "kafka-wire-harness".into(),
        client_software_version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    };
    let frame = request.serialize(3, 1, Some("kafka-wire-harness")).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(left())).map_err(|e| e.to_string())?;
    stream.write_all(&frame).map_err(|e| format!("send to {addr}: {e}"))?;
    stream.set_read_timeout(Some(left())).map_err(|e| e.to_string())?;
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).map_err(|e| format!("read from {addr}: {e}"))?;
    let size = i32::from_be_bytes(size);
    // An ApiVersions answer lists ~90 APIs in ~1 KiB; anything past 1 MiB is not one.
    let size = usize::try_from(size).ok().filter(|&s| s <= 1 << 20).ok_or(format!("frame size {size}"))?;
    let mut body = vec![0u8; size];
    stream.read_exact(&mut body).map_err(|e| format!("read from {addr}: {e}"))?;
    let (header, response) = api_versions::Response::decode_frame(3, Bytes::from(body)).map_err(|e| e.to_string())?;
    if header.correlation_id != 1 {
        return Err(format!("correlation id {} instead of 1", header.correlation_id));
    }
    if response.error_code.is_err() {
        return Err(format!("error code {}", response.error_code));
    }
    Ok(response.api_keys.len())
}
