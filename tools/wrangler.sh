#!/usr/bin/env bash
# The project's own wrangler, on a Node new enough for it: `tools/wrangler.sh <args>`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
exec "${WRANGLER[@]}" "$@"
