#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (Playwright drives
# /usr/bin/chromium and never downloads a browser of its own). Idempotent:
# does nothing when chromium is there; when it cannot install (not root,
# no apt-get) it says so and carries on, and the browser tests skip.
set -u

[ -x /usr/bin/chromium ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: cannot install chromium (needs root and apt-get); browser tests will skip"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; then
  apt-get update -q >/dev/null 2>&1
  apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 \
    || echo "install-browser: installing chromium failed; browser tests will skip"
fi
exit 0
