//! Both directions of the codec without a network: a client builds a Metadata request and
//! serializes it into a frame at the version it negotiated; a broker decodes that frame and
//! answers at the request's version; the client parses the answer at the version it sent.
//!
//! Run with `cargo run -p kafka-wire --example codec`.

use kafka_wire::{metadata, smallvec, ApiRequest, ApiResponse, RequestFrame, VersionFreeRequest, VersionFreeResponse};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Client: Metadata for one topic, written at v12 (the version the broker offered).
    let version = 12;
    let request = metadata::Request {
        topics: Some(vec![metadata::MetadataRequestTopic { name: Some("orders".into()), ..Default::default() }]),
        allow_auto_topic_creation: false,
        ..Default::default()
    };
    let frame = request.serialize(version, 42, Some("quickstart"))?;
    println!("request frame ({} bytes): {}", frame.len(), hex(&frame));

    // Broker: decode whatever arrives (the size prefix is the transport's business).
    let incoming = RequestFrame::<ApiRequest>::decode(frame.slice(4..))?;
    println!(
        "broker got {} v{} (header v{}) from {:?}, correlation id {}",
        incoming.request.api_key(),
        incoming.version(),
        incoming.header_version,
        incoming.header.client_id.as_deref(),
        incoming.header.correlation_id
    );
    let answer = ApiResponse::from(metadata::Response {
        brokers: vec![metadata::MetadataResponseBroker {
            node_id: 1,
            host: "127.0.0.1".into(),
            port: 9092,
            ..Default::default()
        }],
        cluster_id: Some("quickstart-cluster".into()),
        controller_id: 1,
        topics: vec![metadata::MetadataResponseTopic {
            name: Some("orders".into()),
            partitions: vec![metadata::MetadataResponsePartition {
                partition_index: 0,
                leader_id: 1,
                replica_nodes: smallvec![1],
                isr_nodes: smallvec![1],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    });
    let reply = incoming.respond(&answer)?; // at the request's version, v12
    println!("response frame ({} bytes): {}", reply.len(), hex(&reply));

    // Client: parse the reply at the version it sent.
    let (header, response) = metadata::Response::decode_frame(version, reply.slice(4..))?;
    println!("correlation id {}, cluster {:?}", header.correlation_id, response.cluster_id.as_deref());
    for b in &response.brokers {
        println!("  broker {} at {}:{}", b.node_id, b.host, b.port);
    }
    for t in &response.topics {
        for p in &t.partitions {
            println!("  topic {:?} partition {} leader {}", t.name.as_deref(), p.partition_index, p.leader_id);
        }
    }
    assert_eq!(ApiResponse::from(response), answer);
    Ok(())
}
