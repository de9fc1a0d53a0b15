#!/usr/bin/env bash
# Applies migrations/ to the local D1 in the given state directory.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"${WRANGLER[@]}" d1 migrations apply DB --local --persist-to "${1:-.wrangler/state}" >/dev/null
