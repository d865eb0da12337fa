//! Schema pins: which Apache Kafka schema files a set holds, where each folder of it comes from,
//! and the SHA-256 of every file.
//!
//! A set lives in a folder with two committed files, `PIN` and `SHA256SUMS`; the schema files
//! themselves are fetched ([`fetch`]: Maven artifacts of a release, or a git commit) or imported
//! ([`import`]) next to them, and are ignored by git. The project's primary set is
//! `kafka-schemas/`; the older sets the tests compare with are `kafka-schemas/sets/<name>/`.
//!
//! `PIN` is one `key value...` line per entry (`#` starts a comment line):
//!
//! ```text
//! name   kafka-4.4.0
//! maven  message  org.apache.kafka:kafka-clients:4.4.0  common/message
//! git    message  https://github.com/apache/kafka.git  <40-hex commit>  clients/src/main/resources/common/message
//! errors org.apache.kafka:kafka-clients:4.4.0
//! ```
//!
//! `maven FOLDER GROUP:ARTIFACT:VERSION[:CLASSIFIER] PATH` fills `FOLDER` with the `*.json` files
//! directly under `PATH` in that jar; `git FOLDER REPOSITORY COMMIT PATH` with those under `PATH`
//! at that commit; `errors COORDINATES` makes `errors.tsv` from Kafka's `Errors` enum in that
//! artifact (see [`crate::maven::errors_table`]). Without an `errors` line, `errors.tsv` only
//! comes from `import`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, ensure, Context, Result};
use sha2::{Digest, Sha256};

use crate::maven::{self, Coordinates};

/// The file of a set holding its error codes.
pub const ERRORS_FILE: &str = "errors.tsv";

/// A set's `PIN` and `SHA256SUMS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The name of the set, e.g. `kafka-4.4.0`.
    pub name: String,
    /// Where each folder of the set comes from, in `PIN` order.
    pub sources: Vec<Source>,
    /// The artifact whose `Errors` enum gives `errors.tsv`, if any.
    pub errors: Option<Coordinates>,
    /// Relative path (`message/X.json`, `data/metadata/Y.json`, `errors.tsv`) → SHA-256 hex.
    pub digests: BTreeMap<String, String>,
}

/// One folder of a set and where its files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The folder inside the set, e.g. `message` or `data/metadata`.
    pub folder: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The `*.json` files directly under `path` in a jar from Maven.
    Maven { artifact: Coordinates, path: String },
    /// The `*.json` files directly under `path` at `commit` of a git repository.
    Git { repository: String, commit: String, path: String },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Maven { artifact, path } => write!(f, "{artifact} ({path})"),
            Origin::Git { repository, commit, path } => write!(f, "{repository} at {commit} ({path})"),
        }
    }
}

impl Pin {
    /// Reads `PIN` and `SHA256SUMS` from a set's folder.
    pub fn load(dir: &Path) -> Result<Pin> {
        let pin_path = dir.join("PIN");
        let text = fs::read_to_string(&pin_path).with_context(|| format!("reading {}", pin_path.display()))?;
        let mut pin = Pin::parse(&text).with_context(|| pin_path.display().to_string())?;
        let sums_path = dir.join("SHA256SUMS");
        let sums = fs::read_to_string(&sums_path).with_context(|| format!("reading {}", sums_path.display()))?;
        pin.digests = parse_sums(&sums).with_context(|| sums_path.display().to_string())?;
        pin.check_digests_match_sources().with_context(|| sums_path.display().to_string())?;
        Ok(pin)
    }

    /// Reads only `PIN` (no digests): for `schemas repin`, which writes `SHA256SUMS`.
    pub fn load_without_digests(dir: &Path) -> Result<Pin> {
        let pin_path = dir.join("PIN");
        let text = fs::read_to_string(&pin_path).with_context(|| format!("reading {}", pin_path.display()))?;
        Pin::parse(&text).with_context(|| pin_path.display().to_string())
    }

