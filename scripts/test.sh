#!/usr/bin/env bash
# README command 2: set up and run the whole suite: ruff, mypy, pytest on SQLite and PostgreSQL.
# Under CI=true the PostgreSQL tests must run (they fail when no server is reachable).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Start the local PostgreSQL cluster if it is installed but stopped (CI machines start it already).
if command -v pg_ctlcluster >/dev/null 2>&1 && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  for v in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null 2>&1 || true
  done
fi
echo "== ruff"
.venv/bin/ruff check registrar whois_server tests bench
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
exec .venv/bin/python -m pytest -q -p no:randomly "$@"
