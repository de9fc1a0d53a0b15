#!/usr/bin/env bash
# `make deploy`: a first deploy and every later one, in one idempotent command.
#   1. asks for the secrets the worker does not have yet (nothing is echoed)
#   2. creates the D1 database and the two queues if they are missing
#   3. applies the migrations to the remote database
#   4. puts the new secrets, deploys, prints the URLs for Sentry and GitHub
# A second run creates nothing, asks nothing and deploys again.
#
# Needs `tools/wrangler.sh login` once, or CLOUDFLARE_API_TOKEN (and
# CLOUDFLARE_ACCOUNT_ID when the token sees several accounts).
# Non-interactive: give the secrets as environment variables of the same
# names; without a terminal a missing required secret is an error naming it.
#   WORKER_URL=https://…   the URL to print when not on workers.dev
#   DEPLOY_DRY_RUN=1       everything above, but `wrangler deploy --dry-run`
#   DEPLOY_NONINTERACTIVE=1  never prompt, even on a terminal
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

DB_NAME=$(sed -n 's/^database_name *= *"\(.*\)"/\1/p' wrangler.toml | head -n1)
QUEUES=(sentry-kanban-jobs sentry-kanban-dlq)
# Optional secrets answered with "skip" are not asked again (delete the file to be asked).
SKIPPED_FILE="$ROOT/.wrangler/deploy/skipped-secrets"

EXISTING=" " # names of the secrets the worker already has, space-separated
declare -A NEW=() # name -> value, put after the resources exist
ORDER=()          # the names in NEW, in the order they were given

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'deploy: %s\n' "$*" >&2
    exit 1
}
wr() { "${WRANGLER[@]}" "$@"; }
interactive() { [ -t 0 ] && [ "${DEPLOY_NONINTERACTIVE:-}" != 1 ]; }

# The names in a JSON array of objects with a "name" field (wrangler's --json lists).
json_names() {
    "$NODE" -e '
        let s = require("fs").readFileSync(0, "utf8");
        const i = s.indexOf("[");
        const list = i < 0 ? [] : JSON.parse(s.slice(i, s.lastIndexOf("]") + 1));
        for (const x of list) console.log(x.name);'
}

# --- secrets -----------------------------------------------------------------

load_existing_secrets() {
    local out err
    err=$(mktemp)
    if out=$(wr secret list --format json 2>"$err"); then
        EXISTING=" $(printf '%s' "$out" | json_names | tr '\n' ' ')"
    elif grep -q 'not found' "$err"; then
        EXISTING=" " # a new worker: no secret yet
    else
        cat "$err" >&2
        rm -f "$err"
        die "could not list the worker's secrets (is wrangler logged in?)"
    fi
    rm -f "$err"
}

has() { [[ "$EXISTING" == *" $1 "* ]] || [ -n "${NEW[$1]+x}" ]; }
from_env() { [ -n "${!1:-}" ]; }
known() { has "$1" || from_env "$1"; } # set already, or given in the environment

remember() { # name value
    NEW[$1]=$2
    ORDER+=("$1")
}

# Reads a value without echo into REPLY; an empty answer is an empty REPLY.
ask_hidden() { # prompt
    IFS= read -r -s -p "$1: " REPLY </dev/tty
    printf '\n' >/dev/tty
}

ask_choice() { # prompt default -> REPLY
    IFS= read -r -p "$1 " REPLY </dev/tty
    REPLY=${REPLY:-$2}
}

# A required secret: kept if set, else from the environment, else asked.
require_secret() { # name what [check-function]
    local name=$1 what=$2 check=${3:-}
    has "$name" && return 0
    local value=""
    if from_env "$name"; then
        value=${!name}
        if [ -n "$check" ] && ! "$check" "$value"; then
            die "$name: $CHECK_ERROR"
        fi
    elif interactive; then
        while [ -z "$value" ]; do
            ask_hidden "$name ($what)"
            value=$REPLY
            if [ -n "$value" ] && [ -n "$check" ] && ! "$check" "$value"; then
                echo "$name: $CHECK_ERROR; again" >/dev/tty
                value=""
            fi
        done
    else
        die "secret $name ($what) is not set on the worker. Export $name=… or run make deploy in a terminal."
    fi
    remember "$name" "$value"
}

optional_secret() { # name what
    local name=$1 what=$2
    has "$name" && return 0
    if from_env "$name"; then
        remember "$name" "${!name}"
    elif interactive && ! grep -qx "$name" "$SKIPPED_FILE" 2>/dev/null; then
        ask_hidden "$name ($what; Enter to skip)"
        if [ -n "$REPLY" ]; then
            remember "$name" "$REPLY"
        else
            mkdir -p "$(dirname "$SKIPPED_FILE")"
            echo "$name" >>"$SKIPPED_FILE"
        fi
    fi
}

CHECK_ERROR=""
long_enough() {
    CHECK_ERROR="must be at least 32 characters"
    [ "${#1}" -ge 32 ]
}

random_token() {
    if command -v openssl >/dev/null; then
        openssl rand -hex 32
    else
        od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
    fi
}

