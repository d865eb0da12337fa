#!/usr/bin/env bash
# Fuzzing kafka-wire with cargo-fuzz (libFuzzer). Runs outside CI; every crash it finds is kept
# as a regression test under tests/fuzz-regressions/<target>/ (run by `cargo test`).
#
#   fuzz/run.sh list                 the targets
#   fuzz/run.sh build                build every target
#   fuzz/run.sh run TARGET [SECS]    fuzz one target for SECS seconds (default 1800), low priority,
#                                    starting from fuzz/seeds/TARGET plus the corpus kept so far
#   fuzz/run.sh all [SECS]           each target in turn, SECS seconds each
#   fuzz/run.sh repro TARGET FILE    run one input (a crash artifact) through a target
#   fuzz/run.sh seeds                regenerate fuzz/seeds/ (examples/make_seeds.rs)
#
# Needs: `cargo install cargo-fuzz` and a C++ compiler (libFuzzer is built from source).
# On a stable toolchain cargo-fuzz's flags need RUSTC_BOOTSTRAP=1 (set here); a nightly
# toolchain works as is (`RUSTUP_TOOLCHAIN=nightly fuzz/run.sh ...`).
# FUZZ_ARGS adds libFuzzer options (e.g. FUZZ_ARGS=-len_control=0 to try long inputs at once).
# SANITIZER=address (default: none) adds AddressSanitizer; the crate is safe Rust, so the
# sanitizer mainly watches the C code of zstd and the unsafe code of dependencies, at ~2x cost.
# Every target also counts allocations and fails on an input that exceeds the allocation bound
# (fuzz/src/lib.rs). Each session appends its final libFuzzer stats to fuzz/runs.log.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP="${RUSTC_BOOTSTRAP:-1}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
SAN="${SANITIZER:-none}"
TARGETS=(request_frame response records frame_reader arbitrary_messages)
FLAGS=(-s "$SAN" --debug-assertions --codegen-units 16)

run() {
    local target=$1 secs=${2:-1800} start log
    mkdir -p "corpus/$target" "artifacts/$target"
    cp -n "seeds/$target"/* "corpus/$target/" 2>/dev/null || true
    start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    log=$(mktemp)
    set +e
    nice -n 19 cargo fuzz run "${FLAGS[@]}" "$target" "corpus/$target" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=3072 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="artifacts/$target/" ${FUZZ_ARGS:-} 2>&1 | tee "$log" | grep -E "pulse|DONE|NEW_FUNC|ERROR|panicked|SUMMARY|Test unit" | tail -n 40
    local status=${PIPESTATUS[0]}
    set -e
    local last
    last=$(grep -E "^#[0-9]+" "$log" | tail -n 1 || true)
    echo "$start $target ${secs}s exit=$status san=$SAN | $last" >> runs.log
    if [ "$status" != 0 ]; then
        echo "CRASH: see fuzz/artifacts/$target/; keep it as tests/fuzz-regressions/$target/<what-it-found>" >&2
    fi
    rm -f "$log"
    return "$status"
}

case "${1:-}" in
    list) printf '%s\n' "${TARGETS[@]}" ;;
    build) nice -n 19 cargo fuzz build "${FLAGS[@]}" ;;
    run) run "$2" "${3:-1800}" ;;
    all) for t in "${TARGETS[@]}"; do run "$t" "${2:-1800}"; done ;;
    repro) nice -n 19 cargo fuzz run "${FLAGS[@]}" "$2" "$3" ;;
    seeds) CARGO_TARGET_DIR="$CARGO_TARGET_DIR/plain" cargo run --example make_seeds ;;
    *) sed -n '2,22p' "$0"; exit 2 ;;
esac