    /// Parses the text of `PIN` (without digests).
    pub fn parse(text: &str) -> Result<Pin> {
        let mut name = None;
        let mut sources: Vec<Source> = Vec::new();
        let mut errors = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("line {}", n + 1);
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["name", v] => {
                    ensure!(name.replace((*v).to_owned()).is_none(), "{}: `name` given twice", at());
                }
                ["maven", folder, coords, path] => sources.push(Source {
                    folder: folder_name(folder).with_context(at)?,
                    origin: Origin::Maven {
                        artifact: coords.parse().with_context(at)?,
                        path: path.trim_matches('/').to_owned(),
                    },
                }),
                ["git", folder, repository, commit, path] => {
                    ensure!(
                        commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
                        "{}: the commit must be 40 hex digits",
                        at()
                    );
                    sources.push(Source {
                        folder: folder_name(folder).with_context(at)?,
                        origin: Origin::Git {
                            repository: (*repository).to_owned(),
                            commit: commit.to_ascii_lowercase(),
                            path: path.trim_matches('/').to_owned(),
                        },
                    })
                }
                ["errors", coords] => {
                    ensure!(
                        errors.replace(coords.parse().with_context(at)?).is_none(),
                        "{}: `errors` given twice",
                        at()
                    );
                }
                _ => bail!(
                    "{}: expected `name NAME`, `maven FOLDER G:A:V[:C] PATH`, `git FOLDER REPO COMMIT PATH` \
                     or `errors G:A:V`, found {line:?}",
                    at()
                ),
            }
        }
        let name = name.ok_or_else(|| anyhow!("missing `name`"))?;
        ensure!(!sources.is_empty(), "no `maven` or `git` source");
        let mut folders = BTreeSet::new();
        for s in &sources {
            ensure!(folders.insert(s.folder.as_str()), "folder {} has two sources", s.folder);
        }
        for a in &folders {
            for b in &folders {
                ensure!(a == b || !b.starts_with(&format!("{a}/")), "folder {b} lies inside folder {a}");
            }
        }
        Ok(Pin { name, sources, errors, digests: BTreeMap::new() })
    }

    /// Every digest must belong to a source folder (or be `errors.tsv`), and every folder must
    /// have at least one file.
    fn check_digests_match_sources(&self) -> Result<()> {
        ensure!(!self.digests.is_empty(), "no digests");
        for rel in self.digests.keys() {
            if rel == ERRORS_FILE {
                continue;
            }
            ensure!(self.folder_of(rel).is_some(), "{rel}: not in a folder of the pin");
        }
        for s in &self.sources {
            ensure!(self.files_of(&s.folder).next().is_some(), "folder {}: no files pinned", s.folder);
        }
        Ok(())
    }

    /// The source folder a pinned path is directly in.
    fn folder_of(&self, rel: &str) -> Option<&Source> {
        let (dir, file) = rel.rsplit_once('/')?;
        (file.ends_with(".json") && !file.contains('/')).then_some(())?;
        self.sources.iter().find(|s| s.folder == dir)
    }

    /// The pinned file names of `folder`.
    pub fn files_of<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.digests.keys().filter_map(move |rel| {
            let (dir, file) = rel.rsplit_once('/')?;
            (dir == folder).then_some(file)
        })
    }

    /// The folder of the request/response/header schemas, `message`.
    pub fn message_dir(&self, root: &Path) -> PathBuf {
        root.join("message")
    }

    /// How the generated files name their source.
    pub fn source(&self) -> String {
        let origin = self.sources.iter().find(|s| s.folder == "message").unwrap_or(&self.sources[0]);
        let from = match &origin.origin {
            Origin::Maven { artifact, .. } => format!("from {artifact}"),
            Origin::Git { commit, .. } => format!("at commit {commit}"),
        };
        format!("Apache Kafka schemas `{}` {from} (kafka-schemas/PIN)", self.name)
    }
}

fn folder_name(s: &str) -> Result<String> {
    let ok = !s.is_empty()
        && s.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    ensure!(ok, "invalid folder name {s:?}");
    Ok(s.to_owned())
}

fn parse_sums(text: &str) -> Result<BTreeMap<String, String>> {
    let mut digests = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (digest, file) =
            line.split_once("  ").ok_or_else(|| anyhow!("line {}: expected `<sha256>  <path>`", n + 1))?;
        ensure!(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()), "line {}: bad digest", n + 1);
        ensure!(
            digests.insert(file.to_owned(), digest.to_ascii_lowercase()).is_none(),
            "line {}: {file} repeated",
            n + 1
        );
    }
    Ok(digests)
}

