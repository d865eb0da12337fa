//! kafka-wire ("ours") next to kafka-protocol ("theirs"): one Criterion group per case, two
//! functions each. `cargo xtask bench` runs this and prints the table; or directly:
//!
//! ```text
//! cargo bench -p kafka-wire-bench --bench compare -- [FILTER] [--measurement-time S] ...
//! ```

use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use kafka_wire_bench::{builders, Throughput as T};

/// The positional filter of Criterion's command line, to skip building inputs nobody measures.
fn filter() -> Option<String> {
    const WITH_VALUE: &[&str] = &[
        "--color",
        "-c",
        "--save-baseline",
        "-s",
        "--baseline",
        "-b",
        "--baseline-lenient",
        "--format",
        "--profile-time",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--plotting-backend",
        "--output-format",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if WITH_VALUE.contains(&a.as_str()) {
            i += 2;
            continue;
        }
        if !a.starts_with('-') {
            return Some(a.clone());
        }
        i += 1;
    }
    None
}

fn main() {
    let mut c = Criterion::default()
        // Short runs: 21 cases × 2 sides must fit in a few minutes (`cargo xtask bench`); the
        // instruction counts under callgrind are the precise comparison.
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let filter = filter();
    // `cargo xtask bench` asks for the list of cases run, in order, with their descriptions.
    let mut manifest = String::new();
    for (name, build) in builders() {
        if let Some(f) = &filter {
            // Criterion matches FILTER against "group/function".
            if !format!("{name}/ours").contains(f.as_str())
                && !format!("{name}/theirs").contains(f.as_str())
                && !name.contains(f.as_str())
            {
                continue;
            }
        }
        let mut case = build();
        case.check();
        manifest.push_str(&format!("{name}\t{}\n", case.about));
        let mut group = c.benchmark_group(name);
        group.throughput(match case.throughput {
            T::Bytes(n) => Throughput::Bytes(n),
            T::Elements(n) => Throughput::Elements(n),
        });
        // Criterion picks flat sampling for iterations of milliseconds.
        group.sampling_mode(SamplingMode::Auto);
        group.bench_function("ours", |b| b.iter(|| (case.ours)()));
        group.bench_function("theirs", |b| b.iter(|| (case.theirs)()));
        group.finish();
    }
    c.final_summary();
    if let Some(path) = std::env::var_os("KAFKA_WIRE_BENCH_MANIFEST") {
        std::fs::write(path, manifest).expect("writing the manifest");
    }
}
