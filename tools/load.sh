#!/usr/bin/env bash
# `make load`: builds the worker once, then sends SK_LOAD_N (default 10,000)
# signed webhooks of every kind at SK_LOAD_C (default 16) threads to
# `wrangler dev` and checks that every accepted one is in D1 exactly once,
# the queue drains and the dead-letter queue stays empty (tests/e2e/load.rs;
# `make test` runs the same test with the same default).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
tools/build.sh
SK_LOAD_N="${SK_LOAD_N:-10000}" SK_PREBUILT=1 cargo test --locked --test e2e -- load:: --nocapture
