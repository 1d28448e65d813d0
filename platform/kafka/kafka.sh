#!/usr/bin/env bash
# Single-node Apache Kafka 4.x (KRaft, broker+controller) on loopback for
# StreamForge integration tests. Jars come from Maven Central through mvn
# (see pom.xml beside this script); nothing else is downloaded.
#
# Usage: platform/kafka/kafka.sh {fetch|start|stop|resume|status|env|logs [-f]}
#        platform/kafka/kafka.sh cluster {start|stop|kill N|pause N|...}
#   eval "$(platform/kafka/kafka.sh env)"   # KAFKA_IT_* for the tests
#
# start formats a fresh broker; resume starts a stopped one again on its data
# (same cluster, topics and committed offsets): stop + resume is an outage.
# KAFKA_ADVERTISED_PORT (default KAFKA_PORT) is the PLAINTEXT address the
# broker gives its clients, e.g. a proxy in front of it. KAFKA_NODE_HOST adds a
# PLAINTEXT listener at that address (port KAFKA_NODE_PORT, default
# KAFKA_CONTROLLER_PORT + 1: Kafka refuses two IPv4 listeners on one port), advertised there: the local node's Pods reach the broker at its
# bridge address (platform/kube/node.sh), which must exist before start.
#
# The cluster commands (platform/kafka/cluster.sh) run a three-node cluster
# beside the single node, for fault tests: kafka.sh cluster help.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "${SCRIPT_DIR}/../.." && pwd)
POM="${SCRIPT_DIR}/pom.xml"

