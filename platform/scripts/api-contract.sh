#!/usr/bin/env bash
# Checks queue-manager's running API against its own OpenAPI document with
# schemathesis (PyPI): no 5xx, every response (status, content type, headers,
# body, SSE events) conforms to the document, schema-invalid requests are
# rejected, undeclared methods get 405 with Allow. Semantic rules the schema
# cannot express (a time range required for api_* types, in the past) are
# covered by the Go API tests, so "schema-valid requests are accepted" is not
# checked here.
#
# Needs a Kafka broker: KAFKA_BOOTSTRAP_SERVERS, or KAFKA_IT_BOOTSTRAP from
# `platform/kafka/kafka.sh env` (make test-integration sets it).
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
venv=.cache/venv-schemathesis
bootstrap=${KAFKA_BOOTSTRAP_SERVERS:-${KAFKA_IT_BOOTSTRAP:-}}
[[ -n "$bootstrap" ]] || { echo "api-contract: set KAFKA_BOOTSTRAP_SERVERS (or run under make test-integration)" >&2; exit 2; }

if [[ ! -x "$venv/bin/schemathesis" ]] || ! "$venv/bin/schemathesis" --version | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv" || { echo "api-contract: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

work=$(mktemp -d)
qm_pid=""
cleanup() {
  if [[ -n "$qm_pid" ]]; then kill "$qm_pid" 2>/dev/null || true; wait "$qm_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/queue-manager" ./services/queue-manager/cmd/queue-manager
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Workers cannot start (no binaries): every launch fails at once and its
# workflow fails, which is all this check needs from the engine.
KAFKA_BOOTSTRAP_SERVERS="$bootstrap" KAFKA_CREATE_TOPICS=true HTTP_ADDR="127.0.0.1:$port" STORE_PATH="$work/qm.db" \
  LOCAL_BIN_DIR="$work/no-workers" STEP_MAX_ATTEMPTS=1 LOG_LEVEL=warn "$work/queue-manager" 2>"$work/qm.log" &
qm_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$qm_pid" 2>/dev/null || { echo "api-contract: queue-manager exited:" >&2; cat "$work/qm.log" >&2; exit 1; }
  sleep 0.1
done

"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.yaml" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,unsupported_method \
  --max-examples "${API_CONTRACT_EXAMPLES:-100}" --seed 1 --no-color
