//! The schema pin: which Kafka commit the project is generated from, and the SHA-256 of every
//! file of that set. `kafka-schemas/PIN` and `kafka-schemas/SHA256SUMS` are committed; the JSON
//! itself is imported (`schemas import DIR`) or fetched from git (`schemas fetch`) and verified.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, ensure, Context, Result};
use sha2::{Digest, Sha256};

/// `kafka-schemas/PIN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The name of the set, e.g. `kafka-4.0-dev-1eb7644`.
    pub name: String,
    /// Where the schemas come from.
    pub repository: String,
    /// The pinned commit.
    pub commit: String,
    /// The folder of `message/` in that repository.
    pub path: String,
    /// Relative path (`message/X.json`, `errors.tsv`) → SHA-256 hex.
    pub digests: BTreeMap<String, String>,
}

impl Pin {
    /// Reads `PIN` and `SHA256SUMS` from `dir` (the project's `kafka-schemas/`).
    pub fn load(dir: &Path) -> Result<Pin> {
        let pin_path = dir.join("PIN");
        let text = fs::read_to_string(&pin_path).with_context(|| format!("reading {}", pin_path.display()))?;
        let mut keys = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| anyhow!("{} line {}: expected `key value`", pin_path.display(), n + 1))?;
            keys.insert(k.to_owned(), v.trim().to_owned());
        }
        let mut take = |k: &str| keys.remove(k).ok_or_else(|| anyhow!("{}: missing `{k}`", pin_path.display()));
        let (name, repository, commit, path) = (take("name")?, take("repository")?, take("commit")?, take("path")?);
        ensure!(keys.is_empty(), "{}: unknown keys {:?}", pin_path.display(), keys.keys().collect::<Vec<_>>());
        ensure!(
            commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "{}: commit must be 40 hex digits",
            pin_path.display()
        );
        let sums_path = dir.join("SHA256SUMS");
        let sums = fs::read_to_string(&sums_path).with_context(|| format!("reading {}", sums_path.display()))?;
        let mut digests = BTreeMap::new();
        for (n, line) in sums.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (digest, file) = line
                .split_once("  ")
                .ok_or_else(|| anyhow!("{} line {}: expected `<sha256>  <path>`", sums_path.display(), n + 1))?;
            ensure!(
                digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
                "{} line {}: bad digest",
                sums_path.display(),
                n + 1
            );
            digests.insert(file.to_owned(), digest.to_ascii_lowercase());
        }
        ensure!(!digests.is_empty(), "{}: no digests", sums_path.display());
        Ok(Pin { name, repository, commit, path, digests })
    }

    /// The digests of the files under `message/`.
    pub fn message_files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.digests.iter().filter(|(p, _)| p.starts_with("message/")).map(|(p, d)| (p.as_str(), d.as_str()))
    }

    /// How the generated files name their source.
    pub fn source(&self) -> String {
        format!("Apache Kafka schemas `{}` at commit {} (kafka-schemas/PIN)", self.name, self.commit)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the files of `pin` under `root` (which holds `message/` and `errors.tsv`).
/// `only_messages` skips `errors.tsv`. Also rejects `message/*.json` files the pin does not list.
pub fn verify(pin: &Pin, root: &Path, only_messages: bool) -> Result<()> {
    for (rel, want) in &pin.digests {
        if only_messages && !rel.starts_with("message/") {
            continue;
        }
        let path = root.join(rel);
        let bytes = fs::read(&path)
            .with_context(|| format!("{}: missing (pinned in kafka-schemas/SHA256SUMS)", path.display()))?;
        let got = sha256_hex(&bytes);
        if &got != want {
            bail!("{}: SHA-256 {got} does not match the pin {want}", path.display());
        }
    }
    let msg_dir = root.join("message");
    if msg_dir.is_dir() {
        for entry in fs::read_dir(&msg_dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !pin.digests.contains_key(&format!("message/{name}")) {
                bail!("{}: not in the pin", msg_dir.join(&name).display());
            }
        }
    }
    Ok(())
}

/// Copies the pinned files from `from` (a schema set: `message/`, `errors.tsv`) into `to` (the
/// project's `kafka-schemas/`), after verifying every one of them.
pub fn import(pin: &Pin, from: &Path, to: &Path) -> Result<usize> {
    verify(pin, from, false)?;
    install(pin, from, to, false)
}

/// Replaces `to/message/` (and `to/errors.tsv` unless `only_messages`) with the pinned files
/// from `from`, which must already be verified.
fn install(pin: &Pin, from: &Path, to: &Path, only_messages: bool) -> Result<usize> {
    let msg = to.join("message");
    if msg.exists() {
        fs::remove_dir_all(&msg)?;
    }
    fs::create_dir_all(&msg)?;
    let mut n = 0;
    for rel in pin.digests.keys() {
        if only_messages && !rel.starts_with("message/") {
            continue;
        }
        fs::copy(from.join(rel), to.join(rel)).with_context(|| format!("copying {rel}"))?;
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

/// Fetches the pinned commit's `message/` folder from `repository` (shallow, sparse, blobs
/// only for that folder) into `to/message/`, verified against the pin. `errors.tsv` is not in
/// Kafka's repository; it comes from `schemas import`.
pub fn fetch(pin: &Pin, repository: &str, to: &Path) -> Result<usize> {
    let work = tempdir_in(to)?;
    let result = (|| {
        git(&work, &["init", "--quiet"])?;
        git(&work, &["remote", "add", "origin", repository])?;
        git(&work, &["sparse-checkout", "set", "--no-cone", &format!("/{}/*.json", pin.path)])?;
        git(&work, &["fetch", "--quiet", "--depth", "1", "--filter=blob:none", "origin", &pin.commit])?;
        git(&work, &["checkout", "--quiet", "FETCH_HEAD"])?;
        let staged = work.join("staged");
        fs::create_dir_all(staged.join("message"))?;
        for (rel, _) in pin.message_files() {
            let name = rel.strip_prefix("message/").unwrap();
            let src = work.join(&pin.path).join(name);
            fs::copy(&src, staged.join(rel))
                .with_context(|| format!("{}: not at commit {}", src.display(), pin.commit))?;
        }
        verify(pin, &staged, true)?;
        install(pin, &staged, to, true)
    })();
    let _ = fs::remove_dir_all(&work);
    result
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
