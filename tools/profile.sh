#!/usr/bin/env bash
# `make profile`: where a Sentry issue ack's CPU goes inside the worker.
# Starts the built worker under `wrangler dev` (internal-integration mode,
# fresh state, an inspector port of its own), and runs tools/profile.mjs
# against it: N signed issue.created deliveries at concurrency C under V8's
# sampling profiler, summed by stage and by function. PROFILE_N (2000),
# PROFILE_C (16), PROFILE_KIND (issue, or team: GitHub team acks); SK_SKIP_BUILD=1 profiles the worker as built.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
[ "${SK_SKIP_BUILD:-}" = 1 ] || tools/build.sh
names="$CARGO_TARGET_DIR/wasm-names/index_bg.wasm"
[ -f "$names" ] || { echo "profile: $names is missing; run tools/build.sh" >&2; exit 1; }
dir=$(mktemp -d "$CARGO_TARGET_DIR/profile.XXXXXX")
python3 tools/wasm_symbols.py "$names" --json >"$dir/names.json"
tools/migrate.sh "$dir/state"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port) inspector=$(free_port) secret=profile-secret
set -m
SK_SKIP_BUILD=1 "${WRANGLER[@]}" dev --port "$port" --ip 127.0.0.1 --persist-to "$dir/state" \
    --show-interactive-dev-session=false --inspector-port "$inspector" \
    --var "SENTRY_CLIENT_SECRET:$secret" --var "SENTRY_AUTH_TOKEN:profile-token" \
    --var "SENTRY_ORG_SLUG:profile-org" --var "SENTRY_API_BASE:http://127.0.0.1:9" \
    --var "GITHUB_WEBHOOK_SECRET:$secret" --var "GITHUB_SYNC_DRY_RUN:true" \
    >"$dir/wrangler.log" 2>&1 </dev/null &
pgid=$!
trap 'kill -TERM -- -$pgid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
    sleep 0.1
done
"$NODE" tools/profile.mjs --base "http://127.0.0.1:$port" --inspector "$inspector" --secret "$secret" \
    --kind "${PROFILE_KIND:-issue}" --github-secret "$secret" \
    --names "$dir/names.json" --n "${PROFILE_N:-2000}" --c "${PROFILE_C:-16}" --save "$dir/ack.cpuprofile"
echo "profile: $dir/ack.cpuprofile (DevTools, Performance panel, load profile)"
