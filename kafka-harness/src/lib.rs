//! Test support: a real Apache Kafka cluster on 127.0.0.1, started from a test and stopped when
//! it ends.
//!
//! The broker is Kafka's own (`org.apache.kafka:kafka_2.13`, fetched with `mvn`; `java` 17+ and
//! `mvn` must be on `PATH`) in KRaft mode: 1 or 3 nodes, each a combined broker and controller,
//! formatted by Kafka's `StorageTool` with a fresh cluster id (and the SCRAM users), listening on
//! ports the harness chose. [`KafkaCluster::start`] returns once every node has logged that it
//! started and answered an ApiVersions request; dropping the cluster kills every node's JVM by
//! its process id (also when the test panics). See the README section "Testing against Apache
//! Kafka" for the whole story.
//!
//! ```no_run
//! use kafka_wire_harness::{KafkaCluster, KafkaConfig, Listener};
//!
//! let cluster = KafkaCluster::start(KafkaConfig::new().sasl_user("alice", "alice-secret"))?;
//! let _logs = cluster.log_guard(); // prints the end of each broker's log if the test fails
//! let plaintext = cluster.bootstrap_servers(); // "127.0.0.1:40321"
//! let sasl = cluster.bootstrap_servers_of(Listener::SaslPlaintext);
//! // ... point a client at them ...
//! # let _ = (plaintext, sasl);
//! # Ok::<(), kafka_wire_harness::Error>(())
//! ```
//!
//! Nodes log to `server.log` in their directory under [`harness_dir`]; a panicking test prints
//! the end of each log (through [`KafkaCluster::log_guard`], or when a cluster owned by the test
//! drops). No JVM outlives its test process: besides `Drop`, each JVM halts when the pipe to its
//! standard input closes (the test process is gone, even killed), and every start kills the
//! JVMs a stale pid file names (see `runs.rs`).
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

mod config;
mod error;
mod jars;
mod node;
mod probe;
mod runs;

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

pub use config::{KafkaConfig, Listener, TlsIdentity, DEFAULT_KAFKA_VERSION};
pub use error::{Error, Result};
pub use jars::{compile_java, harness_dir, maven_classpath, CLASSPATH_ENV, DIR_ENV};
pub use runs::sweep_stale_runs;

use node::{Layout, Node, Ports};

/// How many times a start is retried when a port the harness chose was taken before the JVM
/// bound it (ports are chosen by binding port 0, then released for the JVM).
const PORT_ATTEMPTS: usize = 3;

/// How many log lines a failing test prints per node.
const TAIL_LINES: usize = 60;

/// A running Kafka cluster. Dropping it kills every node.
#[derive(Debug)]
pub struct KafkaCluster {
    config: KafkaConfig,
    cluster_id: String,
    run: PathBuf,
    classpath: String,
    launcher: PathBuf,
    nodes: Vec<Mutex<Node>>,
    started_in: Duration,
}

fn lock(node: &Mutex<Node>) -> MutexGuard<'_, Node> {
    node.lock().unwrap_or_else(PoisonError::into_inner)
}

