//! `kafka-wire-mock`: runs an in-memory Kafka cluster until stdin closes, for tests written in
//! any language. `kafka-wire-mock --help` lists the options.
//!
//! Prints `bootstrap.servers` on the first line of stdout. While it runs, each line on stdin is
//! a command (the faults and topic changes of `MockCluster`'s API), answered with one line on
//! stdout, `ok` or `error: <why>`:
//!
//! ```text
//! fail-next API COUNT ERROR   the next COUNT requests of API fail with ERROR
//! delay API|all MS            hold back responses (0: no delay)
//! clear-faults                remove every injected failure and delay
//! broker-down ID, broker-up ID
//! create-topic NAME[:PARTITIONS[:REPLICATION]], delete-topic NAME
//! topics, end-offset TOPIC P, committed-offset GROUP TOPIC P, group-members GROUP, stats
//!                             queries, answered `ok <value>`
//! ```
//! API is Kafka's name (`Produce`, `Metadata`, ...), ERROR an error name
//! (`NOT_LEADER_OR_FOLLOWER`) or code. Closing stdin stops the cluster.

#![forbid(unsafe_code)]

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use kafka_wire::{ApiKey, ErrorCode};
use kafka_wire_mock::{MockCluster, MockConfig, SaslConfig, SaslMechanism, TopicSpec};

/// An in-memory Kafka cluster: prints bootstrap.servers, then serves until stdin closes
#[derive(Debug, Parser)]
#[command(name = "kafka-wire-mock", version, after_help = COMMANDS)]
struct Cli {
    /// Number of brokers, ids 0, 1, ...
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    brokers: u16,
    /// Address to bind
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port of broker 0; broker i gets PORT + i
    #[arg(long)]
    port: Option<u16>,
    /// Host brokers advertise (default: --host)
    #[arg(long, value_name = "HOST")]
    advertised_host: Option<String>,
    /// Cluster id in Metadata answers
    #[arg(long, value_name = "ID")]
    cluster_id: Option<String>,
    /// Topic with P partitions (1), replication factor R
    #[arg(long = "topic", value_name = "NAME[:P[:R]]", value_parser = parse_topic)]
    topics: Vec<TopicSpec>,
    /// A config of a --topic (cleanup.policy=compact)
    #[arg(long = "topic-config", value_name = "TOPIC:NAME=VALUE", value_parser = parse_topic_config)]
    topic_configs: Vec<(String, String, String)>,
    /// No topic creation on Metadata requests
    #[arg(long)]
    no_auto_create_topics: bool,
    /// Partitions of auto-created topics (num.partitions)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
    default_partitions: Option<i32>,
    /// Replication factor of new topics (brokers, max 3)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i16).range(1..))]
    default_replication_factor: Option<i16>,
    /// group.initial.rebalance.delay.ms (0)
    #[arg(long, value_name = "MS")]
    group_initial_rebalance_delay_ms: Option<u64>,
    /// group.min.session.timeout.ms (100)
    #[arg(long, value_name = "MS")]
    group_min_session_timeout_ms: Option<u64>,
    /// group.max.session.timeout.ms (1800000)
    #[arg(long, value_name = "MS")]
    group_max_session_timeout_ms: Option<u64>,
    /// Largest request frame (104857600)
    #[arg(long, value_name = "BYTES")]
    max_frame_size: Option<usize>,
    /// Enables SASL with this user (repeatable)
    #[arg(long = "sasl-user", value_name = "USER:PASSWORD", value_parser = parse_user)]
    sasl_users: Vec<(String, String)>,
    /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (all three)
    #[arg(long = "sasl-mechanism", value_name = "MECHANISM", value_parser = parse_mechanism)]
    sasl_mechanisms: Vec<SaslMechanism>,
    /// Session lifetime for KIP-368 re-authentication
    #[arg(long, value_name = "MS")]
    sasl_session_lifetime_ms: Option<u64>,
    /// SCRAM iterations of the credentials (4096)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    scram_iterations: Option<u32>,
    /// Enforces ACLs: no ALLOW, denied
    #[arg(long)]
    authorizer: bool,
    /// Never denied, e.g. User:admin (repeatable)
    #[arg(long = "super-user", value_name = "PRINCIPAL", value_parser = parse_principal)]
    super_users: Vec<String>,
    /// Enables TLS: certificate chain, PEM, leaf first
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// Private key of --tls-cert, PEM
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Next COUNT requests of API fail with ERROR
    #[arg(long = "fail-next", value_name = "API:COUNT:ERROR", value_parser = parse_failure)]
    failures: Vec<(ApiKey, u32, ErrorCode)>,
    /// Hold back responses to API (or all) by MS
    #[arg(long = "delay", value_name = "API:MS", value_parser = parse_delay)]
    delays: Vec<(Option<ApiKey>, Duration)>,
    /// Start with broker ID down
    #[arg(long = "broker-down", value_name = "ID")]
    brokers_down: Vec<i32>,
}

