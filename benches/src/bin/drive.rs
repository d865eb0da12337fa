//! Runs one benchmark body N times, for profilers:
//!
//! ```text
//! drive CASE ours|theirs [N]
//! valgrind --tool=callgrind --toggle-collect='*measured_loop*' target/release/drive metadata-decode ours 10
//! ```
//!
//! `drive --list` prints the name, the iterations for a profile and the description of every
//! case; `drive --check` builds every case and checks that both
//! crates agree on it.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--check") {
        for (name, build) in kafka_wire_bench::builders() {
            let t = std::time::Instant::now();
            let mut c = build();
            c.check();
            println!("{name}: same result from both ({:.2?} to build and check)", t.elapsed());
        }
        return;
    }
    if args.first().map(String::as_str) == Some("--list") {
        for c in kafka_wire_bench::all("") {
            println!("{}\t{}\t{}", c.name, c.profile_iters(), c.about);
        }
        return;
    }
    let (Some(name), Some(side)) = (args.first(), args.get(1)) else {
        eprintln!("usage: drive CASE ours|theirs [N] | drive --list | drive --check");
        std::process::exit(2);
    };
    let n: u64 = args.get(2).map_or(10, |n| n.parse().expect("N"));
    let mut case = kafka_wire_bench::all(name)
        .into_iter()
        .find(|c| c.name == name.as_str())
        .unwrap_or_else(|| panic!("no case named {name}"));
    let body = match side.as_str() {
        "ours" => &mut case.ours,
        "theirs" => &mut case.theirs,
        _ => panic!("side must be ours or theirs"),
    };
    let acc = kafka_wire_bench::measured_loop(body.as_mut(), n);
    println!("{name} {side} x{n}: {acc}");
}
