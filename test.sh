#!/usr/bin/env bash
# Install the test dependencies and run the whole test suite (SQLite and PostgreSQL;
# browser tests in Debian's Chromium). Extra arguments go to pytest (e.g. ./test.sh -k shelters).
# PostgreSQL: NRM_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
exec .venv/bin/python -m pytest -n "${NRM_TEST_WORKERS:-2}" "$@"
