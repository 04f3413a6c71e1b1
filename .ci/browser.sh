#!/usr/bin/env bash
# Install a headless browser for the report tests (tests/test_report.py opens the HTML page in it):
# Debian's chromium, plus a font so text renders in screenshots. Idempotent and quiet; a second
# run with nothing to do takes milliseconds. Needs root (apt-get) the first time.
set -euo pipefail

log() { echo "browser: $*" >&2; }
die() { echo "browser: ERROR: $*" >&2; exit 1; }

if command -v chromium > /dev/null && [[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]]; then
  log "chromium: up to date"
  exit 0
fi
[[ $EUID -eq 0 ]] || die "chromium missing; as root run: apt-get update && apt-get install -y chromium fonts-dejavu-core"
log "apt-get install chromium fonts-dejavu-core (about a minute)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || die "apt-get update failed"
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2 \
  || die "apt-get install chromium failed"
command -v chromium > /dev/null || die "chromium installed but not on PATH"
log "chromium: $(chromium --version 2>/dev/null)"
