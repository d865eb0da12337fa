//! Where the schema sets live: the primary set in `kafka-schemas/` (what the crate is generated
//! from) and the older sets the tests compare with in `kafka-schemas/sets/<name>/`. Each holds
//! its committed `PIN` and `SHA256SUMS`, and the fetched files beside them.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::pin::{self, Pin};

/// The command that fetches every set; errors about missing files name it.
pub const FETCH_COMMAND: &str = "cargo xtask schemas fetch";

/// `kafka-schemas/` of the workspace at `root`.
pub fn primary_dir(root: &Path) -> PathBuf {
    root.join("kafka-schemas")
}

/// The folder of every set: the primary first, then `kafka-schemas/sets/*` by name.
pub fn dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let primary = primary_dir(root);
    let mut out = vec![primary.clone()];
    let others = primary.join("sets");
    if others.is_dir() {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&others)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("PIN").is_file())
            .collect();
        dirs.sort();
        out.extend(dirs);
    }
    Ok(out)
}

/// Every set with its pin: the primary first, then `kafka-schemas/sets/*` by name.
pub fn all(root: &Path) -> Result<Vec<(PathBuf, Pin)>> {
    dirs(root)?.into_iter().map(|d| Ok((d.clone(), Pin::load(&d)?))).collect()
}

/// The folder of the set named `name` (a pin name such as `kafka-3.8.0`), or of the primary set
/// for `None`.
pub fn dir_of(root: &Path, name: Option<&str>) -> Result<(PathBuf, Pin)> {
    let sets = all(root)?;
    match name {
        None => Ok(sets.into_iter().next().unwrap()),
        Some(n) => match sets.into_iter().find(|(_, p)| p.name == n) {
            Some(s) => Ok(s),
            None => {
                bail!("no schema set named {n:?} (the primary set's kafka-schemas/PIN or kafka-schemas/sets/*/PIN)")
            }
        },
    }
}

/// The folder of a set whose files are fetched and match its pin; otherwise an error of one
/// sentence naming [`FETCH_COMMAND`]. For tests: `xtask::sets::fetched(None)` is the primary set.
pub fn fetched(name: Option<&str>) -> Result<PathBuf> {
    let root = crate::workspace_root();
    let (dir, pin) = dir_of(&root, name)?;
    pin::verify(&pin, &dir).map_err(|e| {
        anyhow::anyhow!(
            "the Kafka schema set `{}` is not fetched into {} ({e:#}): run `{FETCH_COMMAND}`",
            pin.name,
            dir.display()
        )
    })?;
    Ok(dir)
}

/// [`fetched`], panicking with its sentence: what a test calls first.
pub fn require(name: Option<&str>) -> PathBuf {
    match fetched(name).context("schema files missing") {
        Ok(d) => d,
        Err(e) => panic!("{:#}", e.root_cause()),
    }
}
