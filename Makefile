# Mail Connector — see README.md.
GO        ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
BENCH_N   ?= 10000
BENCH_HISTORY ?= 100000
BENCH_SCALE ?= 1000,10000,50000
TEST_TIMEOUT ?= 45m

.PHONY: run test deps lint bench quality build clean help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

# A first build compiles the dependencies (the AWS SDK's service packages
# are the largest): about a minute on two cores. Say so rather than sit
# silent; later builds take them from the build cache.
FIRST_BUILD_PROBE := github.com/aws/aws-sdk-go-v2/service/dynamodb
LAMBDA_GO := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
# The connector is linked statically too: nothing in it needs C, and a
# process that skips the dynamic loader and libc starts about 2 ms sooner
# (50 runs of `connector --version`: 17.6 ms dynamic, 15.1 ms static).
CONNECTOR_GO := CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath
define first_build_note
	@if [ "$$($(1) $(GO) list $(2) -f '{{.Stale}}' $(FIRST_BUILD_PROBE) 2>/dev/null)" = true ]; then \
		echo "The first build$(3) compiles the dependencies: about a minute; later builds take seconds."; fi
endef

run: ## run the connector locally (the demo without JOBS=FILE; ARGS=--once etc.)
	$(call first_build_note,$(CONNECTOR_GO),,)
	$(CONNECTOR_GO) $(GO) run ./cmd/connector run $(if $(JOBS),--jobs $(JOBS)) $(ARGS)

deps: ## install what the tests need (Dovecot, mbsync) from Debian packages
	@bash scripts/deps.sh

