#!/usr/bin/env bash
# The wasm size matrix of issue 18: raw and `gzip -9` bytes of the worker's
# wasm for each post-link step (wasm-opt -Oz / -O3, the name and producers
# sections stripped) on the current build, and with SIZE_MATRIX_PROFILES=1
# also for each release profile variant (opt-level s/z/3, lto off,
# codegen-units 16), each a full `worker-build --release` (minutes each;
# the build of the Cargo.toml profile is restored at the end).
#   bash benches/size_matrix.sh [wasm]      # default: build/index_bg.wasm
# The input should keep its name section (`SK_KEEP_NAMES=1 bash tools/build.sh`)
# for the "as built" row to mean what it says.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../tools/env.sh"
cd "$ROOT"
src=${1:-build/index_bg.wasm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# No feature flags: wasm-opt takes them from the target_features section
# (--all-features re-encodes imports in a form V8 refuses).
opt() { "$WASM_OPT_BIN" "$@"; }

row() { # label file
    local raw gz names
    raw=$(stat -c %s "$2")
    gz=$(gzip -9 -c "$2" | wc -c)
    names=$(python3 - "$2" <<'PY'
import sys
sys.path.insert(0, "tools")
from wasm_symbols import sections, name
n = sum(len(b) for s, b in sections(open(sys.argv[1], "rb").read()) if s == 0 and name(b, 0)[0] == "name")
print(n)
PY
)
    printf '| %s | %s | %s | %s |\n' "$1" "$raw" "$gz" "$names"
}

echo "| variant | raw bytes | gzip -9 bytes | name section |"
echo "|---|---|---|---|"
post_rows() { # prefix file
    row "$1 as built" "$2"
    opt --strip-debug --strip-producers "$2" -o "$tmp/strip.wasm"
    row "$1 + strip names/producers" "$tmp/strip.wasm"
    opt -Oz --strip-debug --strip-producers "$2" -o "$tmp/oz.wasm"
    row "$1 + wasm-opt -Oz + strip" "$tmp/oz.wasm"
    opt -O3 --strip-debug --strip-producers "$2" -o "$tmp/o3.wasm"
    row "$1 + wasm-opt -O3 + strip" "$tmp/o3.wasm"
}
post_rows "Cargo.toml profile," "$src"

if [ "${SIZE_MATRIX_PROFILES:-}" = 1 ]; then
    # panic = "abort" is absent: it is already wasm32-unknown-unknown's
    # panic strategy, so the row would be the Cargo.toml one.
    for variant in "OPT_LEVEL=s" "OPT_LEVEL=3" "LTO=false" "CODEGEN_UNITS=16"; do
        env "CARGO_PROFILE_RELEASE_$variant" SK_KEEP_NAMES=1 bash tools/build.sh >"$tmp/build.log" 2>&1 ||
            { tail -20 "$tmp/build.log"; exit 1; }
        cp build/index_bg.wasm "$tmp/$variant.wasm"
        row "$variant, as built" "$tmp/$variant.wasm"
        opt --strip-debug --strip-producers "$tmp/$variant.wasm" -o "$tmp/strip.wasm"
        row "$variant + strip names/producers" "$tmp/strip.wasm"
    done
    bash tools/build.sh >"$tmp/build.log" 2>&1
fi
