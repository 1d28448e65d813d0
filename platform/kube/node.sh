#!/usr/bin/env bash
# A real single-node Kubernetes cluster for StreamForge integration tests:
# platform/kube/kube.sh's etcd and kube-apiserver (authorization Node,RBAC)
# plus kube-controller-manager, kube-scheduler, containerd and a kubelet, with
# Pods on a bridge this script creates. Offline: Kubernetes is built from the
# module proxy (kube.sh's scratch module plus kubelet's staging modules),
# containerd, runc and the CNI plugins are Debian packages, the sandbox
# (pause) image is built here (platform/devstack/cmd/pause), worker images
# come from `make images-local`.
#
# Usage: platform/kube/node.sh {fetch|start|stop|status|env|logs [-f] [kubelet|containerd|kcm|scheduler]}
#   eval "$(platform/kube/node.sh env)"   # KUBECONFIG, KUBE_IT=1, NODE_IT=1, NODE_IP, CONTAINERD_ADDRESS
#
# Everything it touches outside its cache directory is undone by stop (and by
# a start that finds leftovers): the processes, the containers and their
# shims, the mounts, the bridge, the kubepods cgroups, /var/lib/kubelet,
# /var/log/containers, /var/lib/cni and /run/containerd when it made them, and
# the sysctls the kubelet sets without an opt-out (vm.overcommit_memory,
# kernel.panic, kernel.panic_on_oops). Needs root.
#
# Environment (besides kube.sh's KUBE_PORT, ETCD_PORT, ETCD_PEER_PORT, KUBE_HOME):
#   NODE_BRIDGE       bridge the Pods attach to (default sfbr0)
#   NODE_IP           the node's address on it, /24 (default 10.244.0.1); Pods
#                     reach servers on the host there
#   KUBELET_PORT      kubelet's port on NODE_IP (default 10250)
#   NODE_NAME         the Node object's name (default streamforge-node)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "${SCRIPT_DIR}/../.." && pwd)

