#!/usr/bin/env bash
# Every fixed default port of the platform scripts (NAME_PORT:-N,
# NAME_ADDR:-host:N) must lie below Linux's ephemeral range (32768-60999):
# a port in it can be the local end of any outgoing connection on the
# machine, and the server's start then fails with "address already in use",
# at random, in the middle of a test run. (test-repo-checks.sh, whose
# cases spell such ports on purpose, is not read.)
#
# Usage: platform/scripts/check-ports.sh   (make lint runs it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bad=0
while IFS= read -r hit; do
  port=${hit##*[:-]}
  if ((port >= 32768 && port <= 60999)); then
    printf '%s: default port %s is in the ephemeral range 32768-60999; choose one below 32768\n' "${hit%%:*}" "${port}" >&2
    bad=1
  fi
done < <(grep -rHoE '[A-Z_]+(PORT|ADDR)[A-Z_]*:-([0-9.]+:)?[0-9]+' --include='*.sh' --exclude=test-repo-checks.sh platform)
((bad == 0)) && echo "default ports: all below the ephemeral range"
