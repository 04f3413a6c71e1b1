# venv NAME PINS CHECK, sourced by the install scripts: (re)build $CACHE/NAME unless it holds
# exactly PINS and CHECK runs. Needs CACHE, PYTHON, log and die from the sourcing script.
venv() {
  local dir="$CACHE/$1" pins="$2" check="$3"
  if [[ -x "$dir/bin/python" ]] && cmp -s "$dir/.pins" <(printf '%s' "$pins") \
     && "$dir/bin/python" -c "$check" 2>/dev/null; then
    log "$1: up to date"
    return
  fi
  log "$1: installing into $dir (about a minute)"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir" || die "$1: '$PYTHON -m venv' failed (Debian: apt-get install -y python3-venv)"
  # shellcheck disable=SC2086  # word-splitting the pin list is intended
  "$dir/bin/python" -m pip install -qq --disable-pip-version-check $pins >&2 \
    || die "$1: pip install failed (pins above; is the package index reachable?)"
  "$dir/bin/python" -c "$check" || die "$1: installed but '$check' fails"
  printf '%s' "$pins" > "$dir/.pins"
}
