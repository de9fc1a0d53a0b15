#!/usr/bin/env bash
# `make bench`: builds the worker once, then benches/parse.rs (the native
# parse by stage) and benches/ack.rs: the Rust worker
# beside the JS baseline (benches/baseline/), alternating rounds, the ratio
# rust/js per webhook type; then the wasm size and the error-log storage.
# BENCH_N, BENCH_C, BENCH_ROUNDS: requests per round, concurrency, rounds;
# BENCH_KINDS=issue,team picks webhook types by name.
# `make bench-errors` (tools/bench.sh errors): the error-log pipeline figures.
# `make bench-sync` (tools/bench.sh sync): the cron sync of BENCH_SYNC_ISSUES.
# `make bench-report` (tools/bench.sh report): all of them and more, written
# to BENCHMARKS.md; sizes in benches/report.rs (BENCH_* env vars).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
tools/build.sh
[[ -n "${1:-}" ]] || cargo bench --locked --bench parse  # native verify + parse + plan, by stage
SK_PREBUILT=1 cargo bench --locked --bench "${1:-ack}"
[[ -n "${1:-}" ]] || cargo bench --locked --bench error_storage  # the error log in D1: bytes a day
