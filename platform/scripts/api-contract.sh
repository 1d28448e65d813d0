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
#
# With AUTH_MODE=oidc queue-manager asks for tokens of OIDC_ISSUER_URL (or
# KEYCLOAK_IT_ISSUER, from `platform/keycloak/keycloak.sh env`) and the run
# carries the streamforge realm's admin user's token (password grant on the
# streamforge-api client), so every operation is exercised as an admin.
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
auth=()
if [[ "${AUTH_MODE:-}" == oidc ]]; then
  export OIDC_ISSUER_URL=${OIDC_ISSUER_URL:-${KEYCLOAK_IT_ISSUER:?api-contract: AUTH_MODE=oidc needs OIDC_ISSUER_URL or KEYCLOAK_IT_ISSUER}}
  export OIDC_AUDIENCE=${OIDC_AUDIENCE:-streamforge-api} METRICS_ADDR=${METRICS_ADDR:-127.0.0.1:0}
  secret=$(python3 -c 'import json,sys; print(next(c["secret"] for c in json.load(open(sys.argv[1]))["clients"] if c["clientId"]=="streamforge-api"))' \
    "${KEYCLOAK_IT_REALM_FILE:-platform/keycloak/realm-streamforge.json}")
  token=$(curl -fsS "$OIDC_ISSUER_URL/protocol/openid-connect/token" -d grant_type=password -d client_id=streamforge-api \
    --data-urlencode "client_secret=$secret" -d username=admin -d password=admin-password |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  auth=(--header "Authorization: Bearer $token")
fi

start_queue_manager api-contract warn
if [[ "${AUTH_MODE:-}" == oidc ]]; then
  code=$(curl -s -o /dev/null -w '%{http_code}' "$qm_base/api/v1/workflows")
  [[ "$code" == 401 ]] || { echo "api-contract: AUTH_MODE=oidc but a request without a token got $code, not 401" >&2; exit 1; }
fi

"$venv/bin/schemathesis" run "$qm_base/openapi.yaml" "${auth[@]}" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,unsupported_method \
  --max-examples "${API_CONTRACT_EXAMPLES:-100}" --seed 1 --no-color
