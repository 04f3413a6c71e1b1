#!/usr/bin/env bash
# Install Spark for the Spark tests: pyspark with its Spark Connect client (pinned) in the test
# env, and Debian's Java 17 runtime. Idempotent; with nothing to do it takes about a second.
# Needs root (apt-get) the first time on a machine without Java 17.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
PYSPARK="pyspark[connect]==4.3.0"

log() { echo "spark: $*" >&2; }
die() { echo "spark: ERROR: $*" >&2; exit 1; }

java_ok() { java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; }
if java_ok; then
  log "java: $(java -version 2>&1 | head -1)"
else
  [[ $EUID -eq 0 ]] || die "Java 17 missing; as root run: apt-get update && apt-get install -y openjdk-17-jre-headless"
  log "apt-get install openjdk-17-jre-headless (about a minute)"
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p /usr/share/man/man1  # slim Debian images lack it, and the JRE's postinst fails without it
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >&2 \
    || die "apt-get install openjdk-17-jre-headless failed"
  java_ok || die "openjdk-17-jre-headless installed but 'java -version' is not 17 or later"
fi

if "$PYTHON" -c "import sys, pyspark, pandas, pyarrow, grpc, zstandard, google.rpc
sys.exit(pyspark.__version__ != '${PYSPARK#*==}')" 2>/dev/null; then
  log "$PYSPARK: up to date"
else
  log "pip install $PYSPARK (0.5 GB, about two minutes)"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check "$PYSPARK" >&2 || die "pip install $PYSPARK failed"
fi
