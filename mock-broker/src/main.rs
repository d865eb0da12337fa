//! `kafka-wire-mock`: runs an in-memory Kafka cluster until stdin closes (or Ctrl-C).
//!
//! ```text
//! kafka-wire-mock [--brokers N] [--port P] [--topic NAME:PARTITIONS]...
//! ```
//! With `--port P`, broker i listens on P + i. Prints `bootstrap.servers` on the first line.

use std::io::Read;
use std::process::ExitCode;

use kafka_wire_mock::{MockCluster, MockConfig};

fn usage() -> ExitCode {
    eprintln!("usage: kafka-wire-mock [--brokers N] [--port P] [--topic NAME:PARTITIONS]...");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut config = MockConfig::new();
    let mut port: Option<u16> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--brokers", Some(n)) => match n.parse() {
                Ok(n) => config = config.brokers(n),
                Err(_) => return usage(),
            },
            ("--port", Some(p)) => match p.parse() {
                Ok(p) => port = Some(p),
                Err(_) => return usage(),
            },
            ("--topic", Some(t)) => match t.rsplit_once(':').map(|(n, p)| (n, p.parse())) {
                Some((name, Ok(partitions))) => config = config.topic(name, partitions),
                Some((name, Err(_))) if !name.is_empty() => return usage(),
                _ => config = config.topic(t, 1),
            },
            _ => return usage(),
        }
    }
    if let Some(port) = port {
        config.ports = (0..config.brokers).map(|i| port.saturating_add(i as u16)).collect();
    }
    let cluster = match MockCluster::spawn(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kafka-wire-mock: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", cluster.bootstrap_servers());
    eprintln!("kafka-wire-mock: {} broker(s) up; close stdin (Ctrl-D) to stop", cluster.brokers());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    ExitCode::SUCCESS
}
