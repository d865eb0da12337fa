//! `cargo xtask build-times`: what compiling `kafka-wire` costs (all APIs, ten, one) next to the
//! `kafka-protocol` crate, each in a throw-away project with its own target folder, debug and
//! release, in one run.
//!
//! For each case: the whole clean build (dependencies included), then the crate alone
//! (`cargo clean -p <crate>` and build again), and the size of the crate's `.rlib`.
//!
//! Like for like: `kafka-protocol`'s `encode`/`decode` are generic over the buffer type, so by
//! default they are compiled in the crate that calls them, not in `kafka-protocol` itself. Its
//! `messages_enums` feature adds `RequestKind::encode`/`decode` (and the response side) over
//! `BytesMut`/`Bytes`, which instantiates the codec of every message inside the crate: that case
//! is the rival's all-APIs cost counted where it is compiled, and the ratios divide by it.
//! `kafka-wire`'s codec is not generic over the buffer and is compiled in `kafka-wire`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// The ten APIs of the "ten APIs" case: what a producer and a group consumer use.
pub const TEN_APIS: [&str; 10] = [
    "produce",
    "fetch",
    "list_offsets",
    "metadata",
    "offset_commit",
    "offset_fetch",
    "find_coordinator",
    "join_group",
    "sync_group",
    "heartbeat",
];

/// The codec features every kafka-wire case keeps, as `kafka-protocol`'s default features do.
const CODECS: &str = "\"gzip\", \"snappy\", \"lz4\", \"zstd\"";

/// What a case is compared with in the ratio table.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A kafka-wire configuration, divided by the like-for-like rival.
    Ours,
    /// The rival as most users build it (shown, not divided by).
    Rival,
    /// The rival with all its codecs compiled in the crate: the denominator.
    RivalLikeForLike,
}

/// One crate configuration to build.
#[derive(Clone)]
pub struct Case {
    pub name: String,
    /// The package whose build is timed alone.
    pub package: &'static str,
    /// The `[dependencies]` line.
    pub dependency: String,
    pub role: Role,
    /// The target the ratio to the rival's cost is held to.
    pub target: Option<Target>,
}

/// A target for the ratio of a case's cost to the like-for-like rival's.
#[derive(Clone, Copy)]
pub enum Target {
    AtMost(f64),
    Below(f64),
}

impl Target {
    fn met(self, ratio: f64) -> bool {
        match self {
            Target::AtMost(limit) => ratio <= limit,
            Target::Below(limit) => ratio < limit,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::AtMost(limit) => write!(f, "at most {limit}"),
            Target::Below(limit) => write!(f, "below {limit}"),
        }
    }
}

/// What `build-times` measures besides the defaults.
#[derive(Debug, Default)]
pub struct Options {
    /// The workspace whose `kafka-wire/` is measured (default: this one), e.g. an exported
    /// snapshot of a commit, so that editing the tree during a long run changes nothing.
    pub tree: Option<PathBuf>,
    /// A second workspace (e.g. `git archive` of the base commit): each kafka-wire case is
    /// also built from it, right before the same case of `tree`, so both see the same load.
    pub base: Option<PathBuf>,
    /// Only the cases whose name contains this, or one of its `|`-separated parts (the
    /// like-for-like rival is always kept: the ratios divide by it).
    pub only: Option<String>,
    /// How many times each case's crate is rebuilt alone, the cases taking turns (round 1 of
    /// every case, then round 2, ...); the least CPU time counts. A shared machine's bursts of
    /// contention inflate a build's CPU time, never deflate it. 0 is taken as 1.
    pub rounds: usize,
}

/// The kafka-wire cases (all APIs, ten, one) of the workspace at `root`, named with `prefix`.
/// "All APIs" is the crate as a user adds it (default features). `versioned`: the tree has the
/// `versioned` feature (the per-version types): the ten- and one-API cases leave it off, as the
/// default does, and a fourth case builds all APIs with it, shown next to the rival without a
/// target. A base from before that feature has only per-version types, in every case.
fn ours(root: &Path, prefix: &str, versioned: bool) -> Vec<Case> {
    let path = root.join("kafka-wire");
    let p = path.display();
    let ten = TEN_APIS.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
    let mut cases = vec![
        Case {
            name: format!("{prefix}kafka-wire, all APIs (default features)"),
            package: "kafka-wire",
            dependency: format!("kafka-wire = {{ path = \"{p}\" }}"),
            role: Role::Ours,
            target: Some(Target::AtMost(1.0)),
        },
        Case {
            name: format!("{prefix}kafka-wire, ten APIs"),
            package: "kafka-wire",
            dependency: format!(
                "kafka-wire = {{ path = \"{p}\", default-features = false, features = [{ten}, {CODECS}] }}"
            ),
            role: Role::Ours,
            target: Some(Target::Below(1.0)),
        },
        Case {
            name: format!("{prefix}kafka-wire, one API (metadata)"),
            package: "kafka-wire",
            dependency: format!(
                "kafka-wire = {{ path = \"{p}\", default-features = false, features = [\"metadata\", {CODECS}] }}"
            ),
            role: Role::Ours,
            target: Some(Target::AtMost(0.25)),
        },
    ];
    if versioned {
        cases.push(Case {
            name: format!("{prefix}kafka-wire, all APIs and the per-version types (`versioned`)"),
            package: "kafka-wire",
            dependency: format!(
                "kafka-wire = {{ path = \"{p}\", default-features = false, features = [\"all-apis\", \"versioned\", {CODECS}] }}"
            ),
            role: Role::Ours,
            target: None,
        });
    }
    cases
}