impl KafkaCluster {
    /// Starts a cluster: resolves Kafka's jars (Maven's cache makes this quick after the first
    /// time), formats each node's storage, starts every JVM, and waits until each node has
    /// logged that it started and has answered ApiVersions on its plaintext listener, within
    /// [`KafkaConfig::start_timeout`]. Blocking: from an async test, call it before entering
    /// the runtime or in `spawn_blocking`.
    pub fn start(config: KafkaConfig) -> Result<KafkaCluster> {
        config.validate()?;
        let dir = config.dir.clone().unwrap_or_else(harness_dir);
        std::fs::create_dir_all(&dir).map_err(error::io("cannot create", &dir))?;
        let classpath = jars::classpath(&dir, &config.kafka_version)?;
        let launcher = jars::launcher(&dir)?;
        let cluster_id = config.cluster_id.clone().unwrap_or_else(random_cluster_id);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let run = runs::new_run(&dir)?;
            let mut cluster = KafkaCluster {
                config: config.clone(),
                cluster_id: cluster_id.clone(),
                run,
                classpath: classpath.clone(),
                launcher: launcher.clone(),
                nodes: Vec::new(),
                started_in: Duration::ZERO,
            };
            match cluster.boot() {
                Ok(()) => return Ok(cluster),
                Err(Error::Exited { log_tail, .. }) if attempt < PORT_ATTEMPTS && port_taken(&log_tail) => {
                    drop(cluster);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn boot(&mut self) -> Result<()> {
        let ports = choose_ports(&self.config)?;
        let voters: Vec<(i32, u16)> = ports.iter().enumerate().map(|(i, p)| (i as i32 + 1, p.controller)).collect();
        self.nodes =
            ports.into_iter().enumerate().map(|(i, p)| Mutex::new(Node::new(i as i32 + 1, &self.run, p))).collect();
        let bound = self.config.start_timeout;
        let began = Instant::now();
        let deadline = began + bound;
        let layout = Layout {
            config: &self.config,
            cluster_id: &self.cluster_id,
            voters,
            classpath: &self.classpath,
            launcher: &self.launcher,
        };
        for node in &self.nodes {
            lock(node).spawn(&layout, true)?;
        }
        for node in &self.nodes {
            let mut node = lock(node);
            node.wait_started(deadline, bound)?;
            check_api_versions(&node, deadline, bound)?;
        }
        self.started_in = began.elapsed();
        Ok(())
    }

    /// The cluster id the storage was formatted with.
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// The node ids (1..=n).
    pub fn node_ids(&self) -> Vec<i32> {
        (1..=self.nodes.len() as i32).collect()
    }

    /// How long the start took, from spawning the JVMs to the last ApiVersions answer (Maven
    /// resolution and the launcher's compilation not included).
    pub fn startup_time(&self) -> Duration {
        self.started_in
    }

    /// The plaintext listeners of the running nodes, comma-separated (`bootstrap.servers`).
    pub fn bootstrap_servers(&self) -> String {
        self.bootstrap_servers_of(Listener::Plaintext)
    }

    /// The running nodes' addresses on `listener`, comma-separated; empty if the listener is
    /// not open (see [`KafkaConfig::listeners`]).
    pub fn bootstrap_servers_of(&self, listener: Listener) -> String {
        let addrs: Vec<String> = self
            .nodes
            .iter()
            .filter_map(|n| {
                let n = lock(n);
                n.pid().and_then(|_| n.addr(listener))
            })
            .collect();
        addrs.join(",")
    }

    /// Node `id`'s address (`127.0.0.1:port`) on `listener`, running or not.
    pub fn addr(&self, id: i32, listener: Listener) -> Result<String> {
        self.node(id)?.addr(listener).ok_or_else(|| Error::Config(format!("listener {} is not open", listener.name())))
    }

    /// The process id of node `id`'s JVM; `None` while the node is stopped.
    pub fn pid(&self, id: i32) -> Result<Option<u32>> {
        Ok(self.node(id)?.pid())
    }

    /// Kills node `id`'s JVM (SIGKILL, by process id: a crash, no controlled shutdown) and
    /// waits for it to exit.
    pub fn kill_node(&self, id: i32) -> Result<()> {
        self.node(id)?.kill();
        Ok(())
    }

    /// Stops node `id` with SIGTERM (Kafka's controlled shutdown: leadership moves first) and
    /// waits for its JVM to exit, killing it if it takes longer than the start timeout.
    pub fn stop_node(&self, id: i32) -> Result<()> {
        self.node(id)?.terminate(self.config.start_timeout)
    }

    /// Starts a stopped node again on its storage and ports, and waits as [`KafkaCluster::start`]
    /// does.
    pub fn restart_node(&self, id: i32) -> Result<()> {
        let voters = self.nodes.iter().map(|n| {
            let n = lock(n);
            (n.id, n.ports.controller)
        });
        let voters = voters.collect();
        let layout = Layout {
            config: &self.config,
            cluster_id: &self.cluster_id,
            voters,
            classpath: &self.classpath,
            launcher: &self.launcher,
        };
        let mut node = self.node(id)?;
        node.kill();
        let bound = self.config.start_timeout;
        let deadline = Instant::now() + bound;
        node.spawn(&layout, false)?;
        node.wait_started(deadline, bound)?;
        check_api_versions(&node, deadline, bound)
    }

    /// The directory of this cluster's run (one `node-<id>` directory per node, with its
    /// `server.properties`, `server.log` and data).
    pub fn run_dir(&self) -> &Path {
        &self.run
    }

    /// Node `id`'s log file.
    pub fn log_path(&self, id: i32) -> Result<PathBuf> {
        Ok(self.node(id)?.server_log())
    }

    /// The last `lines` lines of every node's log (and what each JVM printed).
    pub fn log_tail(&self, lines: usize) -> String {
        self.nodes.iter().map(|n| lock(n).log_tail(lines)).collect::<Vec<_>>().join("\n")
    }

    /// A guard that prints the end of every node's log to the test's output if it drops while
    /// the thread panics: hold one in each test that uses a shared cluster.
    pub fn log_guard(&self) -> LogGuard<'_> {
        LogGuard { cluster: self }
    }

    fn node(&self, id: i32) -> Result<MutexGuard<'_, Node>> {
        let index = usize::try_from(id - 1).map_err(|_| Error::UnknownNode(id))?;
        self.nodes.get(index).map(lock).ok_or(Error::UnknownNode(id))
    }
}

impl Drop for KafkaCluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("Kafka cluster in {} at the failure:\n{}", self.run.display(), self.log_tail(TAIL_LINES));
        }
        for node in &self.nodes {
            lock(node).kill();
        }
        if std::thread::panicking() {
            // Keep the logs to read; the next start's sweep removes the directory.
            return;
        }
        let _ = std::fs::remove_dir_all(&self.run);
    }
}

