#!/usr/bin/env bash
# `make demo`: signs a demo set of Sentry deliveries with the secret in
# .dev.vars (else .dev.vars.example) and posts them to the worker that
# `make dev` runs on PORT. Arguments go to the replay tool (`--help`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
exec cargo run --quiet --locked --bin replay -- "$@"
