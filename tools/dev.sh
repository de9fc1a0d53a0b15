#!/usr/bin/env bash
# `make dev`: local D1 (migrated), Queues and cron, on http://localhost:$PORT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
PORT=${PORT:-8787}
STATE=${STATE:-.wrangler/state}
tools/migrate.sh "$STATE"
# Like Jupyter: unless .dev.vars sets a login (DASHBOARD_TOKEN or Cloudflare
# Access), each run gets a random DASHBOARD_TOKEN and prints a link that logs
# in with it, so the board is never open to whoever reaches this port (another
# local user, a page doing DNS rebinding, a tunnel). The token rides in the
# link's fragment, which browsers never send, so it stays out of logs.
# DEV_OPEN=1 keeps the old open board on localhost instead.
login=()
board="http://localhost:$PORT/"
if [ "${DEV_OPEN:-}" != 1 ] && ! grep -Eqs '^[[:space:]]*(DASHBOARD_TOKEN|ACCESS_AUD)[[:space:]]*=' .dev.vars; then
    token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
    login=(--var "DASHBOARD_TOKEN:$token")
    board="http://localhost:$PORT/login#token=$token"
fi
echo "board:    $board"
echo "webhooks: http://localhost:$PORT/api/webhooks/sentry"
echo "cron:     http://localhost:$PORT/__scheduled?cron=*/5+*+*+*+*"
exec "${WRANGLER[@]}" dev --port "$PORT" --persist-to "$STATE" --test-scheduled "${login[@]}" "$@"
