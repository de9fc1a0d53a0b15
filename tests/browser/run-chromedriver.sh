#!/usr/bin/env bash
# Started by the browser-test helper in a process group of its own. Runs
# chromedriver (which starts Chromium in this same group) and, once the test
# process ($1) is gone, stops exactly this process group: cleanup holds even
# when a test panics or the runner is killed.
set -u
parent=$1 port=$2 log=$3
/usr/bin/chromedriver --port="$port" --log-level=WARNING \
    >"$log" 2>&1 </dev/null &
child=$!
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
kill -- -$$ 2>/dev/null
