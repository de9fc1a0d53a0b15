#!/usr/bin/env bash
# `make test`: installs what is missing, builds the worker once, then runs
# the whole suite (unit, store, end-to-end against wrangler dev, browser
# tests in headless Chromium) under cargo.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
tools/bootstrap.sh
tools/browser-deps.sh
tools/build.sh
SK_PREBUILT=1 cargo test --locked --no-fail-fast "$@"
