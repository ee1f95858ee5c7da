# linectl — see README.md. `make test` is what CI runs (.ci/run).
GO       ?= go
BIN      ?= bin/linectl
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/linectl/linectl/cmd.Version=$(VERSION)

.PHONY: all build test test-short cover lint staticcheck fmt-check vet demo bench man docs testwasm clean cross release-snapshot release-check

# The race detector needs cgo and a C compiler; without one the tests run
# without it (and say so).
RACE := $(shell CC=$$($(GO) env CC); command -v $${CC:-cc} >/dev/null 2>&1 && [ "$$($(GO) env CGO_ENABLED)" = 1 ] && echo -race)

# Release targets (GOOS/GOARCH), built by `make cross` and by goreleaser.
TARGETS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
GORELEASER := $(GO) run github.com/goreleaser/goreleaser/v2@v2.15.1

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# Everything CI checks: formatting, vet, unit + end-to-end tests with the race
# detector (the e2e tests build the binary and drive it against the simulator),
# and the fuzz targets' seed corpora.
# e2e tests run side by side (each has its own simulator and config); they
# mostly wait on processes and timers, so more than one per CPU pays.
PARALLEL ?= 4
test: fmt-check vet
	@[ -n "$(RACE)" ] || echo "make test: no C compiler (or cgo off): running without the race detector"
	$(GO) test $(RACE) -count=1 -parallel $(PARALLEL) ./...

# Coverage of cmd/ and the rest, from the unit tests and from the e2e tests'
# runs of a binary built with -cover, merged (go tool covdata).
COVERDIR ?= $(CURDIR)/.cover
cover:
	rm -rf $(COVERDIR) && mkdir -p $(COVERDIR)
	$(GO) test -count=1 -cover -coverpkg=github.com/linectl/linectl/... ./cmd/... ./internal/... ./pkg/... -args -test.gocoverdir=$(COVERDIR) >/dev/null
	LINECTL_E2E_COVERDIR=$(COVERDIR) $(GO) test -count=1 ./test/e2e/
	$(GO) tool covdata percent -i=$(COVERDIR) -pkg=github.com/linectl/linectl/cmd,github.com/linectl/linectl/internal/...,github.com/linectl/linectl/pkg/...

test-short:
	$(GO) test -short ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# gofmt, vet and staticcheck (pinned; fetched through the module proxy on
# first use). CI runs it after the tests.
lint: fmt-check vet staticcheck

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# Builds linectl, starts the sandbox, logs in by QR and by password, shows
# whoami, sends a message, logs out. No LINE account is touched.
demo: build
	./scripts/demo.sh $(BIN)

# Measures linectl against curl (and curl | jq for the stream); writes docs/benchmarks.md.
bench: build
	./scripts/bench.sh $(BIN)

man:
	$(GO) run ./scripts/gendocs -man docs/man

docs:
	$(GO) run ./scripts/gendocs -md docs/commands

# Rebuilds the embind test module used by the wasm signer tests (needs emscripten).
testwasm:
	./scripts/build-testwasm.sh

# Cross-compiles every release target (CI runs it).
cross:
	@for t in $(TARGETS); do \
		echo "build $$t"; \
		GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o /dev/null . || exit 1; \
	done

# Archives, .deb and .rpm for every target in dist/, without publishing
# (goreleaser is fetched through the module proxy on first use).
release-snapshot:
	$(GORELEASER) release --snapshot --clean

# Checks .goreleaser.yaml (CI runs it).
release-check:
	$(GORELEASER) check

clean:
	rm -rf bin dist
