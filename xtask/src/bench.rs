//! `cargo xtask bench`: kafka-wire next to kafka-protocol, as one table.
//!
//! Runs the Criterion bench of `benches/` (package `kafka-wire-bench`), reads Criterion's
//! results (`<target>/criterion/<case>/<ours|theirs>/new/{estimates,benchmark}.json`) and prints
//! one Markdown table: benchmark, ours, theirs, ratio. Options add instruction counts under
//! callgrind (repeatable on a loaded machine) and the compile-cost table of `build-times`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};

pub const USAGE: &str = "  cargo xtask bench [FILTER] [--quick] [--no-instructions] [--only-instructions]
      [--base-drive FILE] [--build-times] [--out FILE]
      Criterion benchmarks of kafka-wire and kafka-protocol on the same messages (package
      kafka-wire-bench), printed as one table: benchmark, ours, theirs, ratio; then the
      instructions per iteration of the same bodies under valgrind's callgrind (repeatable on a
      busy machine; skipped with a note when valgrind is missing). FILTER runs the cases whose
      name contains it. --quick: shorter Criterion runs. --no-instructions: skip callgrind.
      --build-times: also the compile-cost table (cargo xtask build-times; many minutes).
      --base-drive FILE: also count kafka-wire's side with that `drive` binary (built at a base
      commit: `cargo build --release -p kafka-wire-bench --bin drive` there), in the same run,
      as a column base and the change. --only-instructions: skip Criterion.
      --out FILE: write the report there too.";

/// Options of `cargo xtask bench`.
#[derive(Debug, Default)]
pub struct Options {
    pub filter: Option<String>,
    pub quick: bool,
    /// Skip the callgrind table.
    pub no_instructions: bool,
    pub build_times: bool,
    pub out: Option<PathBuf>,
    /// A `drive` binary built at a base commit: its instruction counts of kafka-wire's side too.
    pub base_drive: Option<PathBuf>,
    /// Skip the Criterion table.
    pub only_instructions: bool,
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Cargo's target directory for the workspace (honours `CARGO_TARGET_DIR` and config).
fn target_dir(root: &Path) -> Result<PathBuf> {
    let out = cargo()
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let dir = v["target_directory"].as_str().context("no target_directory in cargo metadata")?;
    Ok(PathBuf::from(dir))
}

/// The machine: CPUs and load average (the benchmarks share it with whatever else runs).
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let load = fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    format!("{cpus} CPU(s), load average {load}")
}

fn rustc_version() -> String {
    Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// One side of one case, from Criterion's files.
#[derive(Debug, Clone, Copy)]
struct Timing {
    /// Median time per iteration, nanoseconds.
    median_ns: f64,
    /// Bytes or elements per iteration.
    throughput: Option<(bool, f64)>,
}

fn read_timing(dir: &Path, since: SystemTime) -> Result<Option<Timing>> {
    let est = dir.join("new/estimates.json");
    let bench = dir.join("new/benchmark.json");
    let Ok(meta) = fs::metadata(&est) else { return Ok(None) };
    if meta.modified()? < since {
        return Ok(None);
    }
    let e: serde_json::Value = serde_json::from_str(&fs::read_to_string(&est)?)?;
    let median_ns = e["median"]["point_estimate"].as_f64().context("no median in estimates.json")?;
    let b: serde_json::Value = serde_json::from_str(&fs::read_to_string(&bench)?)?;
    let throughput = match &b["throughput"] {
        serde_json::Value::Object(m) => m
            .get("Bytes")
            .and_then(|v| v.as_f64())
            .map(|n| (true, n))
            .or_else(|| m.get("Elements").and_then(|v| v.as_f64()).map(|n| (false, n))),
        _ => None,
    };
    Ok(Some(Timing { median_ns, throughput }))
}

fn fmt_time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn fmt_throughput(t: &Timing) -> String {
    match t.throughput {
        Some((true, bytes)) => format!("{:.0} MiB/s", bytes / (t.median_ns / 1e9) / (1024.0 * 1024.0)),
        Some((false, n)) if n > 1.0 => format!("{:.1} M rec/s", n / (t.median_ns / 1e9) / 1e6),
        Some((false, _)) => format!("{:.2} M/s", 1.0 / (t.median_ns / 1e9) / 1e6),
        None => String::new(),
    }
}

fn criterion_args(opts: &Options) -> Vec<String> {
    let mut args: Vec<String> =
        ["bench", "-p", "kafka-wire-bench", "--bench", "compare", "--"].iter().map(|s| s.to_string()).collect();
    if let Some(f) = &opts.filter {
        args.push(f.clone());
    }
    if opts.quick {
        for a in ["--warm-up-time", "0.3", "--measurement-time", "1", "--sample-size", "10"] {
            args.push(a.into());
        }
    }
    args
}

/// Runs the Criterion bench and returns the table of its results.
fn criterion_table(root: &Path, target: &Path, opts: &Options) -> Result<String> {
    let manifest = target.join("kafka-wire-bench-cases.tsv");
    let _ = fs::remove_file(&manifest);
    let load_before = machine();
    let since = SystemTime::now();
    let status = cargo()
        .current_dir(root)
        .args(criterion_args(opts))
        .env("KAFKA_WIRE_BENCH_MANIFEST", &manifest)
        .env("CRITERION_HOME", target.join("criterion"))
        .status()
        .context("running cargo bench")?;
    if !status.success() {
        bail!("cargo bench failed");
    }
    let load_after = machine();
    let cases = fs::read_to_string(&manifest).context("the bench wrote no list of cases")?;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Wall-clock medians (Criterion{}), {}; machine before: {load_before}; after: {load_after}.\n\
         ratio = theirs' time ÷ ours (above 1: kafka-wire is faster).\n",
        if opts.quick { ", --quick" } else { "" },
        rustc_version()
    );
    t.push_str(
        "| benchmark | ours (kafka-wire) | theirs (kafka-protocol 0.18) | ratio | input |\n|---|---|---|---|---|\n",
    );
    for line in cases.lines() {
        let (name, about) = line.split_once('\t').unwrap_or((line, ""));
        let dir = target.join("criterion").join(name);
        let (Some(ours), Some(theirs)) =
            (read_timing(&dir.join("ours"), since)?, read_timing(&dir.join("theirs"), since)?)
        else {
            continue;
        };
        let _ = writeln!(
            t,
            "| {name} | {} ({}) | {} ({}) | **{:.2}×** | {about} |",
            fmt_time(ours.median_ns),
            fmt_throughput(&ours),
            fmt_time(theirs.median_ns),
            fmt_throughput(&theirs),
            theirs.median_ns / ours.median_ns
        );
    }
    Ok(t)
}

