#!/usr/bin/env bash
# A real Prometheus on loopback for StreamForge integration tests: Debian's
# prometheus package (2.42; `apt-get install prometheus`, which also ships
# promtool), a fresh TSDB per start, scrape and rule evaluation every second,
# the alert rules rendered from deploy/monitoring (platform/devstack/cmd/
# promrules), and its targets from queue-manager's HTTP service discovery
# (GET /sd/targets: queue-manager itself and every worker the local
# launcher runs). On Kubernetes the ServiceMonitor and PodMonitor of
# deploy/monitoring do what the discovery does here.
#
# Usage: platform/prometheus/prometheus.sh {start|stop|status|env|logs [-f]}
#   eval "$(platform/prometheus/prometheus.sh env)"   # PROMETHEUS_IT_* for the tests
#
# Environment:
#   PROMETHEUS_PORT        listen port on 127.0.0.1 (default 29090)
#   PROMETHEUS_SD_ADDR     queue-manager's address the discovery asks
#                          (default 127.0.0.1:29080): the tests start their
#                          stack's queue-manager there
#   PROMETHEUS_INTERVAL    scrape and evaluation interval (default 1s)
#   PROMETHEUS_HOME        cache directory (default <repo>/.cache/prometheus)
#   PROMETHEUS_BIN         the prometheus binary (default: prometheus on PATH)
#   PROMETHEUS_START_TIMEOUT  seconds to wait for /-/ready (default 30)
#
# The rule directory (env: PROMETHEUS_IT_RULES_DIR) can be rewritten by a
# test, e.g. with shorter `for:` durations, then applied with
# POST /-/reload (the lifecycle API is on).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "${SCRIPT_DIR}/../.." && pwd)

