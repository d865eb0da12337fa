//! A schema update as a maintainer meets it: generate from Kafka 3.8.0, then from the pinned
//! 4.0 development set, and check that exactly what the schema change implies changes (new
//! APIs appear, bumped APIs gain version files, nothing disappears, untouched schemas give
//! untouched code), and that the crate generated from the older set still compiles.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn shared(set: &str) -> PathBuf {
    root().join("../shared/kafka-schemas").join(set)
}

fn generate(set: &str) -> xtask::Generated {
    let errors = shared("kafka-4.0-dev-1eb7644").join("errors.tsv");
    xtask::generate(&shared(set).join("message"), &errors, set).unwrap()
}

/// File text without the two header lines (they name the source, which differs).
fn body(text: &str) -> &str {
    text.splitn(3, '\n').nth(2).unwrap()
}

fn top_dir(path: &str) -> &str {
    path.split('/').next().unwrap()
}

#[test]
fn updating_from_3_8_to_4_0_changes_what_it_should() {
    let old = generate("kafka-3.8.0");
    let new = generate("kafka-4.0-dev-1eb7644");

    // Nothing disappears.
    let removed: Vec<&String> = old.files.keys().filter(|p| !new.files.contains_key(*p)).collect();
    assert!(removed.is_empty(), "files removed: {removed:?}");

    // New APIs appear as whole modules: the share-group and raft-voter APIs.
    let old_dirs: BTreeSet<&str> = old.files.keys().map(|p| top_dir(p)).collect();
    let new_dirs: BTreeSet<&str> = new.files.keys().map(|p| top_dir(p)).collect();
    let added_dirs: Vec<&str> = new_dirs.difference(&old_dirs).copied().collect();
    assert_eq!(
        added_dirs,
        [
            "add_raft_voter",
            "delete_share_group_state",
            "initialize_share_group_state",
            "read_share_group_state",
            "read_share_group_state_summary",
            "remove_raft_voter",
            "share_acknowledge",
            "share_fetch",
            "share_group_describe",
            "share_group_heartbeat",
            "update_raft_voter",
            "write_share_group_state",
        ]
    );

    // APIs that gained versions gain exactly those version files.
    // (module, highest version) of every API and header/data schema.
    let maxima = |g: &xtask::Generated| -> BTreeMap<String, i16> {
        let apis = g.model.apis.iter().map(|a| (a.name.clone(), a.max_version));
        let others = g.model.standalone.iter().map(|m| (m.name.clone(), m.versions.last().unwrap().version));
        apis.chain(others).map(|(n, v)| (xtask::naming::module_name(&n), v)).collect()
    };
    let old_max = maxima(&old);
    let mut expected_new_files = BTreeSet::new();
    for (dir, max) in maxima(&new) {
        if let Some(&old) = old_max.get(&dir) {
            for v in old + 1..=max {
                expected_new_files.insert(format!("{dir}/v{v}.rs"));
            }
        }
    }
    let new_files: BTreeSet<String> = new
        .files
        .keys()
        .filter(|p| !old.files.contains_key(*p) && !added_dirs.contains(&top_dir(p)))
        .cloned()
        .collect();
    assert_eq!(new_files, expected_new_files);
    assert!(new_files.contains("fetch/v17.rs") && new_files.contains("list_offsets/v10.rs"));

    // A module whose schemas did not change generates the same code.
    let schema_text = |set: &str, file: &str| std::fs::read(shared(set).join("message").join(file)).ok();
    let mut unchanged = 0;
    for api in &old.model.apis {
        let files = [format!("{}Request.json", api.name), format!("{}Response.json", api.name)];
        let same = files.iter().all(|f| schema_text("kafka-3.8.0", f) == schema_text("kafka-4.0-dev-1eb7644", f));
        let dir = xtask::naming::module_name(&api.name);
        if same {
            for (path, text) in old.files.iter().filter(|(p, _)| top_dir(p) == dir) {
                assert_eq!(body(text), body(&new.files[path]), "{path} changed although its schemas did not");
            }
            unchanged += 1;
        }
    }
    assert!(unchanged > 40, "only {unchanged} unchanged APIs: the comparison is not exercised");
}

#[test]
fn the_crate_generated_from_kafka_3_8_compiles() {
    let old = generate("kafka-3.8.0");
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    // A copy of the workspace holding only the generated crate, with its runtime, and the
    // generated tree replaced by the 3.8 one.
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let manifest: String = manifest
        .lines()
        .filter(|l| {
            !l.starts_with("default-members") && !l.starts_with("[profile.dev.package") && !l.starts_with("opt-level")
        })
        .map(|l| if l.starts_with("members") { "members = [\"generated\"]" } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(ws.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root().join("Cargo.lock"), ws.join("Cargo.lock")).unwrap();
    copy_dir(&root().join("generated"), &ws.join("generated"), &["messages", "target"]);
    let messages = ws.join("generated/src/messages");
    xtask::output::sync_dir(&messages, &old.files, xtask::output::Mode::Write).unwrap();
    xtask::output::sync_features(&ws.join("generated/Cargo.toml"), &old.features, xtask::output::Mode::Write).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(ws)
        .args(["check", "--quiet", "--offline", "-p", "kafka-wire", "--all-features", "--lib"])
        .env("CARGO_TARGET_DIR", root().join("target/schema-update-check"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn copy_dir(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name), skip);
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}
