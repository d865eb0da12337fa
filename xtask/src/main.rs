//! `cargo xtask`: maintainer tasks.
//!
//! ```text
//! cargo xtask gen [--schemas DIR] [--errors FILE] [--check]
//! cargo xtask schemas fetch [--set NAME]
//! cargo xtask schemas import DIR [--set NAME]
//! cargo xtask schemas verify
//! cargo xtask schemas repin [--set NAME]
//! cargo xtask schemas diff OLD NEW [--out FILE]
//! cargo xtask build-times [--debug | --release] [--tree DIR] [--base DIR] [--only TEXT] [--rounds N]
//! cargo xtask bench [FILTER] [--quick] [--no-instructions] [--only-instructions] [--base-drive FILE] [--build-times] [--out FILE]
//! ```

mod bench;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, ensure, Context, Result};
use xtask::output::{self, Mode};
use xtask::pin::{self, Pin};
use xtask::sets;

const USAGE: &str = "usage:
  cargo xtask gen [--schemas DIR] [--errors FILE] [--check]
      Generate kafka-wire/src/messages and the API features of kafka-wire/Cargo.toml from the
      primary schema set (kafka-schemas/, verified against its pin) or from DIR/message.
      --check writes nothing and fails if any generated file is stale.
  cargo xtask schemas fetch [--set NAME]
      Fetch every schema set (the primary kafka-schemas/PIN and kafka-schemas/sets/*/PIN), or
      only the named one, from where its PIN says (Maven artifacts of a Kafka release through
      mvn, or a git commit), make errors.tsv from the release's Errors enum (java), verify every
      file against SHA256SUMS and install it. What the tests need.
  cargo xtask schemas import DIR [--set NAME]
      Copy a schema set (DIR/message/*.json, DIR/data/*/..., DIR/errors.tsv) into the primary
      set's folder (or the named set's), verified against its SHA256SUMS.
  cargo xtask schemas verify
      Check every fetched set against its pin.
  cargo xtask schemas repin [--set NAME]
      After editing a PIN: fetch without verifying and rewrite its SHA256SUMS. Review the diff.
  cargo xtask schemas diff OLD NEW [--out FILE]
      What changed between two schema sets (set names such as kafka-3.8.0, or folders holding
      message/ and errors.tsv), as Markdown: APIs, versions, fields, error codes.
  cargo xtask build-times [--debug | --release] [--tree DIR] [--base DIR] [--only TEXT] [--rounds N]
      Clean build time and .rlib size of kafka-wire (all APIs, ten, one) and kafka-protocol
      (default features, and messages_enums: like for like), debug and release (or the one
      profile named), as Markdown tables with the ratios to the rival. Run it on an otherwise
      idle machine. --tree DIR: measure the kafka-wire of that workspace copy (e.g. a `git
      archive` of a commit) instead of this one. --base DIR: also each kafka-wire case of that
      copy, right before the same case of the tree (before and after on the same load).
      --only TEXT: only the cases whose name contains TEXT, or one of its |-separated parts
      (and the like-for-like rival).
      --rounds N: rebuild each crate alone N times, the cases taking turns, and count the
      least CPU time (a shared machine's contention only ever adds to it).
";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Takes the value of `--name VALUE` out of `args`.
fn take_opt(args: &mut Vec<String>, name: &str) -> Result<Option<String>> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) if i + 1 < args.len() => {
            let v = args.remove(i + 1);
            args.remove(i);
            Ok(Some(v))
        }
        Some(_) => bail!("{name} needs a value\n\n{USAGE}"),
    }
}

fn take_flag(args: &mut Vec<String>, name: &str) -> bool {
    match args.iter().position(|a| a == name) {
        Some(i) => {
            args.remove(i);
            true
        }
        None => false,
    }
}

