#!/usr/bin/env bash
# Compatibility tests with real third-party Proxmox VE API clients
# (tests/compat: go-proxmox v0.8.2, proxmoxer 1.2.0, npm proxmox-api 1.1.1)
# against real `pvecfs serve` processes.
#
# tests/compat is its own Go module, so the root `go test ./...` does not
# reach it; this script runs it. As root with apt-get available it first
# installs Debian's python3-proxmoxer and python3-requests if they are
# missing; with npm available it installs proxmox-api from
# tests/compat/js/package-lock.json. A client that is still missing makes its
# test skip, saying why.
#   scripts/compat.sh                 run every compatibility test
#   scripts/compat.sh -run GoProxmox  extra arguments go to `go test`
set -euo pipefail
cd "$(dirname "$0")/.."

if ! /usr/bin/python3 -c 'import proxmoxer, requests' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "compat: installing python3-proxmoxer python3-requests" >&2
    if ! { apt-get update -qq >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3-proxmoxer python3-requests >/dev/null; }; then
      echo "compat: installing python3-proxmoxer failed; its test will skip" >&2
    fi
  else
    echo "compat: python3-proxmoxer not installed and cannot install it (not root or no apt-get); its test will skip" >&2
  fi
fi

if command -v npm >/dev/null 2>&1; then
  if ! grep -qs '"version": "1.1.1"' tests/compat/js/node_modules/proxmox-api/package.json; then
    echo "compat: installing proxmox-api (npm ci)" >&2
    (cd tests/compat/js && npm ci --no-audit --no-fund --loglevel=error) ||
      echo "compat: npm ci failed; the proxmox-api test will skip" >&2
  fi
else
  echo "compat: npm not found; the proxmox-api test will skip" >&2
fi

cd tests/compat
exec go test -count=1 -parallel 4 -timeout 5m "$@" ./...
