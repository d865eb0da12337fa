//! Apache Kafka's own Java client (`org.apache.kafka:kafka-clients` 4.4.0) against the mock
//! broker and against Apache Kafka 4.4, in one binary.
//!
//! The scenarios are a small Java program, `interop/java/ClientScenarios.java`, compiled with
//! `javac` against the client's jars (resolved with `mvn`, both cached under
//! `target/kafka-harness`, see `kafka_wire_harness::maven_classpath`). One JVM runs every
//! scenario of the binary, each in a thread of its own: a test writes a command line to its
//! stdin and reads the outcome line (`key=value` pairs) from its stdout. Each test runs its
//! scenario on a fresh `MockCluster` and on a shared single-node Kafka cluster at the same time,
//! checks what the user relies on (every record read back once, in order, the right errors), and
//! then that both outcomes are equal (timings aside): the program is proven on Kafka, the mock
//! against it.

mod admin;
mod auth;
mod groups;
mod records;
mod share;
mod transactions;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use kafka_wire_harness::{harness_dir, KafkaCluster, KafkaConfig, Listener, TlsIdentity};
use kafka_wire_mock::{MockCluster, MockConfig};

/// The Java client under test.
const KAFKA_CLIENTS: &str = "org.apache.kafka:kafka-clients:4.4.0";
/// Its slf4j 1.7 API's simple binding: the client's warnings go to the JVM's log file.
const SLF4J_SIMPLE: &str = "org.slf4j:slf4j-simple:1.7.36";
const PROGRAM: &str = include_str!("../../java/ClientScenarios.java");
const PROGRAM_CLASS: &str = "ClientScenarios";

/// Only a hang reaches this: the program bounds each of its own waits (120 s).
const HANG_GUARD: Duration = Duration::from_secs(600);

/// The SASL user both systems know.
pub const USER: (&str, &str) = ("alice", "alice-secret");

// ---------------------------------------------------------------------------------------------
// The JVM

/// The JVM running `ClientScenarios` in its many-scenarios mode. It halts when its stdin
/// closes, that is when this test process ends, however it ends.
struct Jvm {
    process: Mutex<Child>,
    stdin: Mutex<ChildStdin>,
    waiting: Arc<Mutex<HashMap<u64, Sender<String>>>>,
    next: AtomicU64,
    log: std::path::PathBuf,
}

fn jvm() -> &'static Jvm {
    static JVM: OnceLock<Jvm> = OnceLock::new();
    JVM.get_or_init(|| {
        let began = Instant::now();
        let dir = harness_dir();
        let classpath =
            kafka_wire_harness::maven_classpath(&dir, "kafka-clients-4.4.0", &[KAFKA_CLIENTS, SLF4J_SIMPLE]).unwrap();
        let classes = kafka_wire_harness::compile_java(&dir, PROGRAM_CLASS, PROGRAM, &classpath).unwrap();
        let mut entries = vec![classes];
        entries.extend(std::env::split_paths(&classpath));
        let full = std::env::join_paths(entries).unwrap();
        remove_stale_logs(&dir);
        let log = dir.join(format!("java-clients-{}.log", std::process::id()));
        let mut child = Command::new("java")
            .args(["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx512m"])
            .arg("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
            .arg("-cp")
            .arg(full)
            .arg(PROGRAM_CLASS)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("java on PATH");
        let stdout = child.stdout.take().unwrap();
        let waiting: Arc<Mutex<HashMap<u64, Sender<String>>>> = Arc::default();
        let routes = waiting.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let id = line.split(' ').nth(1).and_then(|w| w.parse::<u64>().ok());
                let route = id.and_then(|id| routes.lock().unwrap().get(&id).cloned());
                match route {
                    Some(tx) => {
                        let _ = tx.send(line);
                    }
                    None => eprintln!("java: {line}"),
                }
            }
            // The JVM is gone: every waiting test learns it from its closed channel.
            routes.lock().unwrap().clear();
        });
        println!("JVM for the Java client: classpath and compilation (each cached) and spawn in {:?}", began.elapsed());
        Jvm {
            stdin: Mutex::new(child.stdin.take().unwrap()),
            process: Mutex::new(child),
            waiting,
            next: AtomicU64::new(1),
            log,
        }
    })
}

