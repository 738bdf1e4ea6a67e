#!/usr/bin/env bash
# Start the dashboard. On first start it creates data/nrm.db with demo data.
# Extra arguments go to streamlit (e.g. ./run.sh --server.port 8600).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m streamlit run app.py "$@"
