//! `cargo xtask schemas fetch` and `import` against a local git repository, a jar and folders
//! this test creates: the pinned files are fetched (shallow, sparse for git; the JSON files of a
//! jar's folder for Maven), verified against the pin, and installed; any mismatch is an error
//! naming the file. The committed pins name Apache Kafka releases.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use xtask::pin::{self, sha256_hex, Origin, Pin, Source};

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

fn pin_for(repository: &str, commit: &str, files: &[(&str, &str)]) -> Pin {
    let digests: BTreeMap<String, String> =
        files.iter().map(|(p, text)| (format!("message/{p}"), sha256_hex(text.as_bytes()))).collect();
    let origin = Origin::Git { repository: repository.into(), commit: commit.into(), path: MSG.into() };
    Pin { name: "test-set".into(), sources: vec![Source { folder: "message".into(), origin }], errors: None, digests }
}

fn with_commit(pin: &Pin, commit: &str) -> Pin {
    let mut p = pin.clone();
    if let Origin::Git { commit: c, .. } = &mut p.sources[0].origin {
        *c = commit.into();
    }
    p
}

#[test]
fn fetch_gets_exactly_the_pinned_commit_and_verifies_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, first, second) = repo(tmp.path());
    let url = format!("file://{}", repo.display());
    let out = tmp.path().join("kafka-schemas");

    // The first commit, not the branch head.
    let pin = pin_for(&url, &first, &[("ARequest.json", "{ \"a\": 1 }\n"), ("BResponse.json", "{ \"b\": 2 }\n")]);
    assert_eq!(pin::fetch(&pin, &out).unwrap(), 2);
    assert_eq!(fs::read_to_string(out.join("message/ARequest.json")).unwrap(), "{ \"a\": 1 }\n");
    assert!(!out.join("message/README.md").exists());
    pin::verify(&pin, &out).unwrap();
    // No temporary folder is left behind.
    let leftovers: Vec<_> = fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["message"]);

    // The same pin against the second commit: a clear error naming the file.
    let pin2 = with_commit(&pin, &second);
    let err = pin::fetch(&pin2, &out).unwrap_err().to_string();
    assert!(err.contains("ARequest.json") && err.contains("does not match the pin"), "{err}");
    // ... and what was installed before is untouched.
    assert_eq!(fs::read_to_string(out.join("message/ARequest.json")).unwrap(), "{ \"a\": 1 }\n");

    // A pinned file missing at that commit.
    let pin3 = pin_for(&url, &first, &[("ARequest.json", "{ \"a\": 1 }\n"), ("CRequest.json", "{}")]);
    let err = pin::fetch(&pin3, &out).unwrap_err().to_string();
    assert!(err.contains("CRequest.json"), "{err}");

    // A commit the repository does not have.
    let pin4 = with_commit(&pin, &"0".repeat(40));
    assert!(pin::fetch(&pin4, &out).is_err());
}

#[test]
fn import_verifies_every_file_before_installing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("set");
    fs::create_dir_all(set.join("message")).unwrap();
    fs::write(set.join("message/ARequest.json"), "a").unwrap();
    fs::write(set.join("errors.tsv"), "e").unwrap();
    let mut pin = pin_for("unused", "0".repeat(40).as_str(), &[("ARequest.json", "a")]);
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
fn a_jar_gives_the_json_files_directly_in_its_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let jar = tmp.path().join("kafka-clients-9.9.9.jar");
    {
        let mut zip = zip::ZipWriter::new(fs::File::create(&jar).unwrap());
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, text) in [
            ("common/message/ARequest.json", "{ \"a\": 1 }"),
            ("common/message/README.md", "not a schema"),
            ("common/message/nested/BRequest.json", "{}"),
            ("common/other/CRequest.json", "{}"),
            ("org/apache/kafka/X.class", "\u{0}"),
        ] {
            zip.start_file(name, opts).unwrap();
            std::io::Write::write_all(&mut zip, text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    let dest = tmp.path().join("message");
    fs::create_dir_all(&dest).unwrap();
    assert_eq!(pin::extract_json(&jar, "common/message", &dest).unwrap(), 1);
    assert_eq!(fs::read_to_string(dest.join("ARequest.json")).unwrap(), "{ \"a\": 1 }");
    assert_eq!(fs::read_dir(&dest).unwrap().count(), 1);
    assert_eq!(pin::extract_json(&jar, "common/missing", &dest).unwrap(), 0);
}

#[test]
fn the_committed_pins_name_apache_kafka_releases() {
    let root = xtask::workspace_root();
    let sets = xtask::sets::all(&root).unwrap();
    let names: Vec<&str> = sets.iter().map(|(_, p)| p.name.as_str()).collect();
    assert_eq!(names, ["kafka-4.4.0", "kafka-3.8.0"]);
    for (_, pin) in &sets {
        let release = pin.name.strip_prefix("kafka-").unwrap();
        for s in &pin.sources {
            let Origin::Maven { artifact, .. } = &s.origin else {
                panic!("{}: {} is not from Maven", pin.name, s.folder)
            };
            assert_eq!(artifact.group, "org.apache.kafka");
            // Kafka's generator test schemas come from the newest test jar on Maven Central.
            if s.folder != "test-message" {
                assert_eq!(artifact.version, release, "{}: {}", pin.name, s.folder);
            }
        }
        assert_eq!(
            pin.errors.as_ref().map(|e| (e.artifact.as_str(), e.version.as_str())),
            Some(("kafka-clients", release))
        );
    }
    let primary = &sets[0].1;
    assert_eq!(primary.files_of("message").count(), 203);
    assert!(primary.digests.contains_key("errors.tsv"));
    // The source the generated files name.
    assert_eq!(
        primary.source(),
        "Apache Kafka schemas `kafka-4.4.0` from org.apache.kafka:kafka-clients:4.4.0 (kafka-schemas/PIN)"
    );
}
