#!/usr/bin/env bash
# `make dev`: local D1 (migrated), Queues and cron, on http://localhost:$PORT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
PORT=${PORT:-8787}
STATE=${STATE:-.wrangler/state}
tools/migrate.sh "$STATE"
echo "board:    http://localhost:$PORT/"
echo "webhooks: http://localhost:$PORT/api/webhooks/sentry"
echo "cron:     http://localhost:$PORT/__scheduled?cron=*/5+*+*+*+*"
exec "${WRANGLER[@]}" dev --port "$PORT" --persist-to "$STATE" --test-scheduled "$@"
