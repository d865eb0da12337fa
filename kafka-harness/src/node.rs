//! One node: its configuration files, its JVM, the thread that reads what the JVM prints, and
//! stopping it by process id.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::config::{KafkaConfig, Listener};
use crate::error::{io, Error, Result};
use crate::runs;

/// The line Kafka logs (logger `kafka.server.KafkaRaftServer`) once the controller and the
/// broker are up and the broker is unfenced; the harness's log4j configuration sends that
/// logger to the JVM's standard output too.
const STARTED: &str = "Kafka Server started";

/// What the thread reading a JVM's standard output reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    Started,
    /// Standard output closed: the JVM exited.
    Closed,
}

/// Where a node listens.
#[derive(Debug, Clone)]
pub(crate) struct Ports {
    pub(crate) controller: u16,
    pub(crate) listeners: BTreeMap<Listener, u16>,
}

/// The cluster-wide facts each node's configuration needs.
pub(crate) struct Layout<'a> {
    pub(crate) config: &'a KafkaConfig,
    pub(crate) cluster_id: &'a str,
    /// (node id, controller port) of every node: the static quorum.
    pub(crate) voters: Vec<(i32, u16)>,
    pub(crate) classpath: &'a str,
    pub(crate) launcher: &'a Path,
}

/// A node's JVM and the files it uses.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) id: i32,
    pub(crate) dir: PathBuf,
    pub(crate) ports: Ports,
    process: Option<Process>,
}

#[derive(Debug)]
struct Process {
    child: Child,
    /// Kept open: the launcher halts the JVM when it closes.
    _stdin: ChildStdin,
    events: mpsc::Receiver<Event>,
}

impl Node {
    pub(crate) fn new(id: i32, run: &Path, ports: Ports) -> Node {
        Node { id, dir: run.join(format!("node-{id}")), ports, process: None }
    }

