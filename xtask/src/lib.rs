//! The generator of the `kafka-wire` crate, and the schema pin.
//!
//! A one-way pipeline: JSON schema ([`schema`], a strict serde mirror) → version-resolved model
//! ([`model`]) → Rust tokens ([`emit`], `quote!`) → prettyplease → files ([`output`]). Names come
//! from [`naming`]; every special case of the protocol is in [`special`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub mod buildtimes;
pub mod diff;
pub mod emit;
pub mod free;
pub mod maven;
pub mod model;
pub mod naming;
pub mod output;
pub mod pin;
pub mod schema;
pub mod sets;
pub mod special;
pub mod versions;

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The output of the pipeline.
pub struct Generated {
    pub model: model::Model,
    /// Path (relative to the output folder) → file text.
    pub files: BTreeMap<String, String>,
    /// The generated `[features]` lines of the crate's `Cargo.toml`.
    pub features: String,
}

/// Runs the pipeline over `message_dir` (the `*.json` files) and `errors_tsv`; `source` names
/// the schemas in every file's header.
pub fn generate(message_dir: &Path, errors_tsv: &Path, source: &str) -> Result<Generated> {
    let specs = schema::parse_dir(message_dir)?;
    let errors = std::fs::read_to_string(errors_tsv).with_context(|| format!("reading {}", errors_tsv.display()))?;
    let model = model::build(&specs, &errors)?;
    let files = output::render(emit::emit(&model)?, source)?;
    let features = output::features_block(&emit::features(&model));
    Ok(Generated { model, files, features })
}
