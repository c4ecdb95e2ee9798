#!/usr/bin/env bash
# Installs python-evtx (the independent .evtx reader the writer's round-trip test checks against)
# into a virtual environment under target/, and prints the interpreter's path.
# Usage: export KMSDIAG_PYTHON="$(bash .ci/pyevtx.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."
venv="target/pyevtx"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import Evtx.Evtx' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'python-evtx==0.8.1' >&2
fi
echo "$PWD/$venv/bin/python"
