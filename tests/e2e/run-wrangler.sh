#!/usr/bin/env bash
# Started by the e2e helper in a process group of its own. Runs wrangler dev
# and, once the test process ($1) is gone, stops exactly this process group:
# cleanup holds even when a test panics or the runner is killed.
set -u
parent=$1 port=$2 state=$3 mock=$4 secret=$5 log=$6
shift 6
extra=()
for kv in "$@"; do extra+=(--var "$kv"); done   # further KEY:VALUE vars
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/env.sh"
# --inspector-port 0: the OS picks the inspector's port. Left to wrangler,
# two instances starting at once both take 9229 and one dies "Address
# already in use".
cd "$ROOT"
SK_SKIP_BUILD=1 "${WRANGLER[@]}" dev --port "$port" --ip 127.0.0.1 --persist-to "$state" \
    --test-scheduled --show-interactive-dev-session=false \
    --inspector-port 0 \
    --var "SENTRY_API_BASE:$mock" --var "GITHUB_API_BASE:$mock" \
    --var "SENTRY_CLIENT_SECRET:$secret" --var "SENTRY_CLIENT_ID:e2e-client-id" \
    --var "JOB_RETRY_BASE_SECONDS:1" --var "JOB_RETRY_MAX_SECONDS:2" --var "SENTRY_HTTP_TIMEOUT_MS:1500" \
    "${extra[@]}" >"$log" 2>&1 </dev/null &
child=$!
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
kill -- -$$ 2>/dev/null
