#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a short time each (default 3s).
# Usage: scripts/fuzz.sh [DURATION]
set -euo pipefail
dur=${1:-3s}
cd "$(dirname "$0")/.."
found=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for fz in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    found=$((found+1))
    echo "fuzz $pkg $fz ($dur)"
    go test -run '^$' -fuzz "^${fz}\$" -fuzztime "$dur" "$pkg"
  done
done
echo "fuzz targets run: $found"
