#!/usr/bin/env bash
# Creates .venv with the pinned Python supervisor used as the reference client in interop tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/supervisorctl ] || [ ! -x .venv/bin/memmon ] ||
   ! .venv/bin/python -c 'import prometheus_client' 2>/dev/null ||
   ! .venv/bin/python -c 'import supervisor_twiddler' 2>/dev/null ||
   ! .venv/bin/python -c 'import supervisor_stdlog' 2>/dev/null; then
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  # superlance: real-world event listeners (memmon, crashmail, httpok) for interop tests;
  # prometheus_client: the reference parser of /metrics (tests/web.rs);
  # supervisor_twiddler: Python's side of the twiddler side-by-side test (tests/twiddler.rs);
  # supervisor-stdlog: the container logging recipe (tests/stdlog.rs).
  .venv/bin/pip install --quiet supervisor==4.3.0 superlance==2.0.0 prometheus_client==0.26.0 \
    supervisor_twiddler==1.0.0 supervisor-stdlog==0.7.9
fi
.venv/bin/python -c 'import supervisor, sys; print("python supervisor venv ready:", sys.version.split()[0])'