KAFKA_HOME=${KAFKA_HOME:-${REPO_ROOT}/.cache/kafka}
case "${KAFKA_HOME}" in
  /*) ;;
  *) KAFKA_HOME="${PWD}/${KAFKA_HOME}" ;;
esac
LIB_DIR="${KAFKA_HOME}/lib"
RUN_DIR="${KAFKA_HOME}/run"
PID_FILE="${RUN_DIR}/kafka.pid"
LOG_FILE="${RUN_DIR}/server.log"
STAMP_FILE="${LIB_DIR}/.fetched"

KAFKA_HOST=127.0.0.1
KAFKA_PORT=${KAFKA_PORT:-21092}
KAFKA_SASL_PORT=${KAFKA_SASL_PORT:-21093}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-21095}
KAFKA_ADVERTISED_PORT=${KAFKA_ADVERTISED_PORT:-${KAFKA_PORT}}
KAFKA_NODE_HOST=${KAFKA_NODE_HOST:-}
KAFKA_NODE_PORT=${KAFKA_NODE_PORT:-$((KAFKA_CONTROLLER_PORT + 1))}
KAFKA_SASL_USER=${KAFKA_SASL_USER:-streamforge}
KAFKA_SASL_PASSWORD=${KAFKA_SASL_PASSWORD:-streamforge-secret}
KAFKA_SASL_MECHANISM=SCRAM-SHA-512
# KAFKA_AUTHORIZER=true turns on KRaft's StandardAuthorizer: the SASL listener's
# users may then do only what ACLs allow them (the PLAINTEXT listener's
# ANONYMOUS and KAFKA_SASL_USER are super users, for the broker itself and for
# tests that set ACLs up). KAFKA_SCRAM_USERS adds SCRAM users at format:
# space-separated name=password pairs.
KAFKA_AUTHORIZER=${KAFKA_AUTHORIZER:-false}
KAFKA_SCRAM_USERS=${KAFKA_SCRAM_USERS:-}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
JAVA=${JAVA:-java}
MVN=${MVN:-mvn}

SERVER_NAME=kafka.sh
SERVER_HOME=${KAFKA_HOME}
SERVER_HOST=${KAFKA_HOST}
SERVER_LOCK_TIMEOUT=${KAFKA_LOCK_TIMEOUT:-600}
# shellcheck source=platform/scripts/lib/server.sh
. "${REPO_ROOT}/platform/scripts/lib/server.sh"
# shellcheck source=platform/kafka/cluster.sh
. "${SCRIPT_DIR}/cluster.sh"


# Read a <property> value from pom.xml (the single place versions are pinned).
pom_property() {
  sed -n "s:.*<$1>\\([^<]*\\)</$1>.*:\\1:p" "${POM}" | head -n 1
}

# KAFKA_VERSION overrides pom.xml's kafka.version (e.g. to try a newer 4.x).
kafka_version() {
  printf '%s\n' "${KAFKA_VERSION:-$(pom_property kafka.version)}"
}

want_stamp() {
  printf 'kafka_2.13=%s log4j=%s slf4j=%s\n' "$(kafka_version)" \
    "$(pom_property log4j.version)" "$(pom_property slf4j.version)"
}

jars_present() {
  [[ -f "${STAMP_FILE}" ]] && [[ "$(cat "${STAMP_FILE}")" == "$(want_stamp)" ]] &&
    compgen -G "${LIB_DIR}/kafka_2.13-*.jar" >/dev/null
}

cmd_fetch() {
  [[ -f "${POM}" ]] || die "missing ${POM}"
  local want
  want=$(want_stamp)
  if jars_present; then
    log "fetch: up to date (${want}) in ${LIB_DIR}"
    return 0
  fi
  command -v "${MVN}" >/dev/null || die "mvn not found (need Maven to fetch the Kafka jars)"
  ignore_cache_dir
  local tmp="${LIB_DIR}.tmp.$$" t0=${SECONDS}
  rm -rf "${tmp}"
  # shellcheck disable=SC2064 # expand now: the path is fixed
  trap "rm -rf '${tmp}'" EXIT
  mkdir -p "${tmp}"
  if ! "${MVN}" -q -B -Dstyle.color=never -f "${POM}" dependency:copy-dependencies \
    -Dkafka.version="$(kafka_version)" -DoutputDirectory="${tmp}" -DincludeScope=runtime >"${tmp}/.mvn.log" 2>&1; then
    cat "${tmp}/.mvn.log" >&2
    die "mvn dependency:copy-dependencies failed (output above)"
  fi
  rm -f "${tmp}/.mvn.log"
  compgen -G "${tmp}/kafka_2.13-*.jar" >/dev/null || die "mvn ran but no kafka_2.13 jar in ${tmp}"
  printf '%s\n' "${want}" >"${tmp}/.fetched"
  rm -rf "${LIB_DIR}"
  mv "${tmp}" "${LIB_DIR}"
  trap - EXIT
  local n size
  n=$(find "${LIB_DIR}" -maxdepth 1 -name '*.jar' | wc -l)
  size=$(du -sh "${LIB_DIR}" | cut -f1)
  log "fetch: ${want} -> ${LIB_DIR} (${n} jars, ${size}, $((SECONDS - t0))s)"
}

# True when the pid in PID_FILE is alive and is our broker JVM.
broker_pid() {
  recorded_pid "${PID_FILE}" 'kafka\.Kafka'
}

all_ports_open() {
  port_open "${KAFKA_PORT}" && port_open "${KAFKA_SASL_PORT}"
}

# Kafka cluster ids are 16 random bytes in unpadded base64url (22 chars).
# One starting with '-' would be read as an option by StorageTool: draw again.
new_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ "${id}" != -* ]] && { printf '%s\n' "${id:0:22}"; return; }
  done
}

write_config() {
  local node_listener="" node_map=""
  if [[ -n "${KAFKA_NODE_HOST}" ]]; then
    node_listener=",NODE://${KAFKA_NODE_HOST}:${KAFKA_NODE_PORT}"
    node_map=",NODE:PLAINTEXT"
  fi
  cat >"${RUN_DIR}/server.properties" <<EOF
# Generated by platform/kafka/kafka.sh -- single-node KRaft for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${KAFKA_HOST}:${KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://${KAFKA_HOST}:${KAFKA_PORT},CLIENT://${KAFKA_HOST}:${KAFKA_SASL_PORT},CONTROLLER://${KAFKA_HOST}:${KAFKA_CONTROLLER_PORT}${node_listener}
advertised.listeners=PLAINTEXT://${KAFKA_HOST}:${KAFKA_ADVERTISED_PORT},CLIENT://${KAFKA_HOST}:${KAFKA_SASL_PORT}${node_listener}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CLIENT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT${node_map}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.name.client.sasl.enabled.mechanisms=${KAFKA_SASL_MECHANISM}
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=${RUN_DIR}/data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  if [[ "${KAFKA_AUTHORIZER}" == true ]]; then
    cat >>"${RUN_DIR}/server.properties" <<EOF
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS;User:${KAFKA_SASL_USER}
allow.everyone.if.no.acl.found=false
EOF
  fi

  write_log4j "${RUN_DIR}/log4j2.xml" "${LOG_FILE}"
}

# write_log4j FILE LOG: the broker's log4j2 configuration, logging to LOG.
write_log4j() {
  cat >"$1" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by platform/kafka/kafka.sh -->
<Configuration status="WARN">
  <Appenders>
    <File name="server" fileName="$2" append="true">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="kafka.log.LogCleaner" level="WARN"/>
    <Logger name="org.apache.kafka.storage.internals.log" level="WARN"/>
    <Root level="INFO">
      <AppenderRef ref="server"/>
    </Root>
  </Loggers>
</Configuration>
EOF
}

print_log_tail() {
  local n=${1:-50}
  if [[ -f "${LOG_FILE}" ]]; then
    log "last ${n} lines of ${LOG_FILE}:"
    tail -n "${n}" "${LOG_FILE}" >&2
  fi
  if [[ -s "${RUN_DIR}/stdout.log" ]]; then
    log "last ${n} lines of ${RUN_DIR}/stdout.log:"
    tail -n "${n}" "${RUN_DIR}/stdout.log" >&2
  fi
}

cmd_start() {
  local pid
  if pid=$(broker_pid); then
    log "start: already running (pid ${pid}) on ${KAFKA_HOST}:${KAFKA_PORT} / SASL ${KAFKA_HOST}:${KAFKA_SASL_PORT}"
    return 0
  fi
  command -v "${JAVA}" >/dev/null || die "java not found (Kafka 4.x needs Java 17+)"
  local port
  for port in "${KAFKA_PORT}" "${KAFKA_SASL_PORT}" "${KAFKA_CONTROLLER_PORT}"; do
    if port_open "${port}"; then
      die "port ${KAFKA_HOST}:${port} is already in use by another process (not a broker started by this script); free it or set KAFKA_PORT/KAFKA_SASL_PORT/KAFKA_CONTROLLER_PORT"
    fi
  done

  cmd_fetch
  local t0=${SECONDS}
  rm -rf "${RUN_DIR}"
  mkdir -p "${RUN_DIR}/data"
  write_config

  local cp="${LIB_DIR}/*" cluster_id storage_tool=kafka.tools.StorageTool
  # Newer Kafka releases may move StorageTool from core (Scala) to the tools
  # module; jar entry names are stored uncompressed, so grep finds them.
  if ! LC_ALL=C grep -qaF 'kafka/tools/StorageTool.class' "${LIB_DIR}"/kafka_2.13-*.jar &&
    LC_ALL=C grep -qaF 'org/apache/kafka/tools/StorageTool.class' "${LIB_DIR}"/kafka-tools-*.jar 2>/dev/null; then
    storage_tool=org.apache.kafka.tools.StorageTool
  fi
  cluster_id=$(new_cluster_id)
  local -a scram=(--add-scram "${KAFKA_SASL_MECHANISM}=[name=${KAFKA_SASL_USER},password=${KAFKA_SASL_PASSWORD}]")
  local pair
  for pair in ${KAFKA_SCRAM_USERS}; do
    scram+=(--add-scram "${KAFKA_SASL_MECHANISM}=[name=${pair%%=*},password=${pair#*=}]")
  done
  local -a jvm_common=(-Dlog4j2.configurationFile="${RUN_DIR}/log4j2.xml" -Djava.awt.headless=true)
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags
  if ! "${JAVA}" ${KAFKA_HEAP_OPTS} "${jvm_common[@]}" -cp "${cp}" "${storage_tool}" format \
    -t "${cluster_id}" -c "${RUN_DIR}/server.properties" \
    "${scram[@]}" \
    >"${RUN_DIR}/format.log" 2>&1; then
    cat "${RUN_DIR}/format.log" >&2
    die "storage format failed"
  fi

  launch_broker "${cluster_id}" "${t0}"
}

# cmd_resume starts the stopped broker again on the data and configuration
# its last start left: no format, same cluster.
cmd_resume() {
  local pid
  if pid=$(broker_pid); then
    log "resume: already running (pid ${pid})"
    return 0
  fi
  if [[ ! -f "${RUN_DIR}/server.properties" ]] || [[ ! -d "${RUN_DIR}/data" ]]; then
    die "resume: no stopped broker in ${RUN_DIR} (start one first)"
  fi
  command -v "${JAVA}" >/dev/null || die "java not found (Kafka 4.x needs Java 17+)"
  local port
  for port in "${KAFKA_PORT}" "${KAFKA_SASL_PORT}" "${KAFKA_CONTROLLER_PORT}"; do
    if port_open "${port}"; then
      die "port ${KAFKA_HOST}:${port} is already in use by another process; the broker cannot resume on it"
    fi
  done
  # start waits for the startup line of this run's log, not the last one's.
  [[ -f "${LOG_FILE}" ]] && mv "${LOG_FILE}" "${LOG_FILE}.prev"
  launch_broker "$(sed -n 's/^cluster.id=//p' "${RUN_DIR}/data/meta.properties")" "${SECONDS}"
}

# launch_broker CLUSTER_ID T0 runs the broker on RUN_DIR and waits until it
# answers.
launch_broker() {
  local cluster_id=$1 t0=$2 pid cp="${LIB_DIR}/*"
  local -a jvm_common=(-Dlog4j2.configurationFile="${RUN_DIR}/log4j2.xml" -Djava.awt.headless=true)
  # setsid+nohup: the broker outlives this script and its terminal. In a
  # non-interactive shell the child is not a group leader, so setsid does not
  # fork and $! is the JVM's pid. 9>&- keeps the lock fd out of the JVM.
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags
  setsid nohup "${JAVA}" -server ${KAFKA_HEAP_OPTS} \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:MaxDirectMemorySize=256m \
    "${jvm_common[@]}" -Dkafka.logs.dir="${RUN_DIR}" \
    -cp "${cp}" kafka.Kafka "${RUN_DIR}/server.properties" \
    </dev/null >"${RUN_DIR}/stdout.log" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "${pid}" >"${PID_FILE}"

  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) started=""
  while ((SECONDS < deadline)); do
    if ! kill -0 "${pid}" 2>/dev/null; then
      print_log_tail 50
      rm -f "${PID_FILE}"
      die "broker exited during startup"
    fi
    if [[ -z "${started}" ]] && [[ -f "${LOG_FILE}" ]] &&
      grep -qE 'Kafka Server started|Transitioning from RECOVERY to RUNNING' "${LOG_FILE}"; then
      started=1
    fi
    if [[ -n "${started}" ]] && all_ports_open; then
      log "start: Kafka $(kafka_version) up in $((SECONDS - t0))s (pid ${pid}): PLAINTEXT ${KAFKA_HOST}:${KAFKA_PORT}, SASL_PLAINTEXT/${KAFKA_SASL_MECHANISM} ${KAFKA_HOST}:${KAFKA_SASL_PORT}, cluster ${cluster_id}"
      return 0
    fi
    sleep 0.5
  done
  print_log_tail 50
  log "start: broker not ready within ${KAFKA_START_TIMEOUT}s, stopping it"
  cmd_stop
  die "broker not ready within ${KAFKA_START_TIMEOUT}s (log kept in ${LOG_FILE})"
}

cmd_stop() {
  local pid
  if ! pid=$(broker_pid); then
    rm -f "${PID_FILE}"
    log "stop: not running"
    return 0
  fi
  terminate_pid "${pid}" "the broker" "${KAFKA_STOP_TIMEOUT}"
  rm -f "${PID_FILE}"
  log "stop: stopped (pid ${pid})"
}

cmd_status() {
  local pid
  if pid=$(broker_pid) && all_ports_open; then
    echo "running (pid ${pid}): PLAINTEXT ${KAFKA_HOST}:${KAFKA_PORT}, SASL_PLAINTEXT ${KAFKA_HOST}:${KAFKA_SASL_PORT}"
    return 0
  fi
  if [[ -n "${pid:-}" ]]; then
    echo "unhealthy: pid ${pid} alive but ports ${KAFKA_PORT}/${KAFKA_SASL_PORT} not answering"
  else
    echo "not running"
  fi
  return 1
}

cmd_env() {
  printf 'export KAFKA_IT_BOOTSTRAP=%q\n' "${KAFKA_HOST}:${KAFKA_PORT}"
  printf 'export KAFKA_IT_SASL_BOOTSTRAP=%q\n' "${KAFKA_HOST}:${KAFKA_SASL_PORT}"
  printf 'export KAFKA_IT_USERNAME=%q\n' "${KAFKA_SASL_USER}"
  printf 'export KAFKA_IT_PASSWORD=%q\n' "${KAFKA_SASL_PASSWORD}"
  printf 'export KAFKA_IT_MECHANISM=%q\n' "${KAFKA_SASL_MECHANISM}"
  if [[ -n "${KAFKA_NODE_HOST}" ]]; then
    printf 'export KAFKA_IT_NODE_BOOTSTRAP=%q\n' "${KAFKA_NODE_HOST}:${KAFKA_NODE_PORT}"
  fi
}

cmd_logs() {
  local follow=""
  [[ "${1:-}" == "-f" ]] && follow=1
  show_log "${LOG_FILE}" broker "${follow}" "${KAFKA_LOG_LINES:-100}"
}

usage() {
  cat >&2 <<EOF
usage: $0 {fetch|start|stop|resume|status|env|logs [-f]}
  fetch   resolve Kafka $(kafka_version) jars with Maven into ${LIB_DIR}
  start   fresh single-node KRaft broker (PLAINTEXT :${KAFKA_PORT}, SASL/SCRAM :${KAFKA_SASL_PORT})
  stop    stop it (SIGTERM, SIGKILL after ${KAFKA_STOP_TIMEOUT}s)
  resume  start the stopped broker again on its data (an outage: stop, then resume)
  status  exit 0 if running and answering
  env     export lines for tests: eval "\$($0 env)"
  logs    tail the server log (-f to follow)
  cluster a three-node cluster for fault tests: $0 cluster help
EOF
}

if [[ "${1:-}" == cluster ]]; then
  shift
  cluster_main "$@"
  exit 0
fi
if [[ "${1:-}" == resume ]]; then
  with_lock cmd_resume
  exit 0
fi
server_main "$@"
