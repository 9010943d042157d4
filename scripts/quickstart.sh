#!/usr/bin/env bash
# README command 1: set up, build the embedded SQLite database from fixtures/, and serve
# WHOIS on 127.0.0.1:4343 and RDAP on 127.0.0.1:8080 until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export REGISTRAR_CONFIG=${REGISTRAR_CONFIG:-fixtures/config.toml}
DB_FILE=var/registrar.db
unset REGISTRAR_DATABASE_URL
rm -f "$DB_FILE" "$DB_FILE-wal" "$DB_FILE-shm"
.venv/bin/registrar db upgrade
.venv/bin/registrar fixtures load fixtures/
cat <<'TXT'

Try, in another terminal:
  whois -h 127.0.0.1 -p 4343 acme-widgets.example
  whois -h 127.0.0.1 -p 4343 help
  curl -s http://127.0.0.1:8080/domain/acme-widgets.example | python3 -m json.tool
  .venv/bin/registrar domain list
(docs/fixtures.md lists every sample domain and the case it covers.)

TXT
exec .venv/bin/whois-server "$@"