/// Whether the kafka-wire of the workspace at `root` has the `versioned` feature.
fn has_versioned_feature(root: &Path) -> bool {
    fs::read_to_string(root.join("kafka-wire/Cargo.toml"))
        .is_ok_and(|t| t.lines().any(|l| l.starts_with("versioned =")))
}

/// Every case of a run: kafka-wire of `root` (each preceded by the same case of `opts.base`,
/// if given), then the rival's two.
pub fn cases(root: &Path, opts: &Options) -> Vec<Case> {
    let mut cases = Vec::new();
    let base = opts.base.as_deref().map(|b| ours(b, "base: ", has_versioned_feature(b)));
    let tree = opts.tree.as_deref().unwrap_or(root);
    for (i, case) in ours(tree, "", has_versioned_feature(tree)).into_iter().enumerate() {
        if let Some(case) = base.as_ref().and_then(|b| b.get(i)) {
            cases.push(case.clone());
        }
        cases.push(case);
    }
    cases.push(Case {
        name: "kafka-protocol 0.18, default features".into(),
        package: "kafka-protocol",
        dependency: "kafka-protocol = \"=0.18.0\"".into(),
        role: Role::Rival,
        target: None,
    });
    cases.push(Case {
        name: "kafka-protocol 0.18, messages_enums (like for like)".into(),
        package: "kafka-protocol",
        dependency: "kafka-protocol = { version = \"=0.18.0\", features = [\"messages_enums\"] }".into(),
        role: Role::RivalLikeForLike,
        target: None,
    });
    if let Some(only) = &opts.only {
        cases.retain(|c| c.role == Role::RivalLikeForLike || only.split('|').any(|o| c.name.contains(o)));
    }
    cases
}

/// Times of one case in one profile.
pub struct Measure {
    pub total: Time,
    /// The crate alone: the round with the least cost.
    pub crate_only: Time,
    /// Every round's crate-alone time, in order.
    pub rounds: Vec<Time>,
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

impl Time {
    /// The comparable figure: CPU seconds where measured, wall seconds otherwise.
    fn cost(&self) -> f64 {
        self.cpu_s.unwrap_or(self.wall_s)
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
        // The probe's own settings, not the caller's (e.g. an incremental or sccache set-up).
        .env_remove("RUSTC_WRAPPER")
        .env("CARGO_INCREMENTAL", "0")
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

fn profile_args(release: bool) -> &'static [&'static str] {
    if release {
        &["--release"]
    } else {
        &[]
    }
}

/// Creates `case`'s throw-away project under `work` and times its whole clean build
/// (dependencies included); the project is kept for [`crate_alone`].
fn prepare(work: &Path, case: &Case, release: bool) -> Result<(PathBuf, Time)> {
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
    let mut args = vec!["build", "--quiet"];
    args.extend_from_slice(profile_args(release));
    let total = cargo(&dir, &args)?;
    Ok((dir, total))
}

/// Rebuilds `case`'s crate alone in its prepared project: `cargo clean -p`, then build.
fn crate_alone(dir: &Path, case: &Case, release: bool) -> Result<Time> {
    let mut clean = vec!["clean", "--quiet", "-p", case.package];
    clean.extend_from_slice(profile_args(release));
    cargo(dir, &clean)?;
    let mut args = vec!["build", "--quiet"];
    args.extend_from_slice(profile_args(release));
    cargo(dir, &args)
}

/// Measures every case in one profile: each whole build, then `rounds` rounds of the crates
/// alone with the cases taking turns, then the `.rlib` sizes; the projects are removed after.
fn measure_profile(work: &Path, cases: &[Case], release: bool, rounds: usize) -> Result<Vec<Measure>> {
    let mut prepared = Vec::new();
    for case in cases {
        let (dir, total) = prepare(work, case, release)?;
        eprintln!("{} ({}): whole build {total}", case.name, profile_name(release));
        prepared.push((dir, total, Vec::new()));
    }
    for round in 1..=rounds.max(1) {
        for (case, (dir, _, times)) in cases.iter().zip(&mut prepared) {
            let t = crate_alone(dir, case, release)?;
            eprintln!("{} ({}): crate alone, round {round}: {t}", case.name, profile_name(release));
            times.push(t);
        }
    }
    let mut out = Vec::new();
    for (case, (dir, total, rounds)) in cases.iter().zip(prepared) {
        let lib = case.package.replace('-', "_");
        let target = dir.join("target").join(profile_name(release));
        let rlib_bytes =
            find_rlib(&target, &lib).with_context(|| format!("no lib{lib}-*.rlib in {}", target.display()))?;
        let _ = fs::remove_dir_all(dir.join("target"));
        let crate_only = *rounds.iter().min_by(|a, b| a.cost().total_cmp(&b.cost())).context("no round measured")?;
        out.push(Measure { total, crate_only, rounds, rlib_bytes });
    }
    Ok(out)
}

/// Which profiles to build.
#[derive(Clone, Copy)]
pub enum Profiles {
    Both,
    Debug,
    Release,
}

impl Profiles {
    fn list(self) -> &'static [bool] {
        match self {
            Profiles::Both => &[false, true],
            Profiles::Debug => &[false],
            Profiles::Release => &[true],
        }
    }
}

fn profile_name(release: bool) -> &'static str {
    if release {
        "release"
    } else {
        "debug"
    }
}

