# shellcheck shell=bash
# start_queue_manager NAME LOG_LEVEL: what platform/scripts/api-contract.sh
# and bench-api.sh share. Builds queue-manager into a fresh temporary
# directory ($work, removed on exit with the process), runs it on a free
# loopback port against the broker in KAFKA_BOOTSTRAP_SERVERS (or
# KAFKA_IT_BOOTSTRAP, as `platform/kafka/kafka.sh env` exports it) with the
# embedded store, and waits until /readyz answers. It has no worker
# binaries: every launch fails at once and its workflow ends, so only the
# API and the store are exercised. Sets work, qm_pid and qm_base
# (http://127.0.0.1:<port>). Run from the repository root. The API's
# per-client rate limit is off (API_RATE_LIMIT=0 unless set): these scripts
# measure the API, not the limit. AUTH_MODE and the OIDC_* settings pass
# through from the caller.
start_queue_manager() {
  local name=$1 level=$2
  local bootstrap=${KAFKA_BOOTSTRAP_SERVERS:-${KAFKA_IT_BOOTSTRAP:-}}
  [[ -n "$bootstrap" ]] || { echo "$name: set KAFKA_BOOTSTRAP_SERVERS (or run under make test-integration)" >&2; exit 2; }
  work=$(mktemp -d)
  qm_pid=""
  trap 'if [[ -n "$qm_pid" ]]; then kill "$qm_pid" 2>/dev/null || true; wait "$qm_pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

  go build -o "$work/queue-manager" ./services/queue-manager/cmd/queue-manager
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  KAFKA_BOOTSTRAP_SERVERS="$bootstrap" KAFKA_CREATE_TOPICS=true HTTP_ADDR="127.0.0.1:$port" STORE_PATH="$work/qm.db" \
    STEP_LOG_DIR="$work/steps" LOCAL_BIN_DIR="$work/no-workers" STEP_MAX_ATTEMPTS=1 LOG_LEVEL="$level" API_RATE_LIMIT="${API_RATE_LIMIT:-0}" \
    "$work/queue-manager" 2>"$work/qm.log" &
  qm_pid=$!
  qm_base="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -fsS "$qm_base/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$qm_pid" 2>/dev/null || { echo "$name: queue-manager exited:" >&2; cat "$work/qm.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "$name: queue-manager not ready on $qm_base after 10 s:" >&2
  cat "$work/qm.log" >&2
  exit 1
}
