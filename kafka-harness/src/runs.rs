//! Run directories and their pid files, and the sweep that stops brokers whose test process
//! is gone.
//!
//! Each cluster runs in `<harness dir>/runs/<test pid>-<n>/`: the file `owner` holds the pid of
//! the test process, and each node's directory its JVM's pid (`jvm.pid`). A JVM normally dies
//! with its test (the cluster's `Drop` kills it; the launcher halts when its stdin pipe from the
//! test closes); should one survive anyway, the next cluster started anywhere on the machine
//! with the same harness directory kills it, by the pid its file names, before starting.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{io, Result};

/// A fresh run directory for this process, with its `owner` file; stale runs swept first.
pub(crate) fn new_run(dir: &Path) -> Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let runs = dir.join("runs");
    sweep(&runs);
    let me = std::process::id();
    let run = runs.join(format!("{me}-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    if run.exists() {
        // Left by an earlier process with the same pid: it is gone (we are alive with its pid).
        let _ = std::fs::remove_dir_all(&run);
    }
    std::fs::create_dir_all(&run).map_err(io("cannot create", &run))?;
    let owner = run.join("owner");
    std::fs::write(&owner, me.to_string()).map_err(io("cannot write", &owner))?;
    Ok(run)
}

/// Kills the JVMs of runs under `dir` (a harness directory) whose test process is gone, by the
/// pids their files name, and removes those runs' directories. [`KafkaCluster::start`]
/// does this before every start; call it yourself to clean up without starting a cluster.
///
/// [`KafkaCluster::start`]: crate::KafkaCluster::start
pub fn sweep_stale_runs(dir: &Path) {
    sweep(&dir.join("runs"));
}

fn sweep(runs: &Path) {
    let Ok(entries) = std::fs::read_dir(runs) else { return };
    let me = std::process::id();
    for run in entries.flatten().map(|e| e.path()) {
        let owner = std::fs::read_to_string(run.join("owner")).ok().and_then(|s| s.trim().parse::<u32>().ok());
        match owner {
            Some(pid) if pid == me || alive(pid) => continue,
            _ => {}
        }
        for pid in node_pids(&run) {
            // Only a process started for this run: its command line names the run directory.
            if command_line(pid).is_some_and(|args| args.contains(&*run.to_string_lossy())) {
                kill(pid, "KILL");
            }
        }
        let _ = std::fs::remove_dir_all(&run);
    }
}

/// The pids in the `jvm.pid` files of a run's node directories.
fn node_pids(run: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(run) else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("jvm.pid")).ok())
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// Whether a process with this pid exists.
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        Command::new("kill").args(["-0", &pid.to_string()]).output().is_ok_and(|o| o.status.success())
    }
}

/// The command line of process `pid`, if it exists.
fn command_line(pid: u32) -> Option<String> {
    if cfg!(target_os = "linux") {
        let raw = std::fs::read(Path::new("/proc").join(pid.to_string()).join("cmdline")).ok()?;
        Some(String::from_utf8_lossy(&raw).replace('\0', " "))
    } else {
        let out = Command::new("ps").args(["-o", "args=", "-p", &pid.to_string()]).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// Sends `signal` (`KILL`, `TERM`) to process `pid` with the system's `kill`.
pub(crate) fn kill(pid: u32, signal: &str) -> bool {
    Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).output().is_ok_and(|o| o.status.success())
}
