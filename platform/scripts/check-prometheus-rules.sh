#!/usr/bin/env bash
# The alerts checked by Prometheus's own tool: every PrometheusRule of
# deploy/monitoring rendered as a plain rule file (platform/devstack/cmd/
# promrules), `promtool check rules` on each, `promtool test rules` on the
# unit tests in deploy/monitoring/tests, and every alert named by at least
# one of them. promtool comes with Debian's prometheus package (2.42).
#
# Usage: platform/scripts/check-prometheus-rules.sh   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/../.."

PROMTOOL=${PROMTOOL:-promtool}
command -v "${PROMTOOL}" >/dev/null || {
  echo "check-prometheus-rules: promtool not found (apt-get install prometheus)" >&2
  exit 1
}
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT

manifests=(deploy/monitoring/prometheusrule.yaml)
go run ./platform/devstack/cmd/promrules -out "${work}" "${manifests[@]}"
"${PROMTOOL}" check rules "${work}"/*.rules.yaml
# The tests name their rule files relative to themselves: run them beside
# the rendered files.
cp deploy/monitoring/tests/*.test.yaml "${work}/"
(cd "${work}" && "${PROMTOOL}" test rules ./*.test.yaml)

missing=0
while read -r alert; do
  if ! grep -qE "alertname: ${alert}\$" deploy/monitoring/tests/*.test.yaml; then
    echo "check-prometheus-rules: alert ${alert} has no unit test in deploy/monitoring/tests" >&2
    missing=1
  fi
done < <(go run ./platform/devstack/cmd/promrules -alerts "${manifests[@]}")
((missing == 0)) || exit 1
echo "promtool $("${PROMTOOL}" --version 2>&1 | sed -n 's/^promtool, version \([^ ]*\).*/\1/p'): rules check and unit tests OK, every alert tested"
