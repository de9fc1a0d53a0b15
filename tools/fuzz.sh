#!/usr/bin/env bash
# `make fuzz`: coverage-guided fuzzing of the pure core with cargo-fuzz
# (libFuzzer). Usage: tools/fuzz.sh [target] [seconds]; default: every
# target in turn, 600 s each. Targets: sentry_hook, github_hook,
# link_header, jwt (see fuzz/fuzz_targets/).
#
# The webhook targets also use a JSON-aware mutator (fuzz/src/lib.rs): it
# edits the parsed body (long multi-byte text, extreme numbers, missing or
# added keys) where byte flips would only break the JSON.
#
# Installs cargo-fuzz into .tools/ from crates.io when missing. The machine
# has only the stable toolchain, so RUSTC_BOOTSTRAP=1 admits the -Z flags
# cargo-fuzz passes; no sanitizer (-s none): the core is safe Rust, and the
# fuzzer looks for panics, overflows (checks on) and broken properties.
#
# New inputs go to fuzz/target/corpus/<target> (git-ignored); the committed
# seeds in fuzz/corpus/<target> are only read. A crash is written to
# fuzz/artifacts/<target>/ (git-ignored) and the run stops non-zero; replay
# it with `tools/fuzz.sh <target> <file>`, shrink it with
# `RUSTC_BOOTSTRAP=1 .tools/cargo/bin/cargo-fuzz fuzz tmin -s none <target> <file>`,
# and pin it in tests/core/hostile_webhooks.rs.
# Runs under nice (FUZZ_NICE, default 19): the machine is shared.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

CARGO_FUZZ_VERSION=0.13.2
TARGETS=(sentry_hook github_hook link_header jwt)
only=${1:-all}
secs=${2:-600}

if ! "$TOOLS/cargo/bin/cargo-fuzz" --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
    echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION into .tools/ (a few minutes, once)"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$TOOLS/cargo" --quiet
fi

export RUSTC_BOOTSTRAP=1
# The fuzz crate is its own workspace with its own target dir.
unset CARGO_TARGET_DIR

if [ "$only" = all ]; then
    targets=("${TARGETS[@]}")
else
    printf '%s\n' "${TARGETS[@]}" | grep -qx "$only" || { echo "fuzz: unknown target $only (${TARGETS[*]})" >&2; exit 2; }
    targets=("$only")
fi

if [ -f "$secs" ]; then # replay one input
    exec cargo fuzz run -s none "$only" "$secs"
fi

for t in "${targets[@]}"; do
    mkdir -p "fuzz/target/corpus/$t"
    echo "fuzz: $t for ${secs}s"
    nice -n "${FUZZ_NICE:-19}" cargo fuzz run -s none "$t" "fuzz/target/corpus/$t" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -max_len=32768 -print_final_stats=1
done
