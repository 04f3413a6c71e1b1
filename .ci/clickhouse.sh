#!/usr/bin/env bash
# Install ClickHouse for the tests: chdb (the real ClickHouse engine in process, 26.9; ~0.9 GB, ~1.5 min
# the first time) and clickhouse-connect (the server path's client, tested through the chdb HTTP front
# in tests/standins/clickhouse.py). Both from PyPI, pinned. Idempotent: with both present at these
# versions it only checks them (well under a second).
set -euo pipefail
PYTHON="${PYTHON:-python3}"
CHDB=4.4.0
CLICKHOUSE_CONNECT=1.12.0

log() { echo "clickhouse: $*" >&2; }

if "$PYTHON" - "$CHDB" "$CLICKHOUSE_CONNECT" <<'PY' 2> /dev/null; then
import sys
from importlib.metadata import version
sys.exit(0 if (version("chdb"), version("clickhouse-connect")) == tuple(sys.argv[1:]) else 1)
PY
  log "chdb $CHDB, clickhouse-connect $CLICKHOUSE_CONNECT: up to date"
  exit 0
fi
log "pip install chdb==$CHDB clickhouse-connect==$CLICKHOUSE_CONNECT"
"$PYTHON" -m pip install --quiet --disable-pip-version-check "chdb==$CHDB" "clickhouse-connect==$CLICKHOUSE_CONNECT"
"$PYTHON" -c "from chdb import session; s = session.Session(); print('clickhouse: chdb runs ClickHouse', s.query('SELECT version()', 'TabSeparated').bytes().decode().strip()); s.close()" >&2
