//! `cargo xtask`: maintainer tasks.
//!
//! ```text
//! cargo xtask gen [--schemas DIR] [--errors FILE] [--check]
//! cargo xtask schemas import DIR
//! cargo xtask schemas fetch [--repository URL]
//! cargo xtask schemas verify
//! cargo xtask build-times
//! cargo xtask bench [FILTER] [--quick] [--no-instructions] [--build-times] [--out FILE]
//! ```

mod bench;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use xtask::output::{self, Mode};
use xtask::pin::{self, Pin};

const USAGE: &str = "usage:
  cargo xtask gen [--schemas DIR] [--errors FILE] [--check]
      Generate generated/src/messages and the API features of generated/Cargo.toml from the
      imported schemas (kafka-schemas/, verified against the pin) or from DIR/message.
      --check writes nothing and fails if any generated file is stale.
  cargo xtask schemas import DIR
      Copy a schema set (DIR/message/*.json, DIR/errors.tsv) into kafka-schemas/, verified
      against kafka-schemas/SHA256SUMS.
  cargo xtask schemas fetch [--repository URL]
      Fetch the pinned commit's message/ folder from Kafka's git repository (shallow, sparse).
  cargo xtask schemas verify
      Check the imported schemas against the pin.
  cargo xtask build-times
      Clean build time and .rlib size of kafka-wire (all APIs, one API) and kafka-protocol,
      debug and release, as a Markdown table. Run it on an otherwise idle machine.
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
                    pin::verify(&pin, &schemas_dir, false).context(
                        "the imported schemas do not match the pin; run \
                         `cargo xtask schemas import ../shared/kafka-schemas/kafka-4.0-dev-1eb7644`",
                    )?;
                    (schemas_dir.clone(), pin.source())
                }
                Some(d) => {
                    let name =
                        d.canonicalize()?.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    (d.clone(), format!("schemas from `{name}` (not the pinned set)"))
                }
            };
            let errors = errors.unwrap_or_else(|| dir.join("errors.tsv"));
            let generated = xtask::generate(&dir.join("message"), &errors, &source)?;
            let mode = if check { Mode::Check } else { Mode::Write };
            let out_dir = root.join("generated/src/messages");
            let changes = output::sync_dir(&out_dir, &generated.files, mode)?;
            let cargo = root.join("generated/Cargo.toml");
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
                    eprintln!("  differs: generated/src/messages/{f}");
                }
                for f in &changes.removed {
                    eprintln!("  orphan:  generated/src/messages/{f}");
                }
                if features_changed {
                    eprintln!("  differs: generated/Cargo.toml (API features)");
                }
                eprintln!("run `cargo xtask gen` to update it");
                return Ok(ExitCode::FAILURE);
            }
            println!(
                "{} APIs, {versions} request/response versions, {} other schemas, {} error codes -> {} files ({} written, {} removed{})",
                m.apis.len(),
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
            let pin = Pin::load(&schemas_dir)?;
            match sub.as_str() {
                "import" => {
                    let from = args.first().map(PathBuf::from).context("schemas import needs DIR")?;
                    args.remove(0);
                    no_more(&args)?;
                    let n = pin::import(&pin, &from, &schemas_dir)?;
                    println!("imported {n} files of `{}` into kafka-schemas/ (verified against the pin)", pin.name);
                }
                "fetch" => {
                    let repo = take_opt(&mut args, "--repository")?.unwrap_or_else(|| pin.repository.clone());
                    no_more(&args)?;
                    let n = pin::fetch(&pin, &repo, &schemas_dir)?;
                    println!("fetched {n} files of {} at {} into kafka-schemas/message (verified)", repo, pin.commit);
                    if !schemas_dir.join("errors.tsv").exists() {
                        println!("note: errors.tsv is not in Kafka's repository; get it with `cargo xtask schemas import DIR`");
                    }
                }
                "verify" => {
                    no_more(&args)?;
                    pin::verify(&pin, &schemas_dir, false)?;
                    println!("kafka-schemas/ matches the pin ({} files)", pin.digests.len());
                }
                _ => bail!("unknown schemas command {sub:?}\n\n{USAGE}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        "build-times" => {
            no_more(&args)?;
            println!("{}", xtask::buildtimes::run(&root)?);
            Ok(ExitCode::SUCCESS)
        }
        "bench" => {
            let opts = bench::Options {
                quick: take_flag(&mut args, "--quick"),
                no_instructions: take_flag(&mut args, "--no-instructions"),
                build_times: take_flag(&mut args, "--build-times"),
                out: take_opt(&mut args, "--out")?.map(PathBuf::from),
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

fn no_more(args: &[String]) -> Result<()> {
    if let Some(a) = args.first() {
        bail!("unexpected argument {a:?}\n\n{USAGE}");
    }
    Ok(())
}
