//! The Java oracle's client side: compiles `tests/java-oracle/src/*.java` once (javac, into the
//! target directory, again only when a source or the classpath changes), resolves Kafka's jars
//! through `mvn` as `cargo xtask schemas fetch` does (`xtask::maven`, cached by Maven and in the
//! target directory), and starts one JVM per test binary, spoken to one line at a time over its
//! stdin/stdout. The JVM exits when its stdin closes, which happens when the test process exits
//! however it ends (a panic included).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use xtask::maven::{self, Coordinates};

/// Jackson, which Kafka's `*JsonConverter` classes need and `kafka-clients` does not bring:
/// the version Apache Kafka 4.4.0's own modules depend on.
const JACKSON: [&str; 3] = [
    "com.fasterxml.jackson.core:jackson-databind:2.21.7",
    "com.fasterxml.jackson.core:jackson-core:2.21.7",
    "com.fasterxml.jackson.core:jackson-annotations:2.21",
];

/// The running JVM.
pub struct Oracle {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Resolving the classpath (mvn, or the cached list) and compiling (javac, or the stamp).
    pub setup_cost: Duration,
    /// From spawning `java` to its first line (the JVM up, the oracle's class loaded).
    pub start_cost: Duration,
    /// Questions answered so far.
    pub calls: usize,
}

static ORACLE: OnceLock<Mutex<Oracle>> = OnceLock::new();

/// The JVM of this test binary, started on first use.
pub fn oracle() -> MutexGuard<'static, Oracle> {
    let m = ORACLE.get_or_init(|| Mutex::new(Oracle::start()));
    // A test that panicked while holding it leaves it usable: every exchange is one line each way.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn work_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("java-oracle")
}

/// Kafka's jars: kafka-clients of the pinned set (the artifact its `errors.tsv` comes from)
/// with its runtime dependencies (the codecs), and Jackson.
fn classpath(work: &Path) -> String {
    let set = xtask::sets::require(None);
    let pin = xtask::pin::Pin::load(&set).unwrap_or_else(|e| panic!("{e:#}"));
    let clients = pin.errors.expect("the pinned set names the kafka-clients artifact of its errors.tsv");
    let jackson: Vec<Coordinates> = JACKSON.iter().map(|c| c.parse().unwrap()).collect();
    let key = format!("{clients} {}", JACKSON.join(" "));
    let cached = work.join("classpath.txt");
    if let Ok(text) = std::fs::read_to_string(&cached) {
        if let Some((k, cp)) = text.split_once('\n') {
            if k == key && std::env::split_paths(cp).all(|p| p.is_file()) {
                return cp.to_owned();
            }
        }
    }
    let refs: Vec<&Coordinates> = jackson.iter().collect();
    let resolved = maven::resolve(&refs, Some(&clients), &work.join("maven"))
        .unwrap_or_else(|e| panic!("resolving Kafka's jars for the Java oracle: {e:#}"));
    let cp = std::env::join_paths(&resolved.classpath).unwrap().into_string().unwrap();
    std::fs::write(&cached, format!("{key}\n{cp}")).unwrap();
    cp
}

/// Compiles the sources into `work/classes` unless the stamp says they are unchanged.
fn compile(work: &Path, cp: &str) -> PathBuf {
    let src = xtask::workspace_root().join("tests/java-oracle/src");
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "java"))
        .collect();
    sources.sort();
    let mut stamp = cp.to_owned();
    for s in &sources {
        stamp.push_str(&xtask::pin::sha256_hex(&std::fs::read(s).unwrap()));
    }
    let classes = work.join("classes");
    let stamp_file = classes.join("stamp");
    if std::fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp) {
        return classes;
    }
    let _ = std::fs::remove_dir_all(&classes);
    std::fs::create_dir_all(&classes).unwrap();
    let out = Command::new("javac")
        .args(["-encoding", "UTF-8", "-nowarn", "-d"])
        .arg(&classes)
        .arg("-cp")
        .arg(cp)
        .args(&sources)
        .output()
        .expect("running javac (a JDK 17 on PATH; .ci/run installs one)");
    assert!(out.status.success(), "javac failed:\n{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&stamp_file, stamp).unwrap();
    classes
}

impl Oracle {
    fn start() -> Oracle {
        let work = work_dir();
        std::fs::create_dir_all(&work).unwrap();
        let setup = Instant::now();
        let cp = classpath(&work);
        let classes = compile(&work, &cp);
        let setup_cost = setup.elapsed();
        let full = std::env::join_paths(std::iter::once(classes).chain(std::env::split_paths(&cp))).unwrap();
        // Kafka's classes may print (slf4j's notice); kept out of the test output.
        let log = std::fs::File::create(work.join("stderr.log")).unwrap();
        let begun = Instant::now();
        let mut child = Command::new("java")
            .args(["-Xss4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp"])
            .arg(full)
            .arg("Oracle")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("starting java (a JDK 17 on PATH; .ci/run installs one)");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert_eq!(first.trim(), "ready", "the Java oracle did not start (see {})", work.display());
        Oracle { child, stdin, stdout, setup_cost, start_cost: begun.elapsed(), calls: 0 }
    }

    /// One question: `Ok(answer)` for `ok answer`, `Err(reason)` for `err reason`.
    pub fn ask(&mut self, question: &str) -> Result<String, String> {
        writeln!(self.stdin, "{question}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).unwrap();
        if n == 0 {
            let status = self.child.try_wait();
            panic!("the Java oracle ended ({status:?}) on: {}", &question[..question.len().min(200)]);
        }
        self.calls += 1;
        let line = line.trim_end_matches('\n');
        if let Some(ok) = line.strip_prefix("ok ") {
            Ok(ok.to_owned())
        } else if let Some(err) = line.strip_prefix("err ") {
            Err(err.to_owned())
        } else {
            panic!("the Java oracle answered {line:?}")
        }
    }
}

/// Bytes on the oracle's command line: hex, `-` for none.
pub fn wire(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        "-".to_owned()
    } else {
        hex::encode(bytes)
    }
}

/// The inverse of [`wire`].
pub fn unwire(s: &str) -> Vec<u8> {
    if s == "-" {
        Vec::new()
    } else {
        hex::decode(s).unwrap()
    }
}

/// What Java's `read` answered.
#[derive(Debug)]
pub struct JavaRead {
    /// Bytes the Data class left unread.
    pub left: usize,
    /// Its own encoding of what it read, or why writing failed.
    pub written: Result<Vec<u8>, String>,
    /// Its JsonConverter's output.
    pub json: String,
}

/// Java's `*Data` class of `kind` reads `bytes` at `version`.
pub fn java_read(kind: &str, version: i16, bytes: &[u8]) -> Result<JavaRead, String> {
    let answer = oracle().ask(&format!("read {kind} {version} {}", wire(bytes)))?;
    let mut parts = answer.splitn(3, ' ');
    let left = parts.next().unwrap().parse().unwrap();
    let written = parts.next().unwrap();
    let written = match written.strip_prefix('!') {
        Some(why) => Err(why.replace('_', " ")),
        None => Ok(unwire(written)),
    };
    Ok(JavaRead { left, written, json: parts.next().unwrap_or_default().to_owned() })
}
