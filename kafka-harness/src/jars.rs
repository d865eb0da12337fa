//! Kafka's jars through Maven's own client, and the harness's launcher class; both open to
//! other tests that run Java programs ([`maven_classpath`], [`compile_java`]).
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
    maven_classpath(
        dir,
        &format!("kafka-{version}"),
        &[
            &format!("org.apache.kafka:kafka_2.13:{version}"),
            &format!("org.apache.logging.log4j:log4j-slf4j-impl:{LOG4J_VERSION}"),
            &format!("org.apache.logging.log4j:log4j-core:{LOG4J_VERSION}"),
        ],
    )
}

/// The runtime classpath of Maven `artifacts` (coordinates `group:artifact:version`) and their
/// dependencies, as one `java -cp` argument (entries joined with the platform's separator).
///
/// Resolved by `mvn dependency:build-classpath` on a generated pom in `dir/name`, with whatever
/// repositories Maven's settings name; the list is cached there as `classpath.txt` and reused
/// while every jar it names exists. One resolution at a time per process; concurrent processes
/// each write their own files and rename the result into place.
///
/// # Errors
/// [`Error::Config`] for a coordinate that is not `group:artifact:version`, [`Error::Tool`]
/// when `mvn` cannot be started, [`Error::Maven`] when it fails (with the end of its output),
/// [`Error::Io`] for the files in `dir/name`.
pub fn maven_classpath(dir: &Path, name: &str, artifacts: &[&str]) -> Result<String> {
    let mut dependencies = String::new();
    for coordinate in artifacts {
        let parts: Vec<&str> = coordinate.split(':').collect();
        let [group, artifact, version] = parts[..] else {
            return Err(Error::Config(format!("Maven coordinate {coordinate:?} is not group:artifact:version")));
        };
        if [group, artifact, version].iter().any(|p| p.is_empty() || p.contains(['<', '>', '&'])) {
            return Err(Error::Config(format!("Maven coordinate {coordinate:?}")));
        }
        dependencies.push_str(&format!(
            "    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version></dependency>\n"
        ));
    }
    let _one = RESOLVING.lock().unwrap_or_else(|e| e.into_inner());
    let work = dir.join(name);
    let cached = work.join("classpath.txt");
    if let Ok(text) = std::fs::read_to_string(&cached) {
        let text = text.trim();
        if !text.is_empty() && std::env::split_paths(text).all(|p| p.is_file()) {
            return Ok(text.to_owned());
        }
    }
    std::fs::create_dir_all(&work).map_err(io("cannot create", &work))?;
    let pom = format!(
        "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <modelVersion>4.0.0</modelVersion>\n  \
         <groupId>kafka-wire.harness</groupId>\n  <artifactId>classpath</artifactId>\n  <version>0</version>\n  \
         <dependencies>\n{dependencies}  </dependencies>\n</project>\n",
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
        return Err(Error::Maven { artifact: artifacts.join(" "), output: tail(&log, 30) });
    }
    let text = std::fs::read_to_string(&out_path).map_err(io("cannot read the classpath mvn wrote to", &out_path))?;
    std::fs::rename(&out_path, &cached).map_err(io("cannot rename the classpath list to", &cached))?;
    Ok(text.trim().to_owned())
}

/// The directory holding the compiled launcher (compiled once per launcher source).
pub(crate) fn launcher(dir: &Path) -> Result<PathBuf> {
    compile_java(dir, LAUNCHER_CLASS, LAUNCHER_SOURCE, "")
}

/// Compiles the Java source `source` of the public class `class` (one file, `javac` against
/// `classpath`, which may be empty) into `dir/<class>-<hash>`, and returns that directory, to
/// put on a `java -cp` line. The hash covers the source and the classpath, so an unchanged
/// program is compiled once and a changed one again; concurrent compilations each use a
/// directory of their own and the first to finish is kept.
///
/// # Errors
/// [`Error::Tool`] when `javac` cannot be started, [`Error::Javac`] when it fails (with its
/// messages), [`Error::Io`] for the files in `dir`.
pub fn compile_java(dir: &Path, class: &str, source: &str, classpath: &str) -> Result<PathBuf> {
    if class.is_empty() || !class.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::Config(format!("Java class name {class:?} (one public class, no package)")));
    }
    let _one = RESOLVING.lock().unwrap_or_else(|e| e.into_inner());
    let mut key = source.as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(classpath.as_bytes());
    let done = dir.join(format!("{class}-{:016x}", fnv1a(&key)));
    if done.join(format!("{class}.class")).is_file() {
        return Ok(done);
    }
    let work = dir.join(format!("{class}-tmp-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(io("cannot create", &work))?;
    let file = work.join(format!("{class}.java"));
    std::fs::write(&file, source).map_err(io("cannot write", &file))?;
    let mut javac = Command::new("javac");
    javac.args(["-nowarn", "-encoding", "UTF-8", "-d"]).arg(&work);
    if !classpath.is_empty() {
        javac.arg("-cp").arg(classpath);
    }
    let output = javac.arg(&file).output().map_err(|source| Error::Tool { tool: "javac", source })?;
    if !output.status.success() {
        let _ = std::fs::remove_dir_all(&work);
        return Err(Error::Javac {
            class: class.to_owned(),
            output: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
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