/// The commands stdin takes while the cluster runs (on `--help`).
const COMMANDS: &str = "\
Commands on stdin, one per line, each answered on stdout with `ok` (and the value asked for) or `error: <why>`:
  fail-next API COUNT ERROR       the next COUNT requests of API fail with ERROR
  delay API|all MS                hold back responses by MS milliseconds (0: no delay)
  clear-faults                    remove every injected failure and delay
  broker-down ID, broker-up ID    take a broker down, bring it back
  create-topic NAME[:P[:R]]       create a topic
  delete-topic NAME               delete a topic
  topics                          ok NAME:PARTITIONS ...
  end-offset TOPIC P              ok OFFSET, or ok none
  committed-offset GROUP TOPIC P  ok OFFSET, or ok none
  group-members GROUP             ok generation N members ID ...
  stats                           ok connections N authentications N failed_authentications N requests API:N,...
API: Kafka's name (Produce, Metadata, ...) or key; ERROR: a name (NOT_LEADER_OR_FOLLOWER) or code.";

/// `NAME[:PARTITIONS[:REPLICATION]]` (Kafka topic names have no `:`).
fn parse_topic(s: &str) -> Result<TopicSpec, String> {
    let mut parts = s.split(':');
    let name = parts.next().filter(|n| !n.is_empty()).ok_or("a topic needs a name")?;
    let partitions = match parts.next() {
        Some(p) => p.parse::<i32>().ok().filter(|p| *p > 0).ok_or(format!("{p:?} is not a partition count"))?,
        None => 1,
    };
    let mut spec = TopicSpec::new(name, partitions);
    if let Some(r) = parts.next() {
        spec = spec
            .replication_factor(r.parse().ok().filter(|r| *r > 0).ok_or(format!("{r:?} is not a replication factor"))?);
    }
    match parts.next() {
        Some(_) => Err("expected NAME[:PARTITIONS[:REPLICATION]]".into()),
        None => Ok(spec),
    }
}

/// `TOPIC:NAME=VALUE`.
fn parse_topic_config(s: &str) -> Result<(String, String, String), String> {
    let (topic, config) = s.split_once(':').ok_or("expected TOPIC:NAME=VALUE")?;
    let (name, value) = config.split_once('=').ok_or("expected TOPIC:NAME=VALUE")?;
    if topic.is_empty() || name.is_empty() {
        return Err("expected TOPIC:NAME=VALUE".into());
    }
    Ok((topic.into(), name.into(), value.into()))
}

/// `USER:PASSWORD` (the password may contain `:`).
fn parse_user(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((user, password)) if !user.is_empty() => Ok((user.into(), password.into())),
        _ => Err("expected USER:PASSWORD".into()),
    }
}

fn parse_principal(s: &str) -> Result<String, String> {
    match s.split_once(':') {
        Some((kind, name)) if !kind.is_empty() && !name.is_empty() => Ok(s.into()),
        _ => Err("expected TYPE:NAME, e.g. User:admin".into()),
    }
}

fn parse_mechanism(s: &str) -> Result<SaslMechanism, String> {
    SaslMechanism::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = SaslMechanism::ALL.iter().map(|m| m.name()).collect();
        format!("unknown SASL mechanism (one of {})", names.join(", "))
    })
}

/// An API by Kafka's name (`Produce`, `Metadata`, ...) or by key.
fn parse_api(s: &str) -> Result<ApiKey, String> {
    ApiKey::ALL
        .iter()
        .copied()
        .find(|api| api.name().eq_ignore_ascii_case(s) || s.parse() == Ok(api.code()))
        .ok_or_else(|| format!("unknown API {s:?} (Kafka's name, such as Produce or Metadata, or its key)"))
}

/// An error code by name (`NOT_LEADER_OR_FOLLOWER`) or number.
fn parse_error(s: &str) -> Result<ErrorCode, String> {
    if let Ok(code) = s.parse::<i16>() {
        return Ok(ErrorCode::from(code));
    }
    ErrorCode::ALL
        .iter()
        .copied()
        .find(|e| e.name().is_some_and(|n| n.eq_ignore_ascii_case(s)))
        .ok_or_else(|| format!("unknown error {s:?} (a name such as NOT_LEADER_OR_FOLLOWER, or a code)"))
}

