#!/usr/bin/env bash
# TLS certificate through cert-manager: make a private key and a CSR with openssl (SANs for the DNS name
# and the IP), submit it as a cert-manager CertificateRequest to the lab's
# CA issuer, wait until it is signed, save the certificate, and check that
# key and certificate belong together.
#
# Usage: platform/base/cert/script.sh <name> <dns-name> [ip]
#   NAMESPACE (stf)  ISSUER (homelab-ca-issuer)  ISSUER_KIND (ClusterIssuer)
#   DAYS (365)  OUT_DIR (./certs)  TIMEOUT seconds to wait (120)
# Example: platform/base/cert/script.sh queue-manager queue-manager.dmz.home 192.168.1.153
set -euo pipefail

if (($# < 2)); then
  sed -n 's/^# \{0,1\}//p' "$0" | sed -n '2,13p' >&2
  exit 2
fi
NAME=$1
DNS_NAME=$2
IP=${3:-}
NAMESPACE=${NAMESPACE:-stf}
ISSUER=${ISSUER:-homelab-ca-issuer}
ISSUER_KIND=${ISSUER_KIND:-ClusterIssuer}
DAYS=${DAYS:-365}
OUT_DIR=${OUT_DIR:-./certs}
TIMEOUT=${TIMEOUT:-120}

for tool in openssl kubectl base64; do
  command -v "${tool}" >/dev/null || {
    echo "script.sh: ${tool} not found" >&2
    exit 1
  }
done

mkdir -p "${OUT_DIR}"
key="${OUT_DIR}/${NAME}.key"
csr="${OUT_DIR}/${NAME}.csr"
crt="${OUT_DIR}/${NAME}.crt"
san="DNS:${DNS_NAME}"
[[ -n "${IP}" ]] && san="${san},IP:${IP}"

# 1-2. Key and CSR with subject alternative names.
umask 077
openssl req -new -newkey rsa:2048 -nodes -keyout "${key}" -out "${csr}" \
  -subj "/CN=${DNS_NAME}" -addext "subjectAltName=${san}"

# 3. The CertificateRequest, with the CSR in base64.
kubectl -n "${NAMESPACE}" delete certificaterequest "${NAME}" --ignore-not-found >/dev/null
kubectl -n "${NAMESPACE}" apply -f - <<YAML
apiVersion: cert-manager.io/v1
kind: CertificateRequest
metadata:
  name: ${NAME}
spec:
  request: $(base64 -w0 <"${csr}")
  issuerRef:
    name: ${ISSUER}
    kind: ${ISSUER_KIND}
    group: cert-manager.io
  duration: $((DAYS * 24))h
  usages:
    - digital signature
    - key encipherment
    - server auth
YAML

# 4. Wait for cert-manager to sign it, then save the certificate.
kubectl -n "${NAMESPACE}" wait --for=condition=Ready "certificaterequest/${NAME}" --timeout="${TIMEOUT}s"
kubectl -n "${NAMESPACE}" get certificaterequest "${NAME}" -o jsonpath='{.status.certificate}' | base64 -d >"${crt}"

# 5. Key and certificate must match; show what was issued.
if [[ "$(openssl x509 -noout -pubkey -in "${crt}" | openssl sha256)" != "$(openssl pkey -pubout -in "${key}" | openssl sha256)" ]]; then
  echo "script.sh: ${crt} does not match ${key}" >&2
  exit 1
fi
openssl x509 -noout -subject -issuer -dates -ext subjectAltName -in "${crt}"
echo "key: ${key}  certificate: ${crt}"
