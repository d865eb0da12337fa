//! Apache Kafka's release artifacts, through Maven's own client (`mvn`, with whatever repository
//! its settings name; no address is written here), and the error table read off a release's
//! `Errors` enum by a short Java program (`xtask/java/ErrorsTable.java`).

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use anyhow::{anyhow, bail, ensure, Context, Result};

/// `group:artifact:version[:classifier]` of a jar.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Coordinates {
    pub group: String,
    pub artifact: String,
    pub version: String,
    pub classifier: Option<String>,
}

impl FromStr for Coordinates {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split(':').collect();
        let ok = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        ensure!(
            (3..=4).contains(&parts.len()) && parts.iter().all(ok),
            "invalid Maven coordinates {s:?} (expected group:artifact:version[:classifier])"
        );
        Ok(Coordinates {
            group: parts[0].to_owned(),
            artifact: parts[1].to_owned(),
            version: parts[2].to_owned(),
            classifier: parts.get(3).map(|c| (*c).to_owned()),
        })
    }
}

impl fmt::Display for Coordinates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.group, self.artifact, self.version)?;
        if let Some(c) = &self.classifier {
            write!(f, ":{c}")?;
        }
        Ok(())
    }
}

impl Coordinates {
    /// The jar's file name in a Maven repository.
    pub fn jar_name(&self) -> String {
        match &self.classifier {
            Some(c) => format!("{}-{}-{c}.jar", self.artifact, self.version),
            None => format!("{}-{}.jar", self.artifact, self.version),
        }
    }

    fn dependency_xml(&self, transitive: bool) -> String {
        let classifier = self.classifier.as_ref().map(|c| format!("<classifier>{c}</classifier>")).unwrap_or_default();
        let exclusions = if transitive {
            String::new()
        } else {
            "<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>".to_owned()
        };
        format!(
            "    <dependency><groupId>{}</groupId><artifactId>{}</artifactId><version>{}</version>{classifier}{exclusions}</dependency>\n",
            self.group, self.artifact, self.version
        )
    }
}

/// What [`resolve`] found.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// The jar of every requested artifact.
    pub jars: BTreeMap<Coordinates, PathBuf>,
    /// Every jar Maven resolved (the requested ones and the dependencies of the one asked for
    /// with its dependencies).
    pub classpath: Vec<PathBuf>,
}

/// Resolves `artifacts` (their jars alone) and `with_dependencies` (its jar and its runtime
/// dependencies) through `mvn dependency:build-classpath` in `work`, downloading into Maven's
/// local repository what is not there yet.
pub fn resolve(artifacts: &[&Coordinates], with_dependencies: Option<&Coordinates>, work: &Path) -> Result<Resolved> {
    fs::create_dir_all(work)?;
    let mut deps = String::new();
    let mut wanted = Vec::new();
    for a in with_dependencies.into_iter().chain(artifacts.iter().copied()) {
        if wanted.contains(&a) {
            continue;
        }
        wanted.push(a);
        deps.push_str(&a.dependency_xml(Some(a) == with_dependencies));
    }
    let pom = format!(
        "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <modelVersion>4.0.0</modelVersion>\n  \
         <groupId>kafka-wire.xtask</groupId>\n  <artifactId>schema-fetch</artifactId>\n  <version>0</version>\n  \
         <dependencies>\n{deps}  </dependencies>\n</project>\n"
    );
    fs::write(work.join("pom.xml"), pom)?;
    let classpath_file = work.join("classpath.txt");
    let out = Command::new(mvn())
        .current_dir(work)
        .args(["-q", "-B", "-f", "pom.xml", "dependency:build-classpath", "-Dmdep.includeScope=runtime"])
        .arg(format!("-Dmdep.outputFile={}", classpath_file.display()))
        .output()
        .context("running mvn (is Maven installed and on PATH?)")?;
    if !out.status.success() {
        let log = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        let names: Vec<String> = wanted.iter().map(|c| c.to_string()).collect();
        bail!("mvn could not resolve {}:\n{tail}", names.join(", "));
    }
    let text = fs::read_to_string(&classpath_file).context("reading the classpath mvn wrote")?;
    let classpath: Vec<PathBuf> = std::env::split_paths(text.trim()).collect();
    let mut jars = BTreeMap::new();
    for a in wanted {
        let tail: PathBuf = a.group.split('.').chain([a.artifact.as_str(), a.version.as_str()]).collect();
        let tail = tail.join(a.jar_name());
        let jar = classpath
            .iter()
            .find(|p| p.ends_with(&tail))
            .ok_or_else(|| anyhow!("Maven resolved no jar for {a} (expected …/{})", tail.display()))?;
        jars.insert(a.clone(), jar.clone());
    }
    Ok(Resolved { jars, classpath })
}

fn mvn() -> &'static str {
    if cfg!(windows) {
        "mvn.cmd"
    } else {
        "mvn"
    }
}

/// The text of `errors.tsv` (`code`, `name`, `retriable`, tab-separated, with a header line)
/// from the `Errors` enum of `artifact` (kafka-clients), which must be among the resolved jars;
/// the Java program runs on the whole classpath (the artifact and its dependencies).
pub fn errors_table(artifact: &Coordinates, resolved: &Resolved) -> Result<String> {
    let jar = resolved.jars.get(artifact).ok_or_else(|| anyhow!("Maven did not resolve {artifact}"))?;
    let program = crate::workspace_root().join("xtask/java/ErrorsTable.java");
    let cp = std::env::join_paths(&resolved.classpath).context("joining the classpath")?;
    let out = Command::new("java")
        .arg("-cp")
        .arg(cp)
        .arg(&program)
        .output()
        .context("running java (is a JDK 11+ installed and on PATH?)")?;
    if !out.status.success() {
        bail!("{} failed: {}", program.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    // The program names the jar the enum came from: it must be the pinned one.
    let from = String::from_utf8_lossy(&out.stderr);
    let from = from.lines().find_map(|l| l.strip_prefix("Errors loaded from ")).unwrap_or("");
    let want = jar.file_name().unwrap().to_string_lossy();
    ensure!(from.ends_with(want.as_ref()), "the Errors enum came from {from:?}, not from {want}");
    let text = String::from_utf8(out.stdout).context("the error table is not UTF-8")?;
    crate::model::parse_errors(&text).context("the error table the Java program printed")?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_parse_and_name_their_jar() {
        let c: Coordinates = "org.apache.kafka:kafka-clients:4.3.1:test".parse().unwrap();
        assert_eq!(c.jar_name(), "kafka-clients-4.3.1-test.jar");
        assert_eq!(c.to_string(), "org.apache.kafka:kafka-clients:4.3.1:test");
        for bad in ["a:b", "a:b:c:d:e", "a::c", "a:b:c d", "a:b:<c>"] {
            assert!(bad.parse::<Coordinates>().is_err(), "{bad:?}");
        }
    }
}
