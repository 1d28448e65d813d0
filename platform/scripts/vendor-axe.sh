#!/usr/bin/env bash
# axe-core, the accessibility engine the web console's browser test
# (platform/devstack/test/console) injects into each page, vendored from npm:
# the release tarball is checked against npm's integrity (sha512) before its
# axe.min.js and LICENSE (MPL-2.0) are copied in, and the copy is checked by
# its own sha256 in make lint (--check), so an edited or swapped file fails.
#
# Usage: platform/scripts/vendor-axe.sh [--check]
#   (none)   fetch axe-core@VERSION with npm pack, verify, vendor
#   --check  verify the vendored file only (no network)
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=4.14.1
INTEGRITY='sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=='
FILE_SHA256=29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c
DIR=platform/devstack/test/console/testdata/axe-core

die() { echo "vendor-axe.sh: $*" >&2; exit 1; }

check() {
  [[ -f "${DIR}/axe.min.js" ]] || die "${DIR}/axe.min.js missing: run platform/scripts/vendor-axe.sh"
  echo "${FILE_SHA256}  ${DIR}/axe.min.js" | sha256sum -c --quiet - >/dev/null 2>&1 ||
    die "${DIR}/axe.min.js is not axe-core ${VERSION}'s (sha256 differs): run platform/scripts/vendor-axe.sh"
  echo "axe-core ${VERSION} vendored in ${DIR}: integrity OK"
}

if [[ "${1:-}" == --check ]]; then
  check
  exit 0
fi
command -v npm >/dev/null || die "npm not found (Debian: apt-get install npm)"
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT
(cd "${tmp}" && npm pack --silent "axe-core@${VERSION}" >/dev/null)
tgz="${tmp}/axe-core-${VERSION}.tgz"
got="sha512-$(openssl dgst -sha512 -binary "${tgz}" | base64 -w0)"
[[ "${got}" == "${INTEGRITY}" ]] || die "axe-core-${VERSION}.tgz: integrity ${got}, want ${INTEGRITY}"
tar -xzf "${tgz}" -C "${tmp}" package/axe.min.js package/LICENSE
mkdir -p "${DIR}"
cp "${tmp}/package/axe.min.js" "${tmp}/package/LICENSE" "${DIR}/"
check
