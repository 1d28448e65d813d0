#!/usr/bin/env bash
# A real S3 server on loopback for StreamForge integration tests: versitygw
# (Versity S3 Gateway, Apache-2.0) with its posix backend in a fresh data
# directory, built from the Go module proxy with `go install`.
#
# Usage: platform/s3/s3.sh {fetch|start|stop|status|env|logs [-f]}
#   eval "$(platform/s3/s3.sh env)"   # MINIO_* and S3_IT=1 for the tests
#
# Environment:
#   S3_VERSITYGW_VERSION  github.com/versity/versitygw version (default v1.8.0)
#   S3_PORT               listen port on 127.0.0.1 (default 27100)
#   S3_BUCKET             bucket the tests use, printed by env (default streamforge-it)
#   S3_ACCESS_KEY         root access key (default: random per start)
#   S3_SECRET_KEY         root secret key (default: random per start)
#   S3_HOME               cache directory (default <repo>/.cache/s3)
#   S3_START_TIMEOUT      seconds to wait for the health check (default 30)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "${SCRIPT_DIR}/../.." && pwd)

S3_HOME=${S3_HOME:-${REPO_ROOT}/.cache/s3}
case "${S3_HOME}" in
  /*) ;;
  *) S3_HOME="${PWD}/${S3_HOME}" ;;
esac
BIN_DIR="${S3_HOME}/bin"
RUN_DIR="${S3_HOME}/run"
VERSITYGW="${BIN_DIR}/versitygw"
CREDS_FILE="${RUN_DIR}/credentials"
DATA_DIR_FILE="${RUN_DIR}/data-dir"

S3_VERSITYGW_VERSION=${S3_VERSITYGW_VERSION:-v1.8.0}
# S3_HOST: the listen address (default 127.0.0.1); the local node's
# integration tests use its bridge address (platform/kube/node.sh), which
# both the host and the Pods reach.
S3_HOST=${S3_HOST:-127.0.0.1}
S3_PORT=${S3_PORT:-27100}
S3_BUCKET=${S3_BUCKET:-streamforge-it}
S3_START_TIMEOUT=${S3_START_TIMEOUT:-30}
S3_STOP_TIMEOUT=${S3_STOP_TIMEOUT:-15}
HEALTH_PATH=/health
GO=${GO:-go}
MODULE=github.com/versity/versitygw

SERVER_NAME=s3.sh
SERVER_HOME=${S3_HOME}
SERVER_HOST=${S3_HOST}
SERVER_LOCK_TIMEOUT=${S3_LOCK_TIMEOUT:-600}
# shellcheck source=platform/scripts/lib/server.sh
. "${REPO_ROOT}/platform/scripts/lib/server.sh"


# built_version prints the versitygw module version the binary was built
# from (go version -m reads it from the binary), or fails.
built_version() {
  [[ -x "${VERSITYGW}" ]] || return 1
  "${GO}" version -m "${VERSITYGW}" 2>/dev/null | awk -v m="${MODULE}" '$1 == "mod" && $2 == m { print $3; found = 1 } END { exit !found }'
}

cmd_fetch() {
  ignore_cache_dir
  local have
  if have=$(built_version) && [[ "${have}" == "${S3_VERSITYGW_VERSION}" ]]; then
    log "fetch: up to date (versitygw ${have}) in ${BIN_DIR}"
    return 0
  fi
  command -v "${GO}" >/dev/null || die "go not found (needed to build versitygw from the module proxy)"
  local t0=${SECONDS}
  mkdir -p "${BIN_DIR}"
  log "fetch: building versitygw ${S3_VERSITYGW_VERSION} into ${BIN_DIR} (1-4 minutes on 2 cores from nothing)"
  GOBIN="${BIN_DIR}" GOWORK=off GOFLAGS="" \
    "${GO}" install "${MODULE}/cmd/versitygw@${S3_VERSITYGW_VERSION}" >"${S3_HOME}/build.log" 2>&1 || {
    tail -n 40 "${S3_HOME}/build.log" >&2
    die "building versitygw ${S3_VERSITYGW_VERSION} failed (output above, full log ${S3_HOME}/build.log)"
  }
  have=$(built_version) || die "built ${VERSITYGW} but cannot read its module version"
  [[ "${have}" == "${S3_VERSITYGW_VERSION}" ]] || die "built versitygw ${have}, wanted ${S3_VERSITYGW_VERSION}"
  log "fetch: built versitygw ${have} -> ${VERSITYGW} ($(du -sh "${VERSITYGW}" | cut -f1), $((SECONDS - t0))s)"
}

# pid_of prints the recorded versitygw pid when that process is alive and
# runs versitygw.
pid_of() {
  recorded_pid "${RUN_DIR}/versitygw.pid" versitygw
}

healthy() {
  curl -fsS -o /dev/null "http://${S3_HOST}:${S3_PORT}${HEALTH_PATH}" 2>/dev/null
}

random_hex() {
  head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'
}

print_log_tail() {
  local n=${1:-40}
  if [[ -f "${RUN_DIR}/versitygw.log" ]]; then
    log "last ${n} lines of ${RUN_DIR}/versitygw.log:"
    tail -n "${n}" "${RUN_DIR}/versitygw.log" >&2
  fi
}

cmd_start() {
  local pid
  if pid=$(pid_of) && healthy; then
    log "start: already running (pid ${pid}) on http://${S3_HOST}:${S3_PORT}"
    return 0
  fi
  # Leftovers of a half-dead run.
  cmd_stop 2>/dev/null
  command -v curl >/dev/null || die "curl not found (used to wait for the health check)"
  if port_open "${S3_PORT}"; then
    die "port ${S3_HOST}:${S3_PORT} is already in use by another process (not one started by this script); free it or set S3_PORT"
  fi

  cmd_fetch
  local t0=${SECONDS}
  rm -rf "${RUN_DIR}"
  mkdir -p "${RUN_DIR}"
  local data
  data=$(mktemp -d "${RUN_DIR}/data.XXXXXX")
  printf '%s\n' "${data}" >"${DATA_DIR_FILE}"

  local access=${S3_ACCESS_KEY:-sf$(random_hex 9)} secret=${S3_SECRET_KEY:-$(random_hex 20)}
  (
    umask 077
    printf '%s\n%s\n' "${access}" "${secret}" >"${CREDS_FILE}"
  )

  # setsid+nohup: the server outlives this script and its terminal. 9>&-
  # keeps the lock fd out of the child. versitygw reads VGW_*, LOGFILE and
  # the ROOT_* key variables as flags: the caller's are dropped so only the
  # ones given here apply. The keys go by environment, not on the command
  # line where ps would show them.
  local unset_vars=() v
  for v in $(compgen -e); do
    case "${v}" in VGW_* | LOGFILE | ROOT_ACCESS_KEY* | ROOT_SECRET_*) unset_vars+=(-u "${v}") ;; esac
  done
  setsid nohup env "${unset_vars[@]}" ROOT_ACCESS_KEY="${access}" ROOT_SECRET_KEY="${secret}" \
    "${VERSITYGW}" --port "${S3_HOST}:${S3_PORT}" --health "${HEALTH_PATH}" --quiet \
    posix "${data}" </dev/null >"${RUN_DIR}/versitygw.log" 2>&1 9>&- &
  printf '%s\n' "$!" >"${RUN_DIR}/versitygw.pid"
  pid=$!

  local deadline=$((SECONDS + S3_START_TIMEOUT))
  while ! healthy; do
    if ! kill -0 "${pid}" 2>/dev/null; then
      print_log_tail 40
      cmd_stop
      die "versitygw exited during startup (log ${RUN_DIR}/versitygw.log)"
    fi
    if ((SECONDS >= deadline)); then
      print_log_tail 40
      cmd_stop
      die "versitygw not healthy within ${S3_START_TIMEOUT}s (log ${RUN_DIR}/versitygw.log)"
    fi
    sleep 0.2
  done
  log "start: versitygw ${S3_VERSITYGW_VERSION} ready in $((SECONDS - t0))s on http://${S3_HOST}:${S3_PORT} (pid ${pid}, data ${data})"
}

cmd_stop() {
  local pid stopped=0
  if pid=$(pid_of); then
    terminate_pid "${pid}" versitygw "${S3_STOP_TIMEOUT}"
    log "stop: stopped versitygw (pid ${pid})"
    stopped=1
  fi
  rm -f "${RUN_DIR}/versitygw.pid" "${CREDS_FILE}"
  # The data directory goes with the server: the next start is empty.
  local data
  if [[ -f "${DATA_DIR_FILE}" ]]; then
    data=$(cat "${DATA_DIR_FILE}")
    # Only ever a directory this script made under RUN_DIR.
    if [[ "${data}" == "${RUN_DIR}"/data.* && -d "${data}" ]]; then
      rm -rf "${data}"
      log "stop: removed ${data}"
    fi
    rm -f "${DATA_DIR_FILE}"
  fi
  ((stopped)) || log "stop: not running"
}

cmd_status() {
  local pid
  if pid=$(pid_of) && healthy; then
    echo "running (pid ${pid}): http://${S3_HOST}:${S3_PORT}, data $(cat "${DATA_DIR_FILE}" 2>/dev/null)"
    return 0
  fi
  if [[ -n "${pid:-}" ]]; then
    echo "unhealthy: versitygw pid ${pid} alive but ${HEALTH_PATH} does not answer on ${S3_HOST}:${S3_PORT}"
  else
    echo "not running"
  fi
  return 1
}

cmd_env() {
  [[ -f "${CREDS_FILE}" ]] || die "env: no credentials in ${CREDS_FILE}: start the server first ($0 start)"
  local access secret
  { read -r access && read -r secret; } <"${CREDS_FILE}" || die "env: ${CREDS_FILE} is incomplete: restart the server"
  printf 'export MINIO_ENDPOINT=%q MINIO_ACCESS_KEY=%q MINIO_SECRET_KEY=%q MINIO_BUCKET=%q MINIO_USE_SSL=false S3_IT=1\n' \
    "${S3_HOST}:${S3_PORT}" "${access}" "${secret}" "${S3_BUCKET}"
}

cmd_logs() {
  local follow="" arg
  for arg in "$@"; do
    case "${arg}" in
      -f) follow=1 ;;
      *) die "logs: unknown argument ${arg} (use -f)" ;;
    esac
  done
  show_log "${RUN_DIR}/versitygw.log" versitygw "${follow}" "${S3_LOG_LINES:-100}"
}

usage() {
  cat >&2 <<EOF
usage: $0 {fetch|start|stop|status|env|logs [-f]}
  fetch   build versitygw ${S3_VERSITYGW_VERSION} into ${BIN_DIR} (skipped when already built at that version)
  start   versitygw on http://${S3_HOST}:${S3_PORT}, posix backend in a fresh directory under ${RUN_DIR}
  stop    stop it (SIGTERM, SIGKILL after ${S3_STOP_TIMEOUT}s) and remove its data directory
  status  exit 0 if versitygw is running and healthy
  env     export lines for tests: eval "\$($0 env)"
  logs    tail the versitygw log (-f to follow)
EOF
}

server_main "$@"
