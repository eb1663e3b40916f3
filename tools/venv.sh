#!/usr/bin/env bash
# Creates .venv with the pinned Python supervisor used as the reference client in interop tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/supervisorctl ] || [ ! -x .venv/bin/memmon ]; then
  python3 -m venv .venv
  # superlance: real-world event listeners (memmon, crashmail, httpok) for interop tests.
  .venv/bin/pip install --quiet supervisor==4.3.0 superlance==2.0.0
fi
.venv/bin/python -c 'import supervisor, sys; print("python supervisor venv ready:", sys.version.split()[0])'
