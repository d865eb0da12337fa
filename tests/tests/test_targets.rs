//! Every test file is compiled. The packages name their test targets themselves
//! (`autotests = false`, one binary per package: fewer links), so a new file in a `tests/` folder
//! that no target declares as a module would silently never run; this check catches it.

use std::fs;
use std::path::Path;

/// (package folder, folder of its test files): the files there are target roots (a `path` of a
/// `[[test]]` in the package's manifest, or the `main.rs` of a folder target) or modules a root
/// declares with `mod <file stem>;`.
const FOLDERS: &[(&str, &str)] = &[
    ("tests", "tests"),
    ("client", "tests"),
    ("mock-broker", "tests"),
    ("mock-broker", "tests/differential"),
    ("interop", "tests/rdkafka"),
    ("interop", "tests/java_clients"),
];

#[test]
fn every_test_file_belongs_to_a_test_target() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace folder");
    let mut missing = Vec::new();
    for (package, folder) in FOLDERS {
        let package_dir = workspace.join(package);
        let manifest = fs::read_to_string(package_dir.join("Cargo.toml")).expect("the manifest");
        let mut roots: Vec<String> = manifest
            .lines()
            .filter_map(|l| l.trim().strip_prefix("path = \"")?.strip_suffix('"'))
            .filter(|p| p.starts_with(&format!("{folder}/")))
            .map(str::to_owned)
            .collect();
        roots.push(format!("{folder}/main.rs"));
        let declared: String =
            roots.iter().filter_map(|r| fs::read_to_string(package_dir.join(r)).ok()).collect::<Vec<_>>().join("\n");
        for entry in fs::read_dir(package_dir.join(folder)).expect("the tests folder") {
            let path = entry.expect("a folder entry").path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let relative = format!("{folder}/{stem}.rs");
            let is_root = roots.contains(&relative);
            let is_module = declared.lines().any(|l| l.trim() == format!("mod {stem};"));
            if !is_root && !is_module {
                missing.push(format!("{package}/{relative}"));
            }
        }
    }
    assert!(missing.is_empty(), "test files no test target compiles (declare them with `mod`): {missing:?}");
}
