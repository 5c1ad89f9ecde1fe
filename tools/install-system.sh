#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (nginx in
# front of a cluster). Idempotent: does nothing when they are present, and
# says so and carries on when it cannot install (not root, no apt): the
# tests that need a missing package then skip, saying why.
set -u

packages=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx)
# An X server for the screen-sharing tests, and small X tools they use.
command -v Xvfb >/dev/null 2>&1 || packages+=(xvfb)
command -v xdotool >/dev/null 2>&1 || packages+=(xdotool)
command -v xwininfo >/dev/null 2>&1 || packages+=(x11-utils)

[ ${#packages[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system: cannot install ${packages[*]} (needs root and apt-get); their tests will skip"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null 2>&1; then
  apt-get update -q >/dev/null 2>&1
  apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null 2>&1 \
    || echo "install-system: installing ${packages[*]} failed; their tests will skip"
fi
# Debian starts nginx on port 80 after installing it; the tests run their own.
if [[ " ${packages[*]} " == *" nginx "* ]] && command -v service >/dev/null 2>&1; then service nginx stop >/dev/null 2>&1; fi
exit 0