    pub(crate) fn server_log(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    fn stdout_log(&self) -> PathBuf {
        self.dir.join("stdout.log")
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(|p| p.child.id())
    }

    pub(crate) fn addr(&self, listener: Listener) -> Option<String> {
        self.ports.listeners.get(&listener).map(|port| format!("127.0.0.1:{port}"))
    }

    /// Writes the node's files and starts its JVM; `format` runs Kafka's StorageTool first
    /// (a fresh node), otherwise the node starts on its existing storage (a restart).
    pub(crate) fn spawn(&mut self, layout: &Layout<'_>, format: bool) -> Result<()> {
        let config = layout.config;
        let data = self.dir.join("data");
        std::fs::create_dir_all(&data).map_err(io("cannot create", &data))?;
        let properties = self.dir.join("server.properties");
        write(&properties, &self.properties(layout, &data)?)?;
        let log4j = self.dir.join("log4j2.properties");
        write(&log4j, &log4j_config(&self.server_log()))?;

        let mut cmd = Command::new("java");
        cmd.arg(format!("-Xmx{}m", config.heap_mib))
            .arg(format!("-Xms{}m", config.heap_mib.min(64)))
            // Start-up time matters more than peak throughput in tests.
            .args(["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError"])
            .arg("-Djava.awt.headless=true")
            .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
            .arg(format!("-Dkafka.logs.dir={}", self.dir.display()))
            .arg("-cp")
            .arg(format!("{}{}{}", layout.launcher.display(), if cfg!(windows) { ';' } else { ':' }, layout.classpath))
            .arg(crate::jars::LAUNCHER_CLASS);
        if format {
            cmd.args(["format", "--cluster-id", layout.cluster_id, "--config"]).arg(&properties);
            for (user, password) in &config.sasl_users {
                for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
                    cmd.arg("--add-scram").arg(format!("{mechanism}=[name={user},password={password}]"));
                }
            }
        }
        cmd.arg("--start").arg(&properties);
        let stderr = self.dir.join("stderr.log");
        let stderr_file = std::fs::File::create(&stderr).map_err(io("cannot create", &stderr))?;
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(stderr_file);
        let mut child = cmd.spawn().map_err(|source| Error::Tool { tool: "java", source })?;
        let pid_file = self.dir.join("jvm.pid");
        if let Err(e) = std::fs::write(&pid_file, child.id().to_string()) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io("cannot write", &pid_file)(e));
        }
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, events) = mpsc::channel();
        let copy = self.stdout_log();
        std::thread::Builder::new()
            .name(format!("kafka-node-{}-stdout", self.id))
            .spawn(move || read_stdout(stdout, &copy, tx))
            .map_err(|source| Error::Tool { tool: "a thread", source })?;
        self.process = Some(Process { child, _stdin: stdin, events });
        Ok(())
    }

    /// Waits until the JVM prints that Kafka started, until `deadline`.
    pub(crate) fn wait_started(&mut self, deadline: Instant, bound: Duration) -> Result<()> {
        let Some(process) = self.process.as_mut() else {
            return Err(Error::Exited { node: self.id, status: "not running".into(), log_tail: String::new() });
        };
        let left = deadline.saturating_duration_since(Instant::now());
        match process.events.recv_timeout(left) {
            Ok(Event::Started) => Ok(()),
            Ok(Event::Closed) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Standard output closed: the JVM is exiting; its status comes at once.
                let status = process.child.wait().map_or_else(|e| e.to_string(), |s| s.to_string());
                self.process = None;
                Err(Error::Exited { node: self.id, status, log_tail: self.log_tail(40) })
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                Err(Error::StartTimeout { node: self.id, what: "start", after: bound, log_tail: self.log_tail(40) })
            }
        }
    }

    /// Kills the JVM (SIGKILL, by process id) and waits for it.
    pub(crate) fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.child.kill();
            let _ = process.child.wait();
            let _ = std::fs::remove_file(self.dir.join("jvm.pid"));
        }
    }

    /// Asks the JVM to shut down (SIGTERM: Kafka's controlled shutdown) and waits up to
    /// `bound` for it to exit; kills it after that.
    pub(crate) fn terminate(&mut self, bound: Duration) -> Result<()> {
        let Some(process) = self.process.as_mut() else { return Ok(()) };
        runs::kill(process.child.id(), "TERM");
        let until = Instant::now() + bound;
        loop {
            match process.events.recv_timeout(until.saturating_duration_since(Instant::now())) {
                // A node still starting may report that first.
                Ok(Event::Started) => continue,
                Ok(Event::Closed) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.kill();
                    return Ok(());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let log_tail = self.log_tail(40);
                    self.kill();
                    return Err(Error::StartTimeout { node: self.id, what: "shut down", after: bound, log_tail });
                }
            }
        }
    }

    /// The last `lines` lines of the node's log (and of what the JVM printed).
    pub(crate) fn log_tail(&self, lines: usize) -> String {
        let mut out = String::new();
        for (name, path) in [("stdout", self.stdout_log()), ("stderr", self.dir.join("stderr.log"))] {
            if let Ok(text) = std::fs::read_to_string(&path) {
                if !text.trim().is_empty() {
                    let _ = writeln!(out, "--- node {} {name} ({}) ---\n{}", self.id, path.display(), tail(&text, 10));
                }
            }
        }
        let log = self.server_log();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = write!(out, "--- node {} log ({}) ---\n{}", self.id, log.display(), tail(&text, lines));
        out
    }

    /// The broker's `server.properties`.
    fn properties(&self, layout: &Layout<'_>, data: &Path) -> Result<String> {
        let config = layout.config;
        let replication = config.nodes.min(3);
        let mut p = Vec::<(String, String)>::new();
        let mut set = |k: &str, v: String| p.push((k.to_owned(), v));
        set("process.roles", "broker,controller".into());
        set("node.id", self.id.to_string());
        let voters: Vec<String> = layout.voters.iter().map(|(id, port)| format!("{id}@127.0.0.1:{port}")).collect();
        set("controller.quorum.voters", voters.join(","));
        let mut listeners = vec![format!("CONTROLLER://127.0.0.1:{}", self.ports.controller)];
        let mut advertised = Vec::new();
        for (listener, port) in &self.ports.listeners {
            listeners.push(format!("{}://127.0.0.1:{port}", listener.name()));
            advertised.push(format!("{}://127.0.0.1:{port}", listener.name()));
        }
        set("listeners", listeners.join(","));
        set("advertised.listeners", advertised.join(","));
        set("controller.listener.names", "CONTROLLER".into());
        set("inter.broker.listener.name", "PLAINTEXT".into());
        set(
            "listener.security.protocol.map",
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL".into(),
        );
        set("log.dirs", data.display().to_string());
        // Internal topics sized for a test cluster: created fast, replicated where possible.
        set("offsets.topic.replication.factor", replication.to_string());
        set("offsets.topic.num.partitions", "1".into());
        set("transaction.state.log.replication.factor", replication.to_string());
        set("transaction.state.log.min.isr", "1".into());
        set("transaction.state.log.num.partitions", "1".into());
        set("share.coordinator.state.topic.replication.factor", replication.to_string());
        set("share.coordinator.state.topic.min.isr", "1".into());
        set("share.coordinator.state.topic.num.partitions", "1".into());
        set("group.initial.rebalance.delay.ms", "0".into());
        // Fewer threads than a production broker: tests share small machines.
        set("num.network.threads", "2".into());
        set("num.io.threads", "4".into());
        set("background.threads", "2".into());
        set("log.cleaner.threads", "1".into());
        if !config.sasl_users.is_empty() {
            set("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512".into());
            let users: String = config.sasl_users.iter().map(|(u, pw)| format!(" user_{u}=\"{pw}\"")).collect();
            let sasl_listeners: &[&str] =
                if config.tls.is_some() { &["sasl_plaintext", "sasl_ssl"] } else { &["sasl_plaintext"] };
            for listener in sasl_listeners {
                set(
                    &format!("listener.name.{listener}.plain.sasl.jaas.config"),
                    format!("org.apache.kafka.common.security.plain.PlainLoginModule required{users};"),
                );
                for mechanism in ["scram-sha-256", "scram-sha-512"] {
                    set(
                        &format!("listener.name.{listener}.{mechanism}.sasl.jaas.config"),
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;".into(),
                    );
                }
            }
        }
        if let Some(tls) = &config.tls {
            let pem = self.dir.join("server.pem");
            let mut text = tls.private_key_pem.trim_end().to_owned();
            text.push('\n');
            text.push_str(tls.certificate_chain_pem.trim_end());
            text.push('\n');
            write(&pem, &text)?;
            let tls_listeners: &[&str] = if config.sasl_users.is_empty() { &["ssl"] } else { &["ssl", "sasl_ssl"] };
            for listener in tls_listeners {
                set(&format!("listener.name.{listener}.ssl.keystore.type"), "PEM".into());
                set(&format!("listener.name.{listener}.ssl.keystore.location"), pem.display().to_string());
                set(&format!("listener.name.{listener}.ssl.client.auth"), "none".into());
            }
        }
        if let Some(super_users) = &config.authorizer {
            set("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer".into());
            let mut all = vec!["User:ANONYMOUS".to_owned()];
            all.extend(super_users.iter().cloned());
            set("super.users", all.join(";"));
        }
        for (k, v) in &config.broker_properties {
            set(k, v.clone());
        }
        let mut out = String::from("# Written by kafka-wire-harness.\n");
        for (k, v) in p {
            let _ = writeln!(out, "{k}={}", escape(&v));
        }
        Ok(out)
    }
}

