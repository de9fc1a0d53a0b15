#!/usr/bin/env bash
# `make test`: installs what is missing, builds the worker once, then runs
# the whole suite (unit, store, end-to-end against wrangler dev, browser
# tests in headless Chromium) under cargo.
#
# The suites run in two lanes at once: the end-to-end binary, which spends
# most of its time waiting (wrangler starts, queue backoffs, polling), with
# SK_E2E_THREADS test threads (default 4), beside every other binary one
# after another. Each lane's lines carry its name; the run fails if either
# lane does. Arguments (`make test ARGS=...`, `tools/test.sh --test store`)
# run plain `cargo test` with them instead.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
tools/bootstrap.sh
tools/browser-deps.sh
tools/build.sh
export SK_PREBUILT=1
if [ $# -gt 0 ]; then
    exec cargo test --locked --no-fail-fast "$@"
fi
cargo test --locked --no-run

# Every test binary but e2e: tests/<name>/main.rs and tests/<name>.rs.
others=()
for t in tests/*/main.rs tests/*.rs; do
    [ -f "$t" ] || continue
    name=${t#tests/}
    name=${name%/main.rs}
    name=${name%.rs}
    [ "$name" = e2e ] || others+=(--test "$name")
done

lane() { # name command...
    local name=$1
    shift
    local start=$SECONDS rc=0
    "$@" 2>&1 | sed -u "s/^/[$name] /" || rc=$?
    echo "[$name] lane finished: rc=$rc in $((SECONDS - start)) s"
    return "$rc"
}

lane e2e cargo test --locked --no-fail-fast --test e2e -- --test-threads="${SK_E2E_THREADS:-4}" &
e2e=$!
rc=0
lane rest cargo test --locked --no-fail-fast --lib --bins "${others[@]}" || rc=1
lane doc cargo test --locked --doc || rc=1
wait "$e2e" || rc=1
exit "$rc"
