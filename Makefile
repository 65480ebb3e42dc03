# Rewind — run `make` for the list of targets.
.DEFAULT_GOAL := help
GO      ?= go
BIN     := bin/rewind
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: help build run test test-deps test-unit test-e2e fuzz soak bench bench-deps lint

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/rewind
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/rewind

run: build ## build and start Rewind with its embedded defaults (data in ./data)
	./$(BIN) serve

# Under make test and make test-e2e a missing test tool (ffmpeg, boto3,
# versitygw...) fails its test instead of skipping it (as under CI=true).
test: export REWIND_REQUIRE_TOOLS = 1
test: test-deps ## install missing test tools (ffmpeg...), then run every test and each fuzz target briefly
	$(GO) vet ./...
	# Unit packages first, then the end-to-end tests alone: the players in e2e
	# measure real-time playback and must not share the 2 cores with -race builds.
	$(GO) test -race -count=1 -timeout 20m $$($(GO) list ./... | grep -v '/e2e')
	$(GO) test -race -count=1 -timeout 40m ./e2e/...
	$(MAKE) fuzz

test-deps: ## install what the tests need and is missing (apt-get)
	bash .ci/test-deps.sh

test-unit: ## unit tests only (no ffmpeg, quick)
	$(GO) test -race -short -count=1 ./...

test-e2e: export REWIND_REQUIRE_TOOLS = 1
test-e2e: test-deps ## end-to-end tests only
	$(GO) test -count=1 -timeout 30m ./e2e/...

FUZZTIME ?= 3s
fuzz: ## run each fuzz target for FUZZTIME (default 3s; e.g. make fuzz FUZZTIME=60s)
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash .ci/fuzz.sh

soak: test-deps ## kill test with 100 random SIGKILLs (REWIND_KILLS=n, REWIND_KILL_SEED=s to replay)
	REWIND_KILLS=$${REWIND_KILLS:-100} $(GO) test -count=1 -timeout 60m -run '^TestKillRecovery$$' -v ./e2e/

bench-deps: ## install what the benchmarks need (ffmpeg, nginx, wrk, xfsprogs)
	bash .ci/test-deps.sh bench

bench: bench-deps build ## run the benchmarks, results in docs/BENCHMARKS.md
	bash .ci/bench.sh

lint: ## gofmt, go vet and the one-way import rule (docs/architecture.md)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -run '^TestImportRules' ./cmd/rewind/
