# The two commands the README names: `make dev` and `make test`.
PORT ?= 8787
export PORT

.PHONY: dev demo test tools build bench bench-errors bench-sync deploy

dev: tools
	@bash tools/dev.sh

# A populated board without Sentry: `make demo` while `make dev` runs;
# `make demo ARGS="tests/fixtures/sentry/issue-assigned.json"` replays files.
demo:
	@bash tools/demo.sh $(ARGS)

test:
	@bash tools/test.sh

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

deploy: tools
	@bash tools/deploy.sh

# Coverage-guided fuzzing (cargo-fuzz): every target 600 s, or
# `tools/fuzz.sh <target> <seconds>`.
.PHONY: fuzz
fuzz:
	@bash tools/fuzz.sh