/// `API:COUNT:ERROR`.
fn parse_failure(s: &str) -> Result<(ApiKey, u32, ErrorCode), String> {
    let mut parts = s.split(':');
    let (Some(api), Some(count), Some(error), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err("expected API:COUNT:ERROR".into());
    };
    let count = count.parse().map_err(|_| format!("{count:?} is not a count"))?;
    Ok((parse_api(api)?, count, parse_error(error)?))
}

/// `API:MS` or `all:MS`.
fn parse_delay(s: &str) -> Result<(Option<ApiKey>, Duration), String> {
    let (api, ms) = s.split_once(':').ok_or("expected API:MS")?;
    let ms = ms.parse().map_err(|_| format!("{ms:?} is not a number of milliseconds"))?;
    let api = if api.eq_ignore_ascii_case("all") { None } else { Some(parse_api(api)?) };
    Ok((api, Duration::from_millis(ms)))
}

/// The configuration the options describe; `Err` for options that contradict each other.
fn config(cli: &Cli) -> Result<MockConfig, String> {
    let mut config = MockConfig::new().brokers(usize::from(cli.brokers));
    config.host = cli.host.clone();
    if let Some(port) = cli.port {
        config.ports = (0..cli.brokers)
            .map(|i| port.checked_add(i).ok_or(format!("port {port} + broker {i} is beyond 65535")))
            .collect::<Result<_, _>>()?;
    }
    config.advertised_host = cli.advertised_host.clone();
    if let Some(id) = &cli.cluster_id {
        config.cluster_id = id.clone();
    }
    let mut topics = cli.topics.clone();
    for (topic, name, value) in &cli.topic_configs {
        let spec = topics
            .iter_mut()
            .find(|t| t.name == *topic)
            .ok_or(format!("--topic-config {topic}:{name}=...: no --topic {topic}"))?;
        spec.configs.push((name.clone(), value.clone()));
    }
    config.topics = topics;
    config.auto_create_topics = !cli.no_auto_create_topics;
    if let Some(n) = cli.default_partitions {
        config.default_partitions = n;
    }
    config.default_replication_factor = cli.default_replication_factor;
    if let Some(ms) = cli.group_initial_rebalance_delay_ms {
        config.group_initial_rebalance_delay = Duration::from_millis(ms);
    }
    if let Some(ms) = cli.group_min_session_timeout_ms {
        config.group_min_session_timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = cli.group_max_session_timeout_ms {
        config.group_max_session_timeout = Duration::from_millis(ms);
    }
    if let Some(max) = cli.max_frame_size {
        config.max_frame_size = max;
    }
    if cli.sasl_users.is_empty() {
        if !cli.sasl_mechanisms.is_empty() || cli.sasl_session_lifetime_ms.is_some() || cli.scram_iterations.is_some() {
            return Err("the SASL options need at least one --sasl-user".into());
        }
    } else {
        let mechanisms =
            if cli.sasl_mechanisms.is_empty() { SaslMechanism::ALL.to_vec() } else { cli.sasl_mechanisms.clone() };
        let mut sasl = SaslConfig::new(mechanisms, &[]);
        sasl.users = cli.sasl_users.clone();
        sasl.session_lifetime = cli.sasl_session_lifetime_ms.map(Duration::from_millis);
        if let Some(n) = cli.scram_iterations {
            sasl.scram_iterations = n;
        }
        config.sasl = Some(sasl);
    }
    config.authorizer = cli.authorizer;
    config.super_users = cli.super_users.clone();
    if let (Some(cert), Some(key)) = (&cli.tls_cert, &cli.tls_key) {
        config = tls(config, cert, key)?;
    }
    Ok(config)
}

#[cfg(feature = "tls")]
fn tls(config: MockConfig, cert: &std::path::Path, key: &std::path::Path) -> Result<MockConfig, String> {
    use kafka_wire_mock::rustls;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("--tls-cert {}: no certificate in it", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("--tls-key {}: {e}", key.display()))?;
    let server =
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("--tls-cert/--tls-key: {e}"))?;
    Ok(config.tls(std::sync::Arc::new(server)))
}

#[cfg(not(feature = "tls"))]
fn tls(_: MockConfig, _: &std::path::Path, _: &std::path::Path) -> Result<MockConfig, String> {
    Err("this build has no TLS (cargo feature `tls`)".into())
}

