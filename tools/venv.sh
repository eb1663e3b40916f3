#!/usr/bin/env bash
# Creates .venv with the pinned Python supervisor used as the reference client in interop tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/supervisorctl ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet supervisor==4.3.0
fi
.venv/bin/python -c 'import supervisor, sys; print("python supervisor venv ready:", sys.version.split()[0])'
