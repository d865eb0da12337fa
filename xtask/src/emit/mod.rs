//! Emitters: model → Rust tokens. They read only the model (never JSON) and build code only
//! with `quote!`.

use anyhow::Result;
use proc_macro2::TokenStream;

use crate::model::Model;

mod api;
mod free;
mod root;
pub mod structs;

/// One file of the generated tree, before formatting.
pub struct GenFile {
    /// Path relative to the output folder, `/`-separated.
    pub path: String,
    pub tokens: TokenStream,
}

/// Every file of the generated tree, sorted by path.
pub fn emit(model: &Model) -> Result<Vec<GenFile>> {
    let mut files = vec![root::mod_rs(model), root::api_key_rs(model), root::error_code_rs(model)];
    for api in &model.apis {
        files.extend(api::api_files(api)?);
    }
    for m in &model.standalone {
        files.extend(api::standalone_files(m)?);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The API features for the generated crate's `Cargo.toml`: one per API and `all-apis`.
pub fn features(model: &Model) -> Vec<(String, Vec<String>)> {
    let names: Vec<String> = model.apis.iter().map(|a| crate::naming::feature_name(&a.name)).collect();
    let mut out = vec![("all-apis".to_owned(), names.clone())];
    out.extend(names.into_iter().map(|n| (n, Vec::new())));
    out
}
