#!/usr/bin/env bash
# `make images-local`: every service's image without a Docker engine or a
# registry, for the local node (platform/kube/node.sh). Each service's
# commands are built the way services/Dockerfile builds them (GOWORK=off,
# CGO_ENABLED=0, -trimpath, the VERSION link flag), packed by
# platform/devstack/cmd/ociimage (go-containerregistry) with the Dockerfile's
# entrypoint link, user, port and labels, written to
# <KUBE_HOME>/node/images/workers/<service>.tar and imported into the node's
# containerd when it runs (node.sh start imports them otherwise).
#
# Usage: platform/kube/images.sh [service...]     (default: every service)
# Environment:
#   IMAGE_REGISTRY  image name prefix (default streamforge.local)
#   IMAGE_TAG       tag (default dev)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "${SCRIPT_DIR}/../.." && pwd)
KUBE_HOME=${KUBE_HOME:-${REPO_ROOT}/.cache/kube}
OUT_DIR="${KUBE_HOME}/node/images/workers"
IMAGE_REGISTRY=${IMAGE_REGISTRY:-streamforge.local}
IMAGE_TAG=${IMAGE_TAG:-dev}
GO=${GO:-go}

log() { printf 'images.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

services=("$@")
if ((${#services[@]} == 0)); then
  for d in "${REPO_ROOT}"/services/*/; do
    [[ -f "${d}/go.mod" ]] && services+=("$(basename "${d}")")
  done
fi

t0=$(date +%s%N)
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT
(cd "${REPO_ROOT}/platform/devstack" && "${GO}" build -o "${tmp}/ociimage" ./cmd/ociimage) || die "building ociimage failed"
mkdir -p "${OUT_DIR}"
revision=$(git -C "${REPO_ROOT}" rev-parse HEAD 2>/dev/null || echo unknown)
containerd_sock="${KUBE_HOME}/node/run/containerd/containerd.sock"
for s in "${services[@]}"; do
  [[ -f "${REPO_ROOT}/services/${s}/go.mod" ]] || die "no service ${s} under services/"
  version=$(cat "${REPO_ROOT}/services/${s}/VERSION")
  port=$(awk -v s="${s}" '$1 == s { for (i = 2; i <= NF; i++) if ($i ~ /^PORT=/) print substr($i, 6) }' "${REPO_ROOT}/services/image-args")
  (
    cd "${REPO_ROOT}/services/${s}"
    GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=readonly "${GO}" build -trimpath \
      -ldflags "-s -w -X github.com/streamforge/streamforge/libs/service.Version=${version}" \
      -o "${tmp}/${s}/" ./cmd/...
  ) || die "building ${s} failed"
  "${tmp}/ociimage" -name "${IMAGE_REGISTRY}/${s}:${IMAGE_TAG}" -out "${OUT_DIR}/${s}.tar" \
    -bin-dir "${tmp}/${s}" -entrypoint "${s}" -user 65532:65532 -port "${port:-8080}" \
    -label "org.opencontainers.image.title=streamforge-${s}" \
    -label "org.opencontainers.image.description=StreamForge ${s} microservice" \
    -label "org.opencontainers.image.revision=${revision}" \
    -label "org.opencontainers.image.version=${version}" || die "packing ${s} failed"
  if [[ -S "${containerd_sock}" ]]; then
    ctr --address "${containerd_sock}" -n k8s.io images import "${OUT_DIR}/${s}.tar" >/dev/null || die "importing ${s} failed"
  fi
  log "${IMAGE_REGISTRY}/${s}:${IMAGE_TAG} ($(du -h "${OUT_DIR}/${s}.tar" | cut -f1))"
done
where="written to ${OUT_DIR} (node.sh start imports them)"
[[ -S "${containerd_sock}" ]] && where="imported into the node's containerd"
log "${#services[@]} images built and ${where} in $((($(date +%s%N) - t0) / 1000000)) ms"
