#!/bin/sh
# Installs what the browser tests (@pytest.mark.browser) need: Debian's
# chromium and the Python playwright package that drives it. Idempotent:
# runs apt-get update only when chromium is missing.
set -eu

cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

if ! command -v chromium >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
fi

if ! "$PY" -c "import playwright" >/dev/null 2>&1; then
    "$PY" -m pip install --quiet "playwright>=1.45"
fi

command -v chromium
"$PY" -m pip show playwright | grep -i "^version"
