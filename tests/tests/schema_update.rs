//! A schema update as a maintainer meets it: generate from Apache Kafka 3.8.0, then from the
//! primary set (4.4.0), both fetched as releases (`cargo xtask schemas fetch`), and check that
//! the generated tree changes exactly as the schema diff (`cargo xtask schemas diff`) says:
//! APIs added and removed appear and disappear as whole modules, versions added and removed as
//! version files, schemas that did not change give unchanged code; and that the crate
//! generated from the older set still compiles.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const OLD: &str = "kafka-3.8.0";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The folder of a fetched set (`None`: the primary one).
fn set(name: Option<&str>) -> PathBuf {
    xtask::sets::require(name)
}

fn generate(name: Option<&str>) -> xtask::Generated {
    let dir = set(name);
    xtask::generate(&dir.join("message"), &dir.join("errors.tsv"), name.unwrap_or("primary")).unwrap()
}

/// File text without the two header lines (they name the source, which differs).
fn body(text: &str) -> &str {
    text.splitn(3, '\n').nth(2).unwrap()
}

fn top_dir(path: &str) -> &str {
    path.split('/').next().unwrap()
}

/// Generated files per module folder: `fetch` → {`mod.rs`, `v4.rs`, ...}.
fn files_by_module(g: &xtask::Generated) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in g.files.keys() {
        if let Some((dir, file)) = path.split_once('/') {
            out.entry(dir.to_owned()).or_default().insert(file.to_owned());
        }
    }
    out
}

#[test]
fn updating_from_3_8_to_the_pinned_release_changes_what_the_diff_says() {
    let (old, new) = (generate(Some(OLD)), generate(None));
    let (old_versions, new_versions) =
        (xtask::diff::module_versions(&old.model), xtask::diff::module_versions(&new.model));
    let module = |name: &str| xtask::naming::module_name(name);

    // Whole modules come and go with the APIs and schemas the diff adds and removes.
    let (old_files, new_files) = (files_by_module(&old), files_by_module(&new));
    let added: BTreeSet<String> =
        new_versions.keys().filter(|n| !old_versions.contains_key(*n)).map(|n| module(n)).collect();
    let removed: BTreeSet<String> =
        old_versions.keys().filter(|n| !new_versions.contains_key(*n)).map(|n| module(n)).collect();
    let dirs = |f: &BTreeMap<String, BTreeSet<String>>| f.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(dirs(&new_files).difference(&dirs(&old_files)).cloned().collect::<BTreeSet<_>>(), added);
    assert_eq!(dirs(&old_files).difference(&dirs(&new_files)).cloned().collect::<BTreeSet<_>>(), removed);
    // What this update is known to bring: share groups, streams groups, raft voters; the four
    // inter-broker APIs of ZooKeeper mode are gone (their files remain with validVersions none).
    for m in ["share_fetch", "streams_group_heartbeat", "add_raft_voter", "unregister_controller"] {
        assert!(added.contains(m), "{m} should be new: {added:?}");
    }
    assert_eq!(
        new.model.removed_apis.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["LeaderAndIsr", "StopReplica", "UpdateMetadata", "ControlledShutdown"]
    );
    for m in ["leader_and_isr", "stop_replica", "update_metadata", "controlled_shutdown"] {
        assert!(removed.contains(m), "{m} should be gone: {removed:?}");
    }

    // Within a module present in both, version files follow the versions the diff lists.
    let mut checked = 0;
    for (name, new_vs) in &new_versions {
        let Some(old_vs) = old_versions.get(name) else { continue };
        let dir = module(name);
        let version_files = |vs: &BTreeSet<i16>| vs.iter().map(|v| format!("v{v}.rs")).collect::<BTreeSet<_>>();
        let mut want_new = version_files(new_vs);
        want_new.extend(["mod.rs".to_owned(), "version_free.rs".to_owned()]);
        assert_eq!(new_files[&dir], want_new, "{dir}");
        let gained: BTreeSet<_> = new_vs.difference(old_vs).collect();
        let lost: BTreeSet<_> = old_vs.difference(new_vs).collect();
        let files_gained: BTreeSet<_> = new_files[&dir].difference(&old_files[&dir]).cloned().collect();
        let files_lost: BTreeSet<_> = old_files[&dir].difference(&new_files[&dir]).cloned().collect();
        assert_eq!(files_gained, gained.iter().map(|v| format!("v{v}.rs")).collect::<BTreeSet<_>>(), "{dir}");
        assert_eq!(files_lost, lost.iter().map(|v| format!("v{v}.rs")).collect::<BTreeSet<_>>(), "{dir}");
        checked += 1;
    }
    assert!(checked > 70, "only {checked} modules compared");
    // Known version changes of this update (KIP-896 removed the oldest versions in 4.0).
    assert_eq!(new_versions["Fetch"].iter().copied().collect::<Vec<_>>(), (4..=18).collect::<Vec<_>>());
    assert_eq!(*new_versions["Produce"].first().unwrap(), 3);
    assert!(new_files["produce"].contains("v13.rs") && !new_files["produce"].contains("v2.rs"));

    // The report names the same changes.
    let report = xtask::diff::report_dirs(&set(Some(OLD)), &set(None)).unwrap();
    assert!(report.contains("- ShareFetch (key 78): versions 1–2"), "{report}");
    assert!(report.contains("- ControlledShutdown (key 7), versions 0–3: its schema files remain"), "{report}");
    assert!(report.contains("versions 0–16 → 4–18"), "{report}");

    // An API the diff calls unchanged generates the same code, but for its documentation
    // (schema `about` texts may change without a wire change).
    let code = |text: &str| -> String {
        body(text).lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
    };
    let unchanged = xtask::diff::unchanged_apis(&old.model, &new.model);
    for name in &unchanged {
        let dir = module(name);
        for (path, text) in old.files.iter().filter(|(p, _)| top_dir(p) == dir) {
            assert_eq!(code(text), code(&new.files[path]), "{path} changed although the diff says its API did not");
        }
    }
    assert!(unchanged.len() > 20, "only {} unchanged APIs: the comparison is not exercised", unchanged.len());
    assert!(report.contains(&format!("Unchanged ({}): ", unchanged.len())), "{report}");
}

#[test]
fn the_crate_generated_from_kafka_3_8_compiles() {
    let old = generate(Some(OLD));
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    // A copy of the workspace holding only the generated crate, with its runtime, and the
    // generated tree replaced by the 3.8 one.
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    // The workspace manifest without its profiles (they name packages this copy lacks).
    let manifest: String = manifest
        .lines()
        .take_while(|l| !l.starts_with("[profile"))
        .filter(|l| !l.starts_with("default-members"))
        .map(|l| if l.starts_with("members") { "members = [\"kafka-wire\"]" } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(ws.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root().join("Cargo.lock"), ws.join("Cargo.lock")).unwrap();
    copy_dir(&root().join("kafka-wire"), &ws.join("kafka-wire"), &["messages", "target"]);
    let messages = ws.join("kafka-wire/src/messages");
    xtask::output::sync_dir(&messages, &old.files, xtask::output::Mode::Write).unwrap();
    xtask::output::sync_features(&ws.join("kafka-wire/Cargo.toml"), &old.features, xtask::output::Mode::Write).unwrap();

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
