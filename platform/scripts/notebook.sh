#!/usr/bin/env bash
# Executes notebooks/volume_volatility.ipynb headless on the store a
# `devstack demo` left, and fails when the notebook (or its unit tests) fail.
#
#   platform/scripts/notebook.sh <data-dir>     reads <data-dir>/streamforge.db
#   STORE_PATH=/x/y.db platform/scripts/notebook.sh
#
# The Python tools live in <repo>/.cache/notebook-venv, made on the first run
# from the pinned notebooks/requirements.txt and remade when that file
# changes (a stamp holds its hash). The executed notebook and its figures go
# to NOTEBOOK_OUT (default <repo>/notebooks/out). SYMBOL, WINDOW, TIME_RANGE,
# BOOTSTRAP, SEED and ARANGO_* pass through to the notebook.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv="$repo/.cache/notebook-venv"
reqs="$repo/notebooks/requirements.txt"
nb="$repo/notebooks/volume_volatility.ipynb"
python=${PYTHON:-python3}

die() { printf 'notebook.sh: %s\n' "$*" >&2; exit 1; }

if (($# > 1)); then
  die "usage: $0 [<data-dir>] (or STORE_PATH=<file>)"
fi
if (($# == 1)); then
  [[ -d $1 ]] || die "$1: not a directory (want the --data-dir of devstack demo)"
  STORE_PATH="$(cd "$1" && pwd)/streamforge.db"
fi
[[ -n ${STORE_PATH:-} || -n ${ARANGO_URL:-} ]] || die "usage: $0 <data-dir> (or set STORE_PATH or ARANGO_URL)"
if [[ -z ${ARANGO_URL:-} ]]; then
  [[ -f $STORE_PATH ]] || die "$STORE_PATH: no store there: run \`make demo\` (or bin/devstack demo --data-dir DIR) first"
  STORE_PATH=$(cd "$(dirname "$STORE_PATH")" && pwd)/$(basename "$STORE_PATH")
  export STORE_PATH
fi

out=${NOTEBOOK_OUT:-$repo/notebooks/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export NOTEBOOK_OUT="$out"
# A failed run must not leave an earlier run's results looking current.
rm -f "$out/volume_volatility.ipynb" "$out"/volume_volatility_*.png

# The venv: reused while its stamp matches the requirements' hash.
want=$(sha256sum "$reqs" | cut -d' ' -f1)
stamp="$venv/.requirements.sha256"
if [[ ! -x $venv/bin/python || ! -f $stamp || $(<"$stamp") != "$want" ]]; then
  echo "== notebook venv: creating $venv from notebooks/requirements.txt"
  start=$SECONDS
  rm -rf "$venv"
  "$python" -m venv "$venv" || die "$python -m venv failed: install python3-venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$reqs"
  printf '%s\n' "$want" >"$stamp"
  echo "== notebook venv: ready in $((SECONDS - start))s"
else
  echo "== notebook venv: reusing $venv"
fi

# Keep Jupyter and matplotlib inside the venv and the run: the kernel found is
# the venv's own, and nothing is read from or written to the user's home.
export JUPYTER_PLATFORM_DIRS=1
export JUPYTER_DATA_DIR="$venv/share/jupyter"
export JUPYTER_CONFIG_DIR="$venv/etc/jupyter"
export IPYTHONDIR="$venv/ipython"
export MPLCONFIGDIR="$venv/matplotlib"
export MPLBACKEND=Agg
export PYTHONDONTWRITEBYTECODE=1

echo "== notebook unit tests (notebooks/test_volvol.py)"
(cd "$repo/notebooks" && "$venv/bin/python" -m unittest discover -s . -p 'test_*.py')

echo "== executing notebooks/volume_volatility.ipynb on ${ARANGO_URL:-$STORE_PATH}"
start=$SECONDS
if ! "$venv/bin/jupyter" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=600 \
  --ExecutePreprocessor.kernel_name=python3 --output-dir "$out" "$nb"; then
  die "the notebook failed (see the cell error above); the partial run is not saved"
fi
echo "== notebook executed in $((SECONDS - start))s: $out/volume_volatility.ipynb, figures in $out"
