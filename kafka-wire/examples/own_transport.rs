//! A transport of one's own: plain blocking `std::net` sockets, with the codec's sans-io
//! `FrameSplitter` between them and the codec. A broker thread on 127.0.0.1 (a port the system
//! picks) answers ApiVersions and Metadata; the client pipelines both requests in one write
//! and reads the answers back in whatever pieces the socket yields.
//!
//! Run with `cargo run -p kafka-wire --example own_transport`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use kafka_wire::{
    api_versions, metadata, ApiRequest, ApiResponse, ErrorCode, FrameSplitter, RequestFrame, VersionFreeRequest,
    VersionFreeResponse,
};

/// The largest frame either side accepts.
const MAX_FRAME: usize = 1 << 20;

/// Reads from `socket` until `splitter` yields a frame; `None` when the peer closed between
/// frames. Bytes after the frame wait in `pending` for the next call.
fn next_frame(
    socket: &mut TcpStream,
    splitter: &mut FrameSplitter,
    pending: &mut Vec<u8>,
) -> Result<Option<kafka_wire::Bytes>, Box<dyn std::error::Error>> {
    let mut buf = [0u8; 7]; // small on purpose: frames arrive in pieces
    loop {
        let mut input = &pending[..];
        let frame = splitter.split(&mut input)?;
        let taken = pending.len() - input.len();
        pending.drain(..taken);
        if let Some(frame) = frame {
            return Ok(Some(frame));
        }
        let n = socket.read(&mut buf)?;
        if n == 0 {
            splitter.finish()?; // an error if the peer stopped inside a frame
            return Ok(None);
        }
        pending.extend_from_slice(&buf[..n]);
    }
}

/// The broker: one connection, every request answered at its own version.
fn broker(mut socket: TcpStream) -> Result<(), Box<dyn std::error::Error>> {
    let mut splitter = FrameSplitter::new(MAX_FRAME).with_min_frame_size(8);
    let mut pending = Vec::new();
    while let Some(frame) = next_frame(&mut socket, &mut splitter, &mut pending)? {
        let request = RequestFrame::<ApiRequest>::decode(frame)?;
        let response: ApiResponse = match &request.request {
            ApiRequest::ApiVersions(_) => {
                let api_keys = [(3, 0, 12), (18, 0, 4)]
                    .map(|(api_key, min_version, max_version)| api_versions::ApiVersion {
                        api_key,
                        min_version,
                        max_version,
                        ..Default::default()
                    })
                    .to_vec();
                api_versions::Response { api_keys, ..Default::default() }.into()
            }
            ApiRequest::Metadata(_) => {
                metadata::Response { cluster_id: Some("own".into()), ..Default::default() }.into()
            }
            other => other.error_response(request.version(), ErrorCode::UNSUPPORTED_VERSION),
        };
        socket.write_all(&request.respond(&response)?)?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = std::thread::spawn(move || -> Result<(), String> {
        let (socket, _) = listener.accept().map_err(|e| e.to_string())?;
        broker(socket).map_err(|e| e.to_string())
    });

    // The client: two requests in one write.
    let mut socket = TcpStream::connect(addr)?;
    let mut out = api_versions::Request::default().serialize(4, 1, Some("own-transport"))?.to_vec();
    out.extend_from_slice(&metadata::Request::default().serialize(12, 2, Some("own-transport"))?);
    socket.write_all(&out)?;

    let mut splitter = FrameSplitter::new(MAX_FRAME).with_min_frame_size(4);
    let mut pending = Vec::new();
    let frame = next_frame(&mut socket, &mut splitter, &mut pending)?.ok_or("no ApiVersions answer")?;
    let (header, versions) = api_versions::Response::decode_frame(4, frame)?;
    println!("correlation id {}: ApiVersions lists {} APIs", header.correlation_id, versions.api_keys.len());
    let frame = next_frame(&mut socket, &mut splitter, &mut pending)?.ok_or("no Metadata answer")?;
    let (header, cluster) = metadata::Response::decode_frame(12, frame)?;
    println!("correlation id {}: cluster {:?}", header.correlation_id, cluster.cluster_id.as_deref());

    drop(socket);
    server.join().map_err(|_| "the broker thread panicked")??;
    Ok(())
}
