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

if [[ ! -x "$venv/bin/schemathesis" ]] || ! "$venv/bin/schemathesis" --version | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv" || { echo "api-contract: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

# shellcheck source=platform/scripts/lib/queue-manager.sh
. platform/scripts/lib/queue-manager.sh
start_queue_manager api-contract warn

"$venv/bin/schemathesis" run "$qm_base/openapi.yaml" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,unsupported_method \
  --max-examples "${API_CONTRACT_EXAMPLES:-100}" --seed 1 --no-color
