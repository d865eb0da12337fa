//! Requests per second for small pipelined requests on one connection, against librdkafka's
//! in-process mock cluster; for comparison, librdkafka's own client doing the same kind of
//! request (Metadata for one topic) from several threads; and the client against a minimal
//! responder written here (canned answers), which shows the client's own ceiling.
//!
//! ```text
//! cargo run --release -p kafka-wire-client --example pipelined_throughput -- [requests] [in-flight] [rdkafka-threads]
//! ```
//! Defaults: 200000 requests, 1000 in flight, 64 librdkafka threads (0 skips librdkafka).

use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use kafka_wire::{api_versions, metadata, VersionedResponse};
use kafka_wire_client::{Connection, ConnectionConfig};
use rdkafka::config::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, Producer};

fn arg(n: usize, default: usize) -> usize {
    std::env::args().nth(n).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn metadata_request() -> metadata::v12::Request {
    metadata::v12::Request {
        topics: Some(vec![metadata::v12::MetadataRequestTopic { name: Some("bench".into()), ..Default::default() }]),
        ..Default::default()
    }
}

/// `requests` sends spread over `window` tasks: at most `window` in flight at once.
async fn run<F, Fut>(requests: usize, window: usize, send: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..window {
        let n = requests / window + usize::from(w < requests % window);
        let send = send.clone();
        tasks.spawn(async move {
            for _ in 0..n {
                send().await;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    requests as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let requests = arg(1, 200_000);
    let window = arg(2, 1000).max(1);
    let threads = arg(3, 64);

    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic("bench", 1, 1).unwrap();
    let bootstrap = mock.bootstrap_servers();
    let config = ConnectionConfig::default().max_in_flight(window).request_timeout(Duration::from_secs(60));
    let connection = Connection::connect(bootstrap.clone(), config).await.unwrap();

    // Warm up.
    run(10_000, window, {
        let c = connection.clone();
        move || {
            let c = c.clone();
            async move {
                c.send_versioned(&metadata_request()).await.unwrap();
            }
        }
    })
    .await;

    let rate = run(requests, window, {
        let c = connection.clone();
        move || {
            let c = c.clone();
            async move {
                let r = c.send_versioned(&metadata_request()).await.unwrap();
                assert_eq!(r.topics.len(), 1);
            }
        }
    })
    .await;
    println!("kafka-wire-client  Metadata v12 (1 topic): {rate:>9.0} req/s  ({requests} requests, {window} in flight, 1 connection)");

    let rate = run(requests, window, {
        let c = connection.clone();
        move || {
            let c = c.clone();
            async move {
                c.send_versioned(&api_versions::v2::Request::default()).await.unwrap();
            }
        }
    })
    .await;
    println!("kafka-wire-client  ApiVersions v2:         {rate:>9.0} req/s  ({requests} requests, {window} in flight, 1 connection)");
    assert_eq!(connection.connections_opened(), 1);

    // The client's own ceiling: a responder that answers every ApiVersions v2 request with the
    // same canned body, as fast as it can.
    let responder = minimal_responder().await;
    let config = ConnectionConfig::default().max_in_flight(window).request_timeout(Duration::from_secs(60));
    let local = Connection::connect(responder, config).await.unwrap();
    let rate = run(requests, window, {
        let c = local.clone();
        move || {
            let c = c.clone();
            async move {
                c.send_versioned(&api_versions::v2::Request::default()).await.unwrap();
            }
        }
    })
    .await;
    println!("kafka-wire-client  ApiVersions v2, minimal responder (client ceiling): {rate:>9.0} req/s");

    if threads == 0 {
        return;
    }
    // librdkafka: blocking metadata calls from `threads` threads share its broker connection.
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", &bootstrap).create().unwrap();
    producer.client().fetch_metadata(Some("bench"), Duration::from_secs(10)).unwrap();
    let per_thread = (requests / 4 / threads).max(1);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per_thread {
                    let m = producer.client().fetch_metadata(Some("bench"), Duration::from_secs(10)).unwrap();
                    assert_eq!(m.topics().len(), 1);
                }
            });
        }
    });
    let total = per_thread * threads;
    let rate = total as f64 / start.elapsed().as_secs_f64();
    println!("librdkafka (rdkafka) Metadata (1 topic):   {rate:>9.0} req/s  ({total} requests, {threads} threads)");
}

/// A broker stand-in that answers every request with a canned ApiVersions v2 body (v0 header),
/// batching its writes. Returns its address.
async fn minimal_responder() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let keys = [(1, 0, 12), (3, 0, 12), (18, 0, 2)];
    let body = api_versions::v2::Response {
        api_keys: keys
            .iter()
            .map(|&(api_key, min_version, max_version)| api_versions::v2::ApiVersion {
                api_key,
                min_version,
                max_version,
            })
            .collect(),
        ..Default::default()
    }
    .serialize(0)
    .unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let body = body.clone();
            tokio::spawn(async move {
                let (rd, wr) = tcp.into_split();
                let (mut rd, mut wr) = (BufReader::new(rd), BufWriter::new(wr));
                let mut frame = vec![0u8; 1024];
                loop {
                    let Ok(size) = rd.read_i32().await else { return };
                    let size = size as usize;
                    frame.resize(size.max(8), 0);
                    if rd.read_exact(&mut frame[..size]).await.is_err() {
                        return;
                    }
                    // Size, then the request's correlation id, then the canned body.
                    let mut out = BytesMut::with_capacity(body.len());
                    out.put_slice(&body[..4]);
                    out.put_slice(&frame[4..8]);
                    out.put_slice(&body[8..]);
                    if wr.write_all(&out).await.is_err() {
                        return;
                    }
                    if rd.buffer().is_empty() && wr.flush().await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}
