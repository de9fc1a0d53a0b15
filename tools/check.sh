#!/usr/bin/env bash
# `make check`: the lint gate. Installs what is missing, then runs every check
# below (all of them, even after a failure) and exits non-zero if any failed:
#   - cargo fmt --check (rustfmt.toml);
#   - clippy -D warnings natively on every target (lib, bins, tests, benches);
#   - clippy -D warnings on the wasm32 lib (the shell, src/shell/);
#   - node --check of every public/*.js;
#   - bash -n of every tools/*.sh and .ci/run;
#   - no import cycle between files of src/ (tools/cycles.py, tests included);
#   - README.md at most 15,000 bytes (a front page; the reference is in docs/).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
tools/bootstrap.sh

say() { printf '\033[1mcheck:\033[0m %s\n' "$*"; }

# bootstrap.sh adds the wasm32 target; the gate also needs these two.
for component in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component-"; then
        say "adding the $component component"
        rustup component add "$component"
    fi
done

failed=()
step() { # name command...
    local name=$1 start=$SECONDS
    shift
    say "$name"
    if "$@"; then
        say "$name: ok ($((SECONDS - start)) s)"
    else
        say "$name: FAILED"
        failed+=("$name")
    fi
}

js_syntax() {
    local f rc=0
    for f in public/*.js; do
        "$NODE" --check "$f" || rc=1
    done
    return $rc
}

sh_syntax() {
    local f rc=0
    for f in tools/*.sh .ci/run; do
        bash -n "$f" || rc=1
    done
    return $rc
}

# The README is the front page: what it is, the two commands, the URLs and
# secrets. Reference goes to docs/ (issue 19), so its size is bounded.
readme_size() {
    local max=15000 size
    size=$(wc -c <README.md)
    if [ "$size" -gt "$max" ]; then
        echo "README.md is $size bytes, over $max: move reference to docs/" >&2
        return 1
    fi
}

step "rustfmt" cargo fmt --check
step "clippy (native, all targets)" cargo clippy --locked --all-targets -- -D warnings
step "clippy (wasm32 lib)" cargo clippy --locked --target wasm32-unknown-unknown --lib -- -D warnings
step "node --check public/*.js" js_syntax
step "bash -n tools/*.sh .ci/run" sh_syntax
step "no import cycle between src/ files" python3 tools/cycles.py --check --max 5
step "README.md ≤ 15,000 bytes" readme_size

if [ ${#failed[@]} -gt 0 ]; then
    say "failed: ${failed[*]}" >&2
    exit 1
fi
say "all checks passed"
