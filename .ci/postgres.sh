#!/usr/bin/env bash
# The PostgreSQL target's tests: psycopg 3 pinned to the version proved here (the extra
# journeyctl[postgres] only asks >=3.1), and the PostgreSQL 15 server binaries, which
# .ci/standins.sh installs (shared with the Redshift stand-in). Idempotent; milliseconds when done.
set -euo pipefail
PYTHON="${PYTHON:-python3}"
PSYCOPG="3.3.9"

log() { echo "postgres: $*" >&2; }
die() { echo "postgres: ERROR: $*" >&2; exit 1; }

compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || die "no PostgreSQL server; run bash .ci/standins.sh first"
if "$PYTHON" -c "import sys, psycopg; sys.exit(psycopg.__version__ != '$PSYCOPG' or psycopg.pq.__impl__ != 'binary')" 2>/dev/null; then
  log "psycopg $PSYCOPG (binary): up to date"
  exit 0
fi
log "pip install psycopg[binary]==$PSYCOPG"
"$PYTHON" -m pip install -qq --disable-pip-version-check "psycopg[binary]==$PSYCOPG" >&2 \
  || die "pip install psycopg[binary]==$PSYCOPG failed (is the package index reachable?)"
"$PYTHON" -c "import psycopg; assert psycopg.pq.__impl__ == 'binary'" || die "psycopg installed but its binary libpq is not used"
