//! Kafka's jars through Maven's own client, and the harness's launcher class.
//!
//! The classpath comes from `mvn dependency:build-classpath` on a generated pom (Maven's local
//! repository keeps the jars between runs; the classpath list is cached next to it), as
//! `xtask/src/maven.rs` fetches the schema artifacts. No repository address is written here:
//! Maven uses whatever its settings name.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::error::{io, Error, Result};

/// The log4j 2 binding for Kafka's slf4j 1.7 API (what Kafka's own distribution ships), so that
/// the broker's log goes where the harness's log4j2 configuration says.
const LOG4J_VERSION: &str = "2.24.3";

/// The launcher's source: formats storage, then runs the broker; halts when stdin closes.
const LAUNCHER_SOURCE: &str = include_str!("../java/KafkaWireHarness.java");

/// The launcher's main class.
pub(crate) const LAUNCHER_CLASS: &str = "KafkaWireHarness";

/// The environment variable that replaces the Maven resolution with a classpath of one's own
/// (`/opt/kafka/libs/*`, say).
pub const CLASSPATH_ENV: &str = "KAFKA_WIRE_HARNESS_CLASSPATH";

/// The environment variable that sets the harness directory (see [`harness_dir`]).
pub const DIR_ENV: &str = "KAFKA_WIRE_HARNESS_DIR";

/// Where the harness keeps its runs (one directory per cluster: node configurations, data and
/// logs), its classpath lists and its compiled launcher: `$KAFKA_WIRE_HARNESS_DIR`, else
/// `$CARGO_TARGET_DIR/kafka-harness`, else `kafka-harness` in the target directory of the
/// running test binary (`target/debug/deps/..` → `target/kafka-harness`), else the system's
/// temporary directory.
pub fn harness_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DIR_ENV) {
        return PathBuf::from(dir);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("kafka-harness");
    }
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent()?;
        (deps.file_name()? == "deps").then(|| deps.parent()?.parent().map(Path::to_path_buf)).flatten()
    });
    from_exe.unwrap_or_else(std::env::temp_dir).join("kafka-harness")
}

/// One Maven resolution at a time in this process (threads of one test binary).
static RESOLVING: Mutex<()> = Mutex::new(());

/// The classpath of Kafka `version`'s broker (and log4j), as one `java -cp` argument.
pub(crate) fn classpath(dir: &Path, version: &str) -> Result<String> {
    if let Some(cp) = std::env::var_os(CLASSPATH_ENV) {
        return Ok(cp.to_string_lossy().into_owned());
    }
    let _one = RESOLVING.lock().unwrap_or_else(|e| e.into_inner());
    let work = dir.join(format!("kafka-{version}"));
    let cached = work.join("classpath.txt");
    if let Ok(text) = std::fs::read_to_string(&cached) {
        let text = text.trim();
        if !text.is_empty() && std::env::split_paths(text).all(|p| p.is_file()) {
            return Ok(text.to_owned());
        }
    }
    std::fs::create_dir_all(&work).map_err(io("cannot create", &work))?;
    let dependency = |group: &str, artifact: &str, version: &str| {
        format!("    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version></dependency>\n")
    };
    let pom = format!(
        "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <modelVersion>4.0.0</modelVersion>\n  \
         <groupId>kafka-wire.harness</groupId>\n  <artifactId>kafka-broker</artifactId>\n  <version>0</version>\n  \
         <dependencies>\n{}{}{}  </dependencies>\n</project>\n",
        dependency("org.apache.kafka", "kafka_2.13", version),
        dependency("org.apache.logging.log4j", "log4j-slf4j-impl", LOG4J_VERSION),
        dependency("org.apache.logging.log4j", "log4j-core", LOG4J_VERSION),
    );
    // Another test binary may resolve at the same time: private pom and output, then a rename.
    let pom_path = work.join(format!("pom-{}.xml", std::process::id()));
    std::fs::write(&pom_path, pom).map_err(io("cannot write", &pom_path))?;
    let out_path = work.join(format!("classpath-{}.txt", std::process::id()));
    let output = Command::new(if cfg!(windows) { "mvn.cmd" } else { "mvn" })
        .current_dir(&work)
        .args(["-q", "-B", "-f"])
        .arg(&pom_path)
        .args(["dependency:build-classpath", "-Dmdep.includeScope=runtime"])
        .arg(format!("-Dmdep.outputFile={}", out_path.display()))
        .output()
        .map_err(|source| Error::Tool { tool: "mvn", source })?;
    let _ = std::fs::remove_file(&pom_path);
    if !output.status.success() {
        let log = String::from_utf8_lossy(&output.stdout);
        return Err(Error::Maven {
            artifact: format!("org.apache.kafka:kafka_2.13:{version}"),
            output: tail(&log, 30),
        });
    }
    let text = std::fs::read_to_string(&out_path).map_err(io("cannot read the classpath mvn wrote to", &out_path))?;
    std::fs::rename(&out_path, &cached).map_err(io("cannot rename the classpath list to", &cached))?;
    Ok(text.trim().to_owned())
}

/// The directory holding the compiled launcher (compiled once per launcher source).
pub(crate) fn launcher(dir: &Path) -> Result<PathBuf> {
    let _one = RESOLVING.lock().unwrap_or_else(|e| e.into_inner());
    let done = dir.join(format!("launcher-{:016x}", fnv1a(LAUNCHER_SOURCE.as_bytes())));
    if done.join(format!("{LAUNCHER_CLASS}.class")).is_file() {
        return Ok(done);
    }
    let work = dir.join(format!("launcher-tmp-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(io("cannot create", &work))?;
    let source = work.join(format!("{LAUNCHER_CLASS}.java"));
    std::fs::write(&source, LAUNCHER_SOURCE).map_err(io("cannot write", &source))?;
    let output = Command::new("javac")
        .args(["-nowarn", "-d"])
        .arg(&work)
        .arg(&source)
        .output()
        .map_err(|source| Error::Tool { tool: "javac", source })?;
    if !output.status.success() {
        return Err(Error::Javac(String::from_utf8_lossy(&output.stderr).into_owned()));
    }
    // Another process may have finished first; then its copy is as good as ours.
    if std::fs::rename(&work, &done).is_err() {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(done)
}

/// FNV-1a: a stable name for a launcher source.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
