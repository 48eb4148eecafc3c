# pvecfs build, run and test targets.
GO      ?= go
BIN     := bin
DATA    ?= ./data
API     ?= 127.0.0.1:8006
RAFT    ?= 127.0.0.1:5405
FUZZTIME ?= 3s
CHAOS   ?= 10m

.PHONY: build run test lint unit vet fuzz-short compat chaos cluster cluster-down bench clean

build:
	$(GO) build -o $(BIN)/ ./cmd/...

run: build
	$(BIN)/pvecfs serve --data-dir $(DATA) --api-addr $(API) --raft-addr $(RAFT)

# test runs every test: vet, gofmt + staticcheck, unit tests with the race detector (this includes the
# multi-process cluster tests under tests/), a short run of each fuzz target,
# and the real-client compatibility tests (own module in tests/compat).
test: vet lint unit fuzz-short compat

vet:
	$(GO) vet ./...

lint:
	@scripts/lint.sh

# PVECFS_HARNESS_RACE=1: the multi-process tests run race-built daemons too.
unit:
	PVECFS_HARNESS_RACE=1 $(GO) test -race -count=1 -timeout 20m ./...

fuzz-short:
	@scripts/fuzz.sh $(FUZZTIME)

compat:
	@scripts/compat.sh

# chaos runs the SIGKILL nemesis test for longer (make chaos CHAOS=30m).
chaos:
	PVECFS_HARNESS_RACE=1 PVECFS_CHAOS_DURATION=$(CHAOS) $(GO) test -count=1 -timeout 0 -run TestChaos -v ./tests/cluster/

cluster: build
	scripts/cluster.sh up

cluster-down:
	scripts/cluster.sh down

bench: build
	scripts/bench.sh

clean:
	rm -rf $(BIN)