/// Removes the JVM logs (`java-clients-<pid>.log`) of test processes that are gone (on Linux,
/// where `/proc` tells; elsewhere they stay).
fn remove_stale_logs(dir: &std::path::Path) {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.strip_prefix("java-clients-").and_then(|n| n.strip_suffix(".log"));
        if pid.is_some_and(|pid| !std::path::Path::new("/proc").join(pid).exists()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A scenario started in the JVM.
struct Running {
    id: u64,
    system: &'static str,
    label: String,
    lines: Receiver<String>,
}

/// What a scenario reported: its `key=value` pairs, and its log lines.
#[derive(Debug)]
pub struct Outcome {
    pub system: &'static str,
    pub fields: BTreeMap<String, String>,
    pub log: Vec<String>,
}

impl Outcome {
    /// The value of `key`; panics with the whole outcome when it is missing.
    pub fn get(&self, key: &str) -> &str {
        self.fields.get(key).unwrap_or_else(|| panic!("{}: no {key} in {self:?}", self.system))
    }

    /// Asserts that each `(key, value)` is in the outcome.
    pub fn expect(&self, expected: &[(&str, &str)]) {
        for (key, value) in expected {
            assert_eq!(self.get(key), *value, "{}: {key} in {:?}", self.system, self.fields);
        }
    }
}

fn start(system: &'static str, label: &str, scenario: &str, bootstrap: &str, options: &[(&str, String)]) -> Running {
    let jvm = jvm();
    let id = jvm.next.fetch_add(1, Ordering::Relaxed);
    let (tx, lines) = mpsc::channel();
    jvm.waiting.lock().unwrap().insert(id, tx);
    let mut command = format!("{id} {scenario} {bootstrap}");
    for (key, value) in options {
        assert!(!value.contains(char::is_whitespace) && !value.is_empty(), "option {key}={value:?}");
        command.push_str(&format!(" {key}={value}"));
    }
    let mut stdin = jvm.stdin.lock().unwrap();
    writeln!(stdin, "{command}").and_then(|()| stdin.flush()).expect("the JVM reads its commands");
    Running { id, system, label: label.to_owned(), lines }
}

impl Running {
    fn wait(self) -> Outcome {
        let deadline = Instant::now() + HANG_GUARD;
        let mut log = Vec::new();
        let result = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with("LOG ") => log.push(line),
                Ok(line) => break line,
                Err(e) => panic!(
                    "{} on {}: no outcome ({e:?}; the JVM: {:?}); its log: {log:#?}; the JVM's log: {}",
                    self.label,
                    self.system,
                    jvm().process.lock().unwrap().try_wait(),
                    jvm().log.display()
                ),
            }
        };
        jvm().waiting.lock().unwrap().remove(&self.id);
        let mut words = result.split(' ');
        let status = words.next().unwrap_or_default();
        let _id = words.next();
        assert_eq!(
            status,
            "OK",
            "{} on {}: {result}\nits log: {log:#?}\nthe JVM's log: {}",
            self.label,
            self.system,
            jvm().log.display()
        );
        let fields = words.filter_map(|w| w.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        Outcome { system: self.system, fields, log }
    }
}

// ---------------------------------------------------------------------------------------------
// The two systems

/// The broker's TLS identity (a self-signed certificate for 127.0.0.1), and another
/// certificate that no broker has.
pub struct Certificates {
    pub identity: TlsIdentity,
    pub trusted_der: Vec<u8>,
    pub key_der: Vec<u8>,
    pub other_der: Vec<u8>,
}

pub fn certificates() -> &'static Certificates {
    static CERTS: OnceLock<Certificates> = OnceLock::new();
    CERTS.get_or_init(|| {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
        let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        Certificates {
            identity: TlsIdentity::new(cert.cert.pem(), cert.key_pair.serialize_pem()),
            trusted_der: cert.cert.der().to_vec(),
            key_der: cert.key_pair.serialize_der(),
            other_der: other.cert.der().to_vec(),
        }
    })
}