fn valgrind_found() -> bool {
    Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Instructions per iteration of one side of one case, counted by callgrind inside the
/// measured loop only.
fn instructions(drive: &Path, case: &str, side: &str, iters: u64, work: &Path) -> Result<f64> {
    let out_file = work.join(format!("callgrind.{case}.{side}"));
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--dump-instr=no", "--collect-atstart=no", "--toggle-collect=*measured_loop*"])
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(drive)
        .args([case, side, &iters.to_string()])
        .output()
        .context("running valgrind (is it installed?)")?;
    if !out.status.success() {
        bail!("valgrind on {case} {side}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let collected = stderr
        .lines()
        .find_map(|l| l.split_once("Collected :").map(|(_, n)| n.trim().to_string()))
        .context("no instruction count in valgrind's output")?;
    let n: f64 = collected.replace(',', "").parse().context("instruction count")?;
    Ok(n / iters as f64)
}

fn instructions_table(root: &Path, target: &Path, opts: &Options) -> Result<String> {
    let status = cargo()
        .current_dir(root)
        .args(["build", "--release", "--quiet", "-p", "kafka-wire-bench", "--bin", "drive"])
        .status()
        .context("building the driver")?;
    if !status.success() {
        bail!("building the driver failed");
    }
    let drive = target.join("release/drive");
    let list = Command::new(&drive).arg("--list").output().context("drive --list")?;
    let work = target.join("kafka-wire-bench-callgrind");
    fs::create_dir_all(&work)?;
    let mut t = String::from(
        "Instructions per iteration (valgrind callgrind, inside the measured loop only; independent of load).\n\
         ratio = theirs ÷ ours.\n\n",
    );
    match &opts.base_drive {
        Some(base) => {
            let _ = write!(
                t,
                "base = ours counted with {}; change = ours ÷ base − 1.\n\n\
                 | benchmark | base | ours | change | theirs | ratio |\n|---|---|---|---|---|---|\n",
                base.display()
            );
        }
        None => t.push_str("| benchmark | ours | theirs | ratio |\n|---|---|---|---|\n"),
    }
    for line in String::from_utf8_lossy(&list.stdout).lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(name), Some(iters)) = (parts.next(), parts.next()) else { continue };
        if opts.filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let iters: u64 = iters.parse().context("iterations")?;
        let ours = instructions(&drive, name, "ours", iters, &work)?;
        let theirs = instructions(&drive, name, "theirs", iters, &work)?;
        let row = match &opts.base_drive {
            // A case the base does not have yet is shown without a change.
            Some(base_drive) => match instructions(base_drive, name, "ours", iters, &work) {
                Ok(base) => {
                    let change = (ours / base - 1.0) * 100.0;
                    format!(
                        "| {name} | {base:.0} | {ours:.0} | {change:+.1}% | {theirs:.0} | **{:.2}×** |\n",
                        theirs / ours
                    )
                }
                Err(_) => format!("| {name} | — | {ours:.0} | new | {theirs:.0} | **{:.2}×** |\n", theirs / ours),
            },
            None => format!("| {name} | {:.0} | {:.0} | **{:.2}×** |\n", ours, theirs, theirs / ours),
        };
        eprint!("{row}");
        t.push_str(&row);
    }
    Ok(t)
}

/// Runs what `opts` asks for and returns the report (Markdown).
pub fn run(root: &Path, opts: &Options) -> Result<String> {
    let target = target_dir(root)?;
    let mut report = String::from("## kafka-wire next to kafka-protocol\n\n");
    if !opts.only_instructions {
        report.push_str(&criterion_table(root, &target, opts)?);
    }
    if !opts.no_instructions {
        report.push('\n');
        if valgrind_found() {
            report.push_str(&instructions_table(root, &target, opts)?);
        } else {
            report.push_str("No instruction counts: valgrind is not installed (apt-get install valgrind).\n");
        }
    }
    if opts.build_times {
        report.push_str("\n## Compile cost\n\n");
        let _ = writeln!(report, "Machine at the start: {}.\n", machine());
        report.push_str(&xtask::buildtimes::run(root, xtask::buildtimes::Profiles::Both, &Default::default())?);
    }
    if let Some(out) = &opts.out {
        fs::write(out, &report).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(report)
}
