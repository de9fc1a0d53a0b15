#!/usr/bin/env bash
# `make check`: the lint gate. Installs what is missing, then runs every check
# below (all of them, even after a failure) and exits non-zero if any failed:
#   - cargo fmt --check (rustfmt.toml);
#   - clippy -D warnings natively on every target (lib, bins, tests, benches);
#   - clippy -D warnings on the wasm32 lib (the shell, src/shell/);
#   - every public/**/*.js parsed as an ES module and its imports linked;
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

# Every script in public/ is an ES module: tools/js-check.mjs parses each as
# one and links their imports (`node --check file.js` lets a broken module by).
js_modules() {
    "$NODE" --experimental-vm-modules --disable-warning=ExperimentalWarning tools/js-check.mjs public
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
step "public/**/*.js as ES modules (parse + link)" js_modules
step "bash -n tools/*.sh .ci/run" sh_syntax
step "no import cycle between src/ files" python3 tools/cycles.py --check --max 5
step "README.md ≤ 15,000 bytes" readme_size

if [ ${#failed[@]} -gt 0 ]; then
    say "failed: ${failed[*]}" >&2
    exit 1
fi
say "all checks passed"
