//! The `kafka-wire-mock` binary as a process, as a test in another language runs it: options,
//! the bootstrap line, SASL and TLS, commands on stdin, the log of closed connections on
//! stderr, and stopping when stdin closes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use kafka_wire::{metadata, produce, ApiKey, ErrorCode, Records, VersionFreeRequest};
use kafka_wire_client::sasl::{SaslConfig as ClientSasl, SaslMechanism as ClientMechanism};
use kafka_wire_client::{Connection, ConnectionConfig, Error};

const BIN: &str = env!("CARGO_BIN_EXE_kafka-wire-mock");

/// Only a hang reaches this.
const HANG_GUARD: Duration = Duration::from_secs(120);

/// A running `kafka-wire-mock`: its stdin, and its stdout and stderr lines as they come.
struct Mock {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    bootstrap: String,
}

fn lines(read: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(read).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Mock {
    fn start(args: &[&str]) -> Mock {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let bootstrap = stdout.recv_timeout(HANG_GUARD).expect("the bootstrap line");
        Mock { child, stdin, stdout, stderr, bootstrap }
    }

    /// Sends a command on stdin and returns its answer line.
    fn command(&mut self, line: &str) -> String {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        self.stdout.recv_timeout(HANG_GUARD).expect("an answer line")
    }

    /// Waits for a stderr line containing every one of `parts`, and returns it.
    fn stderr_line(&self, parts: &[&str]) -> String {
        loop {
            let line = self.stderr.recv_timeout(HANG_GUARD).expect("the stderr line");
            if parts.iter().all(|p| line.contains(p)) {
                return line;
            }
        }
    }

    /// Closes stdin and waits for the process to end; its exit code.
    fn stop(mut self) -> Option<i32> {
        drop(self.stdin.take());
        self.child.wait().unwrap().code()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        // A test that failed half-way: stop the process by its id.
        if self.stdin.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A help line from its long option on (`  -h, --help  Print help` → `--help  Print help`).
fn long_option(line: &str) -> &str {
    let line = line.trim_start();
    match line.split_once(", --") {
        Some((short, _)) if short.len() == 2 && short.starts_with('-') => &line[4..],
        _ => line,
    }
}

/// Every option is on `--help`, each on one line with its description; `--version` answers.
#[test]
fn help_lists_every_option_on_one_line() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let options = [
        "--brokers",
        "--host",
        "--port",
        "--advertised-host",
        "--cluster-id",
        "--topic ",
        "--topic-config",
        "--no-auto-create-topics",
        "--default-partitions",
        "--default-replication-factor",
        "--group-initial-rebalance-delay-ms",
        "--group-min-session-timeout-ms",
        "--group-max-session-timeout-ms",
        "--max-frame-size",
        "--sasl-user",
        "--sasl-mechanism",
        "--sasl-session-lifetime-ms",
        "--scram-iterations",
        "--authorizer",
        "--super-user",
        "--tls-cert",
        "--tls-key",
        "--fail-next",
        "--delay",
        "--broker-down",
        "--help",
        "--version",
    ];
    for option in options {
        let found: Vec<&str> = help.lines().map(long_option).filter(|l| l.starts_with(option)).collect();
        assert_eq!(found.len(), 1, "{option} once in:\n{help}");
        let described = found[0].split_once("  ").is_some_and(|(_, d)| !d.trim().is_empty());
        assert!(described, "{option} has a description on its line: {:?}", found[0]);
    }
    let listed = help.lines().map(long_option).filter(|l| l.starts_with("--")).count();
    assert_eq!(listed, options.len(), "an option without a test line:\n{help}");
}

/// Bad options: a message naming the problem on stderr, exit code 2, no cluster.
#[test]
fn bad_options_exit_2_with_a_message() {
    for (args, says) in [
        (&["--bogus"][..], "--bogus"),
        (&["--brokers", "0"], "--brokers"),
        (&["--topic", "t:many"], "partition count"),
        (&["--topic", "t:1:2:3"], "NAME[:PARTITIONS[:REPLICATION]]"),
        (&["--topic-config", "t:cleanup.policy=compact"], "no --topic t"),
        (&["--topic-config", "t-no-equals"], "TOPIC:NAME=VALUE"),
        (&["--sasl-mechanism", "GSSAPI"], "unknown SASL mechanism"),
        (&["--sasl-mechanism", "PLAIN"], "--sasl-user"),
        (&["--sasl-user", "nopassword"], "USER:PASSWORD"),
        (&["--super-user", "admin"], "TYPE:NAME"),
        (&["--tls-cert", "cert.pem"], "--tls-key"),
        (&["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"], "/nonexistent/cert.pem"),
        (&["--fail-next", "Produce:1:NO_SUCH_ERROR"], "unknown error"),
        (&["--fail-next", "NoSuchApi:1:NOT_CONTROLLER"], "unknown API"),
        (&["--delay", "Metadata"], "API:MS"),
        (&["--port", "65535", "--brokers", "2"], "beyond 65535"),
        (&["--broker-down", "7"], "unknown broker id 7"),
    ] {
        let out = Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr:?} names {says:?}");
        assert!(out.stdout.is_empty(), "{args:?}: no bootstrap line");
    }
}

fn produce_request(topic: &str, topic_id: kafka_wire::Uuid) -> produce::Request {
    let mut b = kafka_wire::records::BatchBuilder::new(kafka_wire::records::Compression::None);
    b.push(&kafka_wire::records::NewRecord::new(1, "x".to_owned())).unwrap();
    produce::Request {
        acks: -1,
        timeout_ms: 1000,
        topic_data: vec![produce::TopicProduceData {
            name: topic.into(),
            topic_id,
            partition_data: vec![produce::PartitionProduceData {
                index: 0,
                records: Some(Records::from(b.build().unwrap().to_bytes().unwrap())),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Two brokers with SASL users and topics with configs; our client authenticates; faults at
/// start and on stdin; every closed connection is logged on stderr with its reason; closing
/// stdin stops the process.
#[test]
fn sasl_topics_faults_and_the_close_log() {
    let mut mock = Mock::start(&[
        "--brokers",
        "2",
        "--topic",
        "orders:3",
        "--topic",
        "audit:1:2",
        "--topic-config",
        "audit:cleanup.policy=compact",
        "--no-auto-create-topics",
        "--sasl-user",
        "alice:alice:secret",
        "--sasl-mechanism",
        "SCRAM-SHA-512",
        "--fail-next",
        "Produce:1:NOT_ENOUGH_REPLICAS",
    ]);
    assert_eq!(mock.bootstrap.split(',').count(), 2, "{}", mock.bootstrap);
    let first = mock.bootstrap.split(',').next().unwrap().to_owned();
    let rt = runtime();
    let sasl = |password: &str| {
        ConnectionConfig::default().sasl(ClientSasl::new(ClientMechanism::ScramSha512, "alice", password))
    };
    let connection = rt.block_on(Connection::connect(first.clone(), sasl("alice:secret"))).unwrap();
    let all = metadata::Request { topics: None, ..Default::default() };
    let r = rt.block_on(connection.send(&all)).unwrap();
    let mut topics: Vec<(String, usize, usize)> = r
        .topics
        .iter()
        .map(|t| (t.name.as_deref().unwrap().to_owned(), t.partitions.len(), t.partitions[0].replica_nodes.len()))
        .collect();
    topics.sort();
    assert_eq!(topics, [("audit".into(), 1, 2), ("orders".into(), 3, 2)]);
    let audit = r.topics.iter().find(|t| t.name.as_deref() == Some("audit")).unwrap().topic_id;
    // No auto-creation.
    let unknown = metadata::Request {
        topics: Some(vec![metadata::MetadataRequestTopic { name: Some("nope".into()), ..Default::default() }]),
        allow_auto_topic_creation: true,
        ..Default::default()
    };
    let r = rt.block_on(connection.send(&unknown)).unwrap();
    assert_eq!(r.topics[0].error_code, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);

    // The failure injected at start, then one injected on stdin.
    let code = |r: produce::Response| r.responses[0].partition_responses[0].error_code;
    assert_eq!(
        code(rt.block_on(connection.send(&produce_request("audit", audit))).unwrap()),
        ErrorCode::NOT_ENOUGH_REPLICAS
    );
    assert_eq!(code(rt.block_on(connection.send(&produce_request("audit", audit))).unwrap()), ErrorCode::NONE);
    assert_eq!(mock.command("fail-next Produce 1 NOT_LEADER_OR_FOLLOWER"), "ok");
    assert_eq!(
        code(rt.block_on(connection.send(&produce_request("audit", audit))).unwrap()),
        ErrorCode::NOT_LEADER_OR_FOLLOWER
    );
    assert_eq!(mock.command("create-topic fresh:2"), "ok");
    assert_eq!(mock.command("delete-topic orders"), "ok");
    let r = rt.block_on(connection.send(&all)).unwrap();
    let mut names: Vec<&str> = r.topics.iter().map(|t| t.name.as_deref().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["audit", "fresh"]);
    assert_eq!(mock.command("topics"), "ok audit:1 fresh:2");
    assert_eq!(mock.command("end-offset audit 0"), "ok 1", "two of the three produce requests failed");
    assert_eq!(mock.command("end-offset orders 0"), "ok none");
    assert_eq!(mock.command("committed-offset g audit 0"), "ok none");
    assert!(mock.command("group-members g").starts_with("error: no group g"));
    let stats = mock.command("stats");
    assert!(stats.starts_with("ok connections 1 authentications 1 failed_authentications 0 requests "), "{stats}");
    assert!(stats.contains("Produce:3"), "{stats}");
    assert!(mock.command("fail-next Produce x NOT_CONTROLLER").starts_with("error: "));
    assert!(mock.command("no-such-command").starts_with("error: unknown command"));
    assert_eq!(mock.command("clear-faults"), "ok");

    // A wrong password: the connection closes, and the log says why.
    let err = rt.block_on(Connection::connect(first.clone(), sasl("wrong"))).unwrap_err();
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    mock.stderr_line(&["closed: SaslAuthenticate", "SASL authentication ends here"]);
    // A request before authentication.
    let mut raw = std::net::TcpStream::connect(&first).unwrap();
    raw.write_all(&all.serialize(12, 1, None).unwrap()).unwrap();
    mock.stderr_line(&["closed: Metadata before SASL authentication"]);
    // A frame above the unauthenticated limit (512 KiB), and one that does not decode.
    let mut raw = std::net::TcpStream::connect(&first).unwrap();
    raw.write_all(&(1i32 << 20).to_be_bytes()).unwrap();
    mock.stderr_line(&["closed: reading a request frame", "exceeds the maximum of 524288 bytes"]);
    let mut raw = std::net::TcpStream::connect(&first).unwrap();
    raw.write_all(&[0, 0, 0, 4, 0, 18, 0, 3]).unwrap();
    mock.stderr_line(&["closed: the request header does not decode"]);
    let mut raw = std::net::TcpStream::connect(&first).unwrap();
    raw.write_all(&[0, 0, 0, 6, 0x75, 0x30, 0, 0, 0, 0]).unwrap();
    mock.stderr_line(&["closed: the request header does not decode", "30000"]);
    // A peer that leaves between requests, and one that leaves inside a frame.
    let raw = std::net::TcpStream::connect(&first).unwrap();
    drop(raw);
    mock.stderr_line(&["closed: the client closed the connection"]);
    let mut raw = std::net::TcpStream::connect(&first).unwrap();
    raw.write_all(&[0, 0, 0, 10, 0, 3]).unwrap();
    drop(raw);
    mock.stderr_line(&["the stream ended inside a frame (6 bytes of it had arrived)"]);
    // A broker taken down closes its connections: the authenticated one is logged as such.
    assert_eq!(mock.command("broker-down 0"), "ok");
    mock.stderr_line(&["broker 0", "closed: the broker stopped"]);
    assert!(rt.block_on(connection.send(&all)).is_err());
    assert_eq!(mock.stop(), Some(0));
}

/// A request frame with header v1 (correlation id 7, client id `bin`) and `body`.
fn raw_frame(api: ApiKey, version: i16, body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&api.code().to_be_bytes());
    frame.extend_from_slice(&version.to_be_bytes());
    frame.extend_from_slice(&7i32.to_be_bytes());
    frame.extend_from_slice(&3i16.to_be_bytes());
    frame.extend_from_slice(b"bin");
    frame.extend_from_slice(body);
    let mut out = (frame.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&frame);
    out
}

/// The close paths of a plaintext listener, each logged with its reason: a version the broker
/// does not have, one Kafka 4 removed, a body that does not decode, a connection reset.
#[test]
fn close_reasons_are_logged() {
    let mock = Mock::start(&[]);
    let send = |frame: &[u8]| {
        let mut raw = std::net::TcpStream::connect(&mock.bootstrap).unwrap();
        raw.write_all(frame).unwrap();
        raw
    };
    let _a = send(&raw_frame(ApiKey::Metadata, 99, &[0, 0, 0, 0]));
    mock.stderr_line(&["closed: Metadata v99 request does not decode"]);
    let _b = send(&raw_frame(ApiKey::Produce, 2, &[0, 1, 0, 0, 0x75, 0x30, 0, 0, 0, 0]));
    mock.stderr_line(&["closed: Produce v2 request does not decode"]);
    let mut frame = metadata::Request::default().serialize(12, 1, None).unwrap().to_vec();
    let len = frame.len();
    frame[len - 3..].copy_from_slice(&[0xff, 0xff, 0xff]);
    let _c = send(&frame);
    mock.stderr_line(&["closed: Metadata v12 request does not decode"]);
    // A reset (SO_LINGER 0) after an answer: a read error.
    runtime().block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(&mock.bootstrap).await.unwrap();
        stream.write_all(&metadata::Request::default().serialize(12, 1, None).unwrap()).await.unwrap();
        let mut size = [0u8; 4];
        stream.read_exact(&mut size).await.unwrap();
        stream.set_zero_linger().unwrap();
    });
    mock.stderr_line(&["closed: reading a request frame: reading the socket failed"]);
    assert_eq!(mock.stop(), Some(0));
}

/// TLS from PEM files, with a request of a served API and an API key answered at once.
#[test]
fn tls_from_pem_files() {
    use kafka_wire_client::tls::{rustls, TlsConfig};

    let cert = rcgen::generate_simple_self_signed(vec!["broker.test".into()]).unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("binary-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let mock = Mock::start(&[
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
        "--topic",
        "t",
        "--delay",
        "all:1",
    ]);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let tls = TlsConfig::with_roots(roots).unwrap().server_name("broker.test");
    let rt = runtime();
    let connection =
        rt.block_on(Connection::connect(mock.bootstrap.clone(), ConnectionConfig::default().tls(tls))).unwrap();
    let r = rt.block_on(connection.send(&metadata::Request { topics: None, ..Default::default() })).unwrap();
    assert_eq!(r.topics.len(), 1);
    // Plaintext on the TLS port: the handshake fails, and the log says so.
    let mut raw = std::net::TcpStream::connect(&mock.bootstrap).unwrap();
    raw.write_all(&metadata::Request::default().serialize(12, 1, None).unwrap()).unwrap();
    mock.stderr_line(&["closed: TLS handshake"]);
    drop(connection);
    assert_eq!(mock.stop(), Some(0));
    std::fs::remove_dir_all(&dir).unwrap();
}