/// Prints the end of every node's log when dropped during a panic (see
/// [`KafkaCluster::log_guard`]).
#[derive(Debug)]
#[must_use = "the guard prints the logs when it drops: bind it to a variable"]
pub struct LogGuard<'a> {
    cluster: &'a KafkaCluster,
}

impl Drop for LogGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "Kafka cluster in {} at the failure:\n{}",
                self.cluster.run.display(),
                self.cluster.log_tail(TAIL_LINES)
            );
        }
    }
}

fn check_api_versions(node: &Node, deadline: Instant, bound: Duration) -> Result<()> {
    let addr = node.addr(Listener::Plaintext).expect("every node has a plaintext listener");
    match probe::api_versions(&addr, deadline) {
        Ok(_) => Ok(()),
        Err(_) if Instant::now() >= deadline => Err(Error::StartTimeout {
            node: node.id,
            what: "answer ApiVersions",
            after: bound,
            log_tail: node.log_tail(40),
        }),
        Err(message) => Err(Error::ApiVersions { node: node.id, message }),
    }
}

/// Free ports for every node: bound to port 0 all at once (so they differ), then released.
fn choose_ports(config: &KafkaConfig) -> Result<Vec<Ports>> {
    let listeners = config.listeners();
    let mut held = Vec::new();
    let mut take = || -> Result<u16> {
        let l = TcpListener::bind("127.0.0.1:0").map_err(error::io("cannot bind a port on", "127.0.0.1"))?;
        let port = l.local_addr().map_err(error::io("cannot read the port of", "127.0.0.1"))?.port();
        held.push(l);
        Ok(port)
    };
    let mut out = Vec::new();
    for _ in 0..config.nodes {
        let controller = take()?;
        let mut ports = BTreeMap::new();
        for &l in &listeners {
            ports.insert(l, take()?);
        }
        out.push(Ports { controller, listeners: ports });
    }
    Ok(out)
}

fn port_taken(log: &str) -> bool {
    log.contains("Address already in use") || log.contains("BindException")
}

/// A random cluster id: 16 random bytes in Kafka's base64 form, not starting with `-` (as
/// Kafka's `Uuid.randomUuid` avoids).
fn random_cluster_id() -> String {
    loop {
        let word = || {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(Instant::now().elapsed().as_nanos() ^ u128::from(std::process::id()));
            h.finish()
        };
        let bytes = (u128::from(word()) << 64) | u128::from(word());
        let id = kafka_wire::Uuid::from_u128(bytes);
        let text = id.to_string();
        if !id.is_zero() && !text.starts_with('-') {
            return text;
        }
    }
}