fn run(mut args: Vec<String>) -> Result<ExitCode> {
    let root = xtask::workspace_root();
    let schemas_dir = root.join("kafka-schemas");
    let cmd = if args.is_empty() { String::new() } else { args.remove(0) };
    match cmd.as_str() {
        "gen" => {
            let check = take_flag(&mut args, "--check");
            let schemas = take_opt(&mut args, "--schemas")?.map(PathBuf::from);
            let errors = take_opt(&mut args, "--errors")?.map(PathBuf::from);
            no_more(&args)?;
            let (dir, source) = match &schemas {
                None => {
                    let pin = Pin::load(&schemas_dir)?;
                    pin::verify(&pin, &schemas_dir).with_context(|| {
                        format!("the schema files do not match kafka-schemas/PIN; run `{}`", sets::FETCH_COMMAND)
                    })?;
                    (schemas_dir.clone(), pin.source())
                }
                Some(d) => {
                    let name =
                        d.canonicalize()?.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    (d.clone(), format!("schemas from `{name}` (not the pinned set)"))
                }
            };
            let errors = errors.unwrap_or_else(|| dir.join(pin::ERRORS_FILE));
            let generated = xtask::generate(&dir.join("message"), &errors, &source)?;
            let mode = if check { Mode::Check } else { Mode::Write };
            let out_dir = root.join("kafka-wire/src/messages");
            let changes = output::sync_dir(&out_dir, &generated.files, mode)?;
            let cargo = root.join("kafka-wire/Cargo.toml");
            let features_changed = output::sync_features(&cargo, &generated.features, mode)?;
            let m = &generated.model;
            let versions: usize = m.apis.iter().map(|a| (a.max_version - a.min_version + 1) as usize * 2).sum();
            if check {
                if changes.is_empty() && !features_changed {
                    println!("generated code is up to date ({} files)", generated.files.len());
                    return Ok(ExitCode::SUCCESS);
                }
                eprintln!("generated code is stale:");
                for f in &changes.written {
                    eprintln!("  differs: kafka-wire/src/messages/{f}");
                }
                for f in &changes.removed {
                    eprintln!("  orphan:  kafka-wire/src/messages/{f}");
                }
                if features_changed {
                    eprintln!("  differs: kafka-wire/Cargo.toml (API features)");
                }
                eprintln!("run `cargo xtask gen` to update it");
                return Ok(ExitCode::FAILURE);
            }
            println!(
                "{} APIs ({} removed from Kafka, not generated), {versions} request/response versions, {} other schemas, \
                 {} error codes -> {} files ({} written, {} removed{})",
                m.apis.len(),
                m.removed_apis.len(),
                m.standalone.len(),
                m.errors.len(),
                generated.files.len(),
                changes.written.len(),
                changes.removed.len(),
                if features_changed { ", features updated" } else { "" }
            );
            Ok(ExitCode::SUCCESS)
        }
        "schemas" => {
            let sub = if args.is_empty() { String::new() } else { args.remove(0) };
            match sub.as_str() {
                "import" => {
                    let set = take_opt(&mut args, "--set")?;
                    let from = args.first().map(PathBuf::from).context("schemas import needs DIR")?;
                    args.remove(0);
                    no_more(&args)?;
                    let (dir, pin) = sets::dir_of(&root, set.as_deref())?;
                    let n = pin::import(&pin, &from, &dir)?;
                    println!("imported {n} files of `{}` into {} (verified against its pin)", pin.name, dir.display());
                }
                "fetch" | "repin" => {
                    let set = take_opt(&mut args, "--set")?;
                    no_more(&args)?;
                    let chosen = if sub == "fetch" {
                        match &set {
                            Some(name) => vec![sets::dir_of(&root, Some(name))?],
                            None => sets::all(&root)?,
                        }
                    } else {
                        let mut all = Vec::new();
                        for d in sets::dirs(&root)? {
                            let pin = Pin::load_without_digests(&d)?;
                            if set.as_deref().is_none_or(|n| n == pin.name) {
                                all.push((d, pin));
                            }
                        }
                        ensure!(!all.is_empty(), "no schema set named {set:?}");
                        all
                    };
                    for (dir, pin) in chosen {
                        let started = std::time::Instant::now();
                        let n = if sub == "fetch" { pin::fetch(&pin, &dir)? } else { pin::fetch_unpinned(&pin, &dir)? };
                        println!(
                            "{} {n} files of `{}` into {} in {:.1} s{}",
                            if sub == "fetch" { "fetched" } else { "fetched and pinned" },
                            pin.name,
                            dir.display(),
                            started.elapsed().as_secs_f64(),
                            if sub == "fetch" { " (verified)" } else { "; review the SHA256SUMS diff" }
                        );
                    }
                }
                "verify" => {
                    no_more(&args)?;
                    for (dir, pin) in sets::all(&root)? {
                        pin::verify(&pin, &dir)?;
                        println!("{} matches the pin of `{}` ({} files)", dir.display(), pin.name, pin.digests.len());
                    }
                }
                "diff" => {
                    let out = take_opt(&mut args, "--out")?.map(PathBuf::from);
                    ensure!(args.len() == 2, "schemas diff needs OLD and NEW\n\n{USAGE}");
                    let (old, new) = (set_folder(&root, &args[0])?, set_folder(&root, &args[1])?);
                    let report = xtask::diff::report(&old, &new)?;
                    match out {
                        Some(path) => {
                            std::fs::write(&path, &report)?;
                            println!("wrote {}", path.display());
                        }
                        None => print!("{report}"),
                    }
                }
                _ => bail!("unknown schemas command {sub:?}\n\n{USAGE}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        "build-times" => {
            let debug = take_flag(&mut args, "--debug");
            let release = take_flag(&mut args, "--release");
            let opts = xtask::buildtimes::Options {
                tree: take_opt(&mut args, "--tree")?.map(std::fs::canonicalize).transpose()?,
                base: take_opt(&mut args, "--base")?.map(std::fs::canonicalize).transpose()?,
                only: take_opt(&mut args, "--only")?,
                rounds: take_opt(&mut args, "--rounds")?
                    .map(|n| n.parse())
                    .transpose()
                    .context("--rounds N")?
                    .unwrap_or(1),
            };
            no_more(&args)?;
            let profiles = match (debug, release) {
                (true, false) => xtask::buildtimes::Profiles::Debug,
                (false, true) => xtask::buildtimes::Profiles::Release,
                _ => xtask::buildtimes::Profiles::Both,
            };
            println!("{}", xtask::buildtimes::run(&root, profiles, &opts)?);
            Ok(ExitCode::SUCCESS)
        }
        "bench" => {
            let opts = bench::Options {
                quick: take_flag(&mut args, "--quick"),
                no_instructions: take_flag(&mut args, "--no-instructions"),
                build_times: take_flag(&mut args, "--build-times"),
                out: take_opt(&mut args, "--out")?.map(PathBuf::from),
                base_drive: take_opt(&mut args, "--base-drive")?.map(std::fs::canonicalize).transpose()?,
                only_instructions: take_flag(&mut args, "--only-instructions"),
                filter: if args.first().is_some_and(|a| !a.starts_with('-')) { Some(args.remove(0)) } else { None },
            };
            no_more(&args)?;
            println!("{}", bench::run(&root, &opts)?);
            Ok(ExitCode::SUCCESS)
        }
        "" | "help" | "--help" | "-h" => {
            println!("{USAGE}{}", bench::USAGE);
            Ok(ExitCode::SUCCESS)
        }
        other => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

/// A set given by name (`kafka-3.8.0`, or the primary set's name) or as a folder.
fn set_folder(root: &std::path::Path, arg: &str) -> Result<xtask::diff::SetDir> {
    let path = PathBuf::from(arg);
    if path.join("message").is_dir() {
        let name = path.canonicalize()?.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        return Ok(xtask::diff::SetDir { name, dir: path });
    }
    let (dir, pin) = sets::dir_of(root, Some(arg))?;
    pin::verify(&pin, &dir).with_context(|| format!("set `{arg}` is not fetched; run `{}`", sets::FETCH_COMMAND))?;
    Ok(xtask::diff::SetDir { name: pin.name, dir })
}

fn no_more(args: &[String]) -> Result<()> {
    if let Some(a) = args.first() {
        bail!("unexpected argument {a:?}\n\n{USAGE}");
    }
    Ok(())
}
