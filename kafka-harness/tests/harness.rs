//! The harness itself: a node starts, answers, stops and starts again; dropping the cluster
//! kills its JVM; a test process that dies without dropping leaves no JVM behind; stale pid
//! files are swept.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kafka_wire_harness::{harness_dir, sweep_stale_runs, KafkaCluster, KafkaConfig, Listener};

/// Whether process `pid` exists (`kill -0`).
fn alive(pid: u32) -> bool {
    Command::new("kill").args(["-0", &pid.to_string()]).output().is_ok_and(|o| o.status.success())
}

/// The command line of process `pid` (`ps`), empty if there is none.
fn command_line(pid: u32) -> String {
    let out = Command::new("ps").args(["-o", "args=", "-p", &pid.to_string()]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until process `pid` is gone, asking every 50 ms; only a hang of 60 s fails.
fn wait_gone(pid: u32) -> Duration {
    let start = Instant::now();
    while alive(pid) {
        assert!(start.elapsed() < Duration::from_secs(60), "process {pid} still alive");
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

#[test]
fn one_node_starts_stops_restarts_and_dies_with_its_cluster() {
    let cluster = KafkaCluster::start(KafkaConfig::new()).unwrap();
    println!("1 node: JVM start to ApiVersions answered in {:?}", cluster.startup_time());
    let first = cluster.pid(1).unwrap().expect("running");
    assert!(alive(first));
    // A controlled shutdown (SIGTERM), then a start on the same storage and ports.
    cluster.stop_node(1).unwrap();
    assert_eq!(cluster.pid(1).unwrap(), None);
    assert!(!alive(first));
    assert_eq!(cluster.bootstrap_servers(), "", "a stopped node is no bootstrap server");
    cluster.restart_node(1).unwrap();
    let pid = cluster.pid(1).unwrap().expect("running again");
    assert!(alive(pid));
    assert_eq!(cluster.bootstrap_servers(), cluster.addr(1, Listener::Plaintext).unwrap());
    let run = cluster.run_dir().to_owned();
    assert!(run.join("node-1/server.log").is_file());
    drop(cluster);
    // Drop waited for the JVM: it is gone already, and so is the run directory.
    assert!(!alive(pid));
    assert!(!run.exists());
}

/// Run by `a_test_process_that_dies_leaves_no_jvm` as a child process: starts a cluster,
/// prints its JVM's pid and aborts (no unwinding, no Drop).
#[test]
#[ignore = "a helper the test below runs in a child process"]
fn child_starts_a_cluster_and_aborts() {
    if std::env::var_os("KAFKA_WIRE_HARNESS_CHILD").is_none() {
        return;
    }
    let cluster = KafkaCluster::start(KafkaConfig::new()).unwrap();
    println!("jvm-pid={}", cluster.pid(1).unwrap().unwrap());
    std::process::abort();
}

#[test]
fn a_test_process_that_dies_leaves_no_jvm() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_starts_a_cluster_and_aborts", "--ignored", "--nocapture", "--test-threads", "1"])
        .env("KAFKA_WIRE_HARNESS_CHILD", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let pid: u32 = stdout
        .lines()
        .map_while(Result::ok)
        // libtest prints the test's name on the same line first.
        .find_map(|l| l.split_once("jvm-pid=").map(|(_, p)| p.trim().parse().unwrap()))
        .expect("the child printed its JVM's pid");
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child aborted");
    // The launcher sees its stdin close and halts the JVM.
    let after = wait_gone(pid);
    println!("the JVM of an aborted test process exited {after:?} after it");
}

#[test]
fn stale_pid_files_are_swept() {
    let dir = harness_dir().join("sweep-test");
    let run = dir.join("runs").join("stale-0");
    std::fs::create_dir_all(run.join("node-1")).unwrap();
    // The owner: a process that has exited.
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    std::fs::write(run.join("owner"), gone.id().to_string()).unwrap();
    // A "JVM" whose command line names the run, as the harness's JVMs do.
    let mut stale = Command::new("tail").arg("-f").arg(run.join("owner")).stdout(Stdio::null()).spawn().unwrap();
    std::fs::write(run.join("node-1/jvm.pid"), stale.id().to_string()).unwrap();
    // A process just spawned shows its command line a moment after `spawn` returns (the kernel
    // sets it up late in exec): wait for it, as the sweep will only kill a process naming the run.
    let start = Instant::now();
    while !command_line(stale.id()).contains(&*run.to_string_lossy()) {
        assert!(start.elapsed() < Duration::from_secs(60), "the stale process never showed its command line");
        std::thread::sleep(Duration::from_millis(10));
    }
    // A live run (ours) is left alone.
    let live = dir.join("runs").join("live-0");
    std::fs::create_dir_all(&live).unwrap();
    std::fs::write(live.join("owner"), std::process::id().to_string()).unwrap();

    sweep_stale_runs(&dir);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = stale.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = stale.kill();
            panic!("the sweep left the stale process alive");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(!status.success(), "killed: {status:?}");
    assert!(!run.exists());
    assert!(live.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