/// The text of `SHA256SUMS` for `digests` (what `sha256sum` writes, sorted by path).
pub fn format_sums(digests: &BTreeMap<String, String>) -> String {
    digests.iter().map(|(file, digest)| format!("{digest}  {file}\n")).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the files of `pin` under `root`: every pinned file present with its digest, and no
/// `*.json` file in a pinned folder that the pin does not list. `errors.tsv` is checked when it
/// is pinned.
pub fn verify(pin: &Pin, root: &Path) -> Result<()> {
    for (rel, want) in &pin.digests {
        let path = root.join(rel);
        let bytes = fs::read(&path).with_context(|| format!("{}: missing (pinned in SHA256SUMS)", path.display()))?;
        let got = sha256_hex(&bytes);
        if &got != want {
            bail!("{}: SHA-256 {got} does not match the pin {want}", path.display());
        }
    }
    for s in &pin.sources {
        let dir = root.join(&s.folder);
        if !dir.is_dir() {
            continue;
        }
        for entry in fs::read_dir(&dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !pin.digests.contains_key(&format!("{}/{name}", s.folder)) {
                bail!("{}: not in the pin", dir.join(&name).display());
            }
        }
    }
    Ok(())
}

/// Copies the pinned files from `from` (a set: its folders and `errors.tsv`) into `to` after
/// verifying every one of them.
pub fn import(pin: &Pin, from: &Path, to: &Path) -> Result<usize> {
    verify(pin, from)?;
    install(pin, from, to)
}

/// Replaces every pinned folder of `to` (and `errors.tsv`) with the pinned files from `from`,
/// which must already be verified.
fn install(pin: &Pin, from: &Path, to: &Path) -> Result<usize> {
    for s in &pin.sources {
        let dir = to.join(&s.folder);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
    }
    let mut n = 0;
    for rel in pin.digests.keys() {
        fs::copy(from.join(rel), to.join(rel)).with_context(|| format!("copying {rel}"))?;
        n += 1;
    }
    Ok(n)
}

/// Fetches every folder of `pin` from its origin (Maven artifacts through `mvn`, git commits
/// through `git`), makes `errors.tsv` if the pin names an `errors` artifact, verifies all of it
/// against the pin, and only then installs it into `to`.
pub fn fetch(pin: &Pin, to: &Path) -> Result<usize> {
    let work = tempdir_in(to)?;
    let result = (|| {
        let staged = work.join("staged");
        stage(pin, &work, &staged)?;
        verify(pin, &staged)?;
        install(pin, &staged, to)
    })();
    let _ = fs::remove_dir_all(&work);
    result
}

/// Writes every file of the set's sources (whether pinned or not, so that [`verify`] names the
/// unexpected ones) into `staged`.
fn stage(pin: &Pin, work: &Path, staged: &Path) -> Result<()> {
    let maven_artifacts: Vec<&Coordinates> = pin
        .sources
        .iter()
        .filter_map(|s| match &s.origin {
            Origin::Maven { artifact, .. } => Some(artifact),
            Origin::Git { .. } => None,
        })
        .collect();
    let resolved = if maven_artifacts.is_empty() && pin.errors.is_none() {
        maven::Resolved::default()
    } else {
        maven::resolve(&maven_artifacts, pin.errors.as_ref(), &work.join("maven"))?
    };
    let mut checkouts: BTreeMap<(&str, &str), PathBuf> = BTreeMap::new();
    for s in &pin.sources {
        let dest = staged.join(&s.folder);
        fs::create_dir_all(&dest)?;
        match &s.origin {
            Origin::Maven { artifact, path } => {
                let jar = resolved.jars.get(artifact).ok_or_else(|| anyhow!("Maven did not resolve {artifact}"))?;
                let n = extract_json(jar, path, &dest)?;
                ensure!(n > 0, "{artifact}: no *.json files under {path}/ in {}", jar.display());
            }
            Origin::Git { repository, commit, .. } => {
                let key = (repository.as_str(), commit.as_str());
                if !checkouts.contains_key(&key) {
                    let paths: Vec<&str> = pin
                        .sources
                        .iter()
                        .filter_map(|o| match &o.origin {
                            Origin::Git { repository: r, commit: c, path } if r == repository && c == commit => {
                                Some(path.as_str())
                            }
                            _ => None,
                        })
                        .collect();
                    let dir = work.join(format!("git-{}", checkouts.len()));
                    git_checkout(repository, commit, &paths, &dir)?;
                    checkouts.insert(key, dir);
                }
            }
        }
        if let Origin::Git { repository, commit, path } = &s.origin {
            let src = checkouts[&(repository.as_str(), commit.as_str())].join(path);
            let mut n = 0;
            for entry in fs::read_dir(&src).with_context(|| format!("{}: not at commit {commit}", src.display()))? {
                let p = entry?.path();
                if p.extension().is_some_and(|e| e == "json") {
                    fs::copy(&p, dest.join(p.file_name().unwrap()))?;
                    n += 1;
                }
            }
            ensure!(n > 0, "{repository} at {commit}: no *.json files under {path}/");
        }
    }
    if let Some(errors) = &pin.errors {
        let table = maven::errors_table(errors, &resolved)?;
        fs::write(staged.join(ERRORS_FILE), table)?;
    }
    Ok(())
}

/// Extracts the `*.json` files directly under `path/` in `jar` into `dest`; returns how many.
pub fn extract_json(jar: &Path, path: &str, dest: &Path) -> Result<usize> {
    let file = fs::File::open(jar).with_context(|| format!("opening {}", jar.display()))?;
    let mut zip = zip::ZipArchive::new(file).with_context(|| format!("reading {}", jar.display()))?;
    let prefix = format!("{}/", path.trim_matches('/'));
    let mut n = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let full = entry.name().with_context(|| format!("{}: entry {i}", jar.display()))?.into_owned();
        let Some(name) = full.strip_prefix(&prefix) else { continue };
        if name.contains('/') || !name.ends_with(".json") || !entry.is_file() {
            continue;
        }
        let name = name.to_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).with_context(|| format!("{}: reading {full}", jar.display()))?;
        fs::write(dest.join(&name), bytes)?;
        n += 1;
    }
    Ok(n)
}

fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let out =
        Command::new("git").arg("-C").arg(dir).args(args).output().with_context(|| "running git (is it installed?)")?;
    if !out.status.success() {
        bail!("git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// A shallow, sparse checkout of `paths` at `commit` (only their blobs are fetched).
fn git_checkout(repository: &str, commit: &str, paths: &[&str], dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)?;
    git(dir, &["init", "--quiet"])?;
    git(dir, &["remote", "add", "origin", repository])?;
    let patterns: Vec<String> = paths.iter().map(|p| format!("/{p}/*.json")).collect();
    let mut args = vec!["sparse-checkout", "set", "--no-cone"];
    args.extend(patterns.iter().map(String::as_str));
    git(dir, &args)?;
    git(dir, &["fetch", "--quiet", "--depth", "1", "--filter=blob:none", "origin", commit])?;
    git(dir, &["checkout", "--quiet", "FETCH_HEAD"])
}

fn tempdir_in(parent: &Path) -> Result<PathBuf> {
    fs::create_dir_all(parent)?;
    for i in 0..1000 {
        let p = parent.join(format!(".fetch-{}-{i}", std::process::id()));
        if fs::create_dir(&p).is_ok() {
            return Ok(p);
        }
    }
    bail!("cannot create a temporary folder in {}", parent.display())
}

/// Writes `SHA256SUMS` for the files of `pin`'s folders (and `errors.tsv`) found under `root`:
/// how a maintainer pins a new set after reviewing it (`cargo xtask schemas pin`).
pub fn digests_of(pin: &Pin, root: &Path) -> Result<BTreeMap<String, String>> {
    let mut digests = BTreeMap::new();
    for s in &pin.sources {
        let dir = root.join(&s.folder);
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let p = entry?.path();
            if p.extension().is_some_and(|e| e == "json") {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                digests.insert(format!("{}/{name}", s.folder), sha256_hex(&fs::read(&p)?));
            }
        }
    }
    let errors = root.join(ERRORS_FILE);
    if errors.exists() {
        digests.insert(ERRORS_FILE.to_owned(), sha256_hex(&fs::read(&errors)?));
    }
    Ok(digests)
}

/// Fetches a set whose `SHA256SUMS` is not written yet (a new pin), without verifying, and
/// writes the digests of what it fetched: the first step of moving to a new Kafka release.
pub fn fetch_unpinned(pin: &Pin, to: &Path) -> Result<usize> {
    let work = tempdir_in(to)?;
    let result = (|| {
        let staged = work.join("staged");
        stage(pin, &work, &staged)?;
        let mut pinned = pin.clone();
        pinned.digests = digests_of(pin, &staged)?;
        pinned.check_digests_match_sources()?;
        fs::write(to.join("SHA256SUMS"), format_sums(&pinned.digests))?;
        install(&pinned, &staged, to)
    })();
    let _ = fs::remove_dir_all(&work);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_lines_parse() {
        let pin = Pin::parse(
            "# c\nname kafka-x\nmaven message org.apache.kafka:kafka-clients:4.4.0 common/message\n\
             maven test-message org.apache.kafka:kafka-clients:4.3.1:test common/message/\n\
             git data/raft file:///r 0123456789abcdef0123456789ABCDEF01234567 raft/src/main/resources/common/message\n\
             errors org.apache.kafka:kafka-clients:4.4.0\n",
        )
        .unwrap();
        assert_eq!(pin.name, "kafka-x");
        assert_eq!(pin.sources.len(), 3);
        assert_eq!(
            pin.sources[1].origin,
            Origin::Maven {
                artifact: "org.apache.kafka:kafka-clients:4.3.1:test".parse().unwrap(),
                path: "common/message".into()
            }
        );
        assert!(matches!(&pin.sources[2].origin, Origin::Git { commit, .. } if commit.ends_with("abcdef01234567")));
        assert!(pin.errors.is_some());
        for bad in [
            "maven message a:b:1 p\n",
            "name x\n",
            "name x\nmaven ../m a:b:1 p\n",
            "name x\nmaven m a:b p\n",
            "name x\nmaven m a:b:1 p\nmaven m a:b:2 p\n",
            "name x\nmaven m a:b:1 p\nmaven m/n a:b:2 p\n",
            "name x\ngit m r 123 p\n",
            "name x\nmaven m a:b:1 p\ncolour blue\n",
        ] {
            assert!(Pin::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