/// The last `n` lines of `text`, each cut at 400 characters (Kafka logs whole records).
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let cut = |l: &&str| match l.char_indices().nth(400) {
        Some((i, _)) => format!("{} [...]", &l[..i]),
        None => (*l).to_owned(),
    };
    lines[lines.len().saturating_sub(n)..].iter().map(cut).collect::<Vec<_>>().join("\n")
}

/// A value in `.properties` syntax (backslashes are escapes there).
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\")
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(io("cannot write", path))
}

/// Log4j 2 configuration: everything at INFO to `server.log`, except the configuration dumps;
/// the started line also to standard output, where the harness waits for it.
fn log4j_config(log: &Path) -> String {
    format!(
        "status = warn\n\
         appender.file.type = File\n\
         appender.file.name = file\n\
         appender.file.fileName = {}\n\
         appender.file.layout.type = PatternLayout\n\
         appender.file.layout.pattern = [%d] %p %m (%c)%n\n\
         appender.out.type = Console\n\
         appender.out.name = out\n\
         appender.out.target = SYSTEM_OUT\n\
         appender.out.layout.type = PatternLayout\n\
         appender.out.layout.pattern = %p %m (%c)%n\n\
         rootLogger.level = INFO\n\
         rootLogger.appenderRef.file.ref = file\n\
         logger.started.name = kafka.server.KafkaRaftServer\n\
         logger.started.level = INFO\n\
         logger.started.appenderRef.out.ref = out\n\
         logger.config.name = org.apache.kafka.common.config.AbstractConfig\n\
         logger.config.level = WARN\n",
        escape(&log.display().to_string())
    )
}

/// Copies the JVM's standard output to `copy`, reporting the started line and the end.
fn read_stdout(stdout: std::process::ChildStdout, copy: &Path, tx: mpsc::Sender<Event>) {
    let mut file = std::fs::File::create(copy).ok();
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(f) = file.as_mut() {
            let _ = writeln!(f, "{line}");
        }
        if line.contains(STARTED) {
            let _ = tx.send(Event::Started);
        }
    }
    let _ = tx.send(Event::Closed);
}
