#!/usr/bin/env bash
# Self-test of check-dockerfiles.sh, check-ci.sh and check-ports.sh: each runs on a copy of
# the files it reads, first as they are (it must pass), then once per case
# with one thing broken (it must fail and name that thing). A check that
# stops catching what it is for fails here.
#
# Usage: platform/scripts/test-repo-checks.sh   (make lint runs it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT

# The files the checks read, as git knows them plus any not yet added.
mapfile -t files < <(git ls-files -co --exclude-standard -- \
  go.work Makefile .gitlab-ci.yml .gitlab platform/.gitlab-ci.yml platform/Dockerfile platform/VERSION \
  platform/scripts/check-dockerfiles.sh platform/scripts/check-ci.sh platform/scripts/check-ports.sh \
  'platform/*/*.sh' .devcontainer/Dockerfile \
  services/Dockerfile services/image-args 'services/*/VERSION' 'services/*/go.mod' 'services/*/go.sum' \
  'services/*/cmd/*/main.go')

passed=0 failed=0

# check CASE SCRIPT WANT [SHELL-COMMAND]: runs SCRIPT on a fresh copy changed
# by SHELL-COMMAND; with no command it must pass, else fail with WANT in its
# output.
check() {
  local name=$1 script=$2 want=$3 change=${4:-} dir out rc=0 expected=success
  dir="${tmp}/${name}"
  mkdir -p "${dir}"
  cp --parents "${files[@]}" "${dir}/"
  if [[ -n "${change}" ]]; then
    (cd "${dir}" && eval "${change}")
  fi
  out=$(bash "${dir}/platform/scripts/${script}" 2>&1) || rc=$?
  if [[ -z "${change}" && ${rc} -eq 0 ]] || [[ -n "${change}" && ${rc} -ne 0 && "${out}" == *"${want}"* ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    [[ -z "${change}" ]] || expected="a failure naming \"${want}\""
    printf 'FAIL %s: %s exited %d, want %s; it said:\n%s\n' "${name}" "${script}" "${rc}" "${expected}" "${out}" >&2
  fi
}

check as-is-dockerfiles check-dockerfiles.sh ""
check as-is-ci check-ci.sh ""
check as-is-ports check-ports.sh ""
check ephemeral-port check-ports.sh "default port 39092 is in the ephemeral range" \
  "sed -i 's/KAFKA_PORT:-21092/KAFKA_PORT:-39092/' platform/kafka/kafka.sh"
check ephemeral-addr check-ports.sh "default port 39080 is in the ephemeral range" \
  "sed -i 's/PROMETHEUS_SD_ADDR:-127.0.0.1:29080/PROMETHEUS_SD_ADDR:-127.0.0.1:39080/' platform/prometheus/prometheus.sh"

check no-version check-dockerfiles.sh "missing services/gnn-trainer/VERSION" \
  "rm services/gnn-trainer/VERSION"
check bad-version check-dockerfiles.sh "VERSION is not a single semver line" \
  "echo v1 > services/gnn-trainer/VERSION"
check no-main check-dockerfiles.sh "missing services/queue-manager/cmd/queue-manager/main.go" \
  "rm services/queue-manager/cmd/queue-manager/main.go"
check no-dockerfile check-dockerfiles.sh "services/Dockerfile: missing" \
  "rm services/Dockerfile"
check image-args-unknown-arg check-dockerfiles.sh "declares no ARG FOO" \
  "echo 'dummy-service FOO=1' >> services/image-args"
check image-args-unknown-service check-dockerfiles.sh "ghost is not a directory under services/" \
  "echo 'ghost PORT=1' >> services/image-args"
check image-args-service check-dockerfiles.sh "SERVICE is set by the build itself" \
  "echo 'dummy-service SERVICE=x' >> services/image-args"
check root-user check-dockerfiles.sh "the final stage runs as root" \
  "sed -i 's/^USER .*/USER root/' services/Dockerfile"
check floating-tag check-dockerfiles.sh "uses the floating tag :latest" \
  "sed -i 's/^FROM golang:[^ ]*/FROM golang:latest/' services/Dockerfile"
check no-trimpath check-dockerfiles.sh "without -trimpath" \
  "sed -i 's/ -trimpath//' services/Dockerfile"
check cgo check-dockerfiles.sh "CGO_ENABLED=1" \
  "sed -i 's/CGO_ENABLED=0/CGO_ENABLED=1/' services/Dockerfile"
check baked-secret check-dockerfiles.sh "ENV API_TOKEN has a literal value" \
  "sed -i 's/^ENV GOWORK=off/ENV API_TOKEN=abc GOWORK=off/' services/Dockerfile"

check matrix-missing check-ci.sh "services/queue-manager/ is not in the matrix" \
  "sed -i '/- queue-manager\$/d' .gitlab/ci-templates/services.yml"
check matrix-unknown check-ci.sh "zz-ghost is in the matrix but services/zz-ghost/ does not exist" \
  "sed -i 's/- queue-manager\$/- queue-manager\n          - zz-ghost/' .gitlab/ci-templates/services.yml"
check matrix-order check-ci.sh "not in alphabetical order" \
  "sed -i '/- arango-connector\$/d; s/- queue-manager\$/- queue-manager\n          - arango-connector/' .gitlab/ci-templates/services.yml"
check matrix-more-than-list check-ci.sh "must hold only .services" \
  "printf '.other:\n  stage: build\n' >> .gitlab/ci-templates/services.yml"
check needs-every-service check-ci.sh "needs service:build without parallel: matrix" \
  "sed -i \"/- job: service:build/,/SERVICE: \\['\\\$\\[\\[ matrix.SERVICE \\]\\]'\\]/c\\    - job: service:build\" .gitlab/ci-templates/service-jobs.yml"
check needs-unknown-job check-ci.sh "needs service:bild, which no included file defines" \
  "sed -i 's/- job: service:build/- job: service:bild/' .gitlab/ci-templates/service-jobs.yml"
check staticcheck-pin check-ci.sh "staticcheck pinned at ['v0.0.1']" \
  "sed -i 's/staticcheck@v[0-9.]*/staticcheck@v0.0.1/' .gitlab/ci-templates/go.yml"

printf 'repo checks: %d passed, %d failed\n' "${passed}" "${failed}"
((failed == 0))
