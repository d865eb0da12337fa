//! `cargo xtask schemas fetch` and `import` against a local git repository and folders this
//! test creates: the pinned commit's files are fetched (shallow, sparse), verified against the
//! pin, and installed; any mismatch is an error naming the file.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use xtask::pin::{self, sha256_hex, Pin};

const MSG: &str = "clients/src/main/resources/common/message";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A repository with two commits; returns (repo, first commit, second commit).
fn repo(dir: &Path) -> (std::path::PathBuf, String, String) {
    let repo = dir.join("kafka");
    fs::create_dir_all(repo.join(MSG)).unwrap();
    fs::create_dir_all(repo.join("core")).unwrap();
    git(&repo, &["init", "--quiet"]);
    fs::write(repo.join(MSG).join("ARequest.json"), "{ \"a\": 1 }\n").unwrap();
    fs::write(repo.join(MSG).join("BResponse.json"), "{ \"b\": 2 }\n").unwrap();
    fs::write(repo.join(MSG).join("README.md"), "not a schema\n").unwrap();
    fs::write(repo.join("core/Big.scala"), "x".repeat(10_000)).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "one"]);
    let first = git(&repo, &["rev-parse", "HEAD"]);
    fs::write(repo.join(MSG).join("ARequest.json"), "{ \"a\": 3 }\n").unwrap();
    git(&repo, &["commit", "--quiet", "-am", "two"]);
    let second = git(&repo, &["rev-parse", "HEAD"]);
    (repo, first, second)
}

fn pin_for(commit: &str, files: &[(&str, &str)]) -> Pin {
    let digests: BTreeMap<String, String> =
        files.iter().map(|(p, text)| (format!("message/{p}"), sha256_hex(text.as_bytes()))).collect();
    Pin { name: "test-set".into(), repository: "unused".into(), commit: commit.into(), path: MSG.into(), digests }
}

#[test]
fn fetch_gets_exactly_the_pinned_commit_and_verifies_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, first, second) = repo(tmp.path());
    let url = format!("file://{}", repo.display());
    let out = tmp.path().join("kafka-schemas");

    // The first commit, not the branch head.
    let pin = pin_for(&first, &[("ARequest.json", "{ \"a\": 1 }\n"), ("BResponse.json", "{ \"b\": 2 }\n")]);
    assert_eq!(pin::fetch(&pin, &url, &out).unwrap(), 2);
    assert_eq!(fs::read_to_string(out.join("message/ARequest.json")).unwrap(), "{ \"a\": 1 }\n");
    assert!(!out.join("message/README.md").exists());
    pin::verify(&pin, &out, true).unwrap();
    // No temporary folder is left behind.
    let leftovers: Vec<_> = fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["message"]);

    // The same pin against the second commit: a clear error naming the file.
    let pin2 = Pin { commit: second, ..pin.clone() };
    let err = pin::fetch(&pin2, &url, &out).unwrap_err().to_string();
    assert!(err.contains("ARequest.json") && err.contains("does not match the pin"), "{err}");
    // ... and what was installed before is untouched.
    assert_eq!(fs::read_to_string(out.join("message/ARequest.json")).unwrap(), "{ \"a\": 1 }\n");

    // A pinned file missing at that commit.
    let pin3 = pin_for(&first, &[("ARequest.json", "{ \"a\": 1 }\n"), ("CRequest.json", "{}")]);
    let err = pin::fetch(&pin3, &url, &out).unwrap_err().to_string();
    assert!(err.contains("CRequest.json"), "{err}");

    // A commit the repository does not have.
    let pin4 = Pin { commit: "0".repeat(40), ..pin };
    assert!(pin::fetch(&pin4, &url, &out).is_err());
}

#[test]
fn import_verifies_every_file_before_installing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("set");
    fs::create_dir_all(set.join("message")).unwrap();
    fs::write(set.join("message/ARequest.json"), "a").unwrap();
    fs::write(set.join("errors.tsv"), "e").unwrap();
    let mut pin = pin_for("0".repeat(40).as_str(), &[("ARequest.json", "a")]);
    pin.digests.insert("errors.tsv".into(), sha256_hex(b"e"));
    let out = tmp.path().join("kafka-schemas");
    assert_eq!(pin::import(&pin, &set, &out).unwrap(), 2);
    assert_eq!(fs::read_to_string(out.join("errors.tsv")).unwrap(), "e");

    // A changed file is rejected by name, and nothing is installed.
    fs::write(set.join("message/ARequest.json"), "tampered").unwrap();
    let out2 = tmp.path().join("other");
    let err = pin::import(&pin, &set, &out2).unwrap_err().to_string();
    assert!(err.contains("ARequest.json") && err.contains("does not match the pin"), "{err}");
    assert!(!out2.exists());

    // A schema file the pin does not list is rejected too.
    fs::write(set.join("message/ARequest.json"), "a").unwrap();
    fs::write(set.join("message/Extra.json"), "{}").unwrap();
    let err = pin::import(&pin, &set, &out2).unwrap_err().to_string();
    assert!(err.contains("Extra.json") && err.contains("not in the pin"), "{err}");
}

#[test]
fn the_committed_pin_matches_the_shared_primary_set() {
    let root = xtask::workspace_root();
    let pin = Pin::load(&root.join("kafka-schemas")).unwrap();
    assert_eq!(pin.commit, "1eb7644349cb07139d6a3c1ad1986979647cac99");
    assert_eq!(pin.message_files().count(), 186);
    pin::verify(&pin, &root.join("../shared/kafka-schemas/kafka-4.0-dev-1eb7644"), false).unwrap();
}
