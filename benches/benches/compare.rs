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
        .sample_size(40)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let filter = filter();
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
        let mut group = c.benchmark_group(name);
        group.throughput(match case.throughput {
            T::Bytes(n) => Throughput::Bytes(n),
            T::Elements(n) => Throughput::Elements(n),
        });
        // Long iterations (milliseconds): flat sampling keeps the run within its time budget.
        group.sampling_mode(SamplingMode::Auto);
        group.bench_function("ours", |b| b.iter(|| (case.ours)()));
        group.bench_function("theirs", |b| b.iter(|| (case.theirs)()));
        group.finish();
    }
    c.final_summary();
}
