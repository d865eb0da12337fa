//! Both directions of the codec without a network: a client builds a Metadata request and
//! serializes it into a frame; a broker decodes that frame, answers; the client parses the
//! answer with the deserializer its request handed out.
//!
//! Run with `cargo run -p kafka-wire --example codec`.

use kafka_wire::{metadata, smallvec, AnyResponse, Message, RequestFrame, VersionedRequest};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Client: Metadata v12 for one topic.
    let request = metadata::v12::Request {
        topics: Some(vec![metadata::v12::MetadataRequestTopic { name: Some("orders".into()), ..Default::default() }]),
        allow_auto_topic_creation: false,
        ..Default::default()
    };
    let frame = request.serialize(42, Some("quickstart"))?;
    println!("request frame ({} bytes): {}", frame.len(), hex(&frame));

    // Broker: decode whatever arrives (the size prefix is the transport's business).
    let incoming = RequestFrame::<kafka_wire::AnyRequest>::decode(frame.slice(4..))?;
    println!(
        "broker got {} v{} (header v{}) from {:?}, correlation id {}",
        incoming.request.api_key(),
        incoming.request.version(),
        incoming.header_version,
        incoming.header.client_id.as_deref(),
        incoming.header.correlation_id
    );
    let answer: AnyResponse = metadata::v12::Response {
        brokers: vec![metadata::v12::MetadataResponseBroker {
            node_id: 1,
            host: "127.0.0.1".into(),
            port: 9092,
            ..Default::default()
        }],
        cluster_id: Some("quickstart-cluster".into()),
        controller_id: 1,
        topics: vec![metadata::v12::MetadataResponseTopic {
            name: Some("orders".into()),
            partitions: vec![metadata::v12::MetadataResponsePartition {
                partition_index: 0,
                leader_id: 1,
                replica_nodes: smallvec![1],
                isr_nodes: smallvec![1],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
    .into();
    let reply = incoming.respond(&answer)?;
    println!("response frame ({} bytes): {}", reply.len(), hex(&reply));

    // Client: parse the reply with the deserializer of the request that asked for it.
    let parse = request.response_deserializer();
    let (header, response) = parse(reply.slice(4..))?;
    println!("correlation id {}, cluster {:?}", header.correlation_id, response.cluster_id.as_deref());
    for b in &response.brokers {
        println!("  broker {} at {}:{}", b.node_id, b.host, b.port);
    }
    for t in &response.topics {
        for p in &t.partitions {
            println!("  topic {:?} partition {} leader {}", t.name.as_deref(), p.partition_index, p.leader_id);
        }
    }
    assert_eq!(metadata::v12::Response::from_bytes(reply.slice(4 + 5..))?, response);
    Ok(())
}
