# linectl — see README.md. `make test` is what CI runs (.ci/run).
GO       ?= go
BIN      ?= bin/linectl
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/linectl/linectl/cmd.Version=$(VERSION)

.PHONY: all build test test-short lint staticcheck fmt-check vet demo bench man docs testwasm clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# Everything CI checks: formatting, vet, unit + end-to-end tests with the race
# detector (the e2e tests build the binary and drive it against the simulator),
# and the fuzz targets' seed corpora.
test: fmt-check vet
	$(GO) test -race -count=1 ./...

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

clean:
	rm -rf bin