KUBE_HOME=${KUBE_HOME:-${REPO_ROOT}/.cache/kube}
case "${KUBE_HOME}" in
  /*) ;;
  *) KUBE_HOME="${PWD}/${KUBE_HOME}" ;;
esac
export KUBE_HOME
KUBE_SH="${SCRIPT_DIR}/kube.sh"
KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
BIN_DIR="${KUBE_HOME}/bin"
BUILD_DIR="${KUBE_HOME}/build-node"
STAMP_FILE="${BIN_DIR}/.built-node"
KUBE_RUN="${KUBE_HOME}/run"
PKI="${KUBE_RUN}/pki"
NODE_HOME="${KUBE_HOME}/node"
RUN_DIR="${NODE_HOME}/run"
STATE_FILE="${NODE_HOME}/touched"
SYSCTL_FILE="${NODE_HOME}/sysctl.saved"
IMAGE_DIR="${NODE_HOME}/images"
CTRD_DIR="${RUN_DIR}/containerd"
CTRD_SOCK="${CTRD_DIR}/containerd.sock"
KUBELET_DIR="${RUN_DIR}/kubelet"

NODE_BRIDGE=${NODE_BRIDGE:-sfbr0}
NODE_IP=${NODE_IP:-10.244.0.1}
NODE_SUBNET="${NODE_IP%.*}.0/24"
KUBELET_PORT=${KUBELET_PORT:-10250}
NODE_NAME=${NODE_NAME:-streamforge-node}
PAUSE_IMAGE=streamforge.local/pause:1
NODE_START_TIMEOUT=${NODE_START_TIMEOUT:-90}
NODE_STOP_TIMEOUT=${NODE_STOP_TIMEOUT:-20}
# The sysctls the kubelet sets at start (pkg/kubelet/cm: setupKernelTunables).
KUBELET_SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops)
GO=${GO:-go}

SERVER_NAME=node.sh
SERVER_HOME=${NODE_HOME}
SERVER_HOST=127.0.0.1
SERVER_LOCK_TIMEOUT=${NODE_LOCK_TIMEOUT:-900}
# shellcheck source=platform/scripts/lib/server.sh
. "${REPO_ROOT}/platform/scripts/lib/server.sh"

# The staging modules of kube.sh, plus cri-streaming (new in 1.37, required
# by the kubelet only).
STAGING_MODULES=(
  api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
  cloud-provider cluster-bootstrap code-generator component-base
  component-helpers controller-manager cri-api cri-client cri-streaming
  csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
  kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl
  kubelet metrics mount-utils pod-security-admission sample-apiserver
  sample-cli-plugin sample-controller streaming
)
NODE_COMPONENTS=(kubelet kube-controller-manager kube-scheduler)

# kubectl: the one on PATH, else one built with the node's binaries.
KUBECTL=${KUBECTL:-$(command -v kubectl || echo "${BIN_DIR}/kubectl")}
kctl() { "${KUBECTL}" --kubeconfig "${KUBE_RUN}/kubeconfig" "$@"; }
ctr_() { ctr --address "${CTRD_SOCK}" -n k8s.io "$@"; }

want_stamp() {
  printf 'kubernetes=%s components=%s go=%s\n' "${KUBE_VERSION}" "${NODE_COMPONENTS[*]}" "$("${GO}" env GOVERSION)"
}

# ensure_packages installs Debian's containerd, runc and CNI plugins when
# one of them is missing.
ensure_packages() {
  local missing=()
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] || missing+=(containernetworking-plugins)
  ((${#missing[@]} == 0)) && return 0
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    die "missing ${missing[*]}: install Debian's containerd, runc and containernetworking-plugins"
  fi
  log "fetch: installing ${missing[*]} (apt-get)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q containerd runc containernetworking-plugins >"${NODE_HOME}/apt.log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"${NODE_HOME}/apt.log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q containerd runc containernetworking-plugins >>"${NODE_HOME}/apt.log" 2>&1 ||
      { tail -n 30 "${NODE_HOME}/apt.log" >&2; die "apt-get install containerd runc containernetworking-plugins failed (output above)"; }
  fi
}

node_binaries_present() {
  local c
  [[ -f "${STAMP_FILE}" && "$(cat "${STAMP_FILE}")" == "$(want_stamp)" ]] || return 1
  for c in "${NODE_COMPONENTS[@]}"; do [[ -x "${BIN_DIR}/${c}" ]] || return 1; done
}

build_node_binaries() {
  node_binaries_present && return 0
  local staging_version="v0.${KUBE_VERSION#v1.}" m c t0=${SECONDS}
  mkdir -p "${BUILD_DIR}" "${BIN_DIR}"
  {
    printf '// Generated by platform/kube/node.sh: builds Kubernetes %s node binaries.\n' "${KUBE_VERSION}"
    printf 'module streamforge.local/kubenodebuild\n\ngo 1.26.0\n\n'
    printf 'require k8s.io/kubernetes %s\n\n' "${KUBE_VERSION}"
    for m in "${STAGING_MODULES[@]}"; do
      printf 'replace k8s.io/%s => k8s.io/%s %s\n' "${m}" "${m}" "${staging_version}"
    done
  } >"${BUILD_DIR}/go.mod"
  {
    printf '//go:build tools\n\npackage kubenodebuild\n\nimport (\n'
    for c in "${NODE_COMPONENTS[@]}" kubectl; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "${c}"; done
    printf ')\n'
  } >"${BUILD_DIR}/tools.go"
  log "fetch: building ${NODE_COMPONENTS[*]} ${KUBE_VERSION} in ${BUILD_DIR} (several minutes on 2 cores from nothing)"
  (
    cd "${BUILD_DIR}"
    export GOWORK=off GOFLAGS="-mod=mod -buildvcs=false"
    "${GO}" mod tidy >"${BUILD_DIR}/build.log" 2>&1
    local minor=${KUBE_VERSION#v1.}
    minor=${minor%%.*}
    local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${KUBE_VERSION}"
    ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}"
    ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=${KUBE_VERSION}"
    local pkgs=()
    for c in "${NODE_COMPONENTS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/${c}"); done
    "${GO}" build -trimpath -ldflags "${ldflags}" -o "${BIN_DIR}/" "${pkgs[@]}" >>"${BUILD_DIR}/build.log" 2>&1
  ) || {
    tail -n 40 "${BUILD_DIR}/build.log" >&2
    die "building ${NODE_COMPONENTS[*]} failed (output above, full log ${BUILD_DIR}/build.log)"
  }
  want_stamp >"${STAMP_FILE}"
  log "fetch: built ${NODE_COMPONENTS[*]} ${KUBE_VERSION} in $((SECONDS - t0))s"
}

# build_kubectl builds kubectl from the node's build module when none is on
# PATH (Debian's kubernetes-client is far older than the cluster).
build_kubectl() {
  [[ -x "${KUBECTL}" ]] && return 0
  log "fetch: no kubectl on PATH, building k8s.io/kubernetes/cmd/kubectl ${KUBE_VERSION}"
  (
    cd "${BUILD_DIR}"
    GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" "${GO}" build -trimpath -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=${KUBE_VERSION}" \
      -o "${BIN_DIR}/" k8s.io/kubernetes/cmd/kubectl >>"${BUILD_DIR}/build.log" 2>&1
  ) || { tail -n 40 "${BUILD_DIR}/build.log" >&2; die "building kubectl failed"; }
}

# build_pause writes the sandbox image tarball (a static Go program that waits
# for SIGTERM).
build_pause() {
  [[ -f "${IMAGE_DIR}/pause.tar" ]] && return 0
  local tmp
  tmp=$(mktemp -d)
  (
    cd "${REPO_ROOT}/platform/devstack"
    CGO_ENABLED=0 "${GO}" build -trimpath -ldflags "-s -w" -o "${tmp}/bin/" ./cmd/pause
    "${GO}" build -o "${tmp}/ociimage" ./cmd/ociimage
  ) || die "building the pause image's program failed"
  mkdir -p "${IMAGE_DIR}"
  "${tmp}/ociimage" -name "${PAUSE_IMAGE}" -out "${IMAGE_DIR}/pause.tar" -bin-dir "${tmp}/bin" -entrypoint pause ||
    die "writing the pause image failed"
  rm -rf "${tmp}"
}

cmd_fetch() {
  ignore_cache_dir
  [[ "$(id -u)" == 0 ]] || die "the node needs root (containerd, kubelet, a bridge)"
  ensure_packages
  KUBE_CONTROLLER_MANAGER=0 "${KUBE_SH}" fetch
  build_node_binaries
  build_kubectl
  build_pause
}

node_pid() { recorded_pid "${RUN_DIR}/$1.pid" "$2"; }

# spawn NAME CMD... starts CMD detached, logging to RUN_DIR/NAME.log.
spawn() {
  local name=$1
  shift
  setsid nohup "$@" </dev/null >"${RUN_DIR}/${name}.log" 2>&1 9>&- &
  printf '%s\n' "$!" >"${RUN_DIR}/${name}.pid"
}

# wait_until NAME TIMEOUT CHECK...: polls CHECK; fails with NAME's log tail.
wait_until() {
  local name=$1 timeout=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    "$@" && return 0
    if ! node_pid "${name}" "${name}" >/dev/null; then
      tail -n 30 "${RUN_DIR}/${name}.log" >&2 || true
      return 1
    fi
    sleep 0.3
  done
  tail -n 30 "${RUN_DIR}/${name}.log" >&2 || true
  return 1
}

# touched PATH: remember that start created PATH (stop removes only those).
touched() {
  [[ -e "$1" ]] && return 0
  grep -qxF "$1" "${STATE_FILE}" 2>/dev/null || printf '%s\n' "$1" >>"${STATE_FILE}"
}

save_sysctls() {
  # Kept from the first start until a stop restores it: a start after a
  # crash must not record the kubelet's values as the host's.
  [[ -f "${SYSCTL_FILE}" ]] && return 0
  local k
  for k in "${KUBELET_SYSCTLS[@]}"; do
    printf '%s=%s\n' "${k}" "$(sysctl -n "${k}")"
  done >"${SYSCTL_FILE}.tmp"
  mv "${SYSCTL_FILE}.tmp" "${SYSCTL_FILE}"
}

restore_sysctls() {
  [[ -f "${SYSCTL_FILE}" ]] || return 0
  local line
  while IFS= read -r line; do
    [[ -n "${line}" ]] && sysctl -q -w "${line}" >/dev/null
  done <"${SYSCTL_FILE}"
  rm -f "${SYSCTL_FILE}"
}

node_certs() {
  local d="${RUN_DIR}/pki"
  mkdir -p "${d}"
  {
    openssl req -newkey rsa:2048 -nodes -subj "/O=system:nodes/CN=system:node:${NODE_NAME}" \
      -keyout "${d}/kubelet.key" -out "${d}/kubelet.csr"
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=IP:${NODE_IP},DNS:${NODE_NAME}" >"${d}/kubelet.ext"
    openssl x509 -req -days 365 -in "${d}/kubelet.csr" -CA "${PKI}/ca.crt" -CAkey "${PKI}/ca.key" \
      -CAcreateserial -extfile "${d}/kubelet.ext" -out "${d}/kubelet.crt"
  } >"${RUN_DIR}/openssl.log" 2>&1 || { cat "${RUN_DIR}/openssl.log" >&2; die "node certificates failed"; }
  local server
  server=$(sed -n 's/^ *server: //p' "${KUBE_RUN}/kubeconfig")
  cat >"${RUN_DIR}/kubelet.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster: {server: "${server}", certificate-authority: "${PKI}/ca.crt"}
users:
  - name: kubelet
    user: {client-certificate: "${d}/kubelet.crt", client-key: "${d}/kubelet.key"}
contexts:
  - name: local
    context: {cluster: local, user: kubelet}
current-context: local
EOF
}

write_configs() {
  mkdir -p "${CTRD_DIR}/root" "${CTRD_DIR}/state" "${RUN_DIR}/cni" "${KUBELET_DIR}" "${RUN_DIR}/pod-logs"
  cat >"${CTRD_DIR}/config.toml" <<EOF
# Generated by platform/kube/node.sh.
version = 2
root = "${CTRD_DIR}/root"
state = "${CTRD_DIR}/state"
[grpc]
  address = "${CTRD_SOCK}"
[ttrpc]
  address = "${CTRD_SOCK}.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${CTRD_DIR}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # The VM lacks CAP_SYS_RESOURCE: without this every sandbox fails with
  # "can't get final child's PID from pipe".
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${RUN_DIR}/cni"
    max_conf_num = 1
EOF
  # No gateway, no masquerade: no forwarding or iptables change on the host;
  # Pods talk to the host at NODE_IP over the bridge.
  cat >"${RUN_DIR}/cni/10-streamforge.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "streamforge",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${NODE_BRIDGE}",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "${RUN_DIR}/ipam",
        "ranges": [[{"subnet": "${NODE_SUBNET}", "rangeStart": "${NODE_IP%.*}.10", "gateway": "${NODE_IP}"}]]
      }
    }
  ]
}
EOF
  cat >"${RUN_DIR}/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine kind mounts cgroup v1, which 1.37 refuses by default.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${CTRD_SOCK}
address: ${NODE_IP}
port: ${KUBELET_PORT}
readOnlyPort: 0
healthzPort: 0
tlsCertFile: ${RUN_DIR}/pki/kubelet.crt
tlsPrivateKeyFile: ${RUN_DIR}/pki/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${PKI}/ca.crt}
authorization:
  mode: Webhook
makeIPTablesUtilChains: false
failSwapOn: false
podLogsDir: ${RUN_DIR}/pod-logs
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 200Mi
  nodefs.available: 2%
  imagefs.available: 2%
  nodefs.inodesFree: 2%
serializeImagePulls: false
staticPodPath: ""
clusterDomain: cluster.local
EOF
}

ctrd_up() { ctr --address "${CTRD_SOCK}" version >/dev/null 2>&1; }

node_ready() {
  [[ "$(kctl get node "${NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

cmd_start() {
  if cmd_status >/dev/null 2>&1; then
    log "start: already running (node ${NODE_NAME} Ready at ${NODE_IP})"
    return 0
  fi
  cmd_fetch
  # Leftovers of a failed run first: a start always begins clean.
  cmd_stop 2>/dev/null || true
  local t0=${SECONDS} t_ms0
  t_ms0=$(date +%s%N)
  KUBE_CONTROLLER_MANAGER=0 "${KUBE_SH}" start
  mkdir -p "${RUN_DIR}"
  : >"${STATE_FILE}"
  local p
  for p in /var/lib/kubelet /var/log/containers /var/lib/cni /run/containerd /opt/cni; do touched "${p}"; done
  save_sysctls
  node_certs
  write_configs

  ip link add "${NODE_BRIDGE}" type bridge
  ip addr add "${NODE_IP}/24" dev "${NODE_BRIDGE}"
  ip link set "${NODE_BRIDGE}" up

  spawn containerd containerd --config "${CTRD_DIR}/config.toml"
  wait_until containerd 30 ctrd_up || { cmd_stop; die "containerd did not start (log ${RUN_DIR}/containerd.log)"; }
  ctr_ images import "${IMAGE_DIR}/pause.tar" >/dev/null || { cmd_stop; die "importing the pause image failed"; }
  if [[ -d "${IMAGE_DIR}/workers" ]]; then
    # Images `make images-local` built before this cluster existed.
    for p in "${IMAGE_DIR}"/workers/*.tar; do
      [[ -f "${p}" ]] && { ctr_ images import "${p}" >/dev/null || { cmd_stop; die "importing ${p} failed"; }; }
    done
  fi

  local kc="${KUBE_RUN}/kubeconfig"
  spawn kube-controller-manager "${BIN_DIR}/kube-controller-manager" --kubeconfig="${kc}" \
    --authentication-kubeconfig="${kc}" --authorization-kubeconfig="${kc}" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
    --cluster-signing-cert-file="${PKI}/ca.crt" --cluster-signing-key-file="${PKI}/ca.key" \
    --service-account-private-key-file="${PKI}/sa.key" --root-ca-file="${PKI}/ca.crt" \
    --use-service-account-credentials=false
  spawn kube-scheduler "${BIN_DIR}/kube-scheduler" --kubeconfig="${kc}" \
    --authentication-kubeconfig="${kc}" --authorization-kubeconfig="${kc}" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false
  local t_kubelet
  t_kubelet=$(date +%s%N)
  spawn kubelet "${BIN_DIR}/kubelet" --config="${RUN_DIR}/kubelet.yaml" \
    --kubeconfig="${RUN_DIR}/kubelet.kubeconfig" --root-dir="${KUBELET_DIR}" \
    --hostname-override="${NODE_NAME}" --node-ip="${NODE_IP}"
  wait_until kubelet "${NODE_START_TIMEOUT}" node_ready || { cmd_stop; die "node ${NODE_NAME} not Ready within ${NODE_START_TIMEOUT}s (log ${RUN_DIR}/kubelet.log)"; }
  local name
  for name in kube-controller-manager kube-scheduler; do
    node_pid "${name}" "${name}" >/dev/null || { tail -n 30 "${RUN_DIR}/${name}.log" >&2; cmd_stop; die "${name} exited during startup"; }
  done
  local t_end
  t_end=$(date +%s%N)
  log "start: node ${NODE_NAME} Ready at ${NODE_IP} in $(((t_end - t_ms0) / 1000000)) ms (kubelet start to Ready $(((t_end - t_kubelet) / 1000000)) ms); KUBECONFIG=${KUBE_RUN}/kubeconfig"
  : "${t0}"
}

# kill_containers stops every container of this containerd and the shims
# that serve them.
kill_containers() {
  ctrd_up || return 0
  local id
  for id in $(ctr_ tasks ls -q 2>/dev/null); do
    ctr_ tasks kill -s SIGKILL "${id}" >/dev/null 2>&1 || true
  done
  sleep 0.5
  for id in $(ctr_ tasks ls -q 2>/dev/null); do
    ctr_ tasks delete -f "${id}" >/dev/null 2>&1 || true
  done
  for id in $(ctr_ containers ls -q 2>/dev/null); do
    ctr_ containers delete "${id}" >/dev/null 2>&1 || true
  done
}

cmd_stop() {
  local name pid stopped=0
  # Pods first, while the kubelet can still tear their sandboxes and
  # networks down the regular way.
  if node_pid kubelet kubelet >/dev/null && kctl get --raw /readyz >/dev/null 2>&1; then
    kctl delete jobs,deployments,replicasets --all -A --wait=false >/dev/null 2>&1 || true
    timeout 30 "${KUBECTL}" --kubeconfig "${KUBE_RUN}/kubeconfig" delete pods --all -A --grace-period=2 --timeout=25s >/dev/null 2>&1 || true
  fi
  for name in kubelet kube-scheduler kube-controller-manager; do
    if pid=$(node_pid "${name}" "${name}"); then
      terminate_pid "${pid}" "${name}" "${NODE_STOP_TIMEOUT}"
      log "stop: stopped ${name} (pid ${pid})"
      stopped=1
    fi
    rm -f "${RUN_DIR}/${name}.pid"
  done
  kill_containers
  if pid=$(node_pid containerd containerd); then
    terminate_pid "${pid}" containerd "${NODE_STOP_TIMEOUT}"
    log "stop: stopped containerd (pid ${pid})"
    stopped=1
  fi
  rm -f "${RUN_DIR}/containerd.pid"
  # Shims of this containerd that outlived it (their command line names its
  # socket, so no other containerd's shim matches).
  for pid in $(pgrep -f -- "-address ${CTRD_SOCK}" 2>/dev/null || true); do
    terminate_pid "${pid}" containerd-shim 5
  done
  # Container processes outlive a killed shim (a crashed run): whatever is
  # still in the kubelet's cgroups is a container of this node.
  for pid in $(find /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u); do
    if kill -KILL "${pid}" 2>/dev/null; then
      log "stop: killed container process ${pid} left by a crashed run"
      while kill -0 "${pid}" 2>/dev/null; do sleep 0.1; done
    fi
  done
  # Mounts under the node's directories (sandbox network namespaces,
  # overlay root filesystems, Pod volumes), deepest first.
  local m
  while IFS= read -r m; do
    umount "${m}" 2>/dev/null || umount -l "${m}" 2>/dev/null || true
  done < <(awk -v d="${RUN_DIR}/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  if ip link show "${NODE_BRIDGE}" >/dev/null 2>&1; then
    ip link delete "${NODE_BRIDGE}" && log "stop: removed bridge ${NODE_BRIDGE}"
  fi
  local c
  # The kubelet's cgroups (cgroupfs driver: kubepods in every hierarchy).
  for c in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    if [[ -d "${c}" ]]; then find "${c}" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done
  if [[ -f "${STATE_FILE}" ]]; then
    while IFS= read -r m; do
      [[ -n "${m}" ]] && rm -rf "${m}"
    done <"${STATE_FILE}"
    rm -f "${STATE_FILE}"
  fi
  restore_sysctls
  rm -rf "${RUN_DIR}"
  KUBE_CONTROLLER_MANAGER=0 "${KUBE_SH}" stop || true
  ((stopped)) || log "stop: node was not running"
}

cmd_status() {
  local name
  for name in containerd kubelet kube-controller-manager kube-scheduler; do
    node_pid "${name}" "${name}" >/dev/null || { echo "not running (${name} is not)"; return 1; }
  done
  "${KUBE_SH}" status >/dev/null || { echo "unhealthy: kube-apiserver is not ready"; return 1; }
  node_ready || { echo "unhealthy: node ${NODE_NAME} is not Ready"; return 1; }
  echo "running: node ${NODE_NAME} Ready at ${NODE_IP} (bridge ${NODE_BRIDGE}), containerd ${CTRD_SOCK}, KUBECONFIG=${KUBE_RUN}/kubeconfig"
}

cmd_env() {
  "${KUBE_SH}" env
  printf 'export NODE_IT=1\n'
  printf 'export NODE_IP=%q\n' "${NODE_IP}"
  printf 'export CONTAINERD_ADDRESS=%q\n' "${CTRD_SOCK}"
}

cmd_logs() {
  local follow="" name=kubelet arg
  for arg in "$@"; do
    case "${arg}" in
      -f) follow=1 ;;
      kubelet | containerd | kube-scheduler | kube-controller-manager) name=${arg} ;;
      kcm) name=kube-controller-manager ;;
      scheduler) name=kube-scheduler ;;
      *) die "logs: unknown argument ${arg} (use -f, kubelet, containerd, kcm or scheduler)" ;;
    esac
  done
  show_log "${RUN_DIR}/${name}.log" "${name}" "${follow}" "${KUBE_LOG_LINES:-100}"
}

usage() {
  cat >&2 <<EOF
usage: $0 {fetch|start|stop|status|env|logs [-f] [kubelet|containerd|kcm|scheduler]}
  fetch   build ${NODE_COMPONENTS[*]} ${KUBE_VERSION} (and kube-apiserver) into ${BIN_DIR}, the pause image;
          install containerd, runc and the CNI plugins (apt) if missing
  start   kube.sh's apiserver, then containerd, controller-manager, scheduler and a kubelet: node ${NODE_NAME} at ${NODE_IP}
  stop    stop them all, remove containers, mounts, bridge ${NODE_BRIDGE}, cgroups; restore the kubelet's sysctls
  status  exit 0 if the node is Ready
  env     export lines for tests: eval "\$($0 env)"
  logs    tail the kubelet log (-f to follow; containerd, kcm or scheduler for the others)
EOF
}

server_main "$@"
