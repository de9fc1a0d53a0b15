#!/usr/bin/env bash
# `make deploy`: remote migrations, then deploy. Needs `wrangler login` (or
# CLOUDFLARE_API_TOKEN) and the one-time set-up in the README's Deploy section.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"${WRANGLER[@]}" d1 migrations apply DB --remote
exec "${WRANGLER[@]}" deploy
