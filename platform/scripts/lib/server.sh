# shellcheck shell=bash
# What platform/kafka/kafka.sh, platform/kube/kube.sh and platform/s3/s3.sh
# share: logging, the in-repo cache directory, port probes, the lock that
# queues parallel callers, and the command dispatch. The sourcing script sets
# SERVER_NAME (its name in messages), SERVER_HOME (its cache directory),
# SERVER_HOST and SERVER_LOCK_TIMEOUT (seconds), and defines cmd_fetch,
# cmd_start, cmd_stop, cmd_status, cmd_env, cmd_logs and usage.

log() { printf '%s: %s\n' "${SERVER_NAME}" "$*" >&2; }

die() {
  log "error: $*"
  exit 1
}

# ignore_cache_dir keeps the (default, in-repo) cache out of git without
# touching .gitignore.
ignore_cache_dir() {
  mkdir -p "${SERVER_HOME}"
  [[ -f "${SERVER_HOME}/.gitignore" ]] || printf '*\n' >"${SERVER_HOME}/.gitignore"
}

# port_open PORT: something accepts connections on SERVER_HOST:PORT.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/${SERVER_HOST}/$1" 2>/dev/null
}

# recorded_pid FILE PATTERN: the pid FILE records, when that process is
# alive and its command line matches PATTERN (grep -E) - not a recycled pid.
recorded_pid() {
  local pid file=$1 pattern=$2
  [[ -f "${file}" ]] || return 1
  pid=$(cat "${file}" 2>/dev/null) || return 1
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  kill -0 "${pid}" 2>/dev/null || return 1
  if [[ -r "/proc/${pid}/cmdline" ]]; then
    tr '\0' ' ' <"/proc/${pid}/cmdline" | grep -qE -- "${pattern}" || return 1
  fi
  printf '%s\n' "${pid}"
}

# terminate_pid PID WHAT TIMEOUT: SIGTERM, then SIGKILL if PID still lives
# after TIMEOUT seconds; returns once it is gone.
terminate_pid() {
  local pid=$1 what=$2 timeout=$3
  kill -TERM "${pid}" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while kill -0 "${pid}" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "${pid}" 2>/dev/null; then
    log "stop: ${what} (pid ${pid}) still alive after ${timeout}s, sending SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
    while kill -0 "${pid}" 2>/dev/null; do sleep 0.2; done
  fi
}

# with_lock CMD...: fetch, start and stop queue up instead of racing on the
# same run directory and ports.
with_lock() {
  mkdir -p "${SERVER_HOME}"
  exec 9>"${SERVER_HOME}/.lock"
  if ! flock -w "${SERVER_LOCK_TIMEOUT}" 9; then
    die "timed out waiting for ${SERVER_HOME}/.lock"
  fi
  "$@"
}

# show_log FILE NAME FOLLOW LINES: the last LINES lines of a server's log
# (FOLLOW non-empty: the last 100, then followed), or an error naming NAME
# when it never started.
show_log() {
  local file=$1 name=$2 follow=$3 lines=$4
  [[ -f "${file}" ]] || die "no log at ${file} (${name} never started?)"
  if [[ -n "${follow}" ]]; then
    exec tail -n 100 -F "${file}"
  fi
  tail -n "${lines}" "${file}"
}

server_main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case "${cmd}" in
    fetch) with_lock cmd_fetch ;;
    start) with_lock cmd_start ;;
    stop) with_lock cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    logs) cmd_logs "$@" ;;
    -h | --help | help) usage ;;
    *)
      usage
      exit 2
      ;;
  esac
}