sentry_secrets() {
    require_secret SENTRY_CLIENT_SECRET "the integration's client secret"
    local mode=""
    if known SENTRY_CLIENT_ID; then
        mode=public
    elif known SENTRY_AUTH_TOKEN || known SENTRY_ORG_SLUG; then
        mode=internal
    elif interactive; then
        while [ -z "$mode" ]; do
            ask_choice "Sentry integration: [p]ublic (client id) or [i]nternal (auth token + org slug)? [p]" p
            case $REPLY in p | public) mode=public ;; i | internal) mode=internal ;; esac
        done
    else
        die "secret SENTRY_CLIENT_ID (public integration) or SENTRY_AUTH_TOKEN + SENTRY_ORG_SLUG (internal) is not set. Export them or run make deploy in a terminal."
    fi
    if [ "$mode" = public ]; then
        require_secret SENTRY_CLIENT_ID "the integration's client id"
    else
        require_secret SENTRY_AUTH_TOKEN "the internal integration's token"
        require_secret SENTRY_ORG_SLUG "your organization's slug"
    fi
}

board_login_secrets() {
    if known ACCESS_AUD || known ACCESS_TEAM_DOMAIN; then
        require_secret ACCESS_AUD "the Cloudflare Access application's audience tag"
        require_secret ACCESS_TEAM_DOMAIN "<team>.cloudflareaccess.com"
        return
    fi
    has DASHBOARD_TOKEN && return 0
    if from_env DASHBOARD_TOKEN || ! interactive; then
        require_secret DASHBOARD_TOKEN "the board's login, at least 32 characters" long_enough
        return
    fi
    ask_choice "Board login: [g]enerate a DASHBOARD_TOKEN, [t]ype one, or Cloudflare [a]ccess? [g]" g
    case $REPLY in
    a | access)
        require_secret ACCESS_AUD "the Cloudflare Access application's audience tag"
        require_secret ACCESS_TEAM_DOMAIN "<team>.cloudflareaccess.com"
        ;;
    t | type)
        require_secret DASHBOARD_TOKEN "the board's login, at least 32 characters" long_enough
        ;;
    *)
        # Shown nowhere: written to a file only its owner can read.
        local file="$ROOT/.wrangler/deploy/dashboard-token"
        mkdir -p "$(dirname "$file")"
        (umask 077 && random_token >"$file")
        remember DASHBOARD_TOKEN "$(cat "$file")"
        say "generated DASHBOARD_TOKEN: it is in $file (the board's login)"
        ;;
    esac
}

collect_secrets() {
    load_existing_secrets
    sentry_secrets
    board_login_secrets
    optional_secret GITHUB_WEBHOOK_SECRET "GitHub team sync: the org webhook's secret"
    optional_secret GITHUB_TOKEN "GitHub team sync: maps logins to Sentry members"
    optional_secret CRON_SECRET "bearer for the manual sync and retention triggers"
    optional_secret ADMIN_TOKEN "bearer for PUT/DELETE /api/github/users/{login}"
}

put_secrets() {
    local name
    if [ "${#ORDER[@]}" -eq 0 ]; then
        say "secrets: all set, none to put"
        return
    fi
    for name in "${ORDER[@]}"; do
        say "secret $name"
        # printf is a builtin: the value goes through a pipe, never an argument.
        printf '%s' "${NEW[$name]}" | wr secret put "$name" >/dev/null
    done
}

# --- resources ---------------------------------------------------------------

ensure_database() {
    local names
    names=$(wr d1 list --json | json_names) || die "could not list the D1 databases (is wrangler logged in?)"
    if grep -qx "$DB_NAME" <<<"$names"; then
        say "D1 database $DB_NAME: exists"
    else
        say "D1 database $DB_NAME: creating"
        # wrangler finds the id by name when it deploys: none goes in wrangler.toml.
        wr d1 create "$DB_NAME" >/dev/null
    fi
}

ensure_queue() { # name
    local out
    if out=$(wr queues info "$1" 2>&1); then
        say "queue $1: exists"
    elif grep -q 'does not exist' <<<"$out"; then
        say "queue $1: creating"
        wr queues create "$1" >/dev/null
    else
        printf '%s\n' "$out" >&2
        die "could not look up the queue $1"
    fi
}

apply_migrations() {
    say "migrations: applying to the remote database"
    wr d1 migrations apply DB --remote
}

# --- deploy ------------------------------------------------------------------

deploy_worker() { # -> WORKER_URL
    local log
    log=$(mktemp)
    if [ "${DEPLOY_DRY_RUN:-}" = 1 ]; then
        say "deploy: --dry-run (DEPLOY_DRY_RUN=1)"
        wr deploy --dry-run --outdir "$ROOT/dist" 2>&1 | tee "$log"
    else
        say "deploy"
        wr deploy 2>&1 | tee "$log"
    fi
    if [ -z "${WORKER_URL:-}" ]; then
        WORKER_URL=$(grep -Eo 'https://[A-Za-z0-9.-]+\.workers\.dev' "$log" | head -n1 || true)
    fi
    rm -f "$log"
}

print_urls() {
    local base=${WORKER_URL:-https://<your-worker>}
    base=${base%/}
    cat <<EOF

Paste these into Sentry (Settings → Developer Settings → your integration):
  Webhook URL   $base/api/webhooks/sentry
  Redirect URL  $base/sentry/setup
and into GitHub (Organization → Settings → Webhooks), events Teams + Memberships:
  Payload URL   $base/api/webhooks/github
EOF
    if [ -z "${WORKER_URL:-}" ]; then
        echo "(no workers.dev URL in wrangler's output: run again with WORKER_URL=https://… to print the real ones)"
    fi
}

main() {
    [ -n "$DB_NAME" ] || die "no database_name in wrangler.toml"
    collect_secrets
    ensure_database
    local q
    for q in "${QUEUES[@]}"; do ensure_queue "$q"; done
    apply_migrations
    put_secrets
    deploy_worker
    print_urls
}

main "$@"
