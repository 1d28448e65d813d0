#!/usr/bin/env bash
# Keycloak 26.x in development mode on loopback, with the streamforge realm
# (realm-streamforge.json beside this script) imported at start, for
# StreamForge integration tests. The distribution comes from Maven Central
# through mvn (org.keycloak:keycloak-quarkus-dist, zip); nothing else is
# downloaded.
#
# Usage: platform/keycloak/keycloak.sh {fetch|start|stop|status|env|logs [-f]}
#   eval "$(platform/keycloak/keycloak.sh env)"   # KEYCLOAK_IT_* for the tests
#
# start begins from a fresh database every time (the realm file is the
# state). Needs Java 17+ (KEYCLOAK_JAVA, else JAVA_HOME's, else a JDK 21+
# under /usr/lib/jvm, else java on PATH).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "${SCRIPT_DIR}/../.." && pwd)
REALM_FILE="${SCRIPT_DIR}/realm-streamforge.json"

KEYCLOAK_VERSION=${KEYCLOAK_VERSION:-26.7.3}
KEYCLOAK_HOME=${KEYCLOAK_HOME:-${REPO_ROOT}/.cache/keycloak}
case "${KEYCLOAK_HOME}" in
  /*) ;;
  *) KEYCLOAK_HOME="${PWD}/${KEYCLOAK_HOME}" ;;
esac
DIST_DIR="${KEYCLOAK_HOME}/keycloak-${KEYCLOAK_VERSION}"
RUN_DIR="${KEYCLOAK_HOME}/run"
PID_FILE="${RUN_DIR}/keycloak.pid"
LOG_FILE="${RUN_DIR}/server.log"

KEYCLOAK_HOST=127.0.0.1
KEYCLOAK_PORT=${KEYCLOAK_PORT:-28180}
KEYCLOAK_MANAGEMENT_PORT=${KEYCLOAK_MANAGEMENT_PORT:-$((KEYCLOAK_PORT + 1))}
KEYCLOAK_ADMIN_USER=${KEYCLOAK_ADMIN_USER:-admin}
KEYCLOAK_ADMIN_PASSWORD=${KEYCLOAK_ADMIN_PASSWORD:-admin-password}
KEYCLOAK_START_TIMEOUT=${KEYCLOAK_START_TIMEOUT:-180}
KEYCLOAK_STOP_TIMEOUT=${KEYCLOAK_STOP_TIMEOUT:-30}
# A small heap: the realm is tiny. Measured: see README "Security".
KEYCLOAK_HEAP_OPTS=${KEYCLOAK_HEAP_OPTS:--Xms64m -Xmx320m -XX:MaxMetaspaceSize=256m -XX:TieredStopAtLevel=1}
MVN=${MVN:-mvn}

SERVER_NAME=keycloak.sh
SERVER_HOME=${KEYCLOAK_HOME}
SERVER_HOST=${KEYCLOAK_HOST}
SERVER_LOCK_TIMEOUT=${KEYCLOAK_LOCK_TIMEOUT:-600}
# shellcheck source=platform/scripts/lib/server.sh
. "${REPO_ROOT}/platform/scripts/lib/server.sh"

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

issuer() { printf 'http://%s:%s/realms/streamforge\n' "${KEYCLOAK_HOST}" "${KEYCLOAK_PORT}"; }

# java_bin picks a Java of at least 17, preferring 21+ (Keycloak's own
# recommendation).
java_bin() {
  if [[ -n "${KEYCLOAK_JAVA:-}" ]]; then printf '%s\n' "${KEYCLOAK_JAVA}"; return; fi
  if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then printf '%s\n' "${JAVA_HOME}/bin/java"; return; fi
  local j v
  for j in /usr/lib/jvm/*/bin/java; do
    [[ -x "${j}" ]] || continue
    v=$("${j}" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
    if [[ -n "${v}" ]] && ((v >= 21)); then printf '%s\n' "${j}"; return; fi
  done
  command -v java || die "java not found (Keycloak 26 needs Java 17+)"
}

cmd_fetch() {
  if [[ -x "${DIST_DIR}/bin/kc.sh" ]]; then
    log "fetch: up to date (keycloak ${KEYCLOAK_VERSION}) in ${DIST_DIR}"
    return 0
  fi
  command -v "${MVN}" >/dev/null || die "mvn not found (need Maven to fetch Keycloak)"
  command -v unzip >/dev/null || die "unzip not found"
  ignore_cache_dir
  local tmp="${KEYCLOAK_HOME}/fetch.tmp.$$" t0=${SECONDS}
  rm -rf "${tmp}"
  # shellcheck disable=SC2064 # expand now: the path is fixed
  trap "rm -rf '${tmp}'" EXIT
  mkdir -p "${tmp}"
  if ! "${MVN}" -q -B -Dstyle.color=never dependency:copy \
    -Dartifact="org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip" -DoutputDirectory="${tmp}" >"${tmp}/.mvn.log" 2>&1; then
    cat "${tmp}/.mvn.log" >&2
    die "mvn dependency:copy of keycloak-quarkus-dist ${KEYCLOAK_VERSION} failed (output above)"
  fi
  unzip -q "${tmp}/keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip" -d "${tmp}" || die "unzip failed"
  [[ -x "${tmp}/keycloak-${KEYCLOAK_VERSION}/bin/kc.sh" ]] || die "no bin/kc.sh in the distribution"
  rm -rf "${DIST_DIR}"
  mv "${tmp}/keycloak-${KEYCLOAK_VERSION}" "${DIST_DIR}"
  rm -rf "${tmp}"
  trap - EXIT
  log "fetch: keycloak ${KEYCLOAK_VERSION} -> ${DIST_DIR} ($(du -sh "${DIST_DIR}" | cut -f1), $((SECONDS - t0))s)"
}

