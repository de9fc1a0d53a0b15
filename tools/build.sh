#!/usr/bin/env bash
# wrangler's [build] command: compiles the worker to build/worker/.
# SK_SKIP_BUILD=1 (set by the test helper after its one build) makes it a no-op.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
if [ "${SK_SKIP_BUILD:-}" = 1 ] && [ -f build/worker/shim.mjs ]; then
    exit 0
fi
exec worker-build --release
