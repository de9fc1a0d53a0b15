# The two commands the README names: `make dev` and `make test`.
PORT ?= 8787
export PORT

.PHONY: dev test tools build bench bench-errors bench-sync deploy

dev: tools
	@bash tools/dev.sh

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
