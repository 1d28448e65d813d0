#!/usr/bin/env bash
# Checks the platform's custom resources field by field against the schemas
# their projects publish: renders the kustomize directories given (by default
# platform/strimzi, platform/rbac, deploy/monitoring and deploy/logging;
# make test-integration adds the overlays, deploy/argocd and deploy/chaos), installs the pinned
# upstream CRDs (fetch-crds.sh) into the running test kube-apiserver and
# server-side dry-runs every object with strict field validation.
# Needs a running API server: eval "$(platform/kube/kube.sh env)".
#
# Usage: platform/scripts/check-platform-crs.sh [kustomize-dir...]
set -euo pipefail
cd "$(dirname "$0")/../.."

[[ -n "${KUBECONFIG:-}" ]] || {
  echo "check-platform-crs.sh: KUBECONFIG not set (platform/kube/kube.sh start; eval \"\$(platform/kube/kube.sh env)\")" >&2
  exit 1
}
dirs=("$@")
((${#dirs[@]})) || dirs=(platform/strimzi platform/rbac deploy/monitoring deploy/logging)
crds=${CRD_DIR:-.cache/crds}
platform/scripts/fetch-crds.sh "${crds}"
out=$(mktemp)
trap 'rm -f "${out}"' EXIT
for d in "${dirs[@]}"; do
  kustomize build "${d}" >>"${out}"
  printf -- '---\n' >>"${out}"
done
python3 platform/scripts/crcheck.py --crds "${crds}" "${out}"
