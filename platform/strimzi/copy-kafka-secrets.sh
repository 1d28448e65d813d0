#!/usr/bin/env bash
# The cluster CA wiring: Strimzi writes the cluster CA certificate
# (<cluster>-cluster-ca-cert, key ca.crt) and each KafkaUser's SCRAM password
# (Secret named after the user, key password) into the Kafka namespace; the
# services run in another one. This copies them into the StreamForge
# namespace as
#   streamforge-kafka-ca            ca.crt   -> mounted; KAFKA_CA_FILE points at it
#   streamforge-kafka-<service>     KAFKA_USERNAME, KAFKA_PASSWORD (envFrom)
# Run it after the User Operator reconciled the users, and again after a CA
# or password rotation (or let Vault CSI / a secret replicator do the same).
#
# Usage: platform/strimzi/copy-kafka-secrets.sh [service...]
#   KAFKA_NAMESPACE (kafka), KAFKA_CLUSTER (k3), TARGET_NAMESPACE (stf)
set -euo pipefail

KAFKA_NAMESPACE=${KAFKA_NAMESPACE:-kafka}
KAFKA_CLUSTER=${KAFKA_CLUSTER:-k3}
TARGET_NAMESPACE=${TARGET_NAMESPACE:-stf}
USER_PREFIX=streamforge-
SERVICES=("$@")
if ((${#SERVICES[@]} == 0)); then
  # BEGIN GENERATED services: from libs/protocol/services.go by `make generate`, do not edit
  SERVICES=(
    queue-manager
    loader-producer
    loader-api-candles
    loader-api-trades
    loader-ws-orderbook
    arango-connector
    graph-builder
    gnn-trainer
    dummy-service
    debug-producer
  )
  # END GENERATED services
fi

secret_key() { # namespace name key -> decoded value
  kubectl -n "$1" get secret "$2" -o "jsonpath={.data.${3//./\\.}}" | base64 -d
}

apply_secret() { # name args... (kubectl create secret generic arguments)
  local name=$1
  shift
  kubectl -n "${TARGET_NAMESPACE}" create secret generic "${name}" "$@" --dry-run=client -o yaml |
    kubectl label --local -f - -o yaml app.kubernetes.io/part-of=streamforge |
    kubectl apply -f -
}

tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT

secret_key "${KAFKA_NAMESPACE}" "${KAFKA_CLUSTER}-cluster-ca-cert" ca.crt >"${tmp}/ca.crt"
apply_secret streamforge-kafka-ca --from-file=ca.crt="${tmp}/ca.crt"

for svc in "${SERVICES[@]}"; do
  user="${USER_PREFIX}${svc}"
  secret_key "${KAFKA_NAMESPACE}" "${user}" password >"${tmp}/password"
  apply_secret "streamforge-kafka-${svc}" --from-literal=KAFKA_USERNAME="${user}" \
    --from-file=KAFKA_PASSWORD="${tmp}/password"
done
