#!/usr/bin/env bash
# Installs what building and running the worker needs, into .tools/ and
# node_modules/ (both git-ignored). Idempotent: a second run installs nothing.
# Everything comes from crates.io and npm; nothing is downloaded elsewhere.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

WORKER_BUILD_VERSION=0.8.7
# The wasm-bindgen CLI must be exactly the version in Cargo.lock.
BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)

say() { printf '\033[1mbootstrap:\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

cargo_tool() { # crate version binary [--locked]
    local crate=$1 version=$2 bin=$3 locked=${4:-}
    if "$TOOLS/cargo/bin/$bin" --version 2>/dev/null | grep -qF "$version"; then
        return 0
    fi
    say "installing $crate $version into .tools/ (a few minutes, once)"
    cargo install "$crate" --version "$version" $locked --root "$TOOLS/cargo" --quiet
}

# Two installs at once keep both cores busy on a fresh machine.
cargo_tool worker-build "$WORKER_BUILD_VERSION" worker-build --locked &
wb=$!
# Not --locked: a locked dependency of wasm-bindgen-cli is not served by the registry.
cargo_tool wasm-bindgen-cli "$BINDGEN_VERSION" wasm-bindgen &
bg=$!
wait $wb
wait $bg

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm dev dependencies (wrangler, binaryen, node 22)"
    # Not `npm ci`: npm 11 leaves other platforms' optional workerd packages
    # out of the lock file and then refuses it as out of sync. The lock still
    # pins every version that is installed.
    npm install --no-audit --no-fund --loglevel=error
    touch node_modules/.package-lock.json
fi

if [ ! -f .dev.vars ]; then
    say "creating .dev.vars from .dev.vars.example"
    cp .dev.vars.example .dev.vars
fi