PROMETHEUS_HOME=${PROMETHEUS_HOME:-${REPO_ROOT}/.cache/prometheus}
case "${PROMETHEUS_HOME}" in
  /*) ;;
  *) PROMETHEUS_HOME="${PWD}/${PROMETHEUS_HOME}" ;;
esac
RUN_DIR="${PROMETHEUS_HOME}/run"
PID_FILE="${RUN_DIR}/prometheus.pid"
LOG_FILE="${RUN_DIR}/prometheus.log"
RULES_DIR="${RUN_DIR}/rules"

PROMETHEUS_HOST=127.0.0.1
PROMETHEUS_PORT=${PROMETHEUS_PORT:-29090}
PROMETHEUS_SD_ADDR=${PROMETHEUS_SD_ADDR:-127.0.0.1:29080}
PROMETHEUS_INTERVAL=${PROMETHEUS_INTERVAL:-1s}
PROMETHEUS_BIN=${PROMETHEUS_BIN:-prometheus}
PROMETHEUS_START_TIMEOUT=${PROMETHEUS_START_TIMEOUT:-30}
PROMETHEUS_STOP_TIMEOUT=${PROMETHEUS_STOP_TIMEOUT:-15}
GO=${GO:-go}

SERVER_NAME=prometheus.sh
SERVER_HOME=${PROMETHEUS_HOME}
SERVER_HOST=${PROMETHEUS_HOST}
SERVER_LOCK_TIMEOUT=${PROMETHEUS_LOCK_TIMEOUT:-600}
# shellcheck source=platform/scripts/lib/server.sh
. "${REPO_ROOT}/platform/scripts/lib/server.sh"

cmd_fetch() {
  command -v "${PROMETHEUS_BIN}" >/dev/null ||
    die "${PROMETHEUS_BIN} not found: install Debian's prometheus package (apt-get install -y --no-install-recommends prometheus)"
  log "fetch: $("${PROMETHEUS_BIN}" --version 2>&1 | head -n 1)"
}

# pid_of prints the recorded pid when that process is alive and runs
# prometheus.
pid_of() {
  recorded_pid "${PID_FILE}" prometheus
}

ready() {
  curl -fsS -o /dev/null "http://${PROMETHEUS_HOST}:${PROMETHEUS_PORT}/-/ready" 2>/dev/null
}

write_config() {
  cat >"${RUN_DIR}/prometheus.yml" <<YAML
# Written by platform/prometheus/prometheus.sh: do not edit.
global:
  scrape_interval: ${PROMETHEUS_INTERVAL}
  scrape_timeout: ${PROMETHEUS_INTERVAL}
  evaluation_interval: ${PROMETHEUS_INTERVAL}
rule_files:
  - ${RULES_DIR}/*.rules.yaml
scrape_configs:
  # queue-manager and the workers it runs, as its discovery lists them
  # (each target names its job: queue-manager or streamforge-workers).
  - job_name: streamforge
    http_sd_configs:
      - url: http://${PROMETHEUS_SD_ADDR}/sd/targets
        refresh_interval: ${PROMETHEUS_INTERVAL}
YAML
}

print_log_tail() {
  if [[ -f "${LOG_FILE}" ]]; then
    log "last 30 lines of ${LOG_FILE}:"
    tail -n 30 "${LOG_FILE}" >&2
  fi
}

cmd_start() {
  local pid
  if pid=$(pid_of) && ready; then
    log "start: already running (pid ${pid}) on http://${PROMETHEUS_HOST}:${PROMETHEUS_PORT}"
    return 0
  fi
  cmd_stop 2>/dev/null
  cmd_fetch
  command -v curl >/dev/null || die "curl not found (used to wait for /-/ready)"
  if port_open "${PROMETHEUS_PORT}"; then
    die "port ${PROMETHEUS_HOST}:${PROMETHEUS_PORT} is already in use by another process (not one started by this script); free it or set PROMETHEUS_PORT"
  fi
  ignore_cache_dir
  local t0=${SECONDS}
  rm -rf "${RUN_DIR}"
  mkdir -p "${RULES_DIR}" "${RUN_DIR}/data"
  (cd "${REPO_ROOT}" && "${GO}" run ./platform/devstack/cmd/promrules -out "${RULES_DIR}" deploy/monitoring/prometheusrule.yaml) ||
    die "rendering deploy/monitoring/prometheusrule.yaml failed"
  write_config
  # setsid+nohup: the server outlives this script; 9>&- keeps the lock fd
  # out of it.
  setsid nohup "${PROMETHEUS_BIN}" --config.file="${RUN_DIR}/prometheus.yml" \
    --storage.tsdb.path="${RUN_DIR}/data" --storage.tsdb.retention.time=1d \
    --web.listen-address="${PROMETHEUS_HOST}:${PROMETHEUS_PORT}" --web.enable-lifecycle \
    </dev/null >"${LOG_FILE}" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "${pid}" >"${PID_FILE}"
  local deadline=$((SECONDS + PROMETHEUS_START_TIMEOUT))
  while ! ready; do
    if ! kill -0 "${pid}" 2>/dev/null; then
      print_log_tail
      die "prometheus exited during startup (log ${LOG_FILE})"
    fi
    if ((SECONDS >= deadline)); then
      print_log_tail
      cmd_stop
      die "prometheus not ready within ${PROMETHEUS_START_TIMEOUT}s (log ${LOG_FILE})"
    fi
    sleep 0.2
  done
  log "start: ready in $((SECONDS - t0))s on http://${PROMETHEUS_HOST}:${PROMETHEUS_PORT} (pid ${pid}), discovering http://${PROMETHEUS_SD_ADDR}/sd/targets every ${PROMETHEUS_INTERVAL}"
}

cmd_stop() {
  local pid
  if pid=$(pid_of); then
    terminate_pid "${pid}" prometheus "${PROMETHEUS_STOP_TIMEOUT}"
    log "stop: stopped prometheus (pid ${pid})"
  else
    log "stop: not running"
  fi
  rm -f "${PID_FILE}"
  # The TSDB goes with the server: the next start is empty.
  rm -rf "${RUN_DIR}/data"
}

cmd_status() {
  local pid
  if pid=$(pid_of) && ready; then
    echo "running (pid ${pid}): http://${PROMETHEUS_HOST}:${PROMETHEUS_PORT}, discovering http://${PROMETHEUS_SD_ADDR}/sd/targets"
    return 0
  fi
  echo "not running"
  return 1
}

cmd_env() {
  pid_of >/dev/null || die "env: prometheus is not running: start it first ($0 start)"
  printf 'export PROMETHEUS_IT_URL=%q PROMETHEUS_IT_SD_ADDR=%q PROMETHEUS_IT_RULES_DIR=%q\n' \
    "http://${PROMETHEUS_HOST}:${PROMETHEUS_PORT}" "${PROMETHEUS_SD_ADDR}" "${RULES_DIR}"
}

cmd_logs() {
  local follow="" arg
  for arg in "$@"; do
    case "${arg}" in
      -f) follow=1 ;;
      *) die "logs: unknown argument ${arg} (use -f)" ;;
    esac
  done
  show_log "${LOG_FILE}" prometheus "${follow}" "${PROMETHEUS_LOG_LINES:-100}"
}

usage() {
  cat >&2 <<USAGE
usage: $0 {start|stop|status|env|logs [-f]}
  start   prometheus on http://${PROMETHEUS_HOST}:${PROMETHEUS_PORT}, fresh TSDB under ${RUN_DIR}, rules from deploy/monitoring,
          targets from http://${PROMETHEUS_SD_ADDR}/sd/targets, every ${PROMETHEUS_INTERVAL}
  stop    stop it (SIGTERM, SIGKILL after ${PROMETHEUS_STOP_TIMEOUT}s) and remove its TSDB
  status  exit 0 if prometheus is running and ready
  env     export lines for tests: eval "\$($0 env)"
  logs    tail the prometheus log (-f to follow)
USAGE
}

server_main "$@"
