#!/usr/bin/env bash
# wrangler's [build] command: compiles the worker to build/worker/.
# SK_SKIP_BUILD=1 (set by the test helper after its one build) makes it a no-op.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
if [ "${SK_SKIP_BUILD:-}" = 1 ] && [ -f build/worker/shim.mjs ]; then
    exit 0
fi
worker-build --release
# The name section (function names for stack traces, ~230 KB raw, ~60 KB
# gzipped) and the producers section go: a panic still logs its message and
# file:line:col through console_error_panic_hook (those are data, not
# names). SK_KEEP_NAMES=1 keeps them, for tools/wasm_symbols.py.
# The named module is kept aside (same function indexes): tools/profile.sh
# names a CPU profile's frames of the stripped one with it.
mkdir -p "$CARGO_TARGET_DIR/wasm-names"
cp build/index_bg.wasm "$CARGO_TARGET_DIR/wasm-names/index_bg.wasm"
if [ "${SK_KEEP_NAMES:-}" != 1 ]; then
    for wasm in build/*.wasm build/worker/*.wasm; do
        [ -f "$wasm" ] || continue
        "$WASM_OPT_BIN" --strip-debug --strip-producers "$wasm" -o "$wasm.stripped"
        mv "$wasm.stripped" "$wasm"
    done
fi
