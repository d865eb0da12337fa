//! The fuzz targets' checks (`fuzz/src/lib.rs`) over their seed corpus (`fuzz/seeds/`) and
//! every input a fuzzer ever found failing (`tests/fuzz-regressions/<target>/`, one file per
//! crash, named after what it found). Fuzzing itself runs outside CI (`fuzz/run.sh`); its
//! findings run here on every build.

#[path = "../../fuzz/src/lib.rs"]
mod checks;

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The files of a directory, sorted (none if it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<_> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    v.sort();
    v
}

fn run(kind: &str, dir: impl Fn(&str) -> PathBuf) -> usize {
    let mut n = 0;
    for (target, check) in checks::TARGETS {
        for file in files(&dir(target)) {
            let data = std::fs::read(&file).unwrap();
            let r = std::panic::catch_unwind(|| check(&data, checks::not_counted));
            assert!(r.is_ok(), "{kind} {} fails its check", file.display());
            n += 1;
        }
    }
    n
}

#[test]
fn seed_corpus_passes_every_check() {
    let n = run("seed", |t| root().join("fuzz/seeds").join(t));
    assert!(n >= 300, "the seed corpus is there ({n} files)");
}

#[test]
fn every_fuzzer_finding_stays_fixed() {
    run("regression", |t| root().join("tests/fuzz-regressions").join(t));
}
