# Mail Connector — see README.md.
GO        ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
BENCH_N   ?= 10000
TEST_TIMEOUT ?= 45m

.PHONY: run test deps lint bench build clean help

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

run: ## run the connector locally (the demo without JOBS=FILE; ARGS=--once etc.)
	$(GO) run ./cmd/connector run $(if $(JOBS),--jobs $(JOBS)) $(ARGS)

deps: ## install what the tests need (Dovecot, mbsync) from Debian packages
	@bash scripts/deps.sh

lint: ## gofmt and go vet
	@out=$$(gofmt -l cmd shared functions 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: deps lint ## the whole test suite (starts Dovecot itself)
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

bench: deps ## throughput and memory of the local pipeline against Dovecot, beside mbsync
	$(GO) run ./cmd/benchmark -n $(BENCH_N)

build: ## bin/connector, and an arm64 Lambda bootstrap per function in build/
	$(GO) build -o bin/connector ./cmd/connector
	@for f in $(FUNCTIONS); do \
		echo "build/$$f/bootstrap"; \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o build/$$f/bootstrap ./functions/$$f || exit 1; \
	done

clean: ## remove build output and local state
	rm -rf bin build .connector
