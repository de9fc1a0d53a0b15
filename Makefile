# The two commands the README names: `make dev` and `make test`.
PORT ?= 8787
export PORT

.PHONY: dev demo test tools build bench bench-errors bench-sync bench-report profile deploy

dev: tools
	@bash tools/dev.sh

# A populated board without Sentry: `make demo` while `make dev` runs;
# `make demo ARGS="tests/fixtures/sentry/issue-assigned.json"` replays files.
demo:
	@bash tools/demo.sh $(ARGS)

test:
	@bash tools/test.sh

# The lint gate (CI runs it before `make test`): rustfmt, clippy -D warnings
# (native all targets and the wasm32 lib), public/ JS parsed and linked as ES
# modules (tools/js-check.mjs), bash -n, no import cycle, README size.
.PHONY: check
check:
	@bash tools/check.sh

# Import cycles between src/ files, drawn (`make check` fails on any).
.PHONY: cycles
cycles:
	@python3 tools/cycles.py

tools:
	@bash tools/bootstrap.sh

build: tools
	@bash tools/build.sh

bench: tools
	@bash tools/bench.sh

bench-errors: tools
	@bash tools/bench.sh errors

bench-sync: tools
	@bash tools/bench.sh sync

# Every figure in one run, written to BENCHMARKS.md (sizes: docs/operations.md).
bench-report: tools
	@bash tools/bench.sh report

# Where a Sentry issue ack's CPU goes inside the worker: V8's sampling
# profiler through wrangler's inspector, by stage and by function.
profile: tools
	@bash tools/profile.sh

# Idempotent: creates the D1 database and queues if missing, migrates, asks
# only for secrets not set yet (or takes them from the environment), deploys
# and prints the Sentry/GitHub URLs. See docs/deploy.md.
deploy: tools
	@bash tools/deploy.sh

# Coverage-guided fuzzing (cargo-fuzz): every target 600 s, or
# `tools/fuzz.sh <target> <seconds>`.
.PHONY: fuzz
fuzz:
	@bash tools/fuzz.sh

# Load and no loss: 10,000 signed webhooks of every kind (SK_LOAD_N,
# SK_LOAD_C threads) → each accepted one in D1 once, queue drained, DLQ empty.
.PHONY: load
load: tools
	@bash tools/load.sh