/// One Kafka 4.4 node for every test: plaintext, SASL_PLAINTEXT (PLAIN and SCRAM for [`USER`])
/// and SSL listeners; consumer-protocol heartbeats every 500 ms (as the Java client's classic
/// heartbeats here), so that KIP-848 rebalances take as long as classic ones.
pub fn kafka() -> &'static KafkaCluster {
    static KAFKA: OnceLock<KafkaCluster> = OnceLock::new();
    KAFKA.get_or_init(|| {
        let config = KafkaConfig::new()
            .sasl_user(USER.0, USER.1)
            .tls(certificates().identity.clone())
            .broker_property("group.consumer.min.heartbeat.interval.ms", "500")
            .broker_property("group.consumer.heartbeat.interval.ms", "500");
        let cluster = KafkaCluster::start(config).unwrap();
        println!("Kafka: JVM start to ApiVersions answered in {:?}", cluster.startup_time());
        cluster
    })
}

/// The mock as these tests use it: three brokers, replication factor 1 (as the single Kafka
/// node has), on a runtime of its own.
pub fn mock_config() -> MockConfig {
    let mut config = MockConfig::new().brokers(3);
    config.default_replication_factor = Some(1);
    config
}

/// Whether an outcome's key is compared between the systems: not timings (`ms_*`), not details
/// that depend on the broker's features (`info_*`).
fn compared(key: &str) -> bool {
    !key.starts_with("ms_") && !key.starts_with("info_")
}

/// Runs `scenario` with `options` on the mock and on Kafka at the same time; `check` asserts what a user relies on in each outcome; then the
/// outcomes must be equal but for timings and feature-dependent details (see [`compared`]).
pub fn run_both(
    label: &str,
    scenario: &str,
    mock: MockConfig,
    kafka_listener: Listener,
    options: &[(&str, String)],
    check: impl Fn(&Outcome),
) -> Both {
    let cluster = kafka();
    let _logs = cluster.log_guard();
    let mock = MockCluster::spawn(mock).unwrap();
    let on_mock = start("mock", label, scenario, &mock.bootstrap_servers(), options);
    let on_kafka = start("kafka", label, scenario, &cluster.bootstrap_servers_of(kafka_listener), options);
    let kafka_outcome = on_kafka.wait();
    let mock_outcome = on_mock.wait();
    for outcome in [&mock_outcome, &kafka_outcome] {
        let fields: Vec<String> = outcome.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("{label} on {}: {}", outcome.system, fields.join(" "));
        for line in &outcome.log {
            println!("  {line}");
        }
        check(outcome);
    }
    let m = &mock_outcome;
    let differences: Vec<String> = m
        .fields
        .keys()
        .chain(kafka_outcome.fields.keys())
        .filter(|k| compared(k))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| m.fields.get(*k) != kafka_outcome.fields.get(*k))
        .map(|k| format!("{k}: mock {:?}, Kafka {:?}", m.fields.get(k), kafka_outcome.fields.get(k)))
        .collect();
    assert!(differences.is_empty(), "{label}: the mock's outcome differs from Kafka's:\n{}", differences.join("\n"));
    Both { mock, mock_outcome, kafka: kafka_outcome }
}

/// What [`run_both`] ran: the mock (to inspect what it stored) and both outcomes.
pub struct Both {
    pub mock: MockCluster,
    pub mock_outcome: Outcome,
    pub kafka: Outcome,
}
