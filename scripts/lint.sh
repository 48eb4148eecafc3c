#!/usr/bin/env bash
# gofmt (must be clean) and staticcheck (installed from the Go module proxy
# if missing; skipped with a warning if it cannot be installed).
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './tests/compat/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
sc="$(go env GOPATH)/bin/staticcheck"
if [ ! -x "$sc" ]; then
  GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@v0.8.2 >/dev/null 2>&1 ||
    GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@latest >/dev/null 2>&1 || true
fi
if [ -x "$sc" ]; then
  "$sc" ./...
  echo "staticcheck: clean"
else
  echo "lint: staticcheck could not be installed; skipped" >&2
fi
