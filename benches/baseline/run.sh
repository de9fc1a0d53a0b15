#!/usr/bin/env bash
# Started by the bench in a process group of its own, like
# tests/e2e/run-wrangler.sh: migrates the baseline's own local D1 in
# $3, runs `wrangler dev` on 127.0.0.1:$2 and, once the bench process ($1)
# is gone, stops exactly this process group.
set -u
parent=$1 port=$2 state=$3 secret=$4 github_secret=$5 log=$6
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/env.sh"
cd "$ROOT"
config=${BASELINE_CONFIG:-benches/baseline/wrangler.toml}
"${WRANGLER[@]}" d1 migrations apply DB --local -c "$config" --persist-to "$state" >"$log" 2>&1 </dev/null || exit 1
"${WRANGLER[@]}" dev -c "$config" --port "$port" --ip 127.0.0.1 --persist-to "$state" \
    --show-interactive-dev-session=false --inspector-port 0 \
    --var "SENTRY_CLIENT_SECRET:$secret" --var "GITHUB_WEBHOOK_SECRET:$github_secret" \
    >>"$log" 2>&1 </dev/null &
child=$!
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
kill -- -$$ 2>/dev/null
