#!/usr/bin/env bash
# Installs what the browser tests (tests/browser/pages.rs) drive: headless Chromium
# and its WebDriver, from Debian's own packages (nothing else is downloaded).
# Idempotent: does nothing when both binaries are already there.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
say() { printf '\033[1mbrowser-deps:\033[0m %s\n' "$*"; }
if ! command -v apt-get >/dev/null; then
    say "the browser tests need /usr/bin/chromium and /usr/bin/chromedriver (Debian: chromium chromium-driver)" >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
    sudo=(sudo)
fi
say "installing chromium and chromium-driver with apt-get (once)"
export DEBIAN_FRONTEND=noninteractive
# Waits for another apt/dpkg run to let go of its locks instead of failing.
apt=(apt-get -q -y -o DPkg::Lock::Timeout=600)
"${sudo[@]}" "${apt[@]}" update
"${sudo[@]}" "${apt[@]}" install --no-install-recommends chromium chromium-driver fonts-liberation