lint: ## gofmt, go vet, staticcheck, and go.mod/go.sum as go mod tidy leaves them
	@out=$$(gofmt -l cmd shared functions 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@$(GO) mod tidy -diff || { echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1; }
	@out=$$($(GO) list -deps ./cmd/connector ./functions/... | grep '/shared/testkit/'); if [ -n "$$out" ]; then echo "product code imports test support:"; echo "$$out"; exit 1; fi

test: deps lint infra-test ## the whole test suite (starts Dovecot and moto itself), then a bounded fuzz run
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	@$(MAKE) --no-print-directory fuzz-ci

quality: ## accuracy of preprocessing per category on the quality corpus; fails below the floors
	$(GO) test -count=1 -run 'TestQuality$$' -v ./shared/preprocess

bench: deps ## throughput and memory of the local pipeline against Dovecot, beside mbsync; preprocess and Graph adapter throughput
	$(GO) run ./cmd/benchmark -n $(BENCH_N) -history $(BENCH_HISTORY)
	$(GO) run ./cmd/benchmark -scale $(BENCH_SCALE)
	$(GO) test -run XXX -bench 'BenchmarkPreprocess$$' -benchtime 3x -benchmem ./shared/preprocess
	$(GO) test -run XXX -bench 'BenchmarkScanAndFetch$$' -benchtime 5x -benchmem ./shared/mailbox/graphbox
	$(GO) run ./cmd/benchmark -aws -n 100

build: ## bin/connector, and an arm64 Lambda bootstrap per function in build/
	$(call first_build_note,$(CONNECTOR_GO),,)
	$(CONNECTOR_GO) $(GO) build -o bin/connector ./cmd/connector
	$(call first_build_note,$(LAMBDA_GO),$(LAMBDA_FLAGS), for Lambda (linux/arm64))
	@# One go build for all functions: each package they share is compiled
	@# once, and independent packages compile side by side.
	@rm -rf build/.out && mkdir -p build/.out
	$(LAMBDA_GO) $(GO) build $(LAMBDA_FLAGS) -ldflags='-s -w' -o build/.out/ $(addprefix ./functions/,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do mkdir -p build/$$f && mv build/.out/$$f build/$$f/bootstrap && echo "build/$$f/bootstrap"; done
	@rm -rf build/.out

clean: ## remove build output and local state; keeps .connector/secrets.yaml
	rm -rf bin build
	@if [ -d .connector ]; then find .connector -mindepth 1 -maxdepth 1 ! -name secrets.yaml -exec rm -rf {} +; fi

# --- Deploy: the CDK app in infra/ (a Go module of its own), the CDK CLI
# pinned in package.json. See README.md, "Deploy".
CDK            := npx --no-install cdk
LAMBDA_FUNCTIONS := fetch preprocess rules deadletter webhook renew schedsync
# JOBS=FILE picks the jobs file, as for `make run`; CDK_ARGS go to the CLI.
CDK_CONTEXT    := $(if $(JOBS),-c jobsFile=$(JOBS)) $(CDK_ARGS)
# Function binaries `make build` has not made yet: infra-test then synthesizes
# with placeholders (allowMissingBuild=true); synth and deploy refuse.
MISSING_BUILDS := $(filter-out $(wildcard build/*/bootstrap),$(foreach f,$(LAMBDA_FUNCTIONS),build/$(f)/bootstrap))
# infra/ builds with -mod=mod (here and in cdk.json): it requires the main
# module through a replace, so when someone bumps a dependency in ./go.mod
# that infra also builds with, Go updates infra/go.mod instead of failing.
# jsii runs the CDK library in Node.js and prints a banner when that Node.js
# release is past its end of life (Node 20 here); it says nothing about the
# template. Set the variable empty to see it.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20

.PHONY: synth diff deploy infra-test

node_modules/.bin/cdk: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# SUMMARY= (empty) leaves out synth's deploy summary (infra-test does).
SUMMARY ?= 1

synth: node_modules/.bin/cdk ## synthesize the stack offline into infra/cdk.out (fails on warnings), then a deploy summary
	$(CDK) synth --quiet --strict $(CDK_CONTEXT)
	@$(if $(SUMMARY),$(GO) run ./cmd/deploysummary $(or $(JOBS),events/jobs.example.yaml))

diff: node_modules/.bin/cdk ## compare the stack with the deployed one (AWS credentials)
	$(CDK) diff $(CDK_CONTEXT)

deploy: node_modules/.bin/cdk ## deploy the stack (after make build; AWS credentials)
	$(CDK) deploy $(CDK_CONTEXT)

infra-test: node_modules/.bin/cdk ## CDK template tests, and a synth (placeholders unless make build ran)
	@out=$$(gofmt -l infra); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	cd infra && $(GO) vet -mod=mod ./... && $(GO) test -mod=mod -count=1 ./...
	@$(MAKE) --no-print-directory synth SUMMARY= $(if $(MISSING_BUILDS),CDK_ARGS="-c allowMissingBuild=true $(CDK_ARGS)")

.PHONY: fuzz fuzz-ci

fuzz: ## fuzz the MIME parser and text pipeline for 60s (FUZZTIME=5m for longer)
	$(GO) test -run XXX -fuzz '^FuzzProcess$$' -fuzztime $(or $(FUZZTIME),60s) ./shared/preprocess
	$(GO) test -run XXX -fuzz '^FuzzVisibleText$$' -fuzztime $(or $(FUZZTIME),60s) ./shared/preprocess

# fuzz-ci counts executions instead of seconds: with a time budget, Go
# 1.26's fuzz coordinator can report "context deadline exceeded" as a
# failure when the time runs out mid-execution (go.dev/issue/75804, fixed
# in Go 1.27). A real finding always writes testdata/fuzz/<target>/<file>.
fuzz-ci: ## the bounded fuzz run CI does (about 10-20s per target)
	$(GO) test -run XXX -fuzz '^FuzzProcess$$' -fuzztime 100000x -fuzzminimizetime 200x ./shared/preprocess
	$(GO) test -run XXX -fuzz '^FuzzVisibleText$$' -fuzztime 60000x -fuzzminimizetime 200x ./shared/preprocess
