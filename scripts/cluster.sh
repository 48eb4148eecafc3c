#!/usr/bin/env bash
# Start or stop a local three-node pvecfs cluster on 127.0.0.1.
#   scripts/cluster.sh up     build, start pve1..pve3 and join them (cluster "local")
#   scripts/cluster.sh down   stop them (SIGTERM)
#   scripts/cluster.sh status pvecm status on pve1
# Data and logs live in ./cluster-data/<node>; the root@pam password is
# $PVECFS_ROOT_PASSWORD (default "pvecfs-dev").
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./bin}
DATA=${DATA:-./cluster-data}
PW=${PVECFS_ROOT_PASSWORD:-pvecfs-dev}
N=${N:-3}

api_port() { echo $((18005 + $1)); }
raft_port() { echo $((15404 + $1)); }
metrics_port() { echo $((19104 + $1)); }
SERVE_ARGS=${SERVE_ARGS:-}

up() {
  go build -o "$BIN/" ./cmd/...
  mkdir -p "$DATA"
  for i in $(seq 1 "$N"); do
    d="$DATA/pve$i"; mkdir -p "$d"
    PVECFS_ROOT_PASSWORD="$PW" nohup "$BIN/pvecfs" serve --node "pve$i" --data-dir "$d/data" \
      --api-addr "127.0.0.1:$(api_port "$i")" --raft-addr "127.0.0.1:$(raft_port "$i")" \
      --metrics-addr "127.0.0.1:$(metrics_port "$i")" $SERVE_ARGS >"$d/log" 2>&1 &
    echo $! >"$d/pid"
  done
  for i in $(seq 1 "$N"); do
    for _ in $(seq 1 100); do
      curl -skf "https://127.0.0.1:$(api_port "$i")/api2/json/access/domains" >/dev/null && break
      sleep 0.1
    done
  done
  if ! "$BIN/pvecm" status --data-dir "$DATA/pve1/data" >/dev/null 2>&1; then
    "$BIN/pvecm" create local --data-dir "$DATA/pve1/data"
  fi
  fp=$("$BIN/pvecfs" fingerprint --data-dir "$DATA/pve1/data")
  for i in $(seq 2 "$N"); do
    PVECFS_JOIN_PASSWORD="$PW" "$BIN/pvecm" add "127.0.0.1:$(api_port 1)" --fingerprint "$fp" --data-dir "$DATA/pve$i/data"
  done
  "$BIN/pvecm" status --data-dir "$DATA/pve1/data"
  for i in $(seq 1 "$N"); do echo "pve$i: https://127.0.0.1:$(api_port "$i")  metrics http://127.0.0.1:$(metrics_port "$i")/metrics  (log $DATA/pve$i/log)"; done
  echo "root@pam password: $PW"
}

down() {
  for i in $(seq 1 "$N"); do
    f="$DATA/pve$i/pid"
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) "$BIN/pvecm" status --data-dir "$DATA/pve1/data" ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