server_pid() {
  recorded_pid "${PID_FILE}" keycloak
}

discovery_ok() {
  curl -fsS -o /dev/null --max-time 2 "$(issuer)/.well-known/openid-configuration" 2>/dev/null
}

print_log_tail() {
  if [[ -f "${LOG_FILE}" ]]; then
    log "last ${1:-50} lines of ${LOG_FILE}:"
    tail -n "${1:-50}" "${LOG_FILE}" >&2
  fi
}

cmd_start() {
  local pid
  if pid=$(server_pid); then
    log "start: already running (pid ${pid}) on $(issuer)"
    return 0
  fi
  command -v curl >/dev/null || die "curl not found"
  local port
  for port in "${KEYCLOAK_PORT}" "${KEYCLOAK_MANAGEMENT_PORT}"; do
    if port_open "${port}"; then
      die "port ${KEYCLOAK_HOST}:${port} is already in use by another process; free it or set KEYCLOAK_PORT/KEYCLOAK_MANAGEMENT_PORT"
    fi
  done
  cmd_fetch
  local java t0=${SECONDS}
  java=$(java_bin)
  rm -rf "${RUN_DIR}" "${DIST_DIR}/data"
  mkdir -p "${RUN_DIR}" "${DIST_DIR}/data/import"
  cp "${REALM_FILE}" "${DIST_DIR}/data/import/"
  # Development mode: HTTP, an H2 database in data/, no host name checks.
  JAVA="${java}" JAVA_OPTS_KC_HEAP="${KEYCLOAK_HEAP_OPTS}" \
    KC_BOOTSTRAP_ADMIN_USERNAME="${KEYCLOAK_ADMIN_USER}" KC_BOOTSTRAP_ADMIN_PASSWORD="${KEYCLOAK_ADMIN_PASSWORD}" \
    setsid nohup "${DIST_DIR}/bin/kc.sh" start-dev --import-realm \
    --http-host="${KEYCLOAK_HOST}" --http-port="${KEYCLOAK_PORT}" --http-management-port="${KEYCLOAK_MANAGEMENT_PORT}" \
    --log-level=warn,org.keycloak.exportimport:info,io.quarkus:info \
    </dev/null >"${LOG_FILE}" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "${pid}" >"${PID_FILE}"
  local deadline=$((SECONDS + KEYCLOAK_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "${pid}" 2>/dev/null; then
      print_log_tail 50
      rm -f "${PID_FILE}"
      die "keycloak exited during startup"
    fi
    if discovery_ok; then
      local rss
      rss=$(ps -o rss= -s "${pid}" 2>/dev/null | awk '{s+=$1} END {print int(s/1024)}') || true
      log "start: keycloak ${KEYCLOAK_VERSION} up in $((SECONDS - t0))s (pid ${pid}, java ${java}, RSS ${rss:-?} MB): issuer $(issuer)"
      return 0
    fi
    sleep 1
  done
  print_log_tail 50
  log "start: keycloak not ready within ${KEYCLOAK_START_TIMEOUT}s, stopping it"
  cmd_stop
  die "keycloak not ready within ${KEYCLOAK_START_TIMEOUT}s (log kept in ${LOG_FILE})"
}

cmd_stop() {
  local pid
  if ! pid=$(server_pid); then
    rm -f "${PID_FILE}"
    log "stop: not running"
    return 0
  fi
  # kc.sh runs java as its child: stop the whole session it leads.
  kill -TERM -- "-${pid}" 2>/dev/null || true
  terminate_pid "${pid}" "keycloak" "${KEYCLOAK_STOP_TIMEOUT}"
  kill -KILL -- "-${pid}" 2>/dev/null || true
  rm -f "${PID_FILE}"
  log "stop: stopped (pid ${pid})"
}

cmd_status() {
  local pid
  if pid=$(server_pid) && discovery_ok; then
    echo "running (pid ${pid}): issuer $(issuer)"
    return 0
  fi
  if [[ -n "${pid:-}" ]]; then
    echo "unhealthy: pid ${pid} alive but $(issuer) not answering"
  else
    echo "not running"
  fi
  return 1
}

cmd_env() {
  cat <<EOF
export KEYCLOAK_IT_URL=http://${KEYCLOAK_HOST}:${KEYCLOAK_PORT}
export KEYCLOAK_IT_ISSUER=$(issuer)
export KEYCLOAK_IT_REALM_FILE=${REALM_FILE}
export KEYCLOAK_IT_ADMIN_USER=${KEYCLOAK_ADMIN_USER}
export KEYCLOAK_IT_ADMIN_PASSWORD=${KEYCLOAK_ADMIN_PASSWORD}
EOF
}

cmd_logs() {
  [[ -f "${LOG_FILE}" ]] || die "no log at ${LOG_FILE}"
  if [[ "${1:-}" == "-f" ]]; then tail -F "${LOG_FILE}"; else cat "${LOG_FILE}"; fi
}

server_main "$@"