/// Runs every case in the chosen profiles and returns two Markdown tables: the measurements and
/// the ratios of each kafka-wire case to the like-for-like rival (crate alone, CPU time).
pub fn run(root: &Path, profiles: Profiles, opts: &Options) -> Result<String> {
    // One folder per profile choice: a debug and a release run may go side by side.
    let work = root.join("target/build-times").join(match profiles {
        Profiles::Both => "both",
        Profiles::Debug => "debug",
        Profiles::Release => "release",
    });
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let cases = cases(root, opts);
    let rounds = opts.rounds.max(1);
    let mut table = format!(
        "Clean builds on {cpus} CPU(s), wall time (CPU time = user + system of everything cargo ran); \"crate alone\" = the crate rebuilt after `cargo clean -p`, dependencies already built{}.\n\n\
         | crate | profile | whole build | crate alone | .rlib |\n|---|---|---|---|---|\n",
        if rounds > 1 {
            format!(", the least of {rounds} rounds (the cases taking turns; every round's CPU seconds in brackets)")
        } else {
            String::new()
        }
    );
    // results[case] = [(release, measure)] in the order of the profiles.
    let mut results: Vec<Vec<(bool, Measure)>> = cases.iter().map(|_| Vec::new()).collect();
    for &release in profiles.list() {
        let measured = measure_profile(&work.join(profile_name(release)), &cases, release, rounds)?;
        for (per_case, m) in results.iter_mut().zip(measured) {
            per_case.push((release, m));
        }
    }
    for (case, per_case) in cases.iter().zip(&results) {
        for (release, m) in per_case {
            let all = if rounds > 1 {
                let cpu: Vec<String> = m.rounds.iter().map(|t| format!("{:.1}", t.cost())).collect();
                format!(" [{}]", cpu.join(", "))
            } else {
                String::new()
            };
            let _ = writeln!(
                table,
                "| {} | {} | {} | {}{all} | {:.1} MB |",
                case.name,
                profile_name(*release),
                m.total,
                m.crate_only,
                m.rlib_bytes as f64 / 1e6
            );
        }
    }
    let rival = cases.iter().position(|c| c.role == Role::RivalLikeForLike).context("no like-for-like rival case")?;
    let _ = write!(
        table,
        "\nCrate alone, CPU time, divided by {} (below 1: kafka-wire compiles faster).\n\n| crate | profile | ratio | target |\n|---|---|---|---|\n",
        cases[rival].name
    );
    for (case, per_case) in cases.iter().zip(&results) {
        if case.role != Role::Ours {
            continue;
        }
        for (release, m) in per_case {
            let (_, r) = results[rival].iter().find(|(rel, _)| rel == release).context("rival profile missing")?;
            let ratio = m.crate_only.cost() / r.crate_only.cost();
            let target = match case.target {
                Some(t) => format!("{t} ({})", if t.met(ratio) { "met" } else { "not met" }),
                None => "none (opt-in feature, shown)".to_owned(),
            };
            let _ = writeln!(table, "| {} | {} | {ratio:.2} | {target} |", case.name, profile_name(*release));
        }
    }
    let _ = writeln!(table);
    Ok(table)
}