/// Injects a failure or a delay.
fn inject(cluster: &MockCluster, failure: Option<(ApiKey, u32, ErrorCode)>, delay: Option<(Option<ApiKey>, Duration)>) {
    if let Some((api, count, code)) = failure {
        cluster.fail_next(api, count, code);
    }
    match delay {
        Some((Some(api), delay)) => cluster.delay_responses(api, delay),
        Some((None, delay)) => cluster.delay_all_responses(delay),
        None => {}
    }
}

/// Runs one stdin command: `Ok` with what to print after `ok` (queries), or why it failed.
fn command(cluster: &MockCluster, line: &str) -> Result<Option<String>, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let id = |s: &str| s.parse::<i32>().map_err(|_| format!("{s:?} is not a broker id"));
    let partition = |s: &str| s.parse::<i32>().map_err(|_| format!("{s:?} is not a partition"));
    let or_none = |v: Option<i64>| Some(v.map_or_else(|| "none".to_string(), |v| v.to_string()));
    match words.as_slice() {
        ["topics"] => {
            let topics: Vec<String> = cluster.topics().iter().map(|(name, n)| format!("{name}:{n}")).collect();
            return Ok(Some(topics.join(" ")));
        }
        ["end-offset", topic, p] => return Ok(or_none(cluster.end_offset(topic, partition(p)?))),
        ["committed-offset", group, topic, p] => {
            return Ok(or_none(cluster.committed_offset(group, topic, partition(p)?)));
        }
        ["group-members", group] => {
            let members = cluster.group_members(group).ok_or(format!("no group {group}"))?;
            return Ok(Some(format!("generation {} members {}", members.0, members.1.join(" "))));
        }
        ["stats"] => {
            let stats = cluster.stats();
            let requests: Vec<String> = stats.requests.iter().map(|(api, n)| format!("{}:{n}", api.name())).collect();
            return Ok(Some(format!(
                "connections {} authentications {} failed_authentications {} requests {}",
                stats.connections,
                stats.authentications,
                stats.failed_authentications,
                requests.join(",")
            )));
        }
        ["fail-next", api, count, error] => {
            inject(cluster, Some(parse_failure(&format!("{api}:{count}:{error}"))?), None);
        }
        ["delay", api, ms] => inject(cluster, None, Some(parse_delay(&format!("{api}:{ms}"))?)),
        ["clear-faults"] => cluster.clear_faults(),
        ["broker-down", b] => cluster.broker_down(id(b)?).map_err(|e| e.to_string())?,
        ["broker-up", b] => cluster.broker_up(id(b)?).map_err(|e| e.to_string())?,
        ["create-topic", spec] => cluster.create_topic_spec(&parse_topic(spec)?).map_err(|e| e.to_string())?,
        ["delete-topic", name] => {
            if !cluster.delete_topic(name) {
                return Err(format!("no topic {name}"));
            }
        }
        _ => {
            return Err(format!(
                "unknown command {line:?} (fail-next, delay, clear-faults, broker-down, broker-up, create-topic, \
                 delete-topic, topics, end-offset, committed-offset, group-members, stats)"
            ))
        }
    }
    Ok(None)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match config(&cli) {
        Ok(c) => c,
        Err(e) => Cli::command().error(ErrorKind::ArgumentConflict, e).exit(),
    };
    let cluster = match MockCluster::spawn(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kafka-wire-mock: {e}");
            return ExitCode::FAILURE;
        }
    };
    for failure in &cli.failures {
        inject(&cluster, Some(*failure), None);
    }
    for delay in &cli.delays {
        inject(&cluster, None, Some(*delay));
    }
    for id in &cli.brokers_down {
        if let Err(e) = cluster.broker_down(*id) {
            Cli::command().error(ErrorKind::InvalidValue, format!("--broker-down {id}: {e}")).exit();
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", cluster.bootstrap_servers());
    let _ = stdout.flush();
    eprintln!("kafka-wire-mock: {} broker(s) up; commands on stdin, close it (Ctrl-D) to stop", cluster.brokers());
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let answer = match command(&cluster, &line) {
            Ok(None) => "ok".to_string(),
            Ok(Some(value)) => format!("ok {value}"),
            Err(e) => format!("error: {e}"),
        };
        let _ = writeln!(stdout, "{answer}");
        let _ = stdout.flush();
    }
    ExitCode::SUCCESS
}
