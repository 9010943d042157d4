#!/usr/bin/env bash
# Create (or refresh) the virtual environment with the service and its test tools.
# Usage: scripts/setup.sh            (idempotent; re-installs only what changed)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 | grep -v -E "^WARNING: Location|^$" || true
.venv/bin/python -c "import registrar, whois_server, twisted, sqlalchemy" # fail loudly if the install failed
# Debian's whois client is used by the end-to-end tests (and handy for the quick start).
if ! command -v whois >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get install -y -qq whois >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq whois >/dev/null 2>&1)) \
      || echo "note: could not install Debian's whois client; its tests will be skipped" >&2
  else
    echo "note: Debian's whois client is not installed (apt-get install whois); its tests will be skipped" >&2
  fi
fi
