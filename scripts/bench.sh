#!/usr/bin/env bash
# Cluster benchmark on three local nodes (see docs/benchmarks.md, "Cluster"):
#   (a) bare hashicorp/raft with a no-op FSM, (b) 1 KiB writes through the
#   REST API of three pvecfs processes, (c) leader failover.
# Builds the binaries into ./bin, then runs the benchmark program:
#   scripts/bench.sh                          print the Markdown report
#   scripts/bench.sh -out docs/benchmarks.md  also replace the Cluster section
#   scripts/bench.sh -only raft               only part (a); see -h for more
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/ ./cmd/...
export PVECFS_BENCH_CMD="scripts/bench.sh${*:+ $*}"
exec go run ./tests/bench -bin ./bin "$@"
