//! `cargo xtask build-times`: clean build time and `.rlib` size of `kafka-wire` (all APIs, one
//! API) next to the `kafka-protocol` crate, each in a throw-away project with its own target
//! folder, debug and release.
//!
//! For each case: the whole clean build (dependencies included), then the crate alone
//! (`cargo clean -p <crate>` and build again), and the size of the crate's `.rlib`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// One crate configuration to build.
pub struct Case {
    pub name: &'static str,
    /// The package whose build is timed alone.
    pub package: &'static str,
    /// The `[dependencies]` line.
    pub dependency: String,
}

pub fn cases(root: &Path) -> Vec<Case> {
    let path = root.join("kafka-wire");
    let p = path.display();
    vec![
        Case {
            name: "kafka-wire, all APIs",
            package: "kafka-wire",
            dependency: format!("kafka-wire = {{ path = \"{p}\" }}"),
        },
        Case {
            name: "kafka-wire, one API (metadata)",
            package: "kafka-wire",
            dependency: format!("kafka-wire = {{ path = \"{p}\", default-features = false, features = [\"metadata\"] }}"),
        },
        Case {
            name: "kafka-protocol 0.18, default features",
            package: "kafka-protocol",
            dependency: "kafka-protocol = \"=0.18.0\"".into(),
        },
        Case {
            name: "kafka-protocol 0.18, client+broker, no codecs",
            package: "kafka-protocol",
            dependency: "kafka-protocol = { version = \"=0.18.0\", default-features = false, features = [\"client\", \"broker\"] }"
                .into(),
        },
    ]
}

/// Times of one case in one profile: wall-clock and CPU (user + system) seconds.
pub struct Measure {
    pub total: Time,
    pub crate_only: Time,
    pub rlib_bytes: u64,
}

#[derive(Clone, Copy)]
pub struct Time {
    pub wall_s: f64,
    /// User + system CPU seconds of cargo and everything it ran (`None` without `/usr/bin/time`).
    pub cpu_s: Option<f64>,
}

impl std::fmt::Display for Time {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.cpu_s {
            Some(cpu) => write!(f, "{:.1} s ({:.1} s CPU)", self.wall_s, cpu),
            None => write!(f, "{:.1} s", self.wall_s),
        }
    }
}

fn cargo(dir: &Path, args: &[&str]) -> Result<Time> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let time_tool = Path::new("/usr/bin/time");
    let cpu_file = dir.join("cpu.txt");
    let mut cmd = if time_tool.exists() {
        let mut c = Command::new(time_tool);
        c.arg("-f").arg("%U %S").arg("-o").arg(&cpu_file).arg(&cargo);
        c
    } else {
        Command::new(&cargo)
    };
    let t = Instant::now();
    let out = cmd
        .current_dir(dir)
        .args(args)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .context("running cargo")?;
    let wall_s = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("cargo {} in {}: {}", args.join(" "), dir.display(), String::from_utf8_lossy(&out.stderr));
    }
    let cpu_s = fs::read_to_string(&cpu_file)
        .ok()
        .and_then(|t| t.split_whitespace().map(|x| x.parse::<f64>().ok()).sum::<Option<f64>>());
    Ok(Time { wall_s, cpu_s })
}

fn find_rlib(dir: &Path, lib: &str) -> Option<u64> {
    let deps = dir.join("deps");
    fs::read_dir(&deps)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(&format!("lib{lib}-")) && n.ends_with(".rlib")
        })
        .filter_map(|e| e.metadata().ok().map(|m| m.len()))
        .max()
}

/// Builds `case` in a fresh project under `work`.
pub fn measure(work: &Path, case: &Case, release: bool) -> Result<Measure> {
    let dir: PathBuf = work.join(case.name.replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(dir.join("src"))?;
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"build-time-probe\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{}\n\n[workspace]\n",
            case.dependency
        ),
    )?;
    fs::write(dir.join("src/lib.rs"), "")?;
    // Resolve and download outside the timed builds.
    cargo(&dir, &["fetch", "--quiet"])?;
    let profile: &[&str] = if release { &["--release"] } else { &[] };
    let mut args = vec!["build", "--quiet"];
    args.extend_from_slice(profile);
    let total = cargo(&dir, &args)?;
    let mut clean = vec!["clean", "--quiet", "-p", case.package];
    clean.extend_from_slice(profile);
    cargo(&dir, &clean)?;
    let crate_only = cargo(&dir, &args)?;
    let lib = case.package.replace('-', "_");
    let out = dir.join("target").join(if release { "release" } else { "debug" });
    let rlib_bytes = find_rlib(&out, &lib).with_context(|| format!("no lib{lib}-*.rlib in {}", out.display()))?;
    let _ = fs::remove_dir_all(dir.join("target"));
    Ok(Measure { total, crate_only, rlib_bytes })
}

/// Runs every case in both profiles and returns a Markdown table.
pub fn run(root: &Path) -> Result<String> {
    let work = root.join("target/build-times");
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut table = format!(
        "Clean builds on {cpus} CPU(s), wall time (CPU time = user + system of everything cargo ran); \"crate alone\" = the crate rebuilt after `cargo clean -p`, dependencies already built.\n\n\
         | crate | profile | whole build | crate alone | .rlib |\n|---|---|---|---|---|\n"
    );
    for case in cases(root) {
        for release in [false, true] {
            let m = measure(&work, &case, release)?;
            let line = format!(
                "| {} | {} | {} | {} | {:.1} MB |\n",
                case.name,
                if release { "release" } else { "debug" },
                m.total,
                m.crate_only,
                m.rlib_bytes as f64 / 1e6
            );
            eprint!("{line}");
            table.push_str(&line);
        }
    }
    let _ = writeln!(table);
    Ok(table)
}
